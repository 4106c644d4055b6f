// From what the node has (as far as the backend knows) to what the render
// wants, as the three scripts of one ipvs sync: ipset restore, ipvsadm
// --restore and the kube-ipvs0 address batch, each holding only the changes.
// A real server that leaves a TCP virtual server is first set to weight 0 and
// deleted once its connections have drained (kube-proxy's graceful
// termination manager); UDP and SCTP ones go at once, as upstream.
import {
  ipsetCreateLine,
  ipvsadmRealServerLine,
  ipvsadmServiceArgs,
  ipvsadmServiceLine,
  KUBE_IPVS_DUMMY,
  vsKey,
  type IpsetState,
  type VirtualServer,
} from './ipvs.js';

export interface AppliedVirtualServer {
  /** The -A line it was created (or last edited) with. */
  line: string;
  protocol: VirtualServer['protocol'];
  address: string;
  port: number;
  /** "ip:port" → weight. */
  realServers: Map<string, number>;
}

/** vsKey → what the kernel has. */
export type AppliedIpvs = Map<string, AppliedVirtualServer>;

export interface IpvsDiff {
  /** ipvsadm --restore input ('' when nothing changes). */
  script: string;
  applied: AppliedIpvs;
  /** "vsKey/ip:port" of real servers at weight 0, waiting for their connections to drain. */
  graceful: Set<string>;
}

const rsOf = (server: string): { ip: string; port: number } => {
  const i = server.lastIndexOf(':');
  return { ip: server.slice(0, i), port: Number(server.slice(i + 1)) };
};

/**
 * `drained`: real servers ("vsKey/ip:port") without connections (ActiveConn +
 * InActConn = 0 in `ipvsadm -Ln`): one that leaves is deleted at once, as
 * kube-proxy's GracefulDeleteRS does when nothing is left to drain.
 */
export function ipvsDiff(desired: readonly VirtualServer[], applied: AppliedIpvs, graceful: ReadonlySet<string>, drained: ReadonlySet<string>): IpvsDiff {
  const lines: string[] = [];
  const next: AppliedIpvs = new Map();
  const nextGraceful = new Set<string>();
  for (const vs of desired) {
    const key = vsKey(vs);
    const line = ipvsadmServiceLine('-A', vs);
    const cur = applied.get(key);
    if (!cur) lines.push(line);
    else if (cur.line !== line) lines.push(ipvsadmServiceLine('-E', vs));
    const rs = new Map<string, number>(cur?.realServers ?? []);
    const want = new Set<string>();
    for (const r of vs.realServers) {
      const server = `${r.ip}:${r.port}`;
      want.add(server);
      const w = rs.get(server);
      if (w === undefined) lines.push(ipvsadmRealServerLine('-a', vs, r));
      else if (w !== r.weight) lines.push(ipvsadmRealServerLine('-e', vs, r));
      rs.set(server, r.weight);
    }
    for (const server of [...rs.keys()]) {
      if (want.has(server)) continue;
      const g = `${key}/${server}`;
      if (vs.protocol !== 'TCP' || drained.has(g)) {
        lines.push(`-d ${ipvsadmServiceArgs(vs)} -r ${server}`);
        rs.delete(server);
      } else {
        if (!graceful.has(g)) lines.push(ipvsadmRealServerLine('-e', vs, { ...rsOf(server), weight: 0 }));
        rs.set(server, 0);
        nextGraceful.add(g);
      }
    }
    next.set(key, { line, protocol: vs.protocol, address: vs.address, port: vs.port, realServers: rs });
  }
  for (const [key, cur] of applied) {
    if (!next.has(key)) lines.push(`-D ${ipvsadmServiceArgs(cur)}`);
  }
  return { script: lines.length ? `${lines.join('\n')}\n` : '', applied: next, graceful: nextGraceful };
}

/** `ipvsadm -Sn` output back into AppliedIpvs (for full syncs). */
export function parseIpvsadmSave(text: string): AppliedIpvs {
  const out: AppliedIpvs = new Map();
  const proto = (flag: string): VirtualServer['protocol'] | undefined => (flag === '-t' ? 'TCP' : flag === '-u' ? 'UDP' : flag === '--sctp-service' ? 'SCTP' : undefined);
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    const p = proto(t[1] ?? '');
    const addr = t[2] ?? '';
    const i = addr.lastIndexOf(':');
    if (!p || i < 0) continue;
    const key = vsKey({ protocol: p, address: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
    if (t[0] === '-A') {
      out.set(key, { line: line.trim(), protocol: p, address: addr.slice(0, i), port: Number(addr.slice(i + 1)), realServers: new Map() });
    } else if (t[0] === '-a') {
      const r = t.indexOf('-r');
      const w = t.indexOf('-w');
      const server = r >= 0 ? t[r + 1] : undefined;
      if (server) out.get(key)?.realServers.set(server, w >= 0 ? Number(t[w + 1]) : 1);
    }
  }
  return out;
}

/** ipset restore input: on a full sync every set is (re)created and refilled; otherwise only entry changes. */
export function ipsetScript(desired: readonly IpsetState[], last: ReadonlyMap<string, ReadonlySet<string>> | undefined): string {
  const lines: string[] = [];
  for (const s of desired) {
    if (last === undefined) {
      lines.push(ipsetCreateLine(s), `flush ${s.name}`, ...s.entries.map((e) => `add ${s.name} ${e}`));
      continue;
    }
    const before = last.get(s.name) ?? new Set<string>();
    const now = new Set(s.entries);
    for (const e of before) if (!now.has(e)) lines.push(`del ${s.name} ${e}`);
    for (const e of s.entries) if (!before.has(e)) lines.push(`add ${s.name} ${e}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** `ip -batch` input binding and unbinding kube-ipvs0's addresses. */
export function addressScript(desired: readonly string[], current: ReadonlySet<string>): string {
  const want = new Set(desired);
  const lines = [
    ...desired.filter((a) => !current.has(a)).map((a) => `address add ${a}/32 dev ${KUBE_IPVS_DUMMY}`),
    ...[...current].filter((a) => !want.has(a)).map((a) => `address del ${a}/32 dev ${KUBE_IPVS_DUMMY}`),
  ];
  return lines.length ? `${lines.join('\n')}\n` : '';
}
