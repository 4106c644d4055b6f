// kube-proxy's clean-up of stale UDP conntrack flows: which flows go, and the
// proxier deleting them after the rules changed.
import { afterEach, describe, expect, it } from 'vitest';
import { conntrackDeleteArgs, parseUdpFlows, staleUdpFilters } from '../../../src/proxy/conntrack.js';
import { buildProxyState } from '../../../src/proxy/iptables.js';
import { IptablesProxier } from '../../../src/proxy/iptables-proxier.js';
import { FakeNode } from './fake-node.js';
import { makeService, makeSlice } from './upstream.js';

const dnsService = makeService('kube-system', 'kube-dns', {
  type: 'NodePort',
  clusterIP: '10.96.0.10',
  ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53, nodePort: 30053 }],
});
const dnsSlice = (ips: string[]) =>
  makeSlice('kube-system', 'kube-dns', 1, ips.map((ip) => ({ ip, node: 'master', ready: true })), [{ name: 'dns', port: 53, protocol: 'UDP' }]);

const LIST = `udp      17 25 src=10.10.0.3 dst=10.96.0.10 sport=41288 dport=53 src=10.10.0.4 dst=10.10.0.3 sport=53 dport=41288 mark=0 use=1
udp      17 12 src=10.10.0.3 dst=10.96.0.10 sport=50621 dport=53 src=10.10.1.2 dst=10.10.0.3 sport=53 dport=50621 mark=0 use=1
udp      17 29 src=10.10.0.3 dst=10.96.0.10 sport=50622 dport=53 [UNREPLIED] src=10.96.0.10 dst=10.10.0.3 sport=53 dport=50622 mark=0 use=1
udp      17 3 src=192.168.10.208 dst=192.168.10.210 sport=5353 dport=30053 src=10.10.1.2 dst=192.168.10.210 sport=53 dport=5353 mark=0 use=1
udp      17 3 src=10.10.0.3 dst=192.168.10.53 sport=4000 dport=53 src=192.168.10.53 dst=192.168.10.210 sport=53 dport=4000 mark=0 use=1
conntrack v1.4.7 (conntrack-tools): 5 flow entries have been shown.
`;

describe('stale UDP flows', () => {
  it('reads the original destination and the reply source of each flow', () => {
    expect(parseUdpFlows(LIST)[2]).toEqual({ origSrc: '10.10.0.3', origDst: '10.96.0.10', origSport: 50622, origDport: 53, replySrc: '10.96.0.10' });
    expect(parseUdpFlows(LIST)).toHaveLength(5);
  });

  it('deletes flows of a UDP Service answered by anything but a serving endpoint, by ClusterIP and by NodePort', () => {
    const state = buildProxyState([dnsService], [dnsSlice(['10.10.0.4'])], 'master');
    expect(staleUdpFilters(parseUdpFlows(LIST), state).map(conntrackDeleteArgs)).toEqual([
      ['-D', '-p', 'udp', '--orig-dst', '10.96.0.10', '--orig-port-dst', '53', '--reply-src', '10.10.1.2'],
      ['-D', '-p', 'udp', '--orig-dst', '10.96.0.10', '--orig-port-dst', '53', '--reply-src', '10.96.0.10'],
      ['-D', '-p', 'udp', '--orig-port-dst', '30053', '--reply-src', '10.10.1.2'],
    ]);
  });
});

describe('the proxier', () => {
  let p: IptablesProxier | undefined;
  afterEach(() => p?.close());

  it('clears stale UDP flows after a sync that changed the rules', async () => {
    const node = new FakeNode();
    node.conntrackFlows = LIST;
    p = new IptablesProxier({ nodeName: 'master', nodeIP: '192.168.10.210', clusterCIDR: '10.10.0.0/16', netns: 'nslab-unit.node-master', runner: node, minSyncIntervalMs: 20 });
    await p.sync([dnsService], [dnsSlice(['10.10.0.4'])]);
    const deletes = node.calls.map((c) => c.argv.slice(3)).filter((a) => a[0] === 'conntrack' && a[1] === '-D');
    expect(deletes.map((a) => a.join(' '))).toEqual([
      'conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src 10.10.1.2',
      'conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src 10.96.0.10',
      'conntrack -D -p udp --orig-port-dst 30053 --reply-src 10.10.1.2',
    ]);
  });
});
