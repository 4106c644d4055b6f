// kube-proxy's TestOverallNFTablesRules and rule-level checks of the other
// nftables tests: the same Services and EndpointSlices in, the same table out
// (upstream's expected text kept verbatim in test/golden/proxy/upstream-nft-overall.nft).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProxyState } from '../../../src/proxy/iptables.js';
import { dumpNftables, nftEndpointChainBase, nftServiceChainBase, renderNftables, type NftablesProxyConfig } from '../../../src/proxy/nftables.js';
import { expectGolden } from '../../helpers/golden.js';
import { nftNormalForm } from './nft-compare.js';
import { makeService, makeSlice, overallObjects, testNodeIP, testNodeName } from './upstream.js';

/** NewFakeProxier (nftables): pod CIDR 10.0.0.0/8, service CIDR 172.30.0.0/16, mark 0x4000, NodePorts on 192.168.0.2 only. */
function fakeNftConfig(over: Partial<NftablesProxyConfig> = {}): NftablesProxyConfig {
  return { nodeName: testNodeName, nodeIP: testNodeIP, clusterCIDR: '10.0.0.0/8', serviceCIDRs: ['172.30.0.0/16'], masqueradeMark: '0x4000', ...over };
}

const UPSTREAM_OVERALL = readFileSync(path.resolve(import.meta.dirname, '../../golden/proxy/upstream-nft-overall.nft'), 'utf8');

function render(services: ReturnType<typeof overallObjects>['services'], slices: ReturnType<typeof overallObjects>['slices'], cfg = fakeNftConfig()): string {
  return dumpNftables(renderNftables(buildProxyState(services, slices, testNodeName), cfg));
}

describe('nftables renderer against kube-proxy (TestOverallNFTablesRules)', () => {
  it('writes the same table as kube-proxy for the six services', () => {
    const { services, slices } = overallObjects();
    const got = render(services, slices);
    expect(nftNormalForm(got)).toEqual(nftNormalForm(UPSTREAM_OVERALL));
    expectGolden('proxy/nft-overall.nft', got);
  });

  it('names chains with the 8-character hash kube-proxy uses', () => {
    const sp = { namespace: 'ns1', name: 'svc1', protocol: 'TCP' as const, port: 'p80' };
    expect(nftServiceChainBase(sp)).toBe('ULMVA6XW-ns1/svc1/tcp/p80');
    expect(nftEndpointChainBase(sp, { ip: '10.180.0.1', port: 80 })).toBe('5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  });
});

describe('nftables renderer: behaviour kube-proxy tests check', () => {
  it('rejects unknown ports of allocated ClusterIPs and drops unallocated addresses of the service CIDR (TestClusterIPGeneral)', () => {
    const nf = nftNormalForm(render([makeService('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [{ name: 'http', port: 80 }] })], [makeSlice('ns1', 'svc1', 1, [{ ip: '10.180.0.1' }], [{ name: 'http', port: 80 }])]));
    expect(nf.rules['cluster-ips-check']).toEqual([
      'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
      'ip daddr { 172.30.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"',
    ]);
    expect(nf.objects).toContain('add element ip kube-proxy cluster-ips { 172.30.0.41 }');
    // both checks hang off filter forward/output for new connections only
    expect(nf.rules['filter-output']).toContain('ct state new jump cluster-ips-check');
    expect(nf.rules['filter-forward']).toContain('ct state new jump cluster-ips-check');
  });

  it('rejects a service without endpoints on its ClusterIP, external IP, LB IP and NodePort (TestNoEndpointsReject)', () => {
    const svc = makeService(
      'ns1',
      'svc1',
      { type: 'LoadBalancer', clusterIP: '172.30.0.41', externalIPs: ['192.168.99.11'], ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    );
    const nf = nftNormalForm(render([svc], []));
    const els = nf.objects.filter((l) => l.startsWith('add element ip kube-proxy no-endpoint'));
    expect(els).toEqual(
      [
        'add element ip kube-proxy no-endpoint-nodeports { tcp . 3001 comment "ns1/svc1:p80" : goto reject-chain }',
        'add element ip kube-proxy no-endpoint-services { 1.2.3.4 . tcp . 80 comment "ns1/svc1:p80" : goto reject-chain }',
        'add element ip kube-proxy no-endpoint-services { 172.30.0.41 . tcp . 80 comment "ns1/svc1:p80" : goto reject-chain }',
        'add element ip kube-proxy no-endpoint-services { 192.168.99.11 . tcp . 80 comment "ns1/svc1:p80" : goto reject-chain }',
      ].sort(),
    );
    expect(nf.objects.some((l) => l.startsWith('add element ip kube-proxy service-ips'))).toBe(false);
  });

  it('sends eTP=Local external traffic to the local endpoints only, short-circuiting pods and the node (TestExternalTrafficPolicyLocal)', () => {
    const svc = makeService('ns1', 'svc1', { type: 'NodePort', externalTrafficPolicy: 'Local', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] });
    const slice = makeSlice('ns1', 'svc1', 1, [{ ip: '10.180.0.1', node: testNodeName }, { ip: '10.180.2.1', node: 'host2' }], [{ name: 'p80', port: 80 }]);
    const nf = nftNormalForm(render([svc], [slice]));
    const base = nftServiceChainBase({ namespace: 'ns1', name: 'svc1', protocol: 'TCP', port: 'p80' });
    expect(nf.rules[`external-${base}`]).toEqual([
      `ip saddr 10.0.0.0/8 goto service-${base} comment "short-circuit pod traffic"`,
      'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
      `fib saddr type local goto service-${base} comment "short-circuit local traffic"`,
      `goto local-${base}`,
    ]);
    const local = nf.rules[`local-${base}`] ?? [];
    expect(local).toHaveLength(1);
    expect(local[0]).toMatch(/^numgen random mod 1 vmap \{ 0 : goto endpoint-\w{8}-ns1\/svc1\/tcp\/p80__10\.180\.0\.1\/80 \}$/);
    expect(nf.rules[`service-${base}`]?.[1]).toMatch(/numgen random mod 2 /);
  });

  it('drops ClusterIP traffic of an iTP=Local service with no local endpoints (TestInternalTrafficPolicy)', () => {
    const svc = makeService('ns1', 'svc1', { internalTrafficPolicy: 'Local', clusterIP: '172.30.1.1', ports: [{ name: '', port: 80, protocol: 'TCP' }] });
    const slice = makeSlice('ns1', 'svc1', 1, [{ ip: '10.0.1.1', node: 'host1' }], [{ name: '', port: 80 }]);
    const nf = nftNormalForm(render([svc], [slice]));
    expect(nf.objects).toContain('add element ip kube-proxy no-endpoint-services { 172.30.1.1 . tcp . 80 comment "ns1/svc1" : drop }');
    expect(Object.keys(nf.rules).filter((c) => c.includes('/'))).toEqual([]);
  });

  it('uses the Go %#08x form of the default mark', () => {
    const nf = nftNormalForm(render([], [], fakeNftConfig({ masqueradeMark: undefined })));
    expect(nf.rules['mark-for-masquerade']).toEqual(['mark set mark or 0x004000']);
  });
});
