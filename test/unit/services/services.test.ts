import { describe, expect, it } from 'vitest';
import { ObjectStore } from '../../../src/api/store.js';
import type { KubeObject } from '../../../src/api/types.js';
import { ClusterIPAllocator, NodePortAllocator } from '../../../src/services/allocators.js';
import { installServiceAdmission } from '../../../src/services/admission.js';
import { computeEndpoints, endpointSubsets, startEndpointControllers } from '../../../src/services/endpoints.js';
import { ipToNumber } from '../../../src/labfile/ipv4.js';

function store(): ObjectStore {
  const s = new ObjectStore();
  s.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  installServiceAdmission(s, { serviceCIDR: '10.96.0.0/12', nodePortRange: { base: 30000, size: 2768 } });
  return s;
}

const svc = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { selector: { app: 'ngx-dep' }, ports: [{ port: 80, targetPort: 80 }], ...spec },
});

const pod = (name: string, ip: string, ready: boolean, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'ngx-dep' }, ...extra },
  spec: { nodeName: ip.startsWith('10.10.0.') ? 'master' : 'worker', containers: [{ name: 'nginx', image: 'nginx:alpine', ports: [{ name: 'http', containerPort: 80 }] }] },
  status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('allocators', () => {
  it('give dynamic ClusterIPs from above the static band and honour requests anywhere', () => {
    const a = new ClusterIPAllocator('10.96.0.0/12', () => 0);
    expect(a.allocate('10.96.0.1')).toBe('ok');
    expect(a.allocate('10.96.0.1')).toBe('taken');
    expect(a.allocate('10.0.0.1')).toBe('out-of-range');
    // Static band of a /12: 256 addresses, so the first dynamic one is 10.96.1.1.
    expect(a.allocateNext()).toBe('10.96.1.1');
    const r = new ClusterIPAllocator('10.96.0.0/12');
    for (let i = 0; i < 50; i++) expect(ipToNumber(r.allocateNext() ?? '')).toBeGreaterThanOrEqual(ipToNumber('10.96.1.1'));
  });

  it('give dynamic NodePorts from 30086 up, and requested ones from the whole range', () => {
    const p = new NodePortAllocator(30000, 2768, () => 0);
    expect(p.allocateNext()).toBe(30086);
    expect(p.allocate(30080)).toBe('ok');
    expect(p.allocate(80)).toBe('out-of-range');
  });
});

describe('Service admission', () => {
  it('allocates a ClusterIP, keeps it on update, refuses a taken one with the upstream message', () => {
    const s = store();
    const a = s.create('services', svc('a', {}));
    const ip = (a['spec'] as { clusterIP: string }).clusterIP;
    expect(ip).toMatch(/^10\.(9[6-9]|10\d|11[01])\./);
    const again = s.update('services', { ...a, spec: { ...(a['spec'] as object), clusterIP: '' } });
    expect((again['spec'] as { clusterIP: string }).clusterIP).toBe(ip);
    expect(() => s.create('services', svc('b', { clusterIP: ip }))).toThrow(
      `Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"${ip}"}: failed to allocate IP ${ip}: provided IP is already allocated`,
    );
  });

  it('allocates NodePorts for NodePort, on a patch from ClusterIP, and releases them going back', () => {
    const s = store();
    const a = s.create('services', svc('a', {}));
    const np = s.update('services', { ...a, spec: { ...(a['spec'] as object), type: 'NodePort' } });
    const port = (np['spec'] as { ports: Array<{ nodePort: number }> }).ports[0]?.nodePort ?? 0;
    expect(port).toBeGreaterThanOrEqual(30086);
    expect(port).toBeLessThanOrEqual(32767);
    expect(() => s.create('services', svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }))).toThrow(
      `spec.ports[0].nodePort: Invalid value: ${port}: provided port is already allocated`,
    );
    expect(() => s.create('services', svc('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }))).toThrow(
      'provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
    const back = s.update('services', { ...np, spec: { ...(np['spec'] as object), type: 'ClusterIP' } });
    expect((back['spec'] as { ports: Array<{ nodePort?: number }> }).ports[0]?.nodePort).toBeUndefined();
    expect(s.create('services', svc('d', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }))).toBeDefined();
  });

  it('gives headless and ExternalName Services no address', () => {
    const s = store();
    expect((s.create('services', svc('h', { clusterIP: 'None' }))['spec'] as { clusterIP: string }).clusterIP).toBe('None');
    const ext = s.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
    expect((ext['spec'] as { clusterIP?: string }).clusterIP).toBeUndefined();
  });
});

describe('endpoints', () => {
  it('list ready pods as addresses and not-ready ones apart, by IP', () => {
    const groups = computeEndpoints(svc('ngx-svc', {}), [pod('b', '10.10.1.7', true), pod('a', '10.10.0.5', true), pod('c', '10.10.0.9', false)]);
    const [subset] = endpointSubsets(groups) as Array<{ addresses: Array<{ ip: string }>; notReadyAddresses: Array<{ ip: string }> }>;
    expect(subset?.addresses.map((a) => a.ip)).toEqual(['10.10.0.5', '10.10.1.7']);
    expect(subset?.notReadyAddresses.map((a) => a.ip)).toEqual(['10.10.0.9']);
  });

  it('resolve a named targetPort per pod and leave out terminating pods', () => {
    const groups = computeEndpoints(svc('s', { ports: [{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }] }), [
      pod('a', '10.10.0.5', true),
      pod('t', '10.10.0.6', true, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    ]);
    expect(groups[0]?.ports).toEqual([{ name: 'web', port: 80, protocol: 'TCP' }]);
    expect(endpointSubsets(groups)[0]).toMatchObject({ addresses: [{ ip: '10.10.0.5' }] });
    expect(groups[0]?.endpoints.find((e) => e.ip === '10.10.0.6')).toMatchObject({ ready: false, terminating: true });
  });

  it('follow pods at once through the controller', async () => {
    const s = store();
    const c = startEndpointControllers(s);
    try {
      s.create('services', svc('ngx-svc', {}));
      // As the kubelet does: the apiserver drops status on create, the kubelet reports it.
      for (const p of [pod('a', '10.10.0.5', true), pod('b', '10.10.1.7', true)]) {
        const created = s.create('pods', p);
        s.update('pods', { ...created, status: p['status'] }, { subresource: 'status' });
      }
      const until = async (want: string) => {
        const deadline = Date.now() + 2000;
        for (;;) {
          const ep = s.find('endpoints', 'default', 'ngx-svc');
          const ips = ((ep?.['subsets'] as Array<{ addresses?: Array<{ ip: string }> }> | undefined) ?? []).flatMap((x) => x.addresses ?? []).map((a) => a.ip).join(',');
          if (ips === want) return;
          if (Date.now() > deadline) throw new Error(`endpoints ${ips}, wanted ${want}`);
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      await until('10.10.0.5,10.10.1.7');
      s.delete('pods', 'default', 'a', { gracePeriodSeconds: 0 });
      await until('10.10.1.7');
      const slices = s.list('endpointslices.discovery.k8s.io', { labelSelector: 'kubernetes.io/service-name=ngx-svc' }).items;
      expect(slices).toHaveLength(1);
      expect(slices[0]?.['ports']).toEqual([{ name: '', port: 80, protocol: 'TCP' }]);
    } finally {
      c.stop();
    }
  });
});
