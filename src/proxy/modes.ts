// Which proxy modes the lab can build. A lab file may name a mode kube-proxy
// has but nslab does not build yet; `up` refuses it instead of bringing up a
// lab whose Services silently get no rules.
import type { ProxyMode } from '../labfile/types.js';
import type { IpvsKernelFeatures } from '../sys/kernel-features.js';

export const AVAILABLE_PROXY_MODES: readonly ProxyMode[] = ['iptables', 'nftables', 'ipvs'];

/** Why this mode cannot be brought up, or undefined when it can. */
export function unavailableProxyMode(mode: ProxyMode): string | undefined {
  if (AVAILABLE_PROXY_MODES.includes(mode)) return undefined;
  return `spec.cluster.proxyMode "${mode}" is not available yet; use ${AVAILABLE_PROXY_MODES.map((m) => `"${m}"`).join(' or ')}`;
}

/**
 * Why kube-proxy's ipvs mode cannot run on this kernel, or undefined when it
 * can: it needs IP_VS (virtual servers) and the dummy link type (kube-ipvs0,
 * which holds every ClusterIP).
 */
export function ipvsKernelProblem(k: IpvsKernelFeatures): string | undefined {
  const lacks = [
    ...(k.ipVs ? [] : ['IP_VS ("modprobe ip_vs" fails)']),
    ...(k.dummy ? [] : ['the dummy link type ("ip link add type dummy" fails)']),
  ];
  if (lacks.length === 0) return undefined;
  return (
    `spec.cluster.proxyMode "ipvs" needs IP_VS and the dummy link type, and this kernel (${k.release}) lacks ${lacks.join(' and ')}; ` +
    'nothing was created. The iptables and nftables modes work on this kernel (spec.cluster.proxyMode: iptables or nftables)'
  );
}
