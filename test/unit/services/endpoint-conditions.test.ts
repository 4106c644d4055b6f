// EndpointSlice conditions and core/v1 Endpoints for pods on their way out,
// as the endpointslice and endpoints controllers write them
// (podToEndpoint, ShouldPodBeInEndpoints, addEndpointSubset).
import { describe, expect, it } from 'vitest';
import { ObjectStore } from '../../../src/api/store.js';
import type { KubeObject } from '../../../src/api/types.js';
import { installServiceAdmission } from '../../../src/services/admission.js';
import { computeEndpoints, endpointSubsets, sliceEndpoints, startEndpointControllers } from '../../../src/services/endpoints.js';

const svc = (extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }], ...extra },
});

const pod = (name: string, ip: string, o: { ready?: boolean; terminating?: boolean; phase?: string } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' }, ...(o.terminating ? { deletionTimestamp: '2026-01-01T00:00:30Z', deletionGracePeriodSeconds: 30 } : {}) },
  spec: { nodeName: 'worker', containers: [{ name: 'nginx', image: 'nginx' }] },
  status: { phase: o.phase ?? 'Running', podIP: ip, conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

const conditionsByIP = (groups: ReturnType<typeof computeEndpoints>) =>
  Object.fromEntries(groups.flatMap((g) => sliceEndpoints(g)).map((e) => [(e['addresses'] as string[])[0], e['conditions']]));

describe('endpoints of terminating pods', () => {
  it('stay in the slice, not ready, serving as long as the pod is Ready, and terminating', () => {
    const groups = computeEndpoints(svc(), [
      pod('a', '10.10.1.2'),
      pod('b', '10.10.1.3', { terminating: true }),
      pod('c', '10.10.1.4', { terminating: true, ready: false }),
    ]);
    expect(conditionsByIP(groups)).toEqual({
      '10.10.1.2': { ready: true, serving: true, terminating: false },
      '10.10.1.3': { ready: false, serving: true, terminating: true },
      '10.10.1.4': { ready: false, serving: false, terminating: true },
    });
    // core/v1 Endpoints has no terminating condition: it leaves them out.
    expect(endpointSubsets(groups)).toEqual([{ addresses: [expect.objectContaining({ ip: '10.10.1.2' })], ports: [{ port: 80, protocol: 'TCP' }] }]);
  });

  it('with publishNotReadyAddresses: ready even while terminating, and serving still says whether the pod is Ready', () => {
    const groups = computeEndpoints(svc({ publishNotReadyAddresses: true }), [
      pod('a', '10.10.1.2', { ready: false }),
      pod('b', '10.10.1.3', { terminating: true }),
    ]);
    expect(conditionsByIP(groups)).toEqual({
      '10.10.1.2': { ready: true, serving: false, terminating: false },
      '10.10.1.3': { ready: true, serving: true, terminating: true },
    });
    const [subset] = endpointSubsets(groups) as Array<{ addresses?: Array<{ ip: string }>; notReadyAddresses?: unknown[] }>;
    expect(subset?.addresses?.map((a) => a.ip)).toEqual(['10.10.1.2', '10.10.1.3']);
    expect(subset?.notReadyAddresses).toBeUndefined();
  });

  it('leave out pods that have finished (Succeeded or Failed), even with an IP', () => {
    const groups = computeEndpoints(svc(), [pod('a', '10.10.1.2'), pod('done', '10.10.1.3', { phase: 'Succeeded' }), pod('dead', '10.10.1.4', { phase: 'Failed', ready: false })]);
    expect(Object.keys(conditionsByIP(groups))).toEqual(['10.10.1.2']);
  });

  it('through the controllers: a gracefully deleted pod stays in its slice as terminating until the kubelet removes it', async () => {
    const s = new ObjectStore();
    s.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    installServiceAdmission(s, { serviceCIDR: '10.96.0.0/12', nodePortRange: { base: 30000, size: 2768 } });
    const c = startEndpointControllers(s);
    try {
      s.create('services', svc());
      for (const p of [pod('a', '10.10.1.2'), pod('b', '10.10.1.3')]) {
        const created = s.create('pods', p);
        s.update('pods', { ...created, status: p['status'] }, { subresource: 'status' });
      }
      const slice = () => s.list('endpointslices.discovery.k8s.io', { namespace: 'default' }).items[0];
      const settle = async (want: (x: KubeObject | undefined) => boolean) => {
        const deadline = Date.now() + 2000;
        while (!want(slice())) {
          if (Date.now() > deadline) throw new Error(`slice never settled: ${JSON.stringify(slice()?.['endpoints'])}`);
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      const byIP = (x: KubeObject | undefined) =>
        Object.fromEntries(((x?.['endpoints'] ?? []) as Array<{ addresses: string[]; conditions: unknown }>).map((e) => [e.addresses[0], e.conditions]));
      await settle((x) => Object.keys(byIP(x)).length === 2);
      // kubectl delete pod b: graceful, the pod object stays (Terminating) until the kubelet is done.
      s.delete('pods', 'default', 'b');
      await settle((x) => (byIP(x)['10.10.1.3'] as { terminating?: boolean } | undefined)?.terminating === true);
      expect(byIP(slice())).toEqual({
        '10.10.1.2': { ready: true, serving: true, terminating: false },
        '10.10.1.3': { ready: false, serving: true, terminating: true },
      });
      expect(s.get('endpoints', 'default', 'web')['subsets']).toEqual([expect.objectContaining({ addresses: [expect.objectContaining({ ip: '10.10.1.2' })] })]);
      // The kubelet, once the containers stopped: delete with grace 0.
      s.delete('pods', 'default', 'b', { gracePeriodSeconds: 0 });
      await settle((x) => Object.keys(byIP(x)).length === 1);
    } finally {
      c.stop();
    }
  });
});
