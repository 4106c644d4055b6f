// Lab-file fuzzer: the repository's lab files, mutated byte by byte and value
// by value with hostile text ('#', '\', quotes, '..', NUL, long Unicode, huge
// numbers, deep nesting, aliases), through the parser and the pure planner.
// Each mutant must give either located problems or a lab whose plan holds
// only kernel-safe names, unique per namespace, valid addresses, and ip
// -batch words ip reads as the plan. Fixed seed, bounded count:
// NSLAB_FUZZ_RUNS=5000 runs longer; NSLAB_FUZZ_SEED picks another sequence.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { describe, expect, it, vi } from 'vitest';
import YAML, { Alias } from 'yaml';
import { parseLabText } from '../../../src/labfile/parse-lab.js';
import type { LabSpec } from '../../../src/labfile/types.js';
import { planTopology, allNetns, type TopologyPlan } from '../../../src/plan/topology.js';
import { batchTokenProblem, renderIpBatches } from '../../../src/plan/ip-batch.js';
import { rng } from '../../helpers/fuzz.js';

const RUNS = Number(process.env['NSLAB_FUZZ_RUNS'] ?? 300);
const SEED = Number(process.env['NSLAB_FUZZ_SEED'] ?? 0x5eed_0006);
/** One parse and plan of a small file takes about a millisecond; this is "hung". */
const PER_CASE_MS = 2000;
const FILE = 'fuzz.yaml';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');

/** Every lab file in labs/ and examples/, plus one using every field. */
function seeds(): string[] {
  const found: string[] = [];
  for (const dir of ['labs', 'examples']) {
    const walk = (d: string): void => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (/\.ya?ml$/.test(entry.name)) {
          const text = readFileSync(p, 'utf8');
          if (/^kind: Lab$/m.test(text)) found.push(text);
        }
      }
    };
    walk(path.join(REPO, dir));
  }
  found.push(FULL_LAB);
  return found;
}

const FULL_LAB = `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: full}
spec:
  networks:
  - {name: lan, cidr: 192.168.10.0/24, gateway: 192.168.10.1}
  - &nat {name: nat, cidr: 10.0.2.0/24, gateway: 10.0.2.2, perMachine: true}
  nodes:
  - {name: master, roles: [control-plane], nics: [{network: lan, address: 192.168.10.210}]}
  - name: a-rather-long-worker-name
    nodeIP: 192.168.10.220
    iface: enp0s8
    labels: {disk: ssd, example.com/tier: web}
    nics:
    - {network: nat, address: 10.0.2.15, defaultRoute: true, name: enp0s3}
    - {network: lan, address: 192.168.10.220, name: enp0s8}
  hosts:
  - {name: console, nics: [{network: lan, address: 192.168.10.208}]}
  - {name: resolver, nics: [{network: lan, address: 192.168.10.53}], dnsRecords: {example.com: 203.0.113.10}}
  cluster:
    podCIDR: 10.10.0.0/16
    nodeCIDRMaskSize: 24
    serviceCIDR: 10.96.0.0/12
    nodePortRange: 30000-32767
    proxyMode: ipvs
    podNetwork: vxlan
    dns: {domain: cluster.local}
  manifests: [m/ngx-conf.yml]
  checks:
  - {name: ping, from: host/console, run: ping -c1 192.168.10.210, expect: {exitCode: 0, stdout: "1 received"}, timeout: 5}
  - {name: curl, from: pod/app=ngx-dep, run: curl -s http://ngx-svc/}
`;

const HOSTILE_STRINGS = [
  '#',
  'eth#1',
  '\\',
  'eth0\\',
  '"',
  "'",
  '..',
  '.',
  '../../etc',
  '/',
  '\u0000',
  'a\u0000b',
  '\n',
  'a b',
  '\t',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  'é'.repeat(8),
  '網卡'.repeat(40),
  '\u{1F600}'.repeat(5),
  'x'.repeat(300),
  '',
  ' ',
  '-',
  '-h',
  'up',
  'help',
  'lo',
  'br0',
  'cni0',
  'flannel.1',
  'veth0123abcd',
  '__proto__',
  'constructor',
  'node/',
  'pod/a=b=c',
  '{{',
  '0.0.0.0',
  '255.255.255.255',
  '192.168.10.1',
  '010.1.1.1',
  '1.2.3.4/33',
  '::1',
  '1e400',
  'null',
  '~',
];

const HOSTILE_VALUES: unknown[] = [
  ...HOSTILE_STRINGS,
  0,
  -1,
  1e308,
  -1e308,
  2 ** 53 + 1,
  4294967296,
  65536,
  0.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  null,
  [],
  {},
  ['#', '..'],
  { name: 'eth#1' },
];

const HOSTILE_BYTES = ['#', '\\', '"', "'", ':', '\n', ' ', '\t', '\0', '{', '}', '[', ']', '-', '&', '*', '!', '|', '>', '%', '@', '`', ',', '?'];

type Rand = () => number;
type Path = Array<string | number>;

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

function deep(r: Rand, depth: number): unknown {
  let v: unknown = pick(r, HOSTILE_STRINGS);
  for (let i = 0; i < depth; i++) v = r() < 0.5 ? [v] : { a: v };
  return v;
}

function hostileValue(r: Rand): unknown {
  const roll = r();
  if (roll < 0.1) return deep(r, 1 + Math.floor(r() * 300));
  return structuredClone(pick(r, HOSTILE_VALUES));
}

/** Every path to a value in a JSON-like tree. */
function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function getAt(root: unknown, p: Path): unknown {
  let v = root;
  for (const k of p) v = (v as Record<string | number, unknown>)[k];
  return v;
}

function setAt(root: unknown, p: Path, value: unknown): unknown {
  if (p.length === 0) return value;
  const parent = getAt(root, p.slice(0, -1)) as Record<string | number, unknown>;
  parent[p[p.length - 1] as string | number] = value;
  return root;
}

function deleteAt(root: unknown, p: Path): void {
  if (p.length === 0) return;
  const parent = getAt(root, p.slice(0, -1));
  const key = p[p.length - 1];
  if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
  else if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[String(key)];
}

/** Fields whose values become kernel object names, addresses or command words. */
const NAME_KEYS = new Set(['name', 'network', 'iface', 'address', 'gateway', 'nodeIP', 'from', 'cidr', 'podCIDR', 'serviceCIDR', 'domain']);

/** A hostile character or word in or instead of a name: the likeliest way a real name goes wrong. */
function damageName(r: Rand, name: string): string {
  const i = Math.floor(r() * (name.length + 1));
  const op = r();
  if (op < 0.5) return name.slice(0, i) + pick(r, HOSTILE_STRINGS) + name.slice(i);
  if (op < 0.7) return name.slice(0, i) + pick(r, HOSTILE_BYTES) + name.slice(i);
  return pick(r, HOSTILE_STRINGS);
}

/** Aim at names: a NIC's name (written or not), or any name-like field. */
function mutateName(r: Rand, root: unknown): void {
  const all = paths(root);
  const nics = all.filter((p) => p.length >= 2 && p[p.length - 2] === 'nics' && typeof p[p.length - 1] === 'number');
  const named = all.filter((p) => NAME_KEYS.has(String(p[p.length - 1])) && typeof getAt(root, p) === 'string');
  if (nics.length > 0 && r() < 0.6) {
    const nic = getAt(root, pick(r, nics));
    if (nic && typeof nic === 'object' && !Array.isArray(nic)) {
      const o = nic as Record<string, unknown>;
      o['name'] = damageName(r, typeof o['name'] === 'string' ? o['name'] : `eth${Math.floor(r() * 3)}`);
    }
  } else if (named.length > 0) {
    const p = pick(r, named);
    setAt(root, p, damageName(r, String(getAt(root, p))));
  }
}

/** One structural change to the parsed document, written back as YAML. */
function mutateValues(r: Rand, text: string): string {
  let root: unknown = YAML.parse(text);
  if (r() < 0.5) {
    mutateName(r, root);
    return YAML.stringify(root);
  }
  const rounds = 1 + Math.floor(r() * 3);
  for (let n = 0; n < rounds; n++) {
    const all = paths(root);
    const p = pick(r, all);
    const here = getAt(root, p);
    const op = r();
    if (op < 0.35) {
      root = setAt(root, p, hostileValue(r));
    } else if (op < 0.6 && typeof here === 'string') {
      // A hostile character inside an existing value: the likeliest way a real name goes wrong.
      const i = Math.floor(r() * (here.length + 1));
      root = setAt(root, p, here.slice(0, i) + pick(r, HOSTILE_STRINGS) + here.slice(i));
    } else if (op < 0.75) {
      const q = pick(r, all);
      const other = getAt(root, q);
      if (p.length > 0 && q.length > 0 && !isPrefix(p, q) && !isPrefix(q, p)) {
        root = setAt(root, p, structuredClone(other));
        root = setAt(root, q, structuredClone(here));
      }
    } else if (op < 0.85) {
      deleteAt(root, p);
    } else if (op < 0.93 && Array.isArray(here) && here.length > 0) {
      here.push(structuredClone(pick(r, here)));
    } else {
      const parent = getAt(root, p.slice(0, -1));
      const key = p[p.length - 1];
      if (parent && typeof parent === 'object' && !Array.isArray(parent) && typeof key === 'string') {
        const obj = parent as Record<string, unknown>;
        obj[pick(r, HOSTILE_STRINGS)] = obj[key];
        delete obj[key];
      }
    }
  }
  return YAML.stringify(root);
}

function isPrefix(a: Path, b: Path): boolean {
  return a.length <= b.length && a.every((k, i) => b[i] === k);
}

/** Byte-level damage to the text: flips, hostile characters, and lines deleted or repeated. */
function mutateText(r: Rand, text: string): string {
  let t = text;
  const rounds = 1 + Math.floor(r() * 4);
  for (let n = 0; n < rounds; n++) {
    const i = Math.floor(r() * (t.length + 1));
    const op = r();
    if (op < 0.3) t = t.slice(0, i) + pick(r, HOSTILE_BYTES) + t.slice(i + 1);
    else if (op < 0.5) t = t.slice(0, i) + pick(r, HOSTILE_STRINGS) + t.slice(i);
    else if (op < 0.65) t = t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ (1 << Math.floor(r() * 7))) + t.slice(i + 1);
    else {
      const lines = t.split('\n');
      const l = Math.floor(r() * lines.length);
      if (op < 0.8) lines.splice(l, 1);
      else lines.splice(l, 0, lines[Math.floor(r() * lines.length)] ?? '');
      t = lines.join('\n');
    }
  }
  return t;
}

const SAFE_IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const NODE_OWN = ['lo', 'cni0', 'flannel.1', 'kube-ipvs0'];

function ifnameIssue(name: string): string | undefined {
  if (!SAFE_IFNAME.test(name) || Buffer.byteLength(name) > 15 || name === '.' || name === '..') return `bad interface name ${JSON.stringify(name)}`;
  return undefined;
}

function addressIssue(a: string, withPrefix: boolean): string | undefined {
  const [ip, prefix, ...rest] = a.split('/');
  if (!ipaddr.IPv4.isValidFourPartDecimal(ip ?? '') || rest.length > 0) return `bad address ${JSON.stringify(a)}`;
  if (withPrefix && !(prefix !== undefined && /^(0|[1-9][0-9]?)$/.test(prefix) && Number(prefix) <= 32)) return `bad prefix in ${JSON.stringify(a)}`;
  if (!withPrefix && prefix !== undefined) return `unexpected prefix in ${JSON.stringify(a)}`;
  return undefined;
}

/** Everything wrong with a plan: names the kernel or ip would read otherwise, clashes, bad addresses. */
function planIssues(plan: TopologyPlan): string[] {
  const issues: string[] = [];
  const note = (x: string | undefined): void => {
    if (x) issues.push(x);
  };
  const inNetns = new Map<string, string[]>();
  const add = (ns: string, name: string): void => {
    inNetns.set(ns, [...(inNetns.get(ns) ?? []), name]);
  };
  for (const ns of allNetns(plan)) {
    if (Buffer.byteLength(ns) > 255 || !/^[A-Za-z0-9_.-]+$/.test(ns)) issues.push(`bad netns name ${JSON.stringify(ns)}`);
  }
  for (const s of plan.segments) {
    add(s.netns, 'lo');
    add(s.netns, 'br0');
    if (s.gateway) note(addressIssue(s.gateway, true));
  }
  for (const m of [...plan.nodes, ...plan.hosts]) {
    for (const n of m.kind === 'node' ? NODE_OWN : ['lo']) add(m.netns, n);
    for (const nic of m.nics) {
      note(ifnameIssue(nic.ifname));
      note(ifnameIssue(nic.segmentPort));
      add(m.netns, nic.ifname);
      add(nic.segmentNetns, nic.segmentPort);
      note(addressIssue(`${nic.address}/${nic.prefix}`, true));
    }
    if (m.defaultRoute) {
      note(addressIssue(m.defaultRoute.via, false));
      if (!m.nics.some((n) => n.ifname === m.defaultRoute?.dev)) issues.push(`default route via unknown device ${m.defaultRoute.dev}`);
    }
  }
  for (const n of plan.nodes) {
    note(addressIssue(n.nodeIP, false));
    note(addressIssue(n.flannelIP, false));
    note(addressIssue(n.podCIDR, true));
    note(addressIssue(n.podGateway, true));
    for (const r of n.podRoutes) {
      note(addressIssue(r.dst, true));
      note(addressIssue(r.via, false));
    }
  }
  for (const [ns, names] of inNetns) {
    const dup = names.find((x, i) => names.indexOf(x) !== i);
    if (dup) issues.push(`interface ${dup} twice in ${ns}`);
  }
  const batches = renderIpBatches(plan);
  for (const line of [...batches.create, ...batches.configure.flatMap((c) => c.lines)]) {
    for (const word of line.split(' ')) {
      const problem = batchTokenProblem(word);
      if (problem) issues.push(`ip -batch word ${JSON.stringify(word)} ${problem} in ${JSON.stringify(line)}`);
    }
  }
  return issues;
}

/** Parses and plans one text; returns what is wrong with the outcome (nothing, when all is well). */
function check(text: string): string[] {
  return outcome(text).issues;
}

function outcome(text: string): { issues: string[]; planned: boolean } {
  const started = performance.now();
  const { lab, problems } = parseLabText(text, FILE);
  const issues: string[] = [];
  if (lab && problems.length > 0) issues.push('both a lab and problems');
  if (!lab && problems.length === 0) issues.push('neither a lab nor problems');
  for (const p of problems) {
    if (p.file !== FILE || !(p.line >= 1) || !(p.col >= 1) || typeof p.message !== 'string' || p.message === '') {
      issues.push(`unlocated problem ${JSON.stringify(p)}`);
    }
  }
  if (lab) issues.push(...planIssues(planTopology(lab as LabSpec)));
  const ms = performance.now() - started;
  if (ms > PER_CASE_MS) issues.push(`took ${Math.round(ms)} ms`);
  return { issues, planned: lab !== undefined };
}

describe('lab-file fuzzer', () => {
  const inputs = seeds();

  it('starts from labs that parse and plan cleanly', () => {
    expect(inputs.length).toBeGreaterThanOrEqual(6);
    for (const text of inputs) expect(check(text)).toEqual([]);
  });

  it(`survives ${RUNS} mutants of them (seed ${SEED})`, () => {
    const r = rng(SEED);
    let labs = 0;
    for (let run = 0; run < RUNS; run++) {
      const seed = pick(r, inputs);
      const text = r() < 0.5 ? mutateText(r, seed) : mutateValues(r, seed);
      let result: ReturnType<typeof outcome>;
      try {
        result = outcome(text);
      } catch (e) {
        result = { issues: [`threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`], planned: false };
      }
      if (result.issues.length > 0) expect.fail(`run ${run}: ${result.issues.join('; ')}\n--- input ---\n${text}`);
      if (result.planned) labs++;
    }
    // The mutants must not all be refused, or the planner is never exercised.
    expect(labs).toBeGreaterThan(RUNS / 10);
  }, Math.max(60_000, RUNS * 20));

  // yaml's Alias.resolve walks the document from the top each time, so the
  // reader took time quadratic in the number of aliases (10,000 aliases of one
  // node took about 20 s). The walker resolves them in one pass and must never
  // call Alias.resolve: counted, not timed.
  it('reads a file of 10,000 aliases without yaml\'s per-alias document walk', () => {
    const text = [
      'apiVersion: nslab/v1alpha1',
      'kind: Lab',
      'metadata: {name: t}',
      'spec:',
      '  networks: [{name: lan, cidr: 192.168.10.0/24}]',
      '  hosts: [&n {name: n, nics: [{network: lan, address: 192.168.10.2}]}]',
      `  nodes: [${Array(10_000).fill('*n').join(', ')}]`,
      '',
    ].join('\n');
    const resolve = vi.spyOn(Alias.prototype, 'resolve');
    try {
      const { lab, problems } = parseLabText(text, FILE);
      expect(resolve).not.toHaveBeenCalled();
      expect(lab).toBeUndefined();
      expect(problems.some((p) => p.message.includes('is already used'))).toBe(true);
    } finally {
      resolve.mockRestore();
    }
  }, 30_000);
});
