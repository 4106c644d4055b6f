// Which kubeconfig file `up` writes to: the first file in $KUBECONFIG, else
// ~/.kube/config of the user who ran sudo (so a plain `kubectl` of theirs
// finds the lab), else root's.
import { chown, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface KubeconfigTarget {
  path: string;
  /** Owner to give a file we create (the sudo user). */
  owner?: { uid: number; gid: number };
}

interface PasswdEntry {
  home: string;
  uid: number;
  gid: number;
}

export function parsePasswd(text: string, user: string): PasswdEntry | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 7) {
      return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' };
    }
  }
  return undefined;
}

export function resolveKubeconfigTarget(env: NodeJS.ProcessEnv = process.env): KubeconfigTarget {
  const first = (env['KUBECONFIG'] ?? '').split(path.delimiter).find((p) => p.length > 0);
  if (first) return { path: path.resolve(first) };
  const sudoUser = env['SUDO_USER'];
  if (sudoUser && sudoUser !== 'root' && existsSync('/etc/passwd')) {
    const pw = parsePasswd(readFileSync('/etc/passwd', 'utf8'), sudoUser);
    if (pw && pw.home) return { path: path.join(pw.home, '.kube', 'config'), owner: { uid: pw.uid, gid: pw.gid } };
  }
  return { path: path.join(os.homedir(), '.kube', 'config') };
}

export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Write atomically with mode 0600, giving new files and folders to the owner. */
export async function writeKubeconfigFile(target: KubeconfigTarget, text: string): Promise<void> {
  const dir = path.dirname(target.path);
  if (!existsSync(dir)) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (target.owner) await chown(dir, target.owner.uid, target.owner.gid);
  }
  // An existing file keeps its owner; a new one goes to the sudo user.
  const owner = existsSync(target.path)
    ? await stat(target.path).then((s) => ({ uid: s.uid, gid: s.gid }))
    : target.owner;
  const tmp = `${target.path}.nslab-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o600 });
  if (owner) await chown(tmp, owner.uid, owner.gid);
  await rename(tmp, target.path);
}
