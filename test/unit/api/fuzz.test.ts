// API fuzzer: random and mutated request bodies (JSON, YAML, protobuf, and
// every patch kind with random paths and operations) sent to an in-process
// API server over loopback, authenticated as the admin. Every answer must be
// a status below 500 with a Status object for failures, within a per-request
// timeout; afterwards the server still answers, and Object.prototype is as
// it was.
//
// Fixed seed, bounded count; NSLAB_FUZZ_RUNS=5000 for a longer run, and
// NSLAB_FUZZ_SEED to try other sequences (a failure prints the request).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { rng } from '../../helpers/fuzz.js';
import { json, startTestApi, type RawRequest, type Reply, type TestApi } from './harness.js';
import { entry, envelope, int, msg, objectMeta, str } from './proto-writer.js';

const RUNS = Number(process.env['NSLAB_FUZZ_RUNS'] ?? 300);
const SEED = Number(process.env['NSLAB_FUZZ_SEED'] ?? 9);
const PARALLEL = 4;

type Rand = () => number;
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const chance = (r: Rand, p: number): boolean => r() < p;

const NS = 'fuzz';
const KEYS = [
  'apiVersion', 'kind', 'metadata', 'name', 'namespace', 'labels', 'annotations', 'resourceVersion', 'uid', 'generateName',
  'finalizers', 'ownerReferences', 'deletionTimestamp', 'spec', 'status', 'data', 'binaryData', 'replicas', 'selector',
  'matchLabels', 'template', 'containers', 'image', 'ports', 'port', 'targetPort', 'nodePort', 'containerPort', 'protocol',
  'type', 'clusterIP', 'clusterIPs', 'volumes', 'configMap', 'items', 'key', 'path', 'env', 'value', 'conditions',
  'addresses', 'endpoints', 'immutable', 'nodeName', 'hostNetwork', 'gracePeriodSeconds', 'propagationPolicy', 'dryRun',
  '$patch', '$retainKeys', '$setElementOrder/containers', '$deleteFromPrimitiveList/finalizers', '__proto__', 'constructor',
  'prototype', 'toString', 'hasOwnProperty', '', '💥', 'a.b/c', '..', 'x'.repeat(300),
];
const STRINGS = [
  '', 'a', 'web', 'v1', 'apps/v1', 'ConfigMap', 'Deployment', 'Service', 'Pod', 'Namespace', 'nginx:alpine', 'TCP', 'UDP',
  'NodePort', 'ClusterIP', 'LoadBalancer', 'None', '10.96.0.50', '::1', '80', '25%', 'delete', 'replace', 'merge', 'All',
  'Orphan', '__proto__', 'constructor', '../../etc/passwd', '/', '.', '-', 'UPPER', 'a'.repeat(70), 'é', '\u0000', '\ud800',
  '2024-01-01T00:00:00Z', 'true', 'null', '1e999', '*', '&a', '{{x}}',
];
const NUMBERS = [0, -0, 1, -1, 2, 80, 443, 65535, 65536, 30080, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, 0.5, 1e-7];

function randomJson(r: Rand, depth: number): Json {
  const roll = r();
  if (depth <= 0 || roll < 0.35) {
    const s = r();
    if (s < 0.1) return null;
    if (s < 0.2) return chance(r, 0.5);
    if (s < 0.45) return pick(r, NUMBERS);
    return pick(r, STRINGS);
  }
  if (roll < 0.55) return Array.from({ length: Math.floor(r() * 4) }, () => randomJson(r, depth - 1));
  const o: { [k: string]: Json } = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) Object.defineProperty(o, pick(r, KEYS), { value: randomJson(r, depth - 1), enumerable: true, writable: true, configurable: true });
  return o;
}

/** A plausible object of a kind, so that mutations reach past the first checks. */
function validObject(r: Rand, kind: string, name: string): Record<string, Json> {
  const metadata = { name, namespace: NS, labels: { app: 'web' } };
  switch (kind) {
    case 'ConfigMap':
      return { apiVersion: 'v1', kind, metadata, data: { a: '1', 'b.conf': 'x' } };
    case 'Service':
      return { apiVersion: 'v1', kind, metadata, spec: { type: pick(r, ['ClusterIP', 'NodePort']), selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] } };
    case 'Deployment':
      return {
        apiVersion: 'apps/v1',
        kind,
        metadata,
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:alpine', ports: [{ containerPort: 80 }] }] } },
        },
      };
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata, spec: { containers: [{ name: 'c', image: 'nginx:alpine' }], volumes: [{ name: 'v', configMap: { name: 'cm' } }] } };
    default:
      return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
  }
}

/** Sets, deletes or replaces a few fields anywhere in the object. */
function mutateValue(r: Rand, v: Json, rounds: number): Json {
  let out = structuredClone(v);
  for (let i = 0; i < rounds; i++) {
    const path: Array<{ parent: Json[] | { [k: string]: Json }; key: string | number }> = [];
    let cur: Json = out;
    while (cur !== null && typeof cur === 'object' && chance(r, 0.7)) {
      const keys: Array<string | number> = Array.isArray(cur) ? cur.map((_, j) => j) : Object.keys(cur);
      if (keys.length === 0) break;
      const k = pick(r, keys);
      path.push({ parent: cur, key: k });
      cur = (cur as Record<string | number, Json>)[k] ?? null;
    }
    const last = path[path.length - 1];
    const value = randomJson(r, 3);
    if (!last) {
      if (chance(r, 0.1)) out = value;
      continue;
    }
    const parent = last.parent as Record<string | number, Json>;
    if (chance(r, 0.3)) delete parent[last.key];
    else Object.defineProperty(parent, last.key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const TEXT_BITS = ['{', '}', '[', ']', '"', ':', ',', '\\', '\\u', '\u0000', 'null', '-', '&a', '*a', '!!binary', '<<: ', '\n', '  ', '#', '---\n', '%YAML 1.1\n', '\ufeff'];

/** Byte-level damage to a text: cut, duplicated or inserted pieces. */
function mutateText(r: Rand, text: string, rounds: number): string {
  let t = text;
  for (let i = 0; i < rounds; i++) {
    const at = Math.floor(r() * (t.length + 1));
    const len = Math.floor(r() * 16);
    const op = r();
    if (op < 0.3) t = t.slice(0, at) + t.slice(at + len);
    else if (op < 0.55) t = t.slice(0, at) + t.slice(at, at + len).repeat(1 + Math.floor(r() * 3)) + t.slice(at);
    else if (op < 0.9) t = t.slice(0, at) + pick(r, TEXT_BITS) + t.slice(at);
    else t = t.slice(0, at);
  }
  return t;
}

const POINTER_SEGMENTS = ['metadata', 'labels', 'annotations', 'data', 'spec', 'template', 'containers', 'ports', 'replicas', 'selector', 'status', 'finalizers', 'name', '0', '1', '-', '99', '', '~0', '~1', '~', '__proto__', 'constructor', 'prototype', 'a'];

/** Paths that exist in the seeded objects, so that some patches apply. */
const REAL_POINTERS = [
  '/metadata/labels/app', '/metadata/labels/new', '/metadata/annotations', '/metadata/finalizers', '/data/a', '/data/new', '/spec/replicas',
  '/spec/template/spec/containers/0/image', '/spec/template/spec/containers/-', '/spec/ports/0/port', '/spec/ports/-', '/spec/selector/app',
  '/spec/containers/0/image', '/spec/volumes/0', '/status',
];

function randomPointer(r: Rand): string {
  if (chance(r, 0.05)) return pick(r, ['', 'a', '//', '/']);
  if (chance(r, 0.5)) return pick(r, REAL_POINTERS);
  return Array.from({ length: 1 + Math.floor(r() * 5) }, () => `/${pick(r, POINTER_SEGMENTS)}`).join('');
}

function randomJsonPatch(r: Rand): Json {
  return Array.from({ length: Math.floor(r() * 6) }, () => {
    const op: { [k: string]: Json } = { op: pick(r, ['add', 'remove', 'replace', 'move', 'copy', 'test', 'add', 'replace', 'bogus']), path: randomPointer(r) };
    if (chance(r, 0.8)) op['value'] = randomJson(r, 2);
    if (chance(r, 0.4)) op['from'] = randomPointer(r);
    return chance(r, 0.05) ? randomJson(r, 2) : op;
  });
}

/** A protobuf body: a valid-looking envelope of a served kind, often damaged. */
function randomProtobuf(r: Rand, targetKind: string, name: string): Buffer {
  const kind = chance(r, 0.7) ? targetKind : pick(r, ['ConfigMap', 'Namespace', 'Secret', 'Service', 'Pod', 'Deployment', 'DeleteOptions', 'Bogus']);
  const apiVersion = kind === 'Deployment' ? 'apps/v1' : chance(r, 0.9) ? 'v1' : pick(r, ['apps/v1', '']);
  const fields: number[][] = [objectMeta(name, { app: 'web' })];
  if (kind === 'ConfigMap') fields.push(entry(2, chance(r, 0.3) ? '__proto__' : 'a', 'x'));
  for (let i = chance(r, 0.5) ? 0 : Math.floor(r() * 4); i > 0; i--) {
    const f = r();
    if (f < 0.3) fields.push(entry(2, pick(r, STRINGS), pick(r, STRINGS)));
    else if (f < 0.5) fields.push(int(1 + Math.floor(r() * 20), Math.floor(r() * 2 ** 31)));
    else if (f < 0.7) fields.push(str(1 + Math.floor(r() * 20), pick(r, STRINGS)));
    else fields.push(msg(1 + Math.floor(r() * 20), int(1, Math.floor(r() * 1e12)), int(2, 5)));
  }
  const body = [...envelope(apiVersion, kind, fields.flat())];
  for (let i = chance(r, 0.5) ? 1 + Math.floor(r() * 4) : 0; i > 0; i--) {
    const at = 4 + Math.floor(r() * Math.max(1, body.length - 4));
    const op = r();
    if (op < 0.4) body[at] = Math.floor(r() * 256);
    else if (op < 0.7) body.splice(at, 1 + Math.floor(r() * 8));
    else body.splice(at, 0, ...Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)));
  }
  return Buffer.from(body);
}

interface Target {
  kind: string;
  collection: string;
  name: string;
  subresources: string[];
}

const TARGETS: Target[] = [
  { kind: 'ConfigMap', collection: `/api/v1/namespaces/${NS}/configmaps`, name: 'cm', subresources: [] },
  { kind: 'Service', collection: `/api/v1/namespaces/${NS}/services`, name: 'svc', subresources: ['status'] },
  { kind: 'Pod', collection: `/api/v1/namespaces/${NS}/pods`, name: 'p', subresources: ['status'] },
  { kind: 'Deployment', collection: `/apis/apps/v1/namespaces/${NS}/deployments`, name: 'web', subresources: ['status', 'scale'] },
  { kind: 'Namespace', collection: '/api/v1/namespaces', name: 'fuzz-ns', subresources: ['status', 'finalize'] },
];

const QUERIES = ['', '', '', '?dryRun=All', '?dryRun=x', '?fieldValidation=Strict', '?fieldValidation=bogus', '?gracePeriodSeconds=0', '?gracePeriodSeconds=x', '?propagationPolicy=Foreground', '?labelSelector=a%20in%20(', '?fieldSelector=metadata.name%3D%3D'];

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

function randomRequest(r: Rand, i: number): RawRequest {
  const t = pick(r, TARGETS);
  const name = chance(r, 0.7) ? t.name : `${t.name}-${i}`;
  const sub = chance(r, 0.2) && t.subresources.length > 0 ? `/${pick(r, t.subresources)}` : '';
  const item = `${t.collection}/${name}${sub}`;
  const query = pick(r, QUERIES);
  const roll = r();
  const method = roll < 0.3 ? 'POST' : roll < 0.5 ? 'PUT' : roll < 0.85 ? 'PATCH' : roll < 0.95 ? 'DELETE' : pick(r, ['GET', 'OPTIONS', 'HEAD', 'BREW']);
  const path = (method === 'POST' ? t.collection : item) + query;

  let value: Json = validObject(r, t.kind, name);
  if (method === 'PATCH') {
    const type = chance(r, 0.95) ? pick(r, PATCH_TYPES) : pick(r, ['application/apply-patch+yaml', 'application/json', 'text/plain']);
    value = type === 'application/json-patch+json' ? randomJsonPatch(r) : mutateValue(r, chance(r, 0.5) ? randomJson(r, 4) : value, 1 + Math.floor(r() * 4));
    const text = JSON.stringify(value) ?? 'null';
    return { method, path, contentType: type, body: chance(r, 0.2) ? mutateText(r, text, 1 + Math.floor(r() * 3)) : text };
  }
  if (method === 'DELETE' && chance(r, 0.5)) value = { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: pick(r, NUMBERS), propagationPolicy: pick(r, STRINGS), preconditions: { uid: pick(r, STRINGS) } };
  value = mutateValue(r, value, Math.floor(r() * 4));
  const format = r();
  if (format < 0.12) {
    const text = toYaml(value);
    return { method, path, contentType: 'application/yaml', body: chance(r, 0.4) ? mutateText(r, text, 1 + Math.floor(r() * 3)) : text };
  }
  if (format < 0.25) return { method, path, contentType: 'application/vnd.kubernetes.protobuf', body: randomProtobuf(r, t.kind, name) };
  if (format < 0.28) return { method, path, contentType: pick(r, ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', '']), body: JSON.stringify(value) };
  if (format < 0.3) {
    const depth = 50 + Math.floor(r() * 200);
    return { method, path, body: `{"metadata":{"name":"${name}"},"spec":${'['.repeat(depth)}${']'.repeat(depth)}}` };
  }
  const text = JSON.stringify(value) ?? 'null';
  return { method, path, body: chance(r, 0.25) ? mutateText(r, text, 1 + Math.floor(r() * 4)) : text, ...(chance(r, 0.05) ? { chunked: true } : {}) };
}

/** Known-hostile bodies that every run starts with, before the random ones. */
function corpus(): RawRequest[] {
  const cm = `/api/v1/namespaces/${NS}/configmaps`;
  const patch = (type: string, body: string): RawRequest => ({ method: 'PATCH', path: `${cm}/cm`, contentType: `application/${type}`, body });
  let laughs = 'l0: &l0 [a, a, a, a, a, a, a, a, a]\n';
  for (let i = 1; i < 10; i++) laughs += `l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]\n`;
  return [
    patch('json-patch+json', '[{"op":"add","path":"/__proto__/polluted","value":"yes"}]'),
    patch('json-patch+json', '[{"op":"add","path":"/constructor/prototype/polluted","value":"yes"}]'),
    patch('merge-patch+json', '{"__proto__":{"polluted":"yes"}}'),
    patch('strategic-merge-patch+json', '{"__proto__":{"polluted":"yes"},"metadata":{"$setElementOrder/__proto__":[]}}'),
    patch('json-patch+json', JSON.stringify([{ op: 'add', path: '/l', value: ['x'] }, ...Array.from({ length: 64 }, () => ({ op: 'copy', from: '/l', path: '/l/-' }))])),
    { method: 'POST', path: cm, body: `{"metadata":{"name":"deep"},"spec":${'['.repeat(5000)}${']'.repeat(5000)}}` },
    { method: 'POST', path: cm, contentType: 'application/yaml', body: `metadata: {name: lol}\n${laughs}` },
    { method: 'POST', path: cm, contentType: 'application/yaml', body: `metadata: {name: deep}\nspec: ${'['.repeat(3000)}` },
    { method: 'POST', path: cm, body: '{"apiVersion":{"toString":1},"kind":"ConfigMap","metadata":{"name":{"toString":[]}}}' },
    { method: 'POST', path: cm, contentType: 'application/vnd.kubernetes.protobuf', body: envelope('v1', 'ConfigMap', [...objectMeta('pb'), ...msg(9, int(1, 2 ** 40))]) },
  ];
}

/** Why a reply is wrong, or undefined when it is a fine answer. */
function problem(req: RawRequest, reply: Reply): string | undefined {
  if (!Number.isInteger(reply.status) || reply.status < 200 || reply.status >= 500) return `status ${reply.status}: ${reply.text.slice(0, 300)}`;
  // No body for HEAD; a method HTTP does not know ("BREW") gets the HTTP parser's bare 400 before any handler.
  if (req.method === 'HEAD' || (req.method === 'BREW' && reply.status === 400)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(reply.text);
  } catch {
    return `status ${reply.status}, not JSON: ${reply.text.slice(0, 200)}`;
  }
  if (reply.status >= 400) {
    const s = body as Record<string, unknown>;
    if (s['kind'] !== 'Status' || s['code'] !== reply.status || s['status'] !== 'Failure') return `not a failure Status: ${reply.text.slice(0, 300)}`;
  }
  return undefined;
}

function describeRequest(req: RawRequest): string {
  const body = req.body === undefined ? '' : Buffer.isBuffer(req.body) ? req.body.toString('base64') : req.body;
  return `${req.method ?? 'GET'} ${req.path} [${req.contentType ?? ''}] ${body.slice(0, 400)}`;
}

describe('API fuzzer', () => {
  let t: TestApi;
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();

  beforeAll(async () => {
    t = await startTestApi({ yamlLimits: { timeoutMs: 5000, heapMb: 128, maxJsonChars: 4 * 1024 * 1024, concurrency: 2, queue: 64 } });
    const seed = rng(1);
    expect((await t.request({ method: 'POST', path: '/api/v1/namespaces', body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }) })).status).toBe(201);
    for (const target of TARGETS.slice(0, 4)) {
      const r = await t.request({ method: 'POST', path: target.collection, body: JSON.stringify(validObject(seed, target.kind, target.name)) });
      expect(r.status, r.text).toBe(201);
    }
  });

  afterAll(async () => {
    await t.close();
  });

  it(`answers known-hostile and ${RUNS} random and mutated bodies with a status below 500 and a Status object (seed ${SEED})`, async () => {
    const r = rng(SEED);
    const requests = [...corpus(), ...Array.from({ length: RUNS }, (_, i) => randomRequest(r, i))];
    const failures: string[] = [];
    for (let i = 0; i < requests.length; i += PARALLEL) {
      const batch = requests.slice(i, i + PARALLEL);
      const replies = await Promise.all(
        batch.map((req) =>
          t.request({ ...req, timeoutMs: 10_000 }).then(
            (reply) => problem(req, reply),
            (e: unknown) => `no answer: ${e instanceof Error ? e.message : String(e)}`,
          ),
        ),
      );
      replies.forEach((p, j) => {
        const req = batch[j];
        if (p && req) failures.push(`${p}\n    for ${describeRequest(req)}`);
      });
    }
    expect(failures.slice(0, 5), `${failures.length} bad answers`).toEqual([]);

    // Still serving, and nothing leaked into every object of the process.
    expect((await t.request({ path: '/api/v1/namespaces/default' })).status).toBe(200);
    expect(json(await t.request({ path: `/api/v1/namespaces/${NS}/configmaps` }))['kind']).toBe('ConfigMapList');
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    expect(({} as Record<string, unknown>)['shell']).toBeUndefined();
  }, 120_000);
});
