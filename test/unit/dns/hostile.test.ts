// No packet may stop the cluster DNS server (issue 9, hole 5). A corpus of
// hostile packets goes to one running server over UDP and TCP; after each
// one the server must still answer a normal query on the same socket, and
// where miekg/dns + CoreDNS define the reply, ours must be the same:
//
// - shorter than a header, or a response (QR=1): no reply (miekg serveDNS:
//   "Let client hang"; DefaultMsgAcceptFunc: MsgIgnore);
// - opcode other than QUERY/NOTIFY: NOTIMP, opcode echoed, header only;
// - QDCOUNT != 1, ANCOUNT > 1, NSCOUNT > 1, ARCOUNT > 2: FORMERR, header only;
// - anything that does not unpack (truncated names, pointer loops, pointers
//   out of range, label type bits 01/10, names over 255 octets, bad OPT
//   rdata): FORMERR, with the question when the question itself unpacked;
// - a header with QDCOUNT 1 and nothing else: SERVFAIL (miekg returns just
//   the header, CoreDNS's ServeDNS answers SERVFAIL for no question);
// - a question name with no type/class: qtype 0 class 0 -> REFUSED (class);
// - counts larger than the data: miekg stops at the end ("the count is a
//   lie"), the query is answered;
// - a label holding '.' or '\' bytes is one label (miekg prints it "a\.b"):
//   inside cluster.local it names nothing (NXDOMAIN), "x\.cluster.local." is
//   not in the zone at all and goes upstream with its bytes unchanged;
// - a failure inside the server is answered SERVFAIL and counted
//   (coredns_panics_total), as CoreDNS's ServeDNS recovers from a panic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsServer } from '../../../src/dns/server.js';
import { buildZone } from '../../../src/dns/zone.js';
import {
  CLUSTER,
  clusterZone,
  header,
  KUBERNETES_IP,
  optRecord,
  plainQuery,
  rawQuery,
  replyHeader,
  startUpstream,
  tcpAsk,
  tcpDribble,
  tcpExchange,
  tcpWriteAndClose,
  u16,
  udpAsk,
  udpExchange,
  wireName,
  ZONE_CONFIG,
  type FakeUpstream,
} from './raw.js';

const NOERROR = 0;
const FORMERR = 1;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const NOTIMP = 4;
const REFUSED = 5;

let dns: DnsServer;
let upstream: FakeUpstream;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  upstream = await startUpstream();
  dns = await startDnsServer({
    listen: { host: '127.0.0.1', port: 0 },
    zoneConfig: ZONE_CONFIG,
    zone: clusterZone(),
    upstreams: [{ host: '127.0.0.1', port: upstream.port }],
    forwardTimeoutMs: 500,
    forwardDeadlineMs: 1000,
    loopCheck: false,
  });
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await dns?.close();
  await upstream?.close();
});

// ---- the corpus ------------------------------------------------------------------------

type Transport = 'udp' | 'tcp';

/** Replies to pkt before a normal query on the same socket is answered. */
async function exchange(t: Transport, pkt: Buffer): Promise<Buffer[]> {
  if (t === 'udp') return udpExchange(dns.port, pkt);
  const f = Buffer.alloc(2 + pkt.length);
  f.writeUInt16BE(pkt.length, 0);
  pkt.copy(f, 2);
  return tcpExchange(dns.port, f);
}

async function ask(t: Transport, pkt: Buffer, id: number): Promise<Buffer> {
  return t === 'udp' ? udpAsk(dns.port, pkt, id) : tcpAsk(dns.port, pkt, id);
}

let nextId = 100;
const id = (): number => nextId++;

/** The question bytes of a query built by rawQuery (12 .. end of name + 4). */
const questionOf = (pkt: Buffer, name: Buffer): Buffer => pkt.subarray(12, 12 + name.length + 4);

/** Queries no server replies to. */
function silentCorpus(): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  const full = plainQuery(id(), 'kubernetes.default.svc.cluster.local');
  for (let n = 0; n < 12; n++) out.push([`${n} bytes`, full.subarray(0, n)]);
  out.push(['a response (QR=1)', rawQuery(id(), wireName('kubernetes', 'default', ...CLUSTER), 1, 1, { flags: 0x8180 })]);
  out.push(['a response with rcode FORMERR', rawQuery(id(), wireName('x', 'com'), 1, 1, { flags: 0x8001 })]);
  return out;
}

interface Expect {
  rcode: number;
  /** The question section expected in the reply (exact bytes); null: none. */
  question: Buffer | null;
  opcode?: number;
  aa?: boolean;
  answers?: number;
}

/** Queries with one reply each, as miekg/dns + CoreDNS answer them. */
function answeredCorpus(): Array<[string, Buffer, Expect]> {
  const out: Array<[string, Buffer, Expect]> = [];
  const add = (what: string, pkt: Buffer, e: Expect): void => {
    out.push([what, pkt, e]);
  };
  const inZone = (what: string, ...labels: Array<string | Buffer>): void => {
    const name = wireName(...labels, 'default', ...CLUSTER);
    const pkt = rawQuery(id(), name);
    add(what, pkt, { rcode: NXDOMAIN, question: questionOf(pkt, name), aa: true, answers: 0 });
  };

  // Odd bytes in labels: each is one label, names nothing in the cluster.
  inZone('a "." byte in a label', 'a.b');
  inZone('a label ending in "."', 'a.');
  inZone('a label that is just "."', '.');
  inZone('a "\\" byte in a label', 'a\\b');
  inZone('a label ending in "\\"', 'kubernetes\\');
  inZone('escape-like text "\\046"', '\\046');
  inZone('a NUL byte', Buffer.from([0x61, 0x00, 0x62]));
  inZone('a space', 'a b');
  inZone('0xff bytes', Buffer.from([0xff, 0xfe, 0x80]));
  inZone('UTF-8 text', 'é-ü-字');
  inZone('presentation specials', '@;()"\'');
  inZone('a 63-byte label', 'x'.repeat(63));
  {
    // "ngx-svc.default" as ONE label: namespace "ngx-svc\.default" does not
    // exist (CoreDNS splits labels, not text).
    const name = wireName('ngx-svc.default', ...CLUSTER);
    const pkt = rawQuery(id(), name);
    add('the dotted label "ngx-svc.default" + svc.cluster.local', pkt, { rcode: NXDOMAIN, question: questionOf(pkt, name), aa: true, answers: 0 });
  }
  {
    // 255 octets on the wire: the longest name miekg unpacks.
    const labels = [...Array.from({ length: 3 }, () => 'a'.repeat(63)), 'b'.repeat(35), 'default', ...CLUSTER];
    const name = wireName(...labels);
    expect(name.length).toBe(255);
    const pkt = rawQuery(id(), name);
    add('a name of 255 octets', pkt, { rcode: NXDOMAIN, question: questionOf(pkt, name), aa: true });
  }

  // Header rules (DefaultMsgAcceptFunc).
  const q = wireName('kubernetes', 'default', ...CLUSTER);
  add('QDCOUNT 0', Buffer.concat([header(id(), { qd: 0 })]), { rcode: FORMERR, question: null });
  add('QDCOUNT 0 with a question after it', rawQuery(id(), q, 1, 1, { qd: 0 }), { rcode: FORMERR, question: null });
  add('two questions', Buffer.concat([header(id(), { qd: 2 }), q, u16(1, 1), q, u16(28, 1)]), { rcode: FORMERR, question: null });
  add('QDCOUNT 65535', rawQuery(id(), q, 1, 1, { qd: 0xffff }), { rcode: FORMERR, question: null });
  add('ANCOUNT 65535', rawQuery(id(), q, 1, 1, { an: 0xffff }), { rcode: FORMERR, question: null });
  add('NSCOUNT 2', rawQuery(id(), q, 1, 1, { ns: 2 }), { rcode: FORMERR, question: null });
  add('ARCOUNT 65535', rawQuery(id(), q, 1, 1, { ar: 0xffff }), { rcode: FORMERR, question: null });
  for (const opcode of [1, 2, 3, 5, 6, 15]) {
    add(`opcode ${opcode}`, rawQuery(id(), q, 1, 1, { flags: 0x0100 | (opcode << 11) }), { rcode: NOTIMP, question: null, opcode });
  }

  // Counts larger than the data: miekg stops at the end of the message.
  {
    const pkt = rawQuery(id(), q, 1, 1, { ar: 2 });
    add('ARCOUNT 2 with no records', pkt, { rcode: NOERROR, question: questionOf(pkt, q), aa: true, answers: 1 });
  }
  {
    const pkt = rawQuery(id(), q, 1, 1, { an: 1, ns: 1 });
    add('ANCOUNT 1, NSCOUNT 1 with no records', pkt, { rcode: NOERROR, question: questionOf(pkt, q), aa: true, answers: 1 });
  }

  // Truncated questions.
  add('a header and nothing else', header(id()), { rcode: SERVFAIL, question: null });
  add('a name cut inside a label', Buffer.concat([header(id()), q.subarray(0, 5)]), { rcode: FORMERR, question: null });
  add('a name without its terminating zero', Buffer.concat([header(id()), q.subarray(0, q.length - 1)]), { rcode: FORMERR, question: null });
  add('a name and one byte of type', Buffer.concat([header(id()), q, Buffer.from([0])]), { rcode: FORMERR, question: null });
  add('a name, type and one byte of class', Buffer.concat([header(id()), q, u16(1), Buffer.from([0])]), { rcode: FORMERR, question: null });
  {
    // miekg unpacks a question that ends after its name as type 0 class 0.
    const pkt = Buffer.concat([header(id()), q]);
    add('a name and no type or class', pkt, { rcode: REFUSED, question: Buffer.concat([q, u16(0, 0)]) });
  }

  // Names that do not unpack.
  add('a label of 64 bytes (type bits 01)', rawQuery(id(), Buffer.concat([Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0])])), { rcode: FORMERR, question: null });
  add('label type bits 10', rawQuery(id(), Buffer.from([0x80, 0x61, 0])), { rcode: FORMERR, question: null });
  {
    const labels = [...Array.from({ length: 3 }, () => 'a'.repeat(63)), 'b'.repeat(36), 'default', ...CLUSTER];
    add('a name of 256 octets', rawQuery(id(), wireName(...labels)), { rcode: FORMERR, question: null });
  }
  {
    const many = Array.from({ length: 200 }, () => 'a');
    add('200 one-byte labels (400 octets)', rawQuery(id(), wireName(...many)), { rcode: FORMERR, question: null });
  }
  add('a pointer to itself', rawQuery(id(), u16(0xc00c)), { rcode: FORMERR, question: null });
  add('two pointers to each other', Buffer.concat([header(id()), u16(0xc00e, 0xc00c), u16(1, 1)]), { rcode: FORMERR, question: null });
  add('a pointer past the end', rawQuery(id(), u16(0xc0ff)), { rcode: FORMERR, question: null });
  add('a pointer to the last byte', Buffer.concat([header(id()), u16(0xc011), u16(1, 1)]), { rcode: FORMERR, question: null });
  add('a label then a pointer loop', Buffer.concat([header(id()), Buffer.from([1, 0x61]), u16(0xc00c), u16(1, 1)]), { rcode: FORMERR, question: null });
  add('a pointer cut in half', Buffer.concat([header(id()), Buffer.from([0xc0])]), { rcode: FORMERR, question: null });
  {
    // A pointer forward, to a name after the question: miekg follows it.
    const pkt = Buffer.concat([header(id()), u16(0xc012), u16(1, 1), q]);
    add('a pointer forward to a valid name', pkt, { rcode: NOERROR, question: Buffer.concat([q, u16(1, 1)]), aa: true, answers: 1 });
  }

  // Records after the question.
  {
    const pkt = rawQuery(id(), q, 1, 1, { ar: 1 }, optRecord(0));
    add('OPT with UDP size 0', pkt, { rcode: NOERROR, question: questionOf(pkt, q), aa: true, answers: 1 });
  }
  {
    const pkt = rawQuery(id(), q, 1, 1, { ar: 1 }, optRecord(4096, { rdata: Buffer.from([0, 10, 0]) }));
    add('OPT with 3 bytes of option', pkt, { rcode: FORMERR, question: questionOf(pkt, q) });
  }
  {
    const pkt = rawQuery(id(), q, 1, 1, { ar: 1 }, optRecord(4096, { rdata: Buffer.from([0, 10, 0, 40, 1, 2, 3, 4]) }));
    add('OPT with an option longer than its rdata', pkt, { rcode: FORMERR, question: questionOf(pkt, q) });
  }
  {
    const pkt = rawQuery(id(), q, 1, 1, { ar: 1 }, optRecord(4096, { rdlength: 500 }));
    add('OPT rdlength past the end', pkt, { rcode: FORMERR, question: questionOf(pkt, q) });
  }
  {
    const pkt = rawQuery(id(), q, 1, 1, { ar: 1 }, optRecord(4096).subarray(0, 7));
    add('an OPT record cut in its header', pkt, { rcode: FORMERR, question: questionOf(pkt, q) });
  }
  {
    const rr = Buffer.concat([wireName('x'), u16(1, 1), u16(0, 30), u16(3), Buffer.from([1, 2, 3])]);
    const pkt = rawQuery(id(), q, 1, 1, { an: 1 }, rr);
    add('an answer record: A with 3 bytes of rdata', pkt, { rcode: FORMERR, question: questionOf(pkt, q) });
  }
  {
    const rr = Buffer.concat([u16(0xc00c), u16(1, 1)]);
    const pkt = rawQuery(id(), q, 1, 1, { ns: 1 }, rr);
    add('an authority record cut after its type', pkt, { rcode: FORMERR, question: questionOf(pkt, q) });
  }
  {
    const pkt = rawQuery(id(), q, 1, 3);
    add('class CH', pkt, { rcode: REFUSED, question: questionOf(pkt, q) });
  }
  return out;
}

function expectReply(what: string, pkt: Buffer, replies: Buffer[], e: Expect): void {
  expect(replies, what).toHaveLength(1);
  const r = replies[0]!;
  const h = replyHeader(r);
  expect(h.id, what).toBe(pkt.readUInt16BE(0));
  expect(h.qr, what).toBe(true);
  expect(h.rcode, what).toBe(e.rcode);
  expect(h.opcode, what).toBe(e.opcode ?? 0);
  if (e.aa !== undefined) expect(h.aa, what).toBe(e.aa);
  if (e.answers !== undefined) expect(h.an, what).toBe(e.answers);
  if (e.question === null) {
    expect(h.qd, what).toBe(0);
    expect(h.an + h.ns + h.ar, what).toBe(0);
    expect(r.length, what).toBe(12);
  } else {
    expect(h.qd, what).toBe(1);
    expect(r.subarray(12, 12 + e.question.length).toString('hex'), what).toBe(e.question.toString('hex'));
  }
  if (e.rcode === NXDOMAIN) {
    // The zone's SOA in authority, as every negative cluster answer.
    expect(h.ns, what).toBe(1);
  }
}

describe.each<Transport>(['udp', 'tcp'])('hostile packets over %s', (t) => {
  it('no reply to messages shorter than a header or to responses, and the server answers the next query', async () => {
    for (const [what, pkt] of silentCorpus()) expect(await exchange(t, pkt), what).toEqual([]);
  });

  it('answers each malformed or odd query as miekg/dns and CoreDNS do, and keeps answering', async () => {
    for (const [what, pkt, e] of answeredCorpus()) expectReply(`${what} (${pkt.toString('hex')})`, pkt, await exchange(t, pkt), e);
  });

  it('forwards a name whose dotted label only looks like it is in cluster.local, bytes unchanged', async () => {
    const name = wireName('x.cluster', 'local');
    const n = id();
    const pkt = rawQuery(n, name);
    const r = await ask(t, pkt, n);
    const h = replyHeader(r);
    // The fake upstream's answer (ra, no aa), not the zone's.
    expect(h).toMatchObject({ rcode: NXDOMAIN, aa: false, ra: true, qd: 1 });
    expect(r.subarray(12, 12 + name.length + 4).toString('hex')).toBe(questionOf(pkt, name).toString('hex'));
    expect(upstream.asked).toContain(questionOf(pkt, name).toString('hex'));
  });

  it('forwards names with "." and "\\" bytes in labels outside the zone, bytes unchanged', async () => {
    for (const labels of [['a.', 'com'], ['a.b', 'com'], ['a\\', 'example', 'org'], ['\\.', '..', 'net']]) {
      const name = wireName(...labels);
      const n = id();
      const pkt = rawQuery(n, name);
      const r = await ask(t, pkt, n);
      expect(replyHeader(r), labels.join('|')).toMatchObject({ rcode: NXDOMAIN, ra: true, qd: 1 });
      expect(r.subarray(12, 12 + name.length + 4).toString('hex')).toBe(questionOf(pkt, name).toString('hex'));
      expect(upstream.asked).toContain(questionOf(pkt, name).toString('hex'));
    }
  });

  it('resolves a normal name correctly afterwards', async () => {
    const n = id();
    const r = await ask(t, plainQuery(n, 'kubernetes.default.svc.cluster.local'), n);
    expect(replyHeader(r)).toMatchObject({ rcode: NOERROR, aa: true, an: 1 });
    expect([...r.subarray(r.length - 4)].join('.')).toBe(KUBERNETES_IP);
  });
});

describe('TCP framing', () => {
  const good = (n: number): Buffer => plainQuery(n, 'kubernetes.default.svc.cluster.local');
  const framed = (m: Buffer, len = m.length): Buffer => Buffer.concat([u16(len), m]);

  it('ignores a zero-length message and answers the next one on the same connection', async () => {
    expect(await tcpExchange(dns.port, u16(0))).toEqual([]);
  });

  it('answers a query written one byte at a time', async () => {
    const n = id();
    const r = await tcpDribble(dns.port, good(n), n);
    expect(replyHeader(r)).toMatchObject({ id: n, rcode: NOERROR, an: 1 });
  });

  it('answers every query of a burst that mixes hostile and good messages in one write', async () => {
    const ids = [id(), id(), id()];
    const burst = Buffer.concat([
      framed(good(ids[0]!)),
      framed(header(0, { qd: 0 }).subarray(0, 5)),
      framed(rawQuery(ids[1]!, wireName('a.', 'default', ...CLUSTER))),
      framed(rawQuery(id(), u16(0xc00c))),
      framed(good(ids[2]!)),
    ]);
    const replies = await tcpExchange(dns.port, burst);
    const byId = new Map(replies.map((r) => [r.readUInt16BE(0), replyHeader(r)]));
    expect(byId.get(ids[0]!)).toMatchObject({ rcode: NOERROR, an: 1 });
    expect(byId.get(ids[1]!)).toMatchObject({ rcode: NXDOMAIN });
    expect(byId.get(ids[2]!)).toMatchObject({ rcode: NOERROR, an: 1 });
    expect(replies).toHaveLength(4);
  });

  it('survives clients that announce more than they send and close, or close mid-message', async () => {
    await tcpWriteAndClose(dns.port, Buffer.concat([u16(65535), good(id())]));
    await tcpWriteAndClose(dns.port, Buffer.concat([u16(512), good(id()).subarray(0, 20)]), 20);
    await tcpWriteAndClose(dns.port, Buffer.from([0x00]));
    await tcpWriteAndClose(dns.port, framed(rawQuery(id(), wireName('a.', 'default', ...CLUSTER))));
    await tcpWriteAndClose(dns.port, Buffer.alloc(0), 10);
    for (const ask of [udpAsk, tcpAsk]) {
      const n = id();
      const r = await ask(dns.port, good(n), n);
      expect(replyHeader(r)).toMatchObject({ rcode: NOERROR, an: 1 });
    }
  });
});

describe('a failure inside the server', () => {
  it('is answered SERVFAIL, logged and counted, every time, and the server keeps answering', async () => {
    // An ExternalName the encoder cannot write (the apiserver would refuse
    // it; here it stands for any bug on the way to a reply): the first
    // query fails in the plugin chain, later ones in the memoised reply.
    const zone = buildZone(
      { namespaces: ['default'], services: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'a..b' } }], endpointSlices: [] },
      ZONE_CONFIG,
    );
    const logs: string[] = [];
    const s = await startDnsServer({ listen: { host: '127.0.0.1', port: 0 }, zoneConfig: ZONE_CONFIG, zone, upstreams: [], loopCheck: false, log: (l) => logs.push(l) });
    try {
      for (const ask of [udpAsk, tcpAsk, udpAsk, tcpAsk]) {
        const n = id();
        const r = await ask(s.port, plainQuery(n, 'bad.default.svc.cluster.local', 5), n);
        expect(replyHeader(r)).toMatchObject({ id: n, qr: true, rcode: SERVFAIL, qd: 1, an: 0 });
      }
      expect(logs.filter((l) => l.startsWith('[ERROR] Recovered from panic in server:')).length).toBeGreaterThanOrEqual(2);
      expect(s.metricsText()).toMatch(/^coredns_panics_total [1-9]/m);
      const n = id();
      const r = await udpAsk(s.port, plainQuery(n, 'cluster.local', 6), n);
      expect(replyHeader(r)).toMatchObject({ rcode: NOERROR, an: 1 });
    } finally {
      await s.close();
    }
  });
});

describe('the server process', () => {
  it('saw no unhandled rejection during any of this', async () => {
    // Give anything still in flight a turn to fail.
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled.map((e) => (e instanceof Error ? e.message : String(e)))).toEqual([]);
  });
});
