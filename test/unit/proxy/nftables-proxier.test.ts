// NftablesProxier against a fake node: one `nft -f` transaction per sync, a
// full sync first, partial syncs that rewrite only what changed (as
// kube-proxy's TestSyncProxyRulesRepeated shows), stale chains flushed at
// once and deleted later, and a full sync again after a failed transaction.
import { afterEach, describe, expect, it } from 'vitest';
import { NftablesProxier } from '../../../src/proxy/nftables-proxier.js';
import { createNodeProxier } from '../../../src/proxy/create.js';
import { IptablesProxier } from '../../../src/proxy/iptables-proxier.js';
import { IpvsProxier } from '../../../src/proxy/ipvs-proxier.js';
import { FakeNftNode } from './fake-nft-node.js';
import { makeService, makeSlice } from './upstream.js';

const NETNS = 'nslab-unit.node-worker';
const svc = (name: string, ip: string, nodePort?: number) =>
  makeService('default', name, {
    type: nodePort ? 'NodePort' : 'ClusterIP',
    clusterIP: ip,
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80, ...(nodePort ? { nodePort } : {}) }],
  });
const eps = (name: string, ips: string[]) => makeSlice('default', name, 1, ips.map((ip) => ({ ip, node: 'worker', ready: true })), [{ name: '', port: 80 }]);

let clock = 0;
let proxiers: NftablesProxier[] = [];
function make(node: FakeNftNode): NftablesProxier {
  const p = new NftablesProxier({
    netns: NETNS,
    runner: node,
    nodeName: 'worker',
    nodeIP: '192.168.10.220',
    clusterCIDR: '10.10.0.0/16',
    serviceCIDRs: ['10.96.0.0/12'],
    minSyncIntervalMs: 0,
    now: () => clock,
  });
  proxiers.push(p);
  return p;
}
afterEach(() => {
  for (const p of proxiers) p.close();
  proxiers = [];
  clock = 0;
});

const lines = (script: string | undefined) => (script ?? '').split('\n').filter((l) => l !== '');

describe('NftablesProxier', () => {
  it('first sync: lists the table, then writes everything in one nft -f transaction in the node netns', async () => {
    const node = new FakeNftNode();
    const p = make(node);
    const r = await p.sync([svc('a', '10.96.0.20', 30080)], [eps('a', ['10.10.0.5', '10.10.1.6'])]);
    expect([r.applied, r.full, r.changedServices]).toEqual([true, true, ['default/a']]);
    expect(node.calls.map((c) => c.argv.join(' '))).toEqual([
      `nsenter --net=/run/netns/${NETNS} -- nft -j list chains ip`,
      `nsenter --net=/run/netns/${NETNS} -- nft -j list sets ip`,
      `nsenter --net=/run/netns/${NETNS} -- nft -f -`,
    ]);
    const script = lines(node.scripts[0]);
    expect(script[0]).toBe('add table ip kube-proxy { comment "rules for kube-proxy" ; }');
    expect(script).toContain('add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }');
    expect(script).toContain('flush map ip kube-proxy service-ips');
    expect(script.some((l) => /^add element ip kube-proxy service-nodeports \{ tcp \. 30080 : goto external-\w{8}-default\/a\/tcp\/ \}$/.test(l))).toBe(true);
    expect(p.lastPayload).toBe(node.scripts[0]);
  });

  it('partial sync: only the changed service is rewritten, elements as a difference, nothing when nothing changed', async () => {
    const node = new FakeNftNode();
    const p = make(node);
    const services = [svc('a', '10.96.0.20'), svc('b', '10.96.0.21')];
    await p.sync(services, [eps('a', ['10.10.0.5']), eps('b', ['10.10.1.6'])]);
    const calls = node.calls.length;
    let r = await p.sync(services, [eps('a', ['10.10.0.5']), eps('b', ['10.10.1.6'])]);
    expect([r.applied, node.calls.length]).toEqual([false, calls]);

    r = await p.sync(services, [eps('a', ['10.10.0.5']), eps('b', ['10.10.1.7'])]);
    expect([r.applied, r.full, r.changedServices]).toEqual([true, false, ['default/b']]);
    const script = lines(node.scripts.at(-1));
    expect(script.some((l) => l.startsWith('add table'))).toBe(false);
    expect(script.some((l) => l.includes('default/a/'))).toBe(false);
    expect(script.filter((l) => l.startsWith('add chain')).map((l) => l.replace(/-\w{8}-/, '-H-'))).toEqual([
      'add chain ip kube-proxy endpoint-H-default/b/tcp/__10.10.1.7/80',
      'add chain ip kube-proxy service-H-default/b/tcp/',
    ]);
    // the service's vmap element did not change, so it is not rewritten
    expect(script.some((l) => l.startsWith('add element'))).toBe(false);
    // b's old endpoint chain is flushed now and deleted later
    expect(script.filter((l) => l.startsWith('flush chain') && l.includes('10.10.1.6'))).toHaveLength(1);
    expect(script.some((l) => l.startsWith('delete chain'))).toBe(false);
  });

  it('a deleted service: its elements go at once, its chains a second later in a transaction of their own', async () => {
    const node = new FakeNftNode();
    const p = make(node);
    await p.sync([svc('a', '10.96.0.20'), svc('b', '10.96.0.21')], [eps('a', ['10.10.0.5']), eps('b', ['10.10.1.6'])]);
    clock = 100;
    await p.sync([svc('a', '10.96.0.20')], [eps('a', ['10.10.0.5'])]);
    const script = lines(node.scripts.at(-1));
    expect(script).toContain('delete element ip kube-proxy service-ips { 10.96.0.21 . tcp . 80 }');
    expect(script).toContain('delete element ip kube-proxy cluster-ips { 10.96.0.21 }');
    expect(script.filter((l) => l.startsWith('flush chain')).length).toBe(2);
    expect([...node.chains].filter((c) => c.includes('default/b/'))).toHaveLength(2);

    clock = 1200;
    const r = await p.sync();
    expect(r.deletedChains.map((c) => c.replace(/-\w{8}-/, '-H-')).sort()).toEqual(['endpoint-H-default/b/tcp/__10.10.1.6/80', 'service-H-default/b/tcp/']);
    expect(lines(node.scripts.at(-1)).every((l) => l.startsWith('delete chain ip kube-proxy '))).toBe(true);
    expect([...node.chains].filter((c) => c.includes('default/b/'))).toEqual([]);
  });

  it('a failed deletion of stale chains is tried again later, not forgotten', async () => {
    const node = new FakeNftNode();
    const p = make(node);
    await p.sync([svc('a', '10.96.0.20'), svc('b', '10.96.0.21')], [eps('a', ['10.10.0.5']), eps('b', ['10.10.1.6'])]);
    clock = 100;
    await p.sync([svc('a', '10.96.0.20')], [eps('a', ['10.10.0.5'])]);
    clock = 1200;
    node.failNext = 1;
    let r = await p.sync();
    expect(r.deletedChains).toEqual([]);
    clock = 2400;
    r = await p.sync();
    expect(r.deletedChains).toHaveLength(2);
    expect([...node.chains].filter((c) => c.includes('default/b/'))).toEqual([]);
  });

  it('after a failed transaction the next sync is a full one', async () => {
    const node = new FakeNftNode();
    const p = make(node);
    await p.sync([svc('a', '10.96.0.20')], [eps('a', ['10.10.0.5'])]);
    node.failNext = 1;
    let r = await p.sync([svc('a', '10.96.0.20')], [eps('a', ['10.10.0.6'])]);
    expect(r.error?.message).toMatch(/nft -f failed in nslab-unit.node-worker \(exit 1\)/);
    r = await p.sync();
    expect([r.applied, r.full]).toEqual([true, true]);
    expect(lines(node.scripts.at(-1))[0]).toMatch(/^add table ip kube-proxy/);
  });

  it('restart: a full sync finds the chains an earlier proxier left and flushes the stale ones', async () => {
    const node = new FakeNftNode();
    await make(node).sync([svc('a', '10.96.0.20'), svc('b', '10.96.0.21')], [eps('a', ['10.10.0.5']), eps('b', ['10.10.1.6'])]);
    const second = make(node);
    await second.sync([svc('a', '10.96.0.20')], [eps('a', ['10.10.0.5'])]);
    expect(lines(node.scripts.at(-1)).filter((l) => l.startsWith('flush chain') && l.includes('default/b/'))).toHaveLength(2);
  });
});

describe('createNodeProxier', () => {
  const base = { netns: NETNS, runner: new FakeNftNode(), nodeName: 'worker', nodeIP: '192.168.10.220', clusterCIDR: '10.10.0.0/16', serviceCIDR: '10.96.0.0/12' };
  it('builds the backend of the lab mode', () => {
    const n = createNodeProxier({ ...base, mode: 'nftables' });
    const i = createNodeProxier({ ...base, mode: 'iptables' });
    const v = createNodeProxier({ ...base, mode: 'ipvs' });
    expect([n instanceof NftablesProxier, n.mode, i instanceof IptablesProxier, i.mode, v instanceof IpvsProxier, v.mode]).toEqual([true, 'nftables', true, 'iptables', true, 'ipvs']);
    n.close();
    i.close();
    v.close();
  });
});

describe('NftablesProxier stale chains without further changes', () => {
  it('comes back by itself to delete the chains of a deleted service', async () => {
    const node = new FakeNftNode();
    const p = new NftablesProxier({ netns: NETNS, runner: node, nodeName: 'worker', nodeIP: '192.168.10.220', clusterCIDR: '10.10.0.0/16', minSyncIntervalMs: 0, staleChainDelayMs: 20 });
    try {
      await p.sync([svc('a', '10.96.0.20'), svc('b', '10.96.0.21')], [eps('a', ['10.10.0.5']), eps('b', ['10.10.1.6'])]);
      await p.sync([svc('a', '10.96.0.20')], [eps('a', ['10.10.0.5'])]);
      expect([...node.chains].filter((c) => c.includes('default/b/'))).toHaveLength(2);
      for (let i = 0; i < 100 && [...node.chains].some((c) => c.includes('default/b/')); i++) await new Promise((r) => setTimeout(r, 10));
      expect([...node.chains].filter((c) => c.includes('default/b/'))).toEqual([]);
      expect([...node.chains].filter((c) => c.includes('default/a/'))).toHaveLength(2);
    } finally {
      p.close();
    }
  });
});
