// The replies the server keeps between queries, keyed by the question's
// wire bytes (lower-cased name, type, class) plus DO and CD: the cache
// plugin's items (CACHED, until their TTL runs out; plugin/cache's
// cache.go) and the server's own memo of encoded cluster answers (MEMO,
// valid while the zone generation is unchanged). The rules that decide TTLs
// and what may be cached are the pure functions of cache.ts.
import type { Message } from './wire.js';

/** What a reply is built from, kept between queries. */
export interface Entry {
  /** MEMO: valid while the zone generation matches. CACHED: the cache plugin's item, until expires. */
  kind: 0 | 1;
  gen: number;
  stored: number;
  expires: number;
  /** Seconds, the TTL at store time. */
  ttl: number;
  msg: Message;
  rcode: number;
  plugin: number;
  cls: 'success' | 'denial';
  /** 0: nothing; 1: permute address rdata in place; 2: re-encode shuffled. */
  shuffle: 0 | 1 | 2;
  /** Record indices (over all sections) of each same-owner address group. */
  groups: number[][];
  variants: Map<number, { body: Buffer; ttlOffsets: number[] }>;
}

export const MEMO = 0;
export const CACHED = 1;
const MAX_ENTRIES = 50_000;

/** How loadbalance may shuffle a reply: address rdata in place when each section's addresses share one owner, else re-encoded. */
function shuffleGroups(m: Message): { shuffle: 0 | 1 | 2; groups: number[][] } {
  if (m.rcode !== 0) return { shuffle: 0, groups: [] };
  const groups: number[][] = [];
  let shuffle: 0 | 1 | 2 = 0;
  let base = 0;
  for (const section of [m.answers, m.authority, m.additional]) {
    const addr = section.filter((r) => r.type === 'A' || r.type === 'AAAA');
    if (addr.length >= 2) {
      const first = addr[0]!;
      const same = section.every((r) => r.type === first.type && r.name === first.name);
      if (same) {
        groups.push(section.map((_, i) => base + i));
        shuffle = shuffle === 2 ? 2 : 1;
      } else shuffle = 2;
    }
    base += section.length;
  }
  return { shuffle, groups };
}

export function makeEntry(msg: Message, kind: 0 | 1, plugin: number, gen: number, now: number, ttl: number, cls: 'success' | 'denial'): Entry {
  const { shuffle, groups } = shuffleGroups(msg);
  return { kind, gen, stored: now, expires: now + ttl * 1000, ttl, msg, rcode: msg.rcode, plugin, cls, shuffle, groups, variants: new Map() };
}

export class ResponseCache {
  /** Read directly on the hot path (a Map lookup per query). */
  readonly entries = new Map<string, Entry>();

  /** Keeps at most 50,000 entries, dropping the oldest stored first. */
  store(key: string, e: Entry): void {
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, e);
  }

  /** The cache plugin's live items by class at `now` (coredns_cache_entries). */
  counts(now: number): { success: number; denial: number } {
    const c = { success: 0, denial: 0 };
    for (const e of this.entries.values()) if (e.kind === CACHED && now < e.expires) c[e.cls]++;
    return c;
  }
}
