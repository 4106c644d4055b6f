// The verbs on a resource path: get, list, create, update, patch, delete,
// deletecollection, and the status and scale subresources. Each handler
// reads the request, calls the store and writes the answer the way
// kube-apiserver's endpoint handlers do (codes, bodies, Status objects).
// Watch lives in watch-stream.ts.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, methodNotSupported, unsupportedMediaType } from './errors.js';
import { decodeBody, negotiateOutput, readBody, send, type Output } from './negotiation.js';
import { checkObjectShape } from './object-shape.js';
import { PATCH_CONTENT_TYPES, applyPatch } from './patch.js';
import { apiVersionOf, resourceKey, type ResourceType } from './resources.js';
import { formatLabelSelector } from './selectors.js';
import type { DeleteOptions, ListOptions, ObjectStore, PropagationPolicy, UpdateOptions } from './store.js';
import { buildTable, partialObjectMetadata, type IncludeObject } from './tables.js';
import { int, isRecord, rec, str, type KubeObject, type Status } from './types.js';
import type { YamlLimits } from './yaml-body.js';

export interface RestContext {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  store: ObjectStore;
  now: () => Date;
  maxBody: number;
  /** Bounds on decoding YAML bodies (defaults: yaml-body.ts). */
  yamlLimits?: YamlLimits;
}

/** A request on a resource path, already routed. */
export interface ResourceTarget {
  rt: ResourceType;
  /** "" for all namespaces / cluster-scoped. */
  namespace: string;
  name?: string;
  subresource?: string;
}

function includeObject(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject') ?? '';
  if (v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'None' || v === 'Object') return v;
  throw badRequest(`unrecognized includeObject value: "${v}"`);
}

const TABLE_TYPE = (v: string): string => `application/json;as=Table;v=${v};g=meta.k8s.io`;

export function writeObject(ctx: RestContext, rt: ResourceType, code: number, obj: KubeObject, output: Output): void {
  switch (output.as) {
    case 'table': {
      const table = buildTable(rt.printer, [obj], {
        now: ctx.now(),
        includeObject: includeObject(ctx.query),
        resourceVersion: obj.metadata.resourceVersion ?? '',
        apiVersion: `meta.k8s.io/${output.version}`,
      });
      return send(ctx.res, code, table, TABLE_TYPE(output.version));
    }
    case 'partial':
      return send(
        ctx.res,
        code,
        partialObjectMetadata(obj, `meta.k8s.io/${output.version}`),
        `application/json;as=PartialObjectMetadata;v=${output.version};g=meta.k8s.io`,
      );
    case 'yaml':
      return send(ctx.res, code, obj, 'application/yaml');
    case 'json':
      return send(ctx.res, code, obj);
  }
}

function writeList(ctx: RestContext, rt: ResourceType, items: KubeObject[], resourceVersion: string, output: Output): void {
  switch (output.as) {
    case 'table': {
      const table = buildTable(rt.printer, items, {
        now: ctx.now(),
        includeObject: includeObject(ctx.query),
        resourceVersion,
        apiVersion: `meta.k8s.io/${output.version}`,
      });
      return send(ctx.res, 200, table, TABLE_TYPE(output.version));
    }
    case 'partial':
      return send(
        ctx.res,
        200,
        {
          kind: 'PartialObjectMetadataList',
          apiVersion: `meta.k8s.io/${output.version}`,
          metadata: { resourceVersion },
          items: items.map((o) => partialObjectMetadata(o, `meta.k8s.io/${output.version}`)),
        },
        `application/json;as=PartialObjectMetadataList;v=${output.version};g=meta.k8s.io`,
      );
    default: {
      const list = { kind: `${rt.kind}List`, apiVersion: apiVersionOf(rt), metadata: { resourceVersion }, items };
      return output.as === 'yaml' ? send(ctx.res, 200, list, 'application/yaml') : send(ctx.res, 200, list);
    }
  }
}

function dryRun(query: URLSearchParams, body?: unknown): boolean {
  const values = [...query.getAll('dryRun'), ...(isRecord(body) && Array.isArray(body['dryRun']) ? body['dryRun'].map(str) : [])];
  for (const v of values) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

function checkFieldValidation(query: URLSearchParams): void {
  const v = query.get('fieldValidation');
  if (v !== null && v !== '' && !['Ignore', 'Warn', 'Strict'].includes(v)) {
    throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Warn", "Strict"`);
  }
}

async function bodyObject(ctx: RestContext, t: ResourceTarget): Promise<KubeObject> {
  const value = await decodeBody(await readBody(ctx.req, ctx.maxBody), ctx.req.headers['content-type'], ctx.yamlLimits);
  if (!isRecord(value)) throw badRequest('the request body must be a JSON object');
  checkObjectShape(t.rt, value);
  if (!isRecord(value['metadata'])) value['metadata'] = {};
  return value as KubeObject;
}

/** Path namespace wins over an empty body namespace; a different one is a 400. */
function placeInNamespace(t: ResourceTarget, obj: KubeObject): void {
  if (!t.rt.namespaced) return;
  const ns = obj.metadata.namespace;
  if (ns && ns !== t.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  obj.metadata.namespace = t.namespace;
}

function requireVerb(t: ResourceTarget, verb: string): void {
  if (!t.rt.verbs.includes(verb)) throw methodNotSupported(t.rt, verb);
}

export function handleGet(ctx: RestContext, t: ResourceTarget): void {
  requireVerb(t, 'get');
  const obj = ctx.store.get(resourceKey(t.rt), t.namespace, t.name ?? '');
  if (t.subresource === 'scale') return send(ctx.res, 200, toScale(obj));
  writeObject(ctx, t.rt, 200, obj, negotiateOutput(ctx.req.headers.accept));
}

export function handleList(ctx: RestContext, t: ResourceTarget): void {
  requireVerb(t, 'list');
  const output = negotiateOutput(ctx.req.headers.accept);
  const opts: ListOptions = { namespace: t.namespace };
  const ls = ctx.query.get('labelSelector');
  const fs = ctx.query.get('fieldSelector');
  if (ls) opts.labelSelector = ls;
  if (fs) opts.fieldSelector = fs;
  const { items, resourceVersion } = ctx.store.list(resourceKey(t.rt), opts);
  writeList(ctx, t.rt, items, resourceVersion, output);
}

export async function handleCreate(ctx: RestContext, t: ResourceTarget): Promise<void> {
  requireVerb(t, 'create');
  if (t.rt.namespaced && !t.namespace) throw methodNotSupported(t.rt, 'create');
  const output = negotiateOutput(ctx.req.headers.accept);
  checkFieldValidation(ctx.query);
  const obj = await bodyObject(ctx, t);
  placeInNamespace(t, obj);
  const created = ctx.store.create(resourceKey(t.rt), obj, { dryRun: dryRun(ctx.query) });
  writeObject(ctx, t.rt, 201, created, output);
}

export async function handleUpdate(ctx: RestContext, t: ResourceTarget): Promise<void> {
  requireVerb(t, 'update');
  const output = negotiateOutput(ctx.req.headers.accept);
  checkFieldValidation(ctx.query);
  const obj = await bodyObject(ctx, t);
  if (t.subresource === 'scale') return updateScale(ctx, t, obj, dryRun(ctx.query));
  const name = t.name ?? '';
  if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
    throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
  }
  obj.metadata.name = name;
  placeInNamespace(t, obj);
  const opts: UpdateOptions = { dryRun: dryRun(ctx.query) };
  if (t.subresource === 'status') opts.subresource = 'status';
  const updated = ctx.store.update(resourceKey(t.rt), obj, opts);
  writeObject(ctx, t.rt, 200, updated, output);
}

export async function handlePatch(ctx: RestContext, t: ResourceTarget): Promise<void> {
  requireVerb(t, 'patch');
  const output = negotiateOutput(ctx.req.headers.accept);
  checkFieldValidation(ctx.query);
  const contentType = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const type = PATCH_CONTENT_TYPES[contentType];
  if (!type) {
    throw unsupportedMediaType(
      contentType === 'application/apply-patch+yaml'
        ? 'server-side apply is not supported by this server yet: use client-side kubectl apply'
        : `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
    );
  }
  const patch = await decodeBody(await readBody(ctx.req, ctx.maxBody), 'application/json');
  const key = resourceKey(t.rt);
  const name = t.name ?? '';
  const current = ctx.store.get(key, t.namespace, name);
  const isDryRun = dryRun(ctx.query);

  if (t.subresource === 'scale') {
    const patched = applyPatch(type, toScale(current), patch, 'Scale');
    if (!isRecord(patched)) throw badRequest('the patch must produce an object');
    return updateScale(ctx, t, patched as KubeObject, isDryRun);
  }
  const patched = applyPatch(type, current, patch, t.rt.kind);
  if (!isRecord(patched)) throw badRequest('the patch must produce an object');
  checkObjectShape(t.rt, patched);
  const obj = patched as KubeObject;
  if (!isRecord(obj.metadata)) obj.metadata = {};
  obj.metadata.name = name;
  if (t.rt.namespaced) obj.metadata.namespace = t.namespace;
  const opts: UpdateOptions = { dryRun: isDryRun };
  if (t.subresource === 'status') opts.subresource = 'status';
  writeObject(ctx, t.rt, 200, ctx.store.update(key, obj, opts), output);
}

function deleteOptions(query: URLSearchParams, body: unknown): DeleteOptions {
  const b = rec(body);
  const opts: DeleteOptions = {};
  const grace = query.get('gracePeriodSeconds') ?? (typeof b['gracePeriodSeconds'] === 'number' ? String(b['gracePeriodSeconds']) : null);
  if (grace !== null) {
    if (!/^-?\d+$/.test(grace)) throw badRequest(`invalid gracePeriodSeconds: ${JSON.stringify(grace)}`);
    opts.gracePeriodSeconds = Number(grace);
  }
  const policy = query.get('propagationPolicy') ?? str(b['propagationPolicy']);
  if (policy) {
    if (!['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
    }
    opts.propagationPolicy = policy as PropagationPolicy;
  } else if (query.get('orphanDependents') === 'true' || b['orphanDependents'] === true) {
    opts.propagationPolicy = 'Orphan';
  }
  const pre = rec(b['preconditions']);
  if (str(pre['uid']) || str(pre['resourceVersion'])) {
    opts.preconditions = {};
    if (str(pre['uid'])) opts.preconditions.uid = str(pre['uid']);
    if (str(pre['resourceVersion'])) opts.preconditions.resourceVersion = str(pre['resourceVersion']);
  }
  opts.dryRun = dryRun(query, body);
  return opts;
}

async function optionalBody(ctx: RestContext): Promise<unknown> {
  const buf = await readBody(ctx.req, ctx.maxBody);
  return buf.length === 0 ? {} : decodeBody(buf, ctx.req.headers['content-type'], ctx.yamlLimits);
}

function successStatus(rt: ResourceType, obj: KubeObject): Status {
  const details: NonNullable<Status['details']> = { name: obj.metadata.name ?? '' };
  if (rt.group) details.group = rt.group;
  details.kind = rt.resource;
  if (obj.metadata.uid) details.uid = obj.metadata.uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

export async function handleDelete(ctx: RestContext, t: ResourceTarget): Promise<void> {
  requireVerb(t, 'delete');
  const output = negotiateOutput(ctx.req.headers.accept);
  const opts = deleteOptions(ctx.query, await optionalBody(ctx));
  const { object, deleted } = ctx.store.delete(resourceKey(t.rt), t.namespace, t.name ?? '', opts);
  // Objects still present (graceful deletion, finalizers) come back with 202.
  if (!deleted) return writeObject(ctx, t.rt, 202, object, output);
  if (!t.rt.returnDeletedObject) return send(ctx.res, 200, successStatus(t.rt, object));
  writeObject(ctx, t.rt, 200, object, output);
}

export async function handleDeleteCollection(ctx: RestContext, t: ResourceTarget): Promise<void> {
  requireVerb(t, 'deletecollection');
  const opts = deleteOptions(ctx.query, await optionalBody(ctx));
  const key = resourceKey(t.rt);
  const listOpts: ListOptions = { namespace: t.namespace };
  const ls = ctx.query.get('labelSelector');
  const fs = ctx.query.get('fieldSelector');
  if (ls) listOpts.labelSelector = ls;
  if (fs) listOpts.fieldSelector = fs;
  const items: KubeObject[] = [];
  for (const o of ctx.store.list(key, listOpts).items) {
    try {
      items.push(ctx.store.delete(key, o.metadata.namespace, o.metadata.name ?? '', opts).object);
    } catch (e) {
      // Already gone (a cascade removed it): not an error for a collection.
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
  send(ctx.res, 200, { kind: `${t.rt.kind}List`, apiVersion: apiVersionOf(t.rt), metadata: { resourceVersion: ctx.store.currentResourceVersion() }, items });
}

// ---- scale subresource -------------------------------------------------------

function toScale(obj: KubeObject): KubeObject {
  const m = obj.metadata;
  const metadata: KubeObject['metadata'] = { name: m.name ?? '' };
  if (m.namespace) metadata.namespace = m.namespace;
  if (m.uid) metadata.uid = m.uid;
  if (m.resourceVersion) metadata.resourceVersion = m.resourceVersion;
  if (m.creationTimestamp) metadata.creationTimestamp = m.creationTimestamp;
  const spec = rec(obj['spec']);
  const selector = formatLabelSelector(spec['selector']);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata,
    spec: { replicas: int(spec['replicas']) },
    status: { replicas: int(rec(obj['status'])['replicas']), selector: selector === '<none>' ? '' : selector },
  };
}

function updateScale(ctx: RestContext, t: ResourceTarget, scale: KubeObject, isDryRun: boolean): void {
  const key = resourceKey(t.rt);
  const current = ctx.store.get(key, t.namespace, t.name ?? '');
  const replicas = rec(scale['spec'])['replicas'];
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new ApiError(422, 'Invalid', `Scale.autoscaling "${t.name ?? ''}" is invalid: spec.replicas: Invalid value: ${String(replicas)}: must be greater than or equal to 0`);
  }
  const rv = scale.metadata.resourceVersion;
  if (rv) current.metadata.resourceVersion = rv;
  current['spec'] = { ...rec(current['spec']), replicas };
  const updated = ctx.store.update(key, current, { dryRun: isDryRun });
  send(ctx.res, 200, toScale(updated));
}

/** 405 for methods a path does not take, in the apiserver's words. */
export function notAllowed(t: ResourceTarget): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {
    ...(t.rt.group ? { group: t.rt.group } : {}),
    kind: t.rt.resource,
  });
}
