// kube-proxy's change tracking (ServiceChangeTracker + EndpointsChangeTracker,
// simplified): Services and EndpointSlices as the watch delivers them, the
// services touched since the last look, and per service a fingerprint of what
// the proxy renders from it, so a sync can tell which services changed since
// the last successful one.
import type { KubeObject, WatchEvent } from '../api/types.js';
import { compareServicePorts, type ProxyState } from './iptables.js';
import { endpointsOfSlices, keyOf, servicePorts, sliceServiceName, type EndpointInfo, type ServicePortInfo } from './model.js';

interface ServiceEntry {
  ports: ServicePortInfo[];
  endpoints: Map<string, EndpointInfo[]>;
  fingerprint: string;
}

function objKey(o: KubeObject): string {
  return `${o.metadata.namespace ?? 'default'}/${o.metadata.name ?? ''}`;
}

export class ChangeTracker {
  private readonly services = new Map<string, KubeObject>();
  private readonly slices = new Map<string, KubeObject>();
  /** Slices per service ("namespace/name" from the service-name label). */
  private readonly slicesByService = new Map<string, Set<string>>();
  /** Services touched by events since their entry was last computed. */
  private readonly touched = new Set<string>();
  private readonly entries = new Map<string, ServiceEntry>();
  /** Fingerprints as of the last successful sync. */
  private readonly applied = new Map<string, string>();

  /** @param onTouch called after every event that may change a service. */
  constructor(
    private readonly nodeName: string,
    private readonly onTouch: () => void = () => {},
  ) {}

  onServiceUpsert(svc: KubeObject): void {
    this.services.set(objKey(svc), svc);
    this.touch(objKey(svc));
  }

  onServiceDelete(svc: KubeObject): void {
    this.services.delete(objKey(svc));
    this.touch(objKey(svc));
  }

  onEndpointSliceUpsert(slice: KubeObject): void {
    const key = objKey(slice);
    this.unlinkSlice(key);
    this.slices.set(key, slice);
    const svc = sliceServiceName(slice);
    if (svc !== undefined) {
      const set = this.slicesByService.get(svc) ?? new Set<string>();
      set.add(key);
      this.slicesByService.set(svc, set);
      this.touch(svc);
    }
  }

  onEndpointSliceDelete(slice: KubeObject): void {
    this.unlinkSlice(objKey(slice));
  }

  /** Feed a watch event of a Service or an EndpointSlice; others are ignored. */
  handleWatchEvent(ev: WatchEvent): void {
    if (ev.type === 'BOOKMARK') return;
    if (ev.object.kind === 'Service') {
      if (ev.type === 'DELETED') this.onServiceDelete(ev.object);
      else this.onServiceUpsert(ev.object);
    } else if (ev.object.kind === 'EndpointSlice') {
      if (ev.type === 'DELETED') this.onEndpointSliceDelete(ev.object);
      else this.onEndpointSliceUpsert(ev.object);
    }
  }

  /** Replace the whole picture with these objects (each list only when given). */
  replaceAll(services?: readonly KubeObject[], slices?: readonly KubeObject[]): void {
    if (services !== undefined) {
      const keep = new Set(services.map(objKey));
      for (const k of [...this.services.keys()]) if (!keep.has(k)) this.onServiceDelete(this.services.get(k) as KubeObject);
      for (const s of services) if (this.services.get(objKey(s)) !== s) this.onServiceUpsert(s);
    }
    if (slices !== undefined) {
      const keep = new Set(slices.map(objKey));
      for (const k of [...this.slices.keys()]) if (!keep.has(k)) this.onEndpointSliceDelete(this.slices.get(k) as KubeObject);
      for (const s of slices) if (this.slices.get(objKey(s)) !== s) this.onEndpointSliceUpsert(s);
    }
  }

  private unlinkSlice(key: string): void {
    const old = this.slices.get(key);
    if (!old) return;
    this.slices.delete(key);
    const svc = sliceServiceName(old);
    if (svc === undefined) return;
    const set = this.slicesByService.get(svc);
    set?.delete(key);
    if (set && set.size === 0) this.slicesByService.delete(svc);
    this.touch(svc);
  }

  private touch(service: string): void {
    this.touched.add(service);
    this.onTouch();
  }

  /** Recompute the touched services; returns those that differ from the last successful sync. */
  changesSinceApplied(): Set<string> {
    for (const svc of this.touched) {
      const obj = this.services.get(svc);
      const ports = obj ? servicePorts(obj) : [];
      const sliceObjs = [...(this.slicesByService.get(svc) ?? [])].map((k) => this.slices.get(k)).filter((x): x is KubeObject => x !== undefined);
      const endpoints = endpointsOfSlices(sliceObjs, this.nodeName);
      if (ports.length === 0 && endpoints.size === 0) {
        this.entries.delete(svc);
        continue;
      }
      const fingerprint = JSON.stringify([ports, ports.map((p) => endpoints.get(keyOf(p)) ?? []), [...endpoints]]);
      this.entries.set(svc, { ports, endpoints, fingerprint });
    }
    this.touched.clear();
    const changed = new Set<string>();
    for (const [svc, e] of this.entries) if (this.applied.get(svc) !== e.fingerprint) changed.add(svc);
    for (const svc of this.applied.keys()) if (!this.entries.has(svc)) changed.add(svc);
    return changed;
  }

  /** Every service known now or at the last successful sync (what a full sync rewrites). */
  allServices(): string[] {
    return [...this.entries.keys(), ...[...this.applied.keys()].filter((s) => !this.entries.has(s))].sort();
  }

  /** The node's desired state from the tracked objects. */
  state(): ProxyState {
    const list: ServicePortInfo[] = [];
    const endpoints = new Map<string, EndpointInfo[]>();
    for (const e of this.entries.values()) {
      list.push(...e.ports);
      for (const [k, v] of e.endpoints) endpoints.set(k, v);
    }
    list.sort(compareServicePorts);
    return { servicePorts: list, endpoints };
  }

  /** The current entries are in the kernel now. */
  markApplied(): void {
    this.applied.clear();
    for (const [svc, e] of this.entries) this.applied.set(svc, e.fingerprint);
  }
}
