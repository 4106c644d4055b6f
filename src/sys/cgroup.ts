// A lab's cgroup (v2): `up` and the lab's daemon run in <v2 mount>/nslab/<lab>,
// so every process the lab starts, and every process those start, is in it
// whatever becomes of its parent (a killed `up`, a daemon killed -9, an nginx
// master killed before its workers). `down` kills the whole cgroup and
// removes it. Where no writable cgroup v2 exists, this does nothing and the
// lab's recorded network namespaces are the net (see sys/netns-record.ts).
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isDnsLabel } from '../labfile/names.js';

const BASE = 'nslab';

/** The mount point of the first cgroup2 file system in /proc/self/mountinfo text. Pure. */
export function cgroup2Mount(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0 || line.slice(sep + 3).split(' ')[0] !== 'cgroup2') continue;
    const mountPoint = line.slice(0, sep).split(' ')[4];
    // mountinfo writes space, tab, newline and backslash as octal escapes.
    if (mountPoint) return mountPoint.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  }
  return undefined;
}

/** The cgroup v2 path in /proc/PID/cgroup text (the "0::" line). Pure. */
export function v2CgroupPath(procCgroup: string): string | undefined {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line === undefined ? undefined : line.slice(3);
}

/**
 * <v2 mount>/nslab, or undefined when there is no cgroup v2 (or
 * NSLAB_CGROUP=off, which tests use to exercise the fallback).
 * NSLAB_CGROUP_ROOT names another v2 mount point.
 */
export function cgroupBase(): string | undefined {
  if (process.env['NSLAB_CGROUP'] === 'off') return undefined;
  let mount = process.env['NSLAB_CGROUP_ROOT'];
  if (!mount) {
    try {
      mount = cgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
    } catch {
      return undefined;
    }
  }
  return mount ? path.join(mount, BASE) : undefined;
}

export function labCgroupDir(lab: string): string | undefined {
  if (!isDnsLabel(lab)) throw new Error(`invalid lab name ${JSON.stringify(lab)}`);
  const base = cgroupBase();
  return base ? path.join(base, lab) : undefined;
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Moves `pid` (all its threads) into the lab's cgroup, creating it. False when there is no usable cgroup v2. */
export async function joinLabCgroup(lab: string, pid: number = process.pid): Promise<boolean> {
  const dir = labCgroupDir(lab);
  if (!dir) return false;
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await writeFile(path.join(dir, 'cgroup.procs'), `${pid}\n`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Puts this process into the lab's cgroup (so whatever it starts from now
 * on is the lab's) and returns how to leave it again, back to where it was.
 * Undefined when there is no usable cgroup v2.
 */
export async function enterLabCgroup(lab: string): Promise<{ leave(): Promise<void> } | undefined> {
  const base = cgroupBase();
  const own = v2CgroupPath(await readFile('/proc/self/cgroup', 'utf8').catch(() => ''));
  if (!base || own === undefined) return undefined;
  const back = path.join(path.dirname(base), own);
  if (!(await joinLabCgroup(lab))) return undefined;
  return {
    async leave() {
      await writeFile(path.join(back, 'cgroup.procs'), `${process.pid}\n`).catch(() => undefined);
    },
  };
}

async function procsOf(dir: string): Promise<number[]> {
  const text = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * Kills every process in the lab's cgroup (cgroup.kill where the kernel has
 * it, else SIGKILL to each pid until none is left) and removes the cgroup
 * (rmdir: a cgroup is never removed recursively). Bounded in time. Never
 * kills the calling process. Resolves to how many processes were in it.
 */
export async function killLabCgroup(lab: string, timeoutMs = 3000): Promise<number> {
  const dir = labCgroupDir(lab);
  if (!dir || !(await exists(dir))) return 0;
  const first = await procsOf(dir);
  const selfInside = first.includes(process.pid);
  const deadline = Date.now() + timeoutMs;
  if (!selfInside && (await exists(path.join(dir, 'cgroup.kill')))) {
    await writeFile(path.join(dir, 'cgroup.kill'), '1').catch(() => undefined);
  }
  for (;;) {
    const pids = (await procsOf(dir)).filter((p) => p !== process.pid);
    if (pids.length === 0 || Date.now() > deadline) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!selfInside) {
    // The cgroup stays busy for a moment after its last process died.
    for (;;) {
      try {
        await rmdir(dir);
        break;
      } catch (e) {
        if (code(e) === 'ENOENT') break;
        if (code(e) !== 'EBUSY' || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
  return first.filter((p) => p !== process.pid).length;
}

/** Labs that have a cgroup; entries that are not lab names are not nslab's and are ignored. */
export async function listLabCgroups(): Promise<string[]> {
  const base = cgroupBase();
  if (!base) return [];
  const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
  return entries.filter((d) => d.isDirectory() && isDnsLabel(d.name)).map((d) => d.name);
}

/** The lab whose cgroup a process is in, from /proc/PID/cgroup text; undefined if none. Pure. */
export function labOfCgroup(procCgroup: string): string | undefined {
  const m = /^\/nslab\/([^/]+)/.exec(v2CgroupPath(procCgroup) ?? '');
  const lab = m?.[1];
  return lab !== undefined && isDnsLabel(lab) ? lab : undefined;
}
