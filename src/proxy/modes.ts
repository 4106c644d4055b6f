// Which proxy modes the lab can build. A lab file may name a mode kube-proxy
// has but nslab does not build yet; `up` refuses it instead of bringing up a
// lab whose Services silently get no rules.
import type { ProxyMode } from '../labfile/types.js';

export const AVAILABLE_PROXY_MODES: readonly ProxyMode[] = ['iptables', 'nftables'];

/** Why this mode cannot be brought up, or undefined when it can. */
export function unavailableProxyMode(mode: ProxyMode): string | undefined {
  if (AVAILABLE_PROXY_MODES.includes(mode)) return undefined;
  return `spec.cluster.proxyMode "${mode}" is not available yet; use ${AVAILABLE_PROXY_MODES.map((m) => `"${m}"`).join(' or ')}`;
}
