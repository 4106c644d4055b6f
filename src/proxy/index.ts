// The proxy layer's public face: kube-proxy's iptables mode as a pure
// renderer plus a per-node applier.
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
