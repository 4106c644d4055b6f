// Test helpers mirroring kube-proxy's proxier_test.go conventions: object
// builders, the sortIPTablesRules normalisation its expected texts are written
// in, a jump-consistency check, and the packet tracer its flow tests use.
// Written from the description of their behaviour, not from their code.
import type { KubeObject } from '../../../src/api/types.js';
import type { IptablesProxyConfig } from '../../../src/proxy/iptables.js';

// Conventions of NewFakeProxier.
export const testNodeName = 'test-node';
export const testNodeIP = '192.168.0.2';
export const testNodeIPAlt = '192.168.1.2';
export const testExternalIP = '192.168.99.11';
export const testExternalClient = '203.0.113.2';
export const testExternalClientBlocked = '203.0.113.130';
export const testNodeIPs = [testNodeIP, testNodeIPAlt, testExternalIP];

/** NewFakeProxier's configuration: pod CIDR 10.0.0.0/8, mark "0x4000", no --random-fully, nfacct counters present. */
export function fakeProxierConfig(over: Partial<IptablesProxyConfig> = {}): IptablesProxyConfig {
  return {
    nodeName: testNodeName,
    nodeIP: testNodeIP,
    clusterCIDR: '10.0.0.0/8',
    masqueradeMark: '0x4000',
    randomFully: false,
    localhostNodePorts: true,
    nfacct: { ctStateInvalidDropped: true, localhostNodePortsAccepted: true },
    ...over,
  };
}

type Json = Record<string, unknown>;

export function makeService(namespace: string, name: string, spec: Json, status: Json = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec, status };
}

export interface Ep {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface EpPort {
  name?: string;
  port: number;
  protocol?: string;
}

export function makeSlice(namespace: string, service: string, n: number, eps: Ep[], ports: EpPort[]): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-${n}`, namespace, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: eps.map((e) => {
      const conditions: Json = {};
      if (e.ready !== undefined) conditions['ready'] = e.ready;
      if (e.serving !== undefined) conditions['serving'] = e.serving;
      if (e.terminating !== undefined) conditions['terminating'] = e.terminating;
      return { addresses: [e.ip], conditions, ...(e.node !== undefined ? { nodeName: e.node } : {}) };
    }),
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
  };
}

// ---- iptables-restore text as a dump -------------------------------------

export interface DumpChain {
  name: string;
  rules: string[];
  deleted: boolean;
}
export interface DumpTable {
  name: string;
  chains: DumpChain[];
}

export function parseDump(text: string): DumpTable[] {
  const tables: DumpTable[] = [];
  let cur: DumpTable | undefined;
  const chain = (name: string): DumpChain => {
    const c = cur?.chains.find((x) => x.name === name);
    if (!c) throw new Error(`chain ${name} used but not declared in ${cur?.name}`);
    return c;
  };
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      cur = { name: line.slice(1), chains: [] };
      tables.push(cur);
    } else if (line === 'COMMIT') {
      cur = undefined;
    } else if (!cur) {
      throw new Error(`line outside a table: ${line}`);
    } else if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      if (!cur.chains.some((c) => c.name === name)) cur.chains.push({ name, rules: [], deleted: false });
    } else if (line.startsWith('-A ')) {
      chain(line.split(' ')[1] ?? '').rules.push(line);
    } else if (line.startsWith('-X ')) {
      chain(line.split(' ')[1] ?? '').deleted = true;
    } else {
      throw new Error(`unexpected line: ${line}`);
    }
  }
  return tables;
}

export function dumpString(tables: DumpTable[]): string {
  let out = '';
  for (const t of tables) {
    out += `*${t.name}\n`;
    for (const c of t.chains) out += `:${c.name} - [0:0]\n`;
    for (const c of t.chains) for (const r of c.rules) out += `${r}\n`;
    for (const c of t.chains) if (c.deleted) out += `-X ${c.name}\n`;
    out += 'COMMIT\n';
  }
  return out;
}

export function commentOf(rule: string): string | undefined {
  const m = /--comment ("([^"]*)"|(\S+))/.exec(rule);
  if (!m) return undefined;
  return m[2] ?? m[3];
}

function serviceNameOfComment(rule: string): string | undefined {
  const c = commentOf(rule);
  if (c === undefined) return undefined;
  const i = c.search(/[ :]/);
  return i < 0 ? c : c.slice(0, i);
}

function stableSort<T>(xs: T[], less: (a: T, b: T) => boolean): T[] {
  return xs
    .map((x, i) => ({ x, i }))
    .sort((a, b) => (less(a.x, b.x) ? -1 : less(b.x, a.x) ? 1 : a.i - b.i))
    .map((p) => p.x);
}

const byServiceName = (a: string, b: string): boolean => {
  const na = serviceNameOfComment(a);
  const nb = serviceNameOfComment(b);
  if (na === undefined || nb === undefined) return false;
  return na < nb;
};

/**
 * The normal form kube-proxy's tests compare in (sortIPTablesRules): tables by
 * name; chains KUBE-NODEPORTS, KUBE-SERVICES, then KUBE-* then others, each
 * alphabetically; rules grouped by chain; KUBE-NODEPORTS and KUBE-SERVICES
 * rules stably sorted by the service named in their comment, the
 * "must be the last rule" rule kept last.
 */
export function sortLikeUpstream(text: string): string {
  const tables = parseDump(text).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rank = (n: string): number => (n === 'KUBE-NODEPORTS' ? 0 : n === 'KUBE-SERVICES' ? 1 : n.startsWith('KUBE-') ? 2 : 3);
  for (const t of tables) {
    t.chains.sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const c of t.chains) {
      if (c.name === 'KUBE-NODEPORTS' || (c.name === 'KUBE-SERVICES' && t.name === 'filter')) {
        c.rules = stableSort(c.rules, byServiceName);
      } else if (c.name === 'KUBE-SERVICES' && t.name === 'nat') {
        const last = (r: string) => (commentOf(r) ?? '').includes('must be the last rule');
        c.rules = stableSort(c.rules, (a, b) => {
          if (last(a)) return false;
          if (last(b)) return true;
          return byServiceName(a, b);
        });
      }
    }
  }
  return dumpString(tables);
}

/** checkIPTablesRuleJumps: every jump target and filled chain is declared, no dangling or unused chains. */
export function checkRuleJumps(text: string): string[] {
  const problems: string[] = [];
  const builtinTargets = new Set(['ACCEPT', 'REJECT', 'DROP', 'MARK', 'RETURN', 'DNAT', 'SNAT', 'MASQUERADE']);
  const topLevel = new Set([
    'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING',
    'KUBE-FORWARD', 'KUBE-MARK-MASQ', 'KUBE-PROXY-FIREWALL', 'KUBE-FIREWALL',
  ]);
  for (const t of parseDump(text)) {
    const created = new Set(t.chains.filter((c) => !c.deleted).map((c) => c.name));
    const filled = new Set(t.chains.filter((c) => c.rules.length > 0).map((c) => c.name));
    const jumped = new Set<string>();
    for (const c of t.chains) {
      for (const r of c.rules) {
        const m = / -j (\S+)/.exec(r);
        if (m?.[1] && !builtinTargets.has(m[1])) jumped.add(m[1]);
      }
    }
    for (const j of jumped) if (!created.has(j)) problems.push(`${t.name}: jump to undeclared ${j}`);
    for (const j of jumped) if (!filled.has(j) && j !== 'KUBE-NODEPORTS') problems.push(`${t.name}: jump to empty ${j}`);
    for (const c of created) if (!jumped.has(c) && !topLevel.has(c)) problems.push(`${t.name}: unused chain ${c}`);
  }
  return problems;
}

// ---- the packet tracer ---------------------------------------------------

interface Addr {
  value: string;
  negated: boolean;
}

interface TraceRule {
  raw: string;
  source?: Addr;
  destination?: Addr;
  srcType?: Addr;
  dstType?: Addr;
  protocol?: Addr;
  dport?: Addr;
  jump?: string;
  dnat?: string;
  probability: boolean;
  historyCheck: boolean;
}

export function tokenize(rule: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(rule); m; m = re.exec(rule)) out.push(m[1] ?? m[2] ?? '');
  return out;
}

function parseTraceRule(raw: string): TraceRule {
  const t = tokenize(raw);
  const r: TraceRule = { raw, probability: false, historyCheck: false };
  let neg = false;
  for (let i = 0; i < t.length; i++) {
    const tok = t[i] ?? '';
    const next = t[i + 1] ?? '';
    const take = (): Addr => {
      i++;
      const a = { value: next, negated: neg };
      neg = false;
      return a;
    };
    switch (tok) {
      case '!':
        neg = true;
        continue;
      case '-s':
        r.source = take();
        break;
      case '-d':
        r.destination = take();
        break;
      case '-p':
        r.protocol = take();
        break;
      case '--dport':
        r.dport = take();
        break;
      case '--src-type':
        r.srcType = take();
        break;
      case '--dst-type':
        r.dstType = take();
        break;
      case '-j':
        r.jump = next;
        i++;
        break;
      case '--to-destination':
        r.dnat = next;
        i++;
        break;
      case '--probability':
        r.probability = true;
        i++;
        break;
      case '--rcheck':
      case '--mark':
      case '--ctstate':
        r.historyCheck = true;
        if (tok !== '--rcheck') i++;
        break;
      default:
        break;
    }
    neg = false;
  }
  return r;
}

function ipNum(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function addrMatches(a: Addr, ip: string): boolean {
  let m: boolean;
  if (a.value.includes('/')) {
    const [base = '', p = '32'] = a.value.split('/');
    const size = 2 ** (32 - Number(p));
    const b = ipNum(base) - (ipNum(base) % size);
    m = ipNum(ip) >= b && ipNum(ip) < b + size;
  } else {
    m = a.value === ip;
  }
  return a.negated ? !m : m;
}

function valueMatches(a: Addr, v: string): boolean {
  return a.negated ? a.value !== v : a.value === v;
}

export interface TraceResult {
  matches: string[];
  output: string;
  masq: boolean;
}

/**
 * What happens to a packet: nat KUBE-SERVICES (as PREROUTING would send it),
 * pending DNAT applied, then the filter chains kube-proxy fills. Probabilistic
 * jumps are all followed, so the output lists every endpoint a packet may
 * reach; history matches (recent --rcheck, mark, ctstate) never match.
 */
export function tracePacket(
  restore: string,
  packet: { sourceIP: string; protocol?: string; destIP: string; destPort: number },
  nodeIPs: string[] = testNodeIPs,
): TraceResult {
  const tables = new Map<string, Map<string, TraceRule[]>>();
  for (const t of parseDump(restore)) {
    const chains = new Map<string, TraceRule[]>();
    for (const c of t.chains) chains.set(c.name, c.rules.map(parseTraceRule));
    tables.set(t.name, chains);
  }
  const local = new Set(['127.0.0.1', ...nodeIPs]);
  const protocol = (packet.protocol ?? 'tcp').toLowerCase();
  const matches: string[] = [];
  const outputs: string[] = [];
  let masq = false;
  let destIP = packet.destIP;
  const port = String(packet.destPort);

  const ruleMatches = (r: TraceRule): boolean => {
    if (r.source && !addrMatches(r.source, packet.sourceIP)) return false;
    if (r.srcType && !valueMatches(r.srcType, local.has(packet.sourceIP) ? 'LOCAL' : 'not-matched')) return false;
    if (r.protocol && !valueMatches(r.protocol, protocol)) return false;
    if (r.destination && !addrMatches(r.destination, destIP)) return false;
    if (r.dstType && !valueMatches(r.dstType, local.has(destIP) ? 'LOCAL' : 'not-matched')) return false;
    if (r.dport && !valueMatches(r.dport, port)) return false;
    if (r.historyCheck) return false;
    return true;
  };
  const runChain = (table: string, chain: string, depth = 0): boolean => {
    if (depth > 20) throw new Error('jump loop');
    const rules = tables.get(table)?.get(chain) ?? [];
    for (const r of rules) {
      if (r.jump === undefined || !ruleMatches(r)) continue;
      matches.push(r.raw);
      switch (r.jump) {
        case 'KUBE-MARK-MASQ':
          masq = true;
          continue;
        case 'ACCEPT':
        case 'REJECT':
        case 'DROP':
          outputs.push(r.jump);
          return true;
        case 'DNAT':
          outputs.push(r.dnat ?? '?');
          return true;
        default: {
          const terminated = runChain(table, r.jump, depth + 1);
          if (terminated && !r.probability) return true;
        }
      }
    }
    return false;
  };
  runChain('nat', 'KUBE-SERVICES');
  if (outputs.length > 0) destIP = (outputs[0] ?? '').split(':')[0] ?? destIP;
  for (const c of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) runChain('filter', c);
  return { matches, output: outputs.join(', '), masq };
}

export interface FlowTest {
  name: string;
  sourceIP: string;
  protocol?: string;
  destIP: string;
  destPort: number;
  output: string;
  masq?: boolean;
}

/** Each flow as [name, expected, actual] so a failing case shows which. */
export function runFlows(restore: string, flows: FlowTest[], nodeIPs: string[] = testNodeIPs): Array<{ name: string; want: string; got: string }> {
  return flows.map((f) => {
    const r = tracePacket(restore, f, nodeIPs);
    return {
      name: f.name,
      want: `${f.output} masq=${f.masq ?? false}`,
      got: `${r.output} masq=${r.masq}`,
    };
  });
}

/** The Services and EndpointSlices of kube-proxy's TestOverallIPTablesRules and TestOverallNFTablesRules (the same in both). */
export function overallObjects() {
  const services = [
    makeService('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] }),
    makeService(
      'ns2',
      'svc2',
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        clusterIP: '172.30.0.42',
        ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }],
        externalIPs: ['192.168.99.22'],
        healthCheckNodePort: 30000,
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    ),
    makeService('ns3', 'svc3', {
      type: 'NodePort',
      clusterIP: '172.30.0.43',
      ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3003 }],
    }),
    makeService('ns4', 'svc4', {
      type: 'NodePort',
      clusterIP: '172.30.0.44',
      externalIPs: ['192.168.99.33'],
      ports: [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80 }],
    }),
    makeService(
      'ns5',
      'svc5',
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Cluster',
        clusterIP: '172.30.0.45',
        ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3002 }],
        healthCheckNodePort: 30000,
        loadBalancerSourceRanges: [' 203.0.113.0/25'],
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      },
      { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } },
    ),
    makeService('ns6', 'svc6', {
      type: 'ClusterIP',
      clusterIP: '172.30.0.46',
      ports: [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80 }],
    }),
  ];
  const p80 = [{ name: 'p80', port: 80 }];
  const slices = [
    makeSlice('ns1', 'svc1', 1, [{ ip: '10.180.0.1' }], p80),
    makeSlice('ns2', 'svc2', 1, [{ ip: '10.180.0.2' }], p80),
    makeSlice('ns3', 'svc3', 1, [{ ip: '10.180.0.3' }], p80),
    makeSlice('ns4', 'svc4', 1, [{ ip: '10.180.0.4' }, { ip: '10.180.0.5', node: testNodeName }], p80),
    makeSlice('ns5', 'svc5', 1, [{ ip: '10.180.0.3' }], p80),
  ];
  return { services, slices };
}
