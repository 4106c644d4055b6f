// The ipvs renderer against kube-proxy's own expectations
// (pkg/proxy/ipvs/proxier_test.go TestNodePortIPv4, TestSessionAffinity,
// ipsetInfo/ipsetWithIptablesChain/writeIptablesRules in proxier.go): the
// virtual servers with their real servers, the ipset entries, and per chain
// the rules' jump target, matched set and source, as upstream's
// checkIptables compares them. Plus a byte golden of the course's Service.
import { describe, expect, it } from 'vitest';
import { buildProxyState } from '../../../src/proxy/iptables.js';
import { formatIpvsRender, renderIpvs, type IpvsProxyConfig, type IpvsRender } from '../../../src/proxy/ipvs.js';
import { expectGolden } from '../../helpers/golden.js';
import { makeService, makeSlice, type Ep } from './upstream.js';

const NODE = 'test-hostname';
const cfg = (over: Partial<IpvsProxyConfig> = {}): IpvsProxyConfig => ({ nodeName: NODE, nodeIPs: ['100.101.102.103'], clusterCIDR: '10.0.0.0/24', ...over });

function nodePortSvc(protocol: string, eps: Ep[]): { svc: ReturnType<typeof makeService>; slices: ReturnType<typeof makeSlice>[] } {
  return {
    svc: makeService('ns1', 'svc1', { type: 'NodePort', clusterIP: '10.20.30.41', ports: [{ name: 'p80', port: 80, protocol, nodePort: 3001 }] }),
    slices: eps.length ? [makeSlice('ns1', 'svc1', 1, eps, [{ name: 'p80', port: 80, protocol }])] : [],
  };
}

function render(protocol: string, eps: Ep[], c: IpvsProxyConfig = cfg()): IpvsRender {
  const { svc, slices } = nodePortSvc(protocol, eps);
  return renderIpvs(buildProxyState([svc], slices, NODE), c);
}

/** Upstream's ipvstest.FakeIPVS view: "PROTO ip:port scheduler" → real servers "ip:port weight". */
function ipvsView(r: IpvsRender): Record<string, string[]> {
  return Object.fromEntries(r.virtualServers.map((vs) => [`${vs.protocol} ${vs.address}:${vs.port} ${vs.scheduler}`, vs.realServers.map((rs) => `${rs.ip}:${rs.port} ${rs.weight}`)]));
}

function setsView(r: IpvsRender): Record<string, string[]> {
  return Object.fromEntries(r.ipsets.filter((s) => s.entries.length > 0).map((s) => [s.name, s.entries]));
}

/** netlinktest.ExpectedIptablesChain: chain → [{JumpChain, MatchSet, SourceAddress}] over both tables. */
function chainsView(restore: string): Record<string, Array<{ jump: string; set: string; src?: string }>> {
  const out: Record<string, Array<{ jump: string; set: string; src?: string }>> = {};
  for (const line of restore.split('\n')) {
    const m = /^-A (\S+) /.exec(line);
    if (!m?.[1]) continue;
    const src = /(?:^| )-s (\S+)/.exec(line)?.[1];
    const rule = { jump: /-j (\S+)/.exec(line)?.[1] ?? '', set: /--match-set (\S+)/.exec(line)?.[1] ?? '', ...(src && !line.includes('! -s') ? { src } : {}) };
    (out[m[1]] ??= []).push(rule);
  }
  return out;
}

describe('ipvs renderer vs kube-proxy TestNodePortIPv4', () => {
  it('1 service with node port, has 2 endpoints (the IPv4 half)', () => {
    const r = render('TCP', [{ ip: '10.180.0.1' }]);
    expect(ipvsView(r)).toEqual({
      'TCP 10.20.30.41:80 rr': ['10.180.0.1:80 1'],
      'TCP 100.101.102.103:3001 rr': ['10.180.0.1:80 1'],
    });
  });

  it('1 UDP service with node port, has endpoints: ipsets and iptables chains', () => {
    const r = render('UDP', [{ ip: '10.180.0.1' }]);
    expect(ipvsView(r)).toEqual({
      'UDP 10.20.30.41:80 rr': ['10.180.0.1:80 1'],
      'UDP 100.101.102.103:3001 rr': ['10.180.0.1:80 1'],
    });
    expect(setsView(r)['KUBE-NODE-PORT-UDP']).toEqual(['3001']);
    const chains = chainsView(r.restore);
    expect(chains['KUBE-NODE-PORT']).toEqual([
      { jump: 'KUBE-MARK-MASQ', set: 'KUBE-NODE-PORT-UDP' },
      { jump: 'ACCEPT', set: 'KUBE-HEALTH-CHECK-NODE-PORT' },
    ]);
    expect(chains['KUBE-SERVICES']).toEqual([
      { jump: 'RETURN', set: '', src: '127.0.0.0/8' },
      { jump: 'KUBE-MARK-MASQ', set: 'KUBE-CLUSTER-IP' },
      { jump: 'KUBE-NODE-PORT', set: '' },
      { jump: 'ACCEPT', set: 'KUBE-CLUSTER-IP' },
    ]);
  });

  it('service has node port but no endpoints: virtual servers without real servers', () => {
    expect(ipvsView(render('TCP', []))).toEqual({ 'TCP 10.20.30.41:80 rr': [], 'TCP 100.101.102.103:3001 rr': [] });
  });

  it('node port service with protocol sctp on a node with multiple nodeIPs', () => {
    const r = render('SCTP', [{ ip: '10.180.0.1' }], cfg({ nodeIPs: ['100.101.102.103', '100.101.102.104', '100.101.102.105'] }));
    expect(Object.keys(ipvsView(r))).toEqual(['SCTP 10.20.30.41:80 rr', 'SCTP 100.101.102.103:3001 rr', 'SCTP 100.101.102.104:3001 rr', 'SCTP 100.101.102.105:3001 rr']);
    expect(setsView(r)['KUBE-NODE-PORT-SCTP-HASH']).toEqual(['100.101.102.103,sctp:3001', '100.101.102.104,sctp:3001', '100.101.102.105,sctp:3001']);
  });
});

describe('ipvs renderer: what kube-proxy sets beside the ports', () => {
  it('ClientIP affinity is persistence with its timeout (TestSessionAffinity); mh gets the source-hash flag', () => {
    const svc = makeService('ns1', 'svc1', { clusterIP: '10.20.30.41', sessionAffinity: 'ClientIP', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] });
    const r = renderIpvs(buildProxyState([svc], [], NODE), cfg({ scheduler: 'mh' }));
    expect(r.virtualServers).toMatchObject([{ address: '10.20.30.41', persistentTimeout: 10800, scheduler: 'mh', sourceHash: true }]);
    expect(formatIpvsRender(r)).toContain('-A -t 10.20.30.41:80 -s mh -b mh-port -p 10800\n');
  });

  it('every ClusterIP is bound to kube-ipvs0 and listed in KUBE-IPVS-IPS; the filter rejects other NEW traffic to them', () => {
    const r = render('TCP', [{ ip: '10.180.0.1', node: NODE }]);
    expect(r.boundAddresses).toEqual(['10.20.30.41']);
    expect(setsView(r)['KUBE-IPVS-IPS']).toEqual(['10.20.30.41']);
    expect(setsView(r)['KUBE-LOOP-BACK']).toEqual(['10.180.0.1,tcp:80,10.180.0.1']);
    expect(r.restore).toContain('-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT\n');
    expect(r.restore).toContain('-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE\n');
    expect(r.sysctls.map((s) => s.key)).toEqual(['net.ipv4.vs.conntrack', 'net.ipv4.vs.expire_nodest_conn', 'net.ipv4.vs.expire_quiescent_template', 'net.ipv4.ip_forward']);
  });

  it('an externalIP already on a node interface is not bound to the dummy', () => {
    const svc = makeService('ns1', 'svc1', { clusterIP: '10.20.30.41', externalIPs: ['100.101.102.103', '50.60.70.81'], ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] });
    const r = renderIpvs(buildProxyState([svc], [], NODE), cfg());
    expect(r.boundAddresses).toEqual(['10.20.30.41', '50.60.70.81']);
    expect(setsView(r)['KUBE-EXTERNAL-IP']).toEqual(['100.101.102.103,tcp:80', '50.60.70.81,tcp:80']);
  });

  it("the course's ngx-svc NodePort Service with two pods (golden)", () => {
    const svc = makeService('default', 'ngx-svc', { type: 'NodePort', clusterIP: '10.96.0.110', ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30080 }] });
    const dns = makeService('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] });
    const slices = [
      makeSlice('default', 'ngx-svc', 1, [{ ip: '10.10.1.2', node: 'worker' }, { ip: '10.10.0.2', node: 'master' }], [{ port: 80 }]),
      makeSlice('kube-system', 'kube-dns', 1, [{ ip: '10.10.0.3', node: 'master' }], [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }]),
    ];
    const r = renderIpvs(buildProxyState([svc, dns], slices, 'worker'), { nodeName: 'worker', nodeIPs: ['192.168.10.220', '10.10.1.1'], nodeIP: '192.168.10.220', clusterCIDR: '10.10.0.0/16' });
    expectGolden('proxy/ipvs-course.txt', formatIpvsRender(r));
  });
});
