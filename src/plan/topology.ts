// The topology planner: a validated lab spec in, the kernel objects the lab
// needs out (namespaces, veth pairs, bridges, addresses, routes, sysctls).
// Pure: no I/O, so it is unit-tested with golden files.
import type { LabSpec, MachineSpec, NetworkSpec, NodeSpec, PodNetworkBackend } from '../labfile/types.js';
import { cidrToString, containsAddress, networkOf, nthAddress, nthSubnet } from '../labfile/ipv4.js';
import { deriveIfname, hostNetns, networkNetns, nodeNetns } from './names.js';
import { planVxlan, type PlannedVtep, type PlannedVxlanPeer } from './vxlan.js';

export const SEGMENT_BRIDGE = 'br0';
export const POD_BRIDGE = 'cni0';

export interface PlannedNic {
  ifname: string;
  network: string;
  address: string;
  prefix: number;
  /** The segment netns and the bridge port there that this NIC plugs into. */
  segmentNetns: string;
  segmentPort: string;
}

export interface PlannedRoute {
  dst: string;
  via: string;
  dev: string;
  /** The next hop is taken as on-link even though no address of dev covers it (flannel's vxlan routes). */
  onlink?: boolean;
}

export interface PlannedMachine {
  kind: 'node' | 'host';
  name: string;
  netns: string;
  nics: PlannedNic[];
  defaultRoute?: PlannedRoute;
}

export interface PlannedNode extends PlannedMachine {
  kind: 'node';
  roles: string[];
  labels: Record<string, string>;
  /** The address the kubelet registers as InternalIP. */
  nodeIP: string;
  /** Set (false) only when the lab turns hairpin mode off on cni0's pod ports. */
  hairpin?: false;
  /** flannel's chosen interface and its address (the host-gw next hop other nodes use). */
  flannelIface: string;
  flannelIP: string;
  podCIDR: string;
  /** cni0's address with prefix, the first address of the pod CIDR. */
  podGateway: string;
  /** Routes to the other nodes' pod CIDRs: via their public IPs (host-gw) or via flannel.1 (vxlan). */
  podRoutes: PlannedRoute[];
  /** vxlan only: this node's flannel.1 and, per other node, its neighbour and FDB entries. */
  vtep?: PlannedVtep;
  vxlanPeers?: PlannedVxlanPeer[];
}

export interface PlannedSegment {
  network: string;
  /** Set for a machine's private copy of a perMachine network. */
  machine?: string;
  netns: string;
  /** The gateway address with prefix, held by the segment's bridge. */
  gateway?: string;
  ports: string[];
}

export interface PlannedSysctl {
  netns: string;
  key: string;
  value: string;
}

export interface TopologyPlan {
  lab: string;
  segments: PlannedSegment[];
  nodes: PlannedNode[];
  hosts: PlannedMachine[];
  sysctls: PlannedSysctl[];
  /** The cluster's pod network (every node's podCIDR lies in it). */
  clusterPodCIDR: string;
  podNetwork: PodNetworkBackend;
  /** Things a real cluster would also get wrong with this spec; `doctor` explains them. */
  warnings: string[];
}

export function planTopology(lab: LabSpec): TopologyPlan {
  const networks = new Map(lab.networks.map((n) => [n.name, n]));
  const segments = new Map<string, PlannedSegment>();
  const segmentFor = (network: NetworkSpec, machine: string): PlannedSegment => {
    const key = network.perMachine ? `${network.name}\0${machine}` : network.name;
    let segment = segments.get(key);
    if (!segment) {
      const prefix = networkOf(network.cidr).prefix;
      segment = {
        network: network.name,
        ...(network.perMachine ? { machine } : {}),
        netns: networkNetns(lab.name, network.name, network.perMachine ? machine : undefined),
        ...(network.gateway ? { gateway: `${network.gateway}/${prefix}` } : {}),
        ports: [],
      };
      segments.set(key, segment);
    }
    return segment;
  };

  const planMachine = (kind: 'node' | 'host', m: MachineSpec, netns: string): PlannedMachine => {
    const nics = m.nics.map((nic): PlannedNic => {
      const network = networks.get(nic.network);
      if (!network) throw new Error(`${m.name}: unknown network ${nic.network}`);
      const segment = segmentFor(network, m.name);
      // Unique in the segment netns, which also holds lo and the bridge.
      const port = deriveIfname(`${m.name}-${nic.name}`, new Set(['lo', SEGMENT_BRIDGE, ...segment.ports]));
      segment.ports.push(port);
      return {
        ifname: nic.name,
        network: nic.network,
        address: nic.address,
        prefix: networkOf(network.cidr).prefix,
        segmentNetns: segment.netns,
        segmentPort: port,
      };
    });
    const routeNic = defaultRouteNic(m, networks);
    const gateway = routeNic ? networks.get(routeNic.network)?.gateway : undefined;
    return {
      kind,
      name: m.name,
      netns,
      nics,
      ...(routeNic && gateway ? { defaultRoute: { dst: 'default', via: gateway, dev: routeNic.name } } : {}),
    };
  };

  const podCIDR = networkOf(lab.cluster.podCIDR);
  const bridgeNf = new Map(lab.nodes.map((n) => [n.name, n.bridgeNfCallIptables !== false]));
  const nodes = lab.nodes.map((spec, i): PlannedNode => {
    const machine = planMachine('node', spec, nodeNetns(lab.name, spec.name));
    const nodeCidr = nthSubnet(podCIDR, lab.cluster.nodeCIDRMaskSize, i);
    const flannelNic = pickFlannelNic(spec, networks);
    return {
      ...machine,
      kind: 'node',
      roles: spec.roles,
      labels: spec.labels,
      nodeIP: pickNodeIP(spec, networks),
      ...(spec.hairpin === false ? { hairpin: false as const } : {}),
      flannelIface: flannelNic.name,
      flannelIP: flannelNic.address,
      podCIDR: cidrToString(nodeCidr),
      podGateway: `${nthAddress(nodeCidr, 1)}/${nodeCidr.prefix}`,
      podRoutes: [],
    };
  });
  const warnings = lab.cluster.podNetwork === 'vxlan' ? planVxlan(lab.name, nodes) : planPodRoutes(nodes);
  warnings.push(...sharedNodeIPWarnings(nodes));

  const hosts = lab.hosts.map((h) => planMachine('host', h, hostNetns(lab.name, h.name)));
  const plannedSegments = [...segments.values()];
  return {
    lab: lab.name,
    segments: plannedSegments,
    nodes,
    hosts,
    sysctls: planSysctls(nodes, hosts, plannedSegments, bridgeNf),
    clusterPodCIDR: lab.cluster.podCIDR,
    podNetwork: lab.cluster.podNetwork,
    warnings,
  };
}

/** The NIC holding the default route: the one marked so, else the first on a network with a gateway. */
function defaultRouteNic(m: MachineSpec, networks: Map<string, NetworkSpec>) {
  return m.nics.find((n) => n.defaultRoute) ?? m.nics.find((n) => networks.get(n.network)?.gateway);
}

/**
 * As the kubelet: --node-ip, else the node name's address lookup (no lab
 * node's /etc/hosts or DNS knows its name, so that step never answers here),
 * else the address of the default route's interface, else the first.
 */
function pickNodeIP(node: NodeSpec, networks: Map<string, NetworkSpec>): string {
  if (node.nodeIP) return node.nodeIP;
  const nic = defaultRouteNic(node, networks) ?? node.nics[0];
  if (!nic) throw new Error(`node ${node.name} has no NIC`);
  return nic.address;
}

/** As flanneld: --iface, else the default route's interface, else the first. */
function pickFlannelNic(node: NodeSpec, networks: Map<string, NetworkSpec>) {
  const nic =
    (node.iface ? node.nics.find((n) => n.name === node.iface) : undefined) ??
    defaultRouteNic(node, networks) ??
    node.nics[0];
  if (!nic) throw new Error(`node ${node.name} has no NIC`);
  return nic;
}

/**
 * flannel host-gw: a route to every other node's pod CIDR via that node's
 * public IP. The kernel refuses a next hop that is one of our own addresses
 * or not on the outgoing interface's subnet; flannel then logs an error and
 * the route is missing. The plan keeps that behaviour and says why.
 */
function planPodRoutes(nodes: PlannedNode[]): string[] {
  const warnings: string[] = [];
  for (const node of nodes) {
    const nic = node.nics.find((n) => n.ifname === node.flannelIface);
    if (!nic) continue;
    const subnet = networkOf(`${nic.address}/${nic.prefix}`);
    const own = new Set(node.nics.map((n) => n.address));
    for (const peer of nodes) {
      if (peer === node) continue;
      if (own.has(peer.flannelIP)) {
        warnings.push(
          `node ${node.name}: no route to ${peer.name}'s pods ${peer.podCIDR}: flannel's next hop ` +
            `${peer.flannelIP} is ${node.name}'s own address (set iface on the nodes to the NIC they share)`,
        );
      } else if (!containsAddress(subnet, peer.flannelIP)) {
        warnings.push(
          `node ${node.name}: no route to ${peer.name}'s pods ${peer.podCIDR}: next hop ${peer.flannelIP} ` +
            `is not on ${node.name}'s ${nic.ifname} (${cidrToString(subnet)})`,
        );
      } else {
        node.podRoutes.push({ dst: peer.podCIDR, via: peer.flannelIP, dev: nic.ifname });
      }
    }
  }
  return warnings;
}

function sharedNodeIPWarnings(nodes: PlannedNode[]): string[] {
  const byIP = new Map<string, string[]>();
  for (const n of nodes) byIP.set(n.nodeIP, [...(byIP.get(n.nodeIP) ?? []), n.name]);
  return [...byIP.entries()]
    .filter(([, names]) => names.length > 1)
    .map(
      ([ip, names]) =>
        `nodes ${names.join(', ')} all register INTERNAL-IP ${ip} (kubelet picks the default route's NIC; set nodeIP)`,
    );
}

function planSysctls(nodes: PlannedNode[], hosts: PlannedMachine[], segments: PlannedSegment[], bridgeNf: Map<string, boolean>): PlannedSysctl[] {
  const out: PlannedSysctl[] = [];
  for (const n of nodes) {
    // A new netns copies IPv4 settings from the root netns, so set both ways explicitly.
    out.push({ netns: n.netns, key: 'net.ipv4.ip_forward', value: '1' });
    out.push({ netns: n.netns, key: 'net.bridge.bridge-nf-call-iptables', value: bridgeNf.get(n.name) === false ? '0' : '1' });
    out.push({ netns: n.netns, key: 'net.bridge.bridge-nf-call-ip6tables', value: '1' });
  }
  // Hosts are plain machines; segment routers are silent sinks (a router with
  // forwarding off drops without an ICMP error), so traffic leaving the lab dies quietly.
  for (const ns of [...hosts.map((h) => h.netns), ...segments.map((s) => s.netns)]) {
    out.push({ netns: ns, key: 'net.ipv4.ip_forward', value: '0' });
  }
  return out;
}

export function allNetns(plan: TopologyPlan): string[] {
  return [...plan.segments.map((s) => s.netns), ...plan.nodes.map((n) => n.netns), ...plan.hosts.map((h) => h.netns)];
}
