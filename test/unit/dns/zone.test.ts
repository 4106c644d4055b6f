// The records the cluster DNS computes, against the Kubernetes DNS
// specification and CoreDNS's kubernetes plugin with kubeadm's Corefile
// (see shared/notes/dns.md). Pure: objects in, answers out.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/api/types.js';
import { buildZone, resolve, reverseName, type ZoneIndex } from '../../../src/dns/zone.js';
import { RCODE, TYPE } from '../../../src/dns/wire.js';

const svc = (name: string, spec: Record<string, unknown>, namespace = 'default'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec,
});
const slice = (service: string, endpoints: Array<{ ip: string; ready?: boolean; hostname?: string }>, ports: Array<{ name: string; port: number }>): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${service}-abcde`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true }, ...(e.hostname ? { hostname: e.hostname } : {}) })),
  ports: ports.map((p) => ({ ...p, protocol: 'TCP' })),
});

function zone(synced = true): ZoneIndex {
  return buildZone(
    {
      namespaces: ['default', 'kube-system'],
      synced,
      serial: 1700000000,
      services: [
        svc('ngx-svc', { clusterIP: '10.96.5.5', clusterIPs: ['10.96.5.5'], ports: [{ port: 80, protocol: 'TCP' }] }),
        svc('web', { clusterIP: '10.96.5.6', clusterIPs: ['10.96.5.6'], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }),
        svc('db', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }),
        svc('empty', { clusterIP: 'None', clusterIPs: ['None'] }),
        svc('outside', { type: 'ExternalName', externalName: 'example.com' }),
      ],
      endpointSlices: [
        slice('db', [{ ip: '10.10.0.7' }, { ip: '10.10.1.8', hostname: 'db-1' }, { ip: '10.10.1.9', ready: false }], [{ name: 'pg', port: 5432 }]),
        slice('web', [{ ip: '10.10.0.3' }], [{ name: 'http', port: 80 }]),
      ],
    },
    { domain: 'cluster.local' },
  );
}

const ask = (name: string, type: number, z = zone()) => resolve({ name, type }, z);
const data = (r: ReturnType<typeof ask>) => r.answers.map((a) => `${a.name} ${a.ttl} ${a.type} ${a.type === 'RAW' ? a.rdata.toString('hex') : typeof a.data === 'string' ? a.data : JSON.stringify(a.data)}`);

describe('cluster DNS records', () => {
  it('answers a ClusterIP Service with its address, authoritative, TTL 30', () => {
    const r = ask('ngx-svc.default.svc.cluster.local.', TYPE.A);
    expect(r.action).toBe('answer');
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.authoritative).toBe(true);
    expect(data(r)).toEqual(['ngx-svc.default.svc.cluster.local. 30 A 10.96.5.5']);
  });

  it('matches case-insensitively and answers with the name as asked', () => {
    expect(data(ask('NGX-svc.Default.SVC.cluster.local.', TYPE.A))).toEqual(['NGX-svc.Default.SVC.cluster.local. 30 A 10.96.5.5']);
  });

  it('answers NODATA with the SOA for a type the name lacks', () => {
    const r = ask('ngx-svc.default.svc.cluster.local.', TYPE.AAAA);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.answers).toEqual([]);
    expect(r.authority[0]).toMatchObject({
      name: 'cluster.local.',
      type: 'SOA',
      ttl: 30,
      data: { mname: 'ns.dns.cluster.local.', rname: 'hostmaster.cluster.local.', serial: 1700000000, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 },
    });
  });

  it('answers NXDOMAIN with the SOA for names that do not exist', () => {
    for (const name of ['nope.default.svc.cluster.local.', 'ngx-svc.nope.svc.cluster.local.', 'ngx-svc.cluster.local.', 'a.b.c.ngx-svc.default.svc.cluster.local.']) {
      const r = ask(name, TYPE.A);
      expect(r.rcode, name).toBe(RCODE.NXDOMAIN);
      expect(r.authority[0]?.type, name).toBe('SOA');
    }
  });

  it('answers NODATA for a namespace that exists and NXDOMAIN for one that does not', () => {
    expect(ask('default.svc.cluster.local.', TYPE.A).rcode).toBe(RCODE.NOERROR);
    expect(ask('nope.svc.cluster.local.', TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
  });

  it('answers a headless Service with one A per ready endpoint, NXDOMAIN without any', () => {
    expect(data(ask('db.default.svc.cluster.local.', TYPE.A)).sort()).toEqual([
      'db.default.svc.cluster.local. 30 A 10.10.0.7',
      'db.default.svc.cluster.local. 30 A 10.10.1.8',
    ]);
    expect(ask('empty.default.svc.cluster.local.', TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
  });

  it('names endpoints by hostname, else by dashed IP', () => {
    expect(data(ask('db-1.db.default.svc.cluster.local.', TYPE.A))).toEqual(['db-1.db.default.svc.cluster.local. 30 A 10.10.1.8']);
    expect(data(ask('10-10-0-7.db.default.svc.cluster.local.', TYPE.A))).toEqual(['10-10-0-7.db.default.svc.cluster.local. 30 A 10.10.0.7']);
    expect(ask('10-10-1-9.db.default.svc.cluster.local.', TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
  });

  it('answers SRV for named ports: the Service port for ClusterIP, each endpoint for headless', () => {
    const r = ask('_http._tcp.web.default.svc.cluster.local.', TYPE.SRV);
    expect(r.answers).toEqual([{ name: '_http._tcp.web.default.svc.cluster.local.', type: 'SRV', ttl: 30, data: { priority: 0, weight: 100, port: 8080, target: 'web.default.svc.cluster.local.' } }]);
    expect(r.additional).toEqual([{ name: 'web.default.svc.cluster.local.', type: 'A', ttl: 30, data: '10.96.5.6' }]);
    const h = ask('_pg._tcp.db.default.svc.cluster.local.', TYPE.SRV);
    expect(h.answers.map((a) => (a.type === 'SRV' ? a.data : undefined)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      { priority: 0, weight: 50, port: 5432, target: '10-10-0-7.db.default.svc.cluster.local.' },
      { priority: 0, weight: 50, port: 5432, target: 'db-1.db.default.svc.cluster.local.' },
    ]);
    expect(ask('_nope._tcp.web.default.svc.cluster.local.', TYPE.SRV).rcode).toBe(RCODE.NXDOMAIN);
  });

  it('answers ExternalName with a CNAME and has the server chase the outside target', () => {
    const r = ask('outside.default.svc.cluster.local.', TYPE.A);
    expect(data(r)).toEqual(['outside.default.svc.cluster.local. 30 CNAME example.com.']);
    expect(r.chase).toEqual({ name: 'example.com.', type: TYPE.A });
  });

  it('answers PTR for a ClusterIP and for a headless endpoint; other reverse names go on to forward', () => {
    expect(data(ask(reverseName('10.96.5.5'), TYPE.PTR))).toEqual(['5.5.96.10.in-addr.arpa. 30 PTR ngx-svc.default.svc.cluster.local.']);
    expect(data(ask(reverseName('10.10.1.8'), TYPE.PTR))).toEqual(['8.1.10.10.in-addr.arpa. 30 PTR db-1.db.default.svc.cluster.local.']);
    expect(ask(reverseName('192.168.10.1'), TYPE.PTR).action).toBe('forward');
  });

  it('answers pod names (pods insecure) for an existing namespace only', () => {
    expect(data(ask('10-10-1-86.default.pod.cluster.local.', TYPE.A))).toEqual(['10-10-1-86.default.pod.cluster.local. 30 A 10.10.1.86']);
    expect(ask('10-10-1-86.nope.pod.cluster.local.', TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
    expect(ask('not-an-ip.default.pod.cluster.local.', TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
  });

  it('answers the apex SOA and the schema version', () => {
    expect(ask('cluster.local.', TYPE.SOA).answers[0]?.type).toBe('SOA');
    const v = ask('dns-version.cluster.local.', TYPE.TXT);
    expect(v.answers).toEqual([{ name: 'dns-version.cluster.local.', type: 'TXT', ttl: 28800, data: ['1.1.0'] }]);
  });

  it('leaves names outside the cluster to forward', () => {
    expect(ask('example.com.', TYPE.A).action).toBe('forward');
  });

  it('answers SERVFAIL for name errors until the first sync', () => {
    expect(ask('nope.default.svc.cluster.local.', TYPE.A, zone(false)).rcode).toBe(RCODE.SERVFAIL);
  });
});
