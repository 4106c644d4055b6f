// The in-memory object store: what etcd plus the generic registry are to
// kube-apiserver. The daemon's controllers use it in-process; the HTTP layer
// serves it to kubectl. Resources are named by GroupResource strings
// ("pods", "deployments.apps"); cluster-scoped objects use namespace "".
//
//   const store = new ObjectStore();                     // built-in resources
//   store.create('namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'demo'}});
//   store.get('pods', 'default', 'web-1')                // throws ApiError NotFound
//   store.find('pods', 'default', 'web-1')               // undefined when absent
//   store.list('pods', {namespace: 'default', labelSelector: 'app=web'})
//   store.update('pods', pod, {subresource: 'status'})   // Conflict on a stale resourceVersion
//   store.delete('pods', 'default', 'web-1', {gracePeriodSeconds: 0})
//   const w = store.watch('pods', {resourceVersion: rv}, (ev) => ...); w.stop();
//   store.addAdmissionHook('services', (req) => { allocate req.object.spec.clusterIP });
//
// Semantics kept from the real thing: one global resourceVersion counter;
// generateName; optimistic concurrency; generation for kinds that track it;
// no write (and no event) for an update that changes nothing; finalizers and
// deletionTimestamp; graceful deletion of scheduled pods (the kubelet ends it
// with a delete of grace 0); background/foreground/orphan cascading through
// ownerReferences (done at once here, where the garbage collector would do it
// shortly after); watch replay from a resourceVersion within the retained
// history, 410 Expired beyond it; label/field-filtered watches that turn
// objects entering or leaving the selection into ADDED / DELETED.
//
// Every object going in or out is copied: callers may mutate what they get.

import { randomUUID } from 'node:crypto';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  invalid,
  notFound,
  resourceExpired,
  type FieldError,
} from './errors.js';
import { checkObjectShape } from './object-shape.js';
import { ResourceRegistry, apiVersionOf, resourceKey, type ResourceType } from './resources.js';
import {
  FieldSelector,
  LabelSelector,
  isValidLabelKey,
  isValidLabelValue,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.js';
import { nameErrors } from './strategies.js';
import { clone, deepEqual, isRecord, rfc3339, type KubeObject, type OwnerReference, type WatchEvent } from './types.js';

export interface ListOptions {
  /** Omit (or "") for all namespaces. */
  namespace?: string;
  labelSelector?: string | LabelSelector;
  fieldSelector?: string | FieldSelector;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

export interface WriteOptions {
  /** Run every check and return the result without storing it (dryRun=All). */
  dryRun?: boolean;
}

export interface UpdateOptions extends WriteOptions {
  /** "status": only .status is taken from the object. */
  subresource?: 'status';
}

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: PropagationPolicy;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  /** The object as last stored: gone if `deleted`, else marked with deletionTimestamp. */
  object: KubeObject;
  deleted: boolean;
}

export interface WatchOptions extends ListOptions {
  /**
   * Unset or "0": synthetic ADDED events for the current objects, then changes.
   * "N": every change after N (410 Expired if N is older than the retained history).
   */
  resourceVersion?: string;
  /** true: initial ADDED events then a BOOKMARK annotated k8s.io/initial-events-end. false with no RV: changes only. */
  sendInitialEvents?: boolean;
}

export interface WatchHandle {
  stop(): void;
  readonly stopped: boolean;
}

export type WatchListener = (event: WatchEvent) => void;

export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  resource: ResourceType;
  subresource?: string;
  /** Mutable: hooks change it in place (e.g. allocate spec.clusterIP). */
  object: KubeObject;
  oldObject?: KubeObject;
  dryRun: boolean;
}

/** Mutates req.object or throws an ApiError (e.g. invalid() for a taken clusterIP). */
export type AdmissionHook = (req: AdmissionRequest) => void;

export interface ObjectStoreOptions {
  registry?: ResourceRegistry;
  /** Events kept for watch replay (etcd keeps history until compaction). */
  historyLimit?: number;
  now?: () => Date;
}

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const LABEL_KEY_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
/** Namespaces the apiserver refuses to delete. */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

interface HistoryEntry {
  rv: number;
  key: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  old?: KubeObject;
}

interface Filter {
  namespace: string;
  labels: LabelSelector;
  fields: FieldSelector;
  aliases: Record<string, string>;
}

class Watcher implements WatchHandle {
  private queue: WatchEvent[] = [];
  private scheduled = false;
  stopped = false;

  constructor(
    readonly key: string,
    readonly filter: Filter,
    private readonly listener: WatchListener,
    private readonly onStop: (w: Watcher) => void,
  ) {}

  enqueue(ev: WatchEvent): void {
    if (this.stopped) return;
    this.queue.push(ev);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  // Delivery is asynchronous and ordered: a listener that writes to the
  // store sees its own event after the ones already queued.
  private flush(): void {
    this.scheduled = false;
    while (!this.stopped && this.queue.length > 0) {
      const ev = this.queue.shift();
      if (ev) this.listener(clone(ev));
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue = [];
    this.onStop(this);
  }
}

function matches(f: Filter, obj: KubeObject): boolean {
  if (f.namespace && obj.metadata.namespace !== f.namespace) return false;
  return f.labels.matches(obj.metadata.labels) && f.fields.matches(obj, f.aliases);
}

/** What a filtered watcher sees of a change (objects entering/leaving the selection). */
function project(f: Filter, type: HistoryEntry['type'], obj: KubeObject, old: KubeObject | undefined): WatchEvent | undefined {
  const now = matches(f, obj);
  if (type === 'ADDED') return now ? { type, object: obj } : undefined;
  if (type === 'DELETED') return matches(f, old ?? obj) ? { type, object: obj } : undefined;
  const before = old !== undefined && matches(f, old);
  if (before && now) return { type: 'MODIFIED', object: obj };
  if (!before && now) return { type: 'ADDED', object: obj };
  if (before && !now) return { type: 'DELETED', object: obj };
  return undefined;
}

function objKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function randomSuffix(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  return s;
}

/** Everything a generation bump looks at: the object minus metadata and status. */
function specPart(o: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

export class ObjectStore {
  readonly registry: ResourceRegistry;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly hooks: Array<{ key: string; hook: AdmissionHook }> = [];
  private history: HistoryEntry[] = [];
  private readonly historyLimit: number;
  private compactedRV = 0;
  private rv = 0;
  private readonly now: () => Date;

  constructor(opts: ObjectStoreOptions = {}) {
    this.registry = opts.registry ?? new ResourceRegistry();
    this.historyLimit = opts.historyLimit ?? 5000;
    this.now = opts.now ?? (() => new Date());
  }

  /** The latest resourceVersion handed out (what a list at this moment returns). */
  currentResourceVersion(): string {
    return String(this.rv);
  }

  /** Registers a mutating/validating hook for a resource ("services") or "*" for all. */
  addAdmissionHook(resource: string, hook: AdmissionHook): void {
    this.hooks.push({ key: resource, hook });
  }

  resourceType(resource: string): ResourceType {
    const t = this.registry.get(resource);
    if (!t) throw new Error(`resource ${resource} is not registered`);
    return t;
  }

  // ---- reads ---------------------------------------------------------------

  find(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const rt = this.resourceType(resource);
    const o = this.table(rt).get(objKey(rt.namespaced ? (namespace ?? '') : '', name));
    return o ? clone(o) : undefined;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject {
    const o = this.find(resource, namespace, name);
    if (!o) throw notFound(this.resourceType(resource), name);
    return o;
  }

  list(resource: string, opts: ListOptions = {}): ListResult {
    const rt = this.resourceType(resource);
    const f = this.filter(rt, opts);
    return { items: this.current(rt, f).map(clone), resourceVersion: this.currentResourceVersion() };
  }

  // ---- writes --------------------------------------------------------------

  create(resource: string, input: KubeObject, opts: WriteOptions = {}): KubeObject {
    const rt = this.resourceType(resource);
    const obj = this.normalize(rt, clone(input));
    const meta = obj.metadata;
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    if (rt.namespaced) {
      if (!meta.namespace) throw badRequest(`metadata.namespace is required for ${resourceKey(rt)}`);
      this.requireNamespace(meta.namespace);
    } else delete meta.namespace;

    const table = this.table(rt);
    if (!meta.name && meta.generateName) {
      const base = meta.generateName.slice(0, 63 - 5);
      for (let i = 0; i < 8 && !meta.name; i++) {
        const candidate = base + randomSuffix(5);
        if (!table.has(objKey(meta.namespace, candidate))) meta.name = candidate;
      }
      if (!meta.name) throw alreadyExists(rt, meta.generateName);
    }
    this.validateMeta(rt, obj, true);
    const name = meta.name ?? '';
    if (table.has(objKey(meta.namespace, name))) throw alreadyExists(rt, name);

    rt.strategy.prepareForCreate?.(obj);
    this.validate(rt, obj);
    this.admit({ operation: 'CREATE', resource: rt, object: obj, dryRun: opts.dryRun === true });

    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(this.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (rt.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (opts.dryRun) return clone(obj);

    meta.resourceVersion = this.nextRV();
    table.set(objKey(meta.namespace, name), obj);
    this.record(rt, 'ADDED', obj);
    return clone(obj);
  }

  update(resource: string, input: KubeObject, opts: UpdateOptions = {}): KubeObject {
    const rt = this.resourceType(resource);
    const incoming = this.normalize(rt, clone(input));
    const name = incoming.metadata.name ?? '';
    const ns = rt.namespaced ? (incoming.metadata.namespace ?? '') : '';
    const table = this.table(rt);
    const existing = table.get(objKey(ns, name));
    if (!existing) throw notFound(rt, name);
    this.checkPreconditions(rt, existing, incoming.metadata.uid, incoming.metadata.resourceVersion);

    let obj: KubeObject;
    if (opts.subresource === 'status') {
      obj = clone(existing);
      if (incoming['status'] === undefined) delete obj['status'];
      else obj['status'] = incoming['status'];
    } else {
      obj = incoming;
      const m = obj.metadata;
      const old = existing.metadata;
      m.name = old.name;
      if (rt.namespaced) m.namespace = old.namespace;
      else delete m.namespace;
      m.uid = old.uid;
      m.creationTimestamp = old.creationTimestamp;
      for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
        if (old[k] === undefined) delete m[k];
        else (m as Record<string, unknown>)[k] = old[k];
      }
      delete m.generateName;
      if (old.generateName) m.generateName = old.generateName;
      rt.strategy.prepareForUpdate?.(obj, clone(existing));
      this.validateMeta(rt, obj, false);
      this.validate(rt, obj);
    }
    const req: AdmissionRequest = { operation: 'UPDATE', resource: rt, object: obj, oldObject: clone(existing), dryRun: opts.dryRun === true };
    if (opts.subresource) req.subresource = opts.subresource;
    this.admit(req);

    if (rt.tracksGeneration && opts.subresource !== 'status') {
      const annotationsBump = rt.kind === 'Deployment' && !deepEqual(obj.metadata.annotations ?? {}, existing.metadata.annotations ?? {});
      if (!deepEqual(specPart(obj), specPart(existing)) || annotationsBump) {
        obj.metadata.generation = (existing.metadata.generation ?? 0) + 1;
      }
    }
    obj.metadata.resourceVersion = existing.metadata.resourceVersion;
    if (deepEqual(obj, existing)) return clone(existing);

    // Removing the last finalizer of an object already being deleted ends it.
    const finishes =
      existing.metadata.deletionTimestamp !== undefined &&
      existing.metadata.deletionGracePeriodSeconds === 0 &&
      (obj.metadata.finalizers ?? []).length === 0;
    if (opts.dryRun) return clone(obj);
    if (finishes) return this.remove(rt, obj, { dryRun: false }).object;
    obj.metadata.resourceVersion = this.nextRV();
    table.set(objKey(ns, name), obj);
    this.record(rt, 'MODIFIED', obj, existing);
    return clone(obj);
  }

  delete(resource: string, namespace: string | undefined, name: string, opts: DeleteOptions = {}): DeleteResult {
    const rt = this.resourceType(resource);
    const ns = rt.namespaced ? (namespace ?? '') : '';
    const table = this.table(rt);
    const existing = table.get(objKey(ns, name));
    if (!existing) throw notFound(rt, name);
    this.checkPreconditions(rt, existing, opts.preconditions?.uid, opts.preconditions?.resourceVersion);
    if (rt.resource === 'namespaces' && rt.group === '' && IMMORTAL_NAMESPACES.has(name)) {
      throw forbidden(rt, name, 'this namespace may not be deleted');
    }

    const grace = this.gracePeriod(rt, existing, opts.gracePeriodSeconds);
    const finalizers = existing.metadata.finalizers ?? [];
    if (grace > 0 || finalizers.length > 0) {
      // Mark for deletion: the kubelet (grace) or a controller (finalizers) finishes it.
      const obj = clone(existing);
      const m = obj.metadata;
      const nowMs = this.now().getTime();
      if (m.deletionTimestamp === undefined) {
        m.deletionTimestamp = rfc3339(new Date(nowMs + grace * 1000));
        m.deletionGracePeriodSeconds = grace;
        if (rt.tracksGeneration) m.generation = (m.generation ?? 0) + 1;
      } else if (grace < (m.deletionGracePeriodSeconds ?? 0)) {
        m.deletionTimestamp = rfc3339(new Date(nowMs + grace * 1000));
        m.deletionGracePeriodSeconds = grace;
      } else {
        return { object: clone(existing), deleted: false };
      }
      if (opts.dryRun) return { object: obj, deleted: false };
      m.resourceVersion = this.nextRV();
      table.set(objKey(ns, name), obj);
      this.record(rt, 'MODIFIED', obj, existing);
      return { object: clone(obj), deleted: false };
    }
    return this.remove(rt, existing, opts);
  }

  // ---- watch -----------------------------------------------------------------

  watch(resource: string, opts: WatchOptions, listener: WatchListener): WatchHandle {
    const rt = this.resourceType(resource);
    const f = this.filter(rt, opts);
    const key = resourceKey(rt);
    const initial: WatchEvent[] = [];
    const rvParam = opts.resourceVersion ?? '';
    if (rvParam === '' || rvParam === '0' || opts.sendInitialEvents === true) {
      if (opts.sendInitialEvents !== false) {
        for (const o of this.current(rt, f)) initial.push({ type: 'ADDED', object: o });
      }
      if (opts.sendInitialEvents === true) {
        initial.push({ type: 'BOOKMARK', object: this.bookmark(rt, { [INITIAL_EVENTS_END]: 'true' }) });
      }
    } else {
      if (!/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${JSON.stringify(rvParam)}`);
      const from = Number(rvParam);
      if (from < this.compactedRV) throw resourceExpired(`too old resource version: ${from} (${this.compactedRV})`);
      for (const h of this.history) {
        if (h.rv <= from || h.key !== key) continue;
        const ev = project(f, h.type, h.object, h.old);
        if (ev) initial.push(ev);
      }
    }
    const w = new Watcher(key, f, listener, (x) => this.watchers.get(key)?.delete(x));
    let set = this.watchers.get(key);
    if (!set) {
      set = new Set();
      this.watchers.set(key, set);
    }
    set.add(w);
    for (const ev of initial) w.enqueue(ev);
    return w;
  }

  /** A BOOKMARK object at the current resourceVersion, as sent to watchers that allow them. */
  bookmark(rt: ResourceType, annotations?: Record<string, string>): KubeObject {
    const metadata: KubeObject['metadata'] = { resourceVersion: this.currentResourceVersion() };
    if (annotations) metadata.annotations = annotations;
    return { kind: rt.kind, apiVersion: apiVersionOf(rt), metadata };
  }

  // ---- internals -----------------------------------------------------------

  private table(rt: ResourceType): Map<string, KubeObject> {
    const key = resourceKey(rt);
    let t = this.objects.get(key);
    if (!t) {
      t = new Map();
      this.objects.set(key, t);
    }
    return t;
  }

  private filter(rt: ResourceType, opts: ListOptions): Filter {
    const labels =
      opts.labelSelector instanceof LabelSelector
        ? opts.labelSelector
        : opts.labelSelector
          ? parseLabelSelector(opts.labelSelector)
          : LabelSelector.everything();
    const fields =
      opts.fieldSelector instanceof FieldSelector
        ? opts.fieldSelector
        : opts.fieldSelector
          ? parseFieldSelector(opts.fieldSelector)
          : FieldSelector.everything();
    return { namespace: rt.namespaced ? (opts.namespace ?? '') : '', labels, fields, aliases: rt.fieldAliases };
  }

  /** Matching objects in key order (namespace, then name), as etcd returns them. */
  private current(rt: ResourceType, f: Filter): KubeObject[] {
    const t = this.table(rt);
    return [...t.keys()]
      .sort()
      .map((k) => t.get(k))
      .filter((o): o is KubeObject => o !== undefined && matches(f, o));
  }

  private normalize(rt: ResourceType, obj: KubeObject): KubeObject {
    checkObjectShape(rt, obj);
    const apiVersion = apiVersionOf(rt);
    if (obj.apiVersion && obj.apiVersion !== apiVersion) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`);
    }
    if (obj.kind && obj.kind !== rt.kind) {
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${rt.kind})`);
    }
    obj.apiVersion = apiVersion;
    obj.kind = rt.kind;
    if (!isRecord(obj.metadata)) obj.metadata = {};
    delete (obj.metadata as Record<string, unknown>)['managedFields'];
    delete (obj.metadata as Record<string, unknown>)['selfLink'];
    return obj;
  }

  private requireNamespace(ns: string): void {
    const nsType = this.registry.get('namespaces');
    if (nsType && !this.table(nsType).has(ns)) throw notFound(nsType, ns);
  }

  /** Name (on create) and labels, with ValidateObjectMeta's messages. */
  private validateMeta(rt: ResourceType, obj: KubeObject, creating: boolean): void {
    const name = obj.metadata.name ?? '';
    const errs: FieldError[] = [];
    if (creating && !name) {
      errs.push({ type: 'FieldValueRequired', field: 'metadata.name', body: 'Required value: name or generateName is required' });
    } else if (creating) {
      for (const msg of nameErrors(name, rt.nameRule)) {
        errs.push({ type: 'FieldValueInvalid', field: 'metadata.name', body: `Invalid value: ${JSON.stringify(name)}: ${msg}` });
      }
    }
    const labels = obj.metadata.labels;
    if (labels !== undefined && !isRecord(labels)) {
      errs.push({ type: 'FieldValueInvalid', field: 'metadata.labels', body: 'Invalid value: "": must be a map of strings' });
    }
    for (const [k, v] of Object.entries(isRecord(labels) ? labels : {})) {
      if (!isValidLabelKey(k)) {
        errs.push({ type: 'FieldValueInvalid', field: 'metadata.labels', body: `Invalid value: ${JSON.stringify(k)}: ${LABEL_KEY_MSG}` });
      }
      if (typeof v !== 'string' || !isValidLabelValue(v)) {
        errs.push({ type: 'FieldValueInvalid', field: 'metadata.labels', body: `Invalid value: ${JSON.stringify(String(v))}: ${LABEL_VALUE_MSG}` });
      }
    }
    if (errs.length > 0) throw invalid(rt.kind, rt.group, name, errs);
  }

  private validate(rt: ResourceType, obj: KubeObject): void {
    const errs = rt.strategy.validate?.(obj) ?? [];
    if (errs.length > 0) throw invalid(rt.kind, rt.group, obj.metadata.name ?? '', errs);
  }

  private admit(req: AdmissionRequest): void {
    const key = resourceKey(req.resource);
    for (const h of this.hooks) if (h.key === '*' || h.key === key) h.hook(req);
  }

  private checkPreconditions(rt: ResourceType, existing: KubeObject, uid?: string, resourceVersion?: string): void {
    const name = existing.metadata.name ?? '';
    if (uid && uid !== existing.metadata.uid) {
      throw conflict(rt, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${existing.metadata.uid ?? ''}`);
    }
    if (resourceVersion && resourceVersion !== existing.metadata.resourceVersion) throw conflict(rt, name);
  }

  /** Seconds a delete waits for the kubelet; 0 deletes at once. */
  private gracePeriod(rt: ResourceType, obj: KubeObject, requested: number | undefined): number {
    if (!rt.gracefulDeletion) return 0;
    const spec = isRecord(obj['spec']) ? obj['spec'] : {};
    const status = isRecord(obj['status']) ? obj['status'] : {};
    // Unscheduled and finished pods have no kubelet to wait for.
    if (!spec['nodeName'] || status['phase'] === 'Succeeded' || status['phase'] === 'Failed') return 0;
    const fromSpec = typeof spec['terminationGracePeriodSeconds'] === 'number' ? spec['terminationGracePeriodSeconds'] : 30;
    return Math.max(0, Math.trunc(requested ?? fromSpec));
  }

  /** Removes an object now, with its namespace's contents and (if `cascade`) its dependents. */
  private remove(rt: ResourceType, existing: KubeObject, opts: DeleteOptions, cascade = true): DeleteResult {
    const ns = existing.metadata.namespace ?? '';
    const name = existing.metadata.name ?? '';
    const isNamespace = rt.resource === 'namespaces' && rt.group === '';
    const last = clone(existing);
    if (isNamespace) {
      last.metadata.deletionTimestamp ??= rfc3339(this.now());
      last.metadata.deletionGracePeriodSeconds ??= 0;
      last['status'] = { phase: 'Terminating' };
    }
    this.admit({ operation: 'DELETE', resource: rt, object: clone(last), oldObject: clone(existing), dryRun: opts.dryRun === true });
    if (opts.dryRun) return { object: last, deleted: true };

    const table = this.table(rt);
    if (isNamespace) {
      // Terminating first, then its contents, then the namespace itself.
      last.metadata.resourceVersion = this.nextRV();
      table.set(name, last);
      this.record(rt, 'MODIFIED', last, existing);
      for (const other of this.registry.all()) {
        if (!other.namespaced) continue;
        const t = this.table(other);
        for (const k of [...t.keys()].sort()) {
          const o = t.get(k);
          if (o && o.metadata.namespace === name) this.remove(other, o, {}, false);
        }
      }
    }
    const gone = clone(last);
    gone.metadata.resourceVersion = this.nextRV();
    table.delete(objKey(rt.namespaced ? ns : '', name));
    this.record(rt, 'DELETED', gone, isNamespace ? last : existing);

    if (cascade && existing.metadata.uid) this.cascade(existing, opts.propagationPolicy ?? 'Background');
    return { object: clone(gone), deleted: true };
  }

  /** What the garbage collector does to an owner's dependents. */
  private cascade(owner: KubeObject, policy: PropagationPolicy): void {
    const uid = owner.metadata.uid;
    const ownerNs = owner.metadata.namespace;
    for (const rt of this.registry.all()) {
      const t = this.table(rt);
      for (const dep of [...t.values()]) {
        if (ownerNs && dep.metadata.namespace !== ownerNs) continue;
        const refs: OwnerReference[] = dep.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === uid)) continue;
        const depNs = dep.metadata.namespace ?? '';
        const depName = dep.metadata.name ?? '';
        if (!t.has(objKey(rt.namespaced ? depNs : '', depName))) continue;
        try {
          if (policy === 'Orphan') {
            const next = clone(dep);
            next.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
            if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
            next.metadata.resourceVersion = this.nextRV();
            t.set(objKey(rt.namespaced ? depNs : '', depName), next);
            this.record(rt, 'MODIFIED', next, dep);
          } else {
            this.delete(resourceKey(rt), depNs, depName, { propagationPolicy: 'Background' });
          }
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
        }
      }
    }
  }

  private nextRV(): string {
    this.rv += 1;
    return String(this.rv);
  }

  private record(rt: ResourceType, type: HistoryEntry['type'], obj: KubeObject, old?: KubeObject): void {
    const key = resourceKey(rt);
    const entry: HistoryEntry = { rv: Number(obj.metadata.resourceVersion), key, type, object: obj };
    if (old) entry.old = old;
    this.history.push(entry);
    if (this.history.length > this.historyLimit + 256) {
      const drop = this.history.length - this.historyLimit;
      this.compactedRV = this.history[drop - 1]?.rv ?? this.compactedRV;
      this.history = this.history.slice(drop);
    }
    for (const w of this.watchers.get(key) ?? []) {
      const ev = project(w.filter, type, obj, old);
      if (ev) w.enqueue(ev);
    }
  }
}
