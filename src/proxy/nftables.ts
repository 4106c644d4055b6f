// kube-proxy's nftables mode as a pure renderer: from the node's service
// ports and endpoints to the desired content of `table ip kube-proxy` (base
// chains, the fixed top-level chains, per-service chains, the dispatch
// verdict maps and their elements), following pkg/proxy/nftables/proxier.go.
// Turning it into an `nft -f` transaction is nft-transaction.ts's job.
import { base32Sha256 } from './hash.js';
import type { ProxyState } from './iptables.js';
import { categorizeEndpoints, externallyAccessible, keyOf, usesClusterEndpoints, usesLocalEndpoints, type EndpointInfo, type ServicePortInfo } from './model.js';

export const NFT_TABLE = 'kube-proxy';
export const NFT_FAMILY = 'ip';

export const CLUSTER_IPS_SET = 'cluster-ips';
export const NODEPORT_IPS_SET = 'nodeport-ips';
export const SERVICE_IPS_MAP = 'service-ips';
export const SERVICE_NODEPORTS_MAP = 'service-nodeports';
export const FIREWALL_IPS_MAP = 'firewall-ips';
export const NO_ENDPOINT_SERVICES_MAP = 'no-endpoint-services';
export const NO_ENDPOINT_NODEPORTS_MAP = 'no-endpoint-nodeports';
const SERVICES_CHAIN = 'services';
const MARK_MASQ_CHAIN = 'mark-for-masquerade';
const MASQUERADING_CHAIN = 'masquerading';
const REJECT_CHAIN = 'reject-chain';
const FIREWALL_CHECK_CHAIN = 'firewall-check';
const CLUSTER_IPS_CHECK_CHAIN = 'cluster-ips-check';
const SERVICE_ENDPOINTS_CHECK_CHAIN = 'service-endpoints-check';
const NODEPORT_ENDPOINTS_CHECK_CHAIN = 'nodeport-endpoints-check';

/** Prefixes of the per-service chains (kube-proxy's isServiceChainName). */
export const SERVICE_CHAIN_PREFIXES = ['service-', 'local-', 'external-', 'firewall-', 'endpoint-'] as const;
export const AFFINITY_SET_PREFIX = 'affinity-';

export function isNftServiceChainName(name: string): boolean {
  return name.includes('/') && SERVICE_CHAIN_PREFIXES.some((p) => name.startsWith(p));
}

export function isNftAffinitySetName(name: string): boolean {
  return name.startsWith(AFFINITY_SET_PREFIX) && name.includes('/');
}

export interface NftablesProxyConfig {
  nodeName: string;
  /** The node's primary IP: the only address NodePorts answer on (--nodeport-addresses primary). */
  nodeIP?: string;
  /** The pod network (local traffic detector, --detect-local-mode ClusterCIDR). */
  clusterCIDR?: string;
  /** The service CIDRs; traffic to unallocated addresses in them is dropped. */
  serviceCIDRs?: string[];
  masqueradeBit?: number;
  /** Literal mark, e.g. "0x4000" as upstream's tests inject. */
  masqueradeMark?: string;
  masqueradeAll?: boolean;
}

/** A set or map declaration. */
export interface NftContainer {
  name: string;
  kind: 'set' | 'map';
  /** What follows the name, e.g. `{ type ipv4_addr ; comment "Active ClusterIPs" ; }`. */
  spec: string;
}

export interface NftChain {
  name: string;
  /** Base chain or comment properties, e.g. `{ type nat hook prerouting priority -100 ; }`. */
  spec?: string;
  rules: string[];
}

export interface NftElement {
  /** `172.30.0.41 . tcp . 80` */
  key: string;
  /** `goto service-…`, `drop`; absent in sets. */
  value?: string;
  comment?: string;
}

/** What one service ("namespace/name") owns: chains and affinity sets rewritten on partial syncs. */
export interface NftServiceObjects {
  chains: NftChain[];
  affinitySets: NftContainer[];
}

export interface NftDesired {
  /** Table-level objects a full sync (re)creates: containers and the fixed chains, in kube-proxy's order. */
  containers: NftContainer[];
  baseChains: NftChain[];
  /** Per service ("namespace/name"). */
  services: Map<string, NftServiceObjects>;
  /** Container name → element key → element. Elements of every service, rewritten as a diff. */
  elements: Map<string, Map<string, NftElement>>;
}

function masqueradeMarkOf(cfg: NftablesProxyConfig): string {
  if (cfg.masqueradeMark !== undefined) return cfg.masqueradeMark;
  const bit = cfg.masqueradeBit ?? 14;
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new Error(`masqueradeBit must be 0..31, not ${bit}`);
  // Go's %#08x: "0x" counts towards the width of 8.
  return `0x${(2 ** bit).toString(16).padStart(6, '0')}`;
}

/** `<hash8>-ns/name/proto/port`, kube-proxy's servicePortChainNameBase. */
export function nftServiceChainBase(sp: Pick<ServicePortInfo, 'namespace' | 'name' | 'protocol' | 'port'>): string {
  const base = `${sp.namespace}/${sp.name}/${sp.protocol.toLowerCase()}/${sp.port}`;
  return `${base32Sha256(base, 8)}-${base}`;
}

/** `<hash8>-ns/name/proto/port__ip/port`, kube-proxy's servicePortEndpointChainNameBase. */
export function nftEndpointChainBase(sp: Pick<ServicePortInfo, 'namespace' | 'name' | 'protocol' | 'port'>, ep: Pick<EndpointInfo, 'ip' | 'port'>): string {
  const base = `${sp.namespace}/${sp.name}/${sp.protocol.toLowerCase()}/${sp.port}__${ep.ip}/${ep.port}`;
  return `${base32Sha256(base, 8)}-${base}`;
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;

function rule(text: string, comment?: string): string {
  return comment === undefined ? text : `${text} comment ${quote(comment)}`;
}

function baseContainers(): NftContainer[] {
  const vmap = (name: string, type: string, comment: string): NftContainer => ({ name, kind: 'map', spec: `{ type ${type} : verdict ; comment ${quote(comment)} ; }` });
  return [
    { name: CLUSTER_IPS_SET, kind: 'set', spec: `{ type ipv4_addr ; comment ${quote('Active ClusterIPs')} ; }` },
    { name: NODEPORT_IPS_SET, kind: 'set', spec: `{ type ipv4_addr ; comment ${quote('IPs that accept NodePort traffic')} ; }` },
    vmap(FIREWALL_IPS_MAP, 'ipv4_addr . inet_proto . inet_service', 'destinations that are subject to LoadBalancerSourceRanges'),
    vmap(NO_ENDPOINT_NODEPORTS_MAP, 'inet_proto . inet_service', 'vmap to drop or reject packets to service nodeports with no endpoints'),
    vmap(NO_ENDPOINT_SERVICES_MAP, 'ipv4_addr . inet_proto . inet_service', 'vmap to drop or reject packets to services with no endpoints'),
    vmap(SERVICE_IPS_MAP, 'ipv4_addr . inet_proto . inet_service', 'ClusterIP, ExternalIP and LoadBalancer IP traffic'),
    vmap(SERVICE_NODEPORTS_MAP, 'inet_proto . inet_service', 'NodePort traffic'),
  ];
}

function baseChains(cfg: NftablesProxyConfig, mark: string): NftChain[] {
  const base = (name: string, type: string, hook: string, priority: number): NftChain => ({ name, spec: `{ type ${type} hook ${hook} priority ${priority} ; }`, rules: [] });
  const chains: NftChain[] = [
    base('filter-prerouting-pre-dnat', 'filter', 'prerouting', -110),
    base('filter-output-pre-dnat', 'filter', 'output', -110),
    base('filter-forward', 'filter', 'forward', 0),
    base('filter-input', 'filter', 'input', 0),
    base('filter-output', 'filter', 'output', 0),
    base('nat-prerouting', 'nat', 'prerouting', -100),
    base('nat-output', 'nat', 'output', -100),
    base('nat-postrouting', 'nat', 'postrouting', 100),
  ];
  const byName = new Map(chains.map((c) => [c.name, c]));
  const add = (chain: string, text: string, comment?: string): void => {
    let c = byName.get(chain);
    if (!c) {
      c = { name: chain, rules: [] };
      if (chain === REJECT_CHAIN) c.spec = `{ comment ${quote('helper for @no-endpoint-services / @no-endpoint-nodeports')} ; }`;
      chains.push(c);
      byName.set(chain, c);
    }
    c.rules.push(rule(text, comment));
  };
  // Jumps from the base chains, in kube-proxy's nftablesJumpChains order.
  add('filter-input', `ct state new jump ${NODEPORT_ENDPOINTS_CHECK_CHAIN}`);
  add('filter-input', `ct state new jump ${SERVICE_ENDPOINTS_CHECK_CHAIN}`);
  add('filter-forward', `ct state new jump ${SERVICE_ENDPOINTS_CHECK_CHAIN}`);
  add('filter-output', `ct state new jump ${SERVICE_ENDPOINTS_CHECK_CHAIN}`);
  add('filter-prerouting-pre-dnat', `ct state new jump ${FIREWALL_CHECK_CHAIN}`);
  add('filter-output-pre-dnat', `ct state new jump ${FIREWALL_CHECK_CHAIN}`);
  add('nat-output', `jump ${SERVICES_CHAIN}`);
  add('nat-prerouting', `jump ${SERVICES_CHAIN}`);
  add('nat-postrouting', `jump ${MASQUERADING_CHAIN}`);
  add('filter-forward', `ct state new jump ${CLUSTER_IPS_CHECK_CHAIN}`);
  add('filter-output', `ct state new jump ${CLUSTER_IPS_CHECK_CHAIN}`);
  add(MARK_MASQ_CHAIN, `mark set mark or ${mark}`);
  add(MASQUERADING_CHAIN, `mark and ${mark} == 0 return`);
  add(MASQUERADING_CHAIN, `mark set mark xor ${mark}`);
  add(MASQUERADING_CHAIN, 'masquerade fully-random');
  add(CLUSTER_IPS_CHECK_CHAIN, `ip daddr @${CLUSTER_IPS_SET} reject`, 'Reject traffic to invalid ports of ClusterIPs');
  const cidrs = cfg.serviceCIDRs ?? [];
  if (cidrs.length > 0) add(CLUSTER_IPS_CHECK_CHAIN, `ip daddr { ${cidrs.join(', ')} } drop`, 'Drop traffic to unallocated ClusterIPs');
  add(REJECT_CHAIN, 'reject');
  add(SERVICE_ENDPOINTS_CHECK_CHAIN, `ip daddr . meta l4proto . th dport vmap @${NO_ENDPOINT_SERVICES_MAP}`);
  add(NODEPORT_ENDPOINTS_CHECK_CHAIN, `ip daddr @${NODEPORT_IPS_SET} meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS_MAP}`);
  add(FIREWALL_CHECK_CHAIN, `ip daddr . meta l4proto . th dport vmap @${FIREWALL_IPS_MAP}`);
  add(SERVICES_CHAIN, `ip daddr . meta l4proto . th dport vmap @${SERVICE_IPS_MAP}`);
  add(SERVICES_CHAIN, `ip daddr @${NODEPORT_IPS_SET} meta l4proto . th dport vmap @${SERVICE_NODEPORTS_MAP}`);
  return chains;
}

/** The desired table for this node, purely from the tracked state. */
export function renderNftables(state: ProxyState, cfg: NftablesProxyConfig): NftDesired {
  const mark = masqueradeMarkOf(cfg);
  const elements = new Map<string, Map<string, NftElement>>();
  for (const c of baseContainers()) elements.set(c.name, new Map());
  const element = (container: string, e: NftElement): void => {
    elements.get(container)?.set(e.key, e);
  };
  if (cfg.nodeIP !== undefined && !cfg.nodeIP.startsWith('127.')) element(NODEPORT_IPS_SET, { key: cfg.nodeIP });
  const services = new Map<string, NftServiceObjects>();
  const ifLocal = cfg.clusterCIDR !== undefined ? `ip saddr ${cfg.clusterCIDR}` : undefined;
  const ifNotLocal = cfg.clusterCIDR !== undefined ? `ip saddr != ${cfg.clusterCIDR}` : undefined;

  for (const sp of state.servicePorts) {
    const svcKey = `${sp.namespace}/${sp.name}`;
    let owned = services.get(svcKey);
    if (!owned) services.set(svcKey, (owned = { chains: [], affinitySets: [] }));
    const proto = sp.protocol.toLowerCase();
    const base = nftServiceChainBase(sp);
    const clusterPolicyChain = `service-${base}`;
    const localPolicyChain = `local-${base}`;
    const externalChain = `external-${base}`;
    const fwChain = `firewall-${base}`;
    const epChain = (ep: EndpointInfo): string => `endpoint-${nftEndpointChainBase(sp, ep)}`;
    const affinitySet = (ep: EndpointInfo): string => `affinity-${nftEndpointChainBase(sp, ep)}`;

    const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints } = categorizeEndpoints(state.endpoints.get(keyOf(sp)) ?? [], sp);
    const usesCluster = clusterEndpoints.length > 0 && usesClusterEndpoints(sp);
    const usesLocal = localEndpoints.length > 0 && usesLocalEndpoints(sp);
    const internalChain = sp.internalPolicyLocal ? localPolicyChain : clusterPolicyChain;
    const hasInternal = hasAnyEndpoints && (!sp.internalPolicyLocal || localEndpoints.length > 0);
    const externalPolicyChain = sp.externalPolicyLocal ? localPolicyChain : clusterPolicyChain;
    const hasExternal = hasAnyEndpoints && (!sp.externalPolicyLocal || localEndpoints.length > 0);
    const usesExternalChain = hasAnyEndpoints && externallyAccessible(sp);
    const internalVerdict = hasAnyEndpoints ? 'drop' : `goto ${REJECT_CHAIN}`;
    const externalVerdict = internalVerdict;
    const port = String(sp.portNumber);

    element(CLUSTER_IPS_SET, { key: sp.clusterIP });
    if (hasInternal) element(SERVICE_IPS_MAP, { key: `${sp.clusterIP} . ${proto} . ${port}`, value: `goto ${internalChain}` });
    else element(NO_ENDPOINT_SERVICES_MAP, { key: `${sp.clusterIP} . ${proto} . ${port}`, value: internalVerdict, comment: sp.spn });
    for (const ip of sp.externalIPs) {
      if (hasAnyEndpoints) element(SERVICE_IPS_MAP, { key: `${ip} . ${proto} . ${port}`, value: `goto ${externalChain}` });
      if (!hasExternal) element(NO_ENDPOINT_SERVICES_MAP, { key: `${ip} . ${proto} . ${port}`, value: externalVerdict, comment: sp.spn });
    }
    const usesFw = sp.loadBalancerVIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
    for (const ip of sp.loadBalancerVIPs) {
      if (hasAnyEndpoints) element(SERVICE_IPS_MAP, { key: `${ip} . ${proto} . ${port}`, value: `goto ${externalChain}` });
      if (usesFw) element(FIREWALL_IPS_MAP, { key: `${ip} . ${proto} . ${port}`, value: `goto ${fwChain}` });
      if (!hasExternal) element(NO_ENDPOINT_SERVICES_MAP, { key: `${ip} . ${proto} . ${port}`, value: externalVerdict, comment: sp.spn });
    }
    if (sp.nodePort !== 0) {
      if (hasAnyEndpoints) element(SERVICE_NODEPORTS_MAP, { key: `${proto} . ${sp.nodePort}`, value: `goto ${externalChain}` });
      if (!hasExternal) element(NO_ENDPOINT_NODEPORTS_MAP, { key: `${proto} . ${sp.nodePort}`, value: externalVerdict, comment: sp.spn });
    }

    const chains = new Map<string, NftChain>();
    const chain = (name: string): NftChain => {
      let c = chains.get(name);
      if (!c) chains.set(name, (c = { name, rules: [] }));
      return c;
    };
    // Creation order as kube-proxy's ensureChain calls: endpoints, cluster, local, external, firewall.
    for (const ep of allReachableEndpoints) chain(epChain(ep));
    if (usesCluster) chain(clusterPolicyChain);
    if (usesLocal) chain(localPolicyChain);
    if (usesExternalChain) chain(externalChain);
    if (usesFw) chain(fwChain);

    if (hasInternal) {
      if (cfg.masqueradeAll) chain(internalChain).rules.push(`ip daddr ${sp.clusterIP} ${proto} dport ${port} jump ${MARK_MASQ_CHAIN}`);
      else if (ifNotLocal !== undefined) chain(internalChain).rules.push(`ip daddr ${sp.clusterIP} ${ifNotLocal} jump ${MARK_MASQ_CHAIN}`);
    }
    if (usesExternalChain) {
      const ext = chain(externalChain).rules;
      if (!sp.externalPolicyLocal) {
        // Non-local endpoints may be on another node: masquerade.
        ext.push(`jump ${MARK_MASQ_CHAIN}`);
      } else {
        // Pods and the node itself reach every endpoint; only outside clients are limited to local ones.
        if (ifLocal !== undefined) ext.push(rule(`${ifLocal} goto ${clusterPolicyChain}`, 'short-circuit pod traffic'));
        ext.push(rule(`fib saddr type local jump ${MARK_MASQ_CHAIN}`, 'masquerade local traffic'));
        ext.push(rule(`fib saddr type local goto ${clusterPolicyChain}`, 'short-circuit local traffic'));
      }
      if (hasExternal) ext.push(`goto ${externalPolicyChain}`);
    }
    if (usesFw) {
      const sources = [...sp.loadBalancerSourceRanges];
      if (cfg.nodeIP !== undefined && sp.loadBalancerSourceRanges.some((r) => cidrHas(r, cfg.nodeIP as string))) sources.push(...sp.loadBalancerVIPs);
      chain(fwChain).rules.push(`ip saddr != { ${sources.join(', ')} } drop`);
    }
    if (sp.clientIPAffinity) {
      for (const ep of allReachableEndpoints) {
        owned.affinitySets.push({ name: affinitySet(ep), kind: 'set', spec: `{ type ipv4_addr ; flags dynamic,timeout ; timeout ${sp.stickyMaxAgeSeconds}s ; }` });
      }
    }
    const toEndpoints = (c: string, eps: readonly EndpointInfo[]): void => {
      const rules = chain(c).rules;
      if (sp.clientIPAffinity) for (const ep of eps) rules.push(`ip saddr @${affinitySet(ep)} goto ${epChain(ep)}`);
      const vmap = eps.map((ep, i) => `${i} : goto ${epChain(ep)}`).join(' , ');
      rules.push(`numgen random mod ${eps.length} vmap { ${vmap} }`);
    };
    if (usesCluster) toEndpoints(clusterPolicyChain, clusterEndpoints);
    if (usesLocal) toEndpoints(localPolicyChain, localEndpoints);
    for (const ep of allReachableEndpoints) {
      const rules = chain(epChain(ep)).rules;
      rules.push(`ip saddr ${ep.ip} jump ${MARK_MASQ_CHAIN}`);
      if (sp.clientIPAffinity) rules.push(`update @${affinitySet(ep)} { ip saddr }`);
      rules.push(`meta l4proto ${proto} dnat to ${ep.endpoint}`);
    }
    owned.chains.push(...chains.values());
  }
  return { containers: baseContainers(), baseChains: baseChains(cfg, mark), services, elements };
}

function cidrHas(cidr: string, ip: string): boolean {
  const [net = '', lenText = '32'] = cidr.split('/');
  const toNum = (s: string): number => s.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const len = Number(lenText);
  const size = 2 ** (32 - len);
  return Math.floor(toNum(ip) / size) === Math.floor(toNum(net) / size);
}

const PREFIX = `${NFT_FAMILY} ${NFT_TABLE}`;

export function elementLine(container: string, e: NftElement): string {
  const comment = e.comment !== undefined ? ` comment ${quote(e.comment)}` : '';
  const value = e.value !== undefined ? ` : ${e.value}` : '';
  return `add element ${PREFIX} ${container} { ${e.key}${comment}${value} }`;
}

export function chainLines(c: NftChain): string[] {
  return [`add chain ${PREFIX} ${c.name}${c.spec ? ` ${c.spec}` : ''}`, ...c.rules.map((r) => `add rule ${PREFIX} ${c.name} ${r}`)];
}

export function containerLine(c: NftContainer): string {
  return `add ${c.kind} ${PREFIX} ${c.name} ${c.spec}`;
}

/**
 * The whole desired table as `add` commands, in the form kube-proxy's tests
 * write their expectations (knftables' Fake.Dump): what a full sync leaves.
 */
export function dumpNftables(d: NftDesired): string {
  const lines: string[] = [`add table ${PREFIX} { comment "rules for kube-proxy" ; }`];
  for (const c of d.containers) lines.push(containerLine(c));
  for (const s of d.services.values()) for (const a of s.affinitySets) lines.push(containerLine(a));
  for (const c of d.baseChains) lines.push(...chainLines(c));
  for (const s of d.services.values()) for (const c of s.chains) lines.push(...chainLines(c));
  for (const [container, els] of d.elements) for (const e of els.values()) lines.push(elementLine(container, e));
  return `${lines.join('\n')}\n`;
}
