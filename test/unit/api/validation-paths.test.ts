// Hole 7 at the API: ConfigMap keys and a ConfigMap volume's items[].path
// become file names under the kubelet's volume folder, so the apiserver's
// rules refuse '..' and friends with 422 and its exact messages.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/errors.js';
import { ObjectStore } from '../../../src/api/store.js';
import type { KubeObject } from '../../../src/api/types.js';
import { configMapKeyErrors, localPathErrors } from '../../../src/api/validation-paths.js';

const KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function store(): ObjectStore {
  const s = new ObjectStore();
  s.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  return s;
}

function refused(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected a 422');
}

const configMap = (data: Record<string, string>, binaryData?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'x', namespace: 'default' },
  data,
  ...(binaryData ? { binaryData } : {}),
});

const podWithItems = (items: unknown[], extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default' },
  spec: {
    containers: [{ name: 'web', image: 'nginx', volumeMounts: [{ name: 'conf', mountPath: '/etc/nginx/conf.d' }] }],
    volumes: [{ name: 'conf', configMap: { name: 'x', items } }],
    ...extra,
  },
});

describe('IsConfigMapKey', () => {
  it('accepts what the apiserver accepts', () => {
    for (const key of ['default.conf', 'KEY_NAME', 'key-name', '.hidden', 'a..b', 'k'.repeat(253)]) expect(configMapKeyErrors(key), key).toEqual([]);
  });

  it('refuses other characters, ".", "..", a ".." prefix and more than 253 bytes', () => {
    expect(configMapKeyErrors('../evil')).toEqual([KEY_MSG, "must not start with '..'"]);
    expect(configMapKeyErrors('a/b')).toEqual([KEY_MSG]);
    expect(configMapKeyErrors('')).toEqual([KEY_MSG]);
    expect(configMapKeyErrors('.')).toEqual(["must not be '.'"]);
    expect(configMapKeyErrors('..')).toEqual(["must not be '..'"]);
    expect(configMapKeyErrors('..data')).toEqual(["must not start with '..'"]);
    expect(configMapKeyErrors('k'.repeat(254))).toEqual(['must be no more than 253 characters']);
    expect(configMapKeyErrors('é')).toEqual([KEY_MSG]);
  });
});

describe('ValidateLocalNonReservedPath', () => {
  it('gives the apiserver messages', () => {
    expect(localPathErrors('conf/default.conf')).toEqual([]);
    expect(localPathErrors('/etc/cron.d/x')).toEqual(['must be a relative path']);
    expect(localPathErrors('../../x')).toEqual(["must not contain '..'"]);
    expect(localPathErrors('a/../../x')).toEqual(["must not contain '..'"]);
    expect(localPathErrors('..data/x')).toEqual(["must not start with '..'"]);
    expect(localPathErrors('/..')).toEqual(['must be a relative path', "must not contain '..'"]);
  });
});

describe('the store refuses, with 422 as kubectl shows it', () => {
  it('a ConfigMap key that climbs out of the volume', () => {
    const err = refused(() => store().create('configmaps', configMap({ '../evil': 'x' })));
    expect(err.code).toBe(422);
    expect(err.message).toBe(
      `ConfigMap "x" is invalid: [data[../evil]: Invalid value: "../evil": ${KEY_MSG}, ` +
        `data[../evil]: Invalid value: "../evil": must not start with '..']`,
    );
  });

  it('a bad key on update too, and in binaryData, and a key in both', () => {
    const s = store();
    const created = s.create('configmaps', configMap({ 'default.conf': 'x' }));
    const err = refused(() => s.update('configmaps', { ...created, data: { '..': 'x' } }));
    expect(err.message).toBe(`ConfigMap "x" is invalid: data[..]: Invalid value: "..": must not be '..'`);
    expect(refused(() => s.create('configmaps', { ...configMap({}, { 'a/b': 'eA==' }), metadata: { name: 'y', namespace: 'default' } })).message).toBe(
      `ConfigMap "y" is invalid: binaryData[a/b]: Invalid value: "a/b": ${KEY_MSG}`,
    );
    expect(refused(() => s.create('configmaps', { ...configMap({ k: 'x' }, { k: 'eA==' }), metadata: { name: 'z', namespace: 'default' } })).message).toBe(
      'ConfigMap "z" is invalid: data[k]: Invalid value: "k": duplicate of key present in binaryData',
    );
  });

  it('a Pod whose ConfigMap volume item path leaves the volume', () => {
    const err = refused(() => store().create('pods', podWithItems([{ key: 'default.conf', path: '../../../../etc/cron.d/x' }])));
    expect(err.code).toBe(422);
    expect(err.message).toBe(
      `Pod "p" is invalid: spec.volumes[0].configMap.items[0].path: Invalid value: "../../../../etc/cron.d/x": must not contain '..'`,
    );
    expect(refused(() => store().create('pods', podWithItems([{ key: 'k', path: '/etc/x' }]))).message).toBe(
      'Pod "p" is invalid: spec.volumes[0].configMap.items[0].path: Invalid value: "/etc/x": must be a relative path',
    );
    expect(refused(() => store().create('pods', podWithItems([{ key: 'k', path: '..data' }]))).message).toBe(
      `Pod "p" is invalid: spec.volumes[0].configMap.items[0].path: Invalid value: "..data": must not start with '..'`,
    );
    expect(refused(() => store().create('pods', podWithItems([{ key: '', path: '' }]))).message).toBe(
      'Pod "p" is invalid: [spec.volumes[0].configMap.items[0].key: Required value, spec.volumes[0].configMap.items[0].path: Required value]',
    );
    expect(refused(() => store().create('pods', podWithItems([{ key: 'k', path: 'k', mode: 0o4755 }]))).message).toBe(
      'Pod "p" is invalid: spec.volumes[0].configMap.items[0].mode: Invalid value: 2541: must be a number between 0 and 0777 (octal), both inclusive',
    );
  });

  it('volume and container names that would name folders outside the pod', () => {
    const pod = podWithItems([]);
    const spec = pod['spec'] as { volumes: Array<{ name: string }>; containers: Array<{ name: string }> };
    spec.volumes[0] = { name: '..' };
    spec.containers[0] = { ...spec.containers[0], name: '../../x' } as { name: string };
    const err = refused(() => store().create('pods', pod));
    expect(err.message).toContain('spec.volumes[0].name: Invalid value: "..": a lowercase RFC 1123 label must consist of');
    expect(err.message).toContain('spec.containers[0].name: Invalid value: "../../x": a lowercase RFC 1123 label must consist of');
  });

  it('a Deployment whose template does the same', () => {
    const pod = podWithItems([{ key: 'k', path: '../x' }]);
    const err = refused(() =>
      store().create('deployments.apps', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd', namespace: 'default' },
        spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: pod['spec'] } },
      }),
    );
    expect(err.message).toBe(
      `Deployment.apps "d" is invalid: spec.template.spec.volumes[0].configMap.items[0].path: Invalid value: "../x": must not contain '..'`,
    );
  });

  it('and still takes the course objects', () => {
    const s = store();
    s.create('configmaps', configMap({ 'default.conf': 'server {}' }));
    s.create('pods', podWithItems([{ key: 'default.conf', path: 'default.conf' }]));
  });
});
