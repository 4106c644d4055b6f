// DNS fuzzer (issue 9): random bytes and mutated valid queries (bit flips,
// truncation, splices, odd counts, stray pointers), with a fixed seed and a
// bounded count (NSLAB_FUZZ_RUNS raises it), through
//
// - the pure path: QueryView (the server's query parser) and decodeMessage
//   never throw anything but FormatError, agree on what unpacks, and what
//   decodes encodes and decodes back to the same message; a query that
//   parses resolves in the zone and its answer encodes within the client's
//   size and decodes again with the same question;
// - a running server over UDP: every reply is a DNS message that decodes,
//   carries the query's ID and QR, nothing is answered that miekg ignores,
//   and the server still answers a normal name at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage } from '../../../src/dns/decode.js';
import { startDnsServer, type DnsServer } from '../../../src/dns/server.js';
import { FormatError, readName } from '../../../src/dns/names.js';
import { encodeMessage, nameToLabels, QueryStatus, QueryView, type Message } from '../../../src/dns/wire.js';
import { resolve } from '../../../src/dns/zone.js';
import { rng } from '../../helpers/fuzz.js';
import { clusterZone, KUBERNETES_IP, optRecord, plainQuery, rawQuery, replyHeader, u16, udpAsk, udpExchange, wireName, ZONE_CONFIG } from './raw.js';

const RUNS = Number(process.env.NSLAB_FUZZ_RUNS ?? 300);
const SEED = 0x9d5_2026;
/** Larger runs (NSLAB_FUZZ_RUNS) get time in proportion. */
const TIMEOUT_MS = 10_000 + RUNS * 20;
const ZONE = clusterZone();

// ---- inputs ------------------------------------------------------------------------------

function seeds(): Buffer[] {
  const cookie = Buffer.concat([u16(10, 8), Buffer.from('0123456789abcdef', 'hex')]);
  const k8s = wireName('kubernetes', 'default', 'svc', 'cluster', 'local');
  return [
    plainQuery(1, 'kubernetes.default.svc.cluster.local'),
    plainQuery(2, 'ngx-svc.default.svc.cluster.local', 28),
    plainQuery(3, '_https._tcp.kubernetes.default.svc.cluster.local', 33),
    plainQuery(4, '1.0.96.10.in-addr.arpa', 12),
    plainQuery(5, 'dns-version.cluster.local', 16),
    plainQuery(6, 'cluster.local', 6),
    plainQuery(7, 'cluster.local', 2),
    plainQuery(8, '10-0-0-1.default.pod.cluster.local'),
    plainQuery(9, 'example.com'),
    plainQuery(10, 'KuberNetes.Default.SVC.cluster.local'),
    rawQuery(11, k8s, 1, 1, { ar: 1 }, optRecord(4096, { do: true, rdata: cookie })),
    rawQuery(12, wireName('a.b', 'default', 'svc', 'cluster', 'local')),
    Buffer.concat([rawQuery(13, u16(0xc012), 1, 1), k8s]),
    rawQuery(14, k8s, 255, 1, { ar: 1 }, optRecord(1232)),
    rawQuery(15, k8s, 1, 1, { an: 1 }, Buffer.concat([u16(0xc00c, 1, 1, 0, 30, 4), Buffer.from([10, 0, 0, 1])])),
  ];
}

type Rand = () => number;
const int = (r: Rand, n: number): number => Math.floor(r() * n);

function mutate(r: Rand, pool: Buffer[]): Buffer {
  const base = Buffer.from(pool[int(r, pool.length)]!);
  switch (int(r, 8)) {
    case 0: {
      // random bytes
      const b = Buffer.alloc(int(r, 80));
      for (let i = 0; i < b.length; i++) b[i] = int(r, 256);
      return b;
    }
    case 1: {
      // bit flips
      for (let k = 1 + int(r, 8); k > 0 && base.length > 0; k--) base[int(r, base.length)]! ^= 1 << int(r, 8);
      return base;
    }
    case 2:
      return base.subarray(0, int(r, base.length + 1));
    case 3: {
      // splice: the head of one, the tail of another
      const other = pool[int(r, pool.length)]!;
      return Buffer.concat([base.subarray(0, int(r, base.length + 1)), other.subarray(int(r, other.length + 1))]);
    }
    case 4: {
      // a header count set to something odd
      const field = 4 + 2 * int(r, 4);
      if (base.length >= field + 2) base.writeUInt16BE([0, 1, 2, 3, 0xffff, int(r, 65536)][int(r, 6)]!, field);
      return base;
    }
    case 5: {
      // a compression pointer somewhere, to anywhere
      const at = int(r, Math.max(1, base.length - 1));
      if (base.length >= 2) base.writeUInt16BE(0xc000 | int(r, base.length + 8), at);
      return base;
    }
    case 6: {
      // bytes inserted or a range removed
      const at = int(r, base.length + 1);
      if (r() < 0.5) {
        const ins = Buffer.alloc(1 + int(r, 8));
        for (let i = 0; i < ins.length; i++) ins[i] = int(r, 256);
        return Buffer.concat([base.subarray(0, at), ins, base.subarray(at)]);
      }
      return Buffer.concat([base.subarray(0, at), base.subarray(at + 1 + int(r, 8))]);
    }
    default: {
      // a label length byte changed (63/64/0/255) or a label byte set to '.', '\' or 0xff
      const at = 12 + int(r, Math.max(1, base.length - 12));
      if (at < base.length) base[at] = [0x2e, 0x5c, 0xff, 0x00, 63, 64, 0x3f, 0xc0][int(r, 8)]!;
      return base;
    }
  }
}

/** Inputs: mutants of the seeds and of earlier mutants (so damage accumulates). */
function inputs(seed: number, count: number): Buffer[] {
  const r = rng(seed);
  const pool = seeds();
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const b = mutate(r, pool);
    out.push(b);
    if (pool.length < 200 && r() < 0.3) pool.push(b);
  }
  return out;
}

// ---- the pure path ------------------------------------------------------------------------

/** Does the header pass miekg's accept rules (so that everything hangs on unpacking)? */
function accepted(b: Buffer): boolean {
  if (b.length <= 12 || b[2]! & 0x80) return false;
  const opcode = (b[2]! >> 3) & 0xf;
  return (opcode === 0 || opcode === 4) && b.readUInt16BE(4) === 1 && b.readUInt16BE(6) <= 1 && b.readUInt16BE(8) <= 1 && b.readUInt16BE(10) <= 2;
}

function sameMessage(a: Message, b: Message): void {
  expect(b.id).toBe(a.id);
  expect([b.qr, b.opcode, b.aa, b.tc, b.rd, b.ra, b.ad, b.cd, b.rcode & 0xf]).toEqual([a.qr, a.opcode, a.aa, a.tc, a.rd, a.ra, a.ad, a.cd, a.rcode & 0xf]);
  expect(b.question).toEqual(a.question);
  expect(b.answers).toEqual(a.answers);
  expect(b.authority).toEqual(a.authority);
  expect(b.additional).toEqual(a.additional);
  expect(b.edns).toEqual(a.edns);
}

function purePath(buf: Buffer): void {
  const v = new QueryView();
  const status = v.parse(buf);
  let decoded: Message | undefined;
  try {
    decoded = decodeMessage(buf);
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
  }
  // The two parsers agree on what unpacks.
  if (accepted(buf)) expect(status === QueryStatus.Ok, 'QueryView Ok vs decodeMessage').toBe(decoded !== undefined);
  if (decoded) {
    const enc = encodeMessage(decoded);
    if (!enc.truncated) sameMessage(decoded, decodeMessage(enc.buf));
  }
  if (status !== QueryStatus.Ok) return;
  const name = readName(buf, 12).name;
  if (!v.qnameCompressed) {
    const bytes = Buffer.concat([...nameToLabels(name).flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);
    expect(bytes.toString('hex')).toBe(buf.subarray(12, v.qnameEnd).toString('hex'));
  }
  const res = resolve({ name, type: v.qtype }, ZONE);
  if (res.action !== 'answer') return;
  const m: Message = {
    id: v.id,
    qr: true,
    opcode: v.opcode,
    aa: res.authoritative,
    tc: false,
    rd: v.rd,
    ra: false,
    ad: false,
    cd: v.cd,
    rcode: res.rcode,
    question: [{ name, type: v.qtype, class: v.qclass }],
    answers: res.answers,
    authority: res.authority,
    additional: res.additional,
  };
  for (const size of [0, 512, 1232, 65535]) {
    const out = encodeMessage(m, size);
    expect(out.buf.length).toBeLessThanOrEqual(Math.max(512, size));
    const back = decodeMessage(out.buf);
    expect(back.id).toBe(v.id);
    expect(back.question[0]?.name).toBe(name);
  }
}

describe('DNS fuzzer', () => {
  it(`pure path: ${RUNS * 10} inputs through the query parser, the decoder, the zone and the encoder`, () => {
    const all = inputs(SEED, RUNS * 10);
    all.forEach((buf, i) => {
      try {
        purePath(buf);
      } catch (e) {
        throw new Error(`input ${i} (seed ${SEED}): ${buf.toString('hex')}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }, TIMEOUT_MS);

  describe('a running server over UDP', () => {
    let dns: DnsServer;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };

    beforeAll(async () => {
      process.on('unhandledRejection', onUnhandled);
      // No upstream: names outside the zone fail at once (SERVFAIL).
      dns = await startDnsServer({ listen: { host: '127.0.0.1', port: 0 }, zoneConfig: ZONE_CONFIG, zone: ZONE, upstreams: [], loopCheck: false });
    });

    afterAll(async () => {
      process.off('unhandledRejection', onUnhandled);
      await dns?.close();
    });

    it(`${RUNS} inputs: every reply decodes and carries the query's ID; the server answers a normal name afterwards`, async () => {
      const all = inputs(SEED + 1, RUNS);
      for (const [i, raw] of all.entries()) {
        const buf = Buffer.from(raw);
        // IDs below the client's sentinel range.
        if (buf.length >= 2) buf.writeUInt16BE(i % 60000, 0);
        const what = `input ${i} (seed ${SEED + 1}): ${buf.toString('hex')}`;
        const replies = await udpExchange(dns.port, buf);
        if (buf.length < 12 || buf[2]! & 0x80) {
          expect(replies, what).toEqual([]);
          continue;
        }
        expect(replies.length, what).toBeLessThanOrEqual(1);
        for (const r of replies) {
          const h = replyHeader(r);
          expect(h.id, what).toBe(i % 60000);
          expect(h.qr, what).toBe(true);
          expect(() => decodeMessage(r), what).not.toThrow();
        }
      }
      const r = await udpAsk(dns.port, plainQuery(65000, 'kubernetes.default.svc.cluster.local'), 65000);
      expect(replyHeader(r)).toMatchObject({ rcode: 0, an: 1 });
      expect([...r.subarray(r.length - 4)].join('.')).toBe(KUBERNETES_IP);
      expect(unhandled).toEqual([]);
    }, TIMEOUT_MS);
  });
});
