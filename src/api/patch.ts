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

import { badRequest, entityTooLarge, patchRejected } from './errors.js';
import { clone, deepEqual, getOwn, isRecord, setOwn, type JsonRecord } from './types.js';

export type PatchType = 'merge' | 'json' | 'strategic';

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
};

/** The apiserver's maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;
/** The apiserver's JSONPatchMaxCopyBytes: how much "copy" operations may add, in total. */
export const JSON_PATCH_MAX_COPY_BYTES = 3 * 1024 * 1024;

export function applyPatch(type: PatchType, target: JsonRecord, patch: unknown, kind: string): unknown {
  switch (type) {
    case 'merge':
      return mergePatch(target, patch);
    case 'json':
      return jsonPatch(target, patch);
    case 'strategic':
      rejectForbiddenKeys(patch);
      return strategicMerge(target, patch, [], kind);
  }
}

// ---- keys no patch may name ------------------------------------------------------

// A patch names keys that the code below walks into and assigns to. Walking
// reads own properties only and assigning defines own properties, so these
// could not reach Object.prototype anyway; they are refused all the same, in
// every patch kind, so that no patch can even ask for them.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The field a strategic-merge directive key applies to ("$setElementOrder/containers" -> "containers"). */
function directiveField(key: string): string | undefined {
  const m = /^\$(?:setElementOrder|deleteFromPrimitiveList)\/(.*)$/s.exec(key);
  return m?.[1];
}

function forbidden(key: string): boolean {
  if (FORBIDDEN_KEYS.has(key)) return true;
  const field = directiveField(key);
  return field !== undefined && FORBIDDEN_KEYS.has(field);
}

/** 422 when any object key anywhere in the patch (values included) is a forbidden one. */
function rejectForbiddenKeys(patch: unknown): void {
  const stack: Array<{ v: unknown; path: string }> = [{ v: patch, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { v, path } = item;
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        if (typeof x === 'object' && x !== null) stack.push({ v: x, path: `${path}[${i}]` });
      });
    } else if (isRecord(v)) {
      for (const [k, x] of Object.entries(v)) {
        const at = path ? `${path}.${k}` : k;
        if (forbidden(k)) throw patchRejected(`the key ${JSON.stringify(k)} is not allowed in a patch`, at, 'FieldValueForbidden');
        if (typeof x === 'object' && x !== null) stack.push({ v: x, path: at });
      }
    }
  }
}

// ---- RFC 7386 -----------------------------------------------------------

export function mergePatch(target: unknown, patch: unknown): unknown {
  rejectForbiddenKeys(patch);
  return merge(target, patch);
}

function merge(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  // Spreading copies own properties as own properties, whatever their names.
  const out: JsonRecord = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, merge(getOwn(out, k), v));
  }
  return out;
}

// ---- RFC 6902 -----------------------------------------------------------

function parsePointer(p: unknown): string[] {
  if (typeof p !== 'string' || (p !== '' && !p.startsWith('/'))) throw patchRejected(`invalid JSON pointer: ${JSON.stringify(p)}`);
  if (p === '') return [];
  const tokens = p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const t of tokens) {
    if (FORBIDDEN_KEYS.has(t)) throw patchRejected(`the path segment ${JSON.stringify(t)} is not allowed`, p, 'FieldValueForbidden');
  }
  return tokens;
}

type Container = JsonRecord | unknown[];

const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

/** The child at one pointer token: an array element or an own property, never anything inherited. */
function child(cur: unknown, token: string): unknown {
  if (Array.isArray(cur)) return ARRAY_INDEX.test(token) ? cur[Number(token)] : undefined;
  if (isRecord(cur)) return getOwn(cur, token);
  return undefined;
}

function missing(pointer: string): never {
  throw patchRejected(`jsonpatch: path ${pointer} does not exist`, pointer);
}

/** The parent of the pointed-to location and the last token. */
function locate(doc: unknown, tokens: string[], pointer: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    cur = child(cur, t);
    if (cur === undefined) missing(pointer);
  }
  if (!Array.isArray(cur) && !isRecord(cur)) missing(pointer);
  return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean, pointer: string): number {
  if (forInsert && key === '-') return arr.length;
  if (!ARRAY_INDEX.test(key)) throw patchRejected(`jsonpatch: invalid array index in ${pointer}`, pointer);
  const i = Number(key);
  if (i > arr.length || (!forInsert && i === arr.length)) throw patchRejected(`jsonpatch: index out of range in ${pointer}`, pointer);
  return i;
}

function getAt(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const t of parsePointer(pointer)) {
    cur = child(cur, t);
    if (cur === undefined) missing(pointer);
  }
  return cur;
}

function removeAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw patchRejected('jsonpatch: cannot remove the document root', pointer);
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, false, pointer);
    return parent.splice(i, 1)[0];
  }
  if (!Object.hasOwn(parent, key)) missing(pointer);
  const v = parent[key];
  delete parent[key];
  return v;
}

function addAt(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, pointer), 0, value);
  else setOwn(parent, key, value);
  return doc;
}

function replaceAt(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  getAt(doc, pointer);
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) parent[arrayIndex(parent, key, false, pointer)] = value;
  else setOwn(parent, key, value);
  return doc;
}

/** The operation's "value", which add, replace and test need. */
function opValue(op: JsonRecord, path: string): unknown {
  if (!Object.hasOwn(op, 'value')) throw patchRejected(`jsonpatch: ${String(op['op'])} operation has no value`, path);
  return op['value'];
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations');
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw entityTooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  for (const raw of ops) if (!isRecord(raw)) throw badRequest('json patch operation must be an object');
  rejectForbiddenKeys(ops);
  let doc: unknown = clone(target);
  // "copy" is the one operation that makes the document larger than the patch:
  // bounded in total as the apiserver bounds it, or a few copies of copies
  // would double the document each time.
  let copied = 0;
  for (const raw of ops as JsonRecord[]) {
    const op = raw['op'];
    const path = raw['path'];
    if (typeof path !== 'string') throw patchRejected(`jsonpatch: operation ${JSON.stringify(op) ?? 'without op'} needs a path`);
    switch (op) {
      case 'add':
        doc = addAt(doc, path, clone(opValue(raw, path)));
        break;
      case 'remove':
        removeAt(doc, path);
        break;
      case 'replace':
        doc = replaceAt(doc, path, clone(opValue(raw, path)));
        break;
      case 'move': {
        const from = raw['from'];
        if (typeof from !== 'string') throw patchRejected('jsonpatch: move needs "from"', path);
        parsePointer(path);
        doc = addAt(doc, path, removeAt(doc, from));
        break;
      }
      case 'copy': {
        const from = raw['from'];
        if (typeof from !== 'string') throw patchRejected('jsonpatch: copy needs "from"', path);
        const value = getAt(doc, from);
        copied += Buffer.byteLength(JSON.stringify(value) ?? '');
        if (copied > JSON_PATCH_MAX_COPY_BYTES) {
          throw patchRejected(
            `Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${JSON_PATCH_MAX_COPY_BYTES}`,
            path,
          );
        }
        doc = addAt(doc, path, clone(value));
        break;
      }
      case 'test':
        if (!deepEqual(getAt(doc, path), opValue(raw, path))) throw patchRejected(`jsonpatch: test operation for path ${path} failed`, path);
        break;
      default:
        throw patchRejected(`jsonpatch: unexpected operation ${JSON.stringify(op) ?? 'undefined'}`, path);
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

/**
 * A string that is equal for deepEqual values (object key order ignored), so
 * that list elements are matched through a Map: matching by scanning made a
 * patch of n elements against a list of n cost n² comparisons.
 */
function identity(v: unknown): string {
  if (typeof v !== 'object' || v === null) return `${typeof v}:${String(v)}`;
  return `json:${JSON.stringify(sortedKeys(v))}`;
}

function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (!isRecord(v)) return v;
  const out: JsonRecord = {};
  for (const k of Object.keys(v).sort()) setOwn(out, k, sortedKeys(v[k]));
  return out;
}

/** A patch value with its directives stripped, for parts that have nothing to merge into. */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((e) => !(isRecord(e) && e['$patch'] === 'delete')).map(stripDirectives);
  if (!isRecord(v)) return v;
  const out: JsonRecord = {};
  for (const [k, x] of Object.entries(v)) {
    if (DIRECTIVE.test(k) || x === null) continue;
    setOwn(out, k, stripDirectives(x));
  }
  return out;
}

function strategicMerge(original: unknown, patch: unknown, path: string[], kind: string): unknown {
  if (!isRecord(patch)) return clone(patch);
  const directive = getOwn(patch, '$patch');
  if (directive === 'replace') return stripDirectives(patch);
  if (directive === 'delete') return undefined;
  const out: JsonRecord = isRecord(original) ? clone(original) : {};
  const retain = getOwn(patch, '$retainKeys');
  if (Array.isArray(retain)) {
    const kept = new Set(retain.filter((k): k is string => typeof k === 'string'));
    for (const k of Object.keys(out)) if (!kept.has(k)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (DIRECTIVE.test(k)) continue;
    const childPath = [...path, k];
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v)) {
      setOwn(out, k, mergeList(getOwn(out, k), v, childPath, kind));
    } else if (isRecord(v)) {
      const merged = strategicMerge(getOwn(out, k), v, childPath, kind);
      if (merged === undefined) delete out[k];
      else setOwn(out, k, merged);
    } else {
      setOwn(out, k, v);
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    const field = /^\$deleteFromPrimitiveList\//.test(k) ? directiveField(k) : undefined;
    const list = field ? getOwn(out, field) : undefined;
    if (field && Array.isArray(v) && Array.isArray(list)) {
      const gone = new Set(v.map(identity));
      setOwn(out, field, list.filter((x) => !gone.has(identity(x))));
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    const field = /^\$setElementOrder\//.test(k) ? directiveField(k) : undefined;
    const list = field ? getOwn(out, field) : undefined;
    if (field && Array.isArray(v) && Array.isArray(list)) {
      setOwn(out, field, applyOrder(list, v, mergeKeyFor([...path, field], kind)));
    }
  }
  return out;
}

const GONE: unique symbol = Symbol('deleted list element');

function mergeList(original: unknown, patch: unknown[], path: string[], kind: string): unknown[] {
  const orig = Array.isArray(original) ? original : [];
  if (patch.some((e) => isRecord(e) && e['$patch'] === 'replace')) {
    return patch.filter((e) => !(isRecord(e) && e['$patch'] === 'replace')).map(stripDirectives);
  }
  const key = mergeKeyFor(path, kind);
  if (key === undefined) {
    if (mergesPrimitives(path)) {
      const out = [...orig];
      const seen = new Set(out.map(identity));
      for (const v of patch) {
        const id = identity(v);
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(v);
      }
      return out;
    }
    return stripDirectives(patch) as unknown[];
  }
  const out: unknown[] = orig.map((e) => clone(e));
  // Where each merge key value sits in `out`, first occurrence first.
  const where = new Map<string, number[]>();
  const remember = (id: string, i: number): void => {
    const at = where.get(id);
    if (at) at.push(i);
    else where.set(id, [i]);
  };
  out.forEach((e, i) => {
    if (isRecord(e)) remember(identity(getOwn(e, key)), i);
  });
  for (const p of patch) {
    if (!isRecord(p)) continue;
    const id = identity(getOwn(p, key));
    const idx = where.get(id)?.[0];
    if (getOwn(p, '$patch') === 'delete') {
      if (idx !== undefined) {
        out[idx] = GONE;
        where.get(id)?.shift();
      }
      continue;
    }
    if (idx !== undefined) {
      out[idx] = strategicMerge(out[idx], p, path, kind);
    } else {
      out.push(stripDirectives(p));
      remember(id, out.length - 1);
    }
  }
  return out.filter((e) => e !== GONE);
}

/** $setElementOrder: listed elements first, in that order; others keep their place after. */
function applyOrder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const id = (e: unknown): string => identity(key !== undefined && isRecord(e) ? getOwn(e, key) : e);
  const first = new Map<string, unknown>();
  for (const e of list) {
    const i = id(e);
    if (!first.has(i)) first.set(i, e);
  }
  const wanted = order.map(id);
  const wantedSet = new Set(wanted);
  const ordered: unknown[] = [];
  for (const w of wanted) if (first.has(w)) ordered.push(first.get(w));
  const rest = list.filter((e) => !wantedSet.has(id(e)));
  return [...ordered, ...rest];
}
