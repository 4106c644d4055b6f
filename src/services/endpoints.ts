// The Endpoints and EndpointSlice controllers: for every Service with a
// selector, the pods it selects, their readiness and their resolved target
// ports. Computation is pure; the controller writes only what changed.
import { ReconcileLoop } from '../api/reconcile-loop.js';
import type { ObjectStore } from '../api/store.js';
import { conditionTrue, type KubeObject } from '../api/types.js';

interface Port {
  name?: string;
  port: number;
  protocol: string;
  targetPort?: number | string;
}

interface PodView {
  name: string;
  namespace: string;
  uid: string;
  ip: string;
  nodeName?: string;
  ready: boolean;
  terminating: boolean;
  containerPorts: Array<{ name?: string; containerPort: number; protocol?: string }>;
}

export interface EndpointEntry {
  ip: string;
  nodeName?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  pod: { name: string; namespace: string; uid: string };
}

/** Pods that resolve the Service's ports to the same numbers share one group (one subset, one slice). */
export interface EndpointGroup {
  ports: Array<{ name?: string; port: number; protocol: string }>;
  endpoints: EndpointEntry[];
}

/**
 * A pod as the endpoint controllers see it, or undefined for one that has no
 * place in any endpoint list (ShouldPodBeInEndpoints): no IP yet, or
 * finished (Succeeded/Failed). A terminating pod keeps its place while its
 * containers run: the kubelet removes the pod once they have stopped.
 */
export function podView(p: KubeObject): PodView | undefined {
  const status = (p['status'] ?? {}) as { podIP?: string; phase?: string };
  const spec = (p['spec'] ?? {}) as { nodeName?: string; containers?: Array<{ ports?: PodView['containerPorts'] }> };
  if (!status.podIP) return undefined;
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return undefined;
  return {
    name: p.metadata.name ?? '',
    namespace: p.metadata.namespace ?? 'default',
    uid: p.metadata.uid ?? '',
    ip: status.podIP,
    ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
    ready: conditionTrue(p, 'Ready'),
    terminating: Boolean(p.metadata.deletionTimestamp),
    containerPorts: (spec.containers ?? []).flatMap((c) => c.ports ?? []),
  };
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** A port's target on one pod: a number as is; a name looked up in the pod's container ports. */
function resolveTarget(p: Port, pod: PodView): number | undefined {
  const t = p.targetPort ?? p.port;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(t)) return Number(t);
  return pod.containerPorts.find((c) => c.name === t && (c.protocol ?? 'TCP') === p.protocol)?.containerPort;
}

export function computeEndpoints(service: KubeObject, pods: KubeObject[]): EndpointGroup[] {
  const spec = (service['spec'] ?? {}) as { selector?: Record<string, string>; ports?: Port[]; publishNotReadyAddresses?: boolean };
  const selector = spec.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  const groups = new Map<string, EndpointGroup>();
  for (const p of pods) {
    if (!matches(selector, p.metadata.labels)) continue;
    const view = podView(p);
    if (!view) continue;
    const ports = (spec.ports ?? []).flatMap((sp) => {
      const port = resolveTarget(sp, view);
      return port === undefined ? [] : [{ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' }];
    });
    const key = JSON.stringify(ports);
    const group = groups.get(key) ?? { ports, endpoints: [] };
    // podToEndpoint: serving is the pod's readiness; ready never holds for a terminating pod,
    // unless publishNotReadyAddresses makes every endpoint ready.
    const ready = Boolean(spec.publishNotReadyAddresses) || (view.ready && !view.terminating);
    group.endpoints.push({
      ip: view.ip,
      ...(view.nodeName ? { nodeName: view.nodeName } : {}),
      ready,
      serving: view.ready,
      terminating: view.terminating,
      pod: { name: view.name, namespace: view.namespace, uid: view.uid },
    });
    groups.set(key, group);
  }
  for (const g of groups.values()) g.endpoints.sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }));
  return [...groups.values()].sort((a, b) => JSON.stringify(a.ports).localeCompare(JSON.stringify(b.ports)));
}

function address(e: EndpointEntry): Record<string, unknown> {
  return {
    ip: e.ip,
    ...(e.nodeName ? { nodeName: e.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: e.pod.namespace, name: e.pod.name, uid: e.pod.uid },
  };
}

/**
 * core/v1 Endpoints subsets, as the endpoints controller writes them:
 * terminating pods left out unless publishNotReadyAddresses (the one case
 * where a terminating endpoint is `ready`), not-ready ones apart.
 */
export function endpointSubsets(groups: EndpointGroup[]): Array<Record<string, unknown>> {
  return groups
    .map((g) => {
      const live = g.endpoints.filter((e) => !e.terminating || e.ready);
      const ready = live.filter((e) => e.ready).map(address);
      const notReady = live.filter((e) => !e.ready).map(address);
      return {
        ...(ready.length ? { addresses: ready } : {}),
        ...(notReady.length ? { notReadyAddresses: notReady } : {}),
        ...(g.ports.length ? { ports: g.ports } : {}),
      };
    })
    .filter((s) => s.addresses || s.notReadyAddresses);
}

export function sliceEndpoints(g: EndpointGroup): Array<Record<string, unknown>> {
  return g.endpoints.map((e) => ({
    addresses: [e.ip],
    conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
    ...(e.nodeName ? { nodeName: e.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: e.pod.namespace, name: e.pod.name, uid: e.pod.uid },
  }));
}

const SLICES = 'endpointslices.discovery.k8s.io';
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
const CONTROLLER = 'endpointslice-controller.k8s.io';

export class EndpointControllers {
  private readonly loop: ReconcileLoop;

  constructor(
    private readonly store: ObjectStore,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.loop = new ReconcileLoop(store, ['services', 'pods'], () => this.reconcile(), (e) => this.log(`endpoints: ${e instanceof Error ? e.message : String(e)}`), 100);
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  reconcile(): void {
    const services = this.store.list('services').items;
    const pods = this.store.list('pods').items;
    for (const svc of services) {
      const spec = (svc['spec'] ?? {}) as { selector?: Record<string, string>; type?: string };
      if (!spec.selector || Object.keys(spec.selector).length === 0 || spec.type === 'ExternalName') continue;
      const ns = svc.metadata.namespace ?? 'default';
      const groups = computeEndpoints(svc, pods.filter((p) => p.metadata.namespace === ns));
      this.writeEndpoints(svc, groups);
      this.writeSlices(svc, groups);
    }
    // Endpoints outlive nothing: the Service went, so do they (slices go by ownerReference).
    for (const ep of this.store.list('endpoints').items) {
      const owned = ep.metadata.labels?.['nslab.io/managed-by'] === 'endpoints-controller';
      if (owned && !services.some((s) => s.metadata.namespace === ep.metadata.namespace && s.metadata.name === ep.metadata.name)) {
        this.store.delete('endpoints', ep.metadata.namespace, ep.metadata.name ?? '');
      }
    }
  }

  private writeEndpoints(svc: KubeObject, groups: EndpointGroup[]): void {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const subsets = endpointSubsets(groups);
    const existing = this.store.find('endpoints', ns, name);
    if (existing && JSON.stringify(existing['subsets'] ?? []) === JSON.stringify(subsets)) return;
    const labels = { ...(svc.metadata.labels ?? {}), 'nslab.io/managed-by': 'endpoints-controller' };
    const annotations = { 'endpoints.kubernetes.io/last-change-trigger-time': new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    // The API omits an empty subsets list (omitempty), as kubectl shows it.
    const body = subsets.length > 0 ? { subsets } : {};
    if (existing) {
      const { subsets: _old, ...rest } = existing;
      this.store.update('endpoints', { ...rest, metadata: { ...existing.metadata, labels, annotations }, ...body });
    } else this.store.create('endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns, labels, annotations }, ...body });
  }

  private writeSlices(svc: KubeObject, groups: EndpointGroup[]): void {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const existing = this.store
      .list(SLICES, { namespace: ns, labelSelector: `kubernetes.io/service-name=${name},${MANAGED_BY}=${CONTROLLER}` })
      .items.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    // A Service without endpoints still gets one (empty) slice, as upstream.
    const wanted = groups.length ? groups : [{ ports: [], endpoints: [] }];
    wanted.forEach((g, i) => {
      // Slice ports always carry a name, "" when the Service port has none (clients dereference it).
      const ports = g.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol }));
      const body = { addressType: 'IPv4', endpoints: sliceEndpoints(g), ...(ports.length ? { ports } : {}) };
      const current = existing[i];
      if (current) {
        const seen = { addressType: current['addressType'], endpoints: current['endpoints'] ?? [], ...(current['ports'] ? { ports: current['ports'] } : {}) };
        const same = JSON.stringify(seen) === JSON.stringify(body);
        if (!same) this.store.update(SLICES, { ...current, ...body });
        return;
      }
      this.store.create(SLICES, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          generateName: `${name}-`,
          namespace: ns,
          labels: { ...(svc.metadata.labels ?? {}), 'kubernetes.io/service-name': name, [MANAGED_BY]: CONTROLLER },
          ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
        },
        ...body,
      });
    });
    for (const extra of existing.slice(wanted.length)) this.store.delete(SLICES, ns, extra.metadata.name ?? '');
  }
}

export function startEndpointControllers(store: ObjectStore, log?: (line: string) => void): EndpointControllers {
  const c = new EndpointControllers(store, log);
  c.start();
  c.reconcile();
  return c;
}
