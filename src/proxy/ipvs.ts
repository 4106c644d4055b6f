// kube-proxy's ipvs mode as a pure function (pkg/proxy/ipvs syncProxyRules
// and writeIptablesRules): tracked Services and endpoints in; out come the
// IPVS virtual servers with their real servers, the addresses kube-ipvs0
// holds, kube-proxy's ipsets with their entries, the iptables-restore input
// for its chains and the sysctls it writes. Services are visited in the
// tracker's sorted order (kube-proxy walks a Go map); everything else keeps
// kube-proxy's order.
import type { IpvsScheduler } from '../labfile/types.js';
import type { ProxyState } from './iptables.js';
import { categorizeEndpoints, keyOf, type EndpointInfo, type Protocol, type ServicePortInfo } from './model.js';

export const KUBE_IPVS_DUMMY = 'kube-ipvs0';
export const DEFAULT_IPVS_SCHEDULER: IpvsScheduler = 'rr';

// Chains (kube-proxy's ipvs names differ from iptables mode: KUBE-NODE-PORT is singular).
const SERVICES = 'KUBE-SERVICES';
const POSTROUTING = 'KUBE-POSTROUTING';
const NODE_PORT = 'KUBE-NODE-PORT';
const LOAD_BALANCER = 'KUBE-LOAD-BALANCER';
const MARK_MASQ = 'KUBE-MARK-MASQ';
const FORWARD = 'KUBE-FORWARD';
const PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
const SOURCE_RANGES_FIREWALL = 'KUBE-SOURCE-RANGES-FIREWALL';
const IPVS_FILTER = 'KUBE-IPVS-FILTER';
const IPVS_OUT_FILTER = 'KUBE-IPVS-OUT-FILTER';

/** iptablesChains: the chains every restore declares (and so flushes), per table. */
export const IPVS_NAT_CHAINS = [SERVICES, POSTROUTING, NODE_PORT, LOAD_BALANCER, MARK_MASQ] as const;
export const IPVS_FILTER_CHAINS = [FORWARD, NODE_PORT, PROXY_FIREWALL, SOURCE_RANGES_FIREWALL, IPVS_FILTER, IPVS_OUT_FILTER] as const;

export interface IpvsJumpRule {
  table: 'nat' | 'filter';
  chain: string;
  target: string;
  comment: string;
}

/** iptablesJumpChain: ensured (prepended) in the built-in chains, in kube-proxy's order. */
export const IPVS_JUMPS: readonly IpvsJumpRule[] = [
  { table: 'nat', chain: 'OUTPUT', target: SERVICES, comment: 'kubernetes service portals' },
  { table: 'nat', chain: 'PREROUTING', target: SERVICES, comment: 'kubernetes service portals' },
  { table: 'nat', chain: 'POSTROUTING', target: POSTROUTING, comment: 'kubernetes postrouting rules' },
  { table: 'filter', chain: 'FORWARD', target: FORWARD, comment: 'kubernetes forwarding rules' },
  { table: 'filter', chain: 'INPUT', target: NODE_PORT, comment: 'kubernetes health check rules' },
  { table: 'filter', chain: 'INPUT', target: PROXY_FIREWALL, comment: 'kube-proxy firewall rules' },
  { table: 'filter', chain: 'FORWARD', target: PROXY_FIREWALL, comment: 'kube-proxy firewall rules' },
  { table: 'filter', chain: 'INPUT', target: IPVS_FILTER, comment: 'kubernetes ipvs access filter' },
  { table: 'filter', chain: 'OUTPUT', target: IPVS_OUT_FILTER, comment: 'kubernetes ipvs access filter' },
];

export type IpsetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

interface IpsetInfo {
  name: string;
  type: IpsetType;
  comment: string;
}

const set = (name: string, type: IpsetType, comment: string): IpsetInfo => ({ name, type, comment });

/** ipsetInfo: every set kube-proxy's ipvs mode creates (IPv4 names), with its type and comment. */
export const IPVS_IPSETS: readonly IpsetInfo[] = [
  set('KUBE-LOOP-BACK', 'hash:ip,port,ip', 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose'),
  set('KUBE-CLUSTER-IP', 'hash:ip,port', 'Kubernetes service cluster ip + port for masquerade purpose'),
  set('KUBE-EXTERNAL-IP', 'hash:ip,port', 'Kubernetes service external ip + port for masquerade and filter purpose'),
  set('KUBE-EXTERNAL-IP-LOCAL', 'hash:ip,port', 'Kubernetes service external ip + port with externalTrafficPolicy=local'),
  set('KUBE-LOAD-BALANCER', 'hash:ip,port', 'Kubernetes service lb portal'),
  set('KUBE-LOAD-BALANCER-FW', 'hash:ip,port', 'Kubernetes service load balancer ip + port for load balancer with sourceRange'),
  set('KUBE-LOAD-BALANCER-LOCAL', 'hash:ip,port', 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local'),
  set('KUBE-LOAD-BALANCER-SOURCE-IP', 'hash:ip,port,ip', 'Kubernetes service load balancer ip + port + source IP for packet filter purpose'),
  set('KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose'),
  set('KUBE-NODE-PORT-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port for masquerade purpose'),
  set('KUBE-NODE-PORT-LOCAL-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port with externalTrafficPolicy=local'),
  set('KUBE-NODE-PORT-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port for masquerade purpose'),
  set('KUBE-NODE-PORT-LOCAL-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port with externalTrafficPolicy=local'),
  set('KUBE-NODE-PORT-SCTP-HASH', 'hash:ip,port', "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'"),
  set('KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'hash:ip,port', "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'"),
  set('KUBE-HEALTH-CHECK-NODE-PORT', 'bitmap:port', 'Kubernetes health check node port'),
  set('KUBE-IPVS-IPS', 'hash:ip', 'Addresses on the ipvs interface'),
];

/** ipsetWithIptablesChain: one rule per non-empty set, in this order. */
const SET_RULES: ReadonlyArray<{ name: string; table: 'nat' | 'filter'; from: string; to: string; match: string; proto?: string }> = [
  { name: 'KUBE-LOOP-BACK', table: 'nat', from: POSTROUTING, to: 'MASQUERADE', match: 'dst,dst,src' },
  { name: 'KUBE-LOAD-BALANCER', table: 'nat', from: SERVICES, to: LOAD_BALANCER, match: 'dst,dst' },
  { name: 'KUBE-LOAD-BALANCER-LOCAL', table: 'nat', from: LOAD_BALANCER, to: 'RETURN', match: 'dst,dst' },
  { name: 'KUBE-NODE-PORT-LOCAL-TCP', table: 'nat', from: NODE_PORT, to: 'RETURN', match: 'dst', proto: 'tcp' },
  { name: 'KUBE-NODE-PORT-TCP', table: 'nat', from: NODE_PORT, to: MARK_MASQ, match: 'dst', proto: 'tcp' },
  { name: 'KUBE-NODE-PORT-LOCAL-UDP', table: 'nat', from: NODE_PORT, to: 'RETURN', match: 'dst', proto: 'udp' },
  { name: 'KUBE-NODE-PORT-UDP', table: 'nat', from: NODE_PORT, to: MARK_MASQ, match: 'dst', proto: 'udp' },
  { name: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', table: 'nat', from: NODE_PORT, to: 'RETURN', match: 'dst,dst', proto: 'sctp' },
  { name: 'KUBE-NODE-PORT-SCTP-HASH', table: 'nat', from: NODE_PORT, to: MARK_MASQ, match: 'dst,dst', proto: 'sctp' },
  { name: 'KUBE-LOAD-BALANCER-FW', table: 'filter', from: PROXY_FIREWALL, to: SOURCE_RANGES_FIREWALL, match: 'dst,dst' },
  { name: 'KUBE-LOAD-BALANCER-SOURCE-CIDR', table: 'filter', from: SOURCE_RANGES_FIREWALL, to: 'RETURN', match: 'dst,dst,src' },
  { name: 'KUBE-LOAD-BALANCER-SOURCE-IP', table: 'filter', from: SOURCE_RANGES_FIREWALL, to: 'RETURN', match: 'dst,dst,src' },
];

export interface IpvsProxyConfig {
  nodeName: string;
  /** The node's addresses NodePorts answer on: every local IPv4 address but loopback and kube-ipvs0's. */
  nodeIPs: readonly string[];
  /** The node's primary address (LoadBalancerSourceRanges allow-from-node). */
  nodeIP?: string;
  /** --cluster-cidr: the local-traffic detector ("! -s CIDR"). */
  clusterCIDR?: string;
  scheduler?: IpvsScheduler;
  masqueradeAll?: boolean;
  /** Default Go's %#08x of 1<<14, as iptables mode. */
  masqueradeMark?: string;
  randomFully?: boolean;
}

export interface RealServer {
  ip: string;
  port: number;
  weight: number;
}

export interface VirtualServer {
  protocol: Protocol;
  address: string;
  port: number;
  scheduler: IpvsScheduler;
  /** ClientIP affinity: persistent with this timeout (s). */
  persistentTimeout?: number;
  /** The source-hash flag kube-proxy adds for mh. */
  sourceHash: boolean;
  /** Sorted by ip:port. */
  realServers: RealServer[];
  /** "namespace/name" of the Service. */
  service: string;
}

export interface IpsetState {
  name: string;
  type: IpsetType;
  comment: string;
  /** Sorted. */
  entries: string[];
}

export interface IpvsRender {
  virtualServers: VirtualServer[];
  /** Addresses kube-ipvs0 holds (each as /32), sorted. */
  boundAddresses: string[];
  ipsets: IpsetState[];
  /** iptables-restore input (--noflush): nat then filter. */
  restore: string;
  sysctls: Array<{ key: string; value: string }>;
}

/** Sysctls kube-proxy's ipvs mode writes (conn_reuse_mode is left alone on kernels >= 5.9). */
export const IPVS_SYSCTLS: ReadonlyArray<{ key: string; value: string }> = [
  { key: 'net.ipv4.vs.conntrack', value: '1' },
  { key: 'net.ipv4.vs.expire_nodest_conn', value: '1' },
  { key: 'net.ipv4.vs.expire_quiescent_template', value: '1' },
  { key: 'net.ipv4.ip_forward', value: '1' },
];

/** "TCP 10.96.0.10:80": a virtual server's identity. */
export function vsKey(vs: Pick<VirtualServer, 'protocol' | 'address' | 'port'>): string {
  return `${vs.protocol} ${vs.address}:${vs.port}`;
}

const lower = (p: Protocol): string => p.toLowerCase();

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cidrContains(cidr: string, ip: string): boolean {
  const [base, len] = cidr.split('/');
  const toNum = (s: string): number => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const bits = Number(len ?? 32);
  if (!base || !/^\d+\.\d+\.\d+\.\d+$/.test(base) || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  if (bits === 0) return true;
  const mask = 2 ** 32 - 2 ** (32 - bits);
  return (toNum(base) & mask) >>> 0 === (toNum(ip) & mask) >>> 0;
}

/** syncEndpoint: the endpoints a virtual server gets. */
function realServersFor(endpoints: readonly EndpointInfo[], sp: ServicePortInfo, onlyNodeLocal: boolean): RealServer[] {
  const c = categorizeEndpoints(endpoints, sp);
  const chosen = onlyNodeLocal ? (c.localEndpoints.length > 0 ? c.localEndpoints : c.clusterEndpoints) : c.clusterEndpoints;
  const byKey = new Map<string, RealServer>();
  for (const ep of chosen) byKey.set(ep.endpoint, { ip: ep.ip, port: ep.port, weight: 1 });
  return [...byKey.entries()].sort(([a], [b]) => cmpStr(a, b)).map(([, rs]) => rs);
}

export function renderIpvs(state: ProxyState, cfg: IpvsProxyConfig): IpvsRender {
  const scheduler = cfg.scheduler ?? DEFAULT_IPVS_SCHEDULER;
  const sets = new Map<string, Set<string>>(IPVS_IPSETS.map((s) => [s.name, new Set<string>()]));
  const add = (name: string, entry: string): void => void sets.get(name)?.add(entry);
  const virtualServers: VirtualServer[] = [];
  const bound = new Set<string>();
  const nodeAddresses = new Set(cfg.nodeIPs);
  const noNodeAccess: Array<{ ip: string; proto: string; port: number }> = [];
  const hasNodePort = state.servicePorts.some((sp) => sp.nodePort !== 0);
  const nodeIPs = hasNodePort ? cfg.nodeIPs.filter((ip) => !ip.startsWith('127.')) : [];

  for (const sp of state.servicePorts) {
    const proto = lower(sp.protocol);
    const endpoints = state.endpoints.get(keyOf(sp)) ?? [];
    const service = `${sp.namespace}/${sp.name}`;
    const vs = (address: string, port: number, onlyNodeLocal: boolean): void => {
      virtualServers.push({
        protocol: sp.protocol,
        address,
        port,
        scheduler,
        ...(sp.clientIPAffinity ? { persistentTimeout: sp.stickyMaxAgeSeconds } : {}),
        sourceHash: scheduler === 'mh',
        realServers: realServersFor(endpoints, sp, onlyNodeLocal),
        service,
      });
    };

    // Hairpin: local endpoints masquerade when they reach themselves.
    for (const ep of endpoints) if (ep.isLocal) add('KUBE-LOOP-BACK', `${ep.ip},${proto}:${ep.port},${ep.ip}`);

    add('KUBE-CLUSTER-IP', `${sp.clusterIP},${proto}:${sp.portNumber}`);
    vs(sp.clusterIP, sp.portNumber, sp.internalPolicyLocal);
    bound.add(sp.clusterIP);

    for (const ip of sp.externalIPs) {
      add(sp.externalPolicyLocal ? 'KUBE-EXTERNAL-IP-LOCAL' : 'KUBE-EXTERNAL-IP', `${ip},${proto}:${sp.portNumber}`);
      vs(ip, sp.portNumber, sp.externalPolicyLocal);
      // Never on the dummy when another interface has it.
      if (!nodeAddresses.has(ip)) bound.add(ip);
    }

    for (const ip of sp.loadBalancerVIPs) {
      const entry = `${ip},${proto}:${sp.portNumber}`;
      add('KUBE-LOAD-BALANCER', entry);
      if (sp.externalPolicyLocal) add('KUBE-LOAD-BALANCER-LOCAL', entry);
      if (sp.loadBalancerSourceRanges.length > 0) {
        add('KUBE-LOAD-BALANCER-FW', entry);
        let allowFromNode = false;
        for (const cidr of sp.loadBalancerSourceRanges) {
          add('KUBE-LOAD-BALANCER-SOURCE-CIDR', `${entry},${cidr}`);
          if (cfg.nodeIP !== undefined && cidrContains(cidr, cfg.nodeIP)) allowFromNode = true;
        }
        if (allowFromNode) add('KUBE-LOAD-BALANCER-SOURCE-IP', `${entry},${ip}`);
        else noNodeAccess.push({ ip, proto, port: sp.portNumber });
      }
      vs(ip, sp.portNumber, sp.externalPolicyLocal);
      if (!nodeAddresses.has(ip)) bound.add(ip);
    }

    if (sp.nodePort !== 0 && nodeIPs.length > 0) {
      if (sp.protocol === 'SCTP') {
        for (const ip of nodeIPs) {
          add('KUBE-NODE-PORT-SCTP-HASH', `${ip},sctp:${sp.nodePort}`);
          if (sp.externalPolicyLocal) add('KUBE-NODE-PORT-LOCAL-SCTP-HASH', `${ip},sctp:${sp.nodePort}`);
        }
      } else {
        add(`KUBE-NODE-PORT-${sp.protocol}`, String(sp.nodePort));
        if (sp.externalPolicyLocal) add(`KUBE-NODE-PORT-LOCAL-${sp.protocol}`, String(sp.nodePort));
      }
      for (const ip of nodeIPs) vs(ip, sp.nodePort, sp.externalPolicyLocal);
    }

    if (sp.healthCheckNodePort !== 0) add('KUBE-HEALTH-CHECK-NODE-PORT', String(sp.healthCheckNodePort));
  }
  for (const ip of bound) add('KUBE-IPVS-IPS', ip);

  const ipsets: IpsetState[] = IPVS_IPSETS.map((s) => ({ ...s, entries: [...(sets.get(s.name) ?? [])].sort(cmpStr) }));
  const nonEmpty = (name: string): boolean => (sets.get(name)?.size ?? 0) > 0;
  return {
    virtualServers,
    boundAddresses: [...bound].sort(cmpStr),
    ipsets,
    restore: renderIpvsIptables(cfg, nonEmpty, noNodeAccess),
    sysctls: [...IPVS_SYSCTLS],
  };
}

const quoted = (s: string): string => `"${s}"`;
const commentOf = (name: string): string => quoted(IPVS_IPSETS.find((s) => s.name === name)?.comment ?? '');

/** writeIptablesRules, with kube-proxy's chain declarations in front of each table's rules. */
function renderIpvsIptables(
  cfg: IpvsProxyConfig,
  nonEmpty: (name: string) => boolean,
  noNodeAccess: ReadonlyArray<{ ip: string; proto: string; port: number }>,
): string {
  const mark = cfg.masqueradeMark ?? '0x00004000';
  const nat: string[] = [`-A ${SERVICES} -s 127.0.0.0/8 -j RETURN`];
  const filter: string[] = [];
  for (const r of SET_RULES) {
    if (!nonEmpty(r.name)) continue;
    const proto = r.proto ? ` -p ${r.proto}` : '';
    (r.table === 'nat' ? nat : filter).push(`-A ${r.from}${proto} -m comment --comment ${commentOf(r.name)} -m set --match-set ${r.name} ${r.match} -j ${r.to}`);
  }
  if (nonEmpty('KUBE-CLUSTER-IP')) {
    const head = `-A ${SERVICES} -m comment --comment ${commentOf('KUBE-CLUSTER-IP')} -m set --match-set KUBE-CLUSTER-IP`;
    if (cfg.masqueradeAll) nat.push(`${head} dst,dst -j ${MARK_MASQ}`);
    else if (cfg.clusterCIDR !== undefined) nat.push(`${head} dst,dst ! -s ${cfg.clusterCIDR} -j ${MARK_MASQ}`);
    else nat.push(`${head} src,dst -j ${MARK_MASQ}`);
  }
  const externalIPRules = (head: string): void => {
    nat.push(`${head} -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT`);
    nat.push(`${head} -m addrtype --dst-type LOCAL -j ACCEPT`);
  };
  if (nonEmpty('KUBE-EXTERNAL-IP')) {
    const head = `-A ${SERVICES} -m comment --comment ${commentOf('KUBE-EXTERNAL-IP')} -m set --match-set KUBE-EXTERNAL-IP dst,dst`;
    nat.push(`${head} -j ${MARK_MASQ}`);
    externalIPRules(head);
  }
  if (nonEmpty('KUBE-EXTERNAL-IP-LOCAL')) {
    externalIPRules(`-A ${SERVICES} -m comment --comment ${commentOf('KUBE-EXTERNAL-IP-LOCAL')} -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst`);
  }
  nat.push(`-A ${SERVICES} -m addrtype --dst-type LOCAL -j ${NODE_PORT}`);
  nat.push(`-A ${LOAD_BALANCER} -j ${MARK_MASQ}`);
  filter.push(`-A ${SOURCE_RANGES_FIREWALL} -j DROP`);
  for (const e of noNodeAccess) {
    filter.push(`-A ${IPVS_OUT_FILTER} -s ${e.ip} -m ipvs --vaddr ${e.ip} --vproto ${e.proto} --vport ${e.port} -j DROP`);
  }
  // acceptIPVSTraffic: the end of KUBE-SERVICES.
  for (const name of ['KUBE-CLUSTER-IP', 'KUBE-LOAD-BALANCER']) {
    if (nonEmpty(name)) nat.push(`-A ${SERVICES} -m set --match-set ${name} dst,dst -j ACCEPT`);
  }
  filter.push(`-A ${FORWARD} -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`);
  filter.push(`-A ${FORWARD} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  filter.push(`-A ${NODE_PORT} -m comment --comment ${commentOf('KUBE-HEALTH-CHECK-NODE-PORT')} -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT`);
  // KUBE-IPVS-FILTER: service ip+port passes; anything else NEW to a kube-ipvs0 address is refused.
  for (const [name, match] of [
    ['KUBE-LOAD-BALANCER', 'dst,dst'],
    ['KUBE-CLUSTER-IP', 'dst,dst'],
    ['KUBE-EXTERNAL-IP', 'dst,dst'],
    ['KUBE-EXTERNAL-IP-LOCAL', 'dst,dst'],
    ['KUBE-HEALTH-CHECK-NODE-PORT', 'dst'],
  ] as const) {
    filter.push(`-A ${IPVS_FILTER} -m set --match-set ${name} ${match} -j RETURN`);
  }
  filter.push(`-A ${IPVS_FILTER} -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT`);
  nat.push(`-A ${POSTROUTING} -m mark ! --mark ${mark}/${mark} -j RETURN`);
  nat.push(`-A ${POSTROUTING} -j MARK --xor-mark ${mark}`);
  nat.push(`-A ${POSTROUTING} -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${(cfg.randomFully ?? true) ? ' --random-fully' : ''}`);
  nat.push(`-A ${MARK_MASQ} -j MARK --or-mark ${mark}`);
  return [
    '*nat',
    ...IPVS_NAT_CHAINS.map((c) => `:${c} - [0:0]`),
    ...nat,
    'COMMIT',
    '*filter',
    ...IPVS_FILTER_CHAINS.map((c) => `:${c} - [0:0]`),
    ...filter,
    'COMMIT',
    '',
  ].join('\n');
}

/** One virtual server as `ipvsadm --restore` reads it (the form `ipvsadm -S -n` prints). */
export function ipvsadmServiceArgs(vs: Pick<VirtualServer, 'protocol' | 'address' | 'port'>): string {
  const flag = vs.protocol === 'TCP' ? '-t' : vs.protocol === 'UDP' ? '-u' : '--sctp-service';
  return `${flag} ${vs.address}:${vs.port}`;
}

export function ipvsadmServiceLine(op: '-A' | '-E', vs: VirtualServer): string {
  const persistent = vs.persistentTimeout !== undefined ? ` -p ${vs.persistentTimeout}` : '';
  const flags = vs.sourceHash ? ' -b mh-port' : '';
  return `${op} ${ipvsadmServiceArgs(vs)} -s ${vs.scheduler}${flags}${persistent}`;
}

export function ipvsadmRealServerLine(op: '-a' | '-e', vs: Pick<VirtualServer, 'protocol' | 'address' | 'port'>, rs: RealServer): string {
  return `${op} ${ipvsadmServiceArgs(vs)} -r ${rs.ip}:${rs.port} -m -w ${rs.weight}`;
}

/** The whole render as text, for golden files and `nslab` debugging. */
export function formatIpvsRender(r: IpvsRender): string {
  const ipvs = r.virtualServers.flatMap((vs) => [ipvsadmServiceLine('-A', vs), ...vs.realServers.map((rs) => ipvsadmRealServerLine('-a', vs, rs))]);
  const ipset = r.ipsets.flatMap((s) => [ipsetCreateLine(s), ...s.entries.map((e) => `add ${s.name} ${e}`)]);
  return [
    '# kube-ipvs0',
    ...r.boundAddresses.map((a) => `${a}/32`),
    '# ipvsadm --restore',
    ...ipvs,
    '# ipset restore',
    ...ipset,
    '# iptables-restore --noflush',
    r.restore.trimEnd(),
    '# sysctl',
    ...r.sysctls.map((s) => `${s.key}=${s.value}`),
    '',
  ].join('\n');
}

/** createSet: hash sets with family/hashsize/maxelem, bitmap sets with the whole port range. */
export function ipsetCreateLine(s: Pick<IpsetState, 'name' | 'type'>): string {
  const opts = s.type === 'bitmap:port' ? 'range 0-65535' : 'family inet hashsize 1024 maxelem 65536';
  return `create ${s.name} ${s.type} ${opts}`;
}
