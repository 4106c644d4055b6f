// kube-proxy's iptables mode as a pure function: Services and EndpointSlices
// in, the iptables-restore input kube-proxy's syncProxyRules writes out
// ("*filter … COMMIT\n*nat … COMMIT\n"), chain for chain, rule for rule, in
// its argument order. Services are visited in a fixed order (kube-proxy walks
// a Go map, so its order of services inside KUBE-SERVICES/KUBE-NODEPORTS
// varies from sync to sync; everything else is deterministic).
import type { KubeObject } from '../api/types.js';
import { computeProbability } from './format.js';
import { endpointChainName, isServiceChainName, serviceChainNames } from './hash.js';
import { parseIPv4CidrSloppy, cidrString, cidrContainsIPv4 } from './ip.js';
import {
  categorizeEndpoints,
  endpointsOfSlices,
  externallyAccessible,
  keyOf,
  servicePorts,
  sliceServiceName,
  usesClusterEndpoints,
  usesLocalEndpoints,
  type EndpointInfo,
  type ServicePortInfo,
} from './model.js';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_PROXY_CANARY = 'KUBE-PROXY-CANARY';
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

/** Above this many endpoints kube-proxy drops per-endpoint comments. */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

/** nfacct counter names (pkg/proxy/metrics). */
export const NFACCT_CT_STATE_INVALID_DROPPED = 'ct_state_invalid_dropped_pkts';
export const NFACCT_LOCALHOST_NODEPORTS_ACCEPTED = 'localhost_nps_accepted_pkts';

export interface IptablesProxyConfig {
  /** The node's name as EndpointSlices' nodeName carries it (endpoint locality). */
  nodeName: string;
  /** The node's primary IPv4 address (LoadBalancerSourceRanges allow-from-node). */
  nodeIP?: string;
  /** --cluster-cidr; with it the local-traffic detector is ClusterCIDR ("! -s CIDR"). */
  clusterCIDR?: string;
  /** --iptables-masquerade-bit, default 14. */
  masqueradeBit?: number;
  /** The mark text; default Go's %#08x of 1<<bit ("0x00004000"). kube-proxy's tests use "0x4000". */
  masqueradeMark?: string;
  /** --masquerade-all */
  masqueradeAll?: boolean;
  /** --iptables-localhost-nodeports, default true. */
  localhostNodePorts?: boolean;
  /** iptables supports MASQUERADE --random-fully (every iptables ≥ 1.6.2). Default true. */
  randomFully?: boolean;
  /** net.netfilter.nf_conntrack_tcp_be_liberal is non-zero: no INVALID drop rule. */
  conntrackTCPLiberal?: boolean;
  /** Which nfacct counters exist in the node (kube-proxy creates them over netlink). */
  nfacct?: { ctStateInvalidDropped: boolean; localhostNodePortsAccepted: boolean };
}

/** The proxy's view of the cluster: ServicePorts and their endpoints, per service. */
export interface ProxyState {
  /** Sorted by ServicePortName string, then protocol. */
  servicePorts: ServicePortInfo[];
  /** keyOf(ServicePort) → endpoints sorted by "ip:port". */
  endpoints: Map<string, EndpointInfo[]>;
}

export function buildProxyState(services: readonly KubeObject[], slices: readonly KubeObject[], nodeName: string): ProxyState {
  const ports = services.flatMap(servicePorts);
  ports.sort(compareServicePorts);
  const slicesBySvc = new Map<string, KubeObject[]>();
  for (const s of slices) {
    const svc = sliceServiceName(s);
    if (svc === undefined) continue;
    const list = slicesBySvc.get(svc);
    if (list) list.push(s);
    else slicesBySvc.set(svc, [s]);
  }
  const endpoints = new Map<string, EndpointInfo[]>();
  for (const list of slicesBySvc.values()) {
    for (const [k, v] of endpointsOfSlices(list, nodeName)) endpoints.set(k, v);
  }
  return { servicePorts: ports, endpoints };
}

export function compareServicePorts(a: ServicePortInfo, b: ServicePortInfo): number {
  if (a.spn !== b.spn) return a.spn < b.spn ? -1 : 1;
  return a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0;
}

export interface RenderRequest {
  /**
   * Services ("namespace/name") whose own chains (SVC, SVL, EXT, FW, SEP) are
   * written; the others' are left as they are in the kernel. Undefined: all
   * (a full sync).
   */
  changedServices?: ReadonlySet<string>;
  /** NAT chains that exist now; stale per-service ones among them are deleted. */
  existingNatChains?: Iterable<string>;
}

export interface IptablesRender {
  /** The iptables-restore input. */
  restore: string;
  /** Every per-service NAT chain that exists after this restore. */
  activeNatChains: Set<string>;
  /** Chains this restore deletes (declared and -X'd). */
  deletedChains: string[];
  largeClusterMode: boolean;
  filterRules: number;
  natRules: number;
}

function masqueradeMarkOf(cfg: IptablesProxyConfig): string {
  if (cfg.masqueradeMark !== undefined) return cfg.masqueradeMark;
  const bit = cfg.masqueradeBit ?? 14;
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new Error(`masqueradeBit must be 0..31, not ${bit}`);
  const value = 2 ** bit;
  return `0x${value.toString(16).padStart(8, '0')}`;
}

const probabilityCache: string[] = [];
function probability(n: number): string {
  let p = probabilityCache[n];
  if (p === undefined) {
    p = computeProbability(n);
    if (n <= 1000) probabilityCache[n] = p;
  }
  return p;
}

class Lines {
  readonly lines: string[] = [];
  constructor(private readonly discard = false) {}
  write(...parts: string[]): void {
    if (!this.discard) this.lines.push(parts.join(' '));
  }
}

/** syncProxyRules, minus the side effects: the restore input and the chains it leaves. */
export function renderIptables(state: ProxyState, cfg: IptablesProxyConfig, req: RenderRequest = {}): IptablesRender {
  const mark = masqueradeMarkOf(cfg);
  const localhostNodePorts = cfg.localhostNodePorts ?? true;
  const randomFully = cfg.randomFully ?? true;
  const nfacct = cfg.nfacct ?? { ctStateInvalidDropped: false, localhostNodePortsAccepted: false };
  const clusterCIDR = cfg.clusterCIDR !== undefined ? parseIPv4CidrSloppy(cfg.clusterCIDR) : undefined;
  if (cfg.clusterCIDR !== undefined && clusterCIDR === undefined) throw new Error(`bad clusterCIDR ${cfg.clusterCIDR}`);
  const ifLocal = clusterCIDR ? ['-s', cidrString(clusterCIDR)] : undefined;
  const ifNotLocal = clusterCIDR ? ['!', '-s', cidrString(clusterCIDR)] : undefined;

  const filterChains = new Lines();
  const filterRules = new Lines();
  const natChains = new Lines();
  const natRules = new Lines();
  const skipped = new Lines(true);
  const chainLine = (c: string) => `:${c} - [0:0]`;

  for (const c of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL]) {
    filterChains.write(chainLine(c));
  }
  for (const c of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) natChains.write(chainLine(c));

  natRules.write('-A', KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  natRules.write('-A', KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', mark);
  const masq = ['-A', KUBE_POSTROUTING, '-m', 'comment', '--comment', '"kubernetes service traffic requiring SNAT"', '-j', 'MASQUERADE'];
  if (randomFully) masq.push('--random-fully');
  natRules.write(...masq);
  natRules.write('-A', KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', mark);

  if (localhostNodePorts) {
    filterChains.write(chainLine(KUBE_FIREWALL));
    filterRules.write(
      '-A', KUBE_FIREWALL,
      '-m', 'comment', '--comment', '"block incoming localnet connections"',
      '-d', '127.0.0.0/8',
      '!', '-s', '127.0.0.0/8',
      '-m', 'conntrack',
      '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT',
      '-j', 'DROP',
    );
  }

  const activeNatChains = new Set<string>();
  let totalEndpoints = 0;
  for (const sp of state.servicePorts) totalEndpoints += state.endpoints.get(keyOf(sp))?.length ?? 0;
  const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
  const withComment = (args: string[], comment: string): string[] =>
    largeClusterMode ? args : [...args, '-m', 'comment', '--comment', comment];

  for (const sp of state.servicePorts) {
    const protocol = sp.protocol.toLowerCase();
    const spn = sp.spn;
    const names = serviceChainNames(spn, protocol);
    const allEndpoints = state.endpoints.get(keyOf(sp)) ?? [];
    const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints } = categorizeEndpoints(allEndpoints, sp);
    const hasEndpoints = hasAnyEndpoints;

    const clusterPolicyChain = names.cluster;
    const usesClusterPolicyChain = clusterEndpoints.length > 0 && usesClusterEndpoints(sp);
    const localPolicyChain = names.local;
    const usesLocalPolicyChain = localEndpoints.length > 0 && usesLocalEndpoints(sp);

    let internalPolicyChain = clusterPolicyChain;
    let hasInternalEndpoints = hasEndpoints;
    if (sp.internalPolicyLocal) {
      internalPolicyChain = localPolicyChain;
      if (localEndpoints.length === 0) hasInternalEndpoints = false;
    }
    const internalTrafficChain = internalPolicyChain;

    let externalPolicyChain = clusterPolicyChain;
    let hasExternalEndpoints = hasEndpoints;
    if (sp.externalPolicyLocal) {
      externalPolicyChain = localPolicyChain;
      if (localEndpoints.length === 0) hasExternalEndpoints = false;
    }
    const externalTrafficChain = names.external;
    const usesExternalTrafficChain = hasEndpoints && externallyAccessible(sp);

    let loadBalancerTrafficChain = externalTrafficChain;
    const fwChain = names.firewall;
    const usesFWChain = hasEndpoints && sp.loadBalancerVIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
    if (usesFWChain) loadBalancerTrafficChain = fwChain;

    let internalFilterTarget = '';
    let internalFilterComment = '';
    let externalFilterTarget = '';
    let externalFilterComment = '';
    if (!hasEndpoints) {
      internalFilterTarget = 'REJECT';
      internalFilterComment = `"${spn} has no endpoints"`;
      externalFilterTarget = 'REJECT';
      externalFilterComment = internalFilterComment;
    } else {
      if (!hasInternalEndpoints) {
        internalFilterTarget = 'DROP';
        internalFilterComment = `"${spn} has no local endpoints"`;
      }
      if (!hasExternalEndpoints) {
        externalFilterTarget = 'DROP';
        externalFilterComment = `"${spn} has no local endpoints"`;
      }
    }

    const port = String(sp.portNumber);
    // Capture the clusterIP.
    if (hasInternalEndpoints) {
      natRules.write(
        '-A', KUBE_SERVICES,
        '-m', 'comment', '--comment', `"${spn} cluster IP"`,
        '-m', protocol, '-p', protocol,
        '-d', sp.clusterIP,
        '--dport', port,
        '-j', internalTrafficChain,
      );
    } else {
      filterRules.write(
        '-A', KUBE_SERVICES,
        '-m', 'comment', '--comment', internalFilterComment,
        '-m', protocol, '-p', protocol,
        '-d', sp.clusterIP,
        '--dport', port,
        '-j', internalFilterTarget,
      );
    }

    // Capture externalIPs.
    for (const externalIP of sp.externalIPs) {
      if (hasEndpoints) {
        natRules.write(
          '-A', KUBE_SERVICES,
          '-m', 'comment', '--comment', `"${spn} external IP"`,
          '-m', protocol, '-p', protocol,
          '-d', externalIP,
          '--dport', port,
          '-j', externalTrafficChain,
        );
      }
      if (!hasExternalEndpoints) {
        filterRules.write(
          '-A', KUBE_EXTERNAL_SERVICES,
          '-m', 'comment', '--comment', externalFilterComment,
          '-m', protocol, '-p', protocol,
          '-d', externalIP,
          '--dport', port,
          '-j', externalFilterTarget,
        );
      }
    }

    // Capture load-balancer ingress.
    for (const lbip of sp.loadBalancerVIPs) {
      if (hasEndpoints) {
        natRules.write(
          '-A', KUBE_SERVICES,
          '-m', 'comment', '--comment', `"${spn} loadbalancer IP"`,
          '-m', protocol, '-p', protocol,
          '-d', lbip,
          '--dport', port,
          '-j', loadBalancerTrafficChain,
        );
      }
      if (usesFWChain) {
        filterRules.write(
          '-A', KUBE_PROXY_FIREWALL,
          '-m', 'comment', '--comment', `"${spn} traffic not accepted by ${fwChain}"`,
          '-m', protocol, '-p', protocol,
          '-d', lbip,
          '--dport', port,
          '-j', 'DROP',
        );
      }
    }
    if (!hasExternalEndpoints) {
      for (const lbip of sp.loadBalancerVIPs) {
        filterRules.write(
          '-A', KUBE_EXTERNAL_SERVICES,
          '-m', 'comment', '--comment', externalFilterComment,
          '-m', protocol, '-p', protocol,
          '-d', lbip,
          '--dport', port,
          '-j', externalFilterTarget,
        );
      }
    }

    // Capture nodeports.
    if (sp.nodePort !== 0) {
      const nodePort = String(sp.nodePort);
      if (hasEndpoints) {
        if (localhostNodePorts && nfacct.localhostNodePortsAccepted) {
          natRules.write(
            '-A', KUBE_NODEPORTS,
            '-m', 'comment', '--comment', spn,
            '-m', protocol, '-p', protocol,
            '-d', '127.0.0.0/8',
            '--dport', nodePort,
            '-m', 'nfacct', '--nfacct-name', NFACCT_LOCALHOST_NODEPORTS_ACCEPTED,
            '-j', externalTrafficChain,
          );
        }
        natRules.write(
          '-A', KUBE_NODEPORTS,
          '-m', 'comment', '--comment', spn,
          '-m', protocol, '-p', protocol,
          '--dport', nodePort,
          '-j', externalTrafficChain,
        );
      }
      if (!hasExternalEndpoints) {
        filterRules.write(
          '-A', KUBE_EXTERNAL_SERVICES,
          '-m', 'comment', '--comment', externalFilterComment,
          '-m', 'addrtype', '--dst-type', 'LOCAL',
          '-m', protocol, '-p', protocol,
          '--dport', nodePort,
          '-j', externalFilterTarget,
        );
      }
    }

    // Capture healthCheckNodePorts.
    if (sp.healthCheckNodePort !== 0) {
      filterRules.write(
        '-A', KUBE_NODEPORTS,
        '-m', 'comment', '--comment', `"${spn} health check node port"`,
        '-m', 'tcp', '-p', 'tcp',
        '--dport', String(sp.healthCheckNodePort),
        '-j', 'ACCEPT',
      );
    }

    // Partial sync: the chains of unchanged services stay as they are.
    const unchanged = req.changedServices !== undefined && !req.changedServices.has(`${sp.namespace}/${sp.name}`);
    const nc = unchanged ? skipped : natChains;
    const nr = unchanged ? skipped : natRules;

    // Internal traffic.
    if (hasInternalEndpoints) {
      const args = [
        '-m', 'comment', '--comment', `"${spn} cluster IP"`,
        '-m', protocol, '-p', protocol,
        '-d', sp.clusterIP,
        '--dport', port,
      ];
      if (cfg.masqueradeAll) {
        nr.write('-A', internalTrafficChain, ...args, '-j', KUBE_MARK_MASQ);
      } else if (ifNotLocal) {
        nr.write('-A', internalTrafficChain, ...args, ...ifNotLocal, '-j', KUBE_MARK_MASQ);
      }
    }

    // External traffic.
    if (usesExternalTrafficChain) {
      nc.write(chainLine(externalTrafficChain));
      activeNatChains.add(externalTrafficChain);
      if (!sp.externalPolicyLocal) {
        nr.write(
          '-A', externalTrafficChain,
          '-m', 'comment', '--comment', `"masquerade traffic for ${spn} external destinations"`,
          '-j', KUBE_MARK_MASQ,
        );
      } else {
        if (ifLocal) {
          nr.write(
            '-A', externalTrafficChain,
            '-m', 'comment', '--comment', `"pod traffic for ${spn} external destinations"`,
            ...ifLocal,
            '-j', clusterPolicyChain,
          );
        }
        nr.write(
          '-A', externalTrafficChain,
          '-m', 'comment', '--comment', `"masquerade LOCAL traffic for ${spn} external destinations"`,
          '-m', 'addrtype', '--src-type', 'LOCAL',
          '-j', KUBE_MARK_MASQ,
        );
        nr.write(
          '-A', externalTrafficChain,
          '-m', 'comment', '--comment', `"route LOCAL traffic for ${spn} external destinations"`,
          '-m', 'addrtype', '--src-type', 'LOCAL',
          '-j', clusterPolicyChain,
        );
      }
      if (hasExternalEndpoints) nr.write('-A', externalTrafficChain, '-j', externalPolicyChain);
    }

    // Firewall chain (loadBalancerSourceRanges).
    if (usesFWChain) {
      nc.write(chainLine(fwChain));
      activeNatChains.add(fwChain);
      const args = ['-A', fwChain, '-m', 'comment', '--comment', `"${spn} loadbalancer IP"`];
      let allowFromNode = false;
      for (const cidr of sp.loadBalancerSourceRanges) {
        nr.write(...args, '-s', cidr, '-j', externalTrafficChain);
        const c = parseIPv4CidrSloppy(cidr);
        if (c && cfg.nodeIP !== undefined && cidrContainsIPv4(c, cfg.nodeIP)) allowFromNode = true;
      }
      if (allowFromNode) {
        for (const lbip of sp.loadBalancerVIPs) nr.write(...args, '-s', lbip, '-j', externalTrafficChain);
      }
      nr.write(
        '-A', fwChain,
        '-m', 'comment', '--comment', `"other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL"`,
      );
    }

    if (usesClusterPolicyChain) {
      nc.write(chainLine(clusterPolicyChain));
      activeNatChains.add(clusterPolicyChain);
      writeServiceToEndpointRules(nr, spn, protocol, sp, clusterPolicyChain, clusterEndpoints, withComment);
    }
    if (usesLocalPolicyChain) {
      nc.write(chainLine(localPolicyChain));
      activeNatChains.add(localPolicyChain);
      writeServiceToEndpointRules(nr, spn, protocol, sp, localPolicyChain, localEndpoints, withComment);
    }

    // Per-endpoint chains.
    for (const ep of allReachableEndpoints) {
      const endpointChain = endpointChainName(spn, protocol, ep.endpoint);
      nc.write(chainLine(endpointChain));
      activeNatChains.add(endpointChain);
      const args = withComment(['-A', endpointChain], spn);
      // Hairpin: traffic that loops back to its sender is SNATed.
      nr.write(...args, '-s', ep.ip, '-j', KUBE_MARK_MASQ);
      if (sp.clientIPAffinity) args.push('-m', 'recent', '--name', endpointChain, '--set');
      nr.write(...args, '-m', protocol, '-p', protocol, '-j', 'DNAT', '--to-destination', ep.endpoint);
    }
  }

  // Delete stale per-service chains.
  const deletedChains: string[] = [];
  if (req.existingNatChains !== undefined) {
    const stale = [...new Set(req.existingNatChains)].filter((c) => !activeNatChains.has(c) && isServiceChainName(c)).sort();
    for (const chain of stale) {
      natChains.write(chainLine(chain));
      natRules.write('-X', chain);
      deletedChains.push(chain);
    }
  }

  // The jump to KUBE-NODEPORTS must be the last rule of KUBE-SERVICES.
  const destinations = ['-m', 'addrtype', '--dst-type', 'LOCAL'];
  if (!localhostNodePorts) destinations.push('!', '-d', '127.0.0.0/8');
  natRules.write(
    '-A', KUBE_SERVICES,
    '-m', 'comment', '--comment', '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"',
    ...destinations,
    '-j', KUBE_NODEPORTS,
  );

  if (!cfg.conntrackTCPLiberal) {
    const rule = ['-A', KUBE_FORWARD, '-m', 'conntrack', '--ctstate', 'INVALID'];
    if (nfacct.ctStateInvalidDropped) rule.push('-m', 'nfacct', '--nfacct-name', NFACCT_CT_STATE_INVALID_DROPPED);
    rule.push('-j', 'DROP');
    filterRules.write(...rule);
  }
  filterRules.write(
    '-A', KUBE_FORWARD,
    '-m', 'comment', '--comment', '"kubernetes forwarding rules"',
    '-m', 'mark', '--mark', `${mark}/${mark}`,
    '-j', 'ACCEPT',
  );
  filterRules.write(
    '-A', KUBE_FORWARD,
    '-m', 'comment', '--comment', '"kubernetes forwarding conntrack rule"',
    '-m', 'conntrack',
    '--ctstate', 'RELATED,ESTABLISHED',
    '-j', 'ACCEPT',
  );

  const out: string[] = ['*filter', ...filterChains.lines, ...filterRules.lines, 'COMMIT', '*nat', ...natChains.lines, ...natRules.lines, 'COMMIT'];
  return {
    restore: `${out.join('\n')}\n`,
    activeNatChains,
    deletedChains,
    largeClusterMode,
    filterRules: filterRules.lines.length,
    natRules: natRules.lines.length - deletedChains.length,
  };
}

function writeServiceToEndpointRules(
  natRules: Lines,
  spn: string,
  protocol: string,
  sp: ServicePortInfo,
  svcChain: string,
  endpoints: readonly EndpointInfo[],
  withComment: (args: string[], comment: string) => string[],
): void {
  if (sp.clientIPAffinity) {
    for (const ep of endpoints) {
      const epChain = endpointChainName(spn, protocol, ep.endpoint);
      const args = withComment(['-A', svcChain], `"${spn} -> ${ep.endpoint}"`);
      natRules.write(
        ...args,
        '-m', 'recent', '--name', epChain,
        '--rcheck', '--seconds', String(sp.stickyMaxAgeSeconds), '--reap',
        '-j', epChain,
      );
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const epChain = endpointChainName(spn, protocol, ep.endpoint);
    const args = withComment(['-A', svcChain], `"${spn} -> ${ep.endpoint}"`);
    if (i < n - 1) args.push('-m', 'statistic', '--mode', 'random', '--probability', probability(n - i));
    natRules.write(...args, '-j', epChain);
  });
}

/** A full sync of a fresh node: the restore input for these objects. */
export function renderIptablesRestore(
  services: readonly KubeObject[],
  slices: readonly KubeObject[],
  cfg: IptablesProxyConfig,
): string {
  return renderIptables(buildProxyState(services, slices, cfg.nodeName), cfg).restore;
}
