// kube-proxy's conntrack clean-up for UDP Services (pkg/proxy/conntrack,
// CleanStaleEntries), pure: from the node's UDP flows and the proxy state,
// the flows to delete. A UDP flow DNATed to an endpoint that is no longer
// serving (or never DNATed, because the Service had no endpoints) would
// otherwise keep a client's packets going nowhere for as long as it sends.
import type { ProxyState } from './iptables.js';
import { keyOf } from './model.js';

export interface UdpFlow {
  origSrc: string;
  origDst: string;
  origSport: number;
  origDport: number;
  /** The reply's source: the endpoint the flow was DNATed to, or the original destination. */
  replySrc: string;
}

/** What one `conntrack -D` selects: flows to a Service address and port, or to a NodePort, answered by replySrc. */
export interface ConntrackFilter {
  origDst?: string;
  origPortDst: number;
  replySrc: string;
}

/** Flows from `conntrack -L -p udp` (the first src/dst/sport/dport are the original direction, the second the reply). */
export function parseUdpFlows(text: string): UdpFlow[] {
  const flows: UdpFlow[] = [];
  for (const line of text.split('\n')) {
    if (!/^(ipv4\s+2\s+)?udp\s/.test(line)) continue;
    const src = [...line.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1] ?? '');
    const dst = [...line.matchAll(/\bdst=(\S+)/g)].map((m) => m[1] ?? '');
    const sport = [...line.matchAll(/\bsport=(\d+)/g)].map((m) => Number(m[1]));
    const dport = [...line.matchAll(/\bdport=(\d+)/g)].map((m) => Number(m[1]));
    if (src.length < 2 || dst.length < 1 || sport.length < 1 || dport.length < 1) continue;
    flows.push({ origSrc: src[0]!, origDst: dst[0]!, origSport: sport[0]!, origDport: dport[0]!, replySrc: src[1]! });
  }
  return flows;
}

/** The filters that delete every UDP flow of a Service (IP or NodePort) not answered by a serving endpoint. */
export function staleUdpFilters(flows: readonly UdpFlow[], state: ProxyState): ConntrackFilter[] {
  const byServiceIP = new Map<string, Set<string>>();
  const byNodePort = new Map<number, Set<string>>();
  for (const sp of state.servicePorts) {
    if (sp.protocol !== 'UDP') continue;
    const serving = new Set((state.endpoints.get(keyOf(sp)) ?? []).filter((e) => e.serving).map((e) => e.ip));
    for (const ip of [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerVIPs]) {
      if (ip && ip !== 'None') byServiceIP.set(`${ip}:${sp.portNumber}`, serving);
    }
    if (sp.nodePort) byNodePort.set(sp.nodePort, serving);
  }
  const filters = new Map<string, ConntrackFilter>();
  for (const f of flows) {
    const forIP = byServiceIP.get(`${f.origDst}:${f.origDport}`);
    if (forIP) {
      if (!forIP.has(f.replySrc)) filters.set(`${f.origDst}:${f.origDport}>${f.replySrc}`, { origDst: f.origDst, origPortDst: f.origDport, replySrc: f.replySrc });
      continue;
    }
    const forPort = byNodePort.get(f.origDport);
    if (forPort && !forPort.has(f.replySrc)) filters.set(`:${f.origDport}>${f.replySrc}`, { origPortDst: f.origDport, replySrc: f.replySrc });
  }
  return [...filters.values()];
}

export function conntrackDeleteArgs(f: ConntrackFilter): string[] {
  return ['-D', '-p', 'udp', ...(f.origDst ? ['--orig-dst', f.origDst] : []), '--orig-port-dst', String(f.origPortDst), '--reply-src', f.replySrc];
}
