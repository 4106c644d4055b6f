// IptablesProxier against a fake node: one iptables-restore per sync, nothing
// when nothing changed, bursts coalesced, full syncs that set the node up as
// kube-proxy does, and a restart that finds its old rules.
import { afterEach, describe, expect, it } from 'vitest';
import { IptablesProxier } from '../../../src/proxy/iptables-proxier.js';
import { renderIptablesRestore } from '../../../src/proxy/iptables.js';
import { FakeNode, kubeProxyPart } from './fake-node.js';
import { makeService, makeSlice } from './upstream.js';

const NETNS = 'nslab-unit.node-worker';
const cfg = { nodeName: 'worker', nodeIP: '192.168.10.220', clusterCIDR: '10.10.0.0/16' };
const svc = (name: string, ip: string, nodePort?: number) =>
  makeService('default', name, {
    type: nodePort ? 'NodePort' : 'ClusterIP',
    clusterIP: ip,
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80, ...(nodePort ? { nodePort } : {}) }],
  });
const eps = (name: string, ips: string[]) =>
  makeSlice('default', name, 1, ips.map((ip, i) => ({ ip, node: i % 2 ? 'worker' : 'master', ready: true })), [{ name: '', port: 80 }]);

let proxiers: IptablesProxier[] = [];
function make(node: FakeNode, extra: Record<string, unknown> = {}): IptablesProxier {
  const p = new IptablesProxier({ ...cfg, netns: NETNS, runner: node, minSyncIntervalMs: 20, ...extra });
  proxiers.push(p);
  return p;
}
afterEach(() => {
  for (const p of proxiers) p.close();
  proxiers = [];
});

const commands = (node: FakeNode) => node.calls.map((c) => c.argv.slice(3).join(' '));

describe('IptablesProxier', () => {
  it('first sync: iptables-save, nfacct counters, sysctls, then one iptables-restore in the node netns', async () => {
    const node = new FakeNode();
    const p = make(node);
    const r = await p.sync([svc('ngx-svc', '10.96.240.115')], [eps('ngx-svc', ['10.10.0.5', '10.10.1.6'])]);
    expect([r.applied, r.full, r.changedServices]).toEqual([true, true, ['default/ngx-svc']]);
    expect(commands(node)).toEqual([
      'iptables-save',
      'nfacct add ct_state_invalid_dropped_pkts',
      'nfacct add localhost_nps_accepted_pkts',
      'sysctl -q -w net.ipv4.conf.all.route_localnet=1',
      'iptables-restore -w 5 -W 100000 --noflush --counters',
    ]);
    expect(node.calls.at(-1)?.argv.slice(0, 3)).toEqual(['nsenter', `--net=/run/netns/${NETNS}`, '--']);
    const payload = node.restores[0] ?? '';
    expect(kubeProxyPart(payload)).toBe(
      renderIptablesRestore([svc('ngx-svc', '10.96.240.115')], [eps('ngx-svc', ['10.10.0.5', '10.10.1.6'])], {
        ...cfg,
        nfacct: { ctStateInvalidDropped: true, localhostNodePortsAccepted: true },
      }),
    );
    expect(payload).toContain('*mangle\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT\n');
    expect(payload).toContain('-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n');
    expect(node.sysctls.get('net.ipv4.conf.all.route_localnet')).toBe('1');
    expect(p.lastPayload).toBe(payload);
  });

  it('runs no command when nothing changed, and one partial restore for a change', async () => {
    const node = new FakeNode();
    const p = make(node);
    await p.sync([svc('a', '10.96.0.20'), svc('b', '10.96.0.21')], [eps('a', ['10.10.0.5']), eps('b', ['10.10.1.6'])]);
    const n = node.calls.length;
    // Same objects again, as fresh copies: nothing to do.
    let r = await p.sync([svc('a', '10.96.0.20'), svc('b', '10.96.0.21')], [eps('a', ['10.10.0.5']), eps('b', ['10.10.1.6'])]);
    expect([r.applied, node.calls.length]).toEqual([false, n]);
    r = await p.sync([svc('a', '10.96.0.20'), svc('b', '10.96.0.21')], [eps('a', ['10.10.0.5']), eps('b', ['10.10.1.7'])]);
    expect([r.applied, r.full, r.changedServices]).toEqual([true, false, ['default/b']]);
    expect(commands(node).slice(n)).toEqual(['iptables-restore -w 5 -W 100000 --noflush --counters']);
    const partial = node.restores.at(-1) ?? '';
    expect(partial).not.toContain('10.10.0.5'); // a's chains are not rewritten
    expect(partial).toMatch(/^-X KUBE-SEP-/m); // b's old endpoint chain goes
    expect(partial).not.toContain('*mangle');
  });

  it('coalesces a burst of events into one restore', async () => {
    const node = new FakeNode();
    const p = make(node);
    await p.sync([], []);
    const before = node.restores.length;
    for (let i = 0; i < 30; i++) {
      p.onServiceUpsert(svc(`s${i}`, `10.96.1.${i + 1}`));
      p.onEndpointSliceUpsert(eps(`s${i}`, [`10.10.0.${i + 2}`]));
    }
    await p.whenIdle();
    expect(node.restores.length - before).toBe(1);
    expect(node.restores.at(-1)?.match(/^-A KUBE-SERVICES .* cluster IP/gm)?.length).toBe(30);
  });

  it('follows watch events, including deletions', async () => {
    const node = new FakeNode();
    const p = make(node);
    await p.sync([], []);
    const s = svc('ngx-svc', '10.96.240.115', 30651);
    p.handleWatchEvent({ type: 'ADDED', object: s });
    p.handleWatchEvent({ type: 'ADDED', object: eps('ngx-svc', ['10.10.0.5']) });
    p.handleWatchEvent({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'default' } } });
    await p.whenIdle();
    expect(node.restores.at(-1)).toContain('--dport 30651 -j KUBE-EXT-');
    p.handleWatchEvent({ type: 'DELETED', object: eps('ngx-svc', ['10.10.0.5']) });
    await p.whenIdle();
    expect(node.restores.at(-1)).toContain('"default/ngx-svc has no endpoints"');
    expect(node.restores.at(-1)).toMatch(/^-X KUBE-SVC-/m);
    p.handleWatchEvent({ type: 'DELETED', object: s });
    await p.whenIdle();
    expect(node.restores.at(-1)).not.toContain('ngx-svc');
  });

  it('writes no nfacct matches when the node cannot have the counters', async () => {
    const node = new FakeNode();
    node.nfacctWorks = false;
    const p = make(node);
    await p.sync([svc('n', '10.96.0.30', 30080)], [eps('n', ['10.10.0.5'])]);
    const payload = node.restores[0] ?? '';
    expect(payload).not.toContain('nfacct');
    expect(payload).toContain('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n');
  });

  it('after a restart finds its rules: no duplicate jumps, leftover chains deleted', async () => {
    const node = new FakeNode();
    const first = make(node);
    await first.sync([svc('a', '10.96.0.20'), svc('b', '10.96.0.21')], [eps('a', ['10.10.0.5']), eps('b', ['10.10.1.6'])]);
    first.close();
    const second = make(node);
    const r = await second.sync([svc('a', '10.96.0.20')], [eps('a', ['10.10.0.5'])]);
    expect(r.full).toBe(true);
    const payload = node.restores.at(-1) ?? '';
    expect(payload).not.toContain('-I ');
    expect(r.deletedChains.length).toBe(2); // b's SVC and SEP
    const filter = node.save('filter');
    expect(filter.match(/^-A INPUT /gm)?.length).toBe(4);
    expect(filter.match(/^-A FORWARD /gm)?.length).toBe(4);
    expect(filter.match(/^-A OUTPUT /gm)?.length).toBe(3);
    expect(node.save('nat').match(/^-A (PREROUTING|OUTPUT|POSTROUTING) /gm)?.length).toBe(3);
  });

  it('retries a failed restore with a full sync', async () => {
    const node = new FakeNode();
    const p = make(node, { retryDelayMs: 10 });
    await p.sync([svc('a', '10.96.0.20')], [eps('a', ['10.10.0.5'])]);
    node.failNextRestores = 1;
    p.onEndpointSliceUpsert(eps('a', ['10.10.0.9']));
    await p.whenIdle();
    await new Promise((r) => setTimeout(r, 60));
    await p.whenIdle();
    const last = node.restores.at(-1) ?? '';
    expect(last).toContain('*mangle'); // a full sync
    expect(last).toContain('10.10.0.9:80');
  });

  it('refuses a netns name that is not a plain name', () => {
    expect(() => make(new FakeNode(), { netns: '../etc' })).toThrow(/invalid network namespace/);
    expect(() => make(new FakeNode(), { netns: 'a/b' })).toThrow(/invalid network namespace/);
  });
});
