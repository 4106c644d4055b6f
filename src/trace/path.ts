// One probe's path from the trace events of every namespace it may have
// crossed: pick the probe's packet in each (the IP id survives NAT and veths),
// order the namespaces by TTL, and say what each did with it. Pure.
import { parseTrace, type PacketHeader, type TraceEvent } from './nft-trace.js';
import { ruleIndex, ruleKey, type ListedRule } from './rule-listing.js';

/** The private table `nslab trace` adds in each namespace (trace-rules.ts). */
export const TRACE_TABLE_PREFIX = 'nslab-trace-';

export interface NetnsCapture {
  netns: string;
  /** "pod default/web-1", "node master", "host console". */
  label: string;
  /** `nft -a monitor trace` output while the probe ran. */
  monitor: string;
  /** Rules of the tables the trace went through, comments attached where nft lost them. */
  rules: ListedRule[];
}

export interface Step {
  table: string;
  chain: string;
  /** The rule as written (iptables-save text for iptables-nft rules); absent for a chain's policy. */
  rule?: string;
  comment?: string;
  handle?: number;
  verdict: string;
}

export type HopEnd = 'delivered' | 'forwarded' | 'sent' | 'dropped' | 'rejected' | 'lost';

export interface Hop {
  netns: string;
  label: string;
  /** The header as it arrived (or was sent) and as it left, after NAT. */
  in?: PacketHeader;
  out?: PacketHeader;
  /** Hooks the packet went through, in order: prerouting, output, forward, input, postrouting. */
  hooks: string[];
  steps: Step[];
  end: HopEnd;
  /** The rule (or policy) that dropped or rejected it. */
  endStep?: Step;
}

const HOOK_OF_CHAIN: Record<string, string> = {
  'trace-pre': 'prerouting',
  'trace-out': 'output',
  'seen-forward': 'forward',
  'seen-input': 'input',
  'seen-postrouting': 'postrouting',
};

function ownTable(e: TraceEvent): boolean {
  return e.table.startsWith(TRACE_TABLE_PREFIX);
}

/** Events of the probe's packet (by IP id; the first traced packet when the id is unknown). */
function probeEvents(events: readonly TraceEvent[], ipId: number | undefined): TraceEvent[] {
  const ids = new Set<string>();
  for (const e of events) {
    if (e.kind !== 'packet') continue;
    if (ipId === undefined ? ids.size === 0 : e.header.ipId === ipId) ids.add(e.id);
  }
  // A trace id can be reused by a later packet: stop at the first packet line with another IP id.
  const out: TraceEvent[] = [];
  const done = new Set<string>();
  for (const e of events) {
    if (!ids.has(e.id) || done.has(e.id)) continue;
    if (e.kind === 'packet' && ipId !== undefined && e.header.ipId !== ipId) {
      done.add(e.id);
      continue;
    }
    out.push(e);
  }
  return out;
}

function stepOf(e: TraceEvent, rules: Map<string, ListedRule>): Step | undefined {
  if (e.kind === 'rule') {
    const listed = e.handle !== undefined ? rules.get(ruleKey(e.family, e.table, e.chain, e.handle)) : undefined;
    return {
      table: `${e.family} ${e.table}`,
      chain: e.chain,
      rule: listed?.text ?? e.rule,
      ...(listed?.comment !== undefined ? { comment: listed.comment } : {}),
      ...(e.handle !== undefined ? { handle: e.handle } : {}),
      verdict: e.verdict,
    };
  }
  if (e.kind === 'policy' || e.kind === 'verdict') return { table: `${e.family} ${e.table}`, chain: e.chain, verdict: e.kind === 'policy' ? `policy ${e.verdict}` : e.verdict };
  return undefined;
}

function hopOf(c: NetnsCapture, events: TraceEvent[]): Hop | undefined {
  if (events.length === 0) return undefined;
  const rules = ruleIndex(c.rules);
  const hooks: string[] = [];
  const steps: Step[] = [];
  let endStep: Step | undefined;
  for (const e of events) {
    if (ownTable(e)) {
      const hook = HOOK_OF_CHAIN[e.chain];
      if (e.kind === 'packet' && hook && hooks[hooks.length - 1] !== hook) hooks.push(hook);
      continue;
    }
    const s = stepOf(e, rules);
    if (!s) continue;
    // Accepting policies are noise; a rule that matched and a drop are the story.
    if (e.kind === 'policy' && e.verdict === 'accept') continue;
    if (e.kind === 'verdict' && e.verdict === 'continue') continue;
    steps.push(s);
    if (/\bdrop\b/.test(s.verdict)) endStep = s;
  }
  const headersSeen = events.flatMap((e) => (e.kind === 'packet' ? [e.header] : []));
  const rejected = endStep?.rule !== undefined && /\breject\b|REJECT/.test(endStep.rule);
  const end: HopEnd = endStep
    ? rejected
      ? 'rejected'
      : 'dropped'
    : hooks.includes('input')
      ? 'delivered'
      : hooks.includes('postrouting')
        ? hooks.includes('output')
          ? 'sent'
          : 'forwarded'
        : 'lost';
  const first = headersSeen[0];
  const last = headersSeen[headersSeen.length - 1];
  return { netns: c.netns, label: c.label, ...(first ? { in: first } : {}), ...(last ? { out: last } : {}), hooks, steps, end, ...(endStep ? { endStep } : {}) };
}

/**
 * A namespace's events split into visits: a pod that sends to its own
 * Service sees the probe leave (output, postrouting) and come back
 * (prerouting, input): two hops of the path.
 */
function visits(events: readonly TraceEvent[]): TraceEvent[][] {
  const out: TraceEvent[][] = [];
  let cur: TraceEvent[] = [];
  let left = false;
  for (const e of events) {
    if (e.kind === 'packet' && ownTable(e)) {
      if (e.chain === 'trace-pre' && left) {
        out.push(cur);
        cur = [];
        left = false;
      }
      if (e.chain === 'seen-postrouting') left = true;
    }
    cur.push(e);
  }
  if (cur.length) out.push(cur);
  return out;
}

/**
 * The hops of one probe, source first. `captures[0]` is the source
 * namespace; its first traced packet is the probe, whose IP id then picks
 * the same packet in the others.
 */
export function buildPath(captures: readonly NetnsCapture[]): Hop[] {
  const parsed = captures.map((c) => ({ c, events: parseTrace(c.monitor) }));
  const src = parsed[0];
  if (!src) return [];
  const firstPacket = src.events.find((e): e is Extract<TraceEvent, { kind: 'packet' }> => e.kind === 'packet' && !e.header.iif);
  const ipId = firstPacket?.header.ipId;
  const hops = parsed.flatMap(({ c, events }, i) => {
    // Without the source's packet there is no id to follow: only the source can say anything.
    if (ipId === undefined && i > 0) return [];
    return visits(probeEvents(events, ipId)).flatMap((v) => {
      const hop = hopOf(c, v);
      return hop ? [{ hop, i }] : [];
    });
  });
  // Follow the packet: the next hop is the one it entered with the header the last one sent it out with.
  const ordered: Hop[] = [];
  const rest = [...hops];
  let cur = rest.shift();
  while (cur) {
    ordered.push(cur.hop);
    const out = tuple(cur.hop.out);
    const i = out ? rest.findIndex((h) => tuple(h.hop.in) === out) : -1;
    cur = i >= 0 ? rest.splice(i, 1)[0] : undefined;
  }
  // Whatever the tuples do not chain (a header changed where no hook saw it): by TTL, the higher the earlier.
  rest.sort((a, b) => (b.hop.in?.ttl ?? 0) - (a.hop.in?.ttl ?? 0) || a.i - b.i);
  return [...ordered, ...rest.map((h) => h.hop)];
}

function tuple(h: PacketHeader | undefined): string | undefined {
  return h?.saddr && h.daddr ? `${h.saddr}:${h.sport ?? h.icmpId ?? ''}>${h.daddr}:${h.dport ?? ''}` : undefined;
}
