// Pods on their way out, from the pod objects to a node's iptables rules:
// the endpoint controllers keep terminating pods in the slice (ready=false,
// serving, terminating), and kube-proxy uses only ready endpoints while any
// exists, else the serving terminating ones (CategorizeEndpoints, for the
// Cluster traffic policy as well since 1.28), else rejects.
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectStore } from '../../../src/api/store.js';
import { installServiceAdmission } from '../../../src/services/admission.js';
import { startEndpointControllers, type EndpointControllers } from '../../../src/services/endpoints.js';
import { IptablesProxier } from '../../../src/proxy/iptables-proxier.js';
import { FakeNode } from './fake-node.js';

const SLICES = 'endpointslices.discovery.k8s.io';

let stops: Array<() => void> = [];
afterEach(() => {
  for (const s of stops) s();
  stops = [];
});

function setup(): { store: ObjectStore; node: FakeNode; proxier: IptablesProxier } {
  const store = new ObjectStore();
  store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  installServiceAdmission(store, { serviceCIDR: '10.96.0.0/12', nodePortRange: { base: 30000, size: 2768 } });
  const controllers: EndpointControllers = startEndpointControllers(store);
  const node = new FakeNode();
  const proxier = new IptablesProxier({ netns: 'nslab-unit.node-worker', runner: node, nodeName: 'worker', clusterCIDR: '10.10.0.0/16', minSyncIntervalMs: 5 });
  const watches = ['services', SLICES].map((r) => store.watch(r, {}, (ev) => proxier.handleWatchEvent(ev)));
  stops.push(() => {
    for (const w of watches) w.stop();
    controllers.stop();
    proxier.close();
  });
  return { store, node, proxier };
}

function addPod(store: ObjectStore, name: string, ip: string, node: string): void {
  const created = store.create('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'web' } },
    spec: { nodeName: node, containers: [{ name: 'nginx', image: 'nginx' }] },
  });
  store.update('pods', { ...created, status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
}

function setReady(store: ObjectStore, name: string, ready: boolean): void {
  const p = store.get('pods', 'default', name);
  store.update('pods', { ...p, status: { ...(p['status'] as object), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }, { subresource: 'status' });
}

/** The endpoints the Service's chain balances over, as the node's nat table has them now; or REJECT. */
async function balanced(store: ObjectStore, node: FakeNode, proxier: IptablesProxier, want: string[] | 'REJECT'): Promise<void> {
  const deadline = Date.now() + 2000;
  let seen = '';
  for (;;) {
    await proxier.whenIdle();
    const nat = node.save('nat');
    const filter = node.save('filter');
    const eps = [...nat.matchAll(/"default\/web -> ([\d.:]+)"/g)].map((m) => m[1]).sort();
    const rejected = /"default\/web has no endpoints".*--dport 80 -j REJECT/.test(filter);
    seen = rejected ? 'REJECT' : eps.join(',');
    if (seen === (want === 'REJECT' ? 'REJECT' : want.join(','))) return;
    if (Date.now() > deadline) throw new Error(`rules balance over ${seen}, not ${String(want)}; slice: ${JSON.stringify(store.list(SLICES).items[0]?.['endpoints'])}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('terminating endpoints in the rules', () => {
  it('a rolling replacement: the terminating pod leaves the rules at once while a ready one is left', async () => {
    const { store, node, proxier } = setup();
    await proxier.sync([], []);
    store.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] } });
    addPod(store, 'a', '10.10.0.5', 'master');
    addPod(store, 'b', '10.10.1.6', 'worker');
    await balanced(store, node, proxier, ['10.10.0.5:80', '10.10.1.6:80']);
    store.delete('pods', 'default', 'a'); // graceful: Terminating, still Ready, still in the slice
    await balanced(store, node, proxier, ['10.10.1.6:80']);
    expect(store.list(SLICES).items[0]?.['endpoints']).toContainEqual(expect.objectContaining({ addresses: ['10.10.0.5'], conditions: { ready: false, serving: true, terminating: true } }));
  });

  it('scale to zero with preStop: while no pod is ready, the serving terminating ones keep the Service answering; then REJECT', async () => {
    const { store, node, proxier } = setup();
    await proxier.sync([], []);
    store.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] } });
    addPod(store, 'a', '10.10.0.5', 'master');
    addPod(store, 'b', '10.10.1.6', 'worker');
    await balanced(store, node, proxier, ['10.10.0.5:80', '10.10.1.6:80']);
    store.delete('pods', 'default', 'a');
    store.delete('pods', 'default', 'b');
    // Both terminating, both still serving (their preStop hooks run): cluster traffic still reaches them, NodePort too.
    await balanced(store, node, proxier, ['10.10.0.5:80', '10.10.1.6:80']);
    expect(node.save('nat')).toMatch(/-A KUBE-NODEPORTS .*--dport \d+ -j KUBE-EXT-/);
    // a's container stopped: its Ready condition went False, so it no longer serves.
    setReady(store, 'a', false);
    await balanced(store, node, proxier, ['10.10.1.6:80']);
    // b gone too (the kubelet removed the pod): nothing left, connections are refused.
    store.delete('pods', 'default', 'b', { gracePeriodSeconds: 0 });
    store.delete('pods', 'default', 'a', { gracePeriodSeconds: 0 });
    await balanced(store, node, proxier, 'REJECT');
  });
});
