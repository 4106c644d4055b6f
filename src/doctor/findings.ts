// What `nslab doctor` concludes from a running lab's state: each problem with
// its evidence and the fix a trainer would give. Pure: the state is gathered
// elsewhere (gather.ts), so every rule is unit-tested on plain data.
import type { PlannedNode, TopologyPlan } from '../plan/topology.js';

export interface FdbEntry {
  mac: string;
  dst: string;
}

/** One node as the API and its kernel show it. */
export interface NodeState {
  name: string;
  /** status.addresses InternalIP of the Node object. */
  internalIP?: string;
  /** The Node's flannel.alpha.coreos.com/public-ip annotation. */
  publicIP?: string;
  /** IPv4 addresses on the node's own interfaces, with the interface: "10.0.2.15" -> "enp0s3". */
  addresses: Record<string, string>;
  /** flannel.1 as the kernel has it, if it exists. */
  vtep?: { local: string; dev?: string };
  fdb: FdbEntry[];
  /** cni0's ports whose hairpin mode is off. */
  hairpinOff?: string[];
  /** The node's sysctls as read: "1" or "0" (absent when unreadable). */
  sysctls?: Partial<Record<'net.ipv4.ip_forward' | 'net.bridge.bridge-nf-call-iptables', string>>;
}

export type FindingId =
  | 'shared-internal-ip'
  | 'flannel-public-ip-unreachable'
  | 'fdb-own-address'
  | 'fdb-unreachable'
  | 'hairpin-off'
  | 'bridge-nf-call-iptables-off'
  | 'ip-forward-off'
  | 'coredns-unreachable';

/** A cluster DNS pod: where it runs and its address. */
export interface DnsEndpoint {
  pod: string;
  node: string;
  ip: string;
}

export interface Finding {
  id: FindingId;
  /** The nodes concerned. */
  nodes: string[];
  summary: string;
  evidence: string[];
  fix: string;
}

export interface DoctorReport {
  lab: string;
  healthy: boolean;
  findings: Finding[];
}

export function diagnose(plan: TopologyPlan, states: NodeState[], dns: DnsEndpoint[] = []): DoctorReport {
  const findings = [
    ...sharedInternalIP(plan, states),
    ...publicIPs(plan, states),
    ...fdbEntries(plan, states),
    ...nodeSettings(states),
    ...dnsReach(plan, states, dns),
  ];
  return { lab: plan.lab, healthy: findings.length === 0, findings };
}

/** The NIC of `node` on a network every node shares (not a per-machine copy), for the fix text. */
function sharedNic(plan: TopologyPlan, node: PlannedNode) {
  const perMachine = new Set(plan.segments.filter((s) => s.machine !== undefined).map((s) => s.netns));
  return node.nics.find(
    (nic) => !perMachine.has(nic.segmentNetns) && plan.nodes.every((n) => n.nics.some((m) => m.segmentNetns === nic.segmentNetns)),
  );
}

/** Whether a packet from `from` to `ip` reaches a machine: its own address, or a node on a segment it is attached to. */
function reachable(plan: TopologyPlan, from: PlannedNode, ip: string): 'own' | 'peer' | 'no' {
  if (from.nics.some((n) => n.address === ip)) return 'own';
  const segments = new Set(from.nics.map((n) => n.segmentNetns));
  return plan.nodes.some((n) => n !== from && n.nics.some((nic) => nic.address === ip && segments.has(nic.segmentNetns))) ? 'peer' : 'no';
}

function sharedInternalIP(plan: TopologyPlan, states: NodeState[]): Finding[] {
  const byIP = new Map<string, string[]>();
  for (const s of states) if (s.internalIP) byIP.set(s.internalIP, [...(byIP.get(s.internalIP) ?? []), s.name]);
  return [...byIP.entries()]
    .filter(([, names]) => names.length > 1)
    .map(([ip, names]) => {
      const fixes = names.map((name) => {
        const node = plan.nodes.find((n) => n.name === name);
        const nic = node ? sharedNic(plan, node) : undefined;
        return nic ? `${name}: --node-ip=${nic.address}` : `${name}: --node-ip=<its address on the network the nodes share>`;
      });
      return {
        id: 'shared-internal-ip' as const,
        nodes: names,
        summary: `nodes ${names.join(', ')} all report INTERNAL-IP ${ip}`,
        evidence: [
          ...names.map((n) => `kubectl get node ${n}: InternalIP ${ip}`),
          `the apiserver dials ${ip}:10250 for exec and logs of pods on any of them, so it reaches one kubelet only ("unable to upgrade connection: pod does not exist")`,
        ],
        fix:
          `give each kubelet its own address: KUBELET_EXTRA_ARGS=--node-ip=<address> in /etc/default/kubelet, then systemctl restart kubelet ` +
          `(${fixes.join('; ')}; in nslab: nslab node set NODE --node-ip ADDRESS, or nodeIP in the lab file)`,
      };
    });
}

function ifaceFix(plan: TopologyPlan, node: PlannedNode | undefined): string {
  const nic = node ? sharedNic(plan, node) : undefined;
  const iface = nic?.ifname ?? '<the NIC the nodes share>';
  return (
    `run flannel on the NIC the nodes share: add "- --iface=${iface}" to the kube-flannel container's args in kube-flannel.yml and re-apply it ` +
    `(kubectl -n kube-flannel edit ds kube-flannel-ds; in the lab file: iface: ${iface})`
  );
}

function publicIPs(plan: TopologyPlan, states: NodeState[]): Finding[] {
  const out: Finding[] = [];
  for (const s of states) {
    const node = plan.nodes.find((n) => n.name === s.name);
    if (!node || !s.publicIP) continue;
    const nic = node.nics.find((n) => n.address === s.publicIP);
    const segment = nic ? plan.segments.find((g) => g.netns === nic.segmentNetns) : undefined;
    const unreachableFrom = plan.nodes.filter((peer) => peer !== node && reachable(plan, peer, s.publicIP ?? '') !== 'peer').map((p) => p.name);
    const perMachine = segment?.machine !== undefined;
    if (!perMachine && unreachableFrom.length === 0) continue;
    out.push({
      id: 'flannel-public-ip-unreachable',
      nodes: [s.name],
      summary: perMachine
        ? `node ${s.name}: flannel's public IP ${s.publicIP} is on ${segment?.network ?? 'a'} network, a per-machine (NAT) network`
        : `node ${s.name}: flannel's public IP ${s.publicIP} is not reachable from ${unreachableFrom.join(', ')}`,
      evidence: [
        `kubectl get node ${s.name}: flannel.alpha.coreos.com/public-ip=${s.publicIP}`,
        ...(nic ? [`${s.name}'s ${nic.ifname} holds ${s.publicIP}${perMachine ? `; every machine has its own copy of ${segment?.network ?? 'that network'}` : ''}`] : []),
        ...(unreachableFrom.length > 0 ? [`${unreachableFrom.join(', ')} cannot reach ${s.publicIP} as ${s.name}: vxlan packets for ${s.name}'s pods never arrive`] : []),
      ],
      fix: ifaceFix(plan, node),
    });
  }
  return out;
}

function fdbEntries(plan: TopologyPlan, states: NodeState[]): Finding[] {
  const out: Finding[] = [];
  for (const s of states) {
    const node = plan.nodes.find((n) => n.name === s.name);
    if (!node) continue;
    const own = s.fdb.filter((e) => reachable(plan, node, e.dst) === 'own' || s.addresses[e.dst] !== undefined);
    const gone = s.fdb.filter((e) => !own.includes(e) && reachable(plan, node, e.dst) === 'no');
    const line = (e: FdbEntry) => `${s.name}: bridge fdb: ${e.mac} dev flannel.1 dst ${e.dst} self permanent`;
    if (own.length > 0) {
      out.push({
        id: 'fdb-own-address',
        nodes: [s.name],
        summary: `node ${s.name}: the vxlan FDB sends other nodes' pod traffic to ${[...new Set(own.map((e) => e.dst))].join(', ')}, ${s.name}'s own address: the frames never leave ${s.name}`,
        evidence: [
          ...own.map(line),
          ...own.map((e) => `${e.dst} is ${s.name}'s own address (${s.addresses[e.dst] ?? node.nics.find((n) => n.address === e.dst)?.ifname ?? '?'})`),
          ...(s.vtep ? [`${s.name}: flannel.1 local ${s.vtep.local}${s.vtep.dev ? ` dev ${s.vtep.dev}` : ''}`] : []),
        ],
        fix: ifaceFix(plan, node),
      });
    }
    if (gone.length > 0) {
      out.push({
        id: 'fdb-unreachable',
        nodes: [s.name],
        summary: `node ${s.name}: the vxlan FDB sends pod traffic to ${[...new Set(gone.map((e) => e.dst))].join(', ')}, which ${s.name} cannot reach`,
        evidence: gone.map(line),
        fix: ifaceFix(plan, node),
      });
    }
  }
  return out;
}

function nodeSettings(states: NodeState[]): Finding[] {
  const out: Finding[] = [];
  for (const s of states) {
    if (s.hairpinOff && s.hairpinOff.length > 0) {
      out.push({
        id: 'hairpin-off',
        nodes: [s.name],
        summary: `node ${s.name}: hairpin mode is off on ${s.hairpinOff.length} cni0 port${s.hairpinOff.length === 1 ? '' : 's'}: a pod calling a Service hangs whenever it picks the pod itself`,
        evidence: s.hairpinOff.map((p) => `${s.name}: ip -d link show ${p}: master cni0 ... hairpin off`),
        fix: 'turn hairpin mode on: "hairpinMode": true in the CNI config (kube-flannel.yml cni-conf.json has it), or the kubelet\'s --hairpin-mode=hairpin-veth; new pods get it',
      });
    }
    if (s.sysctls?.['net.bridge.bridge-nf-call-iptables'] === '0') {
      out.push({
        id: 'bridge-nf-call-iptables-off',
        nodes: [s.name],
        summary: `node ${s.name}: net.bridge.bridge-nf-call-iptables is 0: replies between pods on one bridge skip iptables, so same-node pod -> ClusterIP -> same-node pod fails ("reply from unexpected source")`,
        evidence: [`${s.name}: sysctl net.bridge.bridge-nf-call-iptables = 0`],
        fix: 'modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1, and keep it in /etc/sysctl.d/k8s.conf (kubeadm\'s preflight asks for it)',
      });
    }
    if (s.sysctls?.['net.ipv4.ip_forward'] === '0') {
      out.push({
        id: 'ip-forward-off',
        nodes: [s.name],
        summary: `node ${s.name}: net.ipv4.ip_forward is 0: the node routes nothing for its pods`,
        evidence: [`${s.name}: sysctl net.ipv4.ip_forward = 0`],
        fix: 'sysctl -w net.ipv4.ip_forward=1, and keep it in /etc/sysctl.d/k8s.conf',
      });
    }
  }
  return out;
}

/**
 * vxlan only: node `from` reaches `to`'s pods when its FDB sends `to`'s
 * VtepMAC to an address of `to` on a segment they share.
 */
function podsReachable(plan: TopologyPlan, from: NodeState, to: PlannedNode): boolean {
  const self = plan.nodes.find((n) => n.name === from.name);
  if (!self?.vtep || !to.vtep) return true;
  const entry = from.fdb.find((e) => e.mac === to.vtep?.mac);
  return entry !== undefined && to.nics.some((n) => n.address === entry.dst) && reachable(plan, self, entry.dst) === 'peer';
}

function dnsReach(plan: TopologyPlan, states: NodeState[], dns: DnsEndpoint[]): Finding[] {
  if (dns.length === 0) return [];
  const out: Finding[] = [];
  for (const s of states) {
    const reached = dns.filter((d) => {
      const to = plan.nodes.find((n) => n.name === d.node);
      return d.node === s.name || !to || podsReachable(plan, s, to);
    });
    if (reached.length > 0) continue;
    out.push({
      id: 'coredns-unreachable',
      nodes: [s.name],
      summary: `node ${s.name}: no CoreDNS endpoint is reachable from it (${dns.map((d) => `${d.ip} on ${d.node}`).join(', ')}): names fail there while addresses may work`,
      evidence: dns.map((d) => {
        const mac = plan.nodes.find((n) => n.name === d.node)?.vtep?.mac;
        const entry = s.fdb.find((e) => e.mac === mac);
        return `${d.pod} ${d.ip} on ${d.node}: ${s.name}'s FDB sends ${d.node}'s VtepMAC ${entry ? `to ${entry.dst}, not an address of ${d.node} it reaches` : 'nowhere'}`;
      }),
      fix: `fix the pod network between ${s.name} and ${[...new Set(dns.map((d) => d.node))].join(', ')} (see the findings above); "kubectl -n kube-system rollout restart deployment coredns" only helps by chance, when a replica lands on a reachable node`,
    });
  }
  return out;
}

/** The report as a trainer would say it. */
export function reportText(r: DoctorReport): string {
  if (r.healthy) return `Lab "${r.lab}": no problems found.`;
  const blocks = r.findings.map((f) =>
    [`✗ ${f.summary}  [${f.id}]`, ...f.evidence.map((e) => `    ${e}`), `  fix: ${f.fix}`].join('\n'),
  );
  return [...blocks, `Lab "${r.lab}": ${r.findings.length} problem${r.findings.length === 1 ? '' : 's'} found.`].join('\n\n');
}
