// The proxy layer's public face: one change tracker and sync loop per node,
// with a backend per mode (iptables, nftables, ipvs), each a pure renderer plus an
// applier.
export {
  buildProxyState,
  renderIptables,
  renderIptablesRestore,
  LARGE_CLUSTER_ENDPOINTS_THRESHOLD,
  type IptablesProxyConfig,
  type IptablesRender,
  type ProxyState,
  type RenderRequest,
} from './iptables.js';
export { IptablesProxier, type IptablesProxierOptions, type SyncResult } from './iptables-proxier.js';
export { NftablesProxier, type NftablesProxierOptions } from './nftables-proxier.js';
export { IpvsProxier, type IpvsProxierOptions } from './ipvs-proxier.js';
export { renderIpvs, formatIpvsRender, type IpvsProxyConfig, type IpvsRender } from './ipvs.js';
export { ProxySyncLoop, type SyncLoopOptions } from './sync-loop.js';
export { ChangeTracker } from './tracker.js';
export type { ProxyBackend, BackendSyncReport, BackendSyncRequest } from './backend.js';
export { createNodeProxier, type NodeProxierConfig } from './create.js';
export { unavailableProxyMode, ipvsKernelProblem, AVAILABLE_PROXY_MODES } from './modes.js';
export { renderNftables, dumpNftables, type NftablesProxyConfig, type NftDesired } from './nftables.js';
export { nftTransaction } from './nft-transaction.js';
export {
  fullSyncExtras,
  jumpRuleArgs,
  jumpRuleSaveForm,
  kubeProxySysctls,
  missingJumpLines,
  KUBE_PROXY_JUMPS,
  KUBELET_JUMPS,
  type JumpRule,
  type Sysctl,
} from './node-setup.js';
export { expectedSave, normalizeSave, saveFormOfRule } from './save-form.js';
export { endpointChainName, portProtoHash, serviceChainNames } from './hash.js';
export { computeProbability, savedProbability } from './format.js';
export { servicePorts, endpointsOfSlices, categorizeEndpoints, type ServicePortInfo, type EndpointInfo } from './model.js';
