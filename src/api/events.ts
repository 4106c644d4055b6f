// core/v1 Events, as controllers and kubelets record them for
// `kubectl describe` and `kubectl get events`; repeats bump the count.
import type { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';
import { rfc3339 } from './types.js';

let lastNanos = 0n;
function nowNanos(): bigint {
  const n = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNanos = n > lastNanos ? n : lastNanos + 1n;
  return lastNanos;
}

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  component: string;
  host?: string;
}

export function recordEvent(store: ObjectStore, obj: KubeObject, type: EventType, reason: string, message: string, source: EventSource, fieldPath?: string): void {
  const namespace = obj.metadata.namespace ?? 'default';
  const now = rfc3339(new Date());
  const involvedObject = {
    kind: obj.kind,
    namespace,
    name: obj.metadata.name,
    uid: obj.metadata.uid,
    apiVersion: obj.apiVersion,
    resourceVersion: obj.metadata.resourceVersion,
    ...(fieldPath ? { fieldPath } : {}),
  };
  try {
    const same = store
      .list('events', { namespace })
      .items.find((e) => {
        const io = e['involvedObject'] as { uid?: string; fieldPath?: string } | undefined;
        return io?.uid === obj.metadata.uid && e['reason'] === reason && e['message'] === message && io?.fieldPath === fieldPath;
      });
    if (same) {
      store.update('events', { ...same, count: Number(same['count'] ?? 1) + 1, lastTimestamp: now });
      return;
    }
    store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      // As client-go's recorder names them: the object's name and the time in hex nanoseconds,
      // so events of one object list in the order they happened.
      metadata: { name: `${obj.metadata.name}.${nowNanos().toString(16)}`, namespace },
      involvedObject,
      reason,
      message,
      type,
      source,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    });
  } catch {
    // Events are best effort, as in Kubernetes: the namespace may be going away.
  }
}
