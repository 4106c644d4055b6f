// kube-controller-manager's root CA publisher: a ConfigMap kube-root-ca.crt
// holding the cluster CA in every namespace, put back if it is deleted or
// changed, as `kubectl get cm` shows it in a real cluster.
import type { ObjectStore, WatchHandle } from '../api/store.js';
import type { KubeObject } from '../api/types.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

export function rootCAConfigMap(namespace: string, caCert: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } },
    data: { 'ca.crt': caCert },
  };
}

export function startRootCAPublisher(store: ObjectStore, caCert: string): { stop(): void } {
  const publish = (namespace: string): void => {
    const ns = store.find('namespaces', undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const cm = store.find('configmaps', namespace, ROOT_CA_CONFIGMAP);
    const want = rootCAConfigMap(namespace, caCert);
    try {
      if (!cm) store.create('configmaps', want);
      else if ((cm['data'] as Record<string, string> | undefined)?.['ca.crt'] !== caCert) store.update('configmaps', { ...cm, data: want['data'] });
    } catch {
      // a concurrent write; the watch brings the next event
    }
  };
  const watches: WatchHandle[] = [
    store.watch('namespaces', {}, (ev) => {
      if (ev.type === 'ADDED' || ev.type === 'MODIFIED') publish(ev.object.metadata.name ?? '');
    }),
    store.watch('configmaps', { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` }, (ev) => {
      if (ev.type === 'DELETED' || ev.type === 'MODIFIED') queueMicrotask(() => publish(ev.object.metadata.namespace ?? ''));
    }),
  ];
  return {
    stop() {
      for (const w of watches) w.stop();
    },
  };
}
