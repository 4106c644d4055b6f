// A trace report as text for people. Pure.
import type { PacketHeader } from './nft-trace.js';
import type { TraceReport } from './run-trace.js';

function endpoint(addr: string | undefined, port: number | undefined): string {
  return `${addr ?? '?'}${port !== undefined ? `:${port}` : ''}`;
}

export function headerText(h: PacketHeader | undefined): string {
  if (!h) return '?';
  const flow = `${endpoint(h.saddr, h.sport)} -> ${endpoint(h.daddr, h.dport)}`;
  const dev = [h.iif ? `in ${h.iif}` : '', h.oif ? `out ${h.oif}` : ''].filter(Boolean).join(' ');
  return `${flow}${dev ? ` (${dev})` : ''}`;
}

/** What a rule did to the packet, when it did more than jump: DNAT, SNAT, masquerade, reject, drop. */
export function ruleAction(rule: string | undefined): string | undefined {
  if (!rule) return undefined;
  const ipt = /-j ((?:DNAT|SNAT|MASQUERADE|REJECT|DROP)\b.*)$/.exec(rule)?.[1];
  if (ipt) return ipt.trim();
  // Not part of a chain name such as mark-for-masquerade or reject-chain.
  return /(?<![\w-])((?:dnat|snat) to \S+|masquerade(?: fully-random)?|reject(?: with [\w-]+(?: [\w-]+)?)?|drop)(?![\w-])/.exec(rule)?.[1];
}

export function traceText(r: TraceReport): string {
  const out: string[] = [];
  out.push(`trace ${r.from.target} -> ${r.to.target} ${r.proto}${r.sport ? `, source port ${r.sport}` : ''} (lab ${r.lab}, proxy ${r.proxyMode})`);
  r.hops.forEach((h, i) => {
    out.push('');
    out.push(`${i + 1}. ${h.label}  [${h.hooks.join(' > ') || 'no hook'}]`);
    out.push(`   in:  ${headerText(h.in)}`);
    if (h.out && headerText(h.out) !== headerText(h.in)) out.push(`   out: ${headerText(h.out)}`);
    for (const s of h.steps) {
      const action = s.comment ? ruleAction(s.rule) : undefined;
      const what = s.comment ? `"${s.comment}"${action ? ` ${action}` : ''}` : (s.rule ?? '');
      out.push(`   ${`${s.table} ${s.chain}`.padEnd(34)} ${what}${what ? '  ' : ''}=> ${s.verdict}`);
    }
    if (h.route) out.push(`   route: ${h.route.split('\n')[0]}`);
    for (const c of h.conntrack ?? []) out.push(`   conntrack: ${c}`);
    out.push(`   ${h.end}${h.out?.oif && (h.end === 'forwarded' || h.end === 'sent') ? ` out ${h.out.oif}` : ''}`);
  });
  out.push('');
  out.push(`result: ${r.outcome.summary}`);
  if (r.leftover.length) out.push(`warning: trace tables left behind: ${r.leftover.join(', ')}`);
  return `${out.join('\n')}\n`;
}
