// Acceptance: the real kubectl against an in-process API server on
// 127.0.0.1, asserting on what a user sees.

import { execa, type ResultPromise } from 'execa';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createLabPki, type LabPki } from '../../../src/api/pki.js';
import { startApiServer, type ApiServer } from '../../../src/api/server.js';
import { ObjectStore } from '../../../src/api/store.js';
import { seedLab, tempDir, writeKubeconfig, type TempDir } from './fixtures.js';

let pki: LabPki;
let api: ApiServer;
let store: ObjectStore;
let tmp: TempDir;
let kubeconfig: string;
let tokenKubeconfig: string;

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function kubectl(args: string[], config = kubeconfig): Promise<Run> {
  const r = await execa('kubectl', ['--request-timeout=10s', '--cache-dir', path.join(tmp.dir, 'cache'), ...args], {
    env: { KUBECONFIG: config, KUBECACHEDIR: path.join(tmp.dir, 'cache') },
    reject: false,
    timeout: 30_000,
    input: '',
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs kubectl and expects success without warnings. */
async function ok(args: string[]): Promise<string> {
  const r = await kubectl(args);
  expect(r.stderr, `kubectl ${args.join(' ')}`).toBe('');
  expect(r.exitCode, `kubectl ${args.join(' ')}`).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  pki = await createLabPki('kubectl-test');
  store = new ObjectStore();
  seedLab(store);
  api = await startApiServer({ store, pki, host: '127.0.0.1', port: 0, version: 'v1.32.4' });
  tmp = await tempDir('nslab-kubectl-');
  kubeconfig = path.join(tmp.dir, 'kubeconfig');
  await writeKubeconfig(kubeconfig, api.url, pki);
  // No client certificate, only a bearer token the lab does not know (with
  // no credentials at all kubectl would prompt for a password instead).
  tokenKubeconfig = path.join(tmp.dir, 'stranger');
  await writeKubeconfig(tokenKubeconfig, api.url, { caCert: pki.caCert, token: 'not-a-lab-token' });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await tmp?.remove();
});

describe('kubectl against the lab API server', () => {
  it('writes the kubeconfig readable by its owner only', async () => {
    expect((await stat(kubeconfig)).mode & 0o777).toBe(0o600);
  });

  it('get nodes -o wide', async () => {
    const lines = (await ok(['get', 'nodes', '-o', 'wide'])).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/);
    expect(lines[1]).toMatch(
      /^master\s+Ready\s+control-plane\s+\d+s\s+v1\.32\.4\s+192\.168\.10\.210\s+<none>\s+Debian GNU\/Linux 12 \(bookworm\)\s+6\.1\.0-31-amd64\s+nslab:\/\/0\.1\.0$/,
    );
    expect(lines[2]).toMatch(/^worker\s+Ready\s+<none>\s+\d+s\s+v1\.32\.4\s+192\.168\.10\.220\s+<none>\s+Debian GNU\/Linux 12 \(bookworm\)/);
    expect(lines).toHaveLength(3);
  });

  it('get ns', async () => {
    const out = await ok(['get', 'ns']);
    expect(out).toMatch(/^NAME\s+STATUS\s+AGE\n/);
    for (const ns of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) {
      expect(out).toMatch(new RegExp(`^${ns}\\s+Active\\s+\\d+s$`, 'm'));
    }
  });

  it('api-resources', async () => {
    const out = await ok(['api-resources']);
    expect(out).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/m);
    expect(out).toMatch(/^services\s+svc\s+v1\s+true\s+Service$/m);
    expect(out).toMatch(/^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(out).toMatch(/^endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice$/m);
  });

  it('get svc and get svc -A', async () => {
    expect(await ok(['get', 'svc'])).toMatch(/^kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP\s+\d+s$/m);
    const all = await ok(['get', 'svc', '-A']);
    expect(all).toMatch(/^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/m);
    expect(all).toMatch(/^default\s+kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP\s+\d+s$/m);
  });

  it('get nodes -o yaml and -o jsonpath', async () => {
    const doc = parse(await ok(['get', 'nodes', '-o', 'yaml'])) as { kind: string; items: Array<{ kind: string; metadata: { name: string } }> };
    expect(doc.kind).toBe('List');
    expect(doc.items.map((i) => `${i.kind}/${i.metadata.name}`)).toEqual(['Node/master', 'Node/worker']);
    expect(await ok(['get', 'node', 'master', '-o', 'jsonpath={.status.addresses[0].address}'])).toBe('192.168.10.210');
  });

  it('describe node worker', async () => {
    const out = await ok(['describe', 'node', 'worker']);
    expect(out).toMatch(/^Name:\s+worker$/m);
    expect(out).toMatch(/^Roles:\s+<none>$/m);
    expect(out).toMatch(/^\s+InternalIP:\s+192\.168\.10\.220$/m);
    expect(out).toMatch(/^\s+HolderIdentity:\s+worker$/m);
    expect(out).toMatch(/^\s+Kubelet Version:\s+v1\.32\.4$/m);
    expect(out).toMatch(/^Non-terminated Pods:\s+\(0 in total\)$/m);
  });

  it('create, get and delete a namespace', async () => {
    expect(await ok(['create', 'ns', 'demo'])).toBe('namespace/demo created');
    expect(await ok(['get', 'ns', 'demo'])).toMatch(/^demo\s+Active\s+\d+s$/m);
    expect(await ok(['delete', 'ns', 'demo'])).toBe('namespace "demo" deleted');
    expect(store.find('namespaces', undefined, 'demo')).toBeUndefined();
  });

  it('get ns nope fails as against a real cluster', async () => {
    const r = await kubectl(['get', 'ns', 'nope']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe('Error from server (NotFound): namespaces "nope" not found');
  });

  it('apply, re-apply and delete manifests; typed create of a deployment', async () => {
    const file = path.join(tmp.dir, 'ngx.yml');
    await writeFile(
      file,
      [
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ngx-conf\ndata:\n  default.conf: |\n    server { listen 80; }\n',
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ngx-dep\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: ngx-dep\n  template:\n    metadata:\n      labels:\n        app: ngx-dep\n    spec:\n      containers:\n      - image: nginx:alpine\n        name: nginx\n        ports:\n        - containerPort: 80\n',
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: ngx-svc\nspec:\n  selector:\n    app: ngx-dep\n  ports:\n  - port: 80\n    targetPort: 80\n    protocol: TCP\n',
      ].join('---\n'),
    );
    expect(await ok(['apply', '-f', file])).toBe('configmap/ngx-conf created\ndeployment.apps/ngx-dep created\nservice/ngx-svc created');
    expect(await ok(['apply', '-f', file])).toBe('configmap/ngx-conf unchanged\ndeployment.apps/ngx-dep unchanged\nservice/ngx-svc unchanged');
    expect(await ok(['get', 'deploy', '-o', 'wide'])).toMatch(/^ngx-dep\s+0\/2\s+0\s+0\s+\d+s\s+nginx\s+nginx:alpine\s+app=ngx-dep$/m);
    expect(await ok(['create', 'deployment', 'web', '--image=nginx:alpine', '--replicas=3'])).toBe('deployment.apps/web created');
    expect(await ok(['scale', 'deploy', 'web', '--replicas=1'])).toBe('deployment.apps/web scaled');
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas} {.metadata.generation}'])).toBe('1 2');
    expect(await ok(['delete', '-f', file])).toBe('configmap "ngx-conf" deleted\ndeployment.apps "ngx-dep" deleted\nservice "ngx-svc" deleted');
  });

  it('get ns -w shows a namespace created meanwhile', async () => {
    const proc: ResultPromise = execa('kubectl', ['--cache-dir', path.join(tmp.dir, 'cache'), 'get', 'ns', '-w'], {
      env: { KUBECONFIG: kubeconfig },
      reject: false,
      timeout: 20_000,
    });
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    const seen = async (re: RegExp): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(re)}; got:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await seen(/^kube-system\s+Active/m);
      store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watched' } });
      await seen(/^watched\s+Active\s+\d+s$/m);
    } finally {
      proc.kill();
      await proc;
    }
  });

  it('refuses kubectl without the lab client certificate', async () => {
    const r = await kubectl(['get', 'ns'], tokenKubeconfig);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/You must be logged in to the server|Unauthorized/);
    expect(r.stdout).toBe('');
  });

  it('refuses plain curl with 401', async () => {
    const r = await execa('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', `${api.url}/api/v1/namespaces`], { reject: false });
    expect(r.stdout).toBe('401');
  });
});
