import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/errors.js';
import { applyPatch, jsonPatch, mergePatch } from '../../../src/api/patch.js';

function catchApi(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('merge patch (RFC 7386)', () => {
  it('merges maps, replaces lists and deletes with null', () => {
    const target = { a: { b: 1, c: 2 }, l: [1, 2], d: 'x' };
    expect(mergePatch(target, { a: { b: 3, c: null }, l: [9], d: null, e: true })).toEqual({ a: { b: 3 }, l: [9], e: true });
    expect(target).toEqual({ a: { b: 1, c: 2 }, l: [1, 2], d: 'x' });
  });
});

describe('JSON patch (RFC 6902)', () => {
  it('applies add, remove, replace, move, copy and test', () => {
    const doc = { metadata: { labels: { a: '1' } }, list: [1, 2, 3] };
    const out = jsonPatch(doc, [
      { op: 'add', path: '/metadata/labels/b~1c', value: '2' },
      { op: 'remove', path: '/metadata/labels/a' },
      { op: 'replace', path: '/list/0', value: 10 },
      { op: 'add', path: '/list/-', value: 4 },
      { op: 'copy', from: '/list/0', path: '/first' },
      { op: 'move', from: '/first', path: '/moved' },
      { op: 'test', path: '/moved', value: 10 },
    ]);
    expect(out).toEqual({ metadata: { labels: { 'b/c': '2' } }, list: [10, 2, 3, 4], moved: 10 });
  });

  it('fails a test operation or a missing path with 422, in the apiserver\'s words plus the why as a cause', () => {
    expect(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(ApiError);
    const err = catchApi(() => jsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }]));
    expect(err.code).toBe(422);
    expect(err.reason).toBe('Invalid');
    expect(err.message).toBe('the server rejected our request due to an error in our request');
    expect(err.details?.causes?.[0]?.message).toMatch(/path \/b does not exist/);
    expect(() => jsonPatch({}, { op: 'add' })).toThrow(/array/);
  });
});

describe('strategic merge patch', () => {
  const deployment = {
    spec: {
      replicas: 2,
      template: {
        spec: {
          containers: [
            { name: 'nginx', image: 'nginx:alpine', ports: [{ containerPort: 80, protocol: 'TCP' }] },
            { name: 'sidecar', image: 'busybox' },
          ],
          volumes: [{ name: 'conf', configMap: { name: 'ngx-conf' } }],
        },
      },
    },
  };

  it('merges containers by name and keeps fields the patch does not mention', () => {
    const out = applyPatch(
      'strategic',
      deployment,
      { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } } },
      'Deployment',
    ) as typeof deployment;
    expect(out.spec.template.spec.containers).toEqual([
      { name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }] },
      { name: 'sidecar', image: 'busybox' },
    ]);
  });

  it('honours $patch: delete in lists and $setElementOrder', () => {
    const out = applyPatch(
      'strategic',
      deployment,
      {
        spec: {
          template: {
            spec: {
              containers: [{ name: 'sidecar', $patch: 'delete' }, { name: 'extra', image: 'e' }],
              '$setElementOrder/containers': [{ name: 'extra' }, { name: 'nginx' }],
            },
          },
        },
      },
      'Deployment',
    ) as typeof deployment;
    expect(out.spec.template.spec.containers.map((c) => c.name)).toEqual(['extra', 'nginx']);
  });

  it('merges service ports by port, keeping allocated nodePorts', () => {
    const svc = { spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 80, nodePort: 30080, protocol: 'TCP' }] } };
    const out = applyPatch('strategic', svc, { spec: { ports: [{ port: 80, targetPort: 8080 }] } }, 'Service') as typeof svc;
    expect(out.spec.ports).toEqual([{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }]);
  });

  it('replaces lists without a merge key and deletes keys set to null', () => {
    const pod = { spec: { containers: [{ name: 'c', args: ['a', 'b'], env: [{ name: 'X', value: '1' }] }] }, metadata: { labels: { a: '1', b: '2' } } };
    const out = applyPatch(
      'strategic',
      pod,
      { metadata: { labels: { a: null } }, spec: { containers: [{ name: 'c', args: ['z'], env: [{ name: 'Y', value: '2' }] }] } },
      'Pod',
    ) as typeof pod;
    expect(out.metadata.labels).toEqual({ b: '2' });
    expect(out.spec.containers[0]).toEqual({ name: 'c', args: ['z'], env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] });
  });

  it('replaces a map with $patch: replace and unions finalizers', () => {
    const obj = { metadata: { finalizers: ['a'] }, spec: { selector: { x: '1', y: '2' } } };
    const out = applyPatch('strategic', obj, { metadata: { finalizers: ['b'] }, spec: { selector: { $patch: 'replace', z: '3' } } }, 'Service') as {
      metadata: { finalizers: string[] };
      spec: { selector: Record<string, string> };
    };
    expect(out.metadata.finalizers).toEqual(['a', 'b']);
    expect(out.spec.selector).toEqual({ z: '3' });
  });
});

describe('patches and hostile input (issue 9)', () => {
  const probe = (): unknown => ({}) as Record<string, unknown>;

  it.each([
    ['json', [{ op: 'add', path: '/__proto__/polluted', value: 1 }]],
    ['json', [{ op: 'replace', path: '/a/constructor/prototype/polluted', value: 1 }]],
    ['json', [{ op: 'add', path: '/b', value: JSON.parse('{"__proto__":{"polluted":1}}') as unknown }]],
    ['merge', JSON.parse('{"__proto__":{"polluted":1}}') as unknown],
    ['merge', { a: { constructor: { prototype: { polluted: 1 } } } }],
    ['strategic', JSON.parse('{"a":{"__proto__":{"polluted":1}}}') as unknown],
    ['strategic', { '$setElementOrder/__proto__': [{ polluted: 1 }] }],
  ] as const)('a %s patch naming __proto__/constructor/prototype is refused with 422', (type, patch) => {
    const err = catchApi(() => applyPatch(type, { a: { x: 1 } }, patch, 'ConfigMap'));
    expect(err.code).toBe(422);
    expect(err.details?.causes?.[0]?.reason).toBe('FieldValueForbidden');
    expect((probe() as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('keeps a stored "__proto__" key as data through every patch kind', () => {
    const doc = JSON.parse('{"data":{"__proto__":"x","k":"v"}}') as Record<string, unknown>;
    for (const type of ['merge', 'strategic'] as const) {
      const out = applyPatch(type, doc, { data: { k: 'w' } }, 'ConfigMap') as { data: Record<string, unknown> };
      expect(Object.hasOwn(out.data, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(out.data)).toBe(Object.prototype);
      expect(out.data['k']).toBe('w');
    }
    const out = jsonPatch(doc, [{ op: 'add', path: '/data/k', value: 'w' }]) as { data: Record<string, unknown> };
    expect(Object.getOwnPropertyNames(out.data).sort()).toEqual(['__proto__', 'k']);
  });

  it('refuses more than 10000 JSON patch operations with 413, as the apiserver', () => {
    const ops = Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/a', value: 1 }));
    const err = catchApi(() => jsonPatch({ a: 1 }, ops));
    expect(err.code).toBe(413);
    expect(err.message).toBe('Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001');
  });

  it('stops copies of copies at 3 MiB in total instead of doubling the document without end', () => {
    // Each copy appends the whole list to itself: 40 of them would make 2^40 elements.
    const ops = [{ op: 'add', path: '/l', value: ['x'.repeat(100)] }, ...Array.from({ length: 40 }, () => ({ op: 'copy', from: '/l', path: '/l/-' }))];
    const err = catchApi(() => jsonPatch({}, ops));
    expect(err.code).toBe(422);
    expect(err.details?.causes?.[0]?.message).toMatch(/^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/);
  });

  it('merges lists of tens of thousands of keyed elements without comparing each with each', () => {
    const n = 20_000;
    const containers = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'a' }));
    const patch = {
      spec: {
        containers: containers.map((c) => ({ name: c.name, image: 'b' })).reverse(),
        '$setElementOrder/containers': containers.map((c) => ({ name: c.name })),
      },
      metadata: { finalizers: containers.map((c) => c.name), '$deleteFromPrimitiveList/finalizers': ['c1'] },
    };
    const out = applyPatch('strategic', { spec: { containers }, metadata: { finalizers: ['c0'] } }, patch, 'Pod') as {
      spec: { containers: Array<{ name: string; image: string }> };
      metadata: { finalizers: string[] };
    };
    expect(out.spec.containers).toHaveLength(n);
    expect(out.spec.containers[0]).toEqual({ name: 'c0', image: 'b' });
    expect(out.spec.containers.every((c) => c.image === 'b')).toBe(true);
    expect(out.metadata.finalizers).toHaveLength(n - 1);
  }, 10_000);
});
