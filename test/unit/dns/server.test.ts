// The DNS server (src/dns/server.ts) on 127.0.0.1, asked over real UDP and
// TCP sockets. Replies are decoded with dns-packet, an independent codec, so
// our wire encoder is checked along the way. Behaviour expected: CoreDNS with
// kubeadm's Corefile (shared/notes/dns.md §2): cluster answers `qr aa rd`
// without `ra`, the SOA in the authority of negative answers, TTL 30, TC over
// plain UDP for big answers, names outside the zone forwarded, SERVFAIL when
// nothing upstream answers, Prometheus counters.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Question, type RecordType } from 'dns-packet';
import type { KubeObject } from '../../../src/api/types.js';
import { startDnsServer, type DnsServer } from '../../../src/dns/server.js';
import { buildZone, type ZoneConfig } from '../../../src/dns/zone.js';

// ---- fixtures ---------------------------------------------------------------------

const BIG = 60;

function objects(ngxIP = '10.96.240.115'): { services: KubeObject[]; endpointSlices: KubeObject[]; namespaces: string[]; serial: number } {
  return {
    namespaces: ['default'],
    serial: 1_700_000_000,
    services: [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ngx-svc', namespace: 'default' }, spec: { clusterIP: ngxIP, clusterIPs: [ngxIP], ports: [{ port: 80, protocol: 'TCP' }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'outside', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.com' } },
    ],
    endpointSlices: [
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'big-x', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } },
        addressType: 'IPv4',
        endpoints: Array.from({ length: BIG }, (_, i) => ({ addresses: [`10.10.${i >> 8}.${(i & 255) + 1}`], conditions: { ready: true } })),
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      },
    ],
  };
}

const ZONE_CONFIG: ZoneConfig = { domain: 'cluster.local' };
const TIMEOUT_MS = 2000;

// ---- a tiny client ------------------------------------------------------------------

type Reply = DecodedPacket & { rcode: string; bytes: number };

let nextId = 1000;
const openSockets = new Set<{ close(): void }>();

function query(name: string, type: RecordType, opts: { rd?: boolean; edns?: number } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: nextId++,
    flags: opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    ...(opts.edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns } as Answer] } : {}),
  });
}

function decode(buf: Buffer): Reply {
  return Object.assign(dnsPacket.decode(buf) as DecodedPacket & { rcode: string }, { bytes: buf.length });
}

/** One query over UDP; rejects after timeoutMs. */
function udp(port: number, q: Buffer, timeoutMs = TIMEOUT_MS): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const handle = { close: () => s.close() };
    openSockets.add(handle);
    const done = (): void => {
      clearTimeout(t);
      openSockets.delete(handle);
      s.close();
    };
    const t = setTimeout(() => {
      done();
      reject(new Error(`no UDP reply within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('error', (e) => {
      done();
      reject(e);
    });
    s.on('message', (m) => {
      if (m.length < 2 || m.readUInt16BE(0) !== q.readUInt16BE(0)) return;
      done();
      resolve(decode(m));
    });
    s.send(q, port, '127.0.0.1');
  });
}

/** One query over TCP (2-byte length framing); rejects after timeoutMs. */
function tcp(port: number, q: Buffer, timeoutMs = TIMEOUT_MS): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const handle = { close: () => s.destroy() };
    openSockets.add(handle);
    let buf = Buffer.alloc(0);
    const done = (): void => {
      clearTimeout(t);
      openSockets.delete(handle);
      s.destroy();
    };
    const t = setTimeout(() => {
      done();
      reject(new Error(`no TCP reply within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('error', (e) => {
      done();
      reject(e);
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        done();
        resolve(decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    const frame = Buffer.alloc(2 + q.length);
    frame.writeUInt16BE(q.length, 0);
    q.copy(frame, 2);
    s.write(frame);
  });
}

async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  return { status: res.status, body: await res.text() };
}

const rrText = (a: Answer): string => {
  switch (a.type) {
    case 'SOA':
      return `${a.name} ${a.ttl} SOA ${a.data.mname} ${a.data.rname} ${a.data.serial} ${a.data.refresh} ${a.data.retry} ${a.data.expire} ${a.data.minimum}`;
    case 'SRV':
      return `${a.name} ${a.ttl} SRV ${a.data.priority ?? 0} ${a.data.weight ?? 0} ${a.data.port} ${a.data.target}`;
    case 'TXT':
      return `${a.name} ${a.ttl} TXT ${(Array.isArray(a.data) ? a.data : [a.data]).map((d) => JSON.stringify(d.toString())).join(' ')}`;
    case 'OPT':
      return 'OPT';
    default:
      return `${a.name} ${a.ttl} ${a.type} ${String(a.data)}`;
  }
};
const texts = (rrs: Answer[] | undefined): string[] => (rrs ?? []).map(rrText);
type AddressAnswer = dnsPacket.StringAnswer & { type: 'A' };
const aRecords = (rrs: Answer[] | undefined): AddressAnswer[] => (rrs ?? []).filter((a): a is AddressAnswer => a.type === 'A');

const SOA = 'cluster.local 30 SOA ns.dns.cluster.local hostmaster.cluster.local 1700000000 7200 1800 86400 30';

/** The flags of a cluster (kubernetes plugin) answer: qr aa rd, never ra. */
function expectClusterFlags(r: Reply, rd = true): void {
  expect(r.type).toBe('response');
  expect(r.flag_qr).toBe(true);
  expect(r.flag_aa).toBe(true);
  expect(r.flag_rd).toBe(rd);
  expect(r.flag_ra).toBe(false);
  expect(r.flag_tc).toBe(false);
}

// ---- a fake upstream nameserver ----------------------------------------------------------

/** Answers example.com A 203.0.113.10 (TTL 300) with qr rd ra, NXDOMAIN for anything else. */
async function startUpstream(): Promise<{ port: number; asked: string[]; close(): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  const asked: string[] = [];
  sock.on('message', (m, from) => {
    let q: DecodedPacket;
    try {
      q = dnsPacket.decode(m);
    } catch {
      return;
    }
    const question: Question | undefined = q.questions?.[0];
    if (!question) return;
    asked.push(`${question.name} ${question.type}`);
    const known = question.name.toLowerCase() === 'example.com' && question.type === 'A';
    const reply = dnsPacket.encode({
      type: 'response',
      id: q.id ?? 0,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
      questions: [question],
      answers: known ? [{ type: 'A', name: question.name, ttl: 300, data: '203.0.113.10' }] : [],
    });
    sock.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return {
    port: sock.address().port,
    asked,
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

// ---- tests ----------------------------------------------------------------------------------

let upstream: Awaited<ReturnType<typeof startUpstream>>;
/** Forwards to the fake upstream; metrics on an ephemeral port. */
let dns: DnsServer;
/** No upstream at all. */
let lonely: DnsServer;
/** Servers a single test starts. */
const extra: DnsServer[] = [];

beforeAll(async () => {
  upstream = await startUpstream();
  const zone = buildZone(objects(), ZONE_CONFIG);
  dns = await startDnsServer({
    listen: { host: '127.0.0.1', port: 0 },
    zoneConfig: ZONE_CONFIG,
    zone,
    upstreams: [{ host: '127.0.0.1', port: upstream.port }],
    metrics: { host: '127.0.0.1', port: 0 },
    ready: { host: '127.0.0.1', port: 0 },
    loopCheck: false,
  });
  lonely = await startDnsServer({ listen: { host: '127.0.0.1', port: 0 }, zoneConfig: ZONE_CONFIG, zone, upstreams: [], loopCheck: false });
});

afterEach(async () => {
  for (const s of openSockets) s.close();
  openSockets.clear();
  await Promise.all(extra.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await dns?.close();
  await lonely?.close();
  await upstream?.close();
});

describe('cluster answers', () => {
  it('answers A over UDP with qr aa rd, no ra, the question echoed, TTL 30', async () => {
    const q = query('ngx-svc.default.svc.cluster.local', 'A');
    const r = await udp(dns.port, q);
    expect(r.id).toBe(q.readUInt16BE(0));
    expect(r.rcode).toBe('NOERROR');
    expectClusterFlags(r);
    expect(r.questions).toEqual([{ name: 'ngx-svc.default.svc.cluster.local', type: 'A', class: 'IN' }]);
    expect(texts(r.answers)).toEqual(['ngx-svc.default.svc.cluster.local 30 A 10.96.240.115']);
    expect(r.authorities).toEqual([]);
  });

  it('answers the same over TCP', async () => {
    const r = await tcp(dns.port, query('ngx-svc.default.svc.cluster.local', 'A'));
    expect(r.rcode).toBe('NOERROR');
    expectClusterFlags(r);
    expect(texts(r.answers)).toEqual(['ngx-svc.default.svc.cluster.local 30 A 10.96.240.115']);
  });

  it('echoes rd: a query without rd gets a reply without rd', async () => {
    const r = await udp(dns.port, query('ngx-svc.default.svc.cluster.local', 'A', { rd: false }));
    expectClusterFlags(r, false);
    expect(texts(r.answers)).toEqual(['ngx-svc.default.svc.cluster.local 30 A 10.96.240.115']);
  });

  it('answers with the name spelled as asked', async () => {
    const r = await udp(dns.port, query('NGX-svc.Default.svc.cluster.LOCAL', 'A'));
    expect(r.questions?.[0]?.name).toBe('NGX-svc.Default.svc.cluster.LOCAL');
    expect(texts(r.answers)).toEqual(['NGX-svc.Default.svc.cluster.LOCAL 30 A 10.96.240.115']);
  });

  it('answers NXDOMAIN with the zone SOA in authority', async () => {
    for (const ask of [udp, tcp]) {
      const r = await ask(dns.port, query('nope.default.svc.cluster.local', 'A'));
      expect(r.rcode).toBe('NXDOMAIN');
      expectClusterFlags(r);
      expect(r.answers).toEqual([]);
      expect(texts(r.authorities)).toEqual([SOA]);
    }
  });

  it('answers NODATA (NOERROR, no answers, SOA) for AAAA on an IPv4 Service', async () => {
    const r = await udp(dns.port, query('ngx-svc.default.svc.cluster.local', 'AAAA'));
    expect(r.rcode).toBe('NOERROR');
    expectClusterFlags(r);
    expect(r.answers).toEqual([]);
    expect(texts(r.authorities)).toEqual([SOA]);
  });

  it('answers TXT dns-version "1.1.0" with TTL 30 (the cache plugin caps every TTL)', async () => {
    const r = await udp(dns.port, query('dns-version.cluster.local', 'TXT'));
    expect(r.rcode).toBe('NOERROR');
    expectClusterFlags(r);
    expect(texts(r.answers)).toEqual(['dns-version.cluster.local 30 TXT "1.1.0"']);
  });

  it('answers the apex SOA', async () => {
    const r = await udp(dns.port, query('cluster.local', 'SOA'));
    expect(r.rcode).toBe('NOERROR');
    expectClusterFlags(r);
    expect(texts(r.answers)).toEqual([SOA]);
  });

  it('answers SRV with the targets\' addresses in additional', async () => {
    const r = await tcp(dns.port, query('_http._tcp.big.default.svc.cluster.local', 'SRV'));
    expect(r.rcode).toBe('NOERROR');
    expectClusterFlags(r);
    expect(r.answers).toHaveLength(BIG);
    // Weight: floor(100 * 100 / (100 * 60)) = 1.
    for (const a of r.answers ?? []) expect(a).toMatchObject({ type: 'SRV', ttl: 30, data: { priority: 0, weight: 1, port: 80 } });
    const targets = (r.answers ?? []).map((a) => (a.type === 'SRV' ? a.data.target : '')).sort();
    expect(targets[0]).toBe('10-10-0-1.big.default.svc.cluster.local');
    const glue = aRecords(r.additionals);
    expect(glue.map((a) => a.name).sort()).toEqual(targets);
    for (const a of glue) expect(a.data).toBe(a.name.split('.')[0]!.replaceAll('-', '.'));
  });

  it('answers PTR for a ClusterIP', async () => {
    const r = await udp(dns.port, query('115.240.96.10.in-addr.arpa', 'PTR'));
    expect(r.rcode).toBe('NOERROR');
    expectClusterFlags(r);
    expect(texts(r.answers)).toEqual(['115.240.96.10.in-addr.arpa 30 PTR ngx-svc.default.svc.cluster.local']);
  });

  it('refuses zone transfers', async () => {
    const r = await tcp(dns.port, query('cluster.local', 'AXFR'));
    expect(r.rcode).toBe('REFUSED');
    expect(r.answers).toEqual([]);
  });

  it('never asks the upstream about cluster names', () => {
    expect(upstream.asked.filter((n) => n.includes('cluster.local'))).toEqual([]);
  });
});

describe('big answers', () => {
  const name = 'big.default.svc.cluster.local';
  const all = Array.from({ length: BIG }, (_, i) => `10.10.${i >> 8}.${(i & 255) + 1}`).sort();
  const addrs = (r: Reply): string[] => aRecords(r.answers).map((a) => a.data);

  it('sets TC over UDP without EDNS and stays within 512 bytes', async () => {
    const r = await udp(dns.port, query(name, 'A'));
    expect(r.rcode).toBe('NOERROR');
    expect(r.flag_tc).toBe(true);
    expect(r.flag_aa).toBe(true);
    expect(r.bytes).toBeLessThanOrEqual(512);
    expect(addrs(r).length).toBeLessThan(BIG);
  });

  it('gives the complete answer over TCP', async () => {
    const r = await tcp(dns.port, query(name, 'A'));
    expect(r.rcode).toBe('NOERROR');
    expectClusterFlags(r);
    expect(addrs(r).sort()).toEqual(all);
  });

  it('gives the complete answer over UDP when EDNS allows 4096 bytes, echoing the OPT record', async () => {
    const r = await udp(dns.port, query(name, 'A', { edns: 4096 }));
    expect(r.flag_tc).toBe(false);
    expect(addrs(r).sort()).toEqual(all);
    expect(r.additionals?.filter((a) => a.type === 'OPT')).toHaveLength(1);
  });

  it('shuffles the addresses from reply to reply (loadbalance)', async () => {
    const orders = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const r = await tcp(dns.port, query(name, 'A'));
      expect(addrs(r).sort()).toEqual(all);
      orders.add(addrs(r).join(','));
    }
    expect(orders.size).toBeGreaterThan(1);
  });
});

describe('forwarding', () => {
  it('forwards names outside the zone and passes on the upstream answer and flags (ra, no aa), TTL capped at 30', async () => {
    const r = await udp(dns.port, query('example.com', 'A'));
    expect(r.rcode).toBe('NOERROR');
    expect(r.flag_qr).toBe(true);
    expect(r.flag_ra).toBe(true);
    expect(r.flag_aa).toBe(false);
    expect(r.answers).toHaveLength(1);
    expect(r.answers?.[0]).toMatchObject({ name: 'example.com', type: 'A', data: '203.0.113.10' });
    expect(aRecords(r.answers)[0]?.ttl).toBeLessThanOrEqual(30);
    expect(upstream.asked).toContain('example.com A');
  });

  it('serves a repeated outside name from the cache: the upstream is asked once, the TTL stays within 30', async () => {
    await udp(dns.port, query('example.com', 'A'));
    const before = upstream.asked.length;
    const r = await udp(dns.port, query('example.com', 'A'));
    expect(upstream.asked.length).toBe(before);
    expect(r.rcode).toBe('NOERROR');
    expect(r.flag_ra).toBe(true);
    expect(aRecords(r.answers).map((a) => a.data)).toEqual(['203.0.113.10']);
    expect(aRecords(r.answers)[0]?.ttl).toBeLessThanOrEqual(30);
  });

  it("passes on the upstream's NXDOMAIN", async () => {
    const r = await udp(dns.port, query('nope.example.org', 'A'));
    expect(r.rcode).toBe('NXDOMAIN');
    expect(r.flag_ra).toBe(true);
    expect(r.flag_aa).toBe(false);
  });

  it('hands reverse names it has nothing for to the upstream (fallthrough)', async () => {
    const r = await udp(dns.port, query('1.10.168.192.in-addr.arpa', 'PTR'));
    expect(r.rcode).toBe('NXDOMAIN');
    expect(r.flag_aa).toBe(false);
    expect(r.flag_ra).toBe(true);
    expect(upstream.asked).toContain('1.10.168.192.in-addr.arpa PTR');
  });

  it('answers an ExternalName with the CNAME plus the target resolved upstream', async () => {
    const r = await udp(dns.port, query('outside.default.svc.cluster.local', 'A'));
    expect(r.rcode).toBe('NOERROR');
    expect(r.flag_aa).toBe(true);
    expect(r.flag_ra).toBe(false);
    expect(texts(r.answers)).toEqual(['outside.default.svc.cluster.local 30 CNAME example.com', 'example.com 30 A 203.0.113.10']);
  });

  it('answers SERVFAIL at once (well before the client gives up) when there is no upstream', async () => {
    const r = await udp(lonely.port, query('example.com', 'A'), TIMEOUT_MS);
    expect(r.rcode).toBe('SERVFAIL');
    expect(r.flag_qr).toBe(true);
    expect(r.answers).toEqual([]);
  });

  it('answers an ExternalName with just the CNAME when the upstream fails', async () => {
    const r = await udp(lonely.port, query('outside.default.svc.cluster.local', 'A'), TIMEOUT_MS);
    expect(r.rcode).toBe('NOERROR');
    expect(texts(r.answers)).toEqual(['outside.default.svc.cluster.local 30 CNAME example.com']);
  });

  it('still answers cluster names without an upstream', async () => {
    const r = await udp(lonely.port, query('ngx-svc.default.svc.cluster.local', 'A'));
    expect(texts(r.answers)).toEqual(['ngx-svc.default.svc.cluster.local 30 A 10.96.240.115']);
  });
});

describe('zone changes and readiness', () => {
  it('shows a changed Service at once (cluster names are not cached)', async () => {
    const s = await startDnsServer({ listen: { host: '127.0.0.1', port: 0 }, zoneConfig: ZONE_CONFIG, zone: buildZone(objects(), ZONE_CONFIG), loopCheck: false });
    extra.push(s);
    const before = await udp(s.port, query('ngx-svc.default.svc.cluster.local', 'A'));
    expect(texts(before.answers)).toEqual(['ngx-svc.default.svc.cluster.local 30 A 10.96.240.115']);
    s.setZone(buildZone(objects('10.96.1.2'), ZONE_CONFIG));
    const after = await udp(s.port, query('ngx-svc.default.svc.cluster.local', 'A'));
    expect(texts(after.answers)).toEqual(['ngx-svc.default.svc.cluster.local 30 A 10.96.1.2']);
  });

  it('answers SERVFAIL for cluster names and reports not ready until the first sync', async () => {
    const s = await startDnsServer({ listen: { host: '127.0.0.1', port: 0 }, zoneConfig: ZONE_CONFIG, ready: { host: '127.0.0.1', port: 0 }, loopCheck: false });
    extra.push(s);
    const r = await udp(s.port, query('ngx-svc.default.svc.cluster.local', 'A'));
    expect(r.rcode).toBe('SERVFAIL');
    expect((await httpGet(s.readyPort!, '/ready')).status).toBe(503);
    s.setZone(buildZone(objects(), ZONE_CONFIG));
    expect((await httpGet(s.readyPort!, '/ready')).status).toBe(200);
    const ok = await udp(s.port, query('ngx-svc.default.svc.cluster.local', 'A'));
    expect(ok.rcode).toBe('NOERROR');
  });

  it('reports ready once synced', async () => {
    expect(await httpGet(dns.readyPort!, '/ready')).toEqual({ status: 200, body: 'OK' });
  });
});

describe('metrics', () => {
  it('counts requests and responses by rcode on /metrics', async () => {
    // Make sure there is at least one of each, whatever ran before.
    await udp(dns.port, query('ngx-svc.default.svc.cluster.local', 'A'));
    await tcp(dns.port, query('ngx-svc.default.svc.cluster.local', 'A'));
    await udp(dns.port, query('nope.default.svc.cluster.local', 'A'));
    expect(dns.metricsPort).toBeTypeOf('number');
    const { status, body } = await httpGet(dns.metricsPort!, '/metrics');
    expect(status).toBe(200);
    expect(body).toMatch(/^coredns_dns_requests_total\{[^}]*proto="udp"[^}]*type="A"[^}]*\} [1-9]\d*$/m);
    expect(body).toMatch(/^coredns_dns_requests_total\{[^}]*proto="tcp"[^}]*type="A"[^}]*\} [1-9]\d*$/m);
    expect(body).toMatch(/^coredns_dns_responses_total\{[^}]*rcode="NOERROR"[^}]*\} [1-9]\d*$/m);
    expect(body).toMatch(/^coredns_dns_responses_total\{[^}]*rcode="NXDOMAIN"[^}]*\} [1-9]\d*$/m);
    expect(body).toContain('# TYPE coredns_dns_requests_total counter');
    expect(body).toContain('# TYPE coredns_dns_responses_total counter');
    expect(body).toContain('coredns_dns_request_duration_seconds_bucket');
  });

  it('counts SERVFAIL too', async () => {
    await udp(lonely.port, query('example.net', 'A'));
    expect(lonely.metricsText()).toMatch(/^coredns_dns_responses_total\{[^}]*rcode="SERVFAIL"[^}]*\} [1-9]\d*$/m);
  });
});
