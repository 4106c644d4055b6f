import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/errors.js';
import { decodeProtobufObject } from '../../../src/api/protobuf.js';

import { bytes, entry, envelope, int, msg, objectMeta, str } from './proto-writer.js';

describe('protobuf request bodies', () => {
  it('decodes a Namespace as kubectl create namespace sends it', () => {
    const raw = [...objectMeta('demo'), ...msg(2), ...msg(3, str(1, ''))];
    expect(decodeProtobufObject(envelope('v1', 'Namespace', raw))).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'demo' },
      spec: {},
      status: {},
    });
  });

  it('decodes a Deployment: pointers keep zeros, int-or-strings, inlined and repeated fields', () => {
    const container = msg(2, str(1, 'nginx'), str(2, 'nginx:alpine'), msg(6, int(3, 80), str(4, 'TCP')), msg(8));
    const podSpec = msg(2, container, str(8, ''), str(6, ''));
    const template = msg(3, msg(1, str(1, ''), msg(8), entry(11, 'app', 'web')), podSpec);
    const strategy = msg(4, str(1, 'RollingUpdate'), msg(2, msg(1, int(1, 1), str(3, '25%')), msg(2, int(1, 0), int(2, 1))));
    const spec = msg(2, int(1, 0), msg(2, entry(1, 'app', 'web')), template, strategy, int(5, 0));
    const d = decodeProtobufObject(envelope('apps/v1', 'Deployment', [...objectMeta('web', { app: 'web' }), ...spec, ...msg(3)]));
    expect(d).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:alpine', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: {} }] },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
      },
      status: {},
    });
  });

  it('decodes a ConfigMap with data and binary data', () => {
    const raw = [...objectMeta('cfg'), ...entry(2, 'a', 'b'), ...msg(3, str(1, 'bin'), bytes(2, [0, 1, 2]))];
    expect(decodeProtobufObject(envelope('v1', 'ConfigMap', raw))).toMatchObject({ data: { a: 'b' }, binaryData: { bin: 'AAEC' } });
  });

  it('rejects bodies without the envelope, and kinds it has no table for', () => {
    expect(() => decodeProtobufObject(Buffer.from('{}'))).toThrow(ApiError);
    const err = (() => {
      try {
        decodeProtobufObject(envelope('batch/v1', 'Job', []));
      } catch (e) {
        return e as ApiError;
      }
      return undefined;
    })();
    expect(err?.code).toBe(415);
  });
});
