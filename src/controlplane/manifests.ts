// The lab file's `manifests:`, read like `kubectl apply -f` reads them and
// stored the way kubectl apply leaves objects (with the last-applied
// annotation), so a later `kubectl apply` of the same files is an update.
import { readFile } from 'node:fs/promises';
import YAML, { isMap, isNode, isScalar, LineCounter } from 'yaml';
import type { SpecProblem } from '../labfile/types.js';
import { ResourceRegistry, resourceKey } from '../api/resources.js';
import type { ObjectStore } from '../api/store.js';
import { isRecord, type KubeObject } from '../api/types.js';
import { objectPathErrors, type PathFieldError } from '../api/validation-paths.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export interface Manifest {
  file: string;
  line: number;
  object: KubeObject;
}

/** Parse manifest files; every document must be a Kubernetes object of a kind the lab serves. */
export function parseManifests(
  sources: Array<{ file: string; text: string }>,
  registry: ResourceRegistry = new ResourceRegistry(),
): { manifests: Manifest[]; problems: SpecProblem[] } {
  const manifests: Manifest[] = [];
  const problems: SpecProblem[] = [];
  for (const { file, text } of sources) {
    const lines = new LineCounter();
    for (const doc of YAML.parseAllDocuments(text, { lineCounter: lines })) {
      const at = (offset: number, field: string, message: string) => {
        const pos = lines.linePos(offset);
        problems.push({ file, line: pos.line, col: pos.col, field, message });
      };
      const start = doc.contents?.range[0] ?? doc.range[0];
      if (doc.errors.length > 0) {
        for (const e of doc.errors) at(e.pos[0], '', e.message);
        continue;
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue;
      if (!isRecord(value) || typeof value['apiVersion'] !== 'string' || typeof value['kind'] !== 'string') {
        at(start, '', 'not a Kubernetes object: apiVersion and kind are required');
        continue;
      }
      const { apiVersion, kind } = value as { apiVersion: string; kind: string };
      if (kind.endsWith('List') && Array.isArray(value['items'])) {
        at(start, 'kind', `${kind}: put each object in its own YAML document (---)`);
        continue;
      }
      if (!registry.forKind(apiVersion, kind)) {
        at(start, 'kind', `${apiVersion} ${kind} is not served by nslab`);
        continue;
      }
      const metadata = value['metadata'];
      if (!isRecord(metadata) || (typeof metadata['name'] !== 'string' && typeof metadata['generateName'] !== 'string')) {
        at(start, 'metadata.name', 'is required');
        continue;
      }
      // Names the kubelet joins into host paths get the apiserver's checks before `up` builds anything.
      const pathErrors = objectPathErrors(value as unknown as KubeObject);
      for (const e of pathErrors) at(offsetOf(doc, e) ?? start, e.field, e.body);
      if (pathErrors.length > 0) continue;
      manifests.push({ file, line: lines.linePos(start).line, object: value as unknown as KubeObject });
    }
  }
  return { manifests, problems };
}

/** Where the field of a path error is written: its value, or its key for a problem with the key. */
function offsetOf(doc: YAML.Document.Parsed, e: PathFieldError): number | undefined {
  const key = e.at[e.at.length - 1];
  const parent = e.onKey ? doc.getIn(e.at.slice(0, -1), true) : undefined;
  const node = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === key)?.key : doc.getIn(e.at, true);
  return isNode(node) ? node.range?.[0] : undefined;
}

export async function readManifests(files: string[]): Promise<{ manifests: Manifest[]; problems: SpecProblem[] }> {
  const sources = await Promise.all(files.map(async (file) => ({ file, text: await readFile(file, 'utf8') })));
  return parseManifests(sources);
}

/** Create or replace each object as `kubectl apply` would leave it. */
export function applyManifests(store: ObjectStore, manifests: Manifest[]): KubeObject[] {
  const applied: KubeObject[] = [];
  for (const { object } of manifests) {
    const resource = resourceOf(store, object);
    const rt = store.resourceType(resource);
    const obj: KubeObject = structuredClone(object);
    const annotations = { ...(obj.metadata.annotations ?? {}) };
    annotations[LAST_APPLIED] = `${JSON.stringify(object)}\n`;
    obj.metadata = { ...obj.metadata, annotations };
    if (rt.namespaced && !obj.metadata.namespace) obj.metadata.namespace = 'default';
    const existing = obj.metadata.name ? store.find(resource, obj.metadata.namespace, obj.metadata.name) : undefined;
    applied.push(
      existing
        ? store.update(resource, { ...obj, metadata: { ...obj.metadata, resourceVersion: existing.metadata.resourceVersion } })
        : store.create(resource, obj),
    );
  }
  return applied;
}

function resourceOf(store: ObjectStore, obj: KubeObject): string {
  const rt = store.registry.forKind(obj.apiVersion, obj.kind);
  if (!rt) throw new Error(`${obj.apiVersion} ${obj.kind} is not served`);
  return resourceKey(rt);
}
