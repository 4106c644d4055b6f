// How long the course's workload takes to serve: from `kubectl apply` until
// both nginx pods answer curl, and from `kubectl delete pod` until the
// replacement answers. Real lab, real kubectl; bounded (RUNS, 60 s).
// Usage (root): node dist/bench/pods.js [RUNS]
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { benchLab, manifests } from './course-lab.js';
import { LabApiClient } from '../src/client/api-client.js';

const runs = Number(process.argv[2] ?? 5);
const lab = 'bench-pods';
const bench = benchLab(lab);
const kubectl = bench.kubectl;
const api = LabApiClient.forLab(lab);

interface Pod {
  metadata: { name: string };
  status?: { podIP?: string };
}

function answers(ip: string): boolean {
  try {
    const out = execFileSync('ip', ['netns', 'exec', `nslab-${lab}.node-master`, 'curl', '-s', '-m', '1', `http://${ip}/`], { stdio: 'pipe' }).toString();
    return out.startsWith(`srv : ${ip}:80`);
  } catch {
    return false;
  }
}

async function servingPods(exclude: string[] = []): Promise<Pod[]> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const pods = (await api.list('/api/v1/namespaces/default/pods?labelSelector=app%3Dngx-dep')) as unknown as Pod[];
    const fresh = pods.filter((p) => !exclude.includes(p.metadata.name));
    if (fresh.length === 2 && fresh.every((p) => p.status?.podIP && answers(p.status.podIP))) return fresh;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('pods did not serve within 30 s');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const apply: number[] = [];
const replace: number[] = [];
try {
  bench.up();
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < runs && Date.now() < deadline; i++) {
    let t = performance.now();
    kubectl('apply', '-f', path.join(manifests, 'ngx-conf.yml'), '-f', path.join(manifests, 'ngx-dep.yml'));
    const pods = await servingPods();
    apply.push(performance.now() - t);
    const victim = pods[0]!.metadata.name;
    t = performance.now();
    kubectl('delete', 'pod', victim, '--wait=false');
    await servingPods([victim]);
    replace.push(performance.now() - t);
    kubectl('delete', 'deploy', 'ngx-dep');
    while (((await api.list('/api/v1/namespaces/default/pods')) as unknown[]).length > 0) await new Promise((r) => setTimeout(r, 20));
  }
} finally {
  bench.down();
}
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), kernel ${os.release()}, node ${process.version}; ${new Date().toISOString()}`);
console.log('| step | median | runs (ms) |');
console.log('|---|---|---|');
console.log(`| kubectl apply (ConfigMap + Deployment) until both pods answer curl | ${median(apply).toFixed(0)} ms | ${fmt(apply)} |`);
console.log(`| kubectl delete pod until the replacement answers curl | ${median(replace).toFixed(0)} ms | ${fmt(replace)} |`);
