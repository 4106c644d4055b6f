// The declarative registry of served resource types. Discovery, routing,
// the store and the Table printer all read it; serving another resource is
// one more entry in BUILTIN_RESOURCES.
//
//   const registry = new ResourceRegistry();          // the built-in set
//   registry.get('deployments.apps')                  // by GroupResource string
//   registry.byPath('apps', 'v1', 'deployments')      // by URL segments
//   registry.forKind('apps/v1', 'Deployment')          // by an object's type

import type { GroupResource } from './errors.js';
import { STRATEGIES, type NameRule, type Strategy } from './strategies.js';
import { PRINTERS, defaultPrinter, type TablePrinter } from './tables.js';

export interface SubresourceType {
  name: string;
  verbs: string[];
  /** Response kind if not the parent's (e.g. Scale in autoscaling/v1). */
  kind?: { group: string; version: string; kind: string };
}

export interface ResourceType extends GroupResource {
  version: string;
  kind: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  verbs: string[];
  categories: string[];
  subresources: SubresourceType[];
  printer: TablePrinter;
  strategy: Strategy;
  /** Which name syntax metadata.name must follow. */
  nameRule: NameRule;
  /** metadata.generation is maintained (strategies that bump it on spec changes). */
  tracksGeneration: boolean;
  /** DELETE answers with the object (pods, services, namespaces) instead of Status Success. */
  returnDeletedObject: boolean;
  /** Deletion sets deletionTimestamp and waits for the kubelet (pods on a node). */
  gracefulDeletion: boolean;
  /** Field-selector names that are not plain paths (events: source -> source.component). */
  fieldAliases: Record<string, string>;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS: SubresourceType = { name: 'status', verbs: ['get', 'patch', 'update'] };
const SCALE: SubresourceType = {
  name: 'scale',
  verbs: ['get', 'patch', 'update'],
  kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
};

type ResourceEntry = Pick<ResourceType, 'group' | 'version' | 'kind' | 'resource' | 'namespaced'> & Partial<ResourceType>;

/** Fills an entry's defaults; the printer and strategy come from the kind. */
export function defineResource(e: ResourceEntry): ResourceType {
  return {
    singular: e.kind.toLowerCase(),
    shortNames: [],
    verbs: ALL_VERBS,
    categories: [],
    subresources: [],
    printer: (PRINTERS as Record<string, TablePrinter>)[e.kind] ?? defaultPrinter,
    strategy: STRATEGIES[e.kind] ?? {},
    nameRule: 'dns1123-subdomain',
    tracksGeneration: false,
    returnDeletedObject: false,
    gracefulDeletion: false,
    fieldAliases: {},
    ...e,
  };
}

export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  defineResource({
    group: '',
    version: 'v1',
    kind: 'Namespace',
    resource: 'namespaces',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [{ name: 'finalize', verbs: ['update'] }, STATUS],
    nameRule: 'dns1123-label',
    returnDeletedObject: true,
  }),
  defineResource({
    group: '',
    version: 'v1',
    kind: 'Node',
    resource: 'nodes',
    namespaced: false,
    shortNames: ['no'],
    subresources: [STATUS],
  }),
  defineResource({
    group: '',
    version: 'v1',
    kind: 'Service',
    resource: 'services',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    subresources: [STATUS],
    nameRule: 'dns1035-label',
    returnDeletedObject: true,
  }),
  defineResource({
    group: '',
    version: 'v1',
    kind: 'Endpoints',
    resource: 'endpoints',
    singular: 'endpoints',
    namespaced: true,
    shortNames: ['ep'],
  }),
  defineResource({ group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true, shortNames: ['cm'] }),
  defineResource({
    group: '',
    version: 'v1',
    kind: 'Event',
    resource: 'events',
    namespaced: true,
    shortNames: ['ev'],
    nameRule: 'path-segment',
    fieldAliases: { source: 'source.component' },
  }),
  defineResource({
    group: '',
    version: 'v1',
    kind: 'Pod',
    resource: 'pods',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: [STATUS],
    returnDeletedObject: true,
    gracefulDeletion: true,
  }),
  defineResource({ group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', resource: 'endpointslices', namespaced: true }),
  defineResource({
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    resource: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: [SCALE, STATUS],
    tracksGeneration: true,
  }),
  defineResource({
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    resource: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    subresources: [SCALE, STATUS],
    tracksGeneration: true,
  }),
  defineResource({
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    resource: 'daemonsets',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    subresources: [STATUS],
    tracksGeneration: true,
  }),
  defineResource({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases', namespaced: true }),
];

export interface GroupVersion {
  group: string;
  version: string;
}

export function apiVersionOf(gv: GroupVersion): string {
  return gv.group ? `${gv.group}/${gv.version}` : gv.version;
}

export function parseApiVersion(apiVersion: string): GroupVersion {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export class ResourceRegistry {
  private readonly byKey = new Map<string, ResourceType>();

  constructor(types: readonly ResourceType[] = BUILTIN_RESOURCES) {
    for (const t of types) this.add(t);
  }

  add(t: ResourceType): void {
    this.byKey.set(resourceKey(t), t);
  }

  /** By GroupResource string: "pods", "deployments.apps". */
  get(key: string): ResourceType | undefined {
    return this.byKey.get(key);
  }

  /** Like get, for callers that know the key is served. */
  must(key: string): ResourceType {
    const t = this.byKey.get(key);
    if (!t) throw new Error(`resource ${key} is not registered`);
    return t;
  }

  byPath(group: string, version: string, plural: string): ResourceType | undefined {
    const t = this.byKey.get(group ? `${plural}.${group}` : plural);
    return t && t.version === version ? t : undefined;
  }

  forKind(apiVersion: string, kind: string): ResourceType | undefined {
    const gv = parseApiVersion(apiVersion);
    return this.all().find((t) => t.group === gv.group && t.version === gv.version && t.kind === kind);
  }

  all(): ResourceType[] {
    return [...this.byKey.values()];
  }

  /** Served group/versions, core first then groups in registration order. */
  groupVersions(): GroupVersion[] {
    const seen = new Map<string, GroupVersion>();
    for (const t of this.all()) {
      const k = apiVersionOf(t);
      if (!seen.has(k)) seen.set(k, { group: t.group, version: t.version });
    }
    return [...seen.values()].sort((a, b) => (a.group === '' ? -1 : b.group === '' ? 1 : 0));
  }

  inGroupVersion(gv: GroupVersion): ResourceType[] {
    return this.all().filter((t) => t.group === gv.group && t.version === gv.version);
  }
}

/** "pods", "deployments.apps". */
export function resourceKey(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}
