// How fast every node's kube-proxy rules follow a deleted pod: delete one of
// the course's two nginx pods (kubectl delete pod --wait=false) and time
// until (1) no node's nat table has the deleted pod's endpoint any more and
// (2) every node's nat table has the replacement's. Real lab, real kubectl;
// bounded by RUNS and a 60 s deadline; the lab is taken down at the end.
// Usage (root): node dist/bench/failover.js [RUNS]
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { benchLab, manifests } from './course-lab.js';
import { LabApiClient } from '../src/client/api-client.js';

const runs = Math.min(50, Number(process.argv[2] ?? 10));
const lab = 'bench-failover';
const nodes = ['master', 'worker'];
const bench = benchLab(lab);
const kubectl = bench.kubectl;
const nat = (node: string) => execFileSync('ip', ['netns', 'exec', `nslab-${lab}.node-${node}`, 'iptables-save', '-t', 'nat'], { stdio: 'pipe' }).toString();

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { podIP?: string; conditions?: Array<{ type: string; status: string }> };
}

async function waitFor(what: string, test: () => boolean | Promise<boolean>, deadline: number): Promise<number> {
  const t = performance.now();
  while (Date.now() < deadline) {
    if (await test()) return performance.now() - t;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const gone: number[] = [];
const added: number[] = [];
try {
  bench.up();
  const api = LabApiClient.forLab(lab);
  const pods = async () => ((await api.list('/api/v1/namespaces/default/pods?labelSelector=app%3Dngx-dep')) as unknown as Pod[]).filter((p) => !p.metadata.deletionTimestamp);
  const ready = (p: Pod) => p.status?.podIP && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  kubectl('apply', '-f', path.join(manifests, 'ngx-conf.yml'), '-f', path.join(manifests, 'ngx-dep.yml'), '-f', path.join(manifests, 'ngx-svc.yml'));
  const deadline = Date.now() + 60_000;
  await waitFor('2 ready pods in every node rules', async () => {
    const p = await pods();
    return p.length === 2 && p.every(ready) && nodes.every((n) => p.every((x) => nat(n).includes(`${x.status?.podIP}:80`)));
  }, deadline);
  for (let i = 0; i < runs && Date.now() < deadline; i++) {
    const before = await pods();
    const victim = before[i % 2]!;
    const ip = victim.status?.podIP ?? '';
    const t = performance.now();
    kubectl('delete', 'pod', victim.metadata.name, '--wait=false');
    await waitFor(`${ip} out of every node's rules`, () => nodes.every((n) => !nat(n).includes(`${ip}:80`)), deadline);
    gone.push(performance.now() - t);
    await waitFor('the replacement in every node rules', async () => {
      const p = await pods();
      const fresh = p.find((x) => !before.some((b) => b.metadata.name === x.metadata.name));
      return !!fresh && !!ready(fresh) && nodes.every((n) => nat(n).includes(`${fresh.status?.podIP}:80`));
    }, deadline);
    added.push(performance.now() - t);
  }
} finally {
  bench.down();
}
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), kernel ${os.release()}, node ${process.version}; ${new Date().toISOString()}`);
console.log('| from kubectl delete pod (--wait=false) until ... | median | runs (ms) |');
console.log('|---|---|---|');
console.log(`| the deleted pod's endpoint is out of both nodes' iptables rules | ${median(gone).toFixed(0)} ms | ${fmt(gone)} |`);
console.log(`| the replacement is Ready and in both nodes' iptables rules | ${median(added).toFixed(0)} ms | ${fmt(added)} |`);
