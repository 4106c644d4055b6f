import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/errors.js';
import { applyPatch, jsonPatch, mergePatch } from '../../../src/api/patch.js';

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

  it('fails a test operation or a missing path with 422', () => {
    expect(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(ApiError);
    expect(() => jsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }])).toThrow(/does not exist/);
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
