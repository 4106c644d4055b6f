// DNS wire format on the cluster DNS server's hot path: the message model
// the zone produces, an encoder that behaves like miekg/dns as CoreDNS drives
// it (uncompressed unless the reply does not fit, then compressed, then
// truncated record by record with TC set), and a zero-allocation view of an
// incoming query. They are hand-written because this path carries every
// query (see BENCHMARKS.md); whole messages are decoded by decode.ts, names
// read by names.ts. Parsing follows miekg/dns's unpacking rules, so
// that a query CoreDNS would reject gets the same FORMERR here.
//
//   const q = new QueryView(); q.parse(buf);          // id, qname bytes, qtype, EDNS
//   const enc = encodeMessage(msg, 512);               // {buf, ttlOffsets, truncated}
//
// Names are presentation strings with the trailing dot ("ngx-svc.default.svc.cluster.local.").
// Within a label, . space ' @ ; ( ) " \ are escaped with a backslash and
// bytes outside 0x20-0x7e as \DDD, as miekg/dns prints them; nameToLabels
// reads those escapes back, so any label survives decoding and encoding.

import net from 'node:net';
import { scanName } from './names.js';

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  NSEC3: 50,
  SVCB: 64,
  HTTPS: 65,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const TYPE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(TYPE).map(([k, v]) => [v, k]));

export function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

export const CLASS_IN = 1;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

const RCODE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(RCODE).map(([k, v]) => [v, k]));

export function rcodeName(r: number): string {
  return RCODE_NAMES[r] ?? `RCODE${r}`;
}

export interface Question {
  name: string;
  type: number;
  class: number;
}

interface RRBase {
  name: string;
  ttl: number;
}
export interface AddressRR extends RRBase {
  type: 'A' | 'AAAA';
  data: string;
}
export interface NameRR extends RRBase {
  type: 'CNAME' | 'PTR' | 'NS';
  data: string;
}
export interface SrvRR extends RRBase {
  type: 'SRV';
  data: { priority: number; weight: number; port: number; target: string };
}
export interface TxtRR extends RRBase {
  type: 'TXT';
  data: string[];
}
export interface SoaRR extends RRBase {
  type: 'SOA';
  data: { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
}
export interface MxRR extends RRBase {
  type: 'MX';
  data: { preference: number; exchange: string };
}
/** Any other record, rdata kept as received (types without embedded compressible names). */
export interface RawRR extends RRBase {
  type: 'RAW';
  rrtype: number;
  rrclass: number;
  rdata: Buffer;
}
export type RR = AddressRR | NameRR | SrvRR | TxtRR | SoaRR | MxRR | RawRR;

export function rrTypeCode(rr: RR): number {
  return rr.type === 'RAW' ? rr.rrtype : TYPE[rr.type];
}

export interface Edns {
  udpSize: number;
  do: boolean;
  version: number;
  /** Upper 8 bits of a 12-bit rcode. */
  extRcode: number;
  /** The option TLVs, as on the wire. */
  options: Buffer;
}

export interface Message {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  /** Full rcode (above 15 needs EDNS to be expressed). */
  rcode: number;
  question: Question[];
  answers: RR[];
  authority: RR[];
  additional: RR[];
  edns?: Edns;
}

// ---- names -------------------------------------------------------------------

/** "a.b." → [Buffer("a"), Buffer("b")]; "." → []. Throws on labels > 63 bytes or names > 255. */
export function nameToLabels(name: string): Buffer[] {
  const labels: Buffer[] = [];
  if (name === '.' || name === '') return labels;
  let cur: number[] = [];
  let total = 1;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c /* \ */ && i + 1 < name.length) {
      const d = name.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(d)) {
        cur.push(Number(d) & 0xff);
        i += 3;
      } else {
        cur.push(name.charCodeAt(i + 1) & 0xff);
        i += 1;
      }
      continue;
    }
    if (c === 0x2e /* . */) {
      if (cur.length === 0) throw new Error(`empty label in ${JSON.stringify(name)}`);
      labels.push(Buffer.from(cur));
      total += cur.length + 1;
      cur = [];
      continue;
    }
    cur.push(c & 0xff);
  }
  if (cur.length > 0) {
    labels.push(Buffer.from(cur));
    total += cur.length + 1;
  }
  for (const l of labels) if (l.length > 63) throw new Error(`label longer than 63 bytes in ${JSON.stringify(name)}`);
  if (total > 255) throw new Error(`name longer than 255 bytes: ${JSON.stringify(name)}`);
  return labels;
}

/** ASCII lower case, as DNS compares names. */
export function lowerName(name: string): string {
  return /[A-Z]/.test(name) ? name.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : name;
}

export function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

// ---- addresses -----------------------------------------------------------------

export function isIPv4(s: string): boolean {
  return net.isIPv4(s);
}

export function isIPv6(s: string): boolean {
  return !s.includes('%') && net.isIPv6(s);
}

export function ipv4Bytes(s: string): Buffer {
  const parts = s.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${s}`);
  return Buffer.from(parts.map((p) => Number(p) & 0xff));
}

export function ipv6Bytes(s: string): Buffer {
  if (!isIPv6(s)) throw new Error(`not an IPv6 address: ${s}`);
  let text = s;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = ipv4Bytes(last);
    text = `${text.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const groups: number[] = [];
  const dbl = text.indexOf('::');
  const parse = (t: string): number[] => (t === '' ? [] : t.split(':').map((g) => parseInt(g, 16)));
  if (dbl >= 0) {
    const head = parse(text.slice(0, dbl));
    const rest = parse(text.slice(dbl + 2));
    const fill = 8 - head.length - rest.length;
    groups.push(...head, ...new Array<number>(Math.max(0, fill)).fill(0), ...rest);
  } else {
    groups.push(...parse(text));
  }
  const out = Buffer.alloc(16);
  groups.slice(0, 8).forEach((g, i) => out.writeUInt16BE(g & 0xffff, i * 2));
  return out;
}

/** The canonical text of 16 address bytes (RFC 5952), as Go's net.IP.String(). */
export function formatIPv6(b: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // v4-mapped addresses print as IPv4, as Go does.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Canonical form of an IP string ("" if it is none). */
export function canonicalIP(s: string): string {
  if (isIPv4(s)) return s;
  if (isIPv6(s)) return formatIPv6(ipv6Bytes(s));
  return '';
}

// ---- encoding ------------------------------------------------------------------

class Writer {
  buf: Buffer;
  len = 0;
  readonly compression: Map<string, number> | undefined;
  readonly ttlOffsets: number[] = [];

  constructor(size: number, compress: boolean) {
    this.buf = Buffer.allocUnsafe(size);
    if (compress) this.compression = new Map();
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }

  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  name(name: string, compressible: boolean): void {
    const labels = nameToLabels(name);
    const map = compressible ? this.compression : undefined;
    for (let i = 0; i < labels.length; i++) {
      if (map) {
        const key = suffixKey(labels, i);
        const at = map.get(key);
        if (at !== undefined) {
          this.u16(0xc000 | at);
          return;
        }
        if (this.len < 0x3fff) map.set(key, this.len);
      }
      const l = labels[i]!;
      this.u8(l.length);
      this.bytes(l);
    }
    this.u8(0);
  }
}

function suffixKey(labels: Buffer[], from: number): string {
  let k = '';
  for (let i = from; i < labels.length; i++) {
    const l = labels[i]!;
    k += String.fromCharCode(l.length) + l.toString('latin1');
  }
  return k;
}

function writeRR(w: Writer, rr: RR): void {
  w.name(rr.name, true);
  w.u16(rrTypeCode(rr));
  w.u16(rr.type === 'RAW' ? rr.rrclass : CLASS_IN);
  w.ttlOffsets.push(w.len);
  w.u32(rr.ttl);
  const lenAt = w.len;
  w.u16(0);
  const start = w.len;
  switch (rr.type) {
    case 'A':
      w.bytes(ipv4Bytes(rr.data));
      break;
    case 'AAAA':
      w.bytes(ipv6Bytes(rr.data));
      break;
    case 'CNAME':
    case 'PTR':
    case 'NS':
      w.name(rr.data, true);
      break;
    case 'SRV':
      w.u16(rr.data.priority);
      w.u16(rr.data.weight);
      w.u16(rr.data.port);
      // RFC 2782: the target is not compressed.
      w.name(rr.data.target, false);
      break;
    case 'TXT':
      for (const s of rr.data.length === 0 ? [''] : rr.data) {
        const b = Buffer.from(s, 'utf8');
        for (let i = 0; i === 0 || i < b.length; i += 255) {
          const part = b.subarray(i, i + 255);
          w.u8(part.length);
          w.bytes(part);
        }
      }
      break;
    case 'SOA':
      w.name(rr.data.mname, true);
      w.name(rr.data.rname, true);
      w.u32(rr.data.serial);
      w.u32(rr.data.refresh);
      w.u32(rr.data.retry);
      w.u32(rr.data.expire);
      w.u32(rr.data.minimum);
      break;
    case 'MX':
      w.u16(rr.data.preference);
      w.name(rr.data.exchange, true);
      break;
    case 'RAW':
      w.bytes(rr.rdata);
      break;
  }
  w.buf.writeUInt16BE(w.len - start, lenAt);
}

function writeOpt(w: Writer, e: Edns, rcode: number): void {
  w.u8(0);
  w.u16(TYPE.OPT);
  w.u16(e.udpSize);
  const ext = rcode > 15 ? rcode >> 4 : e.extRcode;
  w.u32(((ext & 0xff) << 24) | ((e.version & 0xff) << 16) | (e.do ? 0x8000 : 0));
  w.u16(e.options.length);
  w.bytes(e.options);
}

export function optLength(e: Edns): number {
  return 11 + e.options.length;
}

function writeHeader(w: Writer, m: Message, counts: [number, number, number, number]): void {
  w.u16(m.id);
  w.u8((m.qr ? 0x80 : 0) | ((m.opcode & 0xf) << 3) | (m.aa ? 0x04 : 0) | (m.tc ? 0x02 : 0) | (m.rd ? 0x01 : 0));
  w.u8((m.ra ? 0x80 : 0) | (m.ad ? 0x20 : 0) | (m.cd ? 0x10 : 0) | (m.rcode & 0xf));
  for (const c of counts) w.u16(c);
}

export interface Encoded {
  buf: Buffer;
  /** Offsets of the TTL field of every record but OPT. */
  ttlOffsets: number[];
  /** Records were dropped to fit (TC is set in the header). */
  truncated: boolean;
  compressed: boolean;
}

function encodeAll(m: Message, compress: boolean, withOpt: boolean): { w: Writer; ends: number[][] } {
  const w = new Writer(512, compress);
  const sections = [m.answers, m.authority, m.additional];
  writeHeader(w, m, [m.question.length, m.answers.length, m.authority.length, m.additional.length + (withOpt && m.edns ? 1 : 0)]);
  for (const q of m.question) {
    w.name(q.name, true);
    w.u16(q.type);
    w.u16(q.class);
  }
  const ends: number[][] = [[w.len]];
  for (const s of sections) {
    const e: number[] = [];
    for (const rr of s) {
      writeRR(w, rr);
      e.push(w.len);
    }
    ends.push(e);
  }
  if (withOpt && m.edns) writeOpt(w, m.edns, m.rcode);
  return { w, ends };
}

/**
 * Packs m without its OPT record into `budget` bytes, the way miekg's
 * Msg.Truncate does for CoreDNS's Scrub once the OPT record's size is taken
 * off: uncompressed if it fits, else compressed, else as many whole records
 * as fit in order (answer, authority, additional; the first that does not
 * fit ends the message) with TC set.
 */
export function encodeBody(m: Message, budget: number): Encoded {
  const plain = encodeAll(m, false, false);
  if (plain.w.len <= budget) return { buf: plain.w.buf.subarray(0, plain.w.len), ttlOffsets: plain.w.ttlOffsets, truncated: false, compressed: false };
  const { w, ends } = encodeAll(m, true, false);
  const keep = [0, 0, 0];
  let cut = ends[0]![0]!;
  let full = true;
  for (let s = 0; s < 3 && full; s++) {
    for (const end of ends[s + 1]!) {
      if (end > budget) {
        full = false;
        break;
      }
      keep[s]!++;
      cut = end;
    }
  }
  const buf = Buffer.from(w.buf.subarray(0, cut));
  buf.writeUInt16BE(keep[0]!, 6);
  buf.writeUInt16BE(keep[1]!, 8);
  buf.writeUInt16BE(keep[2]!, 10);
  if (!full) buf[2] = buf[2]! | 0x02;
  return { buf, ttlOffsets: w.ttlOffsets.filter((o) => o < cut), truncated: !full, compressed: true };
}

/** Writes the OPT record for e at off (optLength(e) bytes). */
export function writeOptAt(buf: Buffer, off: number, e: Edns, rcode: number): void {
  const w = new Writer(optLength(e), false);
  writeOpt(w, e, rcode);
  w.buf.copy(buf, off, 0, w.len);
}

/**
 * The whole message for a client whose limit is `size` bytes (512 at least,
 * 65535 over TCP), OPT record (m.edns) included and never dropped.
 */
export function encodeMessage(m: Message, size = 65535): Encoded {
  const limit = Math.max(512, size);
  const optLen = m.edns ? optLength(m.edns) : 0;
  const body = encodeBody(m, limit - optLen);
  if (!m.edns) return body;
  const buf = Buffer.allocUnsafe(body.buf.length + optLen);
  body.buf.copy(buf, 0);
  buf.writeUInt16BE(buf.readUInt16BE(10) + 1, 10);
  writeOptAt(buf, body.buf.length, m.edns, m.rcode);
  return { ...body, buf };
}

/** The key of a question: its wire-format name, type and class, as a latin1 string. */
export function questionKey(name: string, qtype: number, qclass: number): string {
  let k = '';
  for (const l of nameToLabels(name)) k += String.fromCharCode(l.length) + l.toString('latin1');
  return `${k}\0${String.fromCharCode(qtype >> 8, qtype & 0xff, qclass >> 8, qclass & 0xff)}`;
}

/** questionKey of the question at 12 with the name's A-Z lowered. */
export function lowerQuestionKey(buf: Buffer, qnameEnd: number): string {
  let k = '';
  for (let i = 12; i < qnameEnd + 4; i++) {
    let c = buf[i]!;
    if (i < qnameEnd && c >= 0x41 && c <= 0x5a) c += 0x20;
    k += String.fromCharCode(c);
  }
  return k;
}

// ---- the hot path: a view of a query --------------------------------------------

/** Outcome of QueryView.parse. */
export const enum QueryStatus {
  Ok = 0,
  /** Not worth a reply (shorter than a header, or a response). */
  Drop = 1,
  FormErr = 2,
  NotImp = 3,
  /** A header with QDCOUNT 1 and nothing after it: miekg unpacks no question, CoreDNS answers SERVFAIL. */
  NoQuestion = 4,
}

/** An rdata layout: n = a (compressible) name, s = a character-string, a number = that many bytes. */
export type RdataField = 'n' | 's' | number;

/**
 * Rdata layouts of the types whose rdata miekg/dns checks field by field:
 * the fixed-size addresses and every type with names inside (RFC 3597
 * section 4: the old types may carry compression pointers there).
 */
export const RDATA_LAYOUT: Readonly<Record<number, readonly RdataField[]>> = {
  1: [4], // A
  2: ['n'], // NS
  3: ['n'], // MD
  4: ['n'], // MF
  5: ['n'], // CNAME
  6: ['n', 'n', 20], // SOA
  7: ['n'], // MB
  8: ['n'], // MG
  9: ['n'], // MR
  12: ['n'], // PTR
  14: ['n', 'n'], // MINFO
  15: [2, 'n'], // MX
  17: ['n', 'n'], // RP
  18: [2, 'n'], // AFSDB
  21: [2, 'n'], // RT
  26: [2, 'n', 'n'], // PX
  28: [16], // AAAA
  33: [6, 'n'], // SRV
  35: [4, 's', 's', 's', 'n'], // NAPTR
  36: [2, 'n'], // KX
  39: ['n'], // DNAME
};

/**
 * Does the rdata of a record of this type unpack as miekg/dns unpacks it
 * (the message cut at the record's end, every byte used)? Types with a
 * layout, TXT and OPT are checked; any other type's rdata is opaque.
 */
export function rdataUnpacks(buf: Buffer, type: number, start: number, end: number): boolean {
  if (start === end) return true; // miekg: no rdata is fine for any type
  let p = start;
  if (type === TYPE.TXT) {
    for (; p < end; p += 1 + buf[p]!) if (p + 1 + buf[p]! > end) return false;
    return true;
  }
  if (type === TYPE.OPT) {
    for (; p < end; p += 4 + buf.readUInt16BE(p + 2)) if (p + 4 > end || p + 4 + buf.readUInt16BE(p + 2) > end) return false;
    return true;
  }
  const layout = RDATA_LAYOUT[type];
  if (!layout) return true;
  for (const f of layout) {
    if (f === 'n') p = scanName(buf, p, end);
    else if (f === 's') p = p < end ? p + 1 + buf[p]! : -1;
    else p += f;
    if (p < 0 || p > end) return false;
  }
  return p === end;
}

/**
 * Parses the parts of a query the server needs without allocating: reused
 * for every packet. Follows miekg/dns as CoreDNS runs it: responses are
 * ignored, opcodes other than QUERY/NOTIFY get NOTIMP, QDCOUNT != 1 or more
 * than 1 answer/authority or 2 additional records get FORMERR (header
 * only), and so does a message that does not unpack after that (with the
 * question when the question itself unpacked: questionOk).
 */
export class QueryView {
  status: QueryStatus = QueryStatus.Drop;
  id = 0;
  opcode = 0;
  rd = false;
  cd = false;
  ad = false;
  /** Offset just past the question name (qtype follows). */
  qnameEnd = 0;
  /** The question name used a compression pointer (rare): use the slow path. */
  qnameCompressed = false;
  /** The question name has A-Z. */
  hasUpper = false;
  /** The question unpacked (a FORMERR reply then carries it, as miekg's does). */
  questionOk = false;

  get compressed(): boolean {
    return this.qnameCompressed;
  }

  qtype = 0;
  qclass = 0;
  /** Offset past the question section. */
  questionEnd = 0;
  edns = false;
  udpSize = 0;
  do = false;
  ednsVersion = 0;
  /** Option TLVs of the request's OPT record: [optStart, optEnd). */
  optStart = 0;
  optEnd = 0;

  parse(buf: Buffer): QueryStatus {
    this.edns = false;
    this.do = false;
    this.hasUpper = false;
    this.qnameCompressed = false;
    this.questionOk = false;
    this.ednsVersion = 0;
    this.qtype = this.qclass = 0;
    this.qnameEnd = this.questionEnd = 0;
    this.optStart = this.optEnd = 0;
    const n = buf.length;
    if (n < 12) return (this.status = QueryStatus.Drop);
    const b2 = buf[2]!;
    if (b2 & 0x80) return (this.status = QueryStatus.Drop);
    this.id = (buf[0]! << 8) | buf[1]!;
    const b3 = buf[3]!;
    this.opcode = (b2 >> 3) & 0xf;
    this.rd = (b2 & 1) !== 0;
    this.cd = (b3 & 0x10) !== 0;
    this.ad = (b3 & 0x20) !== 0;
    if (this.opcode !== 0 && this.opcode !== 4) return (this.status = QueryStatus.NotImp);
    const qd = (buf[4]! << 8) | buf[5]!;
    const an = (buf[6]! << 8) | buf[7]!;
    const ns = (buf[8]! << 8) | buf[9]!;
    const ar = (buf[10]! << 8) | buf[11]!;
    if (qd !== 1 || an > 1 || ns > 1 || ar > 2) return (this.status = QueryStatus.FormErr);
    if (n === 12) return (this.status = QueryStatus.NoQuestion);
    let p = 12;
    let total = 1;
    for (;;) {
      if (p >= n) return (this.status = QueryStatus.FormErr);
      const len = buf[p]!;
      if (len === 0) {
        p++;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        // Validate the whole name (pointers, loops, length) the slow way.
        p = scanName(buf, 12);
        if (p < 0) return (this.status = QueryStatus.FormErr);
        this.qnameCompressed = true;
        break;
      }
      if (len > 63 || p + 1 + len > n) return (this.status = QueryStatus.FormErr);
      total += len + 1;
      if (total > 255) return (this.status = QueryStatus.FormErr);
      for (let i = p + 1; i <= p + len; i++) {
        const c = buf[i]!;
        if (c >= 0x41 && c <= 0x5a) this.hasUpper = true;
      }
      p += 1 + len;
    }
    this.qnameEnd = p;
    // miekg's unpackQuestion stops quietly at the end of the message: a
    // missing type or class is 0; half of one is an error.
    if (p + 4 <= n) {
      this.qtype = (buf[p]! << 8) | buf[p + 1]!;
      this.qclass = (buf[p + 2]! << 8) | buf[p + 3]!;
      p += 4;
    } else if (p === n) {
      // type and class 0
    } else if (p + 2 === n) {
      this.qtype = (buf[p]! << 8) | buf[p + 1]!;
      p += 2;
    } else return (this.status = QueryStatus.FormErr);
    this.questionEnd = p;
    this.questionOk = true;
    // The records: an RR that would start at the end of the message is a
    // count that lied (miekg stops there); anything else must unpack.
    for (let i = 0; i < an + ns + ar && p < n; i++) {
      const at = scanName(buf, p);
      if (at < 0 || at + 10 > n) return (this.status = QueryStatus.FormErr);
      const type = (buf[at]! << 8) | buf[at + 1]!;
      const rdlen = (buf[at + 8]! << 8) | buf[at + 9]!;
      const end = at + 10 + rdlen;
      if (end > n || !rdataUnpacks(buf, type, at + 10, end)) return (this.status = QueryStatus.FormErr);
      if (i >= an + ns && type === TYPE.OPT) {
        this.edns = true;
        this.udpSize = (buf[at + 2]! << 8) | buf[at + 3]!;
        this.ednsVersion = buf[at + 5]!;
        this.do = (buf[at + 6]! & 0x80) !== 0;
        this.optStart = at + 10;
        this.optEnd = end;
      }
      p = end;
    }
    return (this.status = QueryStatus.Ok);
  }
}

/**
 * The EDNS options CoreDNS echoes back (request.SizeAndDo keeps NSID, EXPIRE,
 * COOKIE, TCP-KEEPALIVE and PADDING from the request's OPT record).
 */
export function echoedOptions(buf: Buffer, start: number, end: number): Buffer {
  if (start >= end) return EMPTY;
  const keep: Buffer[] = [];
  for (let p = start; p + 4 <= end; ) {
    const code = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    const stop = Math.min(end, p + 4 + len);
    if (code === 3 || code === 9 || code === 10 || code === 11 || code === 12) keep.push(buf.subarray(p, stop));
    p = stop;
  }
  return keep.length === 0 ? EMPTY : Buffer.concat(keep);
}

export const EMPTY: Buffer = Buffer.alloc(0);
