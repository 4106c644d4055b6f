import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ObjectStore } from '../../../src/api/store.js';
import type { KubeObject } from '../../../src/api/types.js';
import { startWorkloadControllers, type WorkloadControllers } from '../../../src/workloads/controllers.js';

const DEP = YAML.parse(readFileSync(path.resolve(import.meta.dirname, '../../../../shared/reference/manifests/ngx-dep.yml'), 'utf8')) as KubeObject;

async function until<T>(fn: () => T | undefined, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function cluster(): ObjectStore {
  const store = new ObjectStore();
  store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  for (const name of ['master', 'worker']) {
    store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  }
  return store;
}

/** Plays the kubelet: every scheduled pod becomes Running and Ready. */
function fakeKubelet(store: ObjectStore): () => void {
  const w = store.watch('pods', {}, (ev) => {
    const pod = ev.object;
    const nodeName = (pod['spec'] as { nodeName?: string }).nodeName;
    if (ev.type === 'DELETED' || !nodeName) return;
    if (pod.metadata.deletionTimestamp) {
      setImmediate(() => store.delete('pods', 'default', pod.metadata.name ?? '', { gracePeriodSeconds: 0 }));
      return;
    }
    if ((pod['status'] as { phase?: string } | undefined)?.phase === 'Running') return;
    setImmediate(() => {
      const latest = store.find('pods', 'default', pod.metadata.name ?? '');
      if (latest) store.update('pods', { ...latest, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
    });
  });
  return () => w.stop();
}

describe('workload controllers', () => {
  let controllers: WorkloadControllers | undefined;
  let stopKubelet: (() => void) | undefined;
  afterEach(() => {
    controllers?.stop();
    stopKubelet?.();
  });

  it("run the course's Deployment: a ReplicaSet, 2 pods on 2 nodes, 2/2 available", async () => {
    const store = cluster();
    controllers = startWorkloadControllers(store);
    stopKubelet = fakeKubelet(store);
    store.create('deployments.apps', { ...DEP, metadata: { ...DEP.metadata, namespace: 'default' } });
    const pods = await until(() => {
      const items = store.list('pods', { namespace: 'default' }).items;
      return items.length === 2 && items.every((p) => (p['spec'] as { nodeName?: string }).nodeName) ? items : undefined;
    });
    const [rs] = store.list('replicasets.apps').items;
    expect(rs?.metadata.name).toMatch(/^ngx-dep-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(pods.every((p) => p.metadata.name?.startsWith(`${rs?.metadata.name}-`))).toBe(true);
    expect(new Set(pods.map((p) => (p['spec'] as { nodeName: string }).nodeName))).toEqual(new Set(['master', 'worker']));
    const status = await until(() => {
      const s = store.get('deployments.apps', 'default', 'ngx-dep')['status'] as { availableReplicas?: number } | undefined;
      return s?.availableReplicas === 2 ? s : undefined;
    });
    expect(status).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2 });

    store.delete('pods', 'default', pods[0]?.metadata.name ?? '');
    const replaced = await until(() => {
      const names = store.list('pods', { namespace: 'default' }).items.map((p) => p.metadata.name);
      return names.length === 2 && !names.includes(pods[0]?.metadata.name) ? names : undefined;
    });
    expect(replaced).toContain(pods[1]?.metadata.name);
  });
});
