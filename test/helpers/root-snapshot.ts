// What the root network namespace looks like, to prove a lab never touches it.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';

export async function rootNetnsSnapshot(): Promise<Record<string, string>> {
  const cmds: Record<string, string[]> = {
    addr: ['ip', '-d', 'addr', 'show'],
    route: ['ip', 'route', 'show', 'table', 'all'],
    rules: ['ip', 'rule', 'show'],
    iptables: ['iptables-save'],
    nft: ['nft', 'list', 'ruleset'],
    sysctl: ['sysctl', 'net.ipv4.ip_forward', 'net.ipv4.conf.all.route_localnet', 'net.bridge.bridge-nf-call-iptables'],
  };
  const out: Record<string, string> = {};
  for (const [name, argv] of Object.entries(cmds)) {
    const r = await execa(argv[0]!, argv.slice(1), { reject: false });
    // iptables-save stamps the time it ran; packet counters move with unrelated traffic.
    out[name] = String(r.stdout)
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/g, '[*]'))
      .join('\n');
  }
  return out;
}

export async function labNetns(prefix = 'nslab-'): Promise<string[]> {
  const r = await execa('ip', ['netns', 'list'], { reject: false });
  return String(r.stdout)
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}

export interface NsProcess {
  pid: number;
  comm: string;
  /** Inode of its network namespace. */
  netns: number;
  /** The namespace's name in /run/netns, if it still has one. */
  netnsName?: string;
}

async function nsInodeOf(pid: number | 'self', ns: 'net' | 'pid'): Promise<number | undefined> {
  const link = await readlink(`/proc/${pid}/ns/${ns}`).catch(() => '');
  const m = /^\w+:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

const netnsInodeOf = (pid: number | 'self') => nsInodeOf(pid, 'net');

/**
 * Processes in a lab-looking place: in a namespace named with `prefix`, or
 * in a namespace that has no name at all (where nginx workers orphaned by a
 * deleted pod namespace end up), never the root namespace, never in a
 * container (another pid namespace). `baseline`
 * (pids from an earlier call) leaves out what was there before a test began.
 */
export async function strayProcesses(prefix = 'nslab-', baseline: ReadonlySet<number> = new Set()): Promise<NsProcess[]> {
  const root = await netnsInodeOf('self');
  // nslab never makes a pid namespace: a process in another one is a container's (podman --network none), not a lab's.
  const pidns = await nsInodeOf('self', 'pid');
  const names = new Map<number, string>();
  for (const name of await readdir('/run/netns').catch(() => [] as string[])) {
    const s = await stat(`/run/netns/${name}`).catch(() => undefined);
    if (s) names.set(s.ino, name);
  }
  const out: NsProcess[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 1 || baseline.has(pid)) continue;
    const netns = await netnsInodeOf(pid);
    if (netns === undefined || netns === root) continue;
    if ((await nsInodeOf(pid, 'pid')) !== pidns) continue;
    const netnsName = names.get(netns);
    if (netnsName !== undefined && !netnsName.startsWith(prefix)) continue;
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (!comm) continue; // gone meanwhile
    const state = /\) (\S)/.exec(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''))?.[1];
    if (state === 'Z' || state === 'X') continue;
    out.push({ pid, comm, netns, ...(netnsName !== undefined ? { netnsName } : {}) });
  }
  return out;
}

/** The pids strayProcesses sees now, to leave out of later checks. */
export async function strayBaseline(): Promise<Set<number>> {
  return new Set((await strayProcesses()).map((p) => p.pid));
}

/** Where the lab's cgroup is (cgroup v2), as nslab puts it. */
export function labCgroupDir(lab: string): string | undefined {
  const mount = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.includes(' - cgroup2 '))
    ?.split(' ')[4];
  return mount ? `${mount}/nslab/${lab}` : undefined;
}

/** Whether the lab still has a cgroup. */
export function labCgroupExists(lab: string): boolean {
  const dir = labCgroupDir(lab);
  return dir !== undefined && existsSync(dir);
}
