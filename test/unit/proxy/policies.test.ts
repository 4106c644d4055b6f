// internalTrafficPolicy Local together with externalTrafficPolicy Local on an
// externally reachable Service: kube-proxy still keeps the Cluster chain,
// because the external chain's short-circuit rules for pods and the node go
// there. Without it both modes wrote a jump to a chain that does not exist,
// and the kernel refused the whole sync.
import { describe, expect, it } from 'vitest';
import { buildProxyState, renderIptablesRestore } from '../../../src/proxy/iptables.js';
import { renderNftables, nftServiceChainBase } from '../../../src/proxy/nftables.js';
import { nftTransaction } from '../../../src/proxy/nft-transaction.js';
import { applyScript, emptyState } from './nft-model.js';
import { checkRuleJumps, fakeProxierConfig, makeService, makeSlice, testNodeName } from './upstream.js';

const svc = makeService('ns1', 'svc1', {
  type: 'NodePort',
  clusterIP: '172.30.0.41',
  internalTrafficPolicy: 'Local',
  externalTrafficPolicy: 'Local',
  ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }],
});
const slice = makeSlice('ns1', 'svc1', 1, [{ ip: '10.180.0.1', node: testNodeName }, { ip: '10.180.2.1', node: 'host2' }], [{ name: 'p80', port: 80 }]);

describe('iTP=Local and eTP=Local on a NodePort Service', () => {
  it('iptables: every jump of the restore input has its chain (KUBE-SVC kept for the short-circuit)', () => {
    const restore = renderIptablesRestore([svc], [slice], fakeProxierConfig());
    expect(checkRuleJumps(restore)).toEqual([]);
    expect(restore).toMatch(/-A KUBE-SVC-\w+ .*-j KUBE-SEP-/);
  });

  it('nftables: the full-sync transaction is one the kernel accepts, pods short-circuit to every endpoint', () => {
    const d = renderNftables(buildProxyState([svc], [slice], testNodeName), { nodeName: testNodeName, nodeIP: '192.168.0.2', clusterCIDR: '10.0.0.0/8', serviceCIDRs: ['172.30.0.0/16'] });
    const tx = nftTransaction(d, { full: true, changedServices: new Set(), existingChains: new Set(), staleChains: new Set(), existingAffinitySets: new Set(), written: new Map() });
    const state = applyScript(emptyState(), tx.script);
    const base = nftServiceChainBase({ namespace: 'ns1', name: 'svc1', protocol: 'TCP', port: 'p80' });
    expect(state.chains.get(`service-${base}`)?.rules.at(-1)).toMatch(/^numgen random mod 2 vmap/);
    expect(state.chains.get(`local-${base}`)?.rules.at(-1)).toMatch(/^numgen random mod 1 vmap/);
    // ClusterIP traffic (iTP=Local) goes to the local chain only
    expect([...(state.containers.get('service-ips')?.elements ?? [])]).toEqual([['172.30.0.41 . tcp . 80', ` : goto local-${base}`]]);
  });
});
