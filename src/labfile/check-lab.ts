// Rules that relate several fields of a lab: unique names, references
// between sections, addresses against their networks, and the cluster's
// address ranges against each other and against the networks.
import type { CheckDraft, ClusterDraft, HostDraft, LabDraft, MachineDraft, NetworkDraft, NicDraft, NodeDraft } from './draft.js';
import { cidrContains, cidrsOverlap, cidrToString, ipToNumber, lastAddress, numberToIp, type Cidr } from './ipv4.js';
import { listWords, notAmong } from './names.js';
import type { At, Val, Walker } from './walker.js';

/** kube-controller-manager refuses node subnets more than 16 bits longer than the cluster CIDR. */
const NODE_MASK_MAX_DIFF = 16;

export function checkLab(w: Walker, lab: LabDraft): void {
  const networks = checkNetworks(w, lab.networks);
  const machines: MachineDraft[] = [...lab.nodes, ...lab.hosts];
  checkMachineNames(w, machines);
  const written = new Set(lab.networks.flatMap((n) => (n.writtenName === undefined ? [] : [n.writtenName])));
  for (const m of machines) checkNics(w, m, networks, written);
  checkSharedAddresses(w, machines, networks);
  for (const node of lab.nodes) checkNodeChoices(w, node);
  checkCluster(w, lab.cluster, lab.networks, lab.nodes.length);
  checkChecks(w, lab.checks, lab.nodes, lab.hosts);
}

/** Where something was first defined, for "already ... at line N" messages. */
function lineOf(at: At): string {
  return `line ${at.line}`;
}

/** Reports every repeat of a name after its first use. */
function reportDuplicates<T>(
  w: Walker,
  items: readonly T[],
  nameOf: (item: T) => Val<string> | undefined,
  message: (name: string, first: T, firstAt: At, repeat: T) => string,
): void {
  const first = new Map<string, { item: T; at: At }>();
  for (const item of items) {
    const name = nameOf(item);
    if (!name) continue;
    const seen = first.get(name.value);
    if (seen) w.report(name.at, message(name.value, seen.item, seen.at, item));
    else first.set(name.value, { item, at: name.at });
  }
}

/** The networks by name (first definition wins), after checking them. */
function checkNetworks(w: Walker, networks: readonly NetworkDraft[]): Map<string, NetworkDraft> {
  reportDuplicates(
    w,
    networks,
    (n) => n.name,
    (name, _first, at) => `network "${name}" is already defined at ${lineOf(at)}; give each network its own name`,
  );
  const byName = new Map<string, NetworkDraft>();
  for (const n of networks) {
    if (n.name && !byName.has(n.name.value)) byName.set(n.name.value, n);
    if (n.cidr && n.gateway) {
      const problem = hostAddressProblem(n.gateway.value, n.cidr.value, `this network's cidr`);
      if (problem) w.report(n.gateway.at, problem);
    }
  }
  return byName;
}

/** Why `address` cannot be a machine's address in `cidr`, or undefined. */
function hostAddressProblem(address: string, cidr: Cidr, where: string): string | undefined {
  const n = ipToNumber(address);
  const range = `${numberToIp(cidr.base + 1)}-${numberToIp(lastAddress(cidr) - 1)}`;
  const net = `${where} ${cidrToString(cidr)}`;
  if (!cidrContains(cidr, n)) return `${address} is outside ${net}; use an address in ${range}`;
  if (n === cidr.base) return `${address} is the network address of ${net}; use an address in ${range}`;
  if (n === lastAddress(cidr)) return `${address} is the broadcast address of ${net}; use an address in ${range}`;
  return undefined;
}

function machineLabel(m: MachineDraft): string {
  return `${m.kind} ${m.name?.value ?? '(unnamed)'}`;
}

function checkMachineNames(w: Walker, machines: readonly MachineDraft[]): void {
  reportDuplicates(
    w,
    machines,
    (m) => m.name,
    (name, first, at, repeat) =>
      `name "${name}" is already used by the ${first.kind} at ${lineOf(at)}; ` +
      `nodes and hosts share one set of names, so give this ${repeat.kind} another name`,
  );
}

/** `written` holds network names as written, valid or not. */
function checkNics(w: Walker, m: MachineDraft, networks: ReadonlyMap<string, NetworkDraft>, written: ReadonlySet<string>): void {
  reportDuplicates(
    w,
    m.nics,
    (nic) => nic.name,
    (name, first, at) =>
      `NIC name "${name}" is already used by the NIC at ${lineOf(at)}` +
      (first.name?.implicit ? ` (NIC ${m.nics.indexOf(first)} is ${name} by default)` : '') +
      '; give each NIC of a machine its own name',
  );
  let routeNic: NicDraft | undefined;
  for (const nic of m.nics) {
    const network = nic.network && networks.get(nic.network.value);
    if (nic.network && !network && !written.has(nic.network.value)) {
      w.report(nic.network.at, unknownNetwork(nic.network.value, networks));
    }
    if (network) checkNicAddress(w, nic, network);
    if (!nic.defaultRoute?.value) continue;
    if (routeNic) {
      w.report(
        nic.defaultRoute.at,
        `only one NIC of a machine can hold the default route, and ${routeNic.name?.value ?? 'another NIC'} ` +
          `(${lineOf(routeNic.at)}) already does; remove defaultRoute from one of them`,
      );
    }
    routeNic ??= nic;
    if (network && !network.gateway) {
      w.report(
        nic.defaultRoute.at,
        `network "${nic.network?.value}" has no gateway to route through; add gateway: to the network or remove defaultRoute`,
      );
    }
  }
}

function unknownNetwork(name: string, networks: ReadonlyMap<string, NetworkDraft>): string {
  if (networks.size === 0) return `no network named "${name}"; define it under spec.networks`;
  return `no network named "${name}": ${notAmong(name, [...networks.keys()], 'networks')}`;
}

function checkNicAddress(w: Walker, nic: NicDraft, network: NetworkDraft): void {
  if (!nic.address || !network.cidr || !network.name) return;
  const problem = hostAddressProblem(nic.address.value, network.cidr.value, `network "${network.name.value}"`);
  if (problem) w.report(nic.address.at, problem);
  else if (nic.address.value === network.gateway?.value) {
    w.report(nic.address.at, `${nic.address.value} is the gateway of network "${network.name.value}"; use another address`);
  }
}

/**
 * Two NICs on one segment may not share an address. A perMachine network is
 * one segment per machine, so there only a machine's own NICs can clash.
 */
function checkSharedAddresses(w: Walker, machines: readonly MachineDraft[], networks: ReadonlyMap<string, NetworkDraft>): void {
  const taken = new Map<string, { m: MachineDraft; at: At }>();
  machines.forEach((m, index) => {
    for (const nic of m.nics) {
      const network = nic.network && networks.get(nic.network.value);
      if (!network || !nic.address) continue;
      // Networks are keyed by name; a machine by its index, as its name may be invalid.
      const segment = network.perMachine ? `${nic.network?.value}\0${index}` : `${nic.network?.value}`;
      const key = `${segment}\0${nic.address.value}`;
      const first = taken.get(key);
      if (!first) {
        taken.set(key, { m, at: nic.address.at });
        continue;
      }
      w.report(
        nic.address.at,
        `${nic.address.value} is already used on network "${network.name?.value}" by ${machineLabel(first.m)} (${lineOf(first.at)}); ` +
          'give each NIC on a shared network its own address',
      );
    }
  });
}

function checkNodeChoices(w: Walker, node: NodeDraft): void {
  const label = node.name ? ` of node ${node.name.value}` : ' of this node';
  // Only judged when every NIC is valid, so an invalid NIC does not cause a second problem here.
  const addresses = node.nics.flatMap((n) => (n.address ? [n.address.value] : []));
  if (node.nodeIP && addresses.length === node.nics.length && !addresses.includes(node.nodeIP.value)) {
    w.report(node.nodeIP.at, `${node.nodeIP.value} is not an address${label}; use one of its NIC addresses, ${listWords(addresses, 'or')}`);
  }
  const names = node.nics.flatMap((n) => (n.name ? [n.name.value] : []));
  if (node.iface && names.length === node.nics.length && !names.includes(node.iface.value)) {
    w.report(node.iface.at, `"${node.iface.value}" is not a NIC${label}: ${notAmong(node.iface.value, names, 'NIC names')}`);
  }
}

function checkCluster(w: Walker, c: ClusterDraft, networks: readonly NetworkDraft[], nodeCount: number): void {
  const ranges = [
    { name: 'podCIDR', v: c.podCIDR },
    { name: 'serviceCIDR', v: c.serviceCIDR },
  ];
  const [pod, svc] = ranges;
  if (pod?.v && svc?.v && cidrsOverlap(pod.v.value, svc.v.value)) {
    const at = svc.v.implicit ? pod.v.at : svc.v.at;
    w.report(at, `podCIDR ${cidrToString(pod.v.value)} and serviceCIDR ${cidrToString(svc.v.value)} overlap; pick ranges that do not`);
  }
  for (const { name, v } of ranges) {
    if (!v) continue;
    for (const n of networks) {
      if (!n.cidr || !cidrsOverlap(v.value, n.cidr.value)) continue;
      const what = `${name} ${cidrToString(v.value)}${v.implicit ? ' (the default)' : ''}`;
      const network = `network "${n.name?.value}" (${cidrToString(n.cidr.value)})`;
      if (v.implicit) w.report(n.cidr.at, `${network} overlaps the cluster's ${what}; change this cidr or set spec.cluster.${name}`);
      else w.report(v.at, `${what} overlaps ${network}; pick a range no network uses`);
    }
  }
  if (c.podCIDR && c.nodeCIDRMaskSize) checkNodeMask(w, c.podCIDR, c.nodeCIDRMaskSize, nodeCount);
}

function checkNodeMask(w: Walker, podCIDR: Val<Cidr>, mask: Val<number>, nodeCount: number): void {
  const prefix = podCIDR.value.prefix;
  const pods = `podCIDR ${cidrToString(podCIDR.value)}`;
  const at = mask.implicit ? podCIDR.at : mask.at;
  if (mask.value < prefix) {
    w.report(at, `nodeCIDRMaskSize ${mask.value} is shorter than the prefix of ${pods}; use ${prefix} or more`);
  } else if (mask.value - prefix > NODE_MASK_MAX_DIFF) {
    w.report(
      at,
      `nodeCIDRMaskSize ${mask.value} is more than ${NODE_MASK_MAX_DIFF} bits longer than the prefix of ${pods}, ` +
        `which kube-controller-manager refuses; use at most ${prefix + NODE_MASK_MAX_DIFF}`,
    );
  } else if (2 ** (mask.value - prefix) < nodeCount) {
    const room = 2 ** (mask.value - prefix);
    const fits = prefix + Math.ceil(Math.log2(nodeCount));
    w.report(
      at,
      `${pods} cut into /${mask.value} node subnets has room for ${room} nodes, but the lab has ${nodeCount}; ` +
        `use nodeCIDRMaskSize ${fits} or more, or a larger podCIDR`,
    );
  }
}

function checkChecks(w: Walker, checks: readonly CheckDraft[], nodes: readonly NodeDraft[], hosts: readonly HostDraft[]): void {
  reportDuplicates(
    w,
    checks,
    (c) => c.name,
    (name, _first, at) => `check "${name}" is already defined at ${lineOf(at)}; give each check its own name`,
  );
  const known = {
    node: nodes.flatMap((n) => (n.name ? [n.name.value] : [])),
    host: hosts.flatMap((h) => (h.name ? [h.name.value] : [])),
  };
  for (const check of checks) {
    const ref = check.fromMachine;
    if (!ref || !check.from || known[ref.kind].includes(ref.name)) continue;
    const other = ref.kind === 'node' ? 'host' : 'node';
    w.report(
      check.from.at,
      known[other].includes(ref.name)
        ? `no ${ref.kind} named "${ref.name}": ${ref.name} is a ${other}, so write ${other}/${ref.name}`
        : `no ${ref.kind} named "${ref.name}": ${notAmong(ref.name, known[ref.kind], `${ref.kind}s`)}`,
    );
  }
}
