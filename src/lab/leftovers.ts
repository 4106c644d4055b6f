// Processes in a lab's network namespaces, named or not. Used by `down` so
// that nothing the lab started survives it, even without a cgroup.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { labNetnsPrefix } from '../plan/names.js';
import { labOfCgroup } from '../sys/cgroup.js';
import { NETNS_RUN_DIR, recordedNetns } from '../sys/netns-record.js';

export interface ProcNet {
  pid: number;
  /** Inode of /proc/PID/ns/net. */
  netns?: number;
  /** The lab whose cgroup the process is in, if any. */
  cgroupLab?: string;
}

export interface NetnsFacts {
  /** Namespaces recorded for the lab, and those named with its prefix now. */
  labInodes: ReadonlySet<number>;
  /** Namespaces that now carry a name that is not this lab's. */
  foreignInodes: ReadonlySet<number>;
  /** The namespace nslab itself runs in (the root one). */
  rootInode: number | undefined;
}

/**
 * The processes to kill: those in one of the lab's namespaces. An inode is
 * only reused once its namespace is gone, so the guards keep a recorded
 * number from hitting someone else's namespace that got it later: never the
 * root namespace, never one named for something else, never a process in
 * another lab's cgroup. Pure.
 */
export function pidsInLabNetns(procs: readonly ProcNet[], lab: string, f: NetnsFacts, self = process.pid): number[] {
  return procs
    .filter(
      (p) =>
        p.pid > 1 &&
        p.pid !== self &&
        p.netns !== undefined &&
        p.netns !== f.rootInode &&
        f.labInodes.has(p.netns) &&
        !f.foreignInodes.has(p.netns) &&
        (p.cgroupLab === undefined || p.cgroupLab === lab),
    )
    .map((p) => p.pid);
}

/** "net:[4026532291]" → 4026532291. Pure. */
export function nsLinkInode(link: string): number | undefined {
  const m = /^net:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

export async function scanProcNetns(): Promise<ProcNet[]> {
  const pids = (await readdir('/proc')).map(Number).filter((n) => Number.isInteger(n) && n > 1);
  const procs = await Promise.all(
    pids.map(async (pid): Promise<ProcNet> => {
      const [link, cgroup] = await Promise.all([
        readlink(`/proc/${pid}/ns/net`).catch(() => ''),
        readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => ''),
      ]);
      const netns = nsLinkInode(link);
      const cgroupLab = labOfCgroup(cgroup);
      return { pid, ...(netns !== undefined ? { netns } : {}), ...(cgroupLab !== undefined ? { cgroupLab } : {}) };
    }),
  );
  return procs;
}

/** inode → name of every named network namespace now. */
export async function namedNetnsInodes(): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const name of await readdir(NETNS_RUN_DIR).catch(() => [] as string[])) {
    const s = await stat(path.join(NETNS_RUN_DIR, name)).catch(() => undefined);
    if (s) out.set(s.ino, name);
  }
  return out;
}

export async function labNetnsFacts(lab: string): Promise<NetnsFacts> {
  const [recorded, named, self] = await Promise.all([recordedNetns(lab), namedNetnsInodes(), readlink('/proc/self/ns/net').catch(() => '')]);
  const prefix = labNetnsPrefix(lab);
  const labInodes = new Set(recorded.keys());
  const foreignInodes = new Set<number>();
  for (const [ino, name] of named) (name.startsWith(prefix) ? labInodes : foreignInodes).add(ino);
  return { labInodes, foreignInodes, rootInode: nsLinkInode(self) };
}

/** Processes in any of the lab's namespaces, named or unnamed. */
export async function labNetnsProcesses(lab: string): Promise<number[]> {
  const facts = await labNetnsFacts(lab);
  if (facts.labInodes.size === 0) return [];
  return pidsInLabNetns(await scanProcNetns(), lab, facts);
}
