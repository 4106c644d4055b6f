// Hostile request bodies against the in-process API server (issue 9, holes
// 4 and 8): patches that name __proto__ must not reach Object.prototype, and
// no body, however large, deep or aliased, may freeze the daemon or earn a 500.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { entry, envelope, objectMeta } from './proto-writer.js';
import { json, startTestApi, type Reply, type TestApi } from './harness.js';

let t: TestApi;
const CM = '/api/v1/namespaces/default/configmaps';

beforeAll(async () => {
  t = await startTestApi();
  const r = await t.request({ method: 'POST', path: CM, body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target' }, data: { a: '1' } }) });
  expect(r.status).toBe(201);
});

afterAll(async () => {
  await t.close();
});

/** What a prototype pollution would leave behind, whatever key it used. */
function polluted(): string[] {
  const probe = {} as Record<string, unknown>;
  return ['shell', 'polluted', 'x'].filter((k) => probe[k] !== undefined);
}

afterEach(() => {
  // A test that polluted must not make the next ones fail for its sake.
  for (const k of polluted()) delete (Object.prototype as Record<string, unknown>)[k];
});

function expectStatus(r: Reply, code: number, reason: string): Record<string, unknown> {
  const s = json(r);
  expect({ status: r.status, kind: s['kind'], code: s['code'], reason: s['reason'] }).toEqual({ status: code, kind: 'Status', code, reason });
  return s;
}

describe('patches cannot reach Object.prototype (hole 4)', () => {
  const patch = (type: string, body: string): Promise<Reply> =>
    t.request({ method: 'PATCH', path: `${CM}/target`, contentType: `application/${type}+json`, body });

  // Raw text: an object literal with "__proto__" would lose the key before it is sent.
  const cases: Array<[string, string]> = [
    ['json-patch', '[{"op":"add","path":"/__proto__/shell","value":"/bin/sh"}]'],
    ['json-patch', '[{"op":"replace","path":"/__proto__/polluted","value":true}]'],
    ['json-patch', '[{"op":"add","path":"/constructor/prototype/shell","value":"/bin/sh"}]'],
    ['json-patch', '[{"op":"add","path":"/metadata/prototype","value":{"shell":"/bin/sh"}}]'],
    ['json-patch', '[{"op":"copy","from":"/__proto__","path":"/data/x"}]'],
    ['json-patch', '[{"op":"add","path":"/data/b","value":{"__proto__":{"shell":"/bin/sh"}}}]'],
    ['merge-patch', '{"__proto__":{"shell":"/bin/sh"}}'],
    ['merge-patch', '{"metadata":{"constructor":{"prototype":{"shell":"/bin/sh"}}}}'],
    ['merge-patch', '{"data":{"prototype":"x"}}'],
    ['strategic-merge-patch', '{"__proto__":{"shell":"/bin/sh"}}'],
    ['strategic-merge-patch', '{"spec":{"constructor":{"prototype":{"shell":"/bin/sh"}}}}'],
    ['strategic-merge-patch', '{"metadata":{"$setElementOrder/__proto__":[{"shell":"/bin/sh"}]}}'],
    ['strategic-merge-patch', '{"metadata":{"$deleteFromPrimitiveList/__proto__":["x"]}}'],
  ];

  it.each(cases)('%s %s: 422 Invalid as the apiserver answers a bad patch, and nothing polluted', async (type, body) => {
    const s = expectStatus(await patch(type, body), 422, 'Invalid');
    expect(s['message']).toBe('the server rejected our request due to an error in our request');
    expect(polluted()).toEqual([]);
    expect(({} as Record<string, unknown>)['shell']).toBeUndefined();
    // The object is untouched.
    const after = json(await t.request({ path: `${CM}/target` }));
    expect(after['data']).toEqual({ a: '1' });
    expect(Object.getPrototypeOf(after)).toBe(Object.prototype);
  });

  it('still applies ordinary patches of every kind', async () => {
    expect((await patch('json-patch', '[{"op":"add","path":"/data/j","value":"1"}]')).status).toBe(200);
    expect((await patch('merge-patch', '{"data":{"m":"1"}}')).status).toBe(200);
    expect((await patch('strategic-merge-patch', '{"data":{"s":"1","j":null,"m":null}}')).status).toBe(200);
    expect(json(await t.request({ path: `${CM}/target` }))['data']).toEqual({ a: '1', s: '1' });
    expect((await patch('merge-patch', '{"data":{"s":null}}')).status).toBe(200);
  });

  it('keeps "__proto__" keys of a created or updated object as data, polluting nothing', async () => {
    const body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"proto-keys"},"data":{"__proto__":"x","k":"v"},"__proto__":{"shell":"/bin/sh"}}';
    const created = await t.request({ method: 'POST', path: CM, body });
    expect(created.status).toBeLessThan(500);
    expect(polluted()).toEqual([]);
    const update = body.replace('"k":"v"', '"k":"w"').replace('"name":"proto-keys"', '"name":"proto-keys","resourceVersion":""');
    const updated = await t.request({ method: 'PUT', path: `${CM}/proto-keys`, body: update });
    expect(updated.status).toBeLessThan(500);
    expect(polluted()).toEqual([]);
    if (created.status === 201) {
      const got = JSON.parse((await t.request({ path: `${CM}/proto-keys` })).text) as Record<string, unknown>;
      expect(Object.hasOwn(got['data'] as object, '__proto__')).toBe(true);
    }
  });

  it('keeps a "__proto__" map key of a protobuf body as data, as JSON does', async () => {
    // kubectl's typed clients send protobuf: a map key must land as an own key, not vanish into a prototype.
    const body = envelope('v1', 'ConfigMap', [...objectMeta('proto-pb'), ...entry(2, '__proto__', 'x'), ...entry(2, 'k', 'v')]);
    const created = await t.request({ method: 'POST', path: CM, body, contentType: 'application/vnd.kubernetes.protobuf' });
    expect(polluted()).toEqual([]);
    expect(created.status).toBe(201);
    const data = JSON.parse(created.text).data as Record<string, unknown>;
    expect(Object.keys(data).sort()).toEqual(['__proto__', 'k']);
  });
});

describe('bodies of any size and shape get a 4xx, never a 500, and never freeze the server (hole 8)', () => {
  it('answers a 4 MiB body with 413 as the apiserver, declared or chunked', async () => {
    const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(4 * 1024 * 1024) } });
    const s = expectStatus(await t.request({ method: 'POST', path: CM, body: big }), 413, 'RequestEntityTooLarge');
    expect(s['message']).toBe('Request entity too large: limit is 3145728');
    expectStatus(await t.request({ method: 'POST', path: CM, body: big, chunked: true }), 413, 'RequestEntityTooLarge');
    expect((await t.request({ path: '/api/v1/namespaces/default' })).status).toBe(200);
  });

  it.each([3000, 100_000])('answers JSON nested %i deep with 400 BadRequest', async (depth) => {
    const deep = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"spec":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const s = expectStatus(await t.request({ method: 'POST', path: CM, body: deep }), 400, 'BadRequest');
    expect(s['message']).toMatch(/exceeded max depth/);
    // The same inside a patch, and in a YAML body.
    const p = `{"data":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    expectStatus(await t.request({ method: 'PATCH', path: `${CM}/target`, contentType: 'application/merge-patch+json', body: p }), 400, 'BadRequest');
    const y = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nspec: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    expectStatus(await t.request({ method: 'POST', path: CM, body: y, contentType: 'application/yaml' }), 400, 'BadRequest');
  });

  it('refuses YAML aliases that expand exponentially (billion laughs) with 400', async () => {
    let doc = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nl0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i < 10; i++) doc += `l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]\n`;
    doc += 'data: {a: "1"}\nspec: *l9\n';
    const s = expectStatus(await t.request({ method: 'POST', path: CM, body: doc, contentType: 'application/yaml' }), 400, 'BadRequest');
    expect(s['message']).toBe('error converting YAML to JSON: yaml: document contains excessive aliasing');
  });

  it('keeps answering other requests while a 1.5 MB YAML body is decoded, then creates the object', async () => {
    // The shape that took 18 s and froze the whole daemon: one map with tens of thousands of keys.
    let yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big-yaml\ndata:\n';
    let keys = 0;
    while (yaml.length < 1.5 * 1024 * 1024) yaml += `  key-${keys++}: value-${'x'.repeat(20)}\n`;
    let postDone = false;
    const post = t.request({ method: 'POST', path: CM, body: yaml, contentType: 'application/yaml', timeoutMs: 60_000 }).finally(() => {
      postDone = true;
    });
    // GETs one after another while the POST is pending, bounded by count.
    // A server whose event loop is held by the parse answers none of them
    // until the parse is over; one that is not answers many.
    let answeredWhilePending = 0;
    for (let i = 0; i < 2000 && !postDone; i++) {
      const r = await t.request({ path: '/api/v1/namespaces/default', timeoutMs: 60_000 });
      expect(r.status).toBe(200);
      if (!postDone) answeredWhilePending++;
    }
    const created = await post;
    expect(created.status).toBe(201);
    expect(Object.keys(json(created)['data'] as object)).toHaveLength(keys);
    expect(answeredWhilePending).toBeGreaterThanOrEqual(5);
  }, 90_000);

  it('keeps the last value of a repeated YAML key, as the apiserver does', async () => {
    const doc = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup}\ndata:\n  a: "1"\n  a: "2"\n';
    const r = await t.request({ method: 'POST', path: CM, body: doc, contentType: 'application/yaml' });
    expect(r.status).toBe(201);
    expect(json(r)['data']).toEqual({ a: '2' });
  });
});

describe('YAML bodies too costly to decode', () => {
  let tight: TestApi;
  beforeAll(async () => {
    tight = await startTestApi({ yamlLimits: { timeoutMs: 1500, heapMb: 256, maxJsonChars: 1024 * 1024, concurrency: 1, queue: 0 } });
  });
  afterAll(async () => {
    await tight.close();
  });

  it('refuses with 413 a body whose decoding outlasts its budget, and the server goes on', async () => {
    // Each alias is resolved by scanning the anchors before it: quadratic.
    let doc = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: slow}\nspec:\n';
    for (let i = 0; i < 40_000; i++) doc += `  k${i}: &a${i} v\n  r${i}: *a${i}\n`;
    const s = expectStatus(await tight.request({ method: 'POST', path: CM, body: doc, contentType: 'application/yaml', timeoutMs: 30_000 }), 413, 'RequestEntityTooLarge');
    expect(s['message']).toMatch(/could not be decoded within 1.5s|needs more than 256 MiB/);
    expect((await tight.request({ path: '/api/v1/namespaces/default' })).status).toBe(200);
  }, 60_000);

  it('answers 429 when more YAML bodies wait than the line holds', async () => {
    let doc = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: line}\nspec:\n';
    for (let i = 0; i < 40_000; i++) doc += `  k${i}: &a${i} v\n  r${i}: *a${i}\n`;
    const replies = await Promise.all(
      [0, 1].map(() => tight.request({ method: 'POST', path: CM, body: doc, contentType: 'application/yaml', timeoutMs: 30_000 })),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([413, 429]);
    expect(json(replies.find((r) => r.status === 429) ?? replies[0]!)['reason']).toBe('TooManyRequests');
  }, 60_000);
});
