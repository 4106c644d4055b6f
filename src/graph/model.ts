// The picture of a lab, as data: segments, machines with their NICs, pods per
// node, Services with their addresses and endpoints, and the pod network's
// routes. Built from the lab's plan (what `up` made) and, when the lab is up,
// what its API holds. Pure: the renderers (mermaid.ts, dot.ts) draw it.
import type { PodNetworkBackend, ProxyMode } from '../labfile/types.js';
import type { PlannedMachine, TopologyPlan } from '../plan/topology.js';

export interface GraphNic {
  ifname: string;
  /** Address with prefix, e.g. 192.168.10.210/24. */
  address: string;
  /** Id of the segment it plugs into. */
  segment: string;
}

export interface GraphPod {
  id: string;
  namespace: string;
  name: string;
  ip: string;
}

export interface GraphMachine {
  id: string;
  kind: 'node' | 'host';
  name: string;
  nics: GraphNic[];
  /** Nodes only. */
  podCIDR?: string;
  roles?: string[];
  pods: GraphPod[];
}

export interface GraphSegment {
  id: string;
  network: string;
  /** A machine's private copy of a perMachine network. */
  machine?: string;
  /** The router's address with prefix. */
  gateway?: string;
}

export interface GraphServicePort {
  name?: string;
  protocol: string;
  port: number;
  nodePort?: number;
}

export interface GraphEndpoint {
  ip: string;
  ports: number[];
  /** Id of the pod holding the address, when it is one of the lab's pods. */
  pod?: string;
}

export interface GraphService {
  id: string;
  namespace: string;
  name: string;
  type: string;
  clusterIP?: string;
  ports: GraphServicePort[];
  endpoints: GraphEndpoint[];
}

export interface GraphPodRoute {
  /** Machine id of the node holding the route. */
  from: string;
  dst: string;
  via: string;
  dev: string;
  /** Machine id of the node owning the destination pod CIDR. */
  to?: string;
}

export interface GraphModel {
  lab: string;
  proxyMode: ProxyMode;
  podNetwork: PodNetworkBackend;
  podCIDR: string;
  serviceCIDR: string;
  segments: GraphSegment[];
  machines: GraphMachine[];
  services: GraphService[];
  podRoutes: GraphPodRoute[];
}

/** What the lab's API says, reduced to what the picture needs (see cluster-objects.ts). */
export interface ClusterView {
  pods: Array<{ namespace: string; name: string; node: string; ip: string }>;
  services: Array<Omit<GraphService, 'id' | 'endpoints'> & { endpoints: Array<{ ip: string; ports: number[] }> }>;
}

/** An id made of letters, digits and underscores (both Mermaid and DOT accept it unquoted). */
export function graphId(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9]/g, '_')).join('__');
}

export interface GraphLabInfo {
  proxyMode: ProxyMode;
  podNetwork: PodNetworkBackend;
  serviceCIDR: string;
}

export function buildGraphModel(plan: TopologyPlan, info: GraphLabInfo, cluster: ClusterView = { pods: [], services: [] }): GraphModel {
  const segments: GraphSegment[] = plan.segments.map((s) => ({
    id: graphId('seg', s.network, ...(s.machine ? [s.machine] : [])),
    network: s.network,
    ...(s.machine ? { machine: s.machine } : {}),
    ...(s.gateway ? { gateway: s.gateway } : {}),
  }));
  const segmentId = new Map(plan.segments.map((s, i) => [s.netns, segments[i]?.id ?? '']));
  const byName = <T extends { namespace: string; name: string }>(a: T, b: T) =>
    a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
  const pods = [...cluster.pods].sort(byName);
  const podIdByIp = new Map<string, string>();
  const planned: Array<PlannedMachine & { podCIDR?: string; roles?: string[] }> = [...plan.nodes, ...plan.hosts];
  const machines: GraphMachine[] = planned.map((m) => {
    const id = graphId(m.kind, m.name);
    const own = pods
      .filter((p) => m.kind === 'node' && p.node === m.name)
      .map((p): GraphPod => {
        const pod = { id: graphId('pod', p.namespace, p.name), namespace: p.namespace, name: p.name, ip: p.ip };
        podIdByIp.set(p.ip, pod.id);
        return pod;
      });
    return {
      id,
      kind: m.kind,
      name: m.name,
      nics: m.nics.map((n) => ({ ifname: n.ifname, address: `${n.address}/${n.prefix}`, segment: segmentId.get(n.segmentNetns) ?? '' })),
      ...(m.podCIDR !== undefined ? { podCIDR: m.podCIDR } : {}),
      ...(m.roles !== undefined ? { roles: m.roles } : {}),
      pods: own,
    };
  });
  const services = [...cluster.services].sort(byName).map(
    (s): GraphService => ({
      ...s,
      id: graphId('svc', s.namespace, s.name),
      endpoints: [...s.endpoints]
        .sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }))
        .map((e) => ({ ...e, ...(podIdByIp.has(e.ip) ? { pod: podIdByIp.get(e.ip) } : {}) })),
    }),
  );
  const ownerOfCidr = new Map(plan.nodes.map((n) => [n.podCIDR, graphId('node', n.name)]));
  const podRoutes = plan.nodes.flatMap((n) =>
    n.podRoutes.map((r): GraphPodRoute => {
      const to = ownerOfCidr.get(r.dst);
      return { from: graphId('node', n.name), dst: r.dst, via: r.via, dev: r.dev, ...(to ? { to } : {}) };
    }),
  );
  return {
    lab: plan.lab,
    proxyMode: info.proxyMode,
    podNetwork: info.podNetwork,
    podCIDR: plan.clusterPodCIDR,
    serviceCIDR: info.serviceCIDR,
    segments,
    machines,
    services,
    podRoutes,
  };
}

/** "80/TCP→30080" style text for a Service port. */
export function portText(p: GraphServicePort): string {
  return `${p.port}/${p.protocol}${p.nodePort !== undefined ? ` nodePort ${p.nodePort}` : ''}`;
}
