// From Kubernetes objects to what kube-proxy's iptables mode works with: one
// ServicePort per (Service, port) and a sorted endpoint list per ServicePort,
// the way pkg/proxy's ServiceChangeTracker, EndpointSliceCache and
// CategorizeEndpoints see them. IPv4 only (the lab is single-stack).
import { arr, int, isRecord, rec, str, type KubeObject } from '../api/types.js';
import { cidrString, parseIPv4CidrSloppy, parseIPv4Sloppy } from './ip.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** ServicePortName as kube-proxy keys it: namespace/name, port name and protocol. */
export interface ServicePortKey {
  namespace: string;
  name: string;
  port: string;
  protocol: Protocol;
}

export interface ServicePortInfo extends ServicePortKey {
  /** "namespace/name:port", or "namespace/name" for an unnamed port. */
  spn: string;
  clusterIP: string;
  portNumber: number;
  nodePort: number;
  externalIPs: string[];
  loadBalancerVIPs: string[];
  loadBalancerSourceRanges: string[];
  healthCheckNodePort: number;
  clientIPAffinity: boolean;
  stickyMaxAgeSeconds: number;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
}

export interface EndpointInfo {
  ip: string;
  port: number;
  /** "ip:port", the string kube-proxy hashes, sorts and prints. */
  endpoint: string;
  isLocal: boolean;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/** v1.DefaultClientIPServiceAffinitySeconds */
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function servicePortName(namespace: string, name: string, port: string): string {
  return port === '' ? `${namespace}/${name}` : `${namespace}/${name}:${port}`;
}

export function keyOf(k: ServicePortKey): string {
  return `${k.namespace}/${k.name}\u0000${k.port}\u0000${k.protocol}`;
}

export function nsNameOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name ?? ''}`;
}

function protocolOf(v: unknown): Protocol | undefined {
  const p = str(v);
  if (p === '') return 'TCP'; // the apiserver defaults it
  return p === 'TCP' || p === 'UDP' || p === 'SCTP' ? p : undefined;
}

function ipv4List(values: unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const ip = parseIPv4Sloppy(str(v));
    if (ip !== undefined) out.push(ip);
  }
  return out;
}

/** The Service's IPv4 cluster IP (GetClusterIPByFamily), or undefined. */
function clusterIPv4(spec: Record<string, unknown>): string | undefined {
  const ips = arr(spec['clusterIPs']).map(str);
  if (ips.length === 0) ips.push(str(spec['clusterIP']));
  for (const ip of ips) {
    const v4 = parseIPv4Sloppy(ip);
    if (v4 !== undefined) return v4;
  }
  return undefined;
}

/**
 * The ServicePorts of one Service, or none for what kube-proxy skips
 * (ShouldSkipService): headless (clusterIP None), no cluster IP, ExternalName,
 * or no IPv4 cluster IP.
 */
export function servicePorts(svc: KubeObject): ServicePortInfo[] {
  const spec = rec(svc['spec']);
  const type = str(spec['type']) || 'ClusterIP';
  if (type === 'ExternalName') return [];
  const rawIP = str(spec['clusterIP']);
  if (rawIP === '' || rawIP === 'None') return [];
  const clusterIP = clusterIPv4(spec);
  if (clusterIP === undefined) return [];

  const namespace = svc.metadata.namespace ?? 'default';
  const name = svc.metadata.name ?? '';
  const externalIPs = ipv4List(arr(spec['externalIPs']));
  const externallyAccessible =
    type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && arr(spec['externalIPs']).length > 0);
  const externalPolicyLocal = externallyAccessible && str(spec['externalTrafficPolicy']) === 'Local';
  const internalPolicyLocal = str(spec['internalTrafficPolicy']) === 'Local';
  const clientIPAffinity = str(spec['sessionAffinity']) === 'ClientIP';
  let stickyMaxAgeSeconds = 0;
  if (clientIPAffinity) {
    const t = rec(rec(rec(spec['sessionAffinityConfig'])['clientIP']))['timeoutSeconds'];
    stickyMaxAgeSeconds = typeof t === 'number' ? int(t) : DEFAULT_CLIENT_IP_AFFINITY_SECONDS;
  }
  const loadBalancerSourceRanges: string[] = [];
  for (const r of arr(spec['loadBalancerSourceRanges'])) {
    const c = parseIPv4CidrSloppy(str(r));
    if (c !== undefined) loadBalancerSourceRanges.push(cidrString(c));
  }
  const loadBalancerVIPs: string[] = [];
  for (const ing of arr(rec(rec(svc['status'])['loadBalancer'])['ingress'])) {
    const r = rec(ing);
    // LoadBalancerIPMode (GA): "Proxy" ingress IPs are not captured by kube-proxy.
    if (str(r['ipMode']) === 'Proxy') continue;
    const ip = parseIPv4Sloppy(str(r['ip']));
    if (ip !== undefined) loadBalancerVIPs.push(ip);
  }
  const needsHealthCheck = type === 'LoadBalancer' && externalPolicyLocal;
  const healthCheckNodePort = needsHealthCheck ? int(spec['healthCheckNodePort']) : 0;

  const out: ServicePortInfo[] = [];
  for (const p of arr(spec['ports'])) {
    if (!isRecord(p)) continue;
    const protocol = protocolOf(p['protocol']);
    if (protocol === undefined) continue;
    const port = str(p['name']);
    out.push({
      namespace,
      name,
      port,
      protocol,
      spn: servicePortName(namespace, name, port),
      clusterIP,
      portNumber: int(p['port']),
      nodePort: int(p['nodePort']),
      externalIPs,
      loadBalancerVIPs,
      loadBalancerSourceRanges,
      healthCheckNodePort,
      clientIPAffinity,
      stickyMaxAgeSeconds,
      externalPolicyLocal,
      internalPolicyLocal,
    });
  }
  return out;
}

export function externallyAccessible(sp: ServicePortInfo): boolean {
  return sp.nodePort !== 0 || sp.loadBalancerVIPs.length > 0 || sp.externalIPs.length > 0;
}

/**
 * As kube-proxy: Cluster endpoints are used when internal traffic is Cluster,
 * or when the port takes external traffic at all (even with eTP=Local, the
 * short-circuit rules for pods and the node go to the Cluster chain).
 */
export function usesClusterEndpoints(sp: ServicePortInfo): boolean {
  return !sp.internalPolicyLocal || externallyAccessible(sp);
}

export function usesLocalEndpoints(sp: ServicePortInfo): boolean {
  return sp.internalPolicyLocal || (sp.externalPolicyLocal && externallyAccessible(sp));
}

/** The service an EndpointSlice belongs to ("namespace/name"), or undefined. */
export function sliceServiceName(slice: KubeObject): string | undefined {
  const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  if (svc === undefined || svc === '') return undefined;
  return `${slice.metadata.namespace ?? 'default'}/${svc}`;
}

/**
 * Endpoints per ServicePort key for the slices of one service, as
 * EndpointSliceCache builds them: ports without a name (nil, not "") or
 * without a number are ignored, endpoints are deduplicated by "ip:port"
 * (a local copy wins) and sorted by that string.
 */
export function endpointsOfSlices(slices: readonly KubeObject[], nodeName: string): Map<string, EndpointInfo[]> {
  const byKey = new Map<string, Map<string, EndpointInfo>>();
  const ordered = [...slices].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const slice of ordered) {
    const svc = sliceServiceName(slice);
    if (svc === undefined) continue;
    const addressType = str(slice['addressType']);
    if (addressType !== 'IPv4') continue;
    const [namespace = '', name = ''] = svc.split('/');
    for (const p of arr(slice['ports'])) {
      if (!isRecord(p) || typeof p['name'] !== 'string') continue;
      const portNumber = int(p['port']);
      if (portNumber === 0) continue;
      const protocol = protocolOf(p['protocol']);
      if (protocol === undefined) continue;
      const key = keyOf({ namespace, name, port: p['name'], protocol });
      let set = byKey.get(key);
      if (!set) byKey.set(key, (set = new Map()));
      for (const e of arr(slice['endpoints'])) {
        const ep = rec(e);
        const first = arr(ep['addresses'])[0];
        if (first === undefined) continue;
        const ip = parseIPv4Sloppy(str(first));
        if (ip === undefined) continue;
        const cond = rec(ep['conditions']);
        const isLocal = typeof ep['nodeName'] === 'string' && ep['nodeName'] === nodeName;
        const info: EndpointInfo = {
          ip,
          port: portNumber,
          endpoint: `${ip}:${portNumber}`,
          isLocal,
          ready: cond['ready'] === undefined || cond['ready'] === null || cond['ready'] === true,
          serving: cond['serving'] === undefined || cond['serving'] === null || cond['serving'] === true,
          terminating: cond['terminating'] === true,
        };
        if (!set.has(info.endpoint) || isLocal) set.set(info.endpoint, info);
      }
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [key, set] of byKey) {
    if (set.size === 0) continue;
    out.set(
      key,
      [...set.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0)),
    );
  }
  return out;
}

export interface CategorizedEndpoints {
  clusterEndpoints: EndpointInfo[];
  localEndpoints: EndpointInfo[];
  allReachableEndpoints: EndpointInfo[];
  hasAnyEndpoints: boolean;
}

/**
 * CategorizeEndpoints without topology-aware routing (the lab sets no zone
 * hints): ready endpoints, else serving+terminating ones, for Cluster and
 * Local policies.
 */
export function categorizeEndpoints(endpoints: readonly EndpointInfo[], sp: ServicePortInfo): CategorizedEndpoints {
  let clusterEndpoints: EndpointInfo[] = [];
  let localEndpoints: EndpointInfo[] = [];
  let hasAnyEndpoints = false;
  if (usesClusterEndpoints(sp)) {
    clusterEndpoints = endpoints.filter((ep) => ep.ready);
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter((ep) => ep.serving && ep.terminating);
    if (clusterEndpoints.length > 0) hasAnyEndpoints = true;
  }
  if (!usesLocalEndpoints(sp)) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }
  let hasLocalReady = false;
  let hasLocalServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalReady = true;
    } else if (ep.serving && ep.terminating) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalServingTerminating = true;
    }
  }
  let useServingTerminating = false;
  if (hasLocalReady) {
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  } else if (hasLocalServingTerminating) {
    useServingTerminating = true;
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);
  }
  if (!usesClusterEndpoints(sp)) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: localEndpoints, hasAnyEndpoints };
  }
  if (!useServingTerminating) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }
  // Merge: kube-proxy goes through a map here (random order); the order only
  // affects where SEP chains appear in the restore input, so keep it sorted.
  const merged = new Map<string, EndpointInfo>();
  for (const ep of clusterEndpoints) merged.set(ep.endpoint, ep);
  for (const ep of localEndpoints) merged.set(ep.endpoint, ep);
  const allReachableEndpoints = [...merged.values()].sort((a, b) =>
    a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0,
  );
  return { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints };
}
