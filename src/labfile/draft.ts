// The lab file as read, before cross-field checks: every value keeps its
// position, and a value that was wrong in itself is left undefined so later
// checks skip it instead of piling up follow-on problems.
import type { CheckExpectation, IpvsScheduler, PodNetworkBackend, ProxyMode } from './types.js';
import type { Cidr } from './ipv4.js';
import type { At, Val } from './walker.js';

export interface NetworkDraft {
  at: At;
  name?: Val<string>;
  /** The name as written, even when invalid, so NICs naming it are not also reported. */
  writtenName?: string;
  cidr?: Val<Cidr>;
  gateway?: Val<string>;
  perMachine: boolean;
}

export interface NicDraft {
  at: At;
  network?: Val<string>;
  address?: Val<string>;
  /** Implicit eth<N> when not written. */
  name?: Val<string>;
  defaultRoute?: Val<boolean>;
}

export interface HostDraft {
  kind: 'host';
  at: At;
  name?: Val<string>;
  nics: NicDraft[];
  dnsRecords?: Record<string, string>;
}

export interface NodeDraft extends Omit<HostDraft, 'kind' | 'dnsRecords'> {
  kind: 'node';
  roles: string[];
  nodeIP?: Val<string>;
  iface?: Val<string>;
  hairpin?: Val<boolean>;
  bridgeNfCallIptables?: Val<boolean>;
  labels: Record<string, string>;
}

export type MachineDraft = NodeDraft | HostDraft;

export interface ClusterDraft {
  podCIDR?: Val<Cidr>;
  nodeCIDRMaskSize?: Val<number>;
  serviceCIDR?: Val<Cidr>;
  nodePortRange?: { base: number; size: number };
  proxyMode?: ProxyMode;
  ipvsScheduler?: IpvsScheduler;
  podNetwork?: PodNetworkBackend;
  domain?: string;
}

/** A check's `from` that names a machine of the lab, which must exist. */
export interface MachineRef {
  kind: 'node' | 'host';
  name: string;
}

export interface CheckDraft {
  at: At;
  name?: Val<string>;
  from?: Val<string>;
  fromMachine?: MachineRef;
  run?: Val<string>;
  expect?: CheckExpectation;
  timeout?: number;
}

export interface LabDraft {
  name?: Val<string>;
  networks: NetworkDraft[];
  nodes: NodeDraft[];
  hosts: HostDraft[];
  cluster: ClusterDraft;
  manifests: string[];
  checks: CheckDraft[];
}
