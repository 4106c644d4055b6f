// The apiserver's Service registry logic, as an admission hook on the store:
// ClusterIP and NodePort allocation, release, immutability, and upstream's
// 422 messages when a requested address or port cannot be had.
import type { AdmissionRequest, ObjectStore } from '../api/store.js';
import { invalid, type FieldError } from '../api/errors.js';
import type { KubeObject } from '../api/types.js';
import { ClusterIPAllocator, NodePortAllocator, type Random } from './allocators.js';

interface ServicePort {
  name?: string;
  port?: number;
  protocol?: string;
  nodePort?: number;
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: ServicePort[];
  externalTrafficPolicy?: string;
  healthCheckNodePort?: number;
}

export interface ServiceAdmissionOptions {
  serviceCIDR: string;
  nodePortRange: { base: number; size: number };
  random?: Random;
}

const specOf = (o: KubeObject | undefined): ServiceSpec => ((o?.['spec'] ?? {}) as ServiceSpec);
const needsNodePorts = (type?: string) => type === 'NodePort' || type === 'LoadBalancer';
const hasClusterIP = (s: ServiceSpec) => s.type !== 'ExternalName' && s.clusterIP !== 'None';

function fieldInvalid(field: string, value: string, why: string): FieldError {
  return { type: 'FieldValueInvalid', field, body: `Invalid value: ${value}: ${why}` };
}

export class ServiceAllocations {
  readonly ips: ClusterIPAllocator;
  readonly ports: NodePortAllocator;

  constructor(opts: ServiceAdmissionOptions) {
    this.ips = new ClusterIPAllocator(opts.serviceCIDR, opts.random);
    this.ports = new NodePortAllocator(opts.nodePortRange.base, opts.nodePortRange.size, opts.random);
  }

  /** Mark what existing Services hold (the store may have been seeded). */
  rebuild(services: KubeObject[]): void {
    for (const svc of services) {
      const s = specOf(svc);
      if (s.clusterIP && s.clusterIP !== 'None') this.ips.allocate(s.clusterIP);
      for (const p of s.ports ?? []) if (p.nodePort) this.ports.allocate(p.nodePort);
    }
  }

  admit(req: AdmissionRequest): void {
    if (req.subresource === 'status') return;
    const name = req.object.metadata.name ?? '';
    if (req.operation === 'DELETE') {
      if (!req.dryRun) this.release(specOf(req.oldObject ?? req.object));
      return;
    }
    const spec = specOf(req.object);
    const old = req.operation === 'UPDATE' ? specOf(req.oldObject) : undefined;
    const errs: FieldError[] = [];
    const taken: Array<() => void> = [];

    // ClusterIP: kept across updates, allocated once.
    if (hasClusterIP(spec)) {
      if (old?.clusterIP && old.clusterIP !== 'None') {
        if (spec.clusterIP && spec.clusterIP !== old.clusterIP) {
          errs.push(fieldInvalid('spec.clusterIPs[0]', `[]string{"${spec.clusterIP}"}`, 'may not change once set'));
        }
        spec.clusterIP = old.clusterIP;
      } else if (spec.clusterIP) {
        const r = this.ips.allocate(spec.clusterIP);
        if (r === 'ok') taken.push(() => this.ips.release(spec.clusterIP ?? ''));
        else {
          const why =
            r === 'taken'
              ? 'provided IP is already allocated'
              : `the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${this.ips.rangeText}`;
          errs.push(fieldInvalid('spec.clusterIPs', `[]string{"${spec.clusterIP}"}`, `failed to allocate IP ${spec.clusterIP}: ${why}`));
        }
      } else {
        const ip = this.ips.allocateNext();
        if (!ip) errs.push(fieldInvalid('spec.clusterIPs', '[]string{}', 'failed to allocate IP: range is full'));
        else {
          spec.clusterIP = ip;
          taken.push(() => this.ips.release(ip));
        }
      }
      if (spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
    } else if (old?.clusterIP && old.clusterIP !== 'None' && spec.type === 'ExternalName') {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }

    // NodePorts: kept per port when the type keeps them, dropped when it does not.
    const oldPorts = needsNodePorts(old?.type) ? (old?.ports ?? []) : [];
    const kept = new Set<number>();
    (spec.ports ?? []).forEach((p, i) => {
      if (!needsNodePorts(spec.type)) {
        if (p.nodePort && oldPorts.some((o) => o.nodePort === p.nodePort)) delete p.nodePort;
        else if (p.nodePort && old && !needsNodePorts(old.type)) delete p.nodePort;
        return;
      }
      const previous = oldPorts.find((o) => (p.name && o.name === p.name) || (o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP')));
      if (!p.nodePort && previous?.nodePort) p.nodePort = previous.nodePort;
      if (p.nodePort && oldPorts.some((o) => o.nodePort === p.nodePort)) {
        kept.add(p.nodePort);
        return;
      }
      if (p.nodePort) {
        const r = this.ports.allocate(p.nodePort);
        if (r === 'ok') {
          const port = p.nodePort;
          taken.push(() => this.ports.release(port));
        } else {
          const why =
            r === 'taken' ? 'provided port is already allocated' : `provided port is not in the valid range. The range of valid ports is ${this.ports.rangeText}`;
          errs.push(fieldInvalid(`spec.ports[${i}].nodePort`, String(p.nodePort), why));
        }
      } else {
        const port = this.ports.allocateNext();
        if (port === undefined) errs.push(fieldInvalid(`spec.ports[${i}].nodePort`, '0', 'range is full'));
        else {
          p.nodePort = port;
          taken.push(() => this.ports.release(port));
        }
      }
    });

    if (errs.length > 0 || req.dryRun) {
      for (const undo of taken) undo();
      if (errs.length > 0) throw invalid('Service', '', name, errs);
      return;
    }
    for (const o of oldPorts) if (o.nodePort && !kept.has(o.nodePort)) this.ports.release(o.nodePort);
  }

  private release(s: ServiceSpec): void {
    if (s.clusterIP && s.clusterIP !== 'None') this.ips.release(s.clusterIP);
    for (const p of s.ports ?? []) if (p.nodePort) this.ports.release(p.nodePort);
  }
}

export function installServiceAdmission(store: ObjectStore, opts: ServiceAdmissionOptions): ServiceAllocations {
  const alloc = new ServiceAllocations(opts);
  alloc.rebuild(store.list('services').items);
  store.addAdmissionHook('services', (req) => alloc.admit(req));
  return alloc;
}
