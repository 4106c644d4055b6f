// Finding and stopping a lab's processes: its control-plane daemon and
// whatever runs inside its namespaces.
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

export const DAEMON_SCRIPT_SUFFIX = `controlplane/daemon.js`;

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

/** Daemons of a lab found by their command line, so a lost pid file does not hide one. */
export async function findDaemonPids(lab: string): Promise<number[]> {
  return (await findDaemons()).filter((d) => d.lab === lab).map((d) => d.pid);
}

/** Every lab daemon running on this machine. */
export async function findDaemons(): Promise<Array<{ pid: number; lab: string }>> {
  const found: Array<{ pid: number; lab: string }> = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let argv: string[];
    try {
      argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    } catch {
      continue;
    }
    if (!isAlive(pid)) continue;
    const script = argv.findIndex((a) => a.endsWith(DAEMON_SCRIPT_SUFFIX));
    const labFlag = argv.indexOf('--lab');
    const lab = argv[labFlag + 1];
    if (script >= 0 && labFlag > script && lab) found.push({ pid, lab });
  }
  return found;
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
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    alive = alive.filter(isAlive);
  }
  for (const pid of alive) signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (alive.some(isAlive) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 10));
}
