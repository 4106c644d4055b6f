// Shapes of Kubernetes objects as the API layer sees them, plus safe
// accessors for the loosely-typed JSON that clients send.
//
// Objects are plain JSON (what kubectl sends and receives). Only metadata is
// typed strictly; everything else is `unknown` and read through the helpers
// at the bottom, so a malformed object never crashes a printer or selector.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  /** String of an integer; one global counter for the whole store, as etcd's revision. */
  resourceVersion?: string;
  generation?: number;
  /** RFC 3339, seconds precision, UTC ("2025-01-02T03:04:05Z"). */
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

/** metav1.Status, as kube-apiserver writes it. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: Array<{ reason?: string; message?: string; field?: string }>;
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

// ---- safe accessors -------------------------------------------------------

export type JsonRecord = Record<string, unknown>;

export function isRecord(v: unknown): v is JsonRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * An own property only, never one inherited from Object.prototype: a key
 * such as "constructor" or "__proto__" read from client data must not reach
 * the prototype.
 */
export function getOwn(o: JsonRecord, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/**
 * Defines an own, enumerable data property. Plain assignment with the key
 * "__proto__" would change the object's prototype instead; JSON.parse and
 * spreading create such keys as own properties, and so does this.
 */
export function setOwn(o: JsonRecord, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
}

export function rec(v: unknown): JsonRecord {
  return isRecord(v) ? v : {};
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Whether the object's status has the condition (a pod's or node's Ready) with status "True". */
export function conditionTrue(o: KubeObject, type: string): boolean {
  return arr(rec(o['status'])['conditions']).some((c) => isRecord(c) && c['type'] === type && c['status'] === 'True');
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Integer value of a JSON number (or numeric string); 0 otherwise, as Go's zero value. */
export function int(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return 0;
}

export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(rec(v))) {
    if (typeof val === 'string') out[k] = val;
  }
  return out;
}

/**
 * Value at a dotted path ("spec.nodeName", "involvedObject.kind"), rendered
 * as the apiserver renders field-selector values: strings as-is, booleans and
 * numbers in their text form, anything absent as "".
 */
export function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (!isRecord(cur)) return '';
    cur = getOwn(cur, part);
  }
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  return '';
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** "2025-01-02T03:04:05Z": RFC 3339 at seconds precision, as metav1.Time marshals. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
