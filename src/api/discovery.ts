// Discovery documents built from the resource registry: the legacy
// /api, /apis, /api/v1, /apis/<g>/<v> documents, the aggregated discovery
// (apidiscovery.k8s.io/v2 and v2beta1) that kubectl asks for first, and a
// minimal OpenAPI v3 (paths with their PATCH operations and the
// fieldValidation parameter, no schemas) so kubectl knows the server
// validates fields itself and skips downloading schemas to validate locally.

import { createHash } from 'node:crypto';
import { apiVersionOf, type GroupVersion, type ResourceRegistry, type ResourceType, type SubresourceType } from './resources.js';

/** Subresources served by handlers outside the registry ("pods/log"), for discovery. */
export type ExtraSubresources = Record<string, SubresourceType[]>;

function storageVersionHash(t: ResourceType): string {
  return createHash('sha256').update(`${t.group}/${t.version}/${t.kind}`).digest().subarray(0, 8).toString('base64');
}

function subresourcesOf(t: ResourceType, extra: ExtraSubresources): SubresourceType[] {
  const key = t.group ? `${t.resource}.${t.group}` : t.resource;
  const all = [...t.subresources, ...(extra[key] ?? [])];
  return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
}

export function apiResourceList(registry: ResourceRegistry, gv: GroupVersion, extra: ExtraSubresources): Record<string, unknown> {
  const resources: APIResource[] = [];
  const types = registry.inGroupVersion(gv).sort((a, b) => (a.resource < b.resource ? -1 : 1));
  for (const t of types) {
    const r: APIResource = { name: t.resource, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs };
    if (t.shortNames.length > 0) r.shortNames = t.shortNames;
    if (t.categories.length > 0) r.categories = t.categories;
    r.storageVersionHash = storageVersionHash(t);
    resources.push(r);
    for (const s of subresourcesOf(t, extra)) {
      const sr: APIResource = { name: `${t.resource}/${s.name}`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: s.verbs };
      if (s.kind) {
        sr.group = s.kind.group;
        sr.version = s.kind.version;
        sr.kind = s.kind.kind;
      }
      resources.push(sr);
    }
  }
  const list: Record<string, unknown> = { kind: 'APIResourceList' };
  if (gv.group) list['apiVersion'] = 'v1';
  list['groupVersion'] = apiVersionOf(gv);
  list['resources'] = resources;
  return list;
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(registry: ResourceRegistry, group: string): Record<string, unknown> {
  const versions = registry
    .groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: apiVersionOf(gv), version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

function groupNames(registry: ResourceRegistry): string[] {
  return [...new Set(registry.groupVersions().map((gv) => gv.group))].filter((g) => g !== '');
}

export function apiGroupList(registry: ResourceRegistry): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupNames(registry).map((g) => apiGroup(registry, g)) };
}

export function apiGroupDocument(registry: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  if (!groupNames(registry).includes(group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(registry, group) };
}

export type AggregatedVersion = 'v2' | 'v2beta1';

/** The APIGroupDiscoveryList for /api (legacy: true) or /apis. */
export function aggregatedDiscovery(
  registry: ResourceRegistry,
  legacy: boolean,
  version: AggregatedVersion,
  extra: ExtraSubresources,
): Record<string, unknown> {
  const groups = legacy ? [''] : groupNames(registry);
  const items = groups.map((group) => {
    const metadata: Record<string, unknown> = group ? { name: group, creationTimestamp: null } : { creationTimestamp: null };
    const versions = registry
      .groupVersions()
      .filter((gv) => gv.group === group)
      .map((gv) => ({
        version: gv.version,
        resources: registry
          .inGroupVersion(gv)
          .sort((a, b) => (a.resource < b.resource ? -1 : 1))
          .map((t) => {
            const r: Record<string, unknown> = {
              resource: t.resource,
              responseKind: { group: t.group, version: t.version, kind: t.kind },
              scope: t.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: t.singular,
              verbs: t.verbs,
            };
            if (t.shortNames.length > 0) r['shortNames'] = t.shortNames;
            if (t.categories.length > 0) r['categories'] = t.categories;
            const subs = subresourcesOf(t, extra);
            if (subs.length > 0) {
              r['subresources'] = subs.map((s) => ({
                subresource: s.name,
                responseKind: s.kind ?? { group: t.group, version: t.version, kind: t.kind },
                verbs: s.verbs,
              }));
            }
            return r;
          }),
        freshness: 'Current',
      }));
    return { metadata, versions };
  });
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

// ---- OpenAPI v3 (paths only) ----------------------------------------------------

function gvPath(gv: GroupVersion): string {
  return gv.group ? `apis/${gv.group}/${gv.version}` : 'api/v1';
}

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
}));

export function openApiV3Document(registry: ResourceRegistry, gv: GroupVersion, gitVersion: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const t of registry.inGroupVersion(gv)) {
    const base = `/${gvPath(gv)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}/{name}`;
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    paths[base] = {
      patch: {
        description: `partially update the specified ${t.kind}`,
        operationId: `patch${t.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: QUERY_PARAMS,
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: gitVersion }, paths, components: { schemas: {} } };
}

export function openApiV3Root(registry: ResourceRegistry, gitVersion: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const gv of registry.groupVersions()) {
    const doc = JSON.stringify(openApiV3Document(registry, gv, gitVersion));
    const hash = createHash('sha512').update(doc).digest('hex').toUpperCase().slice(0, 128);
    paths[gvPath(gv)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=${hash}` };
  }
  return { paths };
}

export function openApiV3Lookup(registry: ResourceRegistry, rest: string): GroupVersion | undefined {
  return registry.groupVersions().find((gv) => gvPath(gv) === rest);
}
