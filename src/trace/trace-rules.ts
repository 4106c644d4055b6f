// The private nft table `nslab trace` adds to each namespace while one probe
// runs: chains at priority -350 (before conntrack and every kube-proxy rule)
// that set the trace flag on the probe's first packet only, and empty
// sentinel chains whose events say which hooks the packet reached (the flag
// does not survive a veth, so every namespace needs its own). Pure.
import { TRACE_TABLE_PREFIX } from './path.js';

export type TraceProto = 'tcp' | 'udp' | 'icmp';

export interface TraceMatch {
  proto: TraceProto;
  /** Destination address, where it is known before NAT (the source's own namespace). */
  daddr?: string;
  /** Destination ports the packet may carry here (the Service port, its target ports, a NodePort). */
  dports?: number[];
  /** The probe's own source port, where no NAT changed it yet. */
  sport?: number;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export function traceTableName(id: string): string {
  if (!/^[a-z0-9]{1,16}$/.test(id)) throw new Error(`invalid trace id ${id}`);
  return `${TRACE_TABLE_PREFIX}${id}`;
}

/** nft match text for the probe's first packet. */
export function matchText(m: TraceMatch): string {
  const parts: string[] = [];
  if (m.daddr !== undefined) {
    if (!IPV4.test(m.daddr)) throw new Error(`invalid address ${m.daddr}`);
    parts.push(`ip daddr ${m.daddr}`);
  }
  const ports = [...new Set(m.dports ?? [])].filter((p) => Number.isInteger(p) && p > 0 && p < 65536).sort((a, b) => a - b);
  if (m.proto === 'icmp') {
    parts.push('icmp type echo-request');
  } else {
    parts.push(`meta l4proto ${m.proto}`);
    if (m.sport !== undefined) parts.push(`${m.proto} sport ${m.sport}`);
    if (ports.length === 1) parts.push(`${m.proto} dport ${ports[0]}`);
    else if (ports.length > 1) parts.push(`${m.proto} dport { ${ports.join(', ')} }`);
    // The SYN only: a burst of traced packets loses events, and nat sees only the first packet anyway.
    if (m.proto === 'tcp') parts.push('tcp flags & (syn | ack) == syn');
  }
  return parts.join(' ');
}

/** Several matches: the source namespace traces the probe leaving and, for a pod, the probe coming back to it (hairpin). */
export function traceTableScript(table: string, matches: readonly TraceMatch[]): string {
  const body = matches.map((m) => `${matchText(m)} meta nftrace set 1`);
  const chain = (name: string, hook: string, priority: number, rules: readonly string[] = []) =>
    `  chain ${name} {\n    type filter hook ${hook} priority ${priority}; policy accept;\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`;
  return (
    `table ip ${table} {\n` +
    chain('trace-pre', 'prerouting', -350, body) +
    chain('trace-out', 'output', -350, body) +
    chain('seen-forward', 'forward', 0) +
    chain('seen-input', 'input', 0) +
    chain('seen-postrouting', 'postrouting', 500) +
    '}\n'
  );
}
