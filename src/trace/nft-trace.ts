// Parsing `nft monitor trace` text (nft 1.0.6 prints text even with -j).
// Lines look like:
//   trace id 015c32ed ip kube-proxy services packet: iif "eth0" ... ip saddr 10.10.0.2 ...
//   trace id 015c32ed ip nat KUBE-SERVICES rule meta l4proto tcp ... jump KUBE-SVC-X # handle 17 (verdict jump KUBE-SVC-X)
//   trace id 015c32ed ip filter FORWARD verdict continue
//   trace id 015c32ed ip filter FORWARD policy accept
// Pure.

export interface PacketHeader {
  iif?: string;
  oif?: string;
  saddr?: string;
  daddr?: string;
  protocol?: string;
  sport?: number;
  dport?: number;
  icmpType?: string;
  icmpId?: number;
  tcpFlags?: string;
  /** The IP header's identification: NAT and forwarding keep it, so it follows one packet across namespaces. */
  ipId?: number;
  /** Decremented by every router: orders the namespaces one packet crossed. */
  ttl?: number;
}

export type TraceEvent =
  | { kind: 'packet'; id: string; family: string; table: string; chain: string; header: PacketHeader; text: string }
  | { kind: 'rule'; id: string; family: string; table: string; chain: string; rule: string; handle?: number; verdict: string }
  | { kind: 'policy'; id: string; family: string; table: string; chain: string; verdict: string }
  | { kind: 'verdict'; id: string; family: string; table: string; chain: string; verdict: string };

const LINE = /^trace id (\S+) (\S+) (\S+) (\S+) (packet: |rule |policy |verdict )(.*)$/;

/** A header's fields from a `packet:` line's text. */
export function parseHeader(text: string): PacketHeader {
  const h: PacketHeader = {};
  const word = (re: RegExp) => re.exec(text)?.[1];
  const num = (re: RegExp) => {
    const v = word(re);
    return v === undefined ? undefined : Number(v);
  };
  const iif = word(/\biif "([^"]*)"/);
  const oif = word(/\boif "([^"]*)"/);
  const saddr = word(/\bip saddr (\S+)/);
  const daddr = word(/\bip daddr (\S+)/);
  const protocol = word(/\bip protocol (\S+)/);
  const sport = num(/\b(?:tcp|udp) sport (\d+)/);
  const dport = num(/\b(?:tcp|udp) dport (\d+)/);
  const icmpType = word(/\bicmp type (\S+)/);
  const icmpId = num(/\bicmp id (\d+)/);
  const tcpFlags = word(/\btcp flags == (\S+)/) ?? word(/\btcp flags (\S+)/);
  if (iif !== undefined) h.iif = iif;
  if (oif !== undefined) h.oif = oif;
  if (saddr !== undefined) h.saddr = saddr;
  if (daddr !== undefined) h.daddr = daddr;
  if (protocol !== undefined) h.protocol = protocol;
  if (sport !== undefined) h.sport = sport;
  if (dport !== undefined) h.dport = dport;
  if (icmpType !== undefined) h.icmpType = icmpType;
  if (icmpId !== undefined) h.icmpId = icmpId;
  if (tcpFlags !== undefined) h.tcpFlags = tcpFlags;
  const ipId = num(/\bip id (\d+)/);
  if (ipId !== undefined) h.ipId = ipId;
  const ttl = num(/\bip ttl (\d+)/);
  if (ttl !== undefined) h.ttl = ttl;
  return h;
}

/** One line; undefined for anything that is not a trace event (the monitor's own notes, blank lines). */
export function parseTraceLine(line: string): TraceEvent | undefined {
  const m = LINE.exec(line.trimEnd());
  if (!m) return undefined;
  const [, id = '', family = '', table = '', chain = '', kind = '', rest = ''] = m;
  const base = { id, family, table, chain };
  switch (kind) {
    case 'packet: ':
      return { kind: 'packet', ...base, header: parseHeader(rest), text: rest };
    case 'policy ':
      return { kind: 'policy', ...base, verdict: rest.trim() };
    case 'verdict ':
      return { kind: 'verdict', ...base, verdict: rest.trim() };
    default: {
      // The verdict is the last parenthesised group; a rule's own text may hold parentheses.
      const v = /^(.*?)\s*\(verdict ([^()]*)\)$/.exec(rest);
      const body = v ? (v[1] ?? '') : rest;
      const h = /^(.*?)\s*# handle (\d+)$/.exec(body);
      return {
        kind: 'rule',
        ...base,
        rule: (h ? (h[1] ?? '') : body).trim(),
        ...(h ? { handle: Number(h[2]) } : {}),
        verdict: v ? (v[2] ?? '').trim() : 'continue',
      };
    }
  }
}

export function parseTrace(text: string): TraceEvent[] {
  return text.split('\n').flatMap((l) => {
    const e = parseTraceLine(l);
    return e ? [e] : [];
  });
}

/**
 * Events split into packets. Trace ids are per netns and get reused, so a
 * new packet starts at a new id and also at a `packet:` line of a hook that
 * the same id already went through (the same chain seen again).
 */
export function splitPackets(events: readonly TraceEvent[]): TraceEvent[][] {
  const out: TraceEvent[][] = [];
  const open = new Map<string, { events: TraceEvent[]; chains: Set<string> }>();
  for (const e of events) {
    const key = `${e.family} ${e.table} ${e.chain}`;
    let cur = open.get(e.id);
    if (cur && e.kind === 'packet' && cur.chains.has(key)) cur = undefined;
    if (!cur) {
      cur = { events: [], chains: new Set() };
      open.set(e.id, cur);
      out.push(cur.events);
    }
    if (e.kind === 'packet') cur.chains.add(key);
    cur.events.push(e);
  }
  return out;
}

/** The first header of a packet's events (what entered), and the last (what left). */
export function headers(events: readonly TraceEvent[]): { first?: PacketHeader; last?: PacketHeader } {
  const packets = events.flatMap((e) => (e.kind === 'packet' ? [e.header] : []));
  const first = packets[0];
  const last = packets[packets.length - 1];
  return { ...(first ? { first } : {}), ...(last ? { last } : {}) };
}
