// The packet-flow cases of kube-proxy's proxier_test.go: the same Services and
// EndpointSlices, traced through the rules this renderer writes, must reach
// the same endpoints (or REJECT/DROP/ACCEPT) with the same masquerading.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/api/types.js';
import { renderIptablesRestore, type IptablesProxyConfig } from '../../../src/proxy/iptables.js';
import { expectGolden } from '../../helpers/golden.js';
import {
  checkRuleJumps,
  fakeProxierConfig,
  makeService,
  makeSlice,
  parseDump,
  runFlows,
  sortLikeUpstream,
  testExternalClient,
  testExternalClientBlocked,
  testNodeIP,
  testNodeIPAlt,
  testNodeName,
  type Ep,
  type FlowTest,
} from './upstream.js';

function render(services: KubeObject[], slices: KubeObject[], over: Partial<IptablesProxyConfig> = {}): string {
  const restore = renderIptablesRestore(services, slices, fakeProxierConfig(over));
  expect(checkRuleJumps(restore)).toEqual([]);
  return restore;
}

function expectFlows(restore: string, flows: FlowTest[]): void {
  const results = runFlows(restore, flows);
  for (const r of results) expect(r.got, r.name).toBe(r.want);
}

function chainRules(restore: string, table: string, chain: string): string[] {
  return parseDump(restore).find((t) => t.name === table)?.chains.find((c) => c.name === chain)?.rules ?? [];
}

const p80 = [{ name: 'p80', port: 80 }];

describe('TestNoEndpointsReject', () => {
  it('rejects ClusterIP, externalIP, NodePort and LoadBalancer IP', () => {
    const restore = render(
      [
        makeService(
          'ns1',
          'svc1',
          { type: 'LoadBalancer', clusterIP: '172.30.0.41', externalIPs: ['192.168.99.11'], ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 3001 }] },
          { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
        ),
      ],
      [],
    );
    expectFlows(restore, [
      { name: 'pod to cluster IP with no endpoints', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: 'REJECT' },
      { name: 'external to external IP with no endpoints', sourceIP: testExternalClient, destIP: '192.168.99.11', destPort: 80, output: 'REJECT' },
      { name: 'pod to NodePort with no endpoints', sourceIP: '10.0.0.2', destIP: testNodeIP, destPort: 3001, output: 'REJECT' },
      { name: 'external to NodePort with no endpoints', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3001, output: 'REJECT' },
      { name: 'pod to LoadBalancer IP with no endpoints', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
      { name: 'external to LoadBalancer IP with no endpoints', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
    ]);
    expectGolden('proxy/upstream-no-endpoints-reject.restore', restore);
  });
});

describe('TestClusterIPGeneral', () => {
  it('load-balances, hairpins, maps target ports, and keeps TCP, UDP and SCTP apart', () => {
    const restore = render(
      [
        makeService('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
        makeService('ns2', 'svc2', {
          clusterIP: '172.30.0.42',
          ports: [
            { name: 'http', port: 80, protocol: 'TCP' },
            { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 },
            { name: 'dns-udp', port: 53, protocol: 'UDP' },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 5353 },
            { name: 'dns-sctp', port: 53, protocol: 'SCTP' },
          ],
        }),
      ],
      [
        makeSlice('ns1', 'svc1', 1, [{ ip: '10.180.0.1', node: testNodeName }], [{ name: 'http', port: 80 }]),
        makeSlice(
          'ns2',
          'svc2',
          1,
          [
            { ip: '10.180.0.1', node: testNodeName },
            { ip: '10.180.2.1', node: 'node2' },
          ],
          [
            { name: 'http', port: 80 },
            { name: 'https', port: 8443 },
            { name: 'dns-udp', port: 53, protocol: 'UDP' },
            { name: 'dns-tcp', port: 5353 },
            { name: 'dns-sctp', port: 53, protocol: 'SCTP' },
          ],
        ),
      ],
    );
    expectFlows(restore, [
      { name: 'simple clusterIP', sourceIP: '10.180.0.2', destIP: '172.30.0.41', destPort: 80, output: '10.180.0.1:80' },
      { name: 'hairpin to cluster IP', sourceIP: '10.180.0.1', destIP: '172.30.0.41', destPort: 80, output: '10.180.0.1:80', masq: true },
      { name: 'clusterIP with multiple endpoints', sourceIP: '10.180.0.2', destIP: '172.30.0.42', destPort: 80, output: '10.180.0.1:80, 10.180.2.1:80' },
      { name: 'clusterIP with TargetPort', sourceIP: '10.180.0.2', destIP: '172.30.0.42', destPort: 443, output: '10.180.0.1:8443, 10.180.2.1:8443' },
      { name: 'TCP on shared port', sourceIP: '10.180.0.2', protocol: 'tcp', destIP: '172.30.0.42', destPort: 53, output: '10.180.0.1:5353, 10.180.2.1:5353' },
      { name: 'UDP on shared port', sourceIP: '10.180.0.2', protocol: 'udp', destIP: '172.30.0.42', destPort: 53, output: '10.180.0.1:53, 10.180.2.1:53' },
      { name: 'SCTP on shared port', sourceIP: '10.180.0.2', protocol: 'sctp', destIP: '172.30.0.42', destPort: 53, output: '10.180.0.1:53, 10.180.2.1:53' },
      { name: 'TCP-only port does not match UDP traffic', sourceIP: '10.180.0.2', protocol: 'udp', destIP: '172.30.0.42', destPort: 80, output: '' },
      { name: "svc1 does not accept svc2's ports", sourceIP: '10.180.0.2', destIP: '172.30.0.41', destPort: 443, output: '' },
    ]);
    expectGolden('proxy/upstream-clusterip-general.restore', restore);
  });
});

describe('TestLoadBalancer', () => {
  it('filters LoadBalancer IPs by source range but not NodePorts', () => {
    const restore = render(
      [
        makeService(
          'ns1',
          'svc1',
          {
            type: 'LoadBalancer',
            clusterIP: '172.30.0.41',
            ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }],
            loadBalancerSourceRanges: ['192.168.0.0/24', ' 203.0.113.0/25'],
          },
          { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { ip: '5.6.7.8' }] } },
        ),
      ],
      [makeSlice('ns1', 'svc1', 1, [{ ip: '10.180.0.1' }], p80)],
    );
    const ep = '10.180.0.1:80';
    expectFlows(restore, [
      { name: 'pod to cluster IP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: ep },
      { name: 'external to nodePort', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3001, output: ep, masq: true },
      { name: 'nodePort bypasses LoadBalancerSourceRanges', sourceIP: testExternalClientBlocked, destIP: testNodeIP, destPort: 3001, output: ep, masq: true },
      { name: 'accepted external to LB1', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: ep, masq: true },
      { name: 'accepted external to LB2', sourceIP: testExternalClient, destIP: '5.6.7.8', destPort: 80, output: ep, masq: true },
      { name: 'blocked external to LB1', sourceIP: testExternalClientBlocked, destIP: '1.2.3.4', destPort: 80, output: 'DROP' },
      { name: 'blocked external to LB2', sourceIP: testExternalClientBlocked, destIP: '5.6.7.8', destPort: 80, output: 'DROP' },
      { name: 'pod to LB1 (blocked by LoadBalancerSourceRanges)', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: 'DROP' },
      { name: 'pod to LB2 (blocked by LoadBalancerSourceRanges)', sourceIP: '10.0.0.2', destIP: '5.6.7.8', destPort: 80, output: 'DROP' },
      { name: 'node to LB1 (allowed by LoadBalancerSourceRanges)', sourceIP: testNodeIP, destIP: '1.2.3.4', destPort: 80, output: ep, masq: true },
      { name: 'node to LB2 (allowed by LoadBalancerSourceRanges)', sourceIP: testNodeIP, destIP: '5.6.7.8', destPort: 80, output: ep, masq: true },
      { name: 'same node to LB1, SNATted to LB1 (implicitly allowed)', sourceIP: '1.2.3.4', destIP: '1.2.3.4', destPort: 80, output: ep, masq: true },
      { name: 'same node to LB2, SNATted to LB2 (implicitly allowed)', sourceIP: '5.6.7.8', destIP: '5.6.7.8', destPort: 80, output: ep, masq: true },
    ]);
  });
});

describe('TestNodePorts (IPv4 cases)', () => {
  for (const localhostNodePorts of [true, false]) {
    it(`localhost-nodeports ${localhostNodePorts ? 'enabled' : 'disabled'}`, () => {
      const restore = render(
        [makeService('ns1', 'svc1', { type: 'NodePort', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] })],
        [makeSlice('ns1', 'svc1', 1, [{ ip: '10.180.0.1' }, { ip: '10.180.2.1', node: testNodeName }], p80)],
        { localhostNodePorts },
      );
      const output = '10.180.0.1:80, 10.180.2.1:80';
      expectFlows(restore, [
        { name: 'pod to cluster IP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output },
        { name: 'external to nodePort', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3001, output, masq: true },
        { name: 'node to nodePort', sourceIP: testNodeIP, destIP: testNodeIP, destPort: 3001, output, masq: true },
        { name: 'external to nodePort on secondary IP', sourceIP: testExternalClient, destIP: testNodeIPAlt, destPort: 3001, output, masq: true },
        localhostNodePorts
          ? { name: 'localhost to nodePort gets masqueraded', sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 3001, output, masq: true }
          : { name: 'localhost to nodePort is ignored', sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 3001, output: '' },
      ]);
      expect(chainRules(restore, 'filter', 'KUBE-FIREWALL')).toEqual(
        localhostNodePorts
          ? ['-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP']
          : [],
      );
    });
  }
});

describe('TestHealthCheckNodePort', () => {
  it('accepts the health check node port while the service exists', () => {
    const svc = makeService('ns1', 'svc1', {
      type: 'LoadBalancer',
      clusterIP: '172.30.0.42',
      ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }],
      healthCheckNodePort: 30000,
      externalTrafficPolicy: 'Local',
    });
    const flow = { name: 'firewall accepts HealthCheckNodePort', sourceIP: '1.2.3.4', destIP: testNodeIP, destPort: 30000 };
    expectFlows(render([svc], []), [{ ...flow, output: 'ACCEPT' }]);
    expectFlows(render([], []), [{ ...flow, output: '' }]);
  });
});

describe('TestDropInvalidRule and TestMasqueradeRule', () => {
  const forward = [
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  ];
  it.each([
    [false, false, ['-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP', ...forward]],
    [true, false, ['-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP', ...forward]],
    [false, true, forward],
  ])('nfacct %s, tcp liberal %s', (nf, liberal, rules) => {
    const restore = render([], [], { nfacct: { ctStateInvalidDropped: nf, localhostNodePortsAccepted: nf }, conntrackTCPLiberal: liberal });
    expect(chainRules(restore, 'filter', 'KUBE-FORWARD')).toEqual(rules);
  });
  it.each([false, true])('random-fully %s', (randomFully) => {
    expect(chainRules(render([], [], { randomFully }), 'nat', 'KUBE-POSTROUTING')).toEqual([
      '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
      `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${randomFully ? ' --random-fully' : ''}`,
    ]);
  });
  it('writes the mark as Go %#08x formats it unless told otherwise', () => {
    const restore = renderIptablesRestore([], [], { nodeName: 'n', clusterCIDR: '10.10.0.0/16' });
    expect(chainRules(restore, 'nat', 'KUBE-MARK-MASQ')).toEqual(['-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000']);
  });
});

describe('TestExternalTrafficPolicyLocal / Cluster', () => {
  const services = (policy: string) => [
    makeService(
      'ns1',
      'svc1',
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: policy,
        clusterIP: '172.30.0.41',
        externalIPs: ['192.168.99.11'],
        ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001, targetPort: 80 }],
        healthCheckNodePort: 30000,
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    ),
  ];
  const slices = [makeSlice('ns1', 'svc1', 1, [{ ip: '10.180.0.1' }, { ip: '10.180.2.1', node: testNodeName }], p80)];
  const both = '10.180.0.1:80, 10.180.2.1:80';
  const local = '10.180.2.1:80';

  it('Local: external clients reach only the local endpoint, unmasqueraded', () => {
    const restore = render(services('Local'), slices);
    expectFlows(restore, [
      { name: 'pod to cluster IP hits both endpoints, unmasqueraded', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: both },
      { name: 'pod to external IP hits both endpoints, unmasqueraded', sourceIP: '10.0.0.2', destIP: '192.168.99.11', destPort: 80, output: both },
      { name: 'external to external IP hits only local endpoint, unmasqueraded', sourceIP: testExternalClient, destIP: '192.168.99.11', destPort: 80, output: local },
      { name: 'pod to LB IP hits only both endpoints, unmasqueraded', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: both },
      { name: 'external to LB IP hits only local endpoint, unmasqueraded', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: local },
      { name: 'pod to NodePort hits both endpoints, unmasqueraded', sourceIP: '10.0.0.2', destIP: testNodeIP, destPort: 3001, output: both },
      { name: 'external to NodePort hits only local endpoint, unmasqueraded', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3001, output: local },
    ]);
    expectGolden('proxy/upstream-etp-local.restore', restore);
  });

  it('Cluster: external destinations are masqueraded', () => {
    const restore = render(services('Cluster'), slices);
    expectFlows(restore, [
      { name: 'pod to cluster IP hits both endpoints, unmasqueraded', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: both },
      { name: 'pod to external IP hits both endpoints, masqueraded', sourceIP: '10.0.0.2', destIP: '192.168.99.11', destPort: 80, output: both, masq: true },
      { name: 'external to external IP hits both endpoints, masqueraded', sourceIP: testExternalClient, destIP: '192.168.99.11', destPort: 80, output: both, masq: true },
      { name: 'pod to LB IP hits both endpoints, masqueraded', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: both, masq: true },
      { name: 'external to LB IP hits both endpoints, masqueraded', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: both, masq: true },
      { name: 'pod to NodePort hits both endpoints, masqueraded', sourceIP: '10.0.0.2', destIP: testNodeIP, destPort: 3001, output: both, masq: true },
      { name: 'external to NodePort hits both endpoints, masqueraded', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3001, output: both, masq: true },
    ]);
  });
});

describe('TestInternalTrafficPolicy', () => {
  const cases: Array<[string, string | undefined, Array<[string, string]>, string]> = [
    ['internalTrafficPolicy is cluster', 'Cluster', [['10.0.1.1', testNodeName], ['10.0.1.2', 'node1'], ['10.0.1.3', 'node2']], '10.0.1.1:80, 10.0.1.2:80, 10.0.1.3:80'],
    ['local with one local endpoint', 'Local', [['10.0.1.1', testNodeName], ['10.0.1.2', 'node1'], ['10.0.1.3', 'node2']], '10.0.1.1:80'],
    ['local with multiple local endpoints', 'Local', [['10.0.1.1', testNodeName], ['10.0.1.2', testNodeName], ['10.0.1.3', 'node2']], '10.0.1.1:80, 10.0.1.2:80'],
    ['local with no local endpoints', 'Local', [['10.0.1.1', 'node0'], ['10.0.1.2', 'node1'], ['10.0.1.3', 'node2']], 'DROP'],
  ];
  it.each(cases)('%s', (_name, itp, eps, output) => {
    const svc = makeService('ns1', 'svc1', {
      clusterIP: '172.30.1.1',
      selector: { foo: 'bar' },
      ports: [{ name: '', port: 80, protocol: 'TCP' }],
      ...(itp !== undefined ? { internalTrafficPolicy: itp } : {}),
    });
    const slice = makeSlice('ns1', 'svc1', 1, eps.map(([ip, node]) => ({ ip, node, ready: true })), [{ name: '', port: 80 }]);
    const flow = { name: 'pod to ClusterIP', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80 };
    expectFlows(render([svc], [slice]), [{ ...flow, output }]);
    expectFlows(render([svc], []), [{ ...flow, name: 'endpoints deleted', output: 'REJECT' }]);
  });
});

describe('TestTerminatingEndpointsTrafficPolicyLocal / Cluster', () => {
  const service = (policy: string) =>
    makeService(
      'ns1',
      'svc1',
      {
        clusterIP: '172.30.1.1',
        type: 'LoadBalancer',
        externalTrafficPolicy: policy,
        ports: [{ name: '', targetPort: 80, port: 80, protocol: 'TCP' }],
        healthCheckNodePort: 30000,
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    );
  const R = (ip: string, node: string): Ep => ({ ip, node, ready: true, serving: true, terminating: false });
  const T = (ip: string, node: string): Ep => ({ ip, node, ready: false, serving: true, terminating: true });
  const X = (ip: string, node: string): Ep => ({ ip, node, ready: false, serving: false, terminating: true });
  const sets: Record<string, Ep[]> = {
    'ready endpoints exist (local)': [R('10.0.1.1', testNodeName), R('10.0.1.2', testNodeName), T('10.0.1.3', testNodeName), X('10.0.1.4', testNodeName), R('10.0.1.5', 'node-1')],
    'ready endpoints exist (cluster)': [R('10.0.1.1', testNodeName), R('10.0.1.2', testNodeName), T('10.0.1.3', 'another-node'), X('10.0.1.4', 'another-node'), R('10.0.1.5', 'another-node')],
    'only terminating endpoints exist (local)': [T('10.0.1.2', testNodeName), T('10.0.1.3', testNodeName), X('10.0.1.4', testNodeName), R('10.0.1.5', 'node-1')],
    'only terminating endpoints exist (cluster)': [T('10.0.1.2', testNodeName), T('10.0.1.3', testNodeName), X('10.0.1.4', 'another-node'), T('10.0.1.5', 'another-node')],
    'terminating endpoints on remote node': [T('10.0.1.5', 'node-1')],
    'no usable endpoints on any node': [X('10.0.1.5', testNodeName), X('10.0.1.5', 'node-1')],
  };
  const cases: Array<[string, string, string, string, boolean]> = [
    // [set, policy, pod→clusterIP, external→LB, external masq]
    ['ready endpoints exist (local)', 'Local', '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80', '10.0.1.1:80, 10.0.1.2:80', false],
    ['only terminating endpoints exist (local)', 'Local', '10.0.1.5:80', '10.0.1.2:80, 10.0.1.3:80', false],
    ['terminating endpoints on remote node', 'Local', '10.0.1.5:80', 'DROP', false],
    ['no usable endpoints on any node', 'Local', 'REJECT', 'REJECT', false],
    ['ready endpoints exist (cluster)', 'Cluster', '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80', '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80', true],
    ['only terminating endpoints exist (cluster)', 'Cluster', '10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80', '10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80', true],
    ['terminating endpoints on remote node', 'Cluster', '10.0.1.5:80', '10.0.1.5:80', true],
    ['no usable endpoints on any node', 'Cluster', 'REJECT', 'REJECT', false],
  ];
  it.each(cases)('%s, eTP %s', (set, policy, podOut, extOut, extMasq) => {
    const slice = makeSlice('ns1', 'svc1', 1, sets[set] ?? [], [{ name: '', port: 80 }]);
    const restore = render([service(policy)], [slice]);
    expectFlows(restore, [
      { name: 'pod to clusterIP', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: podOut },
      { name: 'external to LB', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: extOut, masq: extMasq },
    ]);
    expectFlows(render([service(policy)], []), [
      { name: 'pod to clusterIP after endpoints deleted', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: 'REJECT' },
      { name: 'external to LB after endpoints deleted', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
    ]);
  });
});

describe('TestInternalExternalMasquerade', () => {
  const services = [
    makeService(
      'ns1',
      'svc1',
      { type: 'LoadBalancer', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }], healthCheckNodePort: 30001 },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    ),
    makeService(
      'ns2',
      'svc2',
      {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.42',
        ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3002 }],
        healthCheckNodePort: 30002,
        externalTrafficPolicy: 'Local',
      },
      { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } },
    ),
    makeService(
      'ns3',
      'svc3',
      {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.43',
        ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3003 }],
        healthCheckNodePort: 30003,
        internalTrafficPolicy: 'Local',
      },
      { loadBalancer: { ingress: [{ ip: '9.10.11.12' }] } },
    ),
  ];
  const slices = [1, 2, 3].map((n) =>
    makeSlice(`ns${n}`, `svc${n}`, 1, [{ ip: `10.180.0.${n}`, node: testNodeName }, { ip: `10.180.1.${n}`, node: 'remote' }], p80),
  );
  const s1 = '10.180.0.1:80, 10.180.1.1:80';
  const s2 = '10.180.0.2:80, 10.180.1.2:80';
  const s3 = '10.180.0.3:80, 10.180.1.3:80';
  const x = testExternalClient;
  const n = testNodeIP;
  const base: FlowTest[] = [
    { name: 'pod to ClusterIP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: s1, masq: false },
    { name: 'pod to NodePort', sourceIP: '10.0.0.2', destIP: n, destPort: 3001, output: s1, masq: true },
    { name: 'pod to LB', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: s1, masq: true },
    { name: 'node to ClusterIP', sourceIP: n, destIP: '172.30.0.41', destPort: 80, output: s1, masq: true },
    { name: 'node to NodePort', sourceIP: n, destIP: n, destPort: 3001, output: s1, masq: true },
    { name: 'localhost to NodePort', sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 3001, output: s1, masq: true },
    { name: 'node to LB', sourceIP: n, destIP: '1.2.3.4', destPort: 80, output: s1, masq: true },
    { name: 'external to ClusterIP', sourceIP: x, destIP: '172.30.0.41', destPort: 80, output: s1, masq: true },
    { name: 'external to NodePort', sourceIP: x, destIP: n, destPort: 3001, output: s1, masq: true },
    { name: 'external to LB', sourceIP: x, destIP: '1.2.3.4', destPort: 80, output: s1, masq: true },
    { name: 'pod to ClusterIP with eTP:Local', sourceIP: '10.0.0.2', destIP: '172.30.0.42', destPort: 80, output: s2, masq: false },
    { name: 'pod to NodePort with eTP:Local', sourceIP: '10.0.0.2', destIP: n, destPort: 3002, output: s2, masq: false },
    { name: 'pod to LB with eTP:Local', sourceIP: '10.0.0.2', destIP: '5.6.7.8', destPort: 80, output: s2, masq: false },
    { name: 'node to ClusterIP with eTP:Local', sourceIP: n, destIP: '172.30.0.42', destPort: 80, output: s2, masq: true },
    { name: 'node to NodePort with eTP:Local', sourceIP: n, destIP: n, destPort: 3001, output: s1, masq: true },
    { name: 'localhost to NodePort with eTP:Local', sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 3002, output: s2, masq: true },
    { name: 'node to LB with eTP:Local', sourceIP: n, destIP: '5.6.7.8', destPort: 80, output: s2, masq: true },
    { name: 'external to ClusterIP with eTP:Local', sourceIP: x, destIP: '172.30.0.42', destPort: 80, output: s2, masq: true },
    { name: 'external to NodePort with eTP:Local', sourceIP: x, destIP: n, destPort: 3002, output: '10.180.0.2:80', masq: false },
    { name: 'external to LB with eTP:Local', sourceIP: x, destIP: '5.6.7.8', destPort: 80, output: '10.180.0.2:80', masq: false },
    { name: 'pod to ClusterIP with iTP:Local', sourceIP: '10.0.0.2', destIP: '172.30.0.43', destPort: 80, output: '10.180.0.3:80', masq: false },
    { name: 'pod to NodePort with iTP:Local', sourceIP: '10.0.0.2', destIP: n, destPort: 3003, output: s3, masq: true },
    { name: 'pod to LB with iTP:Local', sourceIP: '10.0.0.2', destIP: '9.10.11.12', destPort: 80, output: s3, masq: true },
    { name: 'node to ClusterIP with iTP:Local', sourceIP: n, destIP: '172.30.0.43', destPort: 80, output: '10.180.0.3:80', masq: true },
    { name: 'node to NodePort with iTP:Local', sourceIP: n, destIP: n, destPort: 3003, output: s3, masq: true },
    { name: 'localhost to NodePort with iTP:Local', sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 3003, output: s3, masq: true },
    { name: 'node to LB with iTP:Local', sourceIP: n, destIP: '9.10.11.12', destPort: 80, output: s3, masq: true },
    { name: 'external to ClusterIP with iTP:Local', sourceIP: x, destIP: '172.30.0.43', destPort: 80, output: '10.180.0.3:80', masq: true },
    { name: 'external to NodePort with iTP:Local', sourceIP: x, destIP: n, destPort: 3003, output: s3, masq: true },
    { name: 'external to LB with iTP:Local', sourceIP: x, destIP: '9.10.11.12', destPort: 80, output: s3, masq: true },
  ];
  type Override = { output?: string; masq?: boolean };
  const noDetector: Record<string, Override> = {
    'node to ClusterIP': { masq: false },
    'node to ClusterIP with eTP:Local': { masq: false },
    'node to ClusterIP with iTP:Local': { masq: false },
    'external to ClusterIP': { masq: false },
    'external to ClusterIP with eTP:Local': { masq: false },
    'external to ClusterIP with iTP:Local': { masq: false },
    'pod to NodePort with eTP:Local': { output: '10.180.0.2:80' },
    'pod to LB with eTP:Local': { output: '10.180.0.2:80' },
  };
  const masqAll: Record<string, Override> = {
    'pod to ClusterIP': { masq: true },
    'pod to ClusterIP with eTP:Local': { masq: true },
    'pod to ClusterIP with iTP:Local': { masq: true },
  };
  const cases: Array<[string, Partial<IptablesProxyConfig>, Record<string, Override>]> = [
    ['base', {}, {}],
    ['no LocalTrafficDetector', { clusterCIDR: undefined }, noDetector],
    ['masqueradeAll', { masqueradeAll: true }, masqAll],
    [
      'masqueradeAll, no LocalTrafficDetector',
      { masqueradeAll: true, clusterCIDR: undefined },
      { ...masqAll, 'pod to NodePort with eTP:Local': { output: '10.180.0.2:80' }, 'pod to LB with eTP:Local': { output: '10.180.0.2:80' } },
    ],
  ];
  it.each(cases)('%s', (_name, over, overrides) => {
    const restore = renderIptablesRestore(services, slices, { ...fakeProxierConfig(), ...over });
    const flows = base.map((f) => ({ ...f, ...(overrides[f.name] ?? {}) }));
    expectFlows(restore, flows);
  });
});

describe('TestLoadBalancerIngressRouteTypeProxy (LoadBalancerIPMode enabled)', () => {
  it.each([
    ['Proxy', false],
    ['VIP', true],
    [undefined, true],
  ])('ipMode %s → rule %s', (ipMode, expected) => {
    const restore = render(
      [
        makeService(
          'ns1',
          'svc1',
          { type: 'LoadBalancer', clusterIP: '10.20.30.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] },
          { loadBalancer: { ingress: [{ ip: '1.2.3.4', ...(ipMode !== undefined ? { ipMode } : {}) }] } },
        ),
      ],
      [makeSlice('ns1', 'svc1', 1, [{ ip: '10.180.0.1' }], p80)],
    );
    expect(chainRules(restore, 'nat', 'KUBE-SERVICES').some((r) => r.includes(' -d 1.2.3.4 '))).toBe(expected);
  });
});

describe('services kube-proxy skips', () => {
  it('headless and ExternalName services produce no rules', () => {
    const restore = render(
      [
        makeService('somewhere-else', 'headless', { type: 'ClusterIP', clusterIP: 'None', ports: [{ name: 'rpc', port: 1234, protocol: 'UDP' }] }),
        makeService('somewhere-else', 'headless-without-port', { type: 'ClusterIP', clusterIP: 'None' }),
        makeService('somewhere-else', 'external-name', {
          type: 'ExternalName',
          clusterIP: '172.30.55.4',
          externalName: 'foo2.bar.com',
          ports: [{ name: 'blah', port: 1235, protocol: 'UDP', nodePort: 5321 }],
        }),
      ],
      [makeSlice('somewhere-else', 'headless', 1, [{ ip: '10.1.1.1' }], [{ name: 'rpc', port: 1234, protocol: 'UDP' }])],
    );
    expect(restore).toBe(render([], []));
  });
});

describe('TestBadIPs', () => {
  it('rewrites sloppy IPs and CIDRs to canonical form', () => {
    const restore = render(
      [
        makeService(
          'ns1',
          'svc1',
          {
            type: 'LoadBalancer',
            clusterIP: '172.30.0.041',
            ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }],
            externalIPs: ['192.168.099.022'],
            loadBalancerSourceRanges: ['203.0.113.000/025'],
          },
          { loadBalancer: { ingress: [{ ip: '1.2.3.004' }] } },
        ),
      ],
      [makeSlice('ns1', 'svc1', 1, [{ ip: '10.180.00.001' }], p80)],
    );
    expect(sortLikeUpstream(restore)).toBe(
      `*filter
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-PROXY-FIREWALL -m comment --comment "ns1/svc1:p80 traffic not accepted by KUBE-FW-XPGD46QRK7WJZT7O" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
COMMIT
*nat
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXT-XPGD46QRK7WJZT7O - [0:0]
:KUBE-FW-XPGD46QRK7WJZT7O - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-XPGD46QRK7WJZT7O
-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-FW-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment "masquerade traffic for ns1/svc1:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-XPGD46QRK7WJZT7O -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-XPGD46QRK7WJZT7O
-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "other traffic to ns1/svc1:p80 will be dropped by KUBE-PROXY-FIREWALL"
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
COMMIT
`,
    );
  });
});

describe('TestSyncProxyRulesLargeClusterMode', () => {
  it('drops per-endpoint comments above 1000 endpoints', () => {
    const svcs = [
      makeService('ns1', 'svc1', { type: 'ClusterIP', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] }),
      makeService('ns2', 'svc2', { type: 'ClusterIP', clusterIP: '172.30.0.42', ports: [{ name: 'p8080', port: 8080, protocol: 'TCP' }] }),
      makeService('ns3', 'svc3', { type: 'ClusterIP', clusterIP: '172.30.0.43', ports: [{ name: 'p8081', port: 8081, protocol: 'TCP' }] }),
    ];
    const many = (prefix: string) => Array.from({ length: 1000 / 2 - 1 }, (_, i) => ({ ip: `${prefix}.${i % 256}.${Math.floor(i / 256)}` }));
    const slices = [
      makeSlice('ns1', 'svc1', 1, many('10.0'), [{ name: 'p80', port: 80 }]),
      makeSlice('ns2', 'svc2', 1, many('10.1'), [{ name: 'p8080', port: 8080 }]),
    ];
    const dnat = (restore: string, ep: string) => restore.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-') && l.includes('-j DNAT') && l.includes(ep));
    const small = render(svcs, slices, { masqueradeAll: true });
    expect(dnat(small, '10.0.0.0:')).toEqual(['-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80']);
    expect(small.split('\n').filter((l) => l.includes('-j DNAT') && !l.includes('--comment'))).toEqual([]);
    const big = render(
      svcs,
      [...slices, makeSlice('ns3', 'svc3', 1, [{ ip: '203.0.113.4' }, { ip: '203.0.113.8' }, { ip: '203.0.113.12' }], [{ name: 'p8081', port: 8081 }])],
      { masqueradeAll: true },
    );
    expect(dnat(big, '203.0.113.4:')).toEqual(['-A KUBE-SEP-RUVVH7YV3PHQBDOS -m tcp -p tcp -j DNAT --to-destination 203.0.113.4:8081']);
    expect(dnat(big, '10.0.0.0:')).toEqual(['-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80']);
    expect(big.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-') && l.includes('--comment'))).toEqual([]);
  });
});
