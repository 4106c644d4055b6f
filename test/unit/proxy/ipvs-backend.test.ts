// The ipvs applier through a recording runner: per sync one ipset restore,
// one ip -batch for kube-ipvs0, one ipvsadm --restore and one
// iptables-restore, each with only what changed; a pod that goes away is set
// to weight 0 while it has connections and deleted once they drained (TCP),
// at once for UDP; full syncs create the dummy, write the sysctls and the
// jump rules.
import { describe, expect, it } from 'vitest';
import { buildProxyState } from '../../../src/proxy/iptables.js';
import { IpvsBackend } from '../../../src/proxy/ipvs-backend.js';
import { RecordingRunner } from '../../../src/sys/runner.js';
import { makeService, makeSlice } from './upstream.js';

const NS = 'nslab-t.worker';
const svc = (protocol = 'TCP') =>
  makeService('default', 'web', { type: 'NodePort', clusterIP: '10.96.0.50', ports: [{ port: 80, protocol, nodePort: 30080 }] });
const slice = (ips: string[], protocol = 'TCP') => makeSlice('default', 'web', 1, ips.map((ip) => ({ ip, node: 'master' })), [{ port: 8080, protocol }]);

function setup(answers: { conns?: number } = {}) {
  const counters = { conns: answers.conns ?? 0 };
  const runner = new RecordingRunner((argv) => {
    const cmd = argv.slice(3).join(' ');
    if (cmd.startsWith('ip -o link show')) return { exitCode: 1 };
    if (cmd === 'ip -o -4 addr show') return { stdout: '1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet 192.168.10.220/24 brd 192.168.10.255 scope global eth0\n' };
    if (cmd === 'ipvsadm -Ln') {
      return { stdout: `TCP  10.96.0.50:80 rr\n  -> 10.10.0.5:8080               Masq    0      ${counters.conns}          0\n` };
    }
    return {};
  });
  const backend = new IpvsBackend({ netns: NS, runner, nodeName: 'worker', nodeIP: '192.168.10.220', clusterCIDR: '10.10.0.0/16' });
  const calls = () => runner.calls.splice(0).map((c) => ({ cmd: c.argv.slice(3).join(' '), input: c.input ?? '' }));
  return { backend, calls, counters };
}

const sync = (b: IpvsBackend, ips: string[], full: boolean, protocol = 'TCP') =>
  b.sync({ state: buildProxyState([svc(protocol)], [slice(ips, protocol)], 'worker'), full, changedServices: new Set(['default/web']) });

describe('ipvs backend', () => {
  it('first sync: dummy, sysctls, one transaction per tool with jump rules', async () => {
    const { backend, calls } = setup();
    const r = await sync(backend, ['10.10.0.5', '10.10.1.6'], true);
    expect(r.error).toBeUndefined();
    const c = calls();
    expect(c.map((x) => x.cmd)).toEqual([
      'ip -o link show dev kube-ipvs0',
      'ip link add kube-ipvs0 type dummy',
      'ipvsadm -Sn',
      'sysctl -q -w net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1 net.ipv4.ip_forward=1',
      'ip -o -4 addr show',
      'ip -o -4 addr show dev kube-ipvs0',
      'iptables-save',
      'ipset restore -exist',
      'ip -batch -',
      'ipvsadm --restore',
      'iptables-restore -w 5 -W 100000 --noflush --counters',
    ]);
    expect(c[8]?.input).toBe('address add 10.96.0.50/32 dev kube-ipvs0\n');
    expect(c[9]?.input).toBe(
      [
        '-A -t 10.96.0.50:80 -s rr',
        '-a -t 10.96.0.50:80 -r 10.10.0.5:8080 -m -w 1',
        '-a -t 10.96.0.50:80 -r 10.10.1.6:8080 -m -w 1',
        '-A -t 192.168.10.220:30080 -s rr',
        '-a -t 192.168.10.220:30080 -r 10.10.0.5:8080 -m -w 1',
        '-a -t 192.168.10.220:30080 -r 10.10.1.6:8080 -m -w 1',
        '',
      ].join('\n'),
    );
    expect(c[7]?.input).toContain('add KUBE-CLUSTER-IP 10.96.0.50,tcp:80\n');
    expect(c[7]?.input).toContain('add KUBE-NODE-PORT-TCP 30080\n');
    expect(c[10]?.input).toContain('-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n');
    expect(c[10]?.input).toContain('-I INPUT 1 -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER\n');
  });

  it('a removed TCP endpoint with connections goes to weight 0, and is deleted once drained; nothing else is rewritten', async () => {
    const { backend, calls, counters } = setup({ conns: 1 });
    await sync(backend, ['10.10.0.5', '10.10.1.6'], true);
    calls();
    await sync(backend, ['10.10.1.6'], false);
    const c = calls();
    expect(c.map((x) => x.cmd)).toEqual(['ipvsadm -Ln', 'ipvsadm --restore']);
    // The fake -Ln lists the ClusterIP server with a connection and not the NodePort one: both wait at weight 0.
    expect(c[1]?.input).toBe(
      ['-e -t 10.96.0.50:80 -r 10.10.0.5:8080 -m -w 0', '-e -t 192.168.10.220:30080 -r 10.10.0.5:8080 -m -w 0', ''].join('\n'),
    );
    expect(backend.hasPendingWork()).toBe(true);
    counters.conns = 0;
    await backend.sync({ state: buildProxyState([svc()], [slice(['10.10.1.6'])], 'worker'), full: false, changedServices: new Set() });
    const d = calls();
    expect(d.map((x) => x.cmd)).toEqual(['ipvsadm -Ln', 'ipvsadm --restore']);
    expect(d[1]?.input).toBe('-d -t 10.96.0.50:80 -r 10.10.0.5:8080\n');
  });

  it('a removed UDP endpoint is deleted at once', async () => {
    const { backend, calls } = setup({ conns: 1 });
    await sync(backend, ['10.10.0.5', '10.10.1.6'], true, 'UDP');
    calls();
    await sync(backend, ['10.10.1.6'], false, 'UDP');
    const c = calls();
    expect(c.map((x) => x.cmd)).toEqual(['ipvsadm --restore']);
    expect(c[0]?.input).toBe('-d -u 10.96.0.50:80 -r 10.10.0.5:8080\n-d -u 192.168.10.220:30080 -r 10.10.0.5:8080\n');
  });

  it('a deleted Service loses its virtual servers, its address and its set entries', async () => {
    const { backend, calls } = setup();
    await sync(backend, ['10.10.0.5'], true);
    calls();
    await backend.sync({ state: buildProxyState([], [], 'worker'), full: false, changedServices: new Set(['default/web']) });
    const byCmd = Object.fromEntries(calls().map((x) => [x.cmd.split(' ')[0], x.input]));
    expect(byCmd['ipvsadm']).toBe('-D -t 10.96.0.50:80\n-D -t 192.168.10.220:30080\n');
    expect(byCmd['ip']).toBe('address del 10.96.0.50/32 dev kube-ipvs0\n');
    expect(byCmd['ipset']).toContain('del KUBE-CLUSTER-IP 10.96.0.50,tcp:80\n');
  });
});
