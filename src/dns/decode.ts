// Decoding whole DNS messages (upstream replies, and queries off the hot
// path) with dns-packet, into the message model the server encodes from.
// Records the server understands become typed RRs; any other record keeps
// its type, class and rdata, re-encoded by dns-packet's codec for that type.
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';
import classes from 'dns-packet/classes.js';
import types from 'dns-packet/types.js';
import { CLASS_IN, type Edns, type Message, type RR } from './wire.js';

/** dns-packet's names for record types and classes back to their codes (it spells unmodelled ones UNKNOWN_n). */
const typeCode = (name: string): number => types.toType(name);
const classCode = (name: string | undefined): number =>
  name === undefined ? CLASS_IN : name.startsWith('UNKNOWN_') ? Number(name.slice(8)) : classes.toClass(name);

/** dns-packet writes names without the root dot ("" for the root). */
const fqdn = (name: string): string => (name === '' || name === '.' ? '.' : name.endsWith('.') ? name : `${name}.`);

const text = (t: string | Buffer | Array<string | Buffer>): string[] => (Array.isArray(t) ? t : [t]).map((p) => p.toString());

function toRR(a: Exclude<Answer, { type: 'OPT' }>): RR {
  const name = fqdn(a.name);
  const ttl = a.ttl ?? 0;
  if (classCode(a.class) === CLASS_IN) {
    switch (a.type) {
      case 'A':
      case 'AAAA':
        return { name, type: a.type, ttl, data: a.data };
      case 'CNAME':
      case 'PTR':
      case 'NS':
        return { name, type: a.type, ttl, data: fqdn(a.data) };
      case 'SRV':
        return { name, type: 'SRV', ttl, data: { priority: a.data.priority ?? 0, weight: a.data.weight ?? 0, port: a.data.port, target: fqdn(a.data.target) } };
      case 'MX':
        return { name, type: 'MX', ttl, data: { preference: a.data.preference ?? 0, exchange: fqdn(a.data.exchange) } };
      case 'SOA': {
        const d = a.data;
        return {
          name,
          type: 'SOA',
          ttl,
          data: { mname: fqdn(d.mname), rname: fqdn(d.rname), serial: d.serial ?? 0, refresh: d.refresh ?? 0, retry: d.retry ?? 0, expire: d.expire ?? 0, minimum: d.minimum ?? 0 },
        };
      }
      case 'TXT':
        return { name, type: 'TXT', ttl, data: text(a.data) };
      default:
        break;
    }
  }
  const codec = dnsPacket.record(a.type);
  // dns-packet's record codecs write a 2-byte rdata length first.
  const rdata = codec.encode(a.data as never).subarray(2);
  return { name, type: 'RAW', rrtype: typeCode(a.type), rrclass: classCode(a.class), ttl, rdata: Buffer.from(rdata) };
}

function toEdns(o: Extract<Answer, { type: 'OPT' }>): Edns {
  const options = dnsPacket.record('OPT').encode(o.options as never).subarray(2);
  return { udpSize: o.udpPayloadSize, extRcode: o.extendedRcode, version: o.ednsVersion, do: o.flag_do, options: Buffer.from(options) };
}

/** Decodes a whole message; throws on malformed input. Names come back in presentation form with the root dot. */
export function decodeMessage(buf: Buffer): Message {
  if (buf.length < 12) throw new Error('message shorter than its header');
  const p: DecodedPacket = dnsPacket.decode(buf);
  // The header bits from the wire: dns-packet's flags leave out QR.
  const b2 = buf[2]!;
  const b3 = buf[3]!;
  const m: Message = {
    id: p.id ?? 0,
    qr: (b2 & 0x80) !== 0,
    opcode: (b2 >> 3) & 0xf,
    aa: (b2 & 0x04) !== 0,
    tc: (b2 & 0x02) !== 0,
    rd: (b2 & 0x01) !== 0,
    ra: (b3 & 0x80) !== 0,
    ad: (b3 & 0x20) !== 0,
    cd: (b3 & 0x10) !== 0,
    rcode: b3 & 0xf,
    question: (p.questions ?? []).map((q) => ({ name: fqdn(q.name), type: typeCode(q.type), class: classCode(q.class) })),
    answers: [],
    authority: [],
    additional: [],
  };
  const sections: Array<[Answer[] | undefined, RR[]]> = [
    [p.answers, m.answers],
    [p.authorities, m.authority],
    [p.additionals, m.additional],
  ];
  for (const [from, to] of sections) {
    for (const a of from ?? []) {
      if (a.type === 'OPT') {
        m.edns = toEdns(a);
        m.rcode |= a.extendedRcode << 4;
      } else to.push(toRR(a));
    }
  }
  return m;
}
