// Whole-message decoding (upstream replies) of messages dns-packet encodes
// and of hand-built ones, and back out through the server's encoder:
// records the server does not model survive byte for byte, and so do names
// with any bytes in their labels.
import { describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import { decodeMessage } from '../../../src/dns/decode.js';
import { FormatError } from '../../../src/dns/names.js';
import { encodeMessage } from '../../../src/dns/wire.js';
import { header, optRecord, u16, wireName, type HeaderSpec } from './raw.js';

const reply = dnsPacket.encode({
  type: 'response',
  id: 4242,
  flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHENTIC_DATA,
  questions: [{ type: 'A', name: 'example.com', class: 'IN' }],
  answers: [
    { type: 'CNAME', name: 'example.com', ttl: 60, data: 'www.example.net' },
    { type: 'A', name: 'www.example.net', ttl: 120, data: '203.0.113.10' },
    { type: 'CAA', name: 'example.com', ttl: 300, data: { flags: 0, tag: 'issue', value: 'letsencrypt.org' } },
    { type: 'TXT', name: 'example.com', ttl: 300, data: ['v=spf1 -all', 'second'] },
  ],
  authorities: [
    { type: 'SOA', name: 'example.com', ttl: 900, data: { mname: 'ns.example.com', rname: 'host.example.com', serial: 7, refresh: 1, retry: 2, expire: 3, minimum: 4 } },
  ],
  // (the typings know only a few EDNS option kinds; COOKIE is a plain code + data)
  additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnsPacket.DNSSEC_OK, options: [{ code: 10, data: Buffer.from('0123456789abcdef', 'hex') }], extendedRcode: 0, ednsVersion: 0, flag_do: true } as unknown as dnsPacket.Answer],
});

describe('decoding a whole message', () => {
  const m = decodeMessage(reply);

  it('keeps the header bits, the question and the EDNS options', () => {
    expect(m).toMatchObject({ id: 4242, qr: true, aa: false, rd: true, ra: true, ad: true, rcode: 0 });
    expect(m.question).toEqual([{ name: 'example.com.', type: 1, class: 1 }]);
    expect(m.edns).toMatchObject({ udpSize: 1232, do: true, version: 0 });
    expect(m.edns?.options.toString('hex')).toBe('000a00080123456789abcdef');
  });

  it('types the records the server models, with names in presentation form', () => {
    expect(m.answers.slice(0, 2)).toEqual([
      { name: 'example.com.', type: 'CNAME', ttl: 60, data: 'www.example.net.' },
      { name: 'www.example.net.', type: 'A', ttl: 120, data: '203.0.113.10' },
    ]);
    expect(m.answers[3]).toEqual({ name: 'example.com.', type: 'TXT', ttl: 300, data: ['v=spf1 -all', 'second'] });
    expect(m.authority[0]).toMatchObject({ type: 'SOA', data: { mname: 'ns.example.com.', rname: 'host.example.com.', serial: 7, minimum: 4 } });
  });

  it('passes any other record on unchanged through the encoder', () => {
    expect(m.answers[2]).toMatchObject({ type: 'RAW', rrtype: 257, rrclass: 1, ttl: 300 });
    const again = dnsPacket.decode(encodeMessage(m).buf);
    expect(again.answers?.[2]).toMatchObject({ type: 'CAA', name: 'example.com', ttl: 300, data: { tag: 'issue', value: 'letsencrypt.org' } });
    expect(again.answers?.map((a) => a.type)).toEqual(['CNAME', 'A', 'CAA', 'TXT']);
  });

  it('refuses a message shorter than its header', () => {
    expect(() => decodeMessage(Buffer.alloc(5))).toThrow(/shorter than its header/);
  });
});

// Hand-built replies (raw.ts): what dns-packet could not decode faithfully.
describe('decoding names and records as miekg/dns does', () => {
  const rr = (name: Buffer, type: number, rdata: Buffer, ttl = 60, cls = 1): Buffer => Buffer.concat([name, u16(type, cls), u16(ttl >> 16, ttl & 0xffff), u16(rdata.length), rdata]);
  const reply = (h: HeaderSpec, ...rest: Buffer[]): Buffer => Buffer.concat([header(7, { flags: 0x8180, ...h }), ...rest]);
  const q = wireName('a.b', 'example', 'com');

  it('escapes dots and odd bytes in labels so the encoder writes the same bytes back', () => {
    const target = wireName(Buffer.from([0xff, 0x2e, 0x5c, 0x20]), 'net');
    const buf = reply({ an: 1 }, q, u16(5, 1), rr(u16(0xc00c), 5, target));
    const m = decodeMessage(buf);
    expect(m.question[0]?.name).toBe('a\\.b.example.com.');
    expect(m.answers[0]).toEqual({ name: 'a\\.b.example.com.', type: 'CNAME', ttl: 60, data: '\\255\\.\\\\\\ .net.' });
    const again = encodeMessage(m).buf;
    expect(again.includes(target)).toBe(true);
    expect(again.subarray(12, 12 + q.length).equals(q)).toBe(true);
  });

  it('writes out compressed names inside the rdata of old types (RP) and keeps other rdata as it came', () => {
    const rp = Buffer.concat([wireName('admin'), u16(0xc00c)]);
    const caa = Buffer.from('0005697373756565', 'hex');
    const buf = reply({ an: 2 }, q, u16(17, 1), rr(u16(0xc00c), 17, rp), rr(u16(0xc00c), 257, caa));
    const m = decodeMessage(buf);
    expect(m.answers[0]).toMatchObject({ type: 'RAW', rrtype: 17 });
    const rdata = m.answers[0]?.type === 'RAW' ? m.answers[0].rdata : Buffer.alloc(0);
    expect(rdata.toString('hex')).toBe(Buffer.concat([wireName('admin'), q]).toString('hex'));
    expect(m.answers[1]).toMatchObject({ type: 'RAW', rrtype: 257, rdata: caa });
  });

  it('keeps TXT strings that are not UTF-8 byte for byte, and v4-mapped AAAA records', () => {
    const txt = Buffer.from([2, 0xff, 0xfe, 1, 0x61]);
    const aaaa = Buffer.from('00000000000000000000ffff0a000001', 'hex');
    const buf = reply({ an: 2 }, q, u16(16, 1), rr(u16(0xc00c), 16, txt), rr(u16(0xc00c), 28, aaaa));
    const m = decodeMessage(buf);
    expect(m.answers[0]).toMatchObject({ type: 'RAW', rrtype: 16, rdata: txt });
    expect(m.answers[1]).toMatchObject({ type: 'AAAA', data: '::ffff:10.0.0.1' });
    const again = encodeMessage(m).buf;
    expect(again.includes(txt)).toBe(true);
    expect(again.includes(aaaa)).toBe(true);
  });

  it('stops quietly where the counts lie, and fails where the data is cut', () => {
    const a = rr(u16(0xc00c), 1, Buffer.from([10, 0, 0, 1]));
    expect(decodeMessage(reply({ an: 5, ar: 9 }, q, u16(1, 1), a)).answers).toHaveLength(1);
    expect(() => decodeMessage(reply({ an: 1 }, q, u16(1, 1), rr(u16(0xc00c), 1, Buffer.from([10, 0, 0]))))).toThrow(FormatError);
    expect(() => decodeMessage(reply({ an: 1 }, q, u16(1, 1), rr(u16(0xc00c), 1, Buffer.from([10, 0, 0, 1, 2]))))).toThrow(FormatError);
    expect(() => decodeMessage(reply({ an: 1 }, q, u16(1, 1), a.subarray(0, a.length - 1)))).toThrow(FormatError);
    expect(() => decodeMessage(reply({ qd: 2 }, q, u16(1, 1)))).toThrow(FormatError);
    expect(() => decodeMessage(reply({}, u16(0xc00c), u16(1, 1)))).toThrow(FormatError);
    expect(() => decodeMessage(reply({ ar: 1 }, q, u16(1, 1), optRecord(1232, { rdata: Buffer.from([0, 10, 0, 9, 1]) })))).toThrow(FormatError);
  });

  it('reads a header alone, and a question without type and class as type 0 class 0', () => {
    expect(decodeMessage(header(9, { qd: 1 }))).toMatchObject({ id: 9, question: [] });
    expect(decodeMessage(Buffer.concat([header(9), q])).question).toEqual([{ name: 'a\\.b.example.com.', type: 0, class: 0 }]);
  });
});
