// The three patch formats PATCH accepts:
//   application/merge-patch+json            RFC 7386
//   application/json-patch+json             RFC 6902
//   application/strategic-merge-patch+json  kube's strategic merge patch
//
// Strategic merge is approximated: lists are merged by key for the fields
// that have a patchMergeKey in the built-in types we serve (containers by
// name, container ports by containerPort, service ports by port, volumes,
// env, volumeMounts, conditions, ownerReferences...), other lists are
// replaced, and the $patch, $retainKeys, $setElementOrder and
// $deleteFromPrimitiveList directives are honoured. This covers what
// `kubectl apply`, `edit`, `label`, `annotate`, `scale` and `set image` send.

import { ApiError, badRequest } from './errors.js';
import { clone, deepEqual, isRecord, type JsonRecord } from './types.js';

export type PatchType = 'merge' | 'json' | 'strategic';

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
};

export function applyPatch(type: PatchType, target: JsonRecord, patch: unknown, kind: string): unknown {
  switch (type) {
    case 'merge':
      return mergePatch(target, patch);
    case 'json':
      return jsonPatch(target, patch);
    case 'strategic':
      return strategicMerge(target, patch, [], kind);
  }
}

// ---- RFC 7386 -----------------------------------------------------------

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const out: JsonRecord = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// ---- RFC 6902 -----------------------------------------------------------

function unprocessable(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

function parsePointer(p: unknown): string[] {
  if (typeof p !== 'string' || (p !== '' && !p.startsWith('/'))) throw badRequest(`invalid JSON pointer: ${JSON.stringify(p)}`);
  if (p === '') return [];
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = JsonRecord | unknown[];

/** The parent of the pointed-to location and the last token. */
function locate(doc: unknown, tokens: string[], pointer: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isRecord(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw unprocessable(`jsonpatch: path ${pointer} does not exist`);
  }
  if (!Array.isArray(cur) && !isRecord(cur)) throw unprocessable(`jsonpatch: path ${pointer} does not exist`);
  return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean, pointer: string): number {
  if (forInsert && key === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(key)) throw unprocessable(`jsonpatch: invalid array index in ${pointer}`);
  const i = Number(key);
  if (i > arr.length || (!forInsert && i === arr.length)) throw unprocessable(`jsonpatch: index out of range in ${pointer}`);
  return i;
}

function getAt(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isRecord(cur)) cur = Object.prototype.hasOwnProperty.call(cur, t) ? cur[t] : undefined;
    else cur = undefined;
    if (cur === undefined) throw unprocessable(`jsonpatch: path ${pointer} does not exist`);
  }
  return cur;
}

function removeAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw unprocessable('jsonpatch: cannot remove the document root');
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, false, pointer);
    return parent.splice(i, 1)[0];
  }
  if (!Object.prototype.hasOwnProperty.call(parent, key)) throw unprocessable(`jsonpatch: path ${pointer} does not exist`);
  const v = parent[key];
  delete parent[key];
  return v;
}

function addAt(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, pointer), 0, value);
  else parent[key] = value;
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations');
  let doc: unknown = clone(target);
  for (const raw of ops) {
    if (!isRecord(raw)) throw badRequest('json patch operation must be an object');
    const op = raw['op'];
    const path = raw['path'];
    if (typeof path !== 'string') throw badRequest(`json patch operation ${JSON.stringify(op)} needs a path`);
    switch (op) {
      case 'add':
        doc = addAt(doc, path, clone(raw['value']));
        break;
      case 'remove':
        removeAt(doc, path);
        break;
      case 'replace': {
        if (parsePointer(path).length === 0) {
          doc = clone(raw['value']);
          break;
        }
        getAt(doc, path);
        const { parent, key } = locate(doc, parsePointer(path), path);
        if (Array.isArray(parent)) parent[arrayIndex(parent, key, false, path)] = clone(raw['value']);
        else parent[key] = clone(raw['value']);
        break;
      }
      case 'move': {
        const from = raw['from'];
        if (typeof from !== 'string') throw badRequest('json patch move needs "from"');
        doc = addAt(doc, path, removeAt(doc, from));
        break;
      }
      case 'copy': {
        const from = raw['from'];
        if (typeof from !== 'string') throw badRequest('json patch copy needs "from"');
        doc = addAt(doc, path, clone(getAt(doc, from)));
        break;
      }
      case 'test':
        if (!deepEqual(getAt(doc, path), raw['value'])) throw unprocessable(`jsonpatch: test operation for path ${path} failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${String(op)}`);
    }
  }
  return doc;
}

// ---- strategic merge ---------------------------------------------------------

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/** The patchMergeKey of the list at `path`, or undefined for atomic lists. */
function mergeKeyFor(path: string[], kind: string): string | undefined {
  const field = path[path.length - 1] ?? '';
  const parent = path[path.length - 2] ?? '';
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'hostAliases':
      return 'ip';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    case 'conditions':
      return 'type';
    case 'ownerReferences':
      return 'uid';
    case 'addresses':
      return parent === 'status' && kind === 'Node' ? 'type' : undefined;
    case 'ports':
      if (CONTAINER_LISTS.has(path[path.length - 3] ?? '')) return 'containerPort';
      return kind === 'Service' && parent === 'spec' ? 'port' : undefined;
  }
  return undefined;
}

/** Primitive lists with patchStrategy "merge" (union instead of replace). */
function mergesPrimitives(path: string[]): boolean {
  return path.length === 2 && path[0] === 'metadata' && path[1] === 'finalizers';
}

const DIRECTIVE = /^\$(patch|retainKeys)$|^\$(setElementOrder|deleteFromPrimitiveList)\//;

/** A patch value with its directives stripped, for parts that have nothing to merge into. */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((e) => !(isRecord(e) && e['$patch'] === 'delete')).map(stripDirectives);
  if (!isRecord(v)) return v;
  const out: JsonRecord = {};
  for (const [k, x] of Object.entries(v)) {
    if (DIRECTIVE.test(k) || x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function strategicMerge(original: unknown, patch: unknown, path: string[], kind: string): unknown {
  if (!isRecord(patch)) return clone(patch);
  const directive = patch['$patch'];
  if (directive === 'replace') return stripDirectives(patch);
  if (directive === 'delete') return undefined;
  const out: JsonRecord = isRecord(original) ? clone(original) : {};
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (DIRECTIVE.test(k)) continue;
    const childPath = [...path, k];
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v)) {
      out[k] = mergeList(out[k], v, childPath, kind);
    } else if (isRecord(v)) {
      const merged = strategicMerge(out[k], v, childPath, kind);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = v;
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    const del = /^\$deleteFromPrimitiveList\/(.+)$/.exec(k);
    if (del?.[1] && Array.isArray(v) && Array.isArray(out[del[1]])) {
      out[del[1]] = (out[del[1]] as unknown[]).filter((x) => !v.some((d) => deepEqual(d, x)));
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    const order = /^\$setElementOrder\/(.+)$/.exec(k);
    const field = order?.[1];
    if (field && Array.isArray(v) && Array.isArray(out[field])) {
      out[field] = applyOrder(out[field] as unknown[], v, mergeKeyFor([...path, field], kind));
    }
  }
  return out;
}

function mergeList(original: unknown, patch: unknown[], path: string[], kind: string): unknown[] {
  const orig = Array.isArray(original) ? original : [];
  if (patch.some((e) => isRecord(e) && e['$patch'] === 'replace')) {
    return patch.filter((e) => !(isRecord(e) && e['$patch'] === 'replace')).map(stripDirectives);
  }
  const key = mergeKeyFor(path, kind);
  if (key === undefined) {
    if (mergesPrimitives(path)) {
      const out = [...orig];
      for (const v of patch) if (!out.some((x) => deepEqual(x, v))) out.push(v);
      return out;
    }
    return stripDirectives(patch) as unknown[];
  }
  const out = orig.map((e) => clone(e));
  for (const p of patch) {
    if (!isRecord(p)) continue;
    const idx = out.findIndex((e) => isRecord(e) && deepEqual(e[key], p[key]));
    if (p['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], p, path, kind);
    else out.push(stripDirectives(p));
  }
  return out;
}

/** $setElementOrder: listed elements first, in that order; others keep their place after. */
function applyOrder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const id = (e: unknown): unknown => (key !== undefined && isRecord(e) ? e[key] : e);
  const wanted = order.map((o) => (key !== undefined && isRecord(o) ? o[key] : o));
  const ordered: unknown[] = [];
  for (const w of wanted) {
    const found = list.find((e) => deepEqual(id(e), w));
    if (found !== undefined) ordered.push(found);
  }
  const rest = list.filter((e) => !wanted.some((w) => deepEqual(id(e), w)));
  return [...ordered, ...rest];
}
