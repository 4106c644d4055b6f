// The lab file, after parsing and validation. Every field has its default
// filled in, so later layers never guess.

export type ProxyMode = 'iptables' | 'ipvs' | 'nftables';

/** kube-proxy's --ipvs-scheduler values (the ip_vs_* scheduler modules). */
export const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh'] as const;
export type IpvsScheduler = (typeof IPVS_SCHEDULERS)[number];
export type PodNetworkBackend = 'host-gw' | 'vxlan';

export interface NetworkSpec {
  name: string;
  /** IPv4 CIDR of the segment, e.g. "192.168.10.0/24". */
  cidr: string;
  /**
   * Address of the segment's router. Machines on the segment route their
   * default traffic to it; the router forwards nothing (a silent sink), so
   * traffic that leaves the lab is dropped instead of reaching the machine.
   */
  gateway?: string;
  /**
   * Every machine attached gets its own private copy of the segment, as
   * VirtualBox does with each VM's NAT NIC (all of them 10.0.2.15).
   */
  perMachine: boolean;
}

export interface NicSpec {
  network: string;
  /** IPv4 address without prefix; the prefix comes from the network. */
  address: string;
  /** Interface name inside the machine; default eth0, eth1, ... */
  name: string;
  /**
   * This NIC holds the machine's default route (via its network's gateway).
   * When no NIC says so, the first NIC on a network with a gateway holds it.
   */
  defaultRoute: boolean;
}

export interface MachineSpec {
  name: string;
  nics: NicSpec[];
}

export interface NodeSpec extends MachineSpec {
  roles: string[];
  /** kubelet --node-ip. Unset: the address of the NIC holding the default route (see NicSpec.defaultRoute), else the first NIC's. */
  nodeIP?: string;
  /** flannel --iface. Unset: the NIC holding the default route, else the first NIC. */
  iface?: string;
  /** Hairpin mode on the pod ports of cni0 (the CNI bridge plugin's hairpinMode). Unset: on, as kube-flannel.yml has it. */
  hairpin?: boolean;
  /** The node's net.bridge.bridge-nf-call-iptables (br_netfilter). Unset: on, as kubeadm requires. */
  bridgeNfCallIptables?: boolean;
  labels: Record<string, string>;
}

export interface HostSpec extends MachineSpec {
  /**
   * The host plays the outside world's DNS resolver: it answers these names
   * (name -> IPv4 address) on port 53 and refuses the rest. The lab's nodes
   * use the first such host as their upstream (their resolv.conf), so the
   * cluster DNS forwards names outside the cluster to it.
   */
  dnsRecords: Record<string, string>;
}

export interface ClusterSpec {
  podCIDR: string;
  /** Prefix length of each node's pod CIDR (kube-controller-manager --node-cidr-mask-size). */
  nodeCIDRMaskSize: number;
  serviceCIDR: string;
  nodePortRange: { base: number; size: number };
  proxyMode: ProxyMode;
  /** cluster.ipvs, only when the file gives it (proxyMode ipvs; absent: scheduler rr, kube-proxy's default). */
  ipvs?: { scheduler: IpvsScheduler };
  podNetwork: PodNetworkBackend;
  dns: { domain: string };
}

/** An empty expectation means: exit code 0. */
export interface CheckExpectation {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

export interface CheckSpec {
  name: string;
  /** "pod/NAME", "pod/LABEL=VALUE", "node/NAME" or "host/NAME". */
  from: string;
  run: string;
  expect: CheckExpectation;
  /** Seconds to keep retrying before the check fails. */
  timeout: number;
}

export interface LabSpec {
  name: string;
  /** Absolute path of the lab file ("<inline>" when parsed from text). */
  file: string;
  networks: NetworkSpec[];
  nodes: NodeSpec[];
  hosts: HostSpec[];
  cluster: ClusterSpec;
  /** Absolute paths of the manifest files, in order. */
  manifests: string[];
  checks: CheckSpec[];
}

/** One problem in an input file, located precisely enough to fix it. */
export interface SpecProblem {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the field, e.g. "spec.nodes[1].nics[0].address". */
  field: string;
  message: string;
}
