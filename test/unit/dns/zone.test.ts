// The records the cluster DNS computes (src/dns/zone.ts), checked against the
// Kubernetes DNS specification 1.1.0 and CoreDNS's kubernetes plugin as
// kubeadm's Corefile configures it (shared/notes/dns.md §1, §2.2, §2.3).
// Pure: objects in, answers out; the server's TTL rewriting, shuffling and
// forwarding are tested in server.test.ts.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/api/types.js';
import { RCODE, TYPE, type RR } from '../../../src/dns/wire.js';
import { buildZone, resolve, reverseName, type Resolution, type ZoneConfig, type ZoneIndex } from '../../../src/dns/zone.js';

// ---- fixtures ---------------------------------------------------------------------

interface PortSpec {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number;
}

const svc = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec,
});

const clusterIP = (namespace: string, name: string, ip: string, ports: PortSpec[], extra: Record<string, unknown> = {}): KubeObject =>
  svc(namespace, name, { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: ports.map((p) => ({ protocol: 'TCP', ...p })), ...extra });

const headless = (namespace: string, name: string, ports: PortSpec[], extra: Record<string, unknown> = {}): KubeObject =>
  svc(namespace, name, { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: ports.map((p) => ({ protocol: 'TCP', ...p })), ...extra });

const externalName = (namespace: string, name: string, target: string): KubeObject => svc(namespace, name, { type: 'ExternalName', externalName: target });

interface EndpointSpec {
  ip: string;
  /** undefined: conditions.ready unset (counts as ready). */
  ready?: boolean;
  hostname?: string;
  pod?: string;
}

const endpointSlice = (
  namespace: string,
  service: string,
  endpoints: EndpointSpec[],
  ports: PortSpec[],
  sliceName = `${service}-abcde`,
  addressType = 'IPv4',
): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: sliceName, namespace, labels: { 'kubernetes.io/service-name': service } },
  addressType,
  endpoints: endpoints.map((e) => ({
    addresses: [e.ip],
    conditions: e.ready === undefined ? {} : { ready: e.ready },
    ...(e.hostname ? { hostname: e.hostname } : {}),
    ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace } } : {}),
  })),
  ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
});

const SERIAL = 1_700_000_000;

const OBJECTS = {
  namespaces: ['default', 'kube-system', 'empty-ns'],
  serial: SERIAL,
  services: [
    // The course's Service: one unnamed port.
    clusterIP('default', 'ngx-svc', '10.96.240.115', [{ port: 80, targetPort: 80 }]),
    // Two named ports; the endpoints listen elsewhere (targetPort).
    clusterIP('default', 'web', '10.96.5.6', [
      { name: 'http', port: 8080, targetPort: 80 },
      { name: 'metrics', port: 9100, targetPort: 9100 },
    ]),
    headless('default', 'web-headless', [{ name: 'http', port: 8080, targetPort: 80 }]),
    // Headless, service port 5432, endpoints on 15432.
    headless('default', 'db', [{ name: 'pg', port: 5432, targetPort: 15432 }]),
    headless('default', 'all-unready', [{ name: 'http', port: 80 }]),
    headless('default', 'no-slices', [{ name: 'http', port: 80 }]),
    headless('default', 'tolerant', [{ name: 'http', port: 80 }], { publishNotReadyAddresses: true }),
    clusterIP('default', 'lonely', '10.96.7.7', [{ name: 'http', port: 80 }]),
    clusterIP('default', 'v6', 'fd00:10:96::a', [{ name: 'http', port: 80 }], { ipFamilies: ['IPv6'] }),
    externalName('default', 'outside', 'example.com'),
    externalName('default', 'alias', 'ngx-svc.default.svc.cluster.local'),
    clusterIP('kube-system', 'kube-dns', '10.96.0.10', [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      { name: 'metrics', port: 9153, protocol: 'TCP' },
    ]),
  ],
  endpointSlices: [
    endpointSlice('default', 'ngx-svc', [{ ip: '10.10.0.232', ready: true }, { ip: '10.10.1.86', ready: true }], [{ port: 80 }]),
    endpointSlice('default', 'web', [{ ip: '10.10.0.3', ready: true }], [
      { name: 'http', port: 80 },
      { name: 'metrics', port: 9100 },
    ]),
    // The same pod behind a second (headless) Service.
    endpointSlice('default', 'web-headless', [{ ip: '10.10.0.3', ready: true }], [{ name: 'http', port: 80 }]),
    endpointSlice('default', 'db', [
      { ip: '10.10.0.7', ready: true },
      // conditions.ready unset: ready.
      { ip: '10.10.1.8', hostname: 'db-1' },
      { ip: '10.10.1.9', ready: false, hostname: 'db-2' },
    ], [{ name: 'pg', port: 15432 }]),
    endpointSlice('default', 'all-unready', [{ ip: '10.10.2.1', ready: false }, { ip: '10.10.2.2', ready: false }], [{ name: 'http', port: 80 }]),
    endpointSlice('default', 'tolerant', [{ ip: '10.10.3.1', ready: false }], [{ name: 'http', port: 80 }]),
    endpointSlice('kube-system', 'kube-dns', [{ ip: '10.10.0.2', ready: true }], [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      { name: 'metrics', port: 9153, protocol: 'TCP' },
    ]),
  ],
};

const CONFIG: ZoneConfig = { domain: 'cluster.local' };

function zone(over: { synced?: boolean; config?: Partial<ZoneConfig> } = {}): ZoneIndex {
  return buildZone({ ...OBJECTS, synced: over.synced ?? true }, { ...CONFIG, ...over.config });
}

const ZONE = zone();
const ask = (name: string, type: number, z: ZoneIndex = ZONE): Resolution => resolve({ name, type }, z);

/** dig-like text of records, e.g. "ngx-svc.default.svc.cluster.local. 30 A 10.96.240.115". */
function text(rr: RR): string {
  switch (rr.type) {
    case 'A':
    case 'AAAA':
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return `${rr.name} ${rr.ttl} ${rr.type} ${rr.data}`;
    case 'SRV':
      return `${rr.name} ${rr.ttl} SRV ${rr.data.priority} ${rr.data.weight} ${rr.data.port} ${rr.data.target}`;
    case 'TXT':
      return `${rr.name} ${rr.ttl} TXT ${rr.data.map((s) => JSON.stringify(s)).join(' ')}`;
    case 'SOA': {
      const d = rr.data;
      return `${rr.name} ${rr.ttl} SOA ${d.mname} ${d.rname} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    }
    case 'MX':
      return `${rr.name} ${rr.ttl} MX ${rr.data.preference} ${rr.data.exchange}`;
    case 'RAW':
      return `${rr.name} ${rr.ttl} TYPE${rr.rrtype} ${rr.rdata.toString('hex')}`;
  }
}

const answers = (r: Resolution): string[] => r.answers.map(text);
const sorted = (xs: string[]): string[] => [...xs].sort();

const APEX_SOA = `cluster.local. 30 SOA ns.dns.cluster.local. hostmaster.cluster.local. ${SERIAL} 7200 1800 86400 30`;

/** A name error: authoritative NXDOMAIN, no answers, the zone SOA in authority. */
function expectNxdomain(r: Resolution, what: string): void {
  expect(r.action, what).toBe('answer');
  expect(r.rcode, what).toBe(RCODE.NXDOMAIN);
  expect(r.authoritative, what).toBe(true);
  expect(r.answers, what).toEqual([]);
  expect(r.authority.map(text), what).toEqual([APEX_SOA]);
}

/** NODATA: authoritative NOERROR, no answers, the zone SOA in authority. */
function expectNodata(r: Resolution, what: string): void {
  expect(r.action, what).toBe('answer');
  expect(r.rcode, what).toBe(RCODE.NOERROR);
  expect(r.authoritative, what).toBe(true);
  expect(r.answers, what).toEqual([]);
  expect(r.authority.map(text), what).toEqual([APEX_SOA]);
}

// ---- tests ------------------------------------------------------------------------

describe('ClusterIP Services', () => {
  it('answers A with the ClusterIP, authoritative, NOERROR, TTL 30', () => {
    const r = ask('ngx-svc.default.svc.cluster.local.', TYPE.A);
    expect(r.action).toBe('answer');
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.authoritative).toBe(true);
    expect(r.zone).toBe('cluster.local.');
    expect(answers(r)).toEqual(['ngx-svc.default.svc.cluster.local. 30 A 10.96.240.115']);
    expect(r.authority).toEqual([]);
    expect(r.chase).toBeUndefined();
  });

  it('accepts the name without the trailing dot', () => {
    expect(answers(ask('ngx-svc.default.svc.cluster.local', TYPE.A))).toEqual(['ngx-svc.default.svc.cluster.local. 30 A 10.96.240.115']);
  });

  it('answers AAAA on an IPv4 Service with NODATA: NOERROR, no answers, the SOA in authority', () => {
    expectNodata(ask('ngx-svc.default.svc.cluster.local.', TYPE.AAAA), 'AAAA');
  });

  it('answers AAAA (and NODATA for A) for an IPv6 ClusterIP', () => {
    expect(answers(ask('v6.default.svc.cluster.local.', TYPE.AAAA))).toEqual(['v6.default.svc.cluster.local. 30 AAAA fd00:10:96::a']);
    expectNodata(ask('v6.default.svc.cluster.local.', TYPE.A), 'A on v6');
  });

  it('answers NODATA for other types on an existing Service (TXT, MX, HINFO, SOA)', () => {
    for (const t of [TYPE.TXT, TYPE.MX, TYPE.HINFO, TYPE.SOA]) expectNodata(ask('ngx-svc.default.svc.cluster.local.', t), `type ${t}`);
  });

  it('resolves a ClusterIP Service without endpoints (answers ignore endpoints)', () => {
    expect(answers(ask('lonely.default.svc.cluster.local.', TYPE.A))).toEqual(['lonely.default.svc.cluster.local. 30 A 10.96.7.7']);
  });

  it('answers endpoint names under a ClusterIP Service too (dashed IP)', () => {
    expect(answers(ask('10-10-0-232.ngx-svc.default.svc.cluster.local.', TYPE.A))).toEqual(['10-10-0-232.ngx-svc.default.svc.cluster.local. 30 A 10.10.0.232']);
    expectNxdomain(ask('10-10-9-9.ngx-svc.default.svc.cluster.local.', TYPE.A), 'unknown endpoint');
  });
});

describe('headless Services', () => {
  it('answers one A per ready endpoint; not-ready endpoints are left out, ready unset counts as ready', () => {
    const r = ask('db.default.svc.cluster.local.', TYPE.A);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.authoritative).toBe(true);
    expect(sorted(answers(r))).toEqual(['db.default.svc.cluster.local. 30 A 10.10.0.7', 'db.default.svc.cluster.local. 30 A 10.10.1.8']);
  });

  it('answers NXDOMAIN when no endpoint is ready, or there is no EndpointSlice at all', () => {
    expectNxdomain(ask('all-unready.default.svc.cluster.local.', TYPE.A), 'all unready');
    expectNxdomain(ask('no-slices.default.svc.cluster.local.', TYPE.A), 'no slices');
    expectNxdomain(ask('no-slices.default.svc.cluster.local.', TYPE.AAAA), 'no slices AAAA');
  });

  it('counts not-ready endpoints of a Service with publishNotReadyAddresses', () => {
    expect(answers(ask('tolerant.default.svc.cluster.local.', TYPE.A))).toEqual(['tolerant.default.svc.cluster.local. 30 A 10.10.3.1']);
  });

  it('answers per-endpoint names: the hostname if set, else the dashed IP', () => {
    expect(answers(ask('db-1.db.default.svc.cluster.local.', TYPE.A))).toEqual(['db-1.db.default.svc.cluster.local. 30 A 10.10.1.8']);
    expect(answers(ask('10-10-0-7.db.default.svc.cluster.local.', TYPE.A))).toEqual(['10-10-0-7.db.default.svc.cluster.local. 30 A 10.10.0.7']);
    // An endpoint with a hostname is not also known by its dashed IP.
    expectNxdomain(ask('10-10-1-8.db.default.svc.cluster.local.', TYPE.A), 'dashed IP of a named endpoint');
    // Not-ready endpoints have no names either.
    expectNxdomain(ask('db-2.db.default.svc.cluster.local.', TYPE.A), 'not-ready hostname');
    expectNxdomain(ask('10-10-1-9.db.default.svc.cluster.local.', TYPE.A), 'not-ready dashed IP');
  });

  it('answers NODATA for AAAA on an endpoint name with only an IPv4 address', () => {
    expectNodata(ask('db-1.db.default.svc.cluster.local.', TYPE.AAAA), 'AAAA endpoint');
  });
});

describe('SRV records', () => {
  it('ClusterIP: one record per named port, priority 0 weight 100, the Service port, target the Service; its A in additional', () => {
    const r = ask('_http._tcp.web.default.svc.cluster.local.', TYPE.SRV);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.authoritative).toBe(true);
    expect(answers(r)).toEqual(['_http._tcp.web.default.svc.cluster.local. 30 SRV 0 100 8080 web.default.svc.cluster.local.']);
    expect(r.additional.map(text)).toEqual(['web.default.svc.cluster.local. 30 A 10.96.5.6']);
  });

  it('headless: one record per ready endpoint, weight 50 each for two, port = the endpoint port, target = the endpoint name', () => {
    const r = ask('_pg._tcp.db.default.svc.cluster.local.', TYPE.SRV);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(sorted(answers(r))).toEqual([
      '_pg._tcp.db.default.svc.cluster.local. 30 SRV 0 50 15432 10-10-0-7.db.default.svc.cluster.local.',
      '_pg._tcp.db.default.svc.cluster.local. 30 SRV 0 50 15432 db-1.db.default.svc.cluster.local.',
    ]);
    expect(sorted(r.additional.map(text))).toEqual([
      '10-10-0-7.db.default.svc.cluster.local. 30 A 10.10.0.7',
      'db-1.db.default.svc.cluster.local. 30 A 10.10.1.8',
    ]);
  });

  it('matches the port name and the protocol, case-insensitively', () => {
    expect(answers(ask('_dns._udp.kube-dns.kube-system.svc.cluster.local.', TYPE.SRV))).toEqual([
      '_dns._udp.kube-dns.kube-system.svc.cluster.local. 30 SRV 0 100 53 kube-dns.kube-system.svc.cluster.local.',
    ]);
    expect(answers(ask('_dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local.', TYPE.SRV))).toEqual([
      '_dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local. 30 SRV 0 100 53 kube-dns.kube-system.svc.cluster.local.',
    ]);
    expect(answers(ask('_HTTP._TCP.web.default.svc.cluster.local.', TYPE.SRV))).toEqual([
      '_HTTP._TCP.web.default.svc.cluster.local. 30 SRV 0 100 8080 web.default.svc.cluster.local.',
    ]);
    // Right name, wrong protocol: NXDOMAIN.
    expectNxdomain(ask('_dns._tcp.kube-dns.kube-system.svc.cluster.local.', TYPE.SRV), 'dns over tcp');
    expectNxdomain(ask('_http._udp.web.default.svc.cluster.local.', TYPE.SRV), 'http over udp');
    expectNxdomain(ask('_nope._tcp.web.default.svc.cluster.local.', TYPE.SRV), 'unknown port name');
  });

  it('has no SRV for an unnamed port', () => {
    expectNxdomain(ask('_http._tcp.ngx-svc.default.svc.cluster.local.', TYPE.SRV), '_http on an unnamed port');
    expectNxdomain(ask('_80._tcp.ngx-svc.default.svc.cluster.local.', TYPE.SRV), '_80 on an unnamed port');
  });

  it('without _port._proto answers every port of the Service, weight shared out', () => {
    expect(sorted(answers(ask('web.default.svc.cluster.local.', TYPE.SRV)))).toEqual([
      'web.default.svc.cluster.local. 30 SRV 0 50 8080 web.default.svc.cluster.local.',
      'web.default.svc.cluster.local. 30 SRV 0 50 9100 web.default.svc.cluster.local.',
    ]);
    expect(sorted(answers(ask('kube-dns.kube-system.svc.cluster.local.', TYPE.SRV)))).toEqual([
      // (target, port) duplicates dropped: dns and dns-tcp are both 53.
      'kube-dns.kube-system.svc.cluster.local. 30 SRV 0 33 53 kube-dns.kube-system.svc.cluster.local.',
      'kube-dns.kube-system.svc.cluster.local. 30 SRV 0 33 9153 kube-dns.kube-system.svc.cluster.local.',
    ]);
  });

  it('answers A on an SRV name with the addresses behind it', () => {
    expect(answers(ask('_http._tcp.web.default.svc.cluster.local.', TYPE.A))).toEqual(['_http._tcp.web.default.svc.cluster.local. 30 A 10.96.5.6']);
  });
});

describe('ExternalName Services', () => {
  it('answers A with a CNAME to the target and asks the server to chase an outside target', () => {
    const r = ask('outside.default.svc.cluster.local.', TYPE.A);
    expect(r.action).toBe('answer');
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.authoritative).toBe(true);
    expect(answers(r)).toEqual(['outside.default.svc.cluster.local. 30 CNAME example.com.']);
    expect(r.chase).toEqual({ name: 'example.com.', type: TYPE.A });
    expect(ask('outside.default.svc.cluster.local.', TYPE.AAAA).chase).toEqual({ name: 'example.com.', type: TYPE.AAAA });
  });

  it('answers a CNAME query with just the CNAME, nothing to chase', () => {
    const r = ask('outside.default.svc.cluster.local.', TYPE.CNAME);
    expect(answers(r)).toEqual(['outside.default.svc.cluster.local. 30 CNAME example.com.']);
    expect(r.chase).toBeUndefined();
  });

  it('follows a target inside the cluster zone itself', () => {
    const r = ask('alias.default.svc.cluster.local.', TYPE.A);
    expect(answers(r)).toEqual([
      'alias.default.svc.cluster.local. 30 CNAME ngx-svc.default.svc.cluster.local.',
      'ngx-svc.default.svc.cluster.local. 30 A 10.96.240.115',
    ]);
    expect(r.chase).toBeUndefined();
  });

  it('answers NODATA for plain SRV and NXDOMAIN for _port._proto', () => {
    expectNodata(ask('outside.default.svc.cluster.local.', TYPE.SRV), 'SRV');
    expectNxdomain(ask('_http._tcp.outside.default.svc.cluster.local.', TYPE.SRV), '_http._tcp SRV');
  });
});

describe('reverse lookups (PTR)', () => {
  it('maps a ClusterIP to the Service name', () => {
    const r = ask('115.240.96.10.in-addr.arpa.', TYPE.PTR);
    expect(r.action).toBe('answer');
    expect(r.authoritative).toBe(true);
    expect(r.zone).toBe('in-addr.arpa.');
    expect(answers(r)).toEqual(['115.240.96.10.in-addr.arpa. 30 PTR ngx-svc.default.svc.cluster.local.']);
    expect(reverseName('10.96.240.115')).toBe('115.240.96.10.in-addr.arpa.');
  });

  it('maps a headless endpoint IP to the endpoint name', () => {
    expect(answers(ask(reverseName('10.10.1.8'), TYPE.PTR))).toEqual(['8.1.10.10.in-addr.arpa. 30 PTR db-1.db.default.svc.cluster.local.']);
    expect(answers(ask(reverseName('10.10.0.7'), TYPE.PTR))).toEqual(['7.0.10.10.in-addr.arpa. 30 PTR 10-10-0-7.db.default.svc.cluster.local.']);
  });

  it('gives one PTR per Service whose endpoints hold the IP', () => {
    expect(sorted(answers(ask(reverseName('10.10.0.3'), TYPE.PTR)))).toEqual([
      '3.0.10.10.in-addr.arpa. 30 PTR 10-10-0-3.web-headless.default.svc.cluster.local.',
      '3.0.10.10.in-addr.arpa. 30 PTR 10-10-0-3.web.default.svc.cluster.local.',
    ]);
  });

  it('maps an IPv6 ClusterIP through ip6.arpa', () => {
    const name = reverseName('fd00:10:96::a');
    expect(name).toBe(`a.${'0.'.repeat(19)}6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa.`);
    expect(answers(ask(name, TYPE.PTR))).toEqual([`${name} 30 PTR v6.default.svc.cluster.local.`]);
  });

  it('hands reverse names it has nothing for to forward (fallthrough in-addr.arpa ip6.arpa)', () => {
    for (const name of [reverseName('192.168.10.1'), reverseName('10.10.1.9'), '10.in-addr.arpa.', reverseName('2001:db8::1')]) {
      const r = ask(name, TYPE.PTR);
      expect(r.action, name).toBe('forward');
      expect(r.answers, name).toEqual([]);
    }
  });

  it('answers NXDOMAIN itself for reverse misses when fallthrough is off', () => {
    const r = ask(reverseName('192.168.10.1'), TYPE.PTR, zone({ config: { fallthrough: [] } }));
    expect(r.action).toBe('answer');
    expect(r.rcode).toBe(RCODE.NXDOMAIN);
    expect(r.authority.map((a) => a.name)).toEqual(['in-addr.arpa.']);
  });
});

describe('pod records (pods insecure)', () => {
  it('answers a-b-c-d.<ns>.pod.<zone> with the IP spelled in the name, no check that the pod exists', () => {
    expect(answers(ask('10-10-1-86.default.pod.cluster.local.', TYPE.A))).toEqual(['10-10-1-86.default.pod.cluster.local. 30 A 10.10.1.86']);
    expect(answers(ask('192-0-2-1.kube-system.pod.cluster.local.', TYPE.A))).toEqual(['192-0-2-1.kube-system.pod.cluster.local. 30 A 192.0.2.1']);
  });

  it('answers NXDOMAIN for a missing namespace or a label that is not an IP', () => {
    expectNxdomain(ask('10-10-1-86.nope.pod.cluster.local.', TYPE.A), 'missing namespace');
    expectNxdomain(ask('not-an-ip.default.pod.cluster.local.', TYPE.A), 'not an IP');
    expectNxdomain(ask('10-10-1-300.default.pod.cluster.local.', TYPE.A), 'octet out of range');
  });

  it('answers NODATA for AAAA on an IPv4 pod name', () => {
    expectNodata(ask('10-10-1-86.default.pod.cluster.local.', TYPE.AAAA), 'AAAA');
  });

  it('makes no PTR from pod records', () => {
    expect(ask(reverseName('10.10.9.9'), TYPE.PTR).action).toBe('forward');
  });

  it('answers NXDOMAIN with pods disabled', () => {
    expectNxdomain(ask('10-10-1-86.default.pod.cluster.local.', TYPE.A, zone({ config: { pods: 'disabled' } })), 'pods disabled');
  });
});

describe('names without records', () => {
  it('answers NODATA for <ns>.svc.<zone> when the namespace exists, NXDOMAIN when it does not', () => {
    expectNodata(ask('default.svc.cluster.local.', TYPE.A), 'default');
    expectNodata(ask('empty-ns.svc.cluster.local.', TYPE.A), 'namespace without Services');
    expectNxdomain(ask('nope.svc.cluster.local.', TYPE.A), 'missing namespace');
  });

  it('answers NODATA for the apex, svc.<zone> and pod.<zone>', () => {
    expectNodata(ask('cluster.local.', TYPE.A), 'apex A');
    expectNodata(ask('svc.cluster.local.', TYPE.A), 'svc');
    expectNodata(ask('pod.cluster.local.', TYPE.A), 'pod');
  });

  it('answers NXDOMAIN for unknown Services, unknown namespaces, names not ending in svc/pod, and too many labels', () => {
    for (const name of [
      'nope.default.svc.cluster.local.',
      'ngx-svc.nope.svc.cluster.local.',
      'ngx-svc.cluster.local.',
      'dns-version.cluster.local.',
      'ngx-svc.default.cluster.local.',
      'a.b.c.ngx-svc.default.svc.cluster.local.',
    ]) {
      expectNxdomain(ask(name, TYPE.A), name);
    }
  });

  it('answers TXT on names without records with NXDOMAIN, on an existing Service with NODATA', () => {
    expectNxdomain(ask('cluster.local.', TYPE.TXT), 'apex TXT');
    expectNxdomain(ask('svc.cluster.local.', TYPE.TXT), 'svc TXT');
    expectNxdomain(ask('default.svc.cluster.local.', TYPE.TXT), 'ns TXT');
    expectNodata(ask('ngx-svc.default.svc.cluster.local.', TYPE.TXT), 'service TXT');
  });

  it('answers SOA only at the apex; elsewhere NODATA', () => {
    expectNodata(ask('ngx-svc.default.svc.cluster.local.', TYPE.SOA), 'service SOA');
  });
});

describe('the zone apex, schema version and SOA', () => {
  it('answers the apex SOA with the CoreDNS fields', () => {
    const r = ask('cluster.local.', TYPE.SOA);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.authoritative).toBe(true);
    expect(answers(r)).toEqual([APEX_SOA]);
    expect(r.answers[0]).toEqual({
      name: 'cluster.local.',
      type: 'SOA',
      ttl: 30,
      data: { mname: 'ns.dns.cluster.local.', rname: 'hostmaster.cluster.local.', serial: SERIAL, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 },
    });
  });

  it('answers TXT dns-version.<zone> with "1.1.0"', () => {
    const r = ask('dns-version.cluster.local.', TYPE.TXT);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.authoritative).toBe(true);
    expect(r.answers).toEqual([{ name: 'dns-version.cluster.local.', type: 'TXT', ttl: 28800, data: ['1.1.0'] }]);
  });

  it('uses the configured TTL everywhere (ttl 5), the SOA minimum too', () => {
    const z = zone({ config: { ttl: 5 } });
    expect(answers(ask('ngx-svc.default.svc.cluster.local.', TYPE.A, z))).toEqual(['ngx-svc.default.svc.cluster.local. 5 A 10.96.240.115']);
    const nx = ask('nope.default.svc.cluster.local.', TYPE.A, z);
    expect(nx.authority[0]).toMatchObject({ ttl: 5, data: { minimum: 5 } });
  });

  it('answers NS at the apex with the Service whose endpoints hold our address, glue in additional', () => {
    const r = ask('cluster.local.', TYPE.NS, zone({ config: { localIPs: ['10.10.0.2'] } }));
    expect(answers(r)).toEqual(['cluster.local. 30 NS kube-dns.kube-system.svc.cluster.local.']);
    expect(r.additional.map(text)).toEqual(['kube-dns.kube-system.svc.cluster.local. 30 A 10.96.0.10']);
  });

  it('falls back to ns.dns.<zone> with the local address when no endpoint is ours', () => {
    const z = zone({ config: { localIPs: ['192.0.2.53'] } });
    const r = ask('cluster.local.', TYPE.NS, z);
    expect(answers(r)).toEqual(['cluster.local. 30 NS ns.dns.cluster.local.']);
    expect(r.additional.map(text)).toEqual(['ns.dns.cluster.local. 30 A 192.0.2.53']);
    expect(answers(ask('ns.dns.cluster.local.', TYPE.A, z))).toEqual(['ns.dns.cluster.local. 30 A 192.0.2.53']);
  });

  it('refuses zone transfers', () => {
    expect(ask('cluster.local.', TYPE.AXFR).action).toBe('refuse');
  });
});

describe('names outside the zones', () => {
  it('leaves them to forward', () => {
    for (const name of ['example.com.', 'www.example.com.', 'local.', 'cluster.local.example.com.', 'xcluster.local.']) {
      const r = ask(name, TYPE.A);
      expect(r.action, name).toBe('forward');
      expect(r.answers, name).toEqual([]);
    }
  });
});

describe('before the first sync', () => {
  const unsynced = zone({ synced: false });

  it('answers SERVFAIL (with the SOA) for name errors', () => {
    const r = ask('nope.default.svc.cluster.local.', TYPE.A, unsynced);
    expect(r.action).toBe('answer');
    expect(r.rcode).toBe(RCODE.SERVFAIL);
    expect(r.answers).toEqual([]);
    expect(ask('nope.svc.cluster.local.', TYPE.A, unsynced).rcode).toBe(RCODE.SERVFAIL);
  });

  it('still answers what it knows', () => {
    expect(answers(ask('ngx-svc.default.svc.cluster.local.', TYPE.A, unsynced))).toEqual(['ngx-svc.default.svc.cluster.local. 30 A 10.96.240.115']);
    expect(ask('ngx-svc.default.svc.cluster.local.', TYPE.AAAA, unsynced).rcode).toBe(RCODE.NOERROR);
  });

  it('still forwards names outside the zones and reverse misses', () => {
    expect(ask('example.com.', TYPE.A, unsynced).action).toBe('forward');
    expect(ask(reverseName('192.168.10.1'), TYPE.PTR, unsynced).action).toBe('forward');
  });

  it('an empty unsynced zone fails every cluster name', () => {
    const empty = buildZone({ services: [], endpointSlices: [], namespaces: [], synced: false }, CONFIG);
    expect(ask('ngx-svc.default.svc.cluster.local.', TYPE.A, empty).rcode).toBe(RCODE.SERVFAIL);
  });
});

describe('case', () => {
  it('matches names case-insensitively and answers with the owner spelled as asked', () => {
    const r = ask('NGX-Svc.Default.SVC.Cluster.Local.', TYPE.A);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(answers(r)).toEqual(['NGX-Svc.Default.SVC.Cluster.Local. 30 A 10.96.240.115']);
    expect(answers(ask('DB-1.DB.default.svc.cluster.local.', TYPE.A))).toEqual(['DB-1.DB.default.svc.cluster.local. 30 A 10.10.1.8']);
    expect(answers(ask('Dns-Version.Cluster.Local.', TYPE.TXT))).toEqual(['Dns-Version.Cluster.Local. 28800 TXT "1.1.0"']);
    expect(answers(ask('115.240.96.10.IN-ADDR.ARPA.', TYPE.PTR))).toEqual(['115.240.96.10.IN-ADDR.ARPA. 30 PTR ngx-svc.default.svc.cluster.local.']);
  });

  it('spells the zone of negative answers as asked too (CoreDNS keeps the query case)', () => {
    const r = ask('nope.default.svc.CLUSTER.local.', TYPE.A);
    expect(r.rcode).toBe(RCODE.NXDOMAIN);
    expect(r.zone).toBe('cluster.local.');
    expect(r.authority[0]?.name).toBe('CLUSTER.local.');
  });

  it('treats upper-case object names as lower case', () => {
    const z = buildZone(
      { namespaces: ['Prod'], services: [clusterIP('Prod', 'API', '10.96.9.9', [{ port: 80 }])], endpointSlices: [] },
      CONFIG,
    );
    expect(answers(ask('api.prod.svc.cluster.local.', TYPE.A, z))).toEqual(['api.prod.svc.cluster.local. 30 A 10.96.9.9']);
  });
});
