import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/errors.js';
import { ObjectStore } from '../../../src/api/store.js';
import type { KubeObject, WatchEvent } from '../../../src/api/types.js';

const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const cm = (name: string, namespace = 'default', labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, ...(labels ? { labels } : {}) },
  data: { k: 'v' },
});

function storeWithDefault(opts: ConstructorParameters<typeof ObjectStore>[0] = {}): ObjectStore {
  const s = new ObjectStore(opts);
  s.create('namespaces', ns('default'));
  return s;
}

function catchApi(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

/** Collects watch events; `settle` lets queued deliveries run. */
function collector(): { events: WatchEvent[]; listener: (e: WatchEvent) => void; settle: () => Promise<void> } {
  const events: WatchEvent[] = [];
  return { events, listener: (e) => events.push(e), settle: () => new Promise((r) => setTimeout(r, 0)) };
}

const brief = (events: WatchEvent[]): string[] => events.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`);

describe('ObjectStore: create/get/list', () => {
  it('hands out one global, increasing resourceVersion', () => {
    const s = storeWithDefault();
    const a = s.create('configmaps', cm('a'));
    const b = s.create('configmaps', cm('b'));
    expect(Number(b.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    expect(s.currentResourceVersion()).toBe(b.metadata.resourceVersion);
    expect(s.list('configmaps').resourceVersion).toBe(b.metadata.resourceVersion);
  });

  it('fills uid, creationTimestamp and type, and copies objects in and out', () => {
    const s = storeWithDefault({ now: () => new Date('2025-03-04T05:06:07.890Z') });
    const input = cm('a');
    const created = s.create('configmaps', input);
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.creationTimestamp).toBe('2025-03-04T05:06:07Z');
    expect(input.metadata.uid).toBeUndefined();
    created.data = { changed: 'yes' };
    expect(s.get('configmaps', 'default', 'a')['data']).toEqual({ k: 'v' });
  });

  it('generates names from generateName with kube alphabet suffixes', () => {
    const s = storeWithDefault();
    const o = s.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'web-', namespace: 'default' } });
    expect(o.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('sets generation 1 only for kinds that track it, as the apiserver strategies do', () => {
    const s = storeWithDefault();
    const d = s.create('deployments.apps', deployment('web'));
    expect(d.metadata.generation).toBe(1);
    expect(s.create('configmaps', cm('a')).metadata.generation).toBeUndefined();
  });

  it('refuses duplicates, a missing namespace and bad names with the apiserver messages', () => {
    const s = storeWithDefault();
    s.create('configmaps', cm('a'));
    const dup = catchApi(() => s.create('configmaps', cm('a')));
    expect(dup.toStatus()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "a" already exists',
      reason: 'AlreadyExists',
      details: { name: 'a', kind: 'configmaps' },
      code: 409,
    });
    const missing = catchApi(() => s.create('configmaps', cm('a', 'nope')));
    expect(missing.toStatus()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'namespaces "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'namespaces' },
      code: 404,
    });
    const bad = catchApi(() => s.create('namespaces', ns('Bad_Name')));
    expect(bad.code).toBe(422);
    expect(bad.message).toBe(
      'Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')',
    );
    const noName = catchApi(() => s.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'default' } }));
    expect(noName.message).toBe('ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required');
    const nf = catchApi(() => s.get('deployments.apps', 'default', 'x'));
    expect(nf.message).toBe('deployments.apps "x" not found');
    expect(nf.toStatus().details).toEqual({ name: 'x', group: 'apps', kind: 'deployments' });
  });

  it('lists in key order with label and field selectors, across or within namespaces', () => {
    const s = storeWithDefault();
    s.create('namespaces', ns('a-b'));
    s.create('namespaces', ns('a'));
    s.create('configmaps', cm('z', 'default', { app: 'web' }));
    s.create('configmaps', cm('y', 'a', { app: 'db' }));
    s.create('configmaps', cm('x', 'a-b', { app: 'web' }));
    const names = (opts: Parameters<ObjectStore['list']>[1]): string[] =>
      s.list('configmaps', opts).items.map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`);
    expect(names({})).toEqual(['a-b/x', 'a/y', 'default/z']);
    expect(names({ namespace: 'a' })).toEqual(['a/y']);
    expect(names({ labelSelector: 'app=web' })).toEqual(['a-b/x', 'default/z']);
    expect(names({ labelSelector: 'app in (db),!missing' })).toEqual(['a/y']);
    expect(names({ fieldSelector: 'metadata.name=z' })).toEqual(['default/z']);
    expect(names({ fieldSelector: 'metadata.namespace!=a' })).toEqual(['a-b/x', 'default/z']);
  });

  it('applies creation defaults: namespaces Active with their name label, services defaulted', () => {
    const s = storeWithDefault();
    const n = s.get('namespaces', undefined, 'default');
    expect(n['status']).toEqual({ phase: 'Active' });
    expect(n.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'default' });
    expect(n['spec']).toEqual({ finalizers: ['kubernetes'] });
    const svc = s.create('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    expect(svc['spec']).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] });
    expect(svc['status']).toEqual({ loadBalancer: {} });
  });
});

function deployment(name: string, replicas = 2): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:alpine' }] } },
    },
  };
}

describe('ObjectStore: update', () => {
  it('rejects a stale resourceVersion with Conflict', () => {
    const s = storeWithDefault();
    const a = s.create('configmaps', cm('a'));
    s.update('configmaps', { ...a, data: { k: 'v2' } });
    const err = catchApi(() => s.update('configmaps', { ...a, data: { k: 'v3' } }));
    expect(err.code).toBe(409);
    expect(err.reason).toBe('Conflict');
    expect(err.message).toBe(
      'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('accepts an update without resourceVersion (unconditional)', () => {
    const s = storeWithDefault();
    s.create('configmaps', cm('a'));
    const { resourceVersion: _rv, ...meta } = s.get('configmaps', 'default', 'a').metadata;
    expect(s.update('configmaps', { ...cm('a'), metadata: meta, data: { k: 'x' } })['data']).toEqual({ k: 'x' });
  });

  it('bumps generation on spec changes only', () => {
    const s = storeWithDefault();
    const d = s.create('deployments.apps', deployment('web'));
    const labelled = s.update('deployments.apps', { ...d, metadata: { ...d.metadata, labels: { a: 'b' } } });
    expect(labelled.metadata.generation).toBe(1);
    const scaled = s.update('deployments.apps', { ...labelled, spec: { ...(labelled['spec'] as object), replicas: 3 } });
    expect(scaled.metadata.generation).toBe(2);
  });

  it('does not write (or emit) an update that changes nothing', async () => {
    const s = storeWithDefault();
    const a = s.create('configmaps', cm('a'));
    const c = collector();
    s.watch('configmaps', { resourceVersion: a.metadata.resourceVersion ?? '' }, c.listener);
    const same = s.update('configmaps', a);
    expect(same.metadata.resourceVersion).toBe(a.metadata.resourceVersion);
    await c.settle();
    expect(c.events).toEqual([]);
  });

  it('keeps status on the main resource and takes only status on /status', () => {
    const s = storeWithDefault();
    const d = s.create('deployments.apps', deployment('web'));
    const ignored = s.update('deployments.apps', { ...d, status: { replicas: 9 } });
    expect(ignored['status']).toEqual({});
    const st = s.update('deployments.apps', { ...ignored, spec: { replicas: 100 }, status: { replicas: 2 } }, { subresource: 'status' });
    expect(st['status']).toEqual({ replicas: 2 });
    expect((st['spec'] as { replicas: number }).replicas).toBe(2);
    expect(st.metadata.generation).toBe(1);
  });

  it('returns what would be stored on dryRun without storing it', () => {
    const s = storeWithDefault();
    const dry = s.create('configmaps', cm('a'), { dryRun: true });
    expect(dry.metadata.uid).toBeDefined();
    expect(dry.metadata.resourceVersion).toBeUndefined();
    expect(s.find('configmaps', 'default', 'a')).toBeUndefined();
  });
});

describe('ObjectStore: delete', () => {
  it('removes plain objects at once', () => {
    const s = storeWithDefault();
    s.create('configmaps', cm('a'));
    const r = s.delete('configmaps', 'default', 'a');
    expect(r.deleted).toBe(true);
    expect(s.find('configmaps', 'default', 'a')).toBeUndefined();
    expect(catchApi(() => s.delete('configmaps', 'default', 'a')).code).toBe(404);
  });

  it('marks objects with finalizers and removes them when the last finalizer goes', () => {
    const s = storeWithDefault();
    s.create('configmaps', { ...cm('a'), metadata: { ...cm('a').metadata, finalizers: ['x/y'] } });
    const r = s.delete('configmaps', 'default', 'a');
    expect(r.deleted).toBe(false);
    expect(r.object.metadata.deletionTimestamp).toBeDefined();
    const cur = s.get('configmaps', 'default', 'a');
    s.update('configmaps', { ...cur, metadata: { ...cur.metadata, finalizers: [] } });
    expect(s.find('configmaps', 'default', 'a')).toBeUndefined();
  });

  it('deletes scheduled pods gracefully; the kubelet ends it with grace 0', () => {
    const s = storeWithDefault({ now: () => new Date('2025-01-01T00:00:00Z') });
    const pod = (name: string, nodeName?: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'nginx' }] },
    });
    s.create('pods', pod('pending'));
    expect(s.delete('pods', 'default', 'pending').deleted).toBe(true);
    s.create('pods', pod('running', 'worker'));
    const marked = s.delete('pods', 'default', 'running');
    expect(marked.deleted).toBe(false);
    expect(marked.object.metadata.deletionTimestamp).toBe('2025-01-01T00:00:30Z');
    expect(marked.object.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(s.delete('pods', 'default', 'running', { gracePeriodSeconds: 0 }).deleted).toBe(true);
  });

  it('cascades to dependents in the background, or orphans them', () => {
    const s = storeWithDefault();
    const owner = s.create('configmaps', cm('owner'));
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid ?? '', controller: true };
    s.create('configmaps', { ...cm('dep'), metadata: { ...cm('dep').metadata, ownerReferences: [ref] } });
    s.delete('configmaps', 'default', 'owner');
    expect(s.find('configmaps', 'default', 'dep')).toBeUndefined();

    const owner2 = s.create('configmaps', cm('owner2'));
    const ref2 = { ...ref, name: 'owner2', uid: owner2.metadata.uid ?? '' };
    s.create('configmaps', { ...cm('dep2'), metadata: { ...cm('dep2').metadata, ownerReferences: [ref2] } });
    s.delete('configmaps', 'default', 'owner2', { propagationPolicy: 'Orphan' });
    expect(s.get('configmaps', 'default', 'dep2').metadata.ownerReferences).toBeUndefined();
  });

  it('deletes a namespace with its contents, and refuses to delete default', () => {
    const s = storeWithDefault();
    s.create('namespaces', ns('demo'));
    s.create('configmaps', cm('a', 'demo'));
    const r = s.delete('namespaces', undefined, 'demo');
    expect(r.object['status']).toEqual({ phase: 'Terminating' });
    expect(s.find('configmaps', 'demo', 'a')).toBeUndefined();
    const err = catchApi(() => s.delete('namespaces', undefined, 'default'));
    expect(err.code).toBe(403);
    expect(err.message).toBe('namespaces "default" is forbidden: this namespace may not be deleted');
  });

  it('checks uid and resourceVersion preconditions', () => {
    const s = storeWithDefault();
    s.create('configmaps', cm('a'));
    expect(catchApi(() => s.delete('configmaps', 'default', 'a', { preconditions: { uid: 'other' } })).code).toBe(409);
    expect(catchApi(() => s.delete('configmaps', 'default', 'a', { preconditions: { resourceVersion: '1' } })).code).toBe(409);
  });
});

describe('ObjectStore: watch', () => {
  it('starts with the current objects, then delivers changes in order', async () => {
    const s = storeWithDefault();
    s.create('configmaps', cm('a'));
    const c = collector();
    const w = s.watch('configmaps', {}, c.listener);
    s.create('configmaps', cm('b'));
    const b = s.get('configmaps', 'default', 'b');
    s.update('configmaps', { ...b, data: { k: '2' } });
    s.delete('configmaps', 'default', 'a');
    await c.settle();
    expect(brief(c.events)).toEqual(['ADDED a', 'ADDED b', 'MODIFIED b', 'DELETED a']);
    const deleted = c.events[3];
    expect(Number(deleted?.object.metadata.resourceVersion)).toBe(Number(s.currentResourceVersion()));
    w.stop();
    s.create('configmaps', cm('c'));
    await c.settle();
    expect(c.events).toHaveLength(4);
  });

  it('replays every change after a resourceVersion', async () => {
    const s = storeWithDefault();
    const a = s.create('configmaps', cm('a'));
    s.create('configmaps', cm('b'));
    s.delete('configmaps', 'default', 'a');
    const c = collector();
    s.watch('configmaps', { resourceVersion: a.metadata.resourceVersion ?? '' }, c.listener);
    await c.settle();
    expect(brief(c.events)).toEqual(['ADDED b', 'DELETED a']);
  });

  it('answers 410 Expired for a resourceVersion older than the retained history', () => {
    const s = storeWithDefault({ historyLimit: 10 });
    for (let i = 0; i < 300; i++) s.create('configmaps', cm(`c${i}`));
    const err = catchApi(() => s.watch('configmaps', { resourceVersion: '2' }, () => {}));
    expect(err.code).toBe(410);
    expect(err.reason).toBe('Expired');
    expect(err.message).toMatch(/^too old resource version: 2 \(\d+\)$/);
    expect(() => s.watch('configmaps', { resourceVersion: s.currentResourceVersion() }, () => {})).not.toThrow();
  });

  it('turns objects entering or leaving a label selection into ADDED / DELETED', async () => {
    const s = storeWithDefault();
    const a = s.create('configmaps', cm('a', 'default', { app: 'db' }));
    const c = collector();
    s.watch('configmaps', { labelSelector: 'app=web', resourceVersion: s.currentResourceVersion() }, c.listener);
    const web = s.update('configmaps', { ...a, metadata: { ...a.metadata, labels: { app: 'web' } } });
    const webAgain = s.update('configmaps', { ...web, data: { k: 'x' } });
    s.update('configmaps', { ...webAgain, metadata: { ...webAgain.metadata, labels: { app: 'db' } } });
    await c.settle();
    expect(brief(c.events)).toEqual(['ADDED a', 'MODIFIED a', 'DELETED a']);
  });

  it('filters by namespace and field selector', async () => {
    const s = storeWithDefault();
    s.create('namespaces', ns('other'));
    const c = collector();
    s.watch('configmaps', { namespace: 'other', fieldSelector: 'metadata.name=x' }, c.listener);
    s.create('configmaps', cm('x'));
    s.create('configmaps', cm('y', 'other'));
    s.create('configmaps', cm('x', 'other'));
    await c.settle();
    expect(c.events.map((e) => `${e.object.metadata.namespace ?? ''}/${e.object.metadata.name ?? ''}`)).toEqual(['other/x']);
  });

  it('can skip initial events, or end them with an initial-events-end bookmark', async () => {
    const s = storeWithDefault();
    s.create('configmaps', cm('a'));
    const quiet = collector();
    s.watch('configmaps', { sendInitialEvents: false }, quiet.listener);
    const list = collector();
    s.watch('configmaps', { sendInitialEvents: true }, list.listener);
    await quiet.settle();
    expect(quiet.events).toEqual([]);
    expect(list.events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(list.events[1]?.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
  });

  it('keeps order when a listener writes to the store', async () => {
    const s = storeWithDefault();
    const seen: string[] = [];
    s.watch('configmaps', { resourceVersion: s.currentResourceVersion() }, (e) => {
      seen.push(`${e.type} ${e.object.metadata.name ?? ''}`);
      if (e.object.metadata.name === 'a' && e.type === 'ADDED') s.create('configmaps', cm('from-listener'));
    });
    s.create('configmaps', cm('a'));
    s.create('configmaps', cm('b'));
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['ADDED a', 'ADDED b', 'ADDED from-listener']);
  });
});

describe('ObjectStore: admission hooks', () => {
  it('lets hooks mutate objects on create and refuse operations', () => {
    const s = storeWithDefault();
    s.addAdmissionHook('services', (req) => {
      if (req.operation !== 'CREATE') return;
      const spec = req.object['spec'] as Record<string, unknown>;
      if (spec['clusterIP'] === '10.96.0.99') throw new ApiError(422, 'Invalid', 'provided IP is already allocated');
      spec['clusterIP'] = '10.96.0.10';
      spec['clusterIPs'] = ['10.96.0.10'];
    });
    const svc = (name: string, clusterIP?: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: { ports: [{ port: 53 }], ...(clusterIP ? { clusterIP } : {}) },
    });
    expect((s.create('services', svc('dns'))['spec'] as { clusterIP: string }).clusterIP).toBe('10.96.0.10');
    expect(catchApi(() => s.create('services', svc('taken', '10.96.0.99'))).code).toBe(422);
  });
});
