// Deployment, ReplicaSet and DaemonSet controllers and the scheduler, driven
// by store watches. Every change schedules one reconcile pass (coalesced);
// each pass compares what is with what should be and writes the difference.
import { ReconcileLoop } from '../api/reconcile-loop.js';
import type { ObjectStore } from '../api/store.js';
import { conditionTrue, rfc3339, type KubeObject } from '../api/types.js';
import { recordEvent } from '../api/events.js';
import { podsToDelete, podTemplateHash, schedule, type NodeFacts, type PodFacts } from './decisions.js';
import { isRecreate, maxSurge, maxUnavailable, recreateStep, replicaSetsToCleanUp, rollingUpdateStep, type ReplicaSetFacts, type Strategy } from './rollout.js';

interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

interface WorkloadSpec {
  replicas?: number;
  strategy?: Strategy;
  minReadySeconds?: number;
  selector?: { matchLabels?: Record<string, string> };
  template?: Template;
}

const REVISION = 'deployment.kubernetes.io/revision';

function spec(o: KubeObject): WorkloadSpec {
  return (o['spec'] ?? {}) as WorkloadSpec;
}

function ownedBy(o: KubeObject, owner: KubeObject): boolean {
  return (o.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller);
}

function ownerRef(owner: KubeObject): Record<string, unknown> {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** A pod that has run to completion (Succeeded or Failed): no longer counted by its owner. */
function terminal(p: KubeObject): boolean {
  const phase = (p['status'] as { phase?: string } | undefined)?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

function podFacts(p: KubeObject): PodFacts {
  const nodeName = (p['spec'] as { nodeName?: string } | undefined)?.nodeName;
  return { name: p.metadata.name ?? '', ready: conditionTrue(p, 'Ready'), creationTimestamp: p.metadata.creationTimestamp ?? '', ...(nodeName ? { nodeName } : {}) };
}

export class WorkloadControllers {
  private readonly loop: ReconcileLoop;
  private wakeAt = Infinity;
  private wakeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.loop = new ReconcileLoop(store, ['deployments.apps', 'replicasets.apps', 'daemonsets.apps', 'pods', 'nodes'], () => this.reconcile(), (e) => this.log(`controllers: ${e instanceof Error ? e.message : String(e)}`), 200);
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    clearTimeout(this.wakeTimer);
  }

  /**
   * IsPodAvailable: Ready for at least minReadySeconds. A pod that will be
   * available later wakes the loop then (no event would).
   */
  private availableNow(p: KubeObject, minReadySeconds: number): boolean {
    if (minReadySeconds <= 0) return true;
    const since = Date.parse(((p['status'] as { conditions?: Array<{ type: string; lastTransitionTime?: string }> } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready')?.lastTransitionTime ?? '');
    if (Number.isNaN(since)) return false;
    const at = since + minReadySeconds * 1000;
    if (at <= Date.now()) return true;
    if (at < this.wakeAt) {
      this.wakeAt = at;
      clearTimeout(this.wakeTimer);
      this.wakeTimer = setTimeout(() => {
        this.wakeAt = Infinity;
        this.loop.queue();
      }, at - Date.now() + 50);
      this.wakeTimer.unref();
    }
    return false;
  }

  reconcile(): void {
    for (const d of this.store.list('deployments.apps').items) {
      try {
        this.syncDeployment(d);
      } catch (e) {
        // One Deployment the controller cannot follow (a bad maxSurge) does not stop the others.
        this.log(`deployment ${d.metadata.namespace}/${d.metadata.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const rs of this.store.list('replicasets.apps').items) this.syncReplicaSet(rs);
    for (const ds of this.store.list('daemonsets.apps').items) this.syncDaemonSet(ds);
    this.schedulePods();
  }

  private event(obj: KubeObject, reason: string, message: string, component: string, type: 'Normal' | 'Warning' = 'Normal'): void {
    recordEvent(this.store, obj, type, reason, message, { component });
  }

  private syncDeployment(d: KubeObject): void {
    if (d.metadata.deletionTimestamp) return;
    const ns = d.metadata.namespace ?? 'default';
    const desired = spec(d).replicas ?? 1;
    const strategy = spec(d).strategy;
    const template = spec(d).template ?? {};
    const hash = podTemplateHash(template);
    const owned = this.store.list('replicasets.apps', { namespace: ns }).items.filter((rs) => ownedBy(rs, d));
    const revisionOf = (rs: KubeObject) => Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
    let newRS = owned.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    const oldRSs = owned.filter((rs) => rs.metadata.uid !== newRS?.metadata.uid);
    const maxOldRevision = Math.max(0, ...oldRSs.map(revisionOf));
    const annotations = (replicas: number) => ({
      'deployment.kubernetes.io/desired-replicas': String(replicas),
      'deployment.kubernetes.io/max-replicas': String(replicas + maxSurge(strategy, replicas)),
    });
    if (!newRS) {
      const name = `${d.metadata.name}-${hash}`;
      const labels = { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash };
      newRS = this.store.create('replicasets.apps', {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name,
          namespace: ns,
          labels,
          annotations: { ...annotations(desired), [REVISION]: String(maxOldRevision + 1) },
          ownerReferences: [ownerRef(d)] as never,
        },
        spec: {
          replicas: 0,
          ...(spec(d).minReadySeconds ? { minReadySeconds: spec(d).minReadySeconds } : {}),
          selector: { matchLabels: { ...(spec(d).selector?.matchLabels ?? {}), 'pod-template-hash': hash } },
          template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
        },
      });
    } else if (revisionOf(newRS) <= maxOldRevision) {
      // A template seen before (rollout undo): its ReplicaSet becomes the newest revision again.
      newRS = this.store.update('replicasets.apps', {
        ...newRS,
        metadata: { ...newRS.metadata, annotations: { ...(newRS.metadata.annotations ?? {}), [REVISION]: String(maxOldRevision + 1) } },
      });
    }
    const facts = (rs: KubeObject): ReplicaSetFacts => ({
      name: rs.metadata.name ?? '',
      replicas: spec(rs).replicas ?? 0,
      available: Number((rs['status'] as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0),
      creationTimestamp: rs.metadata.creationTimestamp ?? '',
    });
    const steps = isRecreate(strategy)
      ? recreateStep(desired, facts(newRS), oldRSs.map(facts), oldRSs.some((rs) => this.podsOf(rs).some((p) => !terminal(p))))
      : rollingUpdateStep(desired, strategy, facts(newRS), oldRSs.map(facts));
    for (const rs of [newRS, ...oldRSs]) {
      const replicas = steps.get(rs.metadata.name ?? '');
      if (replicas !== undefined) this.scaleRS(d, rs, replicas, annotations(desired));
    }
    this.updateDeploymentStatus(d, newRS, [newRS, ...oldRSs], desired);
    this.cleanUpOldReplicaSets(d, oldRSs);
  }

  /** Old ReplicaSets beyond revisionHistoryLimit go once the Deployment has rolled out. */
  private cleanUpOldReplicaSets(d: KubeObject, oldRSs: KubeObject[]): void {
    const limit = (d['spec'] as { revisionHistoryLimit?: number } | undefined)?.revisionHistoryLimit ?? 10;
    const candidates = oldRSs.map((rs) => ({
      name: rs.metadata.name ?? '',
      revision: Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0,
      replicas: spec(this.store.find('replicasets.apps', rs.metadata.namespace, rs.metadata.name ?? '') ?? rs).replicas ?? 0,
      pods: this.podsOf(rs).length,
    }));
    for (const name of replicaSetsToCleanUp(candidates, limit)) this.store.delete('replicasets.apps', d.metadata.namespace, name);
  }

  /** Every pod the ReplicaSet owns, terminating ones included. */
  private podsOf(rs: KubeObject): KubeObject[] {
    return this.store.list('pods', { namespace: rs.metadata.namespace ?? 'default' }).items.filter((p) => ownedBy(p, rs));
  }

  private scaleRS(d: KubeObject, rs: KubeObject, replicas: number, annotations: Record<string, string>): void {
    const latest = this.store.get('replicasets.apps', rs.metadata.namespace, rs.metadata.name ?? '');
    const current = spec(latest).replicas ?? 0;
    if (current === replicas) return;
    this.store.update('replicasets.apps', {
      ...latest,
      metadata: { ...latest.metadata, annotations: { ...(latest.metadata.annotations ?? {}), ...annotations } },
      spec: { ...spec(latest), replicas },
    });
    this.event(d, 'ScalingReplicaSet', `Scaled ${replicas > current ? 'up' : 'down'} replica set ${rs.metadata.name} to ${replicas} from ${current}`, 'deployment-controller');
  }

  private updateDeploymentStatus(d: KubeObject, newRS: KubeObject, all: KubeObject[], desired: number): void {
    const st = (rs: KubeObject) => (rs['status'] ?? {}) as { replicas?: number; readyReplicas?: number; availableReplicas?: number };
    const latest = (rs: KubeObject) => this.store.find('replicasets.apps', rs.metadata.namespace, rs.metadata.name ?? '') ?? rs;
    const sets = all.map(latest);
    const sum = (f: (rs: KubeObject) => number) => sets.reduce((n, rs) => n + f(rs), 0);
    const replicas = sum((rs) => st(rs).replicas ?? 0);
    const ready = sum((rs) => st(rs).readyReplicas ?? 0);
    const available = sum((rs) => st(rs).availableReplicas ?? 0);
    const updated = st(latest(newRS)).replicas ?? 0;
    // calculateStatus: unavailable counts against the replicas asked of every ReplicaSet.
    const unavailable = Math.max(0, sum((rs) => spec(rs).replicas ?? 0) - available);
    const complete = updated === desired && replicas === desired && available === desired;
    // The revision annotation first: writing it bumps the generation, which the status then observes.
    const revision = newRS.metadata.annotations?.[REVISION];
    let current = this.store.get('deployments.apps', d.metadata.namespace, d.metadata.name ?? '');
    if (revision && current.metadata.annotations?.[REVISION] !== revision) {
      current = this.store.update('deployments.apps', { ...current, metadata: { ...current.metadata, annotations: { ...(current.metadata.annotations ?? {}), [REVISION]: revision } } });
    }
    const now = rfc3339(new Date());
    const old = (current['status'] ?? {}) as { conditions?: Array<Record<string, string>> };
    const cond = (type: string, status: boolean, reason: string, message: string) => {
      const prev = old.conditions?.find((c) => c['type'] === type);
      const same = prev?.['status'] === (status ? 'True' : 'False');
      return { type, status: status ? 'True' : 'False', lastUpdateTime: same && prev?.['reason'] === reason ? (prev['lastUpdateTime'] ?? now) : now, lastTransitionTime: same ? (prev?.['lastTransitionTime'] ?? now) : now, reason, message };
    };
    const status = {
      observedGeneration: current.metadata.generation,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      ...(unavailable > 0 ? { unavailableReplicas: unavailable } : {}),
      conditions: [
        available >= desired - maxUnavailable(spec(d).strategy, desired)
          ? cond('Available', true, 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
          : cond('Available', false, 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
        complete
          ? cond('Progressing', true, 'NewReplicaSetAvailable', `ReplicaSet "${newRS.metadata.name}" has successfully progressed.`)
          : cond('Progressing', true, 'ReplicaSetUpdated', `ReplicaSet "${newRS.metadata.name}" is progressing.`),
      ],
    };
    const clean = (s: unknown) => JSON.stringify(s, (k, v: unknown) => (k === 'lastUpdateTime' || k === 'lastTransitionTime' ? undefined : v));
    if (clean(status) === clean(current['status'])) return;
    this.store.update('deployments.apps', { ...current, status }, { subresource: 'status' });
  }

  private ownedPods(owner: KubeObject): KubeObject[] {
    // FilterActivePods: terminating and finished pods no longer count.
    return this.store.list('pods', { namespace: owner.metadata.namespace ?? 'default' }).items.filter((p) => ownedBy(p, owner) && !p.metadata.deletionTimestamp && !terminal(p));
  }

  private createPod(owner: KubeObject, template: Template, extraSpec: Record<string, unknown> = {}, component: string): void {
    const pod = this.store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${owner.metadata.name}-`,
        namespace: owner.metadata.namespace ?? 'default',
        labels: { ...(template.metadata?.labels ?? {}) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [ownerRef(owner)] as never,
      },
      spec: { ...(template.spec ?? {}), ...extraSpec },
    });
    this.event(owner, 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, component);
  }

  private syncReplicaSet(rs: KubeObject): void {
    if (rs.metadata.deletionTimestamp) return;
    const desired = spec(rs).replicas ?? 1;
    const pods = this.ownedPods(rs);
    if (pods.length < desired) {
      for (let i = pods.length; i < desired; i++) this.createPod(rs, spec(rs).template ?? {}, {}, 'replicaset-controller');
    } else if (pods.length > desired) {
      for (const name of podsToDelete(pods.map(podFacts), pods.length - desired)) {
        this.store.delete('pods', rs.metadata.namespace, name);
        this.event(rs, 'SuccessfulDelete', `Deleted pod: ${name}`, 'replicaset-controller');
      }
    }
    const now = this.ownedPods(rs);
    const readyPods = now.filter((p) => conditionTrue(p, 'Ready'));
    const status = {
      replicas: now.length,
      fullyLabeledReplicas: now.length,
      readyReplicas: readyPods.length,
      availableReplicas: readyPods.filter((p) => this.availableNow(p, spec(rs).minReadySeconds ?? 0)).length,
      observedGeneration: rs.metadata.generation,
    };
    const current = (rs['status'] ?? {}) as Record<string, unknown>;
    if (JSON.stringify({ ...current, conditions: undefined }) !== JSON.stringify({ ...status, conditions: undefined }) || current['observedGeneration'] !== status.observedGeneration) {
      const latest = this.store.get('replicasets.apps', rs.metadata.namespace, rs.metadata.name ?? '');
      this.store.update('replicasets.apps', { ...latest, status }, { subresource: 'status' });
    }
  }

  private nodes(): NodeFacts[] {
    return this.store.list('nodes').items.map((n) => {
      const sp = (n['spec'] ?? {}) as { unschedulable?: boolean; taints?: NodeFacts['taints'] };
      return {
        name: n.metadata.name ?? '',
        ready: conditionTrue(n, 'Ready'),
        unschedulable: Boolean(sp.unschedulable),
        labels: n.metadata.labels ?? {},
        taints: sp.taints ?? [],
      };
    });
  }

  /** DaemonSet pods are bound to their node directly (upstream uses node affinity and the scheduler). */
  private syncDaemonSet(ds: KubeObject): void {
    if (ds.metadata.deletionTimestamp) return;
    const template = spec(ds).template ?? {};
    const pods = this.ownedPods(ds);
    const eligible = this.nodes().filter((n) => schedule((template.spec ?? {}) as never, [n], new Map()).node);
    for (const n of eligible) {
      if (!pods.some((p) => (p['spec'] as { nodeName?: string }).nodeName === n.name)) this.createPod(ds, template, { nodeName: n.name }, 'daemonset-controller');
    }
    const now = this.ownedPods(ds);
    const ready = now.filter((p) => conditionTrue(p, 'Ready')).length;
    const status = {
      currentNumberScheduled: now.length,
      desiredNumberScheduled: eligible.length,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      updatedNumberScheduled: now.length,
      observedGeneration: ds.metadata.generation,
    };
    if (JSON.stringify(status) !== JSON.stringify(ds['status'] ?? {})) {
      const latest = this.store.get('daemonsets.apps', ds.metadata.namespace, ds.metadata.name ?? '');
      this.store.update('daemonsets.apps', { ...latest, status }, { subresource: 'status' });
    }
  }

  private schedulePods(): void {
    const pods = this.store.list('pods').items;
    const unscheduled = pods.filter((p) => !(p['spec'] as { nodeName?: string }).nodeName && !p.metadata.deletionTimestamp);
    if (unscheduled.length === 0) return;
    const nodes = this.nodes();
    const load = new Map<string, number>();
    for (const p of pods) {
      const n = (p['spec'] as { nodeName?: string }).nodeName;
      if (n && !p.metadata.deletionTimestamp) load.set(n, (load.get(n) ?? 0) + 1);
    }
    for (const pod of unscheduled.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
      const r = schedule((pod['spec'] ?? {}) as never, nodes, load);
      if (!r.node) {
        this.event(pod, 'FailedScheduling', r.message ?? 'no node fits', 'default-scheduler', 'Warning');
        continue;
      }
      const latest = this.store.get('pods', pod.metadata.namespace, pod.metadata.name ?? '');
      this.store.update('pods', { ...latest, spec: { ...(latest['spec'] as object), nodeName: r.node } });
      load.set(r.node, (load.get(r.node) ?? 0) + 1);
      this.event(pod, 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${r.node}`, 'default-scheduler');
    }
  }
}

export function startWorkloadControllers(store: ObjectStore, log?: (line: string) => void): WorkloadControllers {
  const c = new WorkloadControllers(store, log);
  c.start();
  return c;
}
