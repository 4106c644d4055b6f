// Finding and stopping a lab's processes: its control-plane daemon and
// whatever runs inside its namespaces.
//
// A daemon is recognised only by what an unprivileged user cannot fake: a
// process running as root (all four uids 0) whose executable is node and
// whose script is nslab's installed daemon.js, started for exactly this lab.
// Its command line alone proves nothing: anyone can start a process whose
// argv ends in "controlplane/daemon.js --lab ../..".
import { readFileSync, realpathSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { daemonScript } from './install-paths.js';
import { assertLabName } from '../labfile/lab-name.js';
import { readPidFile } from './state-dir.js';

/**
 * A zombie has exited but still answers kill(pid, 0) until its parent reaps
 * it; detached daemons are reparented to whatever PID 1 is, which in a
 * container may reap late or never. So look at the state in /proc.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** What /proc says about one process; each part undefined when it cannot be read (gone, or not ours to read). */
export interface ProcFacts {
  /** /proc/PID/status text. */
  status?: string;
  /** /proc/PID/cmdline split at NUL, without the trailing empty string. */
  argv?: string[];
  /** Target of /proc/PID/exe. */
  exe?: string;
}

/** Reads /proc; tests pass a fake. */
export interface ProcReader {
  pids(): Promise<number[]>;
  /** Just the command line (cheap: one read), to pick candidates from all processes. */
  argv(pid: number): Promise<string[] | undefined>;
  facts(pid: number): Promise<ProcFacts>;
  /** Canonical form of a path (realpath), or the path itself when it cannot be resolved. */
  canonical(p: string): string;
  /** Canonical path of the installed daemon.js; undefined when nslab is not built (then no daemon of ours runs). */
  daemonScript(): string | undefined;
}

export const procfs: ProcReader = {
  async pids() {
    return (await readdir('/proc')).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  },
  async argv(pid) {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined))?.split('\0');
    if (argv && argv[argv.length - 1] === '') argv.pop();
    return argv;
  },
  async facts(pid) {
    const [status, argv, exe] = await Promise.all([
      readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined),
      procfs.argv(pid),
      readlink(`/proc/${pid}/exe`).catch(() => undefined),
    ]);
    return { ...(status !== undefined ? { status } : {}), ...(argv ? { argv } : {}), ...(exe !== undefined ? { exe } : {}) };
  },
  canonical(p) {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  },
  daemonScript() {
    try {
      return procfs.canonical(daemonScript());
    } catch {
      return undefined;
    }
  },
};

/** The "Uid:" line of /proc/PID/status: real, effective, saved and filesystem uid. Pure. */
export function statusUids(status: string): number[] | undefined {
  const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/m.exec(status);
  return m ? m.slice(1, 5).map(Number) : undefined;
}

function statusState(status: string): string | undefined {
  return /^State:\s+(\S)/m.exec(status)?.[1];
}

/**
 * Why the process is not the control-plane daemon of `lab`, or undefined
 * when it is. `script` is the canonical path of the installed daemon.js,
 * `canonical` resolves the script the process runs. Pure.
 *
 * The owner comes from the Uid: line, not from the owner of /proc/PID: a
 * process that makes itself non-dumpable gets a root-owned /proc/PID.
 * All four uids must be 0, so a set-uid program run by a user (real uid
 * the user's) does not pass either.
 */
export function daemonProblem(facts: ProcFacts, lab: string, script: string, canonical: (p: string) => string): string | undefined {
  if (!facts.status || !facts.argv) return 'the process is gone';
  const state = statusState(facts.status);
  if (state === 'Z' || state === 'X') return 'the process has exited';
  const uids = statusUids(facts.status);
  if (!uids || uids.some((u) => u !== 0)) return `it does not run as root (uids ${uids?.join(' ') ?? 'unknown'})`;
  if (!facts.exe || !/^node/.test(path.basename(facts.exe))) return `its executable is not node (${facts.exe ?? 'unknown'})`;
  const [, entry, flag, name, ...rest] = facts.argv;
  if (!entry || !path.isAbsolute(entry) || canonical(entry) !== script) return `it does not run ${script}`;
  if (flag !== '--lab' || name !== lab || rest.length > 0) return `it is not started for lab "${lab}"`;
  return undefined;
}

/**
 * The lab's daemon processes: the pid in its root-owned pid file, and (in
 * case the pid file was lost) any other process that passes the same check,
 * each verified against /proc.
 */
export async function findDaemonPids(lab: string, reader: ProcReader = procfs): Promise<number[]> {
  assertLabName(lab);
  const script = reader.daemonScript();
  if (!script) return [];
  const candidates = new Set<number>();
  const pidFile = await readPidFile(lab);
  if ('pid' in pidFile) candidates.add(pidFile.pid);
  for (const pid of await reader.pids()) {
    if (pid === process.pid || candidates.has(pid)) continue;
    const argv = await reader.argv(pid);
    if (argv?.[2] === '--lab' && argv[3] === lab) candidates.add(pid);
  }
  const found: number[] = [];
  for (const pid of candidates) {
    if (daemonProblem(await reader.facts(pid), lab, script, (p) => reader.canonical(p)) === undefined) found.push(pid);
  }
  return found.sort((a, b) => a - b);
}

/** What the pid file says and whether that process is the lab's daemon, for status messages. */
export async function pidFileVerdict(lab: string, reader: ProcReader = procfs): Promise<{ pid?: number; problem?: string }> {
  const pidFile = await readPidFile(lab);
  if ('problem' in pidFile) return { problem: `no usable pid file (${pidFile.problem})` };
  const script = reader.daemonScript();
  if (!script) return { pid: pidFile.pid, problem: 'nslab is not built (dist/ is missing)' };
  const problem = daemonProblem(await reader.facts(pidFile.pid), lab, script, (p) => reader.canonical(p));
  return problem ? { pid: pidFile.pid, problem: `pid file stale, process ${pidFile.pid}: ${problem}` } : { pid: pidFile.pid };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM, wait up to graceMs, then SIGKILL whatever is left. Resolves when all are gone. */
export async function stopProcesses(pids: number[], graceMs: number): Promise<void> {
  if (pids.length === 0) return;
  for (const pid of pids) {
    signal(pid, 'SIGTERM');
    // A stopped process (SIGSTOP, a debugger) only acts on SIGTERM once it runs again.
    signal(pid, 'SIGCONT');
  }
  const deadline = Date.now() + graceMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    alive = alive.filter(isAlive);
  }
  await killProcesses(alive);
}

/** SIGKILL, and wait (bounded) until they are gone. */
export async function killProcesses(pids: number[], waitMs = 2000): Promise<void> {
  for (const pid of pids) signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + waitMs;
  while (pids.some(isAlive) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 10));
}
