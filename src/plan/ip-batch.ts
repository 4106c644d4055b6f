// Renders a topology plan into `ip -batch` input: one batch that creates the
// namespaces and the veth pairs (each end born directly in its namespace, so
// nothing ever appears in the root netns), then one batch per namespace that
// configures what is inside it. Pure, so the output is golden-tested.
import { VXLAN_DEVICE } from './vxlan.js';
import { allNetns, POD_BRIDGE, SEGMENT_BRIDGE, type PlannedMachine, type PlannedNode, type TopologyPlan } from './topology.js';

export interface IpBatches {
  /** Run first, with plain `ip -batch -`. */
  create: string[];
  /** Then one `ip -n NETNS -batch -` per entry; these are independent of each other. */
  configure: Array<{ netns: string; lines: string[] }>;
  /** Then one `bridge -n NETNS -batch -` per entry: vxlan FDB entries, which ip cannot write. */
  fdb: Array<{ netns: string; lines: string[] }>;
}

/**
 * Why `token` cannot be one word of an `ip -batch` line, or undefined. ip
 * splits batch lines at whitespace, reads '#' as the start of a comment, a
 * trailing '\' as a line continuation and quotes as grouping, so a token
 * holding any of these (or a control character, or nothing at all) would
 * make ip run something other than the plan.
 */
export function batchTokenProblem(token: string): string | undefined {
  if (token === '') return 'is empty';
  const bad = /[\s#\\"'\p{Cc}]/u.exec(token);
  return bad ? `contains ${JSON.stringify(bad[0])}` : undefined;
}

/**
 * One batch line from its words. Names from the lab file are validated long
 * before they get here; this refuses anything that slipped through, so a
 * validation gap fails loudly instead of turning into a different command.
 */
function line(...tokens: string[]): string {
  for (const token of tokens) {
    const problem = batchTokenProblem(token);
    if (problem) throw new Error(`internal error: ip -batch word ${JSON.stringify(token)} ${problem}`);
  }
  return tokens.join(' ');
}

// Device names always follow an explicit `name` or `dev` keyword: ip reads a
// bare word such as "up", "help" or "h" as a keyword (`link add up type veth`
// creates "veth0"), while the word after `name`/`dev` is always the name.
export function renderIpBatches(plan: TopologyPlan): IpBatches {
  const create = allNetns(plan).map((ns) => line('netns', 'add', ns));
  for (const m of machines(plan)) {
    for (const nic of m.nics) {
      create.push(
        line('link', 'add', 'name', nic.ifname, 'netns', m.netns, 'type', 'veth', 'peer', 'name', nic.segmentPort, 'netns', nic.segmentNetns),
      );
    }
  }

  const configure: IpBatches['configure'] = [];
  for (const s of plan.segments) {
    const lines = [line('link', 'set', 'dev', 'lo', 'up'), line('link', 'add', 'name', SEGMENT_BRIDGE, 'type', 'bridge')];
    if (s.gateway) lines.push(line('addr', 'add', s.gateway, 'dev', SEGMENT_BRIDGE));
    lines.push(line('link', 'set', 'dev', SEGMENT_BRIDGE, 'up'));
    for (const port of s.ports) lines.push(line('link', 'set', 'dev', port, 'master', SEGMENT_BRIDGE, 'up'));
    configure.push({ netns: s.netns, lines });
  }
  for (const m of machines(plan)) {
    const lines = [line('link', 'set', 'dev', 'lo', 'up')];
    for (const nic of m.nics) {
      lines.push(line('addr', 'add', `${nic.address}/${nic.prefix}`, 'dev', nic.ifname), line('link', 'set', 'dev', nic.ifname, 'up'));
    }
    if (m.kind === 'node') lines.push(...podNetworkLines(m as PlannedNode));
    if (m.defaultRoute) lines.push(line('route', 'add', 'default', 'via', m.defaultRoute.via, 'dev', m.defaultRoute.dev));
    configure.push({ netns: m.netns, lines });
  }
  const fdb = plan.nodes
    .filter((n) => n.vtep && n.vxlanPeers && n.vxlanPeers.length > 0)
    .map((n) => ({
      netns: n.netns,
      // As flannel's AddFDB: NTF_SELF, NUD_PERMANENT, replace.
      lines: (n.vxlanPeers ?? []).map((p) => line('fdb', 'replace', p.mac, 'dev', VXLAN_DEVICE, 'dst', p.publicIP, 'self', 'permanent')),
    }));
  return { create, configure, fdb };
}

function podNetworkLines(node: PlannedNode): string[] {
  return [
    line('link', 'add', 'name', POD_BRIDGE, 'type', 'bridge'),
    line('addr', 'add', node.podGateway, 'dev', POD_BRIDGE),
    line('link', 'set', 'dev', POD_BRIDGE, 'up'),
    ...vtepLines(node),
    ...node.podRoutes.map((r) => line('route', 'add', r.dst, 'via', r.via, 'dev', r.dev, ...(r.onlink ? ['onlink'] : []))),
  ];
}

/** flannel.1 and its neighbour entries, in flannel's order (device, address, ARP; FDB and routes follow). */
function vtepLines(node: PlannedNode): string[] {
  const v = node.vtep;
  if (!v) return [];
  return [
    line('link', 'add', 'name', v.device, 'type', 'vxlan', 'id', String(v.vni), 'local', v.local, 'dev', v.dev, 'nolearning', 'dstport', String(v.port)),
    line('link', 'set', 'dev', v.device, 'address', v.mac, 'mtu', String(v.mtu)),
    line('addr', 'add', v.address, 'dev', v.device),
    line('link', 'set', 'dev', v.device, 'up'),
    ...(node.vxlanPeers ?? []).map((p) => line('neigh', 'replace', p.gateway, 'lladdr', p.mac, 'dev', v.device, 'nud', 'permanent')),
  ];
}

/**
 * What flanneld does to a node when it restarts with another public IP
 * (--iface): its flannel.1 no longer matches, so it is deleted and made
 * again (ensureLink), with the ARP entries and routes for every peer; the
 * peers' flanneld see the changed public-ip annotation and replace their
 * FDB entry for this node. Pure.
 */
export function vxlanReprogram(plan: TopologyPlan, changed: string): { ip: Array<{ netns: string; lines: string[] }>; fdb: Array<{ netns: string; lines: string[] }> } {
  const node = plan.nodes.find((n) => n.name === changed);
  if (!node?.vtep) return { ip: [], fdb: [] };
  const routes = node.podRoutes.map((r) => line('route', 'replace', r.dst, 'via', r.via, 'dev', r.dev, ...(r.onlink ? ['onlink'] : [])));
  const all = renderIpBatches(plan).fdb;
  return {
    ip: [{ netns: node.netns, lines: [line('link', 'del', 'dev', node.vtep.device), ...vtepLines(node), ...routes] }],
    fdb: [
      ...all.filter((f) => f.netns === node.netns),
      ...plan.nodes
        .filter((n) => n !== node && n.vtep)
        .map((n) => ({ netns: n.netns, lines: [line('fdb', 'replace', node.vtep?.mac ?? '', 'dev', VXLAN_DEVICE, 'dst', node.flannelIP, 'self', 'permanent')] })),
    ],
  };
}

function machines(plan: TopologyPlan): PlannedMachine[] {
  return [...plan.nodes, ...plan.hosts];
}
