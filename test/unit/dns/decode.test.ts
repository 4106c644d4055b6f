// Whole-message decoding (upstream replies) through dns-packet, and back out
// through the server's encoder: records the server does not model survive
// byte for byte.
import { describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import { decodeMessage } from '../../../src/dns/decode.js';
import { encodeMessage } from '../../../src/dns/wire.js';

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
