// Where one probe ended, in words, from how the probe's own command ended,
// the hops the trace saw, and each hop's route. Pure.
import type { Hop } from './path.js';

export type ProbeEnd = 'answered' | 'refused' | 'unreachable' | 'no answer';

export interface Outcome {
  result: ProbeEnd;
  summary: string;
}

/** How a probe command ended: curl's exit code and message, ping's exit and output, dig's exit. */
export function probeEnd(proto: 'tcp' | 'udp' | 'icmp', exitCode: number, output: string): ProbeEnd {
  if (proto === 'tcp') {
    // 52 empty reply, 56 reset after connect: the connection was made, so the SYN was answered.
    if (exitCode === 0 || exitCode === 52 || exitCode === 56) return 'answered';
    if (/refused/i.test(output)) return 'refused';
    if (/unreachable|no route/i.test(output)) return 'unreachable';
    return 'no answer';
  }
  if (exitCode === 0) return 'answered';
  if (/unreachable|refused/i.test(output)) return /port unreachable|refused/i.test(output) ? 'refused' : 'unreachable';
  return 'no answer';
}

/** "via 192.168.10.1 dev eth0" of `ip route get` text. */
export function routeNextHop(route: string): { via?: string; dev?: string } {
  const via = /\bvia (\S+)/.exec(route)?.[1];
  const dev = /\bdev (\S+)/.exec(route)?.[1];
  return { ...(via ? { via } : {}), ...(dev ? { dev } : {}) };
}

export interface HopContext {
  /** `ip route get` for the packet as it left (or tried to). */
  route?: string;
  /** The machine's default gateway, where it has one. */
  gateway?: string;
}

function ruleName(h: Hop): string {
  const s = h.endStep;
  if (!s) return '';
  return s.comment ? `"${s.comment}"` : s.rule ? `"${s.rule}" (chain ${s.chain})` : `the ${s.chain} chain's ${s.verdict}`;
}

function translated(hops: readonly Hop[]): boolean {
  return hops.some((h) => h.steps.some((s) => /\b(dnat|DNAT)\b/.test(s.rule ?? '')));
}

export function describeOutcome(end: ProbeEnd, hops: readonly Hop[], ctx: ReadonlyMap<string, HopContext>, sourceLabel: string, sourceRoute: string | undefined): Outcome {
  const last = hops[hops.length - 1];
  if (!last) {
    const why = sourceRoute && /unreachable|RTNETLINK/i.test(sourceRoute) ? `: ${sourceRoute}` : '';
    return { result: end, summary: `${end}; the packet never reached a netfilter hook in ${sourceLabel} (it failed before any hook${why})` };
  }
  const at = (h: Hop) => `${h.label}${h.in?.daddr ? ` (${h.in.daddr}${h.in.dport ? `:${h.in.dport}` : ''})` : ''}`;
  const rejecting = hops.find((h) => h.end === 'rejected');
  if (rejecting) return { result: end, summary: `${end}: rejected by rule ${ruleName(rejecting)} in ${rejecting.label}` };
  const dropping = hops.find((h) => h.end === 'dropped');
  if (dropping) return { result: end, summary: `${end}: dropped by ${ruleName(dropping)} in ${dropping.label}` };
  if (end === 'answered') return { result: end, summary: `answered by ${at(last)}` };
  if (end === 'refused') return { result: end, summary: `refused by ${at(last)}: nothing listens there (the kernel answered with a reset or port unreachable)` };
  const c = ctx.get(last.netns);
  const hop = routeNextHop(c?.route ?? '');
  const nat = translated(hops) ? 'translated by a Service rule' : 'no rule matched';
  if ((last.end === 'forwarded' || last.end === 'sent') && hop.via && hop.via === c?.gateway) {
    return { result: end, summary: `${end}: ${nat}; routed to ${last.label}'s default gateway ${hop.via} (dev ${hop.dev ?? '?'}); dropped there` };
  }
  if (last.end === 'forwarded' || last.end === 'sent') {
    return { result: end, summary: `${end}: ${nat}; sent out ${last.out?.oif ?? hop.dev ?? '?'} of ${last.label}${hop.via ? ` to ${hop.via}` : ''} and not seen again` };
  }
  if (last.end === 'delivered') return { result: end, summary: `${end}: delivered in ${at(last)}, which did not answer` };
  return { result: end, summary: `${end}: last seen in ${last.label} at ${last.hooks[last.hooks.length - 1] ?? 'no hook'}${c?.route ? ` (route: ${c.route})` : ''}` };
}
