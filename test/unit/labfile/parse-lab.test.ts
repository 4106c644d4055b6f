import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabFileError, formatProblems, loadLabFile, parseLabText } from '../../../src/labfile/parse-lab.js';
import type { LabSpec, SpecProblem } from '../../../src/labfile/types.js';

const FILE = 'lab.yaml';

/** Header of every lab below; the spec body starts on line 5. */
const HEADER = ['apiVersion: nslab/v1alpha1', 'kind: Lab', 'metadata: {name: t}', 'spec:'];
const LAN = '- {name: lan, cidr: 192.168.10.0/24, gateway: 192.168.10.1}';
const MASTER = '- {name: master, nics: [{network: lan, address: 192.168.10.210}]}';

/** A lab file whose spec is `body` (lines written at column 1, indented by 2 in the file). */
function lab(...body: string[]): string {
  return [...HEADER, ...body.map((l) => `  ${l}`), ''].join('\n');
}

/** The usual networks and nodes sections followed by `rest` (which starts on line 9). */
function labWith(...rest: string[]): string {
  return lab('networks:', LAN, 'nodes:', MASTER, ...rest);
}

function problemsOf(text: string): SpecProblem[] {
  const result = parseLabText(text, FILE);
  expect(result.lab, 'the lab should have been refused').toBeUndefined();
  return result.problems;
}

function parsed(text: string): LabSpec {
  const { lab: spec, problems } = parseLabText(text, FILE);
  expect(formatProblems(problems)).toBe('');
  if (!spec) throw new Error('no lab');
  return spec;
}

/** Line `line` of the text and the 1-based column where `needle` starts on it. */
function at(text: string, line: number, needle: string): { line: number; col: number } {
  const index = text.split('\n')[line - 1]?.indexOf(needle) ?? -1;
  if (index < 0) throw new Error(`"${needle}" is not on line ${line}`);
  return { line, col: index + 1 };
}

interface Expected {
  line: number;
  /** The text the problem points at, on that line. */
  near: string;
  field: string;
  message: string;
}

/** Exactly one problem, at the given place, whose message contains the fragment. */
function expectOnly(text: string, e: Expected): void {
  const problems = problemsOf(text);
  expect(problems, formatProblems(problems)).toHaveLength(1);
  expectProblem(text, problems[0], e);
}

function expectProblem(text: string, p: SpecProblem | undefined, e: Expected): void {
  expect(p).toMatchObject({ file: FILE, ...at(text, e.line, e.near), field: e.field });
  expect(p?.message).toContain(e.message);
}

const EXAMPLE = `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: ngx-svc}
spec:
  networks:
  - {name: lan, cidr: 192.168.10.0/24, gateway: 192.168.10.1}
  - {name: nat, cidr: 10.0.2.0/24, gateway: 10.0.2.2, perMachine: true}
  nodes:
  - {name: master, roles: [control-plane], nics: [{network: lan, address: 192.168.10.210}]}
  - name: worker
    nodeIP: 192.168.10.220      # optional, kubelet --node-ip
    iface: eth1                 # optional, flannel --iface (a NIC name of this node)
    labels: {disk: ssd}         # optional
    nics:
    - {network: nat, address: 10.0.2.15, defaultRoute: true}
    - {network: lan, address: 192.168.10.220, name: eth1}
  hosts:
  - {name: console, nics: [{network: lan, address: 192.168.10.208}]}
  cluster:
    podCIDR: 10.10.0.0/16
    nodeCIDRMaskSize: 24
    serviceCIDR: 10.96.0.0/12
    nodePortRange: 30000-32767
    proxyMode: iptables           # iptables | ipvs | nftables
    podNetwork: host-gw           # host-gw | vxlan
    dns: {domain: cluster.local}
  manifests: [ngx-conf.yml, ngx-dep.yml]   # relative to the lab file
  checks:
  - name: NodePort answers from outside the cluster
    from: host/console
    run: curl -s http://192.168.10.220:{{ service "ngx-svc" "nodePort" }}/
    expect: {exitCode: 0, stdout: "srv : 10.10."}
    timeout: 10
`;

describe('parseLabText on valid labs', () => {
  it('parses the example lab into a full LabSpec', () => {
    const { lab: spec, problems } = parseLabText(EXAMPLE, '/labs/ngx.yaml');
    expect(problems).toEqual([]);
    expect(spec).toEqual({
      name: 'ngx-svc',
      file: '/labs/ngx.yaml',
      networks: [
        { name: 'lan', cidr: '192.168.10.0/24', gateway: '192.168.10.1', perMachine: false },
        { name: 'nat', cidr: '10.0.2.0/24', gateway: '10.0.2.2', perMachine: true },
      ],
      nodes: [
        {
          name: 'master',
          roles: ['control-plane'],
          labels: {},
          nics: [{ network: 'lan', address: '192.168.10.210', name: 'eth0', defaultRoute: false }],
        },
        {
          name: 'worker',
          roles: [],
          nodeIP: '192.168.10.220',
          iface: 'eth1',
          labels: { disk: 'ssd' },
          nics: [
            { network: 'nat', address: '10.0.2.15', name: 'eth0', defaultRoute: true },
            { network: 'lan', address: '192.168.10.220', name: 'eth1', defaultRoute: false },
          ],
        },
      ],
      hosts: [{ name: 'console', nics: [{ network: 'lan', address: '192.168.10.208', name: 'eth0', defaultRoute: false }], dnsRecords: {} }],
      cluster: {
        podCIDR: '10.10.0.0/16',
        nodeCIDRMaskSize: 24,
        serviceCIDR: '10.96.0.0/12',
        nodePortRange: { base: 30000, size: 2768 },
        proxyMode: 'iptables',
        podNetwork: 'host-gw',
        dns: { domain: 'cluster.local' },
      },
      manifests: ['/labs/ngx-conf.yml', '/labs/ngx-dep.yml'],
      checks: [
        {
          name: 'NodePort answers from outside the cluster',
          from: 'host/console',
          run: 'curl -s http://192.168.10.220:{{ service "ngx-svc" "nodePort" }}/',
          expect: { exitCode: 0, stdout: 'srv : 10.10.' },
          timeout: 10,
        },
      ],
    } satisfies LabSpec);
  });

  it('fills in every default', () => {
    const spec = parsed(
      lab(
        'networks:',
        '- {name: lan, cidr: 192.168.10.0/24}',
        '- {name: nat, cidr: 10.0.2.0/24}',
        'nodes:',
        '- {name: master, nics: [{network: lan, address: 192.168.10.210}, {network: nat, address: 10.0.2.15}]}',
        'checks:',
        '- {name: ping, from: node/master, run: ping -c1 192.168.10.210}',
      ),
    );
    expect(spec.networks[0]).toEqual({ name: 'lan', cidr: '192.168.10.0/24', perMachine: false });
    expect(spec.nodes[0]).toEqual({
      name: 'master',
      roles: [],
      labels: {},
      nics: [
        { network: 'lan', address: '192.168.10.210', name: 'eth0', defaultRoute: false },
        { network: 'nat', address: '10.0.2.15', name: 'eth1', defaultRoute: false },
      ],
    });
    expect(spec.hosts).toEqual([]);
    expect(spec.manifests).toEqual([]);
    expect(spec.cluster).toEqual({
      podCIDR: '10.10.0.0/16',
      nodeCIDRMaskSize: 24,
      serviceCIDR: '10.96.0.0/12',
      nodePortRange: { base: 30000, size: 2768 },
      proxyMode: 'iptables',
      podNetwork: 'vxlan',
      dns: { domain: 'cluster.local' },
    });
    expect(spec.checks).toEqual([{ name: 'ping', from: 'node/master', run: 'ping -c1 192.168.10.210', expect: {}, timeout: 30 }]);
  });

  it('defaults the cluster fields one by one, and treats empty optional fields as unset', () => {
    const spec = parsed(labWith('hosts:', 'cluster:', '  proxyMode: ipvs', '  dns: {}'));
    expect(spec.hosts).toEqual([]);
    expect(spec.cluster.proxyMode).toBe('ipvs');
    expect(spec.cluster.podCIDR).toBe('10.10.0.0/16');
    expect(spec.cluster.dns).toEqual({ domain: 'cluster.local' });
  });

  it('parses other port ranges, modes and backends', () => {
    const spec = parsed(labWith('cluster: {nodePortRange: 80-80, proxyMode: nftables, podNetwork: vxlan, dns: {domain: lab.example}}'));
    expect(spec.cluster).toMatchObject({
      nodePortRange: { base: 80, size: 1 },
      proxyMode: 'nftables',
      podNetwork: 'vxlan',
      dns: { domain: 'lab.example' },
    });
  });

  it('allows the same address on a perMachine network in every machine (the VirtualBox NAT)', () => {
    const spec = parsed(
      lab(
        'networks:',
        '- {name: nat, cidr: 10.0.2.0/24, gateway: 10.0.2.2, perMachine: true}',
        'nodes:',
        '- {name: master, nics: [{network: nat, address: 10.0.2.15, defaultRoute: true}]}',
        '- {name: worker, nics: [{network: nat, address: 10.0.2.15, defaultRoute: true}]}',
      ),
    );
    expect(spec.nodes.map((n) => n.nics[0]?.address)).toEqual(['10.0.2.15', '10.0.2.15']);
  });

  it('follows YAML anchors and aliases', () => {
    const spec = parsed(
      lab(
        'networks:',
        LAN,
        'nodes:',
        '- {name: master, labels: &l {disk: ssd}, nics: [{network: lan, address: 192.168.10.210}]}',
        '- {name: worker, labels: *l, nics: [{network: lan, address: 192.168.10.220}]}',
      ),
    );
    expect(spec.nodes[1]?.labels).toEqual({ disk: 'ssd' });
  });

  it('accepts pod/NAME and pod/LABEL=VALUE checks', () => {
    const spec = parsed(
      labWith(
        'checks:',
        '- {name: a, from: pod/ngx-dep-6796688696-cwm8p, run: curl -s ngx-svc}',
        '- {name: b, from: pod/app=ngx-dep, run: curl -s ngx-svc}',
      ),
    );
    expect(spec.checks.map((c) => c.from)).toEqual(['pod/ngx-dep-6796688696-cwm8p', 'pod/app=ngx-dep']);
  });

  it('accepts the repository default lab', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const spec = await loadLabFile(resolve(here, '../../../labs/default.yaml'));
    expect(spec.name).toBe('default');
    expect(spec.nodes.map((n) => n.name)).toEqual(['master', 'worker']);
  });
});

describe('YAML-level problems', () => {
  it('reports a syntax error at its position', () => {
    const text = 'apiVersion: nslab/v1alpha1\nkind: Lab\nmetadata: {name: t\nspec: {}\n';
    const problems = problemsOf(text);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({ file: FILE, line: 4, field: '' });
    expect(problems[0]?.message).toContain('invalid YAML');
  });

  it('reports a duplicate key', () => {
    const text = 'apiVersion: nslab/v1alpha1\nkind: Lab\nkind: Lab\n';
    expectOnly(text, { line: 3, near: 'kind', field: '', message: 'Map keys must be unique; remove or rename one' });
  });

  it('reports tabs used for indentation', () => {
    const problems = problemsOf('spec:\n\tnodes: []\n');
    expect(problems[0]).toMatchObject({ line: 2, field: '' });
    expect(problems[0]?.message).toContain('invalid YAML');
  });

  it('reports an empty file', () => {
    expectOnly('# nothing here\n', { line: 1, near: '#', field: '', message: 'the lab file is empty' });
    expect(problemsOf('')).toHaveLength(1);
  });

  it('reports a second document', () => {
    const text = `${labWith()}---\nkind: Other\n`;
    expectOnly(text, { line: 9, near: '---', field: '', message: 'a lab file holds a single YAML document' });
  });

  it('does not mind a leading or trailing document marker', () => {
    parsed(`---\n${labWith()}---\n`);
  });

  it('reports a top level that is not a mapping', () => {
    expectOnly('- apiVersion: nslab/v1alpha1\n', { line: 1, near: '-', field: '', message: 'must be a mapping' });
  });
});

describe('header problems', () => {
  // Each row: the usual lab with one edit, and the one problem it must get.
  const cases: Array<{ name: string; from: string; to: string; expected: Expected }> = [
    { name: 'apiVersion must be nslab/v1alpha1', from: 'nslab/v1alpha1', to: 'nslab/v1', expected: { line: 1, near: 'nslab/v1', field: 'apiVersion', message: 'must be "nslab/v1alpha1"' } },
    { name: 'apiVersion is required, reported at the top-level mapping', from: 'apiVersion: nslab/v1alpha1\n', to: '', expected: { line: 1, near: 'kind', field: 'apiVersion', message: 'is required; add apiVersion: nslab/v1alpha1' } },
    { name: 'kind must be Lab', from: 'kind: Lab', to: 'kind: Pod', expected: { line: 2, near: 'Pod', field: 'kind', message: 'must be "Lab"' } },
    { name: 'metadata.name is required, reported at the metadata mapping', from: '{name: t}', to: '{}', expected: { line: 3, near: '{}', field: 'metadata.name', message: 'is required' } },
    {
      name: 'metadata.name must be an RFC 1123 label, with a suggestion',
      from: '{name: t}',
      to: '{name: Ngx_Svc}',
      expected: { line: 3, near: 'Ngx_Svc', field: 'metadata.name', message: 'must be a lowercase RFC 1123 label of at most 63 characters' },
    },
    { name: 'metadata.name may not be longer than 63 characters', from: '{name: t}', to: `{name: ${'a'.repeat(64)}}`, expected: { line: 3, near: 'a'.repeat(64), field: 'metadata.name', message: 'at most 63 characters' } },
  ];
  it.each(cases)('$name', ({ from, to, expected }) => {
    expectOnly(labWith().replace(from, to), expected);
  });

  it('suggests a valid lab name, and takes one of 63 characters', () => {
    expect(problemsOf(labWith().replace('{name: t}', '{name: Ngx_Svc}'))[0]?.message).toContain('e.g. "ngx-svc"; nslab derives namespace and interface names from it');
    parsed(labWith().replace('{name: t}', `{name: ${'a'.repeat(63)}}`));
  });

  it('spec is required', () => {
    const text = 'apiVersion: nslab/v1alpha1\nkind: Lab\nmetadata: {name: t}\n';
    expectOnly(text, { line: 1, near: 'apiVersion', field: 'spec', message: 'is required' });
  });
});

describe('shape problems', () => {
  it('reports an unknown field at its key, with a suggestion', () => {
    const text = lab('networks:', LAN, 'nodes:', '- {name: master, nicks: [{network: lan, address: 192.168.10.210}]}');
    const problems = problemsOf(text);
    expect(problems).toHaveLength(2);
    expectProblem(text, problems[0], { line: 8, near: '{name', field: 'spec.nodes[0].nics', message: 'is required' });
    expectProblem(text, problems[1], {
      line: 8,
      near: 'nicks',
      field: 'spec.nodes[0].nicks',
      message: 'unknown field "nicks"; did you mean "nics"?',
    });
  });

  it('reports unknown fields without a suggestion when nothing is close', () => {
    const text = labWith('flavour: vanilla');
    expectOnly(text, { line: 9, near: 'flavour', field: 'spec.flavour', message: 'unknown field "flavour"' });
    expect(problemsOf(text)[0]?.message).not.toContain('did you mean');
  });

  it('suggests the right case for a field', () => {
    const text = lab('networks:', LAN, 'nodes:', '- {name: master, nodeIp: 192.168.10.210, nics: [{network: lan, address: 192.168.10.210}]}');
    expectOnly(text, { line: 8, near: 'nodeIp', field: 'spec.nodes[0].nodeIp', message: 'did you mean "nodeIP"?' });
  });

  it('asks to quote a number where a string is expected', () => {
    const text = lab('networks:', LAN, 'nodes:', '- {name: 1234, nics: [{network: lan, address: 192.168.10.210}]}');
    expectOnly(text, { line: 8, near: '1234', field: 'spec.nodes[0].name', message: 'must be a string; quote it: "1234"' });
  });

  it('reports a mapping where a list is expected', () => {
    const text = lab('networks: {name: lan}', 'nodes:', MASTER);
    const problems = problemsOf(text);
    expectProblem(text, problems[0], { line: 5, near: '{name', field: 'spec.networks', message: 'must be a list' });
  });

  it('reports a string where a mapping is expected', () => {
    const text = labWith('cluster: big');
    expectOnly(text, { line: 9, near: 'big', field: 'spec.cluster', message: 'must be a mapping' });
  });

  it('reports a non-boolean flag', () => {
    const text = lab('networks:', '- {name: lan, cidr: 192.168.10.0/24, perMachine: yes}', 'nodes:', MASTER);
    expectOnly(text, { line: 6, near: 'yes', field: 'spec.networks[0].perMachine', message: 'must be true or false' });
  });

  it('reports an empty list item', () => {
    const text = lab('networks:', LAN, '-', 'nodes:', MASTER);
    // The null value sits just after the dash.
    expect(problemsOf(text)).toEqual([
      { file: FILE, line: 7, col: 4, field: 'spec.networks[1]', message: 'is empty; give the item a value or remove the "-" line' },
    ]);
  });
});

describe('network problems', () => {
  it('reports a malformed CIDR', () => {
    const text = lab('networks:', '- {name: lan, cidr: 192.168.10/24}', 'nodes:', MASTER);
    const problems = problemsOf(text);
    expectProblem(text, problems[0], {
      line: 6,
      near: '192.168.10/24',
      field: 'spec.networks[0].cidr',
      message: 'must be an IPv4 CIDR such as 192.168.10.0/24',
    });
  });

  // Each row: the networks and nodes of a lab, and the one problem it must get.
  const cases: Array<{ name: string; networks: string[]; nodes: string[]; expected: Expected }> = [
    {
      name: 'suggests the network of a CIDR with host bits set',
      networks: ['- {name: lan, cidr: 192.168.10.5/24}'],
      nodes: [MASTER],
      expected: { line: 6, near: '192.168.10.5/24', field: 'spec.networks[0].cidr', message: '192.168.10.5/24 has host bits set; did you mean 192.168.10.0/24?' },
    },
    {
      name: 'refuses special ranges',
      networks: ['- {name: lo0, cidr: 127.0.0.0/8}'],
      nodes: ['- {name: m, nics: [{network: lo0, address: 127.0.0.2}]}'],
      expected: { line: 6, near: '127', field: 'spec.networks[0].cidr', message: 'overlaps the loopback range 127.0.0.0/8' },
    },
    {
      name: 'refuses networks too small for machines',
      networks: ['- {name: p2p, cidr: 10.1.1.0/31}'],
      nodes: ['- {name: m, nics: [{network: p2p, address: 10.1.1.1}]}'],
      expected: { line: 6, near: '10.1.1.0/31', field: 'spec.networks[0].cidr', message: 'leaves no room for machines' },
    },
    {
      name: 'reports duplicate network names',
      networks: [LAN, '- {name: lan, cidr: 192.168.20.0/24}'],
      nodes: [MASTER],
      expected: { line: 7, near: 'lan', field: 'spec.networks[1].name', message: 'network "lan" is already defined at line 6' },
    },
  ];
  it.each(cases)('$name', ({ networks, nodes, expected }) => {
    expectOnly(lab('networks:', ...networks, 'nodes:', ...nodes), expected);
  });

  it('reports a gateway outside the CIDR, or on its network or broadcast address', () => {
    for (const [gw, msg] of [
      ['192.168.11.1', 'is outside this network\'s cidr 192.168.10.0/24; use an address in 192.168.10.1-192.168.10.254'],
      ['192.168.10.0', 'is the network address'],
      ['192.168.10.255', 'is the broadcast address'],
    ] as const) {
      const text = lab('networks:', `- {name: lan, cidr: 192.168.10.0/24, gateway: ${gw}}`, 'nodes:', MASTER);
      expectOnly(text, { line: 6, near: `${gw}}`, field: 'spec.networks[0].gateway', message: msg });
    }
  });

  it('reports a malformed gateway', () => {
    const text = lab('networks:', '- {name: lan, cidr: 192.168.10.0/24, gateway: 192.168.10.300}', 'nodes:', MASTER);
    expectOnly(text, { line: 6, near: '192.168.10.300', field: 'spec.networks[0].gateway', message: 'must be an IPv4 address' });
  });

  it('names must be RFC 1123 labels', () => {
    const text = lab('networks:', '- {name: my.lan, cidr: 192.168.10.0/24}', 'nodes:', '- {name: m, nics: [{network: my.lan, address: 192.168.10.2}]}');
    // Only the name itself: the NIC that uses it is not also reported as naming an unknown network.
    expectOnly(text, { line: 6, near: 'my.lan', field: 'spec.networks[0].name', message: 'RFC 1123 label' });
  });
});

describe('machine and NIC problems', () => {
  it('reports a malformed address', () => {
    const text = lab('networks:', LAN, 'nodes:', '- {name: m, nics: [{network: lan, address: 192.168.10}]}');
    expectOnly(text, {
      line: 8,
      near: '192.168.10}',
      field: 'spec.nodes[0].nics[0].address',
      message: 'must be an IPv4 address such as 192.168.10.210',
    });
  });

  it('reports an address written with a prefix length', () => {
    const text = lab('networks:', LAN, 'nodes:', '- {name: m, nics: [{network: lan, address: 192.168.10.210/24}]}');
    expectOnly(text, {
      line: 8,
      near: '192.168.10.210/24',
      field: 'spec.nodes[0].nics[0].address',
      message: 'without a prefix length (the network gives the prefix); write 192.168.10.210',
    });
  });

  it('reports an address outside its network', () => {
    const text = labWith('hosts:', '- name: console', '  nics:', '  - {network: lan, address: 192.168.11.208}');
    expectOnly(text, {
      line: 12,
      near: '192.168.11.208',
      field: 'spec.hosts[0].nics[0].address',
      message: '192.168.11.208 is outside network "lan" 192.168.10.0/24; use an address in 192.168.10.1-192.168.10.254',
    });
  });

  it('reports the network and broadcast addresses used as host addresses', () => {
    const net = labWith('hosts:', '- {name: h, nics: [{network: lan, address: 192.168.10.0}]}');
    expectOnly(net, { line: 10, near: '192.168.10.0', field: 'spec.hosts[0].nics[0].address', message: 'is the network address of network "lan"' });
    const bcast = labWith('hosts:', '- {name: h, nics: [{network: lan, address: 192.168.10.255}]}');
    expectOnly(bcast, { line: 10, near: '192.168.10.255', field: 'spec.hosts[0].nics[0].address', message: 'is the broadcast address' });
  });

  it('reports a machine address equal to the gateway', () => {
    const text = labWith('hosts:', '- {name: h, nics: [{network: lan, address: 192.168.10.1}]}');
    expectOnly(text, { line: 10, near: '192.168.10.1}', field: 'spec.hosts[0].nics[0].address', message: 'is the gateway of network "lan"' });
  });

  it('reports duplicate node names', () => {
    const text = labWith('- {name: master, nics: [{network: lan, address: 192.168.10.211}]}');
    expectOnly(text, { line: 9, near: 'master', field: 'spec.nodes[1].name', message: 'name "master" is already used by the node at line 8' });
  });

  it('reports a host named like a node', () => {
    const text = labWith('hosts:', '- {name: master, nics: [{network: lan, address: 192.168.10.208}]}');
    expectOnly(text, {
      line: 10,
      near: 'master',
      field: 'spec.hosts[0].name',
      message: 'nodes and hosts share one set of names, so give this host another name',
    });
  });

  it('reports a duplicate address on a shared network', () => {
    const text = labWith('hosts:', '- {name: console, nics: [{network: lan, address: 192.168.10.210}]}');
    expectOnly(text, {
      line: 10,
      near: '192.168.10.210',
      field: 'spec.hosts[0].nics[0].address',
      message: '192.168.10.210 is already used on network "lan" by node master (line 8)',
    });
  });

  it('reports a duplicate address within one machine on a perMachine network', () => {
    const text = lab(
      'networks:',
      '- {name: nat, cidr: 10.0.2.0/24, perMachine: true}',
      'nodes:',
      '- {name: m, nics: [{network: nat, address: 10.0.2.15}, {network: nat, address: 10.0.2.15}]}',
    );
    expectOnly(text, { line: 8, near: '10.0.2.15}]', field: 'spec.nodes[0].nics[1].address', message: 'is already used on network "nat"' });
  });

  it('reports a NIC on an unknown network, with a suggestion', () => {
    const text = lab('networks:', LAN, 'nodes:', '- {name: m, nics: [{network: lna, address: 192.168.10.2}]}');
    expectOnly(text, {
      line: 8,
      near: 'lna',
      field: 'spec.nodes[0].nics[0].network',
      message: 'no network named "lna": the networks are lan; did you mean "lan"?',
    });
  });

  it('reports a NIC when there are no networks at all', () => {
    const text = lab('nodes:', '- {name: m, nics: [{network: lan, address: 192.168.10.2}]}');
    expectOnly(text, { line: 6, near: 'lan', field: 'spec.nodes[0].nics[0].network', message: 'define it under spec.networks' });
  });

  it('reports duplicate NIC names, also against a default name', () => {
    const text = lab(
      'networks:',
      LAN,
      '- {name: nat, cidr: 10.0.2.0/24}',
      'nodes:',
      '- name: m',
      '  nics:',
      '  - {network: lan, address: 192.168.10.2}',
      '  - {network: nat, address: 10.0.2.15, name: eth0}',
    );
    expectOnly(text, {
      line: 12,
      near: 'eth0',
      field: 'spec.nodes[0].nics[1].name',
      message: 'NIC name "eth0" is already used by the NIC at line 11 (NIC 0 is eth0 by default)',
    });
  });

  it('reports NIC names Linux would refuse', () => {
    const cases = [
      ['averyveryverylongname', 'must be 1-15 bytes long'],
      ['"eth/0"', "may contain only letters, digits, '_', '.' and '-' (e.g. eth1 or enp0s8), not '/'"],
      ['"eth 0"', 'not a space'],
      ['"eth0:1"', "not ':'"],
      ['"eth#1"', "not '#'"],
      ['"eth\\\\1"', "not '\\'"],
      ['"eth\\"1"', `not '"'`],
      ["\"eth'1\"", "not '''"],
      ['"eth\\x001"', 'not \\u0000'],
      ['"eth\\t1"', 'not \\u0009'],
      ['"ethé"', 'not \\u00e9'],
      ['"é.é.é.é.é.é.é.é"', 'must be 1-15 bytes long'],
      ['"."', 'cannot be "."'],
      ['".."', 'cannot be ".."'],
      ['lo', '"lo" is the loopback interface'],
      ['cni0', 'is a name nslab gives its own interfaces in every node'],
    ];
    for (const [name, message] of cases) {
      const text = lab('networks:', LAN, 'nodes:', `- {name: m, nics: [{network: lan, address: 192.168.10.2, name: ${name}}]}`);
      expectOnly(text, { line: 8, near: name ?? '', field: 'spec.nodes[0].nics[0].name', message: message ?? '' });
    }
    // A host has no pod bridge, so the name is free there.
    parsed(labWith('hosts:', '- {name: h, nics: [{network: lan, address: 192.168.10.3, name: cni0}]}'));
  });

  it('reports more than one default route', () => {
    const text = lab(
      'networks:',
      LAN,
      '- {name: nat, cidr: 10.0.2.0/24, gateway: 10.0.2.2}',
      'nodes:',
      '- name: m',
      '  nics:',
      '  - {network: lan, address: 192.168.10.2, defaultRoute: true}',
      '  - {network: nat, address: 10.0.2.15, defaultRoute: true}',
    );
    expectOnly(text, {
      line: 12,
      near: 'true',
      field: 'spec.nodes[0].nics[1].defaultRoute',
      message: 'only one NIC of a machine can hold the default route, and eth0 (line 11) already does',
    });
  });

  it('reports a default route on a network without a gateway', () => {
    const text = lab('networks:', '- {name: lan, cidr: 192.168.10.0/24}', 'nodes:', '- {name: m, nics: [{network: lan, address: 192.168.10.2, defaultRoute: true}]}');
    expectOnly(text, {
      line: 8,
      near: 'true',
      field: 'spec.nodes[0].nics[0].defaultRoute',
      message: 'network "lan" has no gateway to route through; add gateway: to the network or remove defaultRoute',
    });
  });

  it('nodeIP must be one of the node\'s addresses', () => {
    const text = lab('networks:', LAN, 'nodes:', '- {name: m, nodeIP: 192.168.10.3, nics: [{network: lan, address: 192.168.10.2}]}');
    expectOnly(text, {
      line: 8,
      near: '192.168.10.3',
      field: 'spec.nodes[0].nodeIP',
      message: '192.168.10.3 is not an address of node m; use one of its NIC addresses, 192.168.10.2',
    });
  });

  it('iface must be one of the node\'s NIC names', () => {
    const text = lab('networks:', LAN, 'nodes:', '- {name: m, iface: eth1, nics: [{network: lan, address: 192.168.10.2}]}');
    expectOnly(text, {
      line: 8,
      near: 'eth1',
      field: 'spec.nodes[0].iface',
      message: '"eth1" is not a NIC of node m: the NIC names are eth0; did you mean "eth0"?',
    });
  });

  it('needs at least one node', () => {
    const missing = lab('networks:', LAN);
    expectOnly(missing, { line: 5, near: 'networks', field: 'spec.nodes', message: 'is required; list at least one node' });
    const empty = lab('networks:', LAN, 'nodes: []');
    expectOnly(empty, { line: 7, near: 'nodes', field: 'spec.nodes', message: 'is empty; list at least one node' });
  });

  it('needs at least one NIC per machine', () => {
    const missing = labWith('hosts:', '- {name: h}');
    expectOnly(missing, { line: 10, near: '{name', field: 'spec.hosts[0].nics', message: 'is required' });
    const empty = labWith('hosts:', '- {name: h, nics: []}');
    expectOnly(empty, { line: 10, near: 'nics', field: 'spec.hosts[0].nics', message: 'a machine needs at least one NIC' });
  });

  it('reports a missing NIC address at the NIC', () => {
    const text = lab('networks:', LAN, 'nodes:', '- {name: m, nics: [{network: lan}]}');
    expectOnly(text, { line: 8, near: '{network', field: 'spec.nodes[0].nics[0].address', message: 'is required; add address:' });
  });

  it('roles must be RFC 1123 labels, listed once', () => {
    const bad = lab('networks:', LAN, 'nodes:', '- {name: m, roles: [Control_Plane], nics: [{network: lan, address: 192.168.10.2}]}');
    expectOnly(bad, { line: 8, near: 'Control_Plane', field: 'spec.nodes[0].roles[0]', message: 'e.g. "control-plane"' });
    const twice = lab('networks:', LAN, 'nodes:', '- {name: m, roles: [a, a], nics: [{network: lan, address: 192.168.10.2}]}');
    expectOnly(twice, { line: 8, near: 'a]', field: 'spec.nodes[0].roles[1]', message: 'role "a" is listed twice' });
  });

  it('labels must be valid Kubernetes label keys and values', () => {
    const text = lab(
      'networks:',
      LAN,
      'nodes:',
      '- name: m',
      '  labels:',
      '    example.com/disk: ssd',
      '    a/b/c: x',
      '    tier: 1',
      '    zone: -bad',
      `    long: ${'v'.repeat(64)}`,
      '  nics: [{network: lan, address: 192.168.10.2}]',
    );
    const problems = problemsOf(text);
    expect(problems).toHaveLength(4);
    expectProblem(text, problems[0], { line: 11, near: 'a/b/c', field: 'spec.nodes[0].labels["a/b/c"]', message: 'label key "a/b/c" is invalid' });
    expectProblem(text, problems[1], { line: 12, near: '1', field: 'spec.nodes[0].labels.tier', message: 'quote it: "1"' });
    expectProblem(text, problems[2], { line: 13, near: '-bad', field: 'spec.nodes[0].labels.zone', message: 'must be a label value' });
    expectProblem(text, problems[3], { line: 14, near: 'vvv', field: 'spec.nodes[0].labels.long', message: 'at most 63 characters' });
  });
});

describe('cluster problems', () => {
  it('reports podCIDR overlapping serviceCIDR', () => {
    const text = labWith('cluster:', '  podCIDR: 10.96.0.0/16');
    expectOnly(text, {
      line: 10,
      near: '10.96.0.0/16',
      field: 'spec.cluster.podCIDR',
      message: 'podCIDR 10.96.0.0/16 and serviceCIDR 10.96.0.0/12 overlap',
    });
  });

  it('reports a cluster range overlapping a network, at the range that was written', () => {
    const explicit = labWith('cluster: {serviceCIDR: 192.168.0.0/16}');
    expectOnly(explicit, {
      line: 9,
      near: '192.168.0.0/16',
      field: 'spec.cluster.serviceCIDR',
      message: 'serviceCIDR 192.168.0.0/16 overlaps network "lan" (192.168.10.0/24)',
    });
    const defaulted = lab('networks:', '- {name: lan, cidr: 10.10.5.0/24}', 'nodes:', '- {name: m, nics: [{network: lan, address: 10.10.5.2}]}');
    expectOnly(defaulted, {
      line: 6,
      near: '10.10.5.0/24',
      field: 'spec.networks[0].cidr',
      message: "overlaps the cluster's podCIDR 10.10.0.0/16 (the default); change this cidr or set spec.cluster.podCIDR",
    });
  });

  it('reports a bad podCIDR', () => {
    const text = labWith('cluster: {podCIDR: 10.10.1.0/16}');
    expectOnly(text, { line: 9, near: '10.10.1.0/16', field: 'spec.cluster.podCIDR', message: 'did you mean 10.10.0.0/16?' });
  });

  it('reports a Service range that is too large or too small', () => {
    const large = labWith('cluster: {serviceCIDR: 10.0.0.0/8, podCIDR: 172.16.0.0/16}');
    expectOnly(large, { line: 9, near: '10.0.0.0/8', field: 'spec.cluster.serviceCIDR', message: 'at most a /12' });
    const small = labWith('cluster: {serviceCIDR: 10.96.0.0/29}');
    expectOnly(small, { line: 9, near: '10.96.0.0/29', field: 'spec.cluster.serviceCIDR', message: "10th address" });
  });

  it('nodeCIDRMaskSize must not be shorter than the podCIDR prefix', () => {
    const text = labWith('cluster: {nodeCIDRMaskSize: 12}');
    expectOnly(text, {
      line: 9,
      near: '12',
      field: 'spec.cluster.nodeCIDRMaskSize',
      message: 'nodeCIDRMaskSize 12 is shorter than the prefix of podCIDR 10.10.0.0/16; use 16 or more',
    });
  });

  it('nodeCIDRMaskSize must leave room for every node', () => {
    const text = lab(
      'networks:',
      LAN,
      'nodes:',
      MASTER,
      '- {name: w1, nics: [{network: lan, address: 192.168.10.211}]}',
      '- {name: w2, nics: [{network: lan, address: 192.168.10.212}]}',
      'cluster: {podCIDR: 10.10.0.0/24, nodeCIDRMaskSize: 25}',
    );
    expectOnly(text, {
      line: 11,
      near: '25',
      field: 'spec.cluster.nodeCIDRMaskSize',
      message: 'podCIDR 10.10.0.0/24 cut into /25 node subnets has room for 2 nodes, but the lab has 3; use nodeCIDRMaskSize 26 or more',
    });
  });

  it('reports too many nodes for the default pod CIDR split at the spec', () => {
    const nodes = Array.from({ length: 257 }, (_, i) => `- {name: n${i}, nics: [{network: lan, address: 172.16.${i >> 7}.${(i & 127) + 1}}]}`);
    const text = lab('networks:', '- {name: lan, cidr: 172.16.0.0/16}', 'nodes:', ...nodes);
    expectOnly(text, {
      line: 5,
      near: 'networks',
      field: 'spec.cluster.podCIDR',
      message: 'has room for 256 nodes, but the lab has 257; use nodeCIDRMaskSize 25 or more, or a larger podCIDR',
    });
  });

  it('nodeCIDRMaskSize must be a prefix length kube-controller-manager accepts', () => {
    const far = labWith('cluster: {podCIDR: 10.0.0.0/8, serviceCIDR: 172.16.0.0/16, nodeCIDRMaskSize: 26}');
    expectOnly(far, { line: 9, near: '26', field: 'spec.cluster.nodeCIDRMaskSize', message: 'use at most 24' });
    const range = labWith('cluster: {nodeCIDRMaskSize: 31}');
    expectOnly(range, { line: 9, near: '31', field: 'spec.cluster.nodeCIDRMaskSize', message: 'a prefix length from 1 to 30' });
    const notInt = labWith('cluster: {nodeCIDRMaskSize: 24.5}');
    expectOnly(notInt, { line: 9, near: '24.5', field: 'spec.cluster.nodeCIDRMaskSize', message: 'a prefix length' });
  });

  it('nodePortRange must be FIRST-LAST within 1-65535', () => {
    for (const range of ['32767-30000', '0-100', '30000-70000', '30000', '30000-', 'a-b']) {
      const text = labWith(`cluster: {nodePortRange: "${range}"}`);
      expectOnly(text, { line: 9, near: `"${range}"`, field: 'spec.cluster.nodePortRange', message: 'such as 30000-32767' });
    }
    const number = labWith('cluster: {nodePortRange: 30000}');
    expectOnly(number, { line: 9, near: '30000', field: 'spec.cluster.nodePortRange', message: 'must be a port range FIRST-LAST' });
  });

  it('proxyMode and podNetwork must be one of their values', () => {
    const mode = labWith('cluster: {proxyMode: iptable}');
    expectOnly(mode, {
      line: 9,
      near: 'iptable',
      field: 'spec.cluster.proxyMode',
      message: 'must be "iptables", "ipvs" or "nftables"; did you mean "iptables"?',
    });
    const backend = labWith('cluster: {podNetwork: flannel}');
    expectOnly(backend, { line: 9, near: 'flannel', field: 'spec.cluster.podNetwork', message: 'must be "host-gw" or "vxlan"' });
  });

  it('dns.domain must be a DNS name', () => {
    const dotted = labWith('cluster: {dns: {domain: Cluster.Local.}}');
    expectOnly(dotted, {
      line: 9,
      near: 'Cluster',
      field: 'spec.cluster.dns.domain',
      message: 'write the domain as cluster.local (lowercase, without a trailing dot)',
    });
    const bad = labWith('cluster: {dns: {domain: "my_domain"}}');
    expectOnly(bad, { line: 9, near: '"my_domain"', field: 'spec.cluster.dns.domain', message: 'must be a lowercase DNS name' });
  });
});

describe('manifest problems', () => {
  it('resolves manifests against the lab file folder', () => {
    const { lab: spec } = parseLabText(labWith('manifests: [a.yml, ../b.yml, /abs/c.yml]'), '/labs/x/lab.yaml');
    expect(spec?.manifests).toEqual(['/labs/x/a.yml', '/labs/b.yml', '/abs/c.yml']);
  });

  it('entries must be non-empty strings', () => {
    const text = labWith('manifests: [a.yml, {file: b.yml}, ""]');
    const problems = problemsOf(text);
    expect(problems).toHaveLength(2);
    expectProblem(text, problems[0], { line: 9, near: '{file', field: 'spec.manifests[1]', message: 'must be a string, not a mapping' });
    expectProblem(text, problems[1], { line: 9, near: '""', field: 'spec.manifests[2]', message: 'is empty' });
  });

  // Manifests may live outside the lab file's folder (nslab only reads them),
  // but a control character is never part of a path someone means, and a NUL
  // made the later readFile throw outside any located error.
  it('entries may not hold control characters', () => {
    for (const [written, shown] of [
      ['"a\\x00.yml"', '\\u0000'],
      ['"a\\n.yml"', '\\u000a'],
      ['"a\\e[31m.yml"', '\\u001b'],
    ] as const) {
      const text = labWith(`manifests: [${written}]`);
      expectOnly(text, {
        line: 9,
        near: written,
        field: 'spec.manifests[0]',
        message: `contains the control character ${shown}; give the plain path of a manifest file`,
      });
    }
  });

  it('does not look at the files unless asked', () => {
    expect(parseLabText(labWith('manifests: [missing.yml]'), '/nonexistent/lab.yaml').problems).toEqual([]);
  });
});

describe('check problems', () => {
  it('name, from and run are required', () => {
    const text = labWith('checks:', '- {timeout: 5}');
    const problems = problemsOf(text);
    expect(problems.map((p) => p.field)).toEqual(['spec.checks[0].name', 'spec.checks[0].from', 'spec.checks[0].run']);
    for (const p of problems) expect(p).toMatchObject({ ...at(text, 10, '{timeout'), file: FILE });
  });

  it('from must be pod/NAME, pod/LABEL=VALUE, node/NAME or host/NAME', () => {
    for (const [from, message] of [
      ['console', 'must be pod/NAME, pod/LABEL=VALUE, node/NAME or host/NAME'],
      ['hots/console', '"hots" is not one of pod, node, host; did you mean "host"?'],
      ['pod/', 'must be pod/NAME'],
      ['pod/Bad_Name', 'is not a valid pod name'],
      ['pod/app=-x', 'label value "-x" is invalid'],
      ['node/Master', '"Master" is not a valid node name'],
    ] as const) {
      const text = labWith('checks:', `- {name: c, from: "${from}", run: ls}`);
      expectOnly(text, { line: 10, near: `"${from}"`, field: 'spec.checks[0].from', message });
    }
  });

  it('from must name an existing node or host', () => {
    const node = labWith('checks:', '- {name: c, from: node/mastr, run: ls}');
    expectOnly(node, {
      line: 10,
      near: 'node/mastr',
      field: 'spec.checks[0].from',
      message: 'no node named "mastr": the nodes are master; did you mean "master"?',
    });
    const host = labWith('checks:', '- {name: c, from: host/console, run: ls}');
    expectOnly(host, { line: 10, near: 'host/console', field: 'spec.checks[0].from', message: 'no host named "console": there are no hosts' });
    const notAHost = labWith('checks:', '- {name: c, from: host/master, run: ls}');
    expectOnly(notAHost, {
      line: 10,
      near: 'host/master',
      field: 'spec.checks[0].from',
      message: 'no host named "master": master is a node, so write node/master',
    });
  });

  it('run must not be empty', () => {
    const text = labWith('checks:', '- {name: c, from: node/master, run: "  "}');
    expectOnly(text, { line: 10, near: '"  "', field: 'spec.checks[0].run', message: 'is empty; give the command to run' });
  });

  it('expect fields are typed', () => {
    const text = labWith('checks:', '- {name: c, from: node/master, run: ls, expect: {exitCode: 256, stdout: 3, stderr: [x], status: 0}}');
    const problems = problemsOf(text);
    expect(problems).toHaveLength(4);
    expectProblem(text, problems[0], { line: 10, near: '256', field: 'spec.checks[0].expect.exitCode', message: 'must be an exit status from 0 to 255' });
    expectProblem(text, problems[1], { line: 10, near: '3,', field: 'spec.checks[0].expect.stdout', message: 'quote it' });
    expectProblem(text, problems[2], { line: 10, near: '[x]', field: 'spec.checks[0].expect.stderr', message: 'must be a string, not a list' });
    expectProblem(text, problems[3], { line: 10, near: 'status', field: 'spec.checks[0].expect.status', message: 'unknown field "status"' });
  });

  it('timeout must be a positive number', () => {
    for (const timeout of ['0', '-1', '"10s"', '.inf']) {
      const text = labWith('checks:', `- {name: c, from: node/master, run: ls, timeout: ${timeout}}`);
      expectOnly(text, { line: 10, near: timeout, field: 'spec.checks[0].timeout', message: 'must be a positive number of seconds' });
    }
    expect(parsed(labWith('checks:', '- {name: c, from: node/master, run: ls, timeout: 2.5}')).checks[0]?.timeout).toBe(2.5);
  });

  it('check names must differ', () => {
    const text = labWith('checks:', '- {name: c, from: node/master, run: ls}', '- {name: c, from: node/master, run: ls}');
    expectOnly(text, { line: 11, near: 'c,', field: 'spec.checks[1].name', message: 'check "c" is already defined at line 10' });
  });
});

describe('several problems', () => {
  it('are all reported, in file order', () => {
    const text = [
      'apiVersion: nslab/v2',
      'kind: Lab',
      'metadata: {name: t}',
      'spec:',
      '  networks:',
      '  - {name: lan, cidr: 192.168.10.0/24}',
      '  nodes:',
      '  - {name: master, nics: [{network: lan, address: 192.168.11.210}]}',
      '  hosts:',
      '  - {name: console, nics: [{network: lan, address: 192.168.10.208, defaultRoute: true}]}',
      '  cluster: {proxyMode: ipv, podCIDR: 192.168.0.0/16}',
      '  checks:',
      '  - {name: c, from: node/worker, run: ls}',
      '',
    ].join('\n');
    const problems = problemsOf(text);
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [1, 'apiVersion'],
      [8, 'spec.nodes[0].nics[0].address'],
      [10, 'spec.hosts[0].nics[0].defaultRoute'],
      [11, 'spec.cluster.proxyMode'],
      [11, 'spec.cluster.podCIDR'],
      [13, 'spec.checks[0].from'],
    ]);
    expect(problems[3]?.message).toContain('did you mean "ipvs"?');
  });
});

describe('loadLabFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nslab-spec-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns the lab with the absolute file and manifest paths', async () => {
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'ngx-conf.yml'), 'kind: ConfigMap\n');
    writeFileSync(join(dir, 'lab.yaml'), labWith('manifests: [m/ngx-conf.yml]'));
    const spec = await loadLabFile(join(dir, 'lab.yaml'));
    expect(spec.file).toBe(join(dir, 'lab.yaml'));
    expect(spec.manifests).toEqual([join(dir, 'm', 'ngx-conf.yml')]);
  });

  it('reports missing manifest files at their entry, formatted one line per problem', async () => {
    writeFileSync(join(dir, 'ngx-conf.yml'), 'kind: ConfigMap\n');
    mkdirSync(join(dir, 'folder.yml'));
    const text = labWith('manifests:', '- ngx-conf.yml', '- ngx-dep.yml', '- folder.yml');
    const file = join(dir, 'lab.yaml');
    writeFileSync(file, text);
    const error = await loadLabFile(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LabFileError);
    if (!(error instanceof LabFileError)) return;
    expect(error.problems).toHaveLength(2);
    expect(error.format()).toBe(
      [
        `${file}:11:5: spec.manifests[1]: ${join(dir, 'ngx-dep.yml')} does not exist; manifest paths are relative to the lab file's folder ${dir}`,
        `${file}:12:5: spec.manifests[2]: ${join(dir, 'folder.yml')} is not a file; give the path of a Kubernetes YAML file`,
      ].join('\n'),
    );
    expect(error.message).toBe(error.format());
  });

  // Hole 6: a NIC name with '#' went into `ip -batch` as "link add eth#1 ...", which ip reads as "link add eth".
  it('refuses a hostile NIC name at its FILE:LINE:COL, naming the field, as the CLI prints it (exit 2)', async () => {
    const file = join(dir, 'lab.yaml');
    const text = lab('networks:', LAN, 'nodes:', '- {name: m, nics: [{network: lan, address: 192.168.10.2, name: "eth#1"}]}');
    writeFileSync(file, text);
    expect(at(text, 8, '"eth#1"')).toEqual({ line: 8, col: 66 });
    await expect(loadLabFile(file)).rejects.toThrow(
      new LabFileError([
        {
          file,
          line: 8,
          col: 66,
          field: 'spec.nodes[0].nics[0].name',
          message: "may contain only letters, digits, '_', '.' and '-' (e.g. eth1 or enp0s8), not '#'",
        },
      ]),
    );
  });

  it('names the file as it was given', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, labWith().replace('kind: Lab', 'kind: Pod'));
    const relative = join('.', file.slice(process.cwd().length)).replace(/^\.\//, '');
    const given = file.startsWith(process.cwd()) ? relative : file;
    await expect(loadLabFile(given)).rejects.toThrow(`${given}:2:7: kind: must be "Lab"`);
  });

  it('reports a file it cannot read', async () => {
    const missing = join(dir, 'nope.yaml');
    await expect(loadLabFile(missing)).rejects.toThrow(`${missing}:1:1: cannot read the lab file: no such file`);
    await expect(loadLabFile(dir)).rejects.toThrow('it is a folder');
  });

  it('checks files when parseLabText is asked to', () => {
    const { problems } = parseLabText(labWith('manifests: [gone.yml]'), join(dir, 'lab.yaml'), { checkFiles: true });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 9, col: 15, field: 'spec.manifests[0]' });
  });
});

describe('formatProblems', () => {
  it('prints FILE:LINE:COL: FIELD: MESSAGE, leaving out an empty field', () => {
    expect(
      formatProblems([
        { file: 'a.yaml', line: 3, col: 7, field: 'kind', message: 'must be "Lab"' },
        { file: 'a.yaml', line: 9, col: 1, field: '', message: 'invalid YAML: x' },
      ]),
    ).toBe('a.yaml:3:7: kind: must be "Lab"\na.yaml:9:1: invalid YAML: x');
  });
});

describe('a host that plays the outside resolver', () => {
  const lab = (records: string) => `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: dns}
spec:
  networks: [{name: lan, cidr: 192.168.10.0/24}]
  nodes: [{name: master, nics: [{network: lan, address: 192.168.10.210}]}]
  hosts:
  - name: resolver
    nics: [{network: lan, address: 192.168.10.53}]
    dnsRecords: ${records}
`;

  it('keeps its names (lower case, no trailing dot) and addresses', () => {
    const { lab: spec, problems } = parseLabText(lab('{Example.com.: 203.0.113.10, www.example.org: 203.0.113.11}'), '/labs/dns.yaml');
    expect(problems).toEqual([]);
    expect(spec?.hosts[0]?.dnsRecords).toEqual({ 'example.com': '203.0.113.10', 'www.example.org': '203.0.113.11' });
  });

  it('locates a bad name and a bad address', () => {
    const { problems } = parseLabText(lab('{"bad_name!": 203.0.113.10, example.com: 300.1.1.1}'), '/labs/dns.yaml');
    expect(problems.map((p) => `${p.line}: ${p.message}`)).toEqual([
      expect.stringMatching(/^10: .*"bad_name!" is not a DNS name/),
      expect.stringMatching(/^10: .*must be an IPv4 address/),
    ]);
  });
});
