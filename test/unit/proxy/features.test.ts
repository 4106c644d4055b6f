// The Service features the lab needs, beyond kube-proxy's own test cases:
// named target ports, LoadBalancer without a cloud provider, affinity
// timeouts, UDP, multiple ports, and the EndpointSlice details kube-proxy
// relies on (named ports, address types, service-name label, readiness).
import { describe, expect, it } from 'vitest';
import { renderIptablesRestore } from '../../../src/proxy/iptables.js';
import { servicePorts, endpointsOfSlices, keyOf } from '../../../src/proxy/model.js';
import { checkRuleJumps, fakeProxierConfig, makeService, makeSlice, runFlows, testExternalClient, testNodeIP } from './upstream.js';

const render = (...args: Parameters<typeof renderIptablesRestore>) => {
  const r = renderIptablesRestore(...args);
  expect(checkRuleJumps(r)).toEqual([]);
  return r;
};
const cfg = fakeProxierConfig();
const flows = (restore: string, fs: Parameters<typeof runFlows>[1]) => {
  for (const f of runFlows(restore, fs)) expect(f.got, f.name).toBe(f.want);
};

describe('lab features', () => {
  it('resolves a named targetPort through the EndpointSlice port of the same name, per port', () => {
    const svc = makeService('default', 'web', {
      clusterIP: '172.30.0.50',
      ports: [
        { name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' },
        { name: 'metrics', port: 9090, targetPort: 'prom', protocol: 'TCP' },
      ],
    });
    const slice = makeSlice('default', 'web', 1, [{ ip: '10.180.0.7' }, { ip: '10.180.0.8' }], [
      { name: 'http', port: 8080 },
      { name: 'metrics', port: 9100 },
    ]);
    const restore = render([svc], [slice], cfg);
    flows(restore, [
      { name: 'http', sourceIP: '10.0.0.2', destIP: '172.30.0.50', destPort: 80, output: '10.180.0.7:8080, 10.180.0.8:8080' },
      { name: 'metrics', sourceIP: '10.0.0.2', destIP: '172.30.0.50', destPort: 9090, output: '10.180.0.7:9100, 10.180.0.8:9100' },
    ]);
    expect(restore).toContain('"default/web:http cluster IP"');
    expect(restore).toContain('"default/web:metrics -> 10.180.0.8:9100"');
  });

  it('treats a LoadBalancer without ingress IPs as a NodePort service', () => {
    const svc = makeService('default', 'lb', {
      type: 'LoadBalancer',
      clusterIP: '172.30.0.51',
      ports: [{ port: 80, protocol: 'TCP', nodePort: 31000 }],
      loadBalancerSourceRanges: ['203.0.113.0/25'],
    }, { loadBalancer: {} });
    const restore = render([svc], [makeSlice('default', 'lb', 1, [{ ip: '10.180.0.9' }], [{ name: '', port: 80 }])], cfg);
    expect(restore).not.toContain('loadbalancer IP');
    expect(restore).not.toContain('KUBE-FW-');
    flows(restore, [{ name: 'NodePort', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 31000, output: '10.180.0.9:80', masq: true }]);
  });

  it('uses the affinity timeout of the Service, 10800 s by default', () => {
    const mk = (name: string, extra: Record<string, unknown>) =>
      makeService('default', name, { clusterIP: `172.30.0.${name === 'a' ? 60 : 61}`, sessionAffinity: 'ClientIP', ports: [{ port: 80, protocol: 'TCP' }], ...extra });
    const restore = render(
      [mk('a', {}), mk('b', { sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })],
      [makeSlice('default', 'a', 1, [{ ip: '10.180.0.10' }], [{ name: '', port: 80 }]), makeSlice('default', 'b', 1, [{ ip: '10.180.0.11' }], [{ name: '', port: 80 }])],
      cfg,
    );
    expect(restore).toMatch(/"default\/a -> 10\.180\.0\.10:80" -m recent --name KUBE-SEP-\S+ --rcheck --seconds 10800 --reap/);
    expect(restore).toMatch(/"default\/b -> 10\.180\.0\.11:80" -m recent --name KUBE-SEP-\S+ --rcheck --seconds 60 --reap/);
  });

  it('handles UDP services (kube-dns style) with udp matches', () => {
    const svc = makeService('kube-system', 'kube-dns', {
      clusterIP: '10.96.0.10',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    });
    const slice = makeSlice('kube-system', 'kube-dns', 1, [{ ip: '10.10.0.3' }], [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
    ]);
    const restore = render([svc], [slice], { ...cfg, clusterCIDR: '10.10.0.0/16' });
    expect(restore).toContain('-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU');
    expect(restore).toContain('-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 53 -j KUBE-SVC-ERIFXISQEP7F7OF4');
  });

  it('ignores slice ports without a name (nil in the API), without a number, or of another protocol', () => {
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 's-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 's' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.180.0.1'] }],
      ports: [{ port: 80 }, { name: '', protocol: 'TCP' }, { name: '', port: 81, protocol: 'UDP' }],
    };
    const eps = endpointsOfSlices([slice], 'n');
    expect([...eps.keys()]).toEqual([keyOf({ namespace: 'default', name: 's', port: '', protocol: 'UDP' })]);
  });

  it('ignores FQDN slices, IPv6 addresses and slices without the service-name label', () => {
    const base = makeSlice('default', 's', 1, [{ ip: '10.180.0.1' }], [{ name: '', port: 80 }]);
    expect(endpointsOfSlices([{ ...base, addressType: 'FQDN' }], 'n').size).toBe(0);
    expect(endpointsOfSlices([{ ...base, endpoints: [{ addresses: ['fd00::1'] }] }], 'n').size).toBe(0);
    expect(endpointsOfSlices([{ ...base, metadata: { name: 'x', namespace: 'default' } }], 'n').size).toBe(0);
    expect(endpointsOfSlices([base], 'n').get(keyOf({ namespace: 'default', name: 's', port: '', protocol: 'TCP' }))?.[0]).toEqual({
      ip: '10.180.0.1', port: 80, endpoint: '10.180.0.1:80', isLocal: false, ready: true, serving: true, terminating: false,
    });
  });

  it('does not use endpoints that are not ready and not terminating+serving', () => {
    const svc = makeService('default', 's', { clusterIP: '172.30.0.70', ports: [{ port: 80, protocol: 'TCP' }] });
    const restore = render([svc], [makeSlice('default', 's', 1, [{ ip: '10.180.0.1', ready: false, serving: true, terminating: false }], [{ name: '', port: 80 }])], cfg);
    expect(restore).toContain('"default/s has no endpoints"');
  });

  it('sorts endpoints by their "ip:port" string, as kube-proxy does', () => {
    const svc = makeService('default', 's', { clusterIP: '172.30.0.71', ports: [{ port: 80, protocol: 'TCP' }] });
    const restore = render([svc], [makeSlice('default', 's', 1, [{ ip: '10.0.0.9' }, { ip: '10.0.0.10' }, { ip: '10.0.0.1' }], [{ name: '', port: 80 }])], cfg);
    const order = [...restore.matchAll(/"default\/s -> ([\d.:]+)"/g)].map((m) => m[1]);
    expect(order).toEqual(['10.0.0.10:80', '10.0.0.1:80', '10.0.0.9:80']);
    expect(restore).toContain('"default/s -> 10.0.0.10:80" -m statistic --mode random --probability 0.3333333333 -j');
    expect(restore).toContain('"default/s -> 10.0.0.1:80" -m statistic --mode random --probability 0.5000000000 -j');
  });

  it('reads ServicePorts like kube-proxy: unnamed port, protocol default, IPv4 only', () => {
    const sps = servicePorts(makeService('default', 'ngx-svc', { clusterIP: '10.96.240.115', ports: [{ port: 80, targetPort: 80 }] }));
    expect(sps.map((s) => [s.spn, s.protocol, s.portNumber])).toEqual([['default/ngx-svc', 'TCP', 80]]);
    expect(servicePorts(makeService('default', 'v6', { clusterIP: 'fd00::10', ports: [{ port: 80 }] }))).toEqual([]);
    expect(servicePorts(makeService('default', 'none', { clusterIP: '', ports: [{ port: 80 }] }))).toEqual([]);
  });
});
