// The commands kube-proxy's ipvs mode needs inside a node's network namespace:
// the kube-ipvs0 dummy device and its addresses (ip), the IPVS table
// (ipvsadm --restore / -Sn / -Ln) and the ipsets (ipset restore). Each
// transaction takes its script on stdin; argument arrays only.
import { inNetns } from './netns.js';
import type { CommandRunner, RunResult } from './runner.js';

export interface RealServerCounters {
  /** "PROTO vip:port" of the virtual server. */
  service: string;
  /** "ip:port" of the real server. */
  server: string;
  weight: number;
  activeConn: number;
  inactiveConn: number;
}

export interface NetnsIpvs {
  readonly netns: string;
  /** Create the dummy device (down, as kube-proxy leaves it) unless it exists. */
  ensureDummy(name: string): Promise<void>;
  /** IPv4 addresses on one device. */
  deviceAddresses(name: string): Promise<string[]>;
  /** IPv4 addresses of every device but loopback and `except`. */
  localAddresses(except: string): Promise<string[]>;
  /** `ip -batch -` (address add/del lines). */
  ipBatch(script: string): Promise<RunResult>;
  ipsetRestore(script: string): Promise<RunResult>;
  ipvsadmRestore(script: string): Promise<RunResult>;
  /** `ipvsadm -Sn`: the table in restore form. */
  ipvsadmSave(): Promise<string>;
  /** `ipvsadm -Ln`: per real server weight and connection counts. */
  counters(): Promise<RealServerCounters[]>;
}

/** Addresses in `ip -o -4 addr show` output: "2: eth0    inet 10.0.0.1/24 ..." → [dev, ip]. */
export function parseIpAddrLines(text: string): Array<{ dev: string; ip: string }> {
  const out: Array<{ dev: string; ip: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet\s+(\d+\.\d+\.\d+\.\d+)\//.exec(line);
    if (m?.[1] && m[2]) out.push({ dev: m[1], ip: m[2] });
  }
  return out;
}

/**
 * `ipvsadm -Ln` output:
 *   TCP  10.96.0.10:80 rr
 *     -> 10.10.1.2:80                 Masq    1      0          0
 */
export function parseIpvsadmList(text: string): RealServerCounters[] {
  const out: RealServerCounters[] = [];
  let service = '';
  for (const line of text.split('\n')) {
    const vs = /^(TCP|UDP|SCTP)\s+(\S+)\s/.exec(line);
    if (vs?.[1] && vs[2]) {
      service = `${vs[1]} ${vs[2]}`;
      continue;
    }
    const rs = /^\s+->\s+(\d+\.\d+\.\d+\.\d+:\d+)\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (rs?.[1] && service) out.push({ service, server: rs[1], weight: Number(rs[2]), activeConn: Number(rs[3]), inactiveConn: Number(rs[4]) });
  }
  return out;
}

export function netnsIpvs(runner: CommandRunner, netns: string): NetnsIpvs {
  const run = (argv: readonly string[], input?: string): Promise<RunResult> =>
    runner.run(inNetns(netns, argv), { allowFailure: true, timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
  const v4 = async (argv: readonly string[]): Promise<Array<{ dev: string; ip: string }>> => {
    const r = await run(argv);
    return r.exitCode === 0 ? parseIpAddrLines(r.stdout) : [];
  };
  return {
    netns,
    async ensureDummy(name) {
      const shown = await run(['ip', '-o', 'link', 'show', 'dev', name]);
      if (shown.exitCode === 0) return;
      const r = await run(['ip', 'link', 'add', name, 'type', 'dummy']);
      if (r.exitCode !== 0) throw new Error(`ip link add ${name} type dummy failed in ${netns}: ${r.stderr.trim()}`);
    },
    deviceAddresses: async (name) => (await v4(['ip', '-o', '-4', 'addr', 'show', 'dev', name])).map((a) => a.ip),
    localAddresses: async (except) => (await v4(['ip', '-o', '-4', 'addr', 'show'])).filter((a) => a.dev !== 'lo' && a.dev !== except).map((a) => a.ip),
    ipBatch: (script) => run(['ip', '-batch', '-'], script),
    ipsetRestore: (script) => run(['ipset', 'restore', '-exist'], script),
    ipvsadmRestore: (script) => run(['ipvsadm', '--restore'], script),
    async ipvsadmSave() {
      const r = await run(['ipvsadm', '-Sn']);
      if (r.exitCode !== 0) throw new Error(`ipvsadm -Sn failed in ${netns}: ${r.stderr.trim()}`);
      return r.stdout;
    },
    async counters() {
      const r = await run(['ipvsadm', '-Ln']);
      return r.exitCode === 0 ? parseIpvsadmList(r.stdout) : [];
    },
  };
}
