// Decoding whole DNS messages (upstream replies, and query logging) into
// the message model the server encodes from, the way miekg/dns unpacks
// them: names in presentation form with labels escaped as miekg prints
// them ("a\.b" for the label a.b, "\255" for the byte 0xff), so that the
// encoder writes back exactly the bytes that came in; pointers anywhere in
// the message but at most 126 per name; counts larger than the data end
// the message quietly; any other shortfall is a FormatError.
//
// Records the server models (class IN) become typed RRs; any other record
// keeps its type, class and rdata bytes, with the names inside the rdata of
// the types that may be compressed (RFC 3597 section 4) written out in full.
// Rdata is checked as wire.ts's rdataUnpacks checks a query's records, so
// the two parsers agree on what unpacks.
//
//   const m = decodeMessage(replyBytes);   // throws FormatError on malformed input

import { FormatError, readName, scanName } from './names.js';
import { CLASS_IN, formatIPv6, RDATA_LAYOUT, rdataUnpacks, TYPE, type Edns, type Message, type Question, type RdataField, type RR } from './wire.js';

class Reader {
  constructor(
    readonly buf: Buffer,
    public p: number,
    readonly limit: number,
  ) {}

  need(n: number, what: string): void {
    if (this.p + n > this.limit) throw new FormatError(`overflow unpacking ${what}`);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.p);
    this.p += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.p);
    this.p += 4;
    return v;
  }

  name(): string {
    const { name, end } = readName(this.buf, this.p, this.limit);
    this.p = end;
    return name;
  }

  /** The name at p as uncompressed wire bytes. */
  wireName(): Buffer {
    const parts: Buffer[] = [];
    const end = scanName(this.buf, this.p, this.limit, (start, len) => parts.push(this.buf.subarray(start - 1, start + len)));
    if (end < 0) throw new FormatError(`bad name at offset ${this.p}`);
    this.p = end;
    parts.push(Buffer.from([0]));
    return Buffer.concat(parts);
  }

  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.p, this.p + n);
    this.p += n;
    return b;
  }
}

/** Text of 16 address bytes the encoder parses back (v4-mapped ones as ::ffff:a.b.c.d). */
function ipv6Text(b: Buffer): string {
  const text = formatIPv6(b);
  return text.includes(':') ? text : `::ffff:${text}`;
}

/** TXT strings as text, or undefined when some string is not UTF-8 that encodes back to the same bytes. */
function txtStrings(rdata: Buffer): string[] | undefined {
  const out: string[] = [];
  for (let p = 0; p < rdata.length; ) {
    const len = rdata[p]!;
    if (p + 1 + len > rdata.length) throw new FormatError('overflow unpacking txt');
    const raw = rdata.subarray(p + 1, p + 1 + len);
    const s = raw.toString('utf8');
    if (!Buffer.from(s, 'utf8').equals(raw)) return undefined;
    out.push(s);
    p += 1 + len;
  }
  return out;
}

function decompressed(r: Reader, layout: readonly RdataField[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of layout) {
    if (f === 'n') parts.push(r.wireName());
    else if (f === 's') {
      r.need(1, 'character-string');
      parts.push(r.bytes(1 + r.buf[r.p]!, 'character-string'));
    } else parts.push(r.bytes(f, 'rdata'));
  }
  return Buffer.concat(parts);
}

type Decoded = { rr: RR } | { edns: Edns; extRcode: number };

/** One record at r.p; the rdata is read within the record's own length, as miekg cuts the message there. */
function readRecord(buf: Buffer, r: Reader): Decoded {
  const name = r.name();
  const type = r.u16('type');
  const rrclass = r.u16('class');
  const ttl = r.u32('ttl');
  const rdlen = r.u16('rdlength');
  const start = r.p;
  const end = start + rdlen;
  if (end > buf.length) throw new FormatError('bad rdlength');
  r.p = end;
  const d = new Reader(buf, start, end);
  const done = <T>(v: T): T => {
    if (d.p !== end) throw new FormatError('bad rdlength');
    return v;
  };
  const raw = (rdata: Buffer): Decoded => ({ rr: { name, type: 'RAW', rrtype: type, rrclass, ttl, rdata: Buffer.from(rdata) } });

  if (type === TYPE.OPT) {
    // Option TLVs must fit exactly (miekg's unpackDataOpt).
    for (let p = start; p < end; ) {
      if (p + 4 > end) throw new FormatError('overflow unpacking opt');
      p += 4 + buf.readUInt16BE(p + 2);
      if (p > end) throw new FormatError('overflow unpacking opt');
    }
    const extRcode = ttl >>> 24;
    return { edns: { udpSize: rrclass, extRcode, version: (ttl >>> 16) & 0xff, do: (ttl & 0x8000) !== 0, options: Buffer.from(buf.subarray(start, end)) }, extRcode };
  }
  if (rdlen === 0) return raw(Buffer.alloc(0));
  if (rrclass === CLASS_IN) {
    switch (type) {
      case TYPE.A:
        return done({ rr: { name, type: 'A', ttl, data: [...d.bytes(4, 'a')].join('.') } });
      case TYPE.AAAA:
        return done({ rr: { name, type: 'AAAA', ttl, data: ipv6Text(d.bytes(16, 'aaaa')) } });
      case TYPE.CNAME:
        return done({ rr: { name, type: 'CNAME', ttl, data: d.name() } });
      case TYPE.PTR:
        return done({ rr: { name, type: 'PTR', ttl, data: d.name() } });
      case TYPE.NS:
        return done({ rr: { name, type: 'NS', ttl, data: d.name() } });
      case TYPE.MX: {
        const preference = d.u16('mx');
        return done({ rr: { name, type: 'MX', ttl, data: { preference, exchange: d.name() } } });
      }
      case TYPE.SRV: {
        const priority = d.u16('srv');
        const weight = d.u16('srv');
        const port = d.u16('srv');
        return done({ rr: { name, type: 'SRV', ttl, data: { priority, weight, port, target: d.name() } } });
      }
      case TYPE.SOA: {
        const mname = d.name();
        const rname = d.name();
        const data = { mname, rname, serial: d.u32('soa'), refresh: d.u32('soa'), retry: d.u32('soa'), expire: d.u32('soa'), minimum: d.u32('soa') };
        return done({ rr: { name, type: 'SOA', ttl, data } });
      }
      case TYPE.TXT: {
        const rdata = buf.subarray(start, end);
        const strings = txtStrings(rdata);
        return strings === undefined ? raw(rdata) : { rr: { name, type: 'TXT', ttl, data: strings } };
      }
      default:
        break;
    }
  }
  // Any other record: its rdata as it came, names written out in full.
  const layout = RDATA_LAYOUT[type];
  if (layout) return done(raw(decompressed(d, layout)));
  if (!rdataUnpacks(buf, type, start, end)) throw new FormatError('bad rdata');
  return raw(buf.subarray(start, end));
}

/** Decodes a whole message; throws FormatError on malformed input. Names come back in presentation form with the root dot. */
export function decodeMessage(buf: Buffer): Message {
  if (buf.length < 12) throw new FormatError('message shorter than its header');
  const b2 = buf[2]!;
  const b3 = buf[3]!;
  const m: Message = {
    id: buf.readUInt16BE(0),
    qr: (b2 & 0x80) !== 0,
    opcode: (b2 >> 3) & 0xf,
    aa: (b2 & 0x04) !== 0,
    tc: (b2 & 0x02) !== 0,
    rd: (b2 & 0x01) !== 0,
    ra: (b3 & 0x80) !== 0,
    ad: (b3 & 0x20) !== 0,
    cd: (b3 & 0x10) !== 0,
    rcode: b3 & 0xf,
    question: [],
    answers: [],
    authority: [],
    additional: [],
  };
  const n = buf.length;
  // Just a header (9.9.9.9 answers REFUSED so): no sections at all.
  if (n === 12) return m;
  const r = new Reader(buf, 12, n);
  const qd = buf.readUInt16BE(4);
  for (let i = 0; i < qd; i++) {
    const q: Question = { name: r.name(), type: 0, class: 0 };
    // A question may stop after its name or its type (miekg's unpackQuestion).
    if (r.p < n) q.type = r.u16('qtype');
    if (r.p < n) q.class = r.u16('qclass');
    m.question.push(q);
  }
  const sections: Array<[number, RR[]]> = [
    [buf.readUInt16BE(6), m.answers],
    [buf.readUInt16BE(8), m.authority],
    [buf.readUInt16BE(10), m.additional],
  ];
  for (const [count, to] of sections) {
    // A record that would start at the end of the message: the count lied.
    for (let i = 0; i < count && r.p < n; i++) {
      const d = readRecord(buf, r);
      if ('rr' in d) to.push(d.rr);
      else {
        m.edns = d.edns;
        m.rcode |= d.extRcode << 4;
      }
    }
  }
  return m;
}
