// Reads a lab document into a draft: the shape of every field, and the rules
// a value must meet on its own (syntax of names, addresses, CIDRs, enums).
// Rules that relate several fields live in check-lab.ts.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isScalar } from 'yaml';
import { IPVS_SCHEDULERS, type CheckExpectation, type IpvsScheduler, type PodNetworkBackend, type ProxyMode } from './types.js';
import type {
  CheckDraft,
  ClusterDraft,
  HostDraft,
  LabDraft,
  MachineRef,
  NetworkDraft,
  NicDraft,
  NodeDraft,
} from './draft.js';
import { cidrOf, cidrToString, isIPv4, parseCidr, specialRangeOverlap, type Cidr } from './ipv4.js';
import {
  DNS_LABEL_RULE,
  LABEL_VALUE_RULE,
  NODE_RESERVED_IFNAMES,
  didYouMean,
  ifnameProblem,
  isDnsLabel,
  isDnsSubdomain,
  isLabelValue,
  labelKeyProblem,
  listWords,
  showChar,
} from './names.js';
import { implicit, type At, type Fields, type Slot, type Val, type Walker } from './walker.js';

export const API_VERSION = 'nslab/v1alpha1';
export const KIND = 'Lab';

export const DEFAULTS = {
  podCIDR: cidrOf('10.10.0.0/16'),
  nodeCIDRMaskSize: 24,
  serviceCIDR: cidrOf('10.96.0.0/12'),
  nodePortRange: { base: 30000, size: 2768 },
  proxyMode: 'iptables',
  podNetwork: 'vxlan',
  domain: 'cluster.local',
  checkTimeout: 30,
} as const;

const PROXY_MODES: readonly ProxyMode[] = ['iptables', 'ipvs', 'nftables'];
const POD_NETWORKS: readonly PodNetworkBackend[] = ['host-gw', 'vxlan'];

/** A segment needs a network and a broadcast address plus room for machines. */
const NETWORK_PREFIX_MAX = 30;
/** Each node's pod subnet holds the cni0 address and at least one pod. */
const NODE_MASK_MAX = 30;
/** kube-apiserver refuses a Service range of more than 2^20 addresses. */
const SERVICE_PREFIX_MIN = 12;
/** The cluster DNS Service takes the 10th address of the Service range, as kubeadm does. */
const SERVICE_PREFIX_MAX = 28;

export interface ReadOptions {
  /** Folder manifest paths are relative to. */
  labDir: string;
  checkFiles: boolean;
}

export function readLab(w: Walker, root: Slot, opts: ReadOptions): LabDraft | undefined {
  const top = w.fields(root, ['apiVersion', 'kind', 'metadata', 'spec']);
  if (!top) return undefined;
  readConstant(w, top, 'apiVersion', API_VERSION);
  readConstant(w, top, 'kind', KIND);
  const name = readMetadata(w, top);
  const specFields = ['networks', 'nodes', 'hosts', 'cluster', 'manifests', 'checks'];
  const spec = top.fields('spec', specFields, 'add spec: with networks and nodes');
  if (!spec) return { name, networks: [], nodes: [], hosts: [], cluster: {}, manifests: [], checks: [] };
  return {
    name,
    networks: readList(spec, 'networks', (s) => readNetwork(w, s)),
    nodes: readNodes(w, spec),
    hosts: readList(spec, 'hosts', (s) => readHost(w, s)),
    cluster: readCluster(w, spec),
    manifests: readManifests(w, spec, opts),
    checks: readList(spec, 'checks', (s) => readCheck(w, s)),
  };
}

function readConstant(w: Walker, f: Fields, key: string, expected: string): void {
  const v = f.string(key, `add ${key}: ${expected}`);
  if (v && v.value !== expected) w.report(v.at, `must be "${expected}"`);
}

function readMetadata(w: Walker, top: Fields): Val<string> | undefined {
  const metadata = top.fields('metadata', ['name'], 'add metadata: {name: my-lab}');
  const name = metadata?.string('name', 'add name: my-lab');
  if (!name) return undefined;
  return checkDnsLabel(w, name, 'nslab derives namespace and interface names from it');
}

/** Items of an optional list; null items and items of the wrong shape are dropped (already reported). */
function readList<T>(f: Fields, key: string, read: (s: Slot, index: number) => T | undefined): T[] {
  return readItems(f.list(key), read);
}

function readItems<T>(items: Array<Slot | undefined> | undefined, read: (s: Slot, index: number) => T | undefined): T[] {
  const out: T[] = [];
  (items ?? []).forEach((s, i) => {
    const item = s && read(s, i);
    if (item !== undefined) out.push(item);
  });
  return out;
}

/** A lowercase variant of `name` that is a valid label, to suggest. */
function labelLike(name: string): string | undefined {
  const fixed = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return fixed && fixed !== name && isDnsLabel(fixed) ? fixed : undefined;
}

function checkDnsLabel(w: Walker, v: Val<string>, why?: string): Val<string> | undefined {
  if (isDnsLabel(v.value)) return v;
  const suggestion = labelLike(v.value);
  w.report(
    v.at,
    `must be ${DNS_LABEL_RULE}` + (suggestion ? `, e.g. "${suggestion}"` : '') + (why ? `; ${why}` : ''),
  );
  return undefined;
}

function readName(w: Walker, f: Fields, example: string): Val<string> | undefined {
  const name = f.string('name', `add name: ${example}`);
  return name && checkDnsLabel(w, name);
}

function readAddress(w: Walker, s: Slot | undefined, example: string): Val<string> | undefined {
  const v = s && w.string(s);
  if (!v) return undefined;
  if (isIPv4(v.value)) return v;
  const [address, prefix] = v.value.split('/');
  if (prefix !== undefined && address && isIPv4(address)) {
    w.report(v.at, `must be an address without a prefix length (the network gives the prefix); write ${address}`);
  } else {
    w.report(v.at, `must be an IPv4 address such as ${example}`);
  }
  return undefined;
}

function readCidr(w: Walker, s: Slot | undefined, example: string): Val<Cidr> | undefined {
  const v = s && w.string(s);
  if (!v) return undefined;
  const parsed = parseCidr(v.value);
  if (!parsed.ok) {
    w.report(
      v.at,
      parsed.hostBitsOf
        ? `${v.value} has host bits set; did you mean ${cidrToString(parsed.hostBitsOf)}?`
        : `must be an IPv4 CIDR such as ${example}`,
    );
    return undefined;
  }
  const special = specialRangeOverlap(parsed.cidr);
  if (special) {
    w.report(v.at, `${v.value} overlaps the ${special}; use a private range such as ${example}`);
    return undefined;
  }
  return { value: parsed.cidr, at: v.at };
}

function readNetwork(w: Walker, s: Slot): NetworkDraft | undefined {
  const f = w.fields(s, ['name', 'cidr', 'gateway', 'perMachine']);
  if (!f) return undefined;
  let cidr = readCidr(w, f.get('cidr', 'add cidr: 192.168.10.0/24'), '192.168.10.0/24');
  if (cidr && cidr.value.prefix > NETWORK_PREFIX_MAX) {
    w.report(cidr.at, `/${cidr.value.prefix} leaves no room for machines; use /${NETWORK_PREFIX_MAX} or shorter, e.g. /24`);
    cidr = undefined;
  }
  const written = f.string('name', 'add name: lan');
  return {
    at: f.at,
    name: written && checkDnsLabel(w, written),
    writtenName: written?.value,
    cidr,
    gateway: readAddress(w, f.get('gateway'), '192.168.10.1'),
    perMachine: f.boolean('perMachine')?.value ?? false,
  };
}

function readNodes(w: Walker, spec: Fields): NodeDraft[] {
  const hint = 'list at least one node, e.g. - {name: master, nics: [{network: lan, address: 192.168.10.210}]}';
  const items = spec.list('nodes', hint);
  if (items?.length === 0) w.report(spec.where('nodes'), `is empty; ${hint}`);
  return readItems(items, (s) => readNode(w, s));
}

function readHost(w: Walker, s: Slot): HostDraft | undefined {
  const f = w.fields(s, ['name', 'nics', 'dnsRecords']);
  if (!f) return undefined;
  return { kind: 'host', at: f.at, name: readName(w, f, 'console'), nics: readNics(w, f, false), dnsRecords: readDnsRecords(w, f) };
}

function readDnsRecords(w: Walker, f: Fields): Record<string, string> {
  const records: Record<string, string> = {};
  for (const { key, value } of f.mapping('dnsRecords') ?? []) {
    const name = key.value.replace(/\.$/, '').toLowerCase();
    if (!isDnsSubdomain(name)) w.report(key.at, `"${key.value}" is not a DNS name such as example.com`);
    const v = value ? readAddress(w, value, '203.0.113.10') : undefined;
    if (!value) w.report(key.at, 'give the address the name resolves to, e.g. example.com: 203.0.113.10');
    if (v && isDnsSubdomain(name)) records[name] = v.value;
  }
  return records;
}

function readNode(w: Walker, s: Slot): NodeDraft | undefined {
  const f = w.fields(s, ['name', 'roles', 'nodeIP', 'iface', 'hairpin', 'bridgeNfCallIptables', 'labels', 'nics']);
  if (!f) return undefined;
  return {
    kind: 'node',
    at: f.at,
    name: readName(w, f, 'worker'),
    roles: readRoles(w, f),
    nodeIP: readAddress(w, f.get('nodeIP'), '192.168.10.220'),
    iface: f.string('iface'),
    hairpin: f.boolean('hairpin'),
    bridgeNfCallIptables: f.boolean('bridgeNfCallIptables'),
    labels: readLabels(w, f),
    nics: readNics(w, f, true),
  };
}

function readRoles(w: Walker, f: Fields): string[] {
  const seen = new Set<string>();
  return readList(f, 'roles', (s) => {
    const role = w.string(s);
    if (!role || !checkDnsLabel(w, role, 'roles become node-role.kubernetes.io/ROLE labels')) return undefined;
    if (seen.has(role.value)) {
      w.report(role.at, `role "${role.value}" is listed twice; remove one`);
      return undefined;
    }
    seen.add(role.value);
    return role.value;
  });
}

function readLabels(w: Walker, f: Fields): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const { key, value } of f.mapping('labels') ?? []) {
    const keyProblem = labelKeyProblem(key.value);
    if (keyProblem) w.report(key.at, `label key "${key.value}" is invalid: ${keyProblem}`);
    if (!value) {
      w.report(key.at, 'label value must be a string; write "" for an empty value');
      continue;
    }
    const v = w.string(value);
    if (v && !isLabelValue(v.value)) w.report(v.at, `must be ${LABEL_VALUE_RULE}`);
    else if (v && !keyProblem) labels[key.value] = v.value;
  }
  return labels;
}

function readNics(w: Walker, f: Fields, isNode: boolean): NicDraft[] {
  const hint = 'add nics: [{network: lan, address: 192.168.10.210}]';
  const items = f.list('nics', hint);
  if (items?.length === 0) w.report(f.where('nics'), `is empty; a machine needs at least one NIC: ${hint.slice(4)}`);
  return readItems(items, (s, i) => readNic(w, s, i, isNode));
}

function readNic(w: Walker, s: Slot, index: number, isNode: boolean): NicDraft | undefined {
  const f = w.fields(s, ['network', 'address', 'name', 'defaultRoute']);
  if (!f) return undefined;
  return {
    at: f.at,
    network: f.string('network', 'add network: NAME, one of spec.networks'),
    address: readAddress(w, f.get('address', 'add address: 192.168.10.210'), '192.168.10.210'),
    name: readNicName(w, f, index, isNode),
    defaultRoute: f.boolean('defaultRoute'),
  };
}

function readNicName(w: Walker, f: Fields, index: number, isNode: boolean): Val<string> | undefined {
  const name = f.string('name');
  if (!name) return f.get('name') ? undefined : implicit(`eth${index}`, f.where('name'));
  const problem = ifnameProblem(name.value);
  if (problem) {
    w.report(name.at, problem);
    return undefined;
  }
  if (isNode && (NODE_RESERVED_IFNAMES.has(name.value) || /^veth[0-9a-f]{8}$/.test(name.value))) {
    w.report(name.at, `"${name.value}" is a name nslab gives its own interfaces in every node; pick another name such as eth1`);
    return undefined;
  }
  return name;
}

function readCluster(w: Walker, spec: Fields): ClusterDraft {
  const f = spec.fields('cluster', ['podCIDR', 'nodeCIDRMaskSize', 'serviceCIDR', 'nodePortRange', 'proxyMode', 'ipvs', 'podNetwork', 'dns']);
  if (!f) {
    // Absent (or already reported as not a mapping): every default applies.
    const at = (key: string): At => ({ ...spec.where('cluster'), field: `${spec.path('cluster')}.${key}` });
    return {
      podCIDR: implicit(DEFAULTS.podCIDR, at('podCIDR')),
      nodeCIDRMaskSize: implicit(DEFAULTS.nodeCIDRMaskSize, at('nodeCIDRMaskSize')),
      serviceCIDR: implicit(DEFAULTS.serviceCIDR, at('serviceCIDR')),
      nodePortRange: { ...DEFAULTS.nodePortRange },
      proxyMode: DEFAULTS.proxyMode,
      podNetwork: DEFAULTS.podNetwork,
      domain: DEFAULTS.domain,
    };
  }
  const orDefault = <T>(key: string, v: Val<T> | undefined, fallback: T): Val<T> | undefined =>
    f.get(key) ? v : implicit(fallback, f.where(key));
  const proxyMode = readEnum(w, f, 'proxyMode', PROXY_MODES) ?? (f.get('proxyMode') ? undefined : DEFAULTS.proxyMode);
  return {
    podCIDR: orDefault('podCIDR', readCidr(w, f.get('podCIDR'), '10.10.0.0/16'), DEFAULTS.podCIDR),
    nodeCIDRMaskSize: orDefault('nodeCIDRMaskSize', readNodeMask(f), DEFAULTS.nodeCIDRMaskSize),
    serviceCIDR: orDefault('serviceCIDR', readServiceCidr(w, f), DEFAULTS.serviceCIDR),
    nodePortRange: f.get('nodePortRange') ? readPortRange(w, f.get('nodePortRange')) : { ...DEFAULTS.nodePortRange },
    proxyMode,
    podNetwork: readEnum(w, f, 'podNetwork', POD_NETWORKS) ?? (f.get('podNetwork') ? undefined : DEFAULTS.podNetwork),
    domain: readDomain(w, f),
    ...readIpvs(w, f, proxyMode),
  };
}

/** cluster.ipvs: {scheduler}; only meaningful with proxyMode ipvs. */
function readIpvs(w: Walker, cluster: Fields, mode: ProxyMode | undefined): { ipvsScheduler?: IpvsScheduler } {
  if (!cluster.get('ipvs')) return {};
  const ipvs = cluster.fields('ipvs', ['scheduler']);
  if (!ipvs) return {};
  if (mode === undefined) return {}; // proxyMode itself is already reported
  if (mode !== 'ipvs') {
    w.report(cluster.where('ipvs'), `applies only to proxyMode ipvs (this lab's proxyMode is ${mode}); remove it or set proxyMode: ipvs`);
    return {};
  }
  const scheduler = readEnum(w, ipvs, 'scheduler', IPVS_SCHEDULERS);
  return scheduler ? { ipvsScheduler: scheduler } : {};
}

function readNodeMask(f: Fields): Val<number> | undefined {
  return f.integer(
    'nodeCIDRMaskSize',
    1,
    NODE_MASK_MAX,
    `a prefix length from 1 to ${NODE_MASK_MAX} (24 gives each node a /24 pod subnet)`,
  );
}

function readServiceCidr(w: Walker, f: Fields): Val<Cidr> | undefined {
  const v = readCidr(w, f.get('serviceCIDR'), '10.96.0.0/12');
  if (v && v.value.prefix < SERVICE_PREFIX_MIN) {
    w.report(v.at, `is too large: kube-apiserver takes at most a /${SERVICE_PREFIX_MIN} for Services; use e.g. 10.96.0.0/12`);
    return undefined;
  }
  if (v && v.value.prefix > SERVICE_PREFIX_MAX) {
    w.report(v.at, `is too small: the cluster DNS Service takes the range's 10th address; use /${SERVICE_PREFIX_MAX} or larger`);
    return undefined;
  }
  return v;
}

function readPortRange(w: Walker, s: Slot | undefined): { base: number; size: number } | undefined {
  if (!s) return undefined;
  const text = isScalar(s.node) ? String(s.node.value) : '';
  const match = /^([0-9]{1,5})-([0-9]{1,5})$/.exec(text.trim());
  const low = Number(match?.[1]);
  const high = Number(match?.[2]);
  if (!match || low < 1 || low > high || high > 65535) {
    w.report(s.at, 'must be a port range FIRST-LAST with 1 <= FIRST <= LAST <= 65535, such as 30000-32767');
    return undefined;
  }
  return { base: low, size: high - low + 1 };
}

function readEnum<T extends string>(w: Walker, f: Fields, key: string, values: readonly T[]): T | undefined {
  const v = f.string(key);
  if (!v) return undefined;
  const found = values.find((x) => x === v.value);
  if (!found) w.report(v.at, `must be ${listWords(values.map((x) => `"${x}"`), 'or')}${didYouMean(v.value, values)}`);
  return found;
}

function readDomain(w: Walker, cluster: Fields): string | undefined {
  if (!cluster.get('dns')) return DEFAULTS.domain;
  const dns = cluster.fields('dns', ['domain']);
  if (!dns) return undefined;
  if (!dns.get('domain')) return DEFAULTS.domain;
  const v = dns.string('domain');
  if (!v) return undefined;
  if (isDnsSubdomain(v.value)) return v.value;
  const trimmed = v.value.replace(/\.$/, '').toLowerCase();
  w.report(
    v.at,
    isDnsSubdomain(trimmed)
      ? `write the domain as ${trimmed} (lowercase, without a trailing dot)`
      : 'must be a lowercase DNS name of dot-separated labels (a-z, 0-9, "-"), such as cluster.local',
  );
  return undefined;
}

/** C0 controls (NUL, newline, escape, ...), DEL and C1 controls: never part of a path someone means. */
const CONTROL_CHAR = /\p{Cc}/u;

/**
 * Manifest paths may point outside the lab file's folder (labs share manifest
 * folders, e.g. ../manifests/x.yml): nslab only reads them, and whoever runs
 * `sudo nslab up` can read any file anyway. What is refused is what no one
 * means to write and what would break the file system calls: control
 * characters, NUL among them.
 */
function readManifests(w: Walker, spec: Fields, opts: ReadOptions): string[] {
  return readList(spec, 'manifests', (s) => {
    const v = w.string(s);
    if (!v) return undefined;
    if (v.value.trim() === '') {
      w.report(v.at, 'is empty; give the path of a manifest file, relative to the lab file');
      return undefined;
    }
    const control = CONTROL_CHAR.exec(v.value);
    if (control) {
      w.report(v.at, `contains the control character ${showChar(control[0])}; give the plain path of a manifest file`);
      return undefined;
    }
    const path = resolve(opts.labDir, v.value);
    if (opts.checkFiles) {
      const problem = manifestFileProblem(path, opts.labDir);
      if (problem) w.report(v.at, problem);
    }
    return path;
  });
}

function manifestFileProblem(path: string, labDir: string): string | undefined {
  try {
    if (statSync(path).isFile()) return undefined;
    return `${path} is not a file; give the path of a Kubernetes YAML file`;
  } catch {
    return `${path} does not exist; manifest paths are relative to the lab file's folder ${labDir}`;
  }
}

function readCheck(w: Walker, s: Slot): CheckDraft | undefined {
  const f = w.fields(s, ['name', 'from', 'run', 'expect', 'timeout']);
  if (!f) return undefined;
  const name = nonEmpty(w, f.string('name', 'add name: a short sentence saying what the check shows'), 'say what the check shows');
  const from = f.string('from', 'add from: host/NAME, node/NAME, pod/NAME or pod/LABEL=VALUE');
  const target = from && readFrom(w, from);
  return {
    at: f.at,
    name,
    ...(target ? { from } : {}),
    ...(target && target !== 'pod' ? { fromMachine: target } : {}),
    run: nonEmpty(w, f.string('run', 'add run: the command to run, e.g. curl -s http://ngx-svc/'), 'give the command to run'),
    expect: readExpect(f),
    timeout: readTimeout(f),
  };
}

function nonEmpty(w: Walker, v: Val<string> | undefined, hint: string): Val<string> | undefined {
  if (v && v.value.trim() === '') {
    w.report(v.at, `is empty; ${hint}`);
    return undefined;
  }
  return v;
}

const FROM_RULE = 'must be pod/NAME, pod/LABEL=VALUE, node/NAME or host/NAME (e.g. host/console or pod/app=ngx-dep)';

/** Validates a check's `from`; returns the machine it names, 'pod', or undefined when it is invalid. */
function readFrom(w: Walker, from: Val<string>): MachineRef | 'pod' | undefined {
  const slash = from.value.indexOf('/');
  const kind = from.value.slice(0, slash);
  const rest = from.value.slice(slash + 1);
  if (slash < 0 || !rest) {
    w.report(from.at, FROM_RULE);
    return undefined;
  }
  if (kind === 'node' || kind === 'host') {
    if (isDnsLabel(rest)) return { kind, name: rest };
    w.report(from.at, `${FROM_RULE}; "${rest}" is not a valid ${kind} name`);
    return undefined;
  }
  if (kind !== 'pod') {
    w.report(from.at, `${FROM_RULE}; "${kind}" is not one of pod, node, host${didYouMean(kind, ['pod', 'node', 'host'])}`);
    return undefined;
  }
  const problem = podSelectorProblem(rest);
  if (problem) {
    w.report(from.at, `${FROM_RULE}; ${problem}`);
    return undefined;
  }
  return 'pod';
}

function podSelectorProblem(rest: string): string | undefined {
  const eq = rest.indexOf('=');
  if (eq < 0) return isDnsSubdomain(rest) ? undefined : `"${rest}" is not a valid pod name (lowercase RFC 1123 subdomain)`;
  const key = rest.slice(0, eq);
  const value = rest.slice(eq + 1);
  const keyProblem = labelKeyProblem(key);
  if (keyProblem) return `label key "${key}" is invalid: ${keyProblem}`;
  if (!isLabelValue(value)) return `label value "${value}" is invalid: it must be ${LABEL_VALUE_RULE}`;
  return undefined;
}

function readExpect(f: Fields): CheckExpectation | undefined {
  if (!f.get('expect')) return {};
  const e = f.fields('expect', ['exitCode', 'stdout', 'stderr']);
  if (!e) return undefined;
  const expect: CheckExpectation = {};
  const exitCode = e.integer('exitCode', 0, 255, 'an exit status from 0 to 255');
  if (exitCode) expect.exitCode = exitCode.value;
  const stdout = e.string('stdout');
  if (stdout) expect.stdout = stdout.value;
  const stderr = e.string('stderr');
  if (stderr) expect.stderr = stderr.value;
  return expect;
}

function readTimeout(f: Fields): number | undefined {
  if (!f.get('timeout')) return DEFAULTS.checkTimeout;
  return f.positive('timeout', 'a positive number of seconds, e.g. 10')?.value;
}

export function labDirOf(labFile: string): string {
  return dirname(resolve(labFile));
}
