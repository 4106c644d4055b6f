import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabPki, issueClientCert, type LabPki } from '../../../src/api/pki.js';
import { startApiServer, type ApiServer } from '../../../src/api/server.js';
import { ObjectStore } from '../../../src/api/store.js';
import { seedLab, tempDir, type TempDir } from './fixtures.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): Record<string, unknown>;
}

interface Req {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** false: no client certificate; a pair: that one. Default: the admin's. */
  cert?: false | { cert: string; key: string };
  socketPath?: string;
}

let pki: LabPki;
let api: ApiServer;
let store: ObjectStore;
let tmp: TempDir;
const logLines: string[] = [];

function request(r: Req): Promise<Reply> {
  const body = r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}),
    ...(r.headers ?? {}),
  };
  return new Promise((resolve, reject) => {
    const done = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
    };
    const req = r.socketPath
      ? http.request({ socketPath: r.socketPath, path: r.path, method: r.method ?? 'GET', headers }, done)
      : https.request(
          {
            host: '127.0.0.1',
            port: api.port,
            path: r.path,
            method: r.method ?? 'GET',
            headers,
            ca: pki.caCert,
            ...(r.cert === false ? {} : { cert: (r.cert ?? { cert: pki.clientCert }).cert, key: r.cert ? r.cert.key : pki.clientKey }),
          },
          done,
        );
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Reads a watch stream until `count` lines arrived or it ends; bounded by a timeout. */
function watchLines(p: string, count: number, headers: Record<string, string> = {}, timeoutMs = 3000): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const lines: Array<Record<string, unknown>> = [];
    let buf = '';
    const req = https.request({ host: '127.0.0.1', port: api.port, path: p, headers, ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey }, (res) => {
      res.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
          buf = buf.slice(nl + 1);
        }
        if (lines.length >= count) {
          req.destroy();
          resolve(lines);
        }
      });
      res.on('end', () => resolve(lines));
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve(lines);
    }, timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) => (lines.length >= count ? resolve(lines) : reject(e)));
    req.end();
  });
}

beforeAll(async () => {
  pki = await createLabPki('server-test');
  store = new ObjectStore({ historyLimit: 50 });
  seedLab(store);
  tmp = await tempDir('nslab-api-');
  api = await startApiServer({
    store,
    pki,
    port: 0,
    version: { major: '1', minor: '32', gitVersion: 'v1.32.4' },
    log: (l) => logLines.push(l),
    socketPath: path.join(tmp.dir, 'api.sock'),
    maxBodyBytes: 64 * 1024,
    subresources: {
      'pods/log': {
        verbs: ['get'],
        handle(_req, res, ctx) {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end(`log of ${ctx.namespace}/${ctx.name} for ${ctx.user.name}\n`);
        },
      },
    },
  });
});

afterAll(async () => {
  await api?.close();
  await tmp?.remove();
});

describe('authentication', () => {
  it('answers 401 Unauthorized without a client certificate', async () => {
    const r = await request({ path: '/api/v1/namespaces', cert: false });
    expect(r.status).toBe(401);
    expect(r.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    expect((await request({ path: '/version', cert: false })).status).toBe(401);
  });

  it('refuses a certificate from another CA', async () => {
    const stranger = await createLabPki('stranger');
    const r = await request({ path: '/api/v1/namespaces', cert: { cert: stranger.clientCert, key: stranger.clientKey } });
    expect(r.status).toBe(401);
  });

  it('accepts any client certificate of the lab CA, as its CN', async () => {
    const kubelet = await issueClientCert(pki, 'system:node:worker', ['system:nodes']);
    const r = await request({ path: '/api/v1/namespaces/default/pods/p/log', cert: kubelet });
    expect(r.status).toBe(404);
    store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    const ok = await request({ path: '/api/v1/namespaces/default/pods/p/log', cert: kubelet });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('log of default/p for system:node:worker\n');
  });

  it('serves health checks anonymously', async () => {
    for (const p of ['/healthz', '/livez', '/readyz']) {
      const r = await request({ path: p, cert: false });
      expect(r.status).toBe(200);
      expect(r.text).toBe('ok');
    }
  });

  it('logs method, path, code and duration of each request', () => {
    expect(logLines.some((l) => /^GET \/api\/v1\/namespaces 401 \d+ms anonymous$/.test(l))).toBe(true);
  });
});

describe('discovery', () => {
  it('reports the version', async () => {
    const v = (await request({ path: '/version' })).json();
    expect(v).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.4', compiler: 'gc' });
  });

  it('serves legacy discovery documents', async () => {
    expect((await request({ path: '/api' })).json()).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await request({ path: '/apis' })).json();
    expect((groups['groups'] as Array<{ name: string }>).map((g) => g.name)).toEqual(['discovery.k8s.io', 'apps', 'coordination.k8s.io']);
    const core = (await request({ path: '/api/v1' })).json();
    expect(core['groupVersion']).toBe('v1');
    const resources = core['resources'] as Array<Record<string, unknown>>;
    expect(resources.find((r) => r['name'] === 'services')).toMatchObject({
      singularName: 'service',
      namespaced: true,
      kind: 'Service',
      shortNames: ['svc'],
      categories: ['all'],
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    });
    expect(resources.map((r) => r['name'])).toContain('pods/log');
    const apps = (await request({ path: '/apis/apps/v1' })).json();
    expect((apps['resources'] as Array<Record<string, unknown>>).find((r) => r['name'] === 'deployments/scale')).toMatchObject({
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
    });
  });

  it('serves aggregated discovery when asked for it', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const r = await request({ path: '/apis', headers: { Accept: accept } });
    expect(r.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const doc = r.json();
    expect(doc['kind']).toBe('APIGroupDiscoveryList');
    const apps = (doc['items'] as Array<{ metadata: { name: string }; versions: Array<{ resources: Array<Record<string, unknown>> }> }>).find(
      (i) => i.metadata.name === 'apps',
    );
    expect(apps?.versions[0]?.resources.find((x) => x['resource'] === 'deployments')).toMatchObject({
      responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      scope: 'Namespaced',
      shortNames: ['deploy'],
    });
  });

  it('answers the generic 404 for unknown paths and a 404 for openapi v2', async () => {
    const r = await request({ path: '/api/v1/widgets' });
    expect(r.status).toBe(404);
    expect(r.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server could not find the requested resource',
      reason: 'NotFound',
      details: {},
      code: 404,
    });
    expect((await request({ path: '/openapi/v2' })).status).toBe(404);
    const root = (await request({ path: '/openapi/v3' })).json();
    expect(Object.keys(root['paths'] as object)).toContain('apis/apps/v1');
  });
});

describe('resources', () => {
  it('gets an object, and answers NotFound like the apiserver', async () => {
    expect((await request({ path: '/api/v1/nodes/master' })).json()['kind']).toBe('Node');
    const r = await request({ path: '/api/v1/namespaces/foo' });
    expect(r.status).toBe(404);
    expect(r.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'namespaces "foo" not found',
      reason: 'NotFound',
      details: { name: 'foo', kind: 'namespaces' },
      code: 404,
    });
  });

  it('lists as <Kind>List with the resourceVersion and typed items', async () => {
    const list = (await request({ path: '/api/v1/namespaces' })).json();
    expect(list['kind']).toBe('NamespaceList');
    expect(list['apiVersion']).toBe('v1');
    expect((list['metadata'] as { resourceVersion: string }).resourceVersion).toBe(store.currentResourceVersion());
    const items = list['items'] as Array<{ kind: string; metadata: { name: string } }>;
    expect(items.map((i) => i.metadata.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(items[0]?.kind).toBe('Namespace');
    const filtered = (await request({ path: '/api/v1/nodes?labelSelector=node-role.kubernetes.io%2Fcontrol-plane' })).json();
    expect((filtered['items'] as unknown[]).length).toBe(1);
    expect((await request({ path: '/api/v1/nodes?labelSelector=a%20in%20b' })).status).toBe(400);
  });

  it('prints Tables for kubectl get', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    const r = await request({ path: '/api/v1/namespaces/default/services?limit=500', headers: { Accept: accept } });
    expect(r.headers['content-type']).toBe('application/json;as=Table;v=v1;g=meta.k8s.io');
    const t = r.json();
    expect(t['kind']).toBe('Table');
    const rows = t['rows'] as Array<{ cells: unknown[]; object: { kind: string } }>;
    expect(rows[0]?.cells.slice(0, 5)).toEqual(['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
    expect(rows[0]?.object.kind).toBe('PartialObjectMetadata');
    const none = (await request({ path: '/api/v1/nodes/master?includeObject=None', headers: { Accept: accept } })).json();
    expect((none['rows'] as Array<Record<string, unknown>>)[0]?.['object']).toBeUndefined();
    const bad = await request({ path: '/api/v1/nodes', headers: { Accept: 'application/vnd.kubernetes.protobuf' } });
    expect(bad.status).toBe(406);
  });

  it('creates objects, filling the namespace from the path', async () => {
    const r = await request({
      method: 'POST',
      path: '/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create&fieldValidation=Strict',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' }, data: { a: '1' } },
    });
    expect(r.status).toBe(201);
    expect(r.json()['metadata']).toMatchObject({ name: 'c1', namespace: 'default' });
  });

  it('refuses what the apiserver refuses on create', async () => {
    const post = (p: string, body: unknown): Promise<Reply> => request({ method: 'POST', path: p, body });
    const mismatch = await post('/api/v1/namespaces/default/configmaps', { metadata: { name: 'x', namespace: 'kube-system' } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json()['message']).toBe('the namespace of the provided object does not match the namespace sent on the request');
    const noNs = await post('/api/v1/namespaces/x/configmaps', { metadata: { name: 'x' } });
    expect(noNs.status).toBe(404);
    expect(noNs.json()['message']).toBe('namespaces "x" not found');
    expect((await post('/api/v1/namespaces/default/configmaps', '{"metadata":')).status).toBe(400);
    expect((await post('/api/v1/namespaces/default/configmaps', { metadata: { name: 'big' }, data: { a: 'x'.repeat(70 * 1024) } })).status).toBe(413);
    expect((await post('/api/v1/configmaps', { metadata: { name: 'x' } })).status).toBe(405);
    const dry = await post('/api/v1/namespaces/default/configmaps?dryRun=All', { metadata: { name: 'dry' } });
    expect(dry.status).toBe(201);
    expect(store.find('configmaps', 'default', 'dry')).toBeUndefined();
  });

  it('updates with optimistic concurrency and checks the URL name', async () => {
    const cur = store.get('configmaps', 'default', 'c1');
    const put = (body: unknown): Promise<Reply> => request({ method: 'PUT', path: '/api/v1/namespaces/default/configmaps/c1', body });
    const ok = await put({ ...cur, data: { a: '2' } });
    expect(ok.status).toBe(200);
    const stale = await put({ ...cur, data: { a: '3' } });
    expect(stale.status).toBe(409);
    expect(stale.json()['reason']).toBe('Conflict');
    const renamed = await put({ ...cur, metadata: { ...cur.metadata, name: 'other' } });
    expect(renamed.status).toBe(400);
    expect(renamed.json()['message']).toBe('the name of the object (other) does not match the name on the URL (c1)');
  });

  it('patches with merge, JSON and strategic merge patches', async () => {
    const patch = (type: string, body: unknown): Promise<Reply> =>
      request({ method: 'PATCH', path: '/api/v1/namespaces/default/configmaps/c1', headers: { 'Content-Type': type }, body });
    expect((await patch('application/merge-patch+json', { data: { b: '1' } })).json()['data']).toEqual({ a: '2', b: '1' });
    expect((await patch('application/json-patch+json', [{ op: 'remove', path: '/data/a' }])).json()['data']).toEqual({ b: '1' });
    expect((await patch('application/strategic-merge-patch+json', { metadata: { labels: { x: 'y' } } })).json()['metadata']).toMatchObject({ labels: { x: 'y' } });
    expect((await patch('application/apply-patch+yaml', 'data: {}')).status).toBe(415);
  });

  it('scales deployments through the scale subresource', async () => {
    store.create('deployments.apps', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    });
    const scale = (await request({ path: '/apis/apps/v1/namespaces/default/deployments/web/scale' })).json();
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { replicas: 0, selector: 'app=web' } });
    const r = await request({
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/default/deployments/web/scale',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: { spec: { replicas: 3 } },
    });
    expect(r.json()['spec']).toEqual({ replicas: 3 });
    expect((store.get('deployments.apps', 'default', 'web')['spec'] as { replicas: number }).replicas).toBe(3);
  });

  it('deletes: Status Success for most kinds, the object for services', async () => {
    const cm = store.get('configmaps', 'default', 'c1');
    const r = await request({ method: 'DELETE', path: '/api/v1/namespaces/default/configmaps/c1' });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'c1', kind: 'configmaps', uid: cm.metadata.uid } });
    store.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's1', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
    const svc = await request({ method: 'DELETE', path: '/api/v1/namespaces/default/services/s1', body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } });
    expect(svc.status, svc.text).toBe(200);
    expect(svc.json()['kind']).toBe('Service');
  });
});

describe('watch', () => {
  const tableAccept = { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };

  it('streams ADDED/MODIFIED/DELETED lines from a resourceVersion', async () => {
    const rv = store.currentResourceVersion();
    const pending = watchLines(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, 3);
    await new Promise((r) => setTimeout(r, 100));
    const c = store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1', namespace: 'default' } });
    store.update('configmaps', { ...c, data: { a: 'b' } });
    store.delete('configmaps', 'default', 'w1');
    const lines = await pending;
    expect(lines.map((l) => `${String(l['type'])} ${String((l['object'] as { metadata: { name: string } }).metadata.name)}`)).toEqual([
      'ADDED w1',
      'MODIFIED w1',
      'DELETED w1',
    ]);
  });

  it('sends Table rows, with column definitions on the first event only', async () => {
    const pending = watchLines('/api/v1/namespaces?watch=1', 5, tableAccept);
    await new Promise((r) => setTimeout(r, 100));
    store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watched' } });
    const lines = await pending;
    const tables = lines.map((l) => l['object'] as { kind: string; columnDefinitions: unknown[] | null; rows: Array<{ cells: unknown[] }> });
    expect(tables.every((t) => t.kind === 'Table')).toBe(true);
    expect(tables[0]?.columnDefinitions).toHaveLength(3);
    expect(tables.slice(1).every((t) => t.columnDefinitions === null)).toBe(true);
    expect(tables[4]?.rows[0]?.cells.slice(0, 2)).toEqual(['watched', 'Active']);
  });

  it('answers a too old resourceVersion with an ERROR event carrying 410 Expired', async () => {
    for (let i = 0; i < 400; i++) store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bulk-${i}`, namespace: 'default' } });
    const lines = await watchLines('/api/v1/configmaps?watch=true&resourceVersion=1', 1);
    expect(lines[0]?.['type']).toBe('ERROR');
    expect(lines[0]?.['object']).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
    expect(String((lines[0]?.['object'] as { message: string }).message)).toMatch(/^too old resource version: 1 \(\d+\)$/);
  });

  it('ends the server side of a watch when the client goes away', async () => {
    const before = logLines.length;
    const lines = await watchLines('/api/v1/namespaces?watch=true', 1);
    expect(lines).toHaveLength(1);
    const deadline = Date.now() + 3000;
    while (!logLines.slice(before).some((l) => l.startsWith('GET /api/v1/namespaces?watch=true 200')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(logLines.slice(before).some((l) => l.startsWith('GET /api/v1/namespaces?watch=true 200'))).toBe(true);
  });

  it('ends the stream after timeoutSeconds', async () => {
    const started = Date.now();
    const lines = await watchLines(`/api/v1/nodes?watch=true&resourceVersion=${store.currentResourceVersion()}&timeoutSeconds=1`, 99, {}, 4000);
    expect(lines).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('unix socket', () => {
  it('serves plain HTTP to lab components, readable by the owner only', async () => {
    const sock = api.socketPath ?? '';
    expect((await stat(sock)).mode & 0o777).toBe(0o600);
    const r = await request({ path: '/api/v1/nodes', socketPath: sock });
    expect(r.status).toBe(200);
    expect((r.json()['items'] as unknown[]).length).toBe(2);
  });
});
