// Pods, Services and Endpoints as the lab's API returns them, reduced to the
// ClusterView the picture needs. Pure; malformed objects are skipped, not fatal.
import { arr, int, rec, str, type KubeObject } from '../api/types.js';
import type { ClusterView, GraphServicePort } from './model.js';

export function clusterView(pods: readonly KubeObject[], services: readonly KubeObject[], endpoints: readonly KubeObject[]): ClusterView {
  const viewPods = pods.flatMap((p) => {
    const spec = rec(p['spec']);
    const ip = str(rec(p['status'])['podIP']);
    const node = str(spec['nodeName']);
    // A host-network pod shares its node's address: it is the node, not a pod on the pod network.
    if (!ip || !node || spec['hostNetwork'] === true) return [];
    return [{ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name ?? '', node, ip }];
  });
  const endpointsOf = new Map(endpoints.map((e) => [`${e.metadata.namespace ?? 'default'}/${e.metadata.name ?? ''}`, e]));
  const viewServices = services.map((s) => {
    const spec = rec(s['spec']);
    const namespace = s.metadata.namespace ?? 'default';
    const name = s.metadata.name ?? '';
    const clusterIP = str(spec['clusterIP']);
    const ports = arr(spec['ports']).map((raw): GraphServicePort => {
      const p = rec(raw);
      const nodePort = int(p['nodePort']);
      return {
        ...(str(p['name']) ? { name: str(p['name']) } : {}),
        protocol: str(p['protocol']) || 'TCP',
        port: int(p['port']),
        ...(nodePort ? { nodePort } : {}),
      };
    });
    const byIp = new Map<string, Set<number>>();
    for (const subset of arr(endpointsOf.get(`${namespace}/${name}`)?.['subsets'])) {
      const subsetPorts = arr(rec(subset)['ports']).map((p) => int(rec(p)['port']));
      for (const a of arr(rec(subset)['addresses'])) {
        const ip = str(rec(a)['ip']);
        if (!ip) continue;
        const set = byIp.get(ip) ?? new Set<number>();
        subsetPorts.forEach((p) => set.add(p));
        byIp.set(ip, set);
      }
    }
    return {
      namespace,
      name,
      type: str(spec['type']) || 'ClusterIP',
      ...(clusterIP && clusterIP !== 'None' ? { clusterIP } : {}),
      ports,
      endpoints: [...byIp.entries()].map(([ip, set]) => ({ ip, ports: [...set].sort((a, b) => a - b) })),
    };
  });
  return { pods: viewPods, services: viewServices };
}
