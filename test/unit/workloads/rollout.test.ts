// Deployment rollouts as the deployment controller runs them: maxSurge and
// maxUnavailable (25%/25% by default) bound every step, old pods go only as
// new ones become available, Recreate empties the old ReplicaSets first,
// minReadySeconds delays availability, old ReplicaSets beyond
// revisionHistoryLimit are cleaned up and a template seen before gets the
// newest revision back.
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectStore } from '../../../src/api/store.js';
import { rfc3339, type KubeObject } from '../../../src/api/types.js';
import { startWorkloadControllers, type WorkloadControllers } from '../../../src/workloads/controllers.js';
import { maxSurge, maxUnavailable, resolveFenceposts, rollingUpdateStep, scaledValue } from '../../../src/workloads/rollout.js';

describe('rollout arithmetic', () => {
  it('scales percentages as intstr does: surge rounds up, unavailable down, both 0 makes unavailable 1', () => {
    expect(scaledValue('25%', 10, true)).toBe(3);
    expect(scaledValue('25%', 10, false)).toBe(2);
    expect(scaledValue(2, 10, false)).toBe(2);
    expect(() => scaledValue('2', 10, false)).toThrow(/not a percentage/);
    expect(resolveFenceposts(undefined, 3)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(undefined, 1)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts({ rollingUpdate: { maxSurge: 0, maxUnavailable: '10%' } }, 3)).toEqual({ surge: 0, unavailable: 1 });
    expect(maxUnavailable({ rollingUpdate: { maxUnavailable: 5 } }, 3)).toBe(3);
    expect(maxUnavailable({ type: 'Recreate' }, 3)).toBe(0);
    expect(maxSurge({ type: 'Recreate' }, 3)).toBe(0);
  });

  it('walks a 3-replica rollout one pod at a time with the defaults', () => {
    const rs = (name: string, replicas: number, available: number, t: string) => ({ name, replicas, available, creationTimestamp: t });
    const step = (n: number, na: number, o: number, oa: number) => Object.fromEntries(rollingUpdateStep(3, undefined, rs('new', n, na, '2'), [rs('old', o, oa, '1')]));
    expect(step(0, 0, 3, 3)).toEqual({ new: 1 }); // surge 1
    expect(step(1, 0, 3, 3)).toEqual({}); // wait: the new pod is not available yet
    expect(step(1, 1, 3, 3)).toEqual({ old: 2 });
    expect(step(1, 1, 2, 2)).toEqual({ new: 2 });
    expect(step(3, 3, 1, 1)).toEqual({ old: 0 });
    // Unavailable old pods go first, they serve nobody (as many as maxUnavailable allows: 3 - 2 = 1).
    expect(Object.fromEntries(rollingUpdateStep(3, { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }, rs('new', 0, 0, '2'), [rs('old', 3, 1, '1')]))).toEqual({ old: 2 });
    // With every old pod available, maxUnavailable 1 lets one of them go before any new pod exists.
    expect(Object.fromEntries(rollingUpdateStep(3, { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }, rs('new', 0, 0, '2'), [rs('old', 3, 3, '1')]))).toEqual({ old: 2 });
    expect(Object.fromEntries(rollingUpdateStep(3, { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }, rs('new', 0, 0, '2'), [rs('old', 2, 2, '1')]))).toEqual({ new: 1 });
  });
});

async function until<T>(what: string, fn: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
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

/**
 * Plays the kubelet: a scheduled pod turns Ready readyAfterMs later; a
 * deleted one stays Terminating for terminateMs (a preStop hook), then goes.
 */
function fakeKubelet(store: ObjectStore, o: { readyAfterMs: number; terminateMs: number }): () => void {
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, f: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    timers.add(t);
  };
  const seen = new Set<string>();
  const w = store.watch('pods', {}, (ev) => {
    const pod = ev.object;
    const uid = pod.metadata.uid ?? '';
    if (ev.type === 'DELETED' || !(pod['spec'] as { nodeName?: string }).nodeName) return;
    if (pod.metadata.deletionTimestamp) {
      if (seen.has(`gone/${uid}`)) return;
      seen.add(`gone/${uid}`);
      later(o.terminateMs, () => {
        try {
          store.delete('pods', 'default', pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid } });
        } catch {
          // already gone
        }
      });
      return;
    }
    if (seen.has(uid)) return;
    seen.add(uid);
    later(o.readyAfterMs, () => {
      const latest = store.find('pods', 'default', pod.metadata.name ?? '');
      if (!latest || latest.metadata.deletionTimestamp) return;
      const now = rfc3339(new Date());
      store.update('pods', { ...latest, status: { phase: 'Running', podIP: '10.10.0.9', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, { subresource: 'status' });
    });
  });
  return () => {
    w.stop();
    for (const t of timers) clearTimeout(t);
  };
}

const web = (replicas: number, strategy?: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    ...(strategy ? { strategy } : {}),
    ...extra,
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
  },
});

/** What `kubectl rollout restart` changes: an annotation on the pod template. */
function restart(store: ObjectStore, at: string): void {
  const d = store.get('deployments.apps', 'default', 'web');
  const spec = d['spec'] as { template: { metadata: { annotations?: Record<string, string> } } };
  const template = { ...spec.template, metadata: { ...spec.template.metadata, annotations: { ...spec.template.metadata.annotations, 'kubectl.kubernetes.io/restartedAt': at } } };
  store.update('deployments.apps', { ...d, spec: { ...spec, template } });
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  conditions?: Array<{ type: string; reason: string }>;
}

/** kubectl rollout status's test: observed, all updated, no old replicas, all available. */
function rolledOut(store: ObjectStore): DeploymentStatus | undefined {
  const d = store.get('deployments.apps', 'default', 'web');
  const st = (d['status'] ?? {}) as DeploymentStatus;
  const want = (d['spec'] as { replicas: number }).replicas;
  const ok = (st.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && st.updatedReplicas === want && st.replicas === want && st.availableReplicas === want;
  return ok ? st : undefined;
}

describe('Deployment rollouts', () => {
  let controllers: WorkloadControllers | undefined;
  let stopKubelet: (() => void) | undefined;
  afterEach(() => {
    controllers?.stop();
    stopKubelet?.();
  });

  const live = (store: ObjectStore) => store.list('pods', { namespace: 'default' }).items.filter((p) => !p.metadata.deletionTimestamp);
  const readyLive = (store: ObjectStore) => live(store).filter((p) => ((p['status'] as { conditions?: Array<{ type: string; status: string }> }).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));

  it('rollout restart: a new ReplicaSet, at most 1 surge pod, never fewer than 3 ready, old pods go as new ones become ready', async () => {
    const store = cluster();
    controllers = startWorkloadControllers(store);
    stopKubelet = fakeKubelet(store, { readyAfterMs: 30, terminateMs: 50 });
    store.create('deployments.apps', web(3));
    await until('3 ready pods', () => (rolledOut(store) && readyLive(store).length === 3 ? true : undefined));
    const before = store.list('replicasets.apps').items.map((rs) => rs.metadata.name);

    let maxLive = 0;
    let minReady = Infinity;
    const w = store.watch('pods', {}, () => {
      maxLive = Math.max(maxLive, live(store).length);
      minReady = Math.min(minReady, readyLive(store).length);
    });
    try {
      restart(store, '2026-01-01T00:00:00Z');
      const st = await until('the rollout', () => {
        const s = rolledOut(store);
        return s && store.list('replicasets.apps').items.length === 2 ? s : undefined;
      });
      expect(st.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    } finally {
      w.stop();
    }
    expect(maxLive).toBe(4); // 3 + maxSurge 25% of 3, rounded up
    expect(minReady).toBeGreaterThanOrEqual(3); // 3 - maxUnavailable 25% of 3, rounded down
    const sets = store.list('replicasets.apps').items;
    const fresh = sets.find((rs) => !before.includes(rs.metadata.name));
    expect(fresh?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(sets.map((rs) => [rs.metadata.name === fresh?.metadata.name ? 'new' : 'old', (rs['spec'] as { replicas: number }).replicas]).sort()).toEqual([
      ['new', 3],
      ['old', 0],
    ]);
    // The events tell the story one pod at a time, as a real cluster's do.
    const scaling = store
      .list('events', { namespace: 'default' })
      .items.filter((e) => e['reason'] === 'ScalingReplicaSet')
      .map((e) => String(e['message']).replace(/web-\w+/, (n) => (n === fresh?.metadata.name ? 'NEW' : 'OLD')));
    expect(scaling.slice(-6)).toEqual([
      'Scaled up replica set NEW to 1 from 0',
      'Scaled down replica set OLD to 2 from 3',
      'Scaled up replica set NEW to 2 from 1',
      'Scaled down replica set OLD to 1 from 2',
      'Scaled up replica set NEW to 3 from 2',
      'Scaled down replica set OLD to 0 from 1',
    ]);
  });

  it('Recreate: every old pod is gone before the first new one is created', async () => {
    const store = cluster();
    controllers = startWorkloadControllers(store);
    stopKubelet = fakeKubelet(store, { readyAfterMs: 10, terminateMs: 80 });
    store.create('deployments.apps', web(2, { type: 'Recreate' }));
    await until('rolled out', () => rolledOut(store));
    const oldPods = new Set(store.list('pods').items.map((p) => p.metadata.uid));
    let overlap = false;
    const w = store.watch('pods', {}, () => {
      const all = store.list('pods').items;
      if (all.some((p) => oldPods.has(p.metadata.uid)) && all.some((p) => !oldPods.has(p.metadata.uid))) overlap = true;
    });
    try {
      restart(store, '2026-01-01T00:00:00Z');
      await until('the new pods', () => (rolledOut(store) && store.list('pods').items.every((p) => !oldPods.has(p.metadata.uid)) ? true : undefined));
    } finally {
      w.stop();
    }
    expect(overlap).toBe(false);
  });

  it('minReadySeconds: a Ready pod counts as available only after that long', async () => {
    const store = cluster();
    controllers = startWorkloadControllers(store);
    stopKubelet = fakeKubelet(store, { readyAfterMs: 0, terminateMs: 0 });
    store.create('deployments.apps', web(1, undefined, { minReadySeconds: 2 }));
    const rsStatus = () => (store.list('replicasets.apps').items[0]?.['status'] ?? {}) as { readyReplicas?: number; availableReplicas?: number };
    await until('a ready replica', () => (rsStatus().readyReplicas === 1 ? true : undefined));
    expect(rsStatus().availableReplicas).toBe(0);
    await until('an available replica', () => (rsStatus().availableReplicas === 1 ? true : undefined), 4000);
  });

  it('keeps revisionHistoryLimit old ReplicaSets, and gives a template seen before the newest revision', async () => {
    const store = cluster();
    controllers = startWorkloadControllers(store);
    stopKubelet = fakeKubelet(store, { readyAfterMs: 5, terminateMs: 5 });
    store.create('deployments.apps', web(1, undefined, { revisionHistoryLimit: 1 }));
    await until('rolled out', () => rolledOut(store));
    const first = store.list('replicasets.apps').items[0]?.metadata.name;
    for (const at of ['a', 'b', 'c']) {
      restart(store, at);
      await until(`rollout ${at}`, () => rolledOut(store));
    }
    await until('old ReplicaSets cleaned up', () => (store.list('replicasets.apps').items.length === 2 ? true : undefined));
    // Back to "b" (kubectl rollout undo): its ReplicaSet is gone, so a new one with revision 5.
    restart(store, 'b');
    await until('rollout b again', () => rolledOut(store));
    const revisions = () => Object.fromEntries(store.list('replicasets.apps').items.map((rs) => [rs.metadata.name, rs.metadata.annotations?.['deployment.kubernetes.io/revision']]));
    await until('two ReplicaSets', () => (Object.keys(revisions()).length === 2 ? true : undefined));
    expect(Object.values(revisions()).sort()).toEqual(['4', '5']);
    expect(first && revisions()[first]).toBeFalsy();
    // And back to "c", whose ReplicaSet is still there: it becomes revision 6.
    restart(store, 'c');
    await until('rollout c again', () => rolledOut(store));
    expect(Object.values(revisions()).sort()).toEqual(['5', '6']);
    expect(store.get('deployments.apps', 'default', 'web').metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('6');
  });
});
