// The types of an object's envelope (apiVersion, kind, metadata), checked
// where a client's object enters: the apiserver decodes bodies into Go
// structs, so a name that is a number or labels that are a list never get
// past decoding there; here the store and printers would trip over them
// (`${name}` of an object without a usable toString throws) and answer 500.
//
//   checkObjectShape(rt, body)   // 400 BadRequest in the decoder's words, or nothing

import { badRequest } from './errors.js';
import type { ResourceType } from './resources.js';
import { isRecord, type JsonRecord } from './types.js';

type GoType = 'string' | 'int64' | 'map[string]string' | '[]string' | 'bool';

const META_FIELDS: Record<string, GoType> = {
  name: 'string',
  generateName: 'string',
  namespace: 'string',
  selfLink: 'string',
  uid: 'string',
  resourceVersion: 'string',
  creationTimestamp: 'string',
  deletionTimestamp: 'string',
  generation: 'int64',
  deletionGracePeriodSeconds: 'int64',
  labels: 'map[string]string',
  annotations: 'map[string]string',
  finalizers: '[]string',
};

const OWNER_FIELDS: Record<string, GoType> = {
  apiVersion: 'string',
  kind: 'string',
  name: 'string',
  uid: 'string',
  controller: 'bool',
  blockOwnerDeletion: 'bool',
};

/** encoding/json's name for what it found. */
function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

function fits(v: unknown, t: GoType): boolean {
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'int64':
      return typeof v === 'number' && Number.isSafeInteger(v);
    case 'bool':
      return typeof v === 'boolean';
    case '[]string':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'map[string]string':
      return isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
  }
}

function mismatch(rt: ResourceType, found: unknown, field: string, t: string): never {
  const version = rt.group ? `${rt.group}/${rt.version}` : rt.version;
  throw badRequest(
    `${rt.kind} in version "${version}" cannot be handled as a ${rt.kind}: json: cannot unmarshal ${jsonType(found)} into Go struct field ${field} of type ${t}`,
  );
}

/** Drops null fields (Go decodes them as zero values) and refuses fields of the wrong type. */
function checkFields(rt: ResourceType, o: JsonRecord, fields: Record<string, GoType>, prefix: string): void {
  for (const [field, t] of Object.entries(fields)) {
    if (!Object.hasOwn(o, field)) continue;
    const v = o[field];
    if (v === null) delete o[field];
    else if (!fits(v, t)) mismatch(rt, v, `${prefix}${field}`, t);
  }
}

/**
 * Refuses (400) an object whose apiVersion, kind or metadata fields are not
 * of their types, as decoding into the typed object does; null fields are
 * dropped. Other fields are the kind's own validation's business.
 */
export function checkObjectShape(rt: ResourceType, obj: JsonRecord): void {
  for (const field of ['apiVersion', 'kind']) {
    const v = obj[field];
    if (v === null) delete obj[field];
    else if (v !== undefined && typeof v !== 'string') {
      throw badRequest(`couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonType(v)} into Go struct field .${field} of type string`);
    }
  }
  const meta = obj['metadata'];
  if (meta === undefined || meta === null) return;
  if (!isRecord(meta)) mismatch(rt, meta, `${rt.kind}.metadata`, 'v1.ObjectMeta');
  checkFields(rt, meta, META_FIELDS, 'ObjectMeta.metadata.');
  const owners = meta['ownerReferences'];
  if (owners === null) delete meta['ownerReferences'];
  else if (owners !== undefined) {
    if (!Array.isArray(owners)) mismatch(rt, owners, 'ObjectMeta.metadata.ownerReferences', '[]v1.OwnerReference');
    for (const ref of owners) {
      if (!isRecord(ref)) mismatch(rt, ref, 'ObjectMeta.metadata.ownerReferences', 'v1.OwnerReference');
      checkFields(rt, ref, OWNER_FIELDS, 'OwnerReference.metadata.ownerReferences.');
    }
  }
}
