// The DNS server on 127.0.0.1, asked over real UDP and TCP sockets; replies
// decoded with dns-packet, an independent codec, so ours is checked too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Packet } from 'dns-packet';
import type { KubeObject } from '../../../src/api/types.js';
import { startDnsServer, type DnsServer } from '../../../src/dns/server.js';
import { buildZone } from '../../../src/dns/zone.js';

const objects = (backends: number): { services: KubeObject[]; endpointSlices: KubeObject[]; namespaces: string[] } => ({
  namespaces: ['default'],
  services: [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ngx-svc', namespace: 'default' }, spec: { clusterIP: '10.96.5.5', clusterIPs: ['10.96.5.5'], ports: [{ port: 80 }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] } },
  ],
  endpointSlices: [
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'big-x', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: backends }, (_, i) => ({ addresses: [`10.10.${i >> 8}.${(i & 255) + 1}`], conditions: { ready: true } })),
      ports: [{ port: 80, protocol: 'TCP' }],
    },
  ],
});

const ZONE = { domain: 'cluster.local' };
let id = 1;
const query = (name: string, type: dnsPacket.RecordType, edns = false): Buffer =>
  dnsPacket.encode({
    type: 'query',
    id: id++,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    ...(edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as dnsPacket.Answer] } : {}),
  });

function udp(port: number, q: Buffer, timeoutMs = 2000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error('no UDP reply'));
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(dnsPacket.decode(m));
    });
    s.send(q, port, '127.0.0.1');
  });
}

function tcp(port: number, q: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error('no TCP reply'));
    }, 2000);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(t);
        s.destroy();
        resolve(dnsPacket.streamDecode(buf));
      }
    });
    s.on('error', reject);
    s.write(dnsPacket.streamEncode(dnsPacket.decode(q)));
  });
}

const flag = (p: Packet, f: number) => ((p.flags ?? 0) & f) !== 0;
/** dns-packet decodes the rcode but its types leave it out. */
type Reply = Packet & { rcode?: string };

describe('the DNS server', () => {
  let dns: DnsServer;
  let upstream: dgram.Socket;
  let noUpstream: DnsServer;

  beforeAll(async () => {
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (m, from) => {
      const q = dnsPacket.decode(m);
      const reply = dnsPacket.encode({
        type: 'response',
        id: q.id ?? 0,
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
        questions: q.questions ?? [],
        answers: q.questions?.[0]?.name === 'example.com' ? [{ type: 'A', name: 'example.com', ttl: 300, data: '203.0.113.10' }] : [],
      });
      upstream.send(reply, from.port, from.address);
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', r));
    const zone = buildZone({ ...objects(60) }, ZONE);
    dns = await startDnsServer({
      listen: { host: '127.0.0.1', port: 0 },
      zoneConfig: ZONE,
      zone,
      upstreams: [{ host: '127.0.0.1', port: upstream.address().port }],
      metrics: { host: '127.0.0.1', port: 0 },
      loopCheck: false,
    });
    noUpstream = await startDnsServer({ listen: { host: '127.0.0.1', port: 0 }, zoneConfig: ZONE, zone, upstreams: [], loopCheck: false });
  });

  afterAll(async () => {
    await dns?.close();
    await noUpstream?.close();
    upstream?.close();
  });

  it('answers cluster names authoritatively, without recursion available, over UDP and TCP', async () => {
    for (const ask of [udp, tcp]) {
      const r = await ask(dns.port, query('ngx-svc.default.svc.cluster.local', 'A'));
      expect(r.rcode).toBe('NOERROR');
      expect(flag(r, dnsPacket.AUTHORITATIVE_ANSWER)).toBe(true);
      expect(flag(r, dnsPacket.RECURSION_DESIRED)).toBe(true);
      expect(flag(r, dnsPacket.RECURSION_AVAILABLE)).toBe(false);
      expect(r.answers).toEqual([expect.objectContaining({ name: 'ngx-svc.default.svc.cluster.local', type: 'A', ttl: 30, data: '10.96.5.5' })]);
    }
  });

  it('answers NXDOMAIN and NODATA with the zone SOA in authority', async () => {
    const nx = await udp(dns.port, query('nope.default.svc.cluster.local', 'A'));
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.authorities?.[0]).toMatchObject({ type: 'SOA', name: 'cluster.local', ttl: 30 });
    const nodata = await udp(dns.port, query('ngx-svc.default.svc.cluster.local', 'AAAA'));
    expect(nodata.rcode).toBe('NOERROR');
    expect(nodata.answers).toEqual([]);
    expect(nodata.authorities?.[0]?.type).toBe('SOA');
  });

  it('truncates a big answer over plain UDP and gives all of it over TCP', async () => {
    const small = await udp(dns.port, query('big.default.svc.cluster.local', 'A'));
    expect(flag(small, dnsPacket.TRUNCATED_RESPONSE)).toBe(true);
    expect(small.answers?.length ?? 0).toBeLessThan(60);
    const full = await tcp(dns.port, query('big.default.svc.cluster.local', 'A'));
    expect(flag(full, dnsPacket.TRUNCATED_RESPONSE)).toBe(false);
    expect(full.answers).toHaveLength(60);
  });

  it("forwards other names to the upstream and passes on its answer and flags", async () => {
    const r = await udp(dns.port, query('example.com', 'A'));
    expect(r.rcode).toBe('NOERROR');
    expect(flag(r, dnsPacket.RECURSION_AVAILABLE)).toBe(true);
    expect(flag(r, dnsPacket.AUTHORITATIVE_ANSWER)).toBe(false);
    expect(r.answers).toEqual([expect.objectContaining({ name: 'example.com', type: 'A', data: '203.0.113.10' })]);
  });

  it('fails a name outside the cluster at once when there is no upstream', async () => {
    const r = await udp(noUpstream.port, query('example.com', 'A'), 1000);
    expect(r.rcode).toBe('SERVFAIL');
  });

  it('counts requests and responses by rcode in its Prometheus metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${dns.metricsPort}/metrics`)).text();
    expect(text).toMatch(/^coredns_dns_requests_total\{.*type="A".*\} [1-9]\d*/m);
    expect(text).toMatch(/^coredns_dns_responses_total\{.*rcode="NXDOMAIN".*\} [1-9]\d*/m);
    expect(text).toContain('coredns_dns_request_duration_seconds_bucket');
  });
});
