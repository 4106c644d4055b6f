// One node's kube-proxy in the lab's proxy mode: the shared sync loop with the
// mode's backend (iptables, nftables, ipvs). Modes nslab cannot build are refused here as in `up`.
import type { IpvsScheduler, ProxyMode } from '../labfile/types.js';
import type { CommandRunner } from '../sys/runner.js';
import { IptablesProxier } from './iptables-proxier.js';
import { IpvsProxier } from './ipvs-proxier.js';
import { unavailableProxyMode } from './modes.js';
import { NftablesProxier } from './nftables-proxier.js';
import type { ProxySyncLoop } from './sync-loop.js';

export interface NodeProxierConfig {
  mode: ProxyMode;
  netns: string;
  runner: CommandRunner;
  nodeName: string;
  nodeIP: string;
  /** The cluster's pod network: traffic from it counts as local (no masquerade). */
  clusterCIDR: string;
  serviceCIDR: string;
  /** cluster.ipvs.scheduler (ipvs mode; default rr). */
  ipvsScheduler?: IpvsScheduler;
  onError?: (err: Error) => void;
}

export function createNodeProxier(c: NodeProxierConfig): ProxySyncLoop {
  const problem = unavailableProxyMode(c.mode);
  if (problem !== undefined) throw new Error(problem);
  const common = { netns: c.netns, runner: c.runner, nodeName: c.nodeName, nodeIP: c.nodeIP, clusterCIDR: c.clusterCIDR, ...(c.onError ? { onError: c.onError } : {}) };
  if (c.mode === 'nftables') return new NftablesProxier({ ...common, serviceCIDRs: [c.serviceCIDR] });
  if (c.mode === 'ipvs') return new IpvsProxier({ ...common, ...(c.ipvsScheduler ? { scheduler: c.ipvsScheduler } : {}) });
  return new IptablesProxier(common);
}
