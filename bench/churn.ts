// Requests lost while a Deployment rolls, with and without a preStop hook:
// two Deployments of 4 nginx pods (readinessProbe; one with a preStop
// sleep of 3 s, one without), each behind a NodePort Service. Every round
// is one `kubectl rollout restart` + `kubectl rollout status` under a
// steady load of new connections from two clients at once: curl on the
// console host (outside the cluster) through a NodePort, and curl in a pod
// through the ClusterIP; the round ends when the old pods are gone. Real
// lab, real kubectl; bounded by ROUNDS (at most 10), the load's request
// count and a 5 minute deadline; the lab is taken down at the end.
// Usage (root): node dist/bench/churn.js [ROUNDS]
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addLoads, churnWorkload, curlLoadArgv, parseLoad, type LoadResult } from './churn-load.js';

const rounds = Math.min(10, Math.max(1, Number(process.argv[2] ?? 3)));
const lab = 'bench-churn';
const root = path.resolve(import.meta.dirname, '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'nslab-bench-'));
const env = { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig') };
const REPLICAS = 4;
/** Per client and round: 100 requests a second for 12 s, each bounded by 1 s. */
const LOAD = { count: 1200, ratePerSecond: 100, timeoutSeconds: 1 };
const deadline = Date.now() + 5 * 60_000;

const labFile = path.join(dir, 'lab.yaml');
writeFileSync(
  labFile,
  `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: ${lab}}
spec:
  networks: [{name: lan, cidr: 192.168.10.0/24, gateway: 192.168.10.1}]
  nodes:
  - {name: master, roles: [control-plane], nics: [{network: lan, address: 192.168.10.210}]}
  - {name: worker, nics: [{network: lan, address: 192.168.10.220}]}
  hosts:
  - {name: console, nics: [{network: lan, address: 192.168.10.208}]}
`,
);

const manifestFile = path.join(dir, 'churn.yaml');
writeFileSync(
  manifestFile,
  `${churnWorkload('web', 30080, REPLICAS, 3)}${churnWorkload('plain', 30081, REPLICAS)}apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - {name: client, image: busybox, command: [sleep, "3600"]}
`,
);

const kubectl = (...args: string[]) => execFileSync('kubectl', args, { env, stdio: 'pipe' }).toString();
const nslab = (...args: string[]) => execFileSync(process.execPath, [cli, ...args], { env, stdio: 'pipe' }).toString();

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (_err, stdout) => resolve(String(stdout)));
  });
}

async function waitFor(what: string, test: () => boolean): Promise<void> {
  while (Date.now() < deadline) {
    if (test()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const podNames = (app: string) => kubectl('get', 'pod', '-l', `app=${app}`, '-o', 'name').split('\n').filter(Boolean);
const readyCount = (app: string) =>
  kubectl('get', 'pod', '-l', `app=${app}`, '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}')
    .split(' ')
    .filter((s) => s === 'True').length;

interface Round {
  load: LoadResult;
  rolloutMs: number;
  drainedMs: number;
}

async function churnRound(app: string, nodePort: number): Promise<Round> {
  const clusterIP = kubectl('get', 'svc', app, '-o', 'jsonpath={.spec.clusterIP}');
  const old = podNames(app);
  const bound = (LOAD.count / LOAD.ratePerSecond) * 1000 + 60_000;
  let loadsDone = 0;
  const loads = [
    run(process.execPath, [cli, 'exec', '--lab', lab, 'host/console', '--', ...curlLoadArgv({ url: `http://192.168.10.220:${nodePort}/`, ...LOAD })], bound),
    run('kubectl', ['exec', 'client', '--', ...curlLoadArgv({ url: `http://${clusterIP}/`, ...LOAD })], bound),
  ].map((p) => p.finally(() => loadsDone++));
  await new Promise((r) => setTimeout(r, 1000));
  const t = performance.now();
  kubectl('rollout', 'restart', 'deployment', app);
  execFileSync('kubectl', ['rollout', 'status', 'deployment', app, '--timeout=60s'], { env, stdio: 'pipe' });
  const rolloutMs = performance.now() - t;
  await waitFor(`the old ${app} pods gone`, () => !podNames(app).some((p) => old.includes(p)));
  const drainedMs = performance.now() - t;
  // A round counts only if the whole churn, old pods' termination included, happened under load.
  if (loadsDone > 0) throw new Error(`the load ended before the old ${app} pods were gone (${drainedMs.toFixed(0)} ms): raise LOAD.count`);
  const [a, b] = await Promise.all(loads);
  return { load: addLoads(parseLoad(a ?? ''), parseLoad(b ?? '')), rolloutMs, drainedMs };
}

const results: Record<string, Round[]> = { web: [], plain: [] };
try {
  nslab('up', labFile);
  kubectl('apply', '-f', manifestFile);
  await waitFor('all pods ready', () => readyCount('web') === REPLICAS && readyCount('plain') === REPLICAS && kubectl('get', 'pod', 'client').includes('Running'));
  for (let i = 0; i < rounds && Date.now() < deadline; i++) {
    results['web']!.push(await churnRound('web', 30080));
    results['plain']!.push(await churnRound('plain', 30081));
  }
} finally {
  try {
    nslab('down', lab);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), kernel ${os.release()}, node ${process.version}; ${new Date().toISOString()}`);
console.log(`${REPLICAS} replicas, maxSurge/maxUnavailable 25%; 2 clients x ${LOAD.ratePerSecond} new connections/s per rollout (console -> NodePort, pod -> ClusterIP)`);
console.log('| Deployment | rollouts | requests | failed | failures by kind | rollout status (median) | until old pods gone (median) |');
console.log('|---|---|---|---|---|---|---|');
for (const [app, label] of [
  ['web', 'readinessProbe + preStop sleep 3 s'],
  ['plain', 'readinessProbe, no preStop'],
] as const) {
  const rs = results[app] ?? [];
  const total = rs.map((r) => r.load).reduce(addLoads, { requests: 0, ok: 0, failures: 0, failed: {}, messages: [] });
  const kinds = Object.entries(total.failed).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
  console.log(
    `| ${label} | ${rs.length} | ${total.requests} | ${total.failures} (${((100 * total.failures) / Math.max(1, total.requests)).toFixed(2)}%) | ${kinds} | ${median(rs.map((r) => r.rolloutMs)).toFixed(0)} ms | ${median(rs.map((r) => r.drainedMs)).toFixed(0)} ms |`,
  );
  if (total.messages.length) console.log(`  e.g. ${total.messages[0]}`);
}
