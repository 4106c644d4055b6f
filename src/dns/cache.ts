// The CoreDNS cache plugin's rules (plugin/cache: cache.go, item.go;
// plugin/pkg/response/typify.go; plugin/pkg/dnsutil/ttl.go), pure:
// how a reply is classified, what TTL every record in it gets on the way to
// the client, and whether it is stored.
//
//   const t = cacheResponseType(msg);                       // 'NOERROR' | 'NODATA' | ...
//   const secs = cacheDuration(msg, t, config);             // min TTL clamped to [5, 30]
//   withTtl(msg, secs)                                      // every RR (not OPT) gets secs
//   isCacheable(msg, t)                                     // not truncated, SOA for NXDOMAIN...
//
// `cache 30` sets both the success and denial maximum to 30 s; the minimum is
// 5 s for both; SERVFAIL is kept 5 s. Cached replies go out with the TTL
// counting down from the stored duration, the AA bit set and the question
// of the new request.

import { lowerName, TYPE, type Message, type RR } from './wire.js';

export type ResponseType = 'NOERROR' | 'NXDOMAIN' | 'SERVERERROR' | 'NODATA' | 'DELEGATION' | 'META' | 'UPDATE' | 'OTHERERROR';

export interface CacheConfig {
  /** Maximum TTL of positive answers (`cache 30`: 30; CoreDNS default 3600). */
  successTtl: number;
  /** Maximum TTL of negative answers (`cache 30`: 30; default 1800). */
  denialTtl: number;
  /** Minimum TTLs (5 s both). */
  minSuccessTtl: number;
  minDenialTtl: number;
  /** SERVFAIL (and NOTIMP) replies (5 s). */
  failTtl: number;
}

export function cacheConfig(ttl: number): CacheConfig {
  return { successTtl: ttl, denialTtl: ttl, minSuccessTtl: 5, minDenialTtl: 5, failTtl: 5 };
}

const MINIMAL_DEFAULT_TTL = 5;

/** response.Typify. */
export function typify(m: Message): ResponseType {
  if (m.opcode === 5) return 'UPDATE';
  if (m.opcode === 4) return 'META';
  const qt = m.question[0]?.type;
  if (qt === TYPE.AXFR || qt === TYPE.IXFR) return 'META';
  if (m.answers.length > 0 && m.rcode === 0) return 'NOERROR';
  if (m.answers.length > 0 && m.rcode === 3) return 'OTHERERROR';
  const soa = m.authority.some((r) => r.type === 'SOA');
  const ns = m.authority.filter((r) => r.type === 'NS').length;
  if (soa && m.rcode === 0) return 'NODATA';
  if (m.rcode === 3) return 'NXDOMAIN';
  if (m.rcode === 2 || m.rcode === 4) return 'SERVERERROR';
  if (ns > 0 && m.rcode === 0) return 'DELEGATION';
  if (m.rcode === 0) return 'NOERROR';
  return 'OTHERERROR';
}

function cnameTarget(answers: readonly RR[], owner: string): { target: string; ok: boolean } {
  let target = '';
  for (const r of answers) {
    if (r.type !== 'CNAME' || lowerName(r.name) !== owner) continue;
    const t = lowerName(r.data);
    if (target !== '' && target !== t) return { target: '', ok: false };
    target = t;
  }
  return { target, ok: true };
}

/** Whether a NOERROR reply's answer section answers its question (following CNAMEs). */
export function answersQuestion(m: Message): boolean {
  const q = m.question[0];
  if (!q || m.rcode !== 0 || m.answers.length === 0) return false;
  const typeOf = (r: RR): number => (r.type === 'RAW' ? r.rrtype : TYPE[r.type]);
  let name = lowerName(q.name);
  if (q.type === TYPE.ANY) return m.answers.some((r) => lowerName(r.name) === name);
  if (q.type === TYPE.CNAME) {
    const c = cnameTarget(m.answers, name);
    return c.ok && c.target !== '';
  }
  const visited = new Set<string>();
  for (;;) {
    if (visited.has(name)) return false;
    visited.add(name);
    const c = cnameTarget(m.answers, name);
    if (!c.ok) return false;
    if (c.target === '') break;
    name = c.target;
  }
  return m.answers.some((r) => typeOf(r) === q.type && lowerName(r.name) === name);
}

/** Typify, with a NOERROR that carries an SOA but does not answer reclassified as NODATA. */
export function cacheResponseType(m: Message): ResponseType {
  const t = typify(m);
  const soa = m.authority.some((r) => r.type === 'SOA');
  if (t === 'NOERROR' && soa && m.answers.length > 0 && !answersQuestion(m)) return 'NODATA';
  return t;
}

/** dnsutil.MinimalTTLWithMaximum, in seconds. */
function minimalTtl(m: Message, t: ResponseType, max: number): number {
  if (t !== 'NOERROR' && t !== 'NXDOMAIN' && t !== 'NODATA') return MINIMAL_DEFAULT_TTL;
  if (m.answers.length + m.authority.length === 0 && m.additional.length === 0) return MINIMAL_DEFAULT_TTL;
  let min = max;
  for (const s of [m.answers, m.authority, m.additional]) for (const r of s) if (r.ttl < min) min = r.ttl;
  return min;
}

/** The TTL (seconds) the cache gives every record of this reply, and keeps it for. */
export function cacheDuration(m: Message, t: ResponseType, c: CacheConfig): number {
  if (t === 'NXDOMAIN' || t === 'NODATA') return Math.min(Math.max(minimalTtl(m, t, c.denialTtl), c.minDenialTtl), c.denialTtl);
  if (t === 'SERVERERROR') return c.failTtl;
  return Math.min(Math.max(minimalTtl(m, t, c.successTtl), c.minSuccessTtl), c.successTtl);
}

/** cache.go's key(): whether the reply may be stored at all. */
export function isCacheable(m: Message, t: ResponseType): boolean {
  if (m.tc) return false;
  if (t === 'OTHERERROR' || t === 'META' || t === 'UPDATE') return false;
  const soa = m.authority.some((r) => r.type === 'SOA');
  if (t === 'NXDOMAIN' && !soa) return false;
  if (t === 'NOERROR' && !soa && m.answers.length > 0 && !answersQuestion(m)) return false;
  return true;
}

/** Positive (success) or negative (denial) store. */
export function cacheClass(t: ResponseType): 'success' | 'denial' {
  return t === 'NOERROR' || t === 'DELEGATION' ? 'success' : 'denial';
}

/** A copy of m with every record's TTL set to ttl (the OPT record is not in the sections). */
export function withTtl(m: Message, ttl: number): Message {
  const set = (rs: RR[]): RR[] => rs.map((r) => ({ ...r, ttl }));
  return { ...m, answers: set(m.answers), authority: set(m.authority), additional: set(m.additional) };
}
