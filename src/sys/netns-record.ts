// The network namespaces a lab made, recorded by inode in its state folder
// (one file per namespace, named after it, holding its inode) before any
// process starts in them. A namespace outlives its name while a process is
// in it: an nginx worker orphaned in a pod's namespace after `ip netns del`
// keeps it, unnamed, and only its inode still says it was the lab's. `down`
// kills every process in a recorded namespace (see leftovers.ts).
import { mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { labNetnsPrefix, labOfNetns } from '../plan/names.js';
import { assertNetnsName } from './netns.js';
import { files, labDirProblem, statePath } from './state-dir.js';

export const NETNS_RUN_DIR = '/run/netns';

/** Inode of a named network namespace (the nsfs inode /proc/PID/ns/net shows), or undefined if it has no such name. */
export async function netnsInode(name: string): Promise<number | undefined> {
  assertNetnsName(name);
  return stat(path.join(NETNS_RUN_DIR, name)).then(
    (s) => s.ino,
    () => undefined,
  );
}

function ownName(lab: string, name: string): string {
  assertNetnsName(name);
  if (!name.startsWith(labNetnsPrefix(lab))) throw new Error(`network namespace "${name}" is not lab "${lab}"'s`);
  return name;
}

export async function recordNetns(lab: string, names: readonly string[]): Promise<void> {
  const dir = statePath(lab, files.netns);
  // Not recursive: a lab folder that `down` removed is not made again.
  await mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  for (const name of names) {
    const ino = await netnsInode(ownName(lab, name));
    if (ino !== undefined) await writeFile(path.join(dir, name), `${ino}\n`, { mode: 0o600 });
  }
}

/** Records a namespace for the lab its name says it belongs to (the kubelet's pod namespaces). */
export async function recordLabNetns(name: string): Promise<void> {
  const lab = labOfNetns(name);
  if (lab !== undefined) await recordNetns(lab, [name]);
}

export async function forgetNetns(name: string): Promise<void> {
  const lab = labOfNetns(name);
  if (lab === undefined) return;
  await unlink(path.join(statePath(lab, files.netns), ownName(lab, name))).catch(() => undefined);
}

/** inode → namespace name, of every namespace recorded for the lab. */
export async function recordedNetns(lab: string): Promise<Map<number, string>> {
  const dir = statePath(lab, files.netns);
  const out = new Map<number, string>();
  // `down` kills by these numbers: only believe a folder nobody but root could write.
  if (await labDirProblem(lab)) return out;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(labNetnsPrefix(lab))) continue;
    const ino = Number((await readFile(path.join(dir, name), 'utf8').catch(() => '')).trim());
    if (Number.isInteger(ino) && ino > 0) out.set(ino, name);
  }
  return out;
}
