// Cluster DNS records, computed the way CoreDNS's kubernetes plugin computes
// them (plugin/kubernetes: handler.go, kubernetes.go, parse.go, reverse.go,
// ns.go; plugin/backend_lookup.go) for the kubernetes/dns specification 1.1.0.
// Pure: objects in, answers out. The server applies the cache plugin's TTL
// rules, EDNS, truncation and forwarding around it.
//
//   const zone = buildZone({services, endpointSlices, namespaces, serial, synced: true},
//                          {domain: 'cluster.local'});      // kubeadm's Corefile defaults
//   resolve({name: 'ngx-svc.default.svc.cluster.local.', type: TYPE.A, class: 1}, zone)
//   // {action: 'answer', rcode: 0, authoritative: true, answers: [A 10.96.240.115 ttl 30], ...}
//
// Behaviour kept from CoreDNS (v1.11-v1.14), including its corners:
// - a name is <svc>.<ns>.svc.<zone>, <endpoint>.<svc>.<ns>.svc.<zone> (any
//   Service, not only headless), _<port>._<proto>.<svc>.<ns>.svc.<zone>
//   (underscores optional) or <a-b-c-d>.<ns>.pod.<zone>; anything longer, or
//   not ending in svc/pod, is NXDOMAIN; the apex, svc.<zone>, pod.<zone> and
//   an existing <ns>.svc.<zone> are NODATA; a missing namespace is NXDOMAIN;
// - ClusterIP answers ignore endpoints; headless answers list the ready
//   endpoints (EndpointSlice conditions.ready true or unset) and are NXDOMAIN
//   without any; wildcard names (*) were removed in CoreDNS 1.9 and are not served;
// - `pods insecure` answers any well-formed IP label in an existing namespace;
// - TXT dns-version.<zone> is "1.1.0"; TXT on a name without records is NXDOMAIN;
// - SOA only at the apex (any other SOA query is NODATA, whether the name exists or not);
// - PTR: a ClusterIP match first, else one record per Service endpoint with that IP;
//   name errors in the reverse zones fall through to forward;
// - ExternalName: CNAME, and for A/AAAA the target's records (resolved by the
//   server through its own chain: `chase`); SRV on it is NODATA, _port._proto NXDOMAIN;
// - negative answers are authoritative with the zone SOA in authority, and
//   before the first sync name errors are SERVFAIL.
// One deliberate addition: an endpoint of a Service with
// publishNotReadyAddresses counts as ready even if its slice says otherwise
// (the EndpointSlice controller marks them ready; this keeps the spec's
// definition when it has not).

import { arr, int, isRecord, rec, str, type KubeObject } from '../api/types.js';
import { isSubDomain } from './names.js';
import { canonicalIP, formatIPv6, ipv6Bytes, isIPv4, isIPv6, lowerName, RCODE, TYPE, type RR } from './wire.js';

export type PodMode = 'disabled' | 'insecure';

export interface ZoneConfig {
  /** The cluster domain ("cluster.local"). */
  domain: string;
  /** Further zones the plugin is authoritative for; default in-addr.arpa and ip6.arpa, as kubeadm's Corefile. */
  reverseZones?: string[];
  /** Zones whose name errors go on to forward; default the reverse zones (`fallthrough in-addr.arpa ip6.arpa`). */
  fallthrough?: string[];
  /** Record TTL; default 30 (`ttl 30`; the plugin's own default is 5). */
  ttl?: number;
  /** Pod records; default insecure (`pods insecure`). */
  pods?: PodMode;
  /** The server's own addresses, for NS and ns.dns.<zone> (CoreDNS: its non-loopback listen addresses). */
  localIPs?: string[];
  /** `endpoint_pod_names`: endpoint labels from the pod name instead of the dashed IP. */
  endpointPodNames?: boolean;
}

export interface ClusterObjects {
  services: readonly KubeObject[];
  endpointSlices: readonly KubeObject[];
  /** Namespace objects or names: a name under a missing namespace is NXDOMAIN. */
  namespaces: ReadonlyArray<KubeObject | string>;
  /** The SOA serial: Unix time of the last Service/EndpointSlice change seen. */
  serial?: number;
  /** False until the first full list of every kind: name errors are then SERVFAIL. Default true. */
  synced?: boolean;
}

export interface ServicePort {
  name: string;
  protocol: string;
  /** -1: the sentinel CoreDNS adds when an object has no ports (A records, no SRV). */
  port: number;
}

export interface ServiceInfo {
  name: string;
  namespace: string;
  type: string;
  clusterIPs: string[];
  headless: boolean;
  externalName: string;
  ports: ServicePort[];
  publishNotReadyAddresses: boolean;
}

export interface EndpointAddress {
  ip: string;
  hostname: string;
  targetRefName: string;
}

/** One EndpointSlice's ready addresses, as CoreDNS's object.Endpoints. */
export interface EndpointsInfo {
  name: string;
  namespace: string;
  serviceName: string;
  addresses: EndpointAddress[];
  ports: ServicePort[];
}

interface NormalConfig {
  domain: string;
  zones: string[];
  fallthrough: string[];
  ttl: number;
  pods: PodMode;
  localIPs: string[];
  endpointPodNames: boolean;
}

export interface ZoneIndex {
  readonly config: Readonly<NormalConfig>;
  readonly synced: boolean;
  readonly serial: number;
  readonly namespaces: ReadonlySet<string>;
  /** Keyed "<name>.<namespace>". */
  readonly services: ReadonlyMap<string, ServiceInfo>;
  /** Keyed "<service>.<namespace>"; one entry per slice, sorted by slice name. */
  readonly endpoints: ReadonlyMap<string, readonly EndpointsInfo[]>;
  readonly servicesByIP: ReadonlyMap<string, readonly ServiceInfo[]>;
  readonly endpointsByIP: ReadonlyMap<string, readonly EndpointsInfo[]>;
}

export interface Resolution {
  /**
   * answer: the plugin wrote this reply. forward: not ours (outside the zones,
   * or a name error in a fallthrough zone): the next plugin answers.
   * refuse: zone transfer, REFUSED by the server.
   */
  action: 'answer' | 'forward' | 'refuse';
  rcode: number;
  authoritative: boolean;
  answers: RR[];
  authority: RR[];
  additional: RR[];
  /**
   * An ExternalName (or a chain ending in one) points outside the cluster
   * zone: the server resolves this name and type through its own chain and
   * appends that reply's answers after the CNAME (CoreDNS's upstream lookup).
   */
  chase?: { name: string; type: number };
  /** The zone that matched (lower case, FQDN), for action answer/refuse. */
  zone?: string;
}

export const DNS_SCHEMA_VERSION = '1.1.0';
const SCHEMA_TXT_TTL = 28800;
const MAX_CNAME_CHAIN = 10;

// ---- building the index -----------------------------------------------------------

function normalZone(z: string): string {
  const l = lowerName(z.trim());
  if (l === '' || l === '.') return '.';
  return l.endsWith('.') ? l : `${l}.`;
}

function normalizeConfig(c: ZoneConfig): NormalConfig {
  const domain = normalZone(c.domain);
  const reverse = (c.reverseZones ?? ['in-addr.arpa', 'ip6.arpa']).map(normalZone);
  return {
    domain,
    zones: [domain, ...reverse.filter((z) => z !== domain)],
    fallthrough: (c.fallthrough ?? c.reverseZones ?? ['in-addr.arpa', 'ip6.arpa']).map(normalZone),
    ttl: Math.max(0, Math.min(3600, Math.trunc(c.ttl ?? 30))),
    pods: c.pods ?? 'insecure',
    localIPs: (c.localIPs ?? []).map(canonicalIP).filter((ip) => ip !== ''),
    endpointPodNames: c.endpointPodNames ?? false,
  };
}

function toPorts(v: unknown, portField: 'port'): ServicePort[] {
  const ports = arr(v)
    .filter(isRecord)
    .map((p) => ({
      name: str(p['name']),
      protocol: str(p['protocol']) || 'TCP',
      port: p[portField] === undefined || p[portField] === null ? -1 : int(p[portField]),
    }));
  return ports.length === 0 ? [{ name: '', protocol: '', port: -1 }] : ports;
}

export function toServiceInfo(o: KubeObject): ServiceInfo | undefined {
  const name = lowerName(o.metadata.name ?? '');
  const namespace = lowerName(o.metadata.namespace ?? '');
  if (!name || !namespace) return undefined;
  const spec = rec(o['spec']);
  const clusterIP = str(spec['clusterIP']);
  const listed = arr(spec['clusterIPs']).map(str);
  const clusterIPs = listed.length > 0 ? listed : [clusterIP];
  return {
    name,
    namespace,
    type: str(spec['type']) || 'ClusterIP',
    clusterIPs,
    headless: clusterIPs[0] === 'None',
    externalName: str(spec['externalName']),
    ports: toPorts(spec['ports'], 'port'),
    publishNotReadyAddresses: spec['publishNotReadyAddresses'] === true,
  };
}

export function toEndpointsInfo(o: KubeObject, publishNotReady: (svcKey: string) => boolean): EndpointsInfo | undefined {
  const namespace = lowerName(o.metadata.namespace ?? '');
  const serviceName = lowerName(o.metadata.labels?.['kubernetes.io/service-name'] ?? '');
  if (!namespace) return undefined;
  if (str(o['addressType']) === 'FQDN') return undefined;
  const tolerate = publishNotReady(`${serviceName}.${namespace}`);
  const addresses: EndpointAddress[] = [];
  for (const e of arr(o['endpoints']).filter(isRecord)) {
    const ready = rec(e['conditions'])['ready'];
    if (ready === false && !tolerate) continue;
    const targetRef = rec(e['targetRef']);
    const refName = str(targetRef['name']);
    for (const a of arr(e['addresses']).map(str)) {
      const ip = canonicalIP(a);
      if (!ip) continue;
      addresses.push({ ip, hostname: str(e['hostname']), targetRefName: refName.length < 64 ? refName : '' });
    }
  }
  return { name: o.metadata.name ?? '', namespace, serviceName, addresses, ports: toPorts(o['ports'], 'port') };
}

function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

export function buildZone(objects: ClusterObjects, config: ZoneConfig): ZoneIndex {
  const cfg = normalizeConfig(config);
  const namespaces = new Set<string>();
  for (const n of objects.namespaces) {
    const name = typeof n === 'string' ? n : (n.metadata.name ?? '');
    if (name) namespaces.add(lowerName(name));
  }
  const services = new Map<string, ServiceInfo>();
  const sortedServices = [...objects.services].sort((a, b) =>
    `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`),
  );
  const servicesByIP = new Map<string, ServiceInfo[]>();
  for (const o of sortedServices) {
    const s = toServiceInfo(o);
    if (!s) continue;
    services.set(`${s.name}.${s.namespace}`, s);
    if (s.headless || s.type === 'ExternalName') continue;
    for (const ip of s.clusterIPs) {
      const c = canonicalIP(ip);
      if (c) pushTo(servicesByIP, c, s);
    }
  }
  const publishNotReady = (key: string): boolean => services.get(key)?.publishNotReadyAddresses === true;
  const endpoints = new Map<string, EndpointsInfo[]>();
  const endpointsByIP = new Map<string, EndpointsInfo[]>();
  const slices = [...objects.endpointSlices].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const o of slices) {
    const e = toEndpointsInfo(o, publishNotReady);
    if (!e) continue;
    pushTo(endpoints, `${e.serviceName}.${e.namespace}`, e);
    const seen = new Set<string>();
    for (const a of e.addresses) {
      if (seen.has(a.ip)) continue;
      seen.add(a.ip);
      pushTo(endpointsByIP, a.ip, e);
    }
  }
  return {
    config: cfg,
    synced: objects.synced ?? true,
    serial: (objects.serial ?? Math.floor(Date.now() / 1000)) >>> 0,
    namespaces,
    services,
    endpoints,
    servicesByIP,
    endpointsByIP,
  };
}

// ---- names ------------------------------------------------------------------------------

/** The longest zone the (lower-case, FQDN) name is in, or "" (whole labels: "x\.cluster.local." is not in cluster.local). */
export function matchZone(name: string, zones: readonly string[]): string {
  let best = '';
  for (const z of zones) if (isSubDomain(z, name) && z.length > best.length) best = z;
  return best;
}

/** Labels of a presentation name, split on unescaped dots. */
function splitLabels(name: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '\\' && i + 1 < name.length) {
      cur += c + name[i + 1]!;
      i++;
      continue;
    }
    if (c === '.') {
      if (cur !== '') out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur !== '') out.push(cur);
  return out;
}

function trimZone(name: string, zone: string): string {
  if (name === zone) return '';
  if (zone === '.') return name.slice(0, -1);
  return name.slice(0, name.length - zone.length - 1);
}

interface RecordRequest {
  port: string;
  protocol: string;
  endpoint: string;
  service: string;
  namespace: string;
  podOrSvc: '' | 'svc' | 'pod';
}

const stripUnderscore = (s: string): string => (s.startsWith('_') ? s.slice(1) : s);

/** parse.go's parseRequest; undefined for an invalid (NXDOMAIN) name. */
function parseRequest(name: string, zone: string): RecordRequest | undefined {
  const r: RecordRequest = { port: '', protocol: '', endpoint: '', service: '', namespace: '', podOrSvc: '' };
  const base = trimZone(name, zone);
  if (base === '' || base === 'svc' || base === 'pod') return r;
  const segs = splitLabels(base);
  let last = segs.length - 1;
  if (last < 0) return r;
  const kind = segs[last]!;
  if (kind !== 'svc' && kind !== 'pod') return undefined;
  r.podOrSvc = kind;
  if (--last < 0) return r;
  r.namespace = segs[last]!;
  if (--last < 0) return r;
  r.service = segs[last]!;
  if (--last < 0) return r;
  if (last === 0) r.endpoint = segs[0]!;
  else if (last === 1) {
    r.protocol = stripUnderscore(segs[1]!);
    r.port = stripUnderscore(segs[0]!);
  } else return undefined;
  return r;
}

/** 54.119.58.176.in-addr.arpa. → 176.58.119.54 (and ip6.arpa nibbles); "" if not a full address. */
export function addressFromReverse(name: string): string {
  if (name.endsWith('.in-addr.arpa.')) {
    const parts = name.slice(0, -'.in-addr.arpa.'.length).split('.').reverse();
    const ip = parts.join('.');
    return isIPv4(ip) ? ip : '';
  }
  if (name.endsWith('.ip6.arpa.')) {
    const nibbles = name.slice(0, -'.ip6.arpa.'.length).split('.').reverse();
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return '';
    return formatIPv6(Buffer.from(nibbles.join(''), 'hex'));
  }
  return '';
}

/** The reverse name of an IP: 10.96.0.10 → 10.0.96.10.in-addr.arpa. */
export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa.`;
  return `${ipv6Bytes(ip).toString('hex').split('').reverse().join('.')}.ip6.arpa.`;
}

// ---- the plugin -------------------------------------------------------------------------

/** msg.Service: one backend record before it becomes RRs. */
interface Backend {
  /** An IP (A/AAAA) or a name (CNAME). */
  host: string;
  port: number;
  ttl: number;
  /** The name this backend is known as (SRV target, glue owner). */
  domain: string;
  text?: string;
}

type Lookup = { ok: true; backends: Backend[] } | { ok: false };

const NAME_ERROR: Lookup = { ok: false };
const ok = (backends: Backend[]): Lookup => ({ ok: true, backends });

type HostType = 'A' | 'AAAA' | 'CNAME';

function hostType(host: string): HostType {
  if (isIPv4(host)) return 'A';
  if (isIPv6(host)) return 'AAAA';
  return 'CNAME';
}

const eqFold = (a: string, b: string): boolean => a === b || a.toLowerCase() === b.toLowerCase();
const matchPortAndProtocol = (rPort: string, port: string, rProto: string, proto: string): boolean =>
  (rPort === '' || eqFold(rPort, port)) && (rProto === '' || eqFold(rProto, proto));

function fqdn(s: string): string {
  return s.endsWith('.') ? s : `${s}.`;
}

class Plugin {
  readonly cfg: NormalConfig;
  chase: { name: string; type: number } | undefined;

  constructor(
    readonly idx: ZoneIndex,
    /** Lower case FQDN. */
    readonly zone: string,
    /** The zone as spelled in the query. */
    readonly zoneOrig: string,
  ) {
    this.cfg = idx.config;
  }

  private nsExposed(ns: string): boolean {
    return this.idx.namespaces.has(ns);
  }

  private endpointHostname(a: EndpointAddress): string {
    if (a.hostname) return a.hostname;
    if (this.cfg.endpointPodNames && a.targetRefName) return a.targetRefName;
    if (a.ip.includes('.')) return a.ip.replaceAll('.', '-');
    if (a.ip.includes(':')) {
      const h = a.ip.replaceAll(':', '-');
      return h.endsWith('-') ? `${h}0` : h;
    }
    return '';
  }

  private records(name: string): Lookup {
    const r = parseRequest(name, this.zone);
    if (!r) return NAME_ERROR;
    if (r.podOrSvc === '') return ok([]);
    if (name.endsWith('.in-addr.arpa.') || name.endsWith('.ip6.arpa.')) return NAME_ERROR;
    if (!this.nsExposed(r.namespace)) return NAME_ERROR;
    return r.podOrSvc === 'pod' ? this.findPods(r) : this.findServices(r);
  }

  private findPods(r: RecordRequest): Lookup {
    if (this.cfg.pods === 'disabled') return NAME_ERROR;
    if (!this.nsExposed(r.namespace)) return NAME_ERROR;
    const podname = r.service;
    if (podname === '') return ok([]);
    const dashes = podname.split('-').length - 1;
    const ip = dashes === 3 && !podname.includes('--') ? podname.replaceAll('-', '.') : podname.replaceAll('-', ':');
    if (!isIPv4(ip) && !isIPv6(ip)) return NAME_ERROR;
    return ok([{ host: canonicalIP(ip), port: 0, ttl: this.cfg.ttl, domain: `${podname}.${r.namespace}.pod.${this.zoneOrig}` }]);
  }

  private findServices(r: RecordRequest): Lookup {
    if (!this.nsExposed(r.namespace)) return NAME_ERROR;
    if (r.service === '') return ok([]);
    const svc = this.idx.services.get(`${r.service}.${r.namespace}`);
    if (!svc) return NAME_ERROR;
    const ttl = this.cfg.ttl;
    const svcDomain = `${svc.name}.${svc.namespace}.svc.${this.zoneOrig}`;
    const out: Backend[] = [];
    let found = false;
    if (svc.type === 'ExternalName') {
      if (r.endpoint || r.port || r.protocol) return NAME_ERROR;
      if (svc.externalName !== '' && hostType(svc.externalName) === 'CNAME') {
        out.push({ host: svc.externalName, port: 0, ttl, domain: svcDomain });
        found = true;
      }
      return found ? ok(out) : NAME_ERROR;
    }
    if (svc.headless || r.endpoint) {
      for (const eps of this.idx.endpoints.get(`${svc.name}.${svc.namespace}`) ?? []) {
        for (const a of eps.addresses) {
          const hostname = this.endpointHostname(a);
          if (r.endpoint && !eqFold(r.endpoint, hostname)) continue;
          for (const p of eps.ports) {
            if (!matchPortAndProtocol(r.port, p.name, r.protocol, p.protocol)) continue;
            out.push({ host: a.ip, port: p.port, ttl, domain: `${hostname}.${svcDomain}` });
            found = true;
          }
        }
      }
      return found ? ok(out) : NAME_ERROR;
    }
    for (const p of svc.ports) {
      if (!matchPortAndProtocol(r.port, p.name, r.protocol, p.protocol)) continue;
      found = true;
      for (const ip of svc.clusterIPs) {
        const c = canonicalIP(ip);
        if (c) out.push({ host: c, port: p.port, ttl, domain: svcDomain });
      }
    }
    return found ? ok(out) : NAME_ERROR;
  }

  /** ns.go's nsAddrs: the Service(s) whose endpoints hold our own addresses, else ns.dns.<zone>. */
  private nsAddrs(): Array<{ name: string; ip: string }> {
    const out: Array<{ name: string; ip: string }> = [];
    let found = false;
    for (const local of this.cfg.localIPs) {
      for (const eps of this.idx.endpointsByIP.get(local) ?? []) {
        found = true;
        const svc = this.idx.services.get(`${eps.serviceName}.${eps.namespace}`);
        if (!svc) continue;
        const svcName = `${svc.name}.${svc.namespace}.svc.${this.zoneOrig}`;
        if (svc.headless) {
          for (const a of eps.addresses) out.push({ name: `${this.endpointHostname(a)}.${svcName}`, ip: a.ip });
        } else {
          for (const ip of svc.clusterIPs) {
            const c = canonicalIP(ip);
            if (c) out.push({ name: svcName, ip: c });
          }
        }
      }
    }
    if (!found) for (const ip of this.cfg.localIPs) out.push({ name: `ns.dns.${this.zoneOrig}`, ip });
    return out;
  }

  /** kubernetes.go's Services. */
  services(name: string, qtype: number, qnameOrig: string): Lookup {
    if (qtype === TYPE.TXT) {
      const segs = splitLabels(trimZone(name, this.zone));
      if (segs.length === 1 && segs[0] === 'dns-version') {
        return ok([{ host: '', port: 0, ttl: SCHEMA_TXT_TTL, domain: qnameOrig, text: DNS_SCHEMA_VERSION }]);
      }
      const r = this.records(name);
      if (r.ok && r.backends.length > 0) return ok([]);
      return NAME_ERROR;
    }
    if (qtype === TYPE.NS) {
      return ok(this.nsAddrs().map((a) => ({ host: a.ip, port: 0, ttl: this.cfg.ttl, domain: a.name })));
    }
    if (name === `ns.dns.${this.zone}`) {
      const want = qtype === TYPE.A ? 'A' : qtype === TYPE.AAAA ? 'AAAA' : '';
      return ok(
        this.nsAddrs()
          .filter((a) => hostType(a.ip) === want)
          .map((a) => ({ host: a.ip, port: 0, ttl: this.cfg.ttl, domain: qnameOrig })),
      );
    }
    const r = this.records(name);
    if (qtype !== TYPE.SRV || !r.ok) return r;
    return ok(r.backends.filter((b) => hostType(b.host) !== 'CNAME'));
  }

  /** backend_lookup.go's A and AAAA. */
  address(name: string, qnameOrig: string, qtype: number, previous: RR[]): { ok: boolean; records: RR[] } {
    const look = this.services(name, qtype, qnameOrig);
    if (!look.ok) return { ok: false, records: [] };
    const want: HostType = qtype === TYPE.AAAA ? 'AAAA' : 'A';
    const records: RR[] = [];
    const dup = new Set<string>();
    for (const b of look.backends) {
      const t = hostType(b.host);
      if (t === 'CNAME') {
        const target = fqdn(b.host);
        const targetLc = lowerName(target);
        if (targetLc === name) continue;
        const cname: RR = { name: qnameOrig, type: 'CNAME', ttl: b.ttl, data: target };
        if (previous.length > MAX_CNAME_CHAIN) continue;
        if (previous.some((p) => p.type === 'CNAME' && eqFold(p.name, cname.name) && eqFold(p.data, cname.data))) continue;
        if (isSubDomain(this.zone, targetLc)) {
          const next = this.address(targetLc, target, qtype, [...previous, cname]);
          if (next.ok && next.records.length > 0) records.push(cname, ...next.records);
          continue;
        }
        records.push(cname);
        this.chase ??= { name: target, type: qtype };
        continue;
      }
      if (t !== want || dup.has(b.host)) continue;
      dup.add(b.host);
      records.push({ name: qnameOrig, type: want, ttl: b.ttl, data: b.host });
    }
    return { ok: true, records };
  }

  srv(name: string, qnameOrig: string): { ok: boolean; records: RR[]; extra: RR[] } {
    const look = this.services(name, TYPE.SRV, qnameOrig);
    if (!look.ok) return { ok: false, records: [], extra: [] };
    // Weight: 100 per record, shared out within a priority (all are priority 0 here).
    const total = look.backends.length * 100;
    const records: RR[] = [];
    const extra: RR[] = [];
    const seenTarget = new Set<string>();
    const seenAddr = new Set<string>();
    for (const b of look.backends) {
      if (b.port === -1) continue;
      const weight = Math.max(1, Math.floor((100 / total) * 100));
      const t = hostType(b.host);
      if (t === 'CNAME') continue;
      const target = fqdn(b.domain);
      const k = `${target}|${b.port}`;
      if (!seenTarget.has(k)) {
        seenTarget.add(k);
        records.push({ name: qnameOrig, type: 'SRV', ttl: b.ttl, data: { priority: 0, weight, port: b.port, target } });
      }
      const a = `${target}|${b.host}`;
      if (!seenAddr.has(a)) {
        seenAddr.add(a);
        extra.push({ name: target, type: t, ttl: b.ttl, data: b.host });
      }
    }
    return { ok: true, records, extra };
  }

  txt(name: string, qnameOrig: string): { ok: boolean; records: RR[] } {
    const look = this.services(name, TYPE.TXT, qnameOrig);
    if (!look.ok) return { ok: false, records: [] };
    const records: RR[] = [];
    for (const b of look.backends) {
      if (b.text !== undefined) records.push({ name: qnameOrig, type: 'TXT', ttl: b.ttl, data: [b.text] });
    }
    return { ok: true, records };
  }

  cname(name: string, qnameOrig: string): { ok: boolean; records: RR[] } {
    const look = this.services(name, TYPE.CNAME, qnameOrig);
    if (!look.ok) return { ok: false, records: [] };
    const first = look.backends[0];
    if (first && hostType(first.host) === 'CNAME') {
      return { ok: true, records: [{ name: qnameOrig, type: 'CNAME', ttl: first.ttl, data: fqdn(first.host) }] };
    }
    return { ok: true, records: [] };
  }

  ptr(name: string, qnameOrig: string): { ok: boolean; records: RR[] } {
    const ip = addressFromReverse(name);
    if (ip === '') {
      const r = this.records(name);
      return { ok: r.ok, records: [] };
    }
    const hosts: string[] = [];
    const svc = this.idx.servicesByIP.get(ip)?.[0];
    if (svc) hosts.push(`${svc.name}.${svc.namespace}.svc.${this.cfg.domain}`);
    else {
      for (const eps of this.idx.endpointsByIP.get(ip) ?? []) {
        for (const a of eps.addresses) {
          if (a.ip === ip) hosts.push(`${this.endpointHostname(a)}.${eps.serviceName}.${eps.namespace}.svc.${this.cfg.domain}`);
        }
      }
    }
    if (hosts.length === 0) return { ok: false, records: [] };
    const records: RR[] = [];
    const dup = new Set<string>();
    for (const h of hosts) {
      if (dup.has(h)) continue;
      dup.add(h);
      records.push({ name: qnameOrig, type: 'PTR', ttl: this.cfg.ttl, data: fqdn(h) });
    }
    return { ok: true, records };
  }

  ns(qnameOrig: string): { ok: boolean; records: RR[]; extra: RR[] } {
    const look = this.services(this.zone, TYPE.NS, qnameOrig);
    if (!look.ok) return { ok: false, records: [], extra: [] };
    const records: RR[] = [];
    const extra: RR[] = [];
    const seen = new Set<string>();
    for (const b of look.backends) {
      const t = hostType(b.host);
      if (t === 'CNAME') continue;
      const target = fqdn(b.domain);
      extra.push({ name: target, type: t, ttl: b.ttl, data: b.host });
      if (seen.has(target)) continue;
      seen.add(target);
      records.push({ name: qnameOrig, type: 'NS', ttl: b.ttl, data: target });
    }
    return { ok: true, records, extra };
  }

  soa(): RR {
    const ttl = this.cfg.ttl;
    return {
      name: this.zoneOrig,
      type: 'SOA',
      ttl: Math.min(ttl, 300),
      data: {
        mname: `ns.dns.${this.zoneOrig}`,
        rname: `hostmaster.${this.zoneOrig}`,
        serial: this.idx.serial,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: ttl,
      },
    };
  }
}

function empty(action: Resolution['action'], rcode: number): Resolution {
  return { action, rcode, authoritative: false, answers: [], authority: [], additional: [] };
}

/**
 * What the kubernetes plugin answers for one question (class IN assumed;
 * the server refuses other classes before asking).
 */
export function resolve(question: { name: string; type: number }, zone: ZoneIndex): Resolution {
  const qnameOrig = fqdn(question.name);
  const name = lowerName(qnameOrig);
  const z = matchZone(name, zone.config.zones);
  if (z === '') return empty('forward', RCODE.NOERROR);
  const zoneOrig = qnameOrig.slice(qnameOrig.length - z.length);
  const p = new Plugin(zone, z, zoneOrig);
  const qtype = question.type;

  let found = true;
  let records: RR[] = [];
  let extra: RR[] = [];
  switch (qtype) {
    case TYPE.A:
    case TYPE.AAAA: {
      const r = p.address(name, qnameOrig, qtype, []);
      found = r.ok;
      records = r.records;
      break;
    }
    case TYPE.TXT: {
      const r = p.txt(name, qnameOrig);
      found = r.ok;
      records = r.records;
      break;
    }
    case TYPE.CNAME: {
      const r = p.cname(name, qnameOrig);
      found = r.ok;
      records = r.records;
      break;
    }
    case TYPE.PTR: {
      const r = p.ptr(name, qnameOrig);
      found = r.ok;
      records = r.records;
      break;
    }
    case TYPE.MX: {
      // Kubernetes backends are never mail exchangers: NODATA, or the name error.
      found = p.services(name, TYPE.MX, qnameOrig).ok;
      break;
    }
    case TYPE.SRV: {
      const r = p.srv(name, qnameOrig);
      found = r.ok;
      records = r.records;
      extra = r.extra;
      break;
    }
    case TYPE.SOA:
      if (name === z) records = [p.soa()];
      break;
    case TYPE.AXFR:
    case TYPE.IXFR:
      return { ...empty('refuse', RCODE.REFUSED), zone: z };
    case TYPE.NS:
      if (name === z) {
        const r = p.ns(qnameOrig);
        found = r.ok;
        records = r.records;
        extra = r.extra;
        break;
      }
      found = p.address(name, qnameOrig, TYPE.A, []).ok;
      p.chase = undefined;
      break;
    default:
      // A fake A lookup tells NODATA from NXDOMAIN.
      found = p.address(name, qnameOrig, TYPE.A, []).ok;
      p.chase = undefined;
      break;
  }

  if (!found) {
    if (zone.config.fallthrough.some((f) => isSubDomain(f, name))) return empty('forward', RCODE.NOERROR);
    return {
      action: 'answer',
      rcode: zone.synced ? RCODE.NXDOMAIN : RCODE.SERVFAIL,
      authoritative: true,
      answers: [],
      authority: [p.soa()],
      additional: [],
      zone: z,
    };
  }
  if (records.length === 0) {
    return { action: 'answer', rcode: RCODE.NOERROR, authoritative: true, answers: [], authority: [p.soa()], additional: [], zone: z };
  }
  const res: Resolution = { action: 'answer', rcode: RCODE.NOERROR, authoritative: true, answers: records, authority: [], additional: extra, zone: z };
  if (p.chase) res.chase = p.chase;
  return res;
}
