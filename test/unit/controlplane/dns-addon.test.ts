import { describe, expect, it } from 'vitest';
import { planTopology } from '../../../src/plan/topology.js';
import { corednsDeployment, kubeDnsService } from '../../../src/controlplane/dns-addon.js';
import { dnsmasqArgv, nodeResolvConf, resolverHosts, startResolverHosts } from '../../../src/controlplane/resolver-hosts.js';
import { RecordingLauncher } from '../../../src/sys/launcher-fake.js';
import { courseLab, host, nic } from '../../helpers/labs.js';

describe('the DNS add-on kubeadm installs', () => {
  it('is a 2-replica coredns Deployment with dnsPolicy Default and readiness on :8181/ready', () => {
    const d = corednsDeployment() as unknown as {
      metadata: { namespace: string };
      spec: { replicas: number; template: { spec: { dnsPolicy: string; containers: Array<{ readinessProbe: unknown; ports: unknown[] }> } } };
    };
    expect(d.metadata.namespace).toBe('kube-system');
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.dnsPolicy).toBe('Default');
    expect(d.spec.template.spec.containers[0]?.readinessProbe).toEqual({ httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' } });
  });

  it('puts kube-dns at the address kubelets use, with dns, dns-tcp and metrics ports', () => {
    const s = kubeDnsService('10.96.0.10') as unknown as { spec: { clusterIP: string; ports: Array<{ name: string; port: number; protocol: string }> } };
    expect(s.spec.clusterIP).toBe('10.96.0.10');
    expect(s.spec.ports.map((p) => `${p.name} ${p.port}/${p.protocol}`)).toEqual(['dns 53/UDP', 'dns-tcp 53/TCP', 'metrics 9153/TCP']);
  });
});

describe('a host playing the outside resolver', () => {
  const spec = courseLab();
  const withResolver = { ...spec, hosts: [...spec.hosts, host('resolver', [nic('lan', '192.168.10.53')], { 'example.com': '203.0.113.10' })] };

  it('gives the nodes a resolv.conf pointing at it, or none without one', () => {
    expect(nodeResolvConf({ spec: withResolver, plan: planTopology(withResolver) })).toBe('nameserver 192.168.10.53\n');
    expect(nodeResolvConf({ spec, plan: planTopology(spec) })).toBe('');
  });

  it('runs dnsmasq in its netns answering only its records, reading no files', () => {
    const [r] = resolverHosts({ spec: withResolver, plan: planTopology(withResolver) });
    expect(r).toBeDefined();
    const argv = dnsmasqArgv(r!);
    expect(argv.slice(0, 5)).toEqual(['ip', 'netns', 'exec', r!.netns, 'dnsmasq']);
    expect(argv).toContain('--no-resolv');
    expect(argv).toContain('--conf-file=/dev/null');
    expect(argv).toContain('--listen-address=192.168.10.53');
    expect(argv).toContain('--host-record=example.com,203.0.113.10');
  });

  it('starts one dnsmasq per resolver host through the launcher, logs its stderr and an unexpected exit, and stops it with SIGTERM', async () => {
    const launcher = new RecordingLauncher();
    const lines: string[] = [];
    const running = startResolverHosts({ spec: withResolver, plan: planTopology(withResolver), createdAt: '' }, launcher, (l) => lines.push(l));
    expect(launcher.processes.map((p) => p.argv)).toEqual([dnsmasqArgv(resolverHosts({ spec: withResolver, plan: planTopology(withResolver) })[0]!)]);
    const [p] = launcher.processes;
    expect(p?.opts.stdio).toEqual(['ignore', 'pipe', 'pipe']);
    p?.stderr?.emit('data', Buffer.from('dnsmasq: started\n'));
    running.stop();
    expect(p?.signals).toEqual(['SIGTERM']);
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual(['resolver resolver: dnsmasq: started']);
    const again = new RecordingLauncher();
    startResolverHosts({ spec: withResolver, plan: planTopology(withResolver), createdAt: '' }, again, (l) => lines.push(l));
    again.processes[0]?.end(1);
    await new Promise((r) => setImmediate(r));
    expect(lines.at(-1)).toBe('resolver resolver: dnsmasq exited (1)');
  });
});
