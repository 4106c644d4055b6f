// Renders a topology plan into `ip -batch` input: one batch that creates the
// namespaces and the veth pairs (each end born directly in its namespace, so
// nothing ever appears in the root netns), then one batch per namespace that
// configures what is inside it. Pure, so the output is golden-tested.
import { allNetns, POD_BRIDGE, SEGMENT_BRIDGE, type PlannedMachine, type PlannedNode, type TopologyPlan } from './topology.js';

export interface IpBatches {
  /** Run first, with plain `ip -batch -`. */
  create: string[];
  /** Then one `ip -n NETNS -batch -` per entry; these are independent of each other. */
  configure: Array<{ netns: string; lines: string[] }>;
}

export function renderIpBatches(plan: TopologyPlan): IpBatches {
  const create = allNetns(plan).map((ns) => `netns add ${ns}`);
  for (const m of machines(plan)) {
    for (const nic of m.nics) {
      create.push(`link add ${nic.ifname} netns ${m.netns} type veth peer name ${nic.segmentPort} netns ${nic.segmentNetns}`);
    }
  }

  const configure: IpBatches['configure'] = [];
  for (const s of plan.segments) {
    const lines = ['link set lo up', `link add ${SEGMENT_BRIDGE} type bridge`];
    if (s.gateway) lines.push(`addr add ${s.gateway} dev ${SEGMENT_BRIDGE}`);
    lines.push(`link set ${SEGMENT_BRIDGE} up`);
    for (const port of s.ports) lines.push(`link set ${port} master ${SEGMENT_BRIDGE} up`);
    configure.push({ netns: s.netns, lines });
  }
  for (const m of machines(plan)) {
    const lines = ['link set lo up'];
    for (const nic of m.nics) {
      lines.push(`addr add ${nic.address}/${nic.prefix} dev ${nic.ifname}`, `link set ${nic.ifname} up`);
    }
    if (m.kind === 'node') lines.push(...podNetworkLines(m as PlannedNode));
    if (m.defaultRoute) lines.push(`route add default via ${m.defaultRoute.via} dev ${m.defaultRoute.dev}`);
    configure.push({ netns: m.netns, lines });
  }
  return { create, configure };
}

function podNetworkLines(node: PlannedNode): string[] {
  return [
    `link add ${POD_BRIDGE} type bridge`,
    `addr add ${node.podGateway} dev ${POD_BRIDGE}`,
    `link set ${POD_BRIDGE} up`,
    ...node.podRoutes.map((r) => `route add ${r.dst} via ${r.via} dev ${r.dev}`),
  ];
}

function machines(plan: TopologyPlan): PlannedMachine[] {
  return [...plan.nodes, ...plan.hosts];
}
