// A full kube-proxy iptables sync of SERVICES ClusterIP Services with 2
// endpoints each (1,000 by default) on one node netns: the render (pure) and
// the apply (one iptables-restore), then a partial sync after one endpoint
// changes, and a sync with nothing to do. Each round uses a fresh netns of
// its own, removed at the end; the root netns is not touched.
// Usage (root): node dist/bench/proxy-sync.js [SERVICES] [ROUNDS]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { KubeObject } from '../src/api/types.js';
import { buildProxyState, renderIptables, type IptablesProxyConfig } from '../src/proxy/iptables.js';
import { IptablesProxier } from '../src/proxy/iptables-proxier.js';
import { ExecaRunner } from '../src/sys/runner.js';

const SERVICES = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 3);
const DEADLINE = Date.now() + 120_000;

function ip(base: number, i: number): string {
  const n = base + i;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function objects(changed = false): { services: KubeObject[]; slices: KubeObject[] } {
  const services: KubeObject[] = [];
  const slices: KubeObject[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}`;
    services.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'bench' },
      spec: { type: 'ClusterIP', clusterIP: ip(0x0a600000 + 256, i), ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    const a = ip(0x0a0a0000 + 2, 2 * i);
    const b = changed && i === 0 ? '10.11.255.254' : ip(0x0a0a0000 + 2, 2 * i + 1);
    slices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-x1`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [a, b].map((addr, k) => ({ addresses: [addr], conditions: { ready: true }, nodeName: k ? 'node-b' : 'node-a' })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
  }
  return { services, slices };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');

const cfg: IptablesProxyConfig = { nodeName: 'node-a', nodeIP: '192.168.10.210', clusterCIDR: '10.10.0.0/16' };
const runner = new ExecaRunner();
const { services, slices } = objects();
const changed = objects(true);

// Render alone: objects → state → restore text.
const renderTimes: number[] = [];
let payloadBytes = 0;
let lines = 0;
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const r = renderIptables(buildProxyState(services, slices, cfg.nodeName), cfg);
  renderTimes.push(performance.now() - t0);
  payloadBytes = Buffer.byteLength(r.restore);
  lines = r.restore.split('\n').length;
}

const full: { total: number[]; render: number[]; apply: number[] } = { total: [], render: [], apply: [] };
const partial: { total: number[]; render: number[]; apply: number[] } = { total: [], render: [], apply: [] };
const noop: number[] = [];
let natRules = 0;
for (let round = 0; round < ROUNDS && Date.now() < DEADLINE; round++) {
  const netns = `nslab-bench${randomBytes(3).toString('hex')}.node-a`;
  execFileSync('ip', ['netns', 'add', netns]);
  const proxier = new IptablesProxier({ ...cfg, netns, runner, minSyncIntervalMs: 0 });
  try {
    let t0 = performance.now();
    let r = await proxier.sync(services, slices);
    full.total.push(performance.now() - t0);
    if (r.error) throw r.error;
    full.render.push(r.renderMs);
    full.apply.push(r.applyMs);

    t0 = performance.now();
    r = await proxier.sync(changed.services, changed.slices);
    partial.total.push(performance.now() - t0);
    if (r.error) throw r.error;
    partial.render.push(r.renderMs);
    partial.apply.push(r.applyMs);

    t0 = performance.now();
    r = await proxier.sync(changed.services, changed.slices);
    noop.push(performance.now() - t0);
    if (r.applied) throw new Error('a sync with nothing to do ran iptables-restore');
    if (round === 0) {
      const save = execFileSync('nsenter', [`--net=/run/netns/${netns}`, '--', 'iptables-save', '-t', 'nat'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      natRules = save.split('\n').filter((l) => l.startsWith('-A ')).length;
    }
  } finally {
    proxier.close();
    execFileSync('ip', ['netns', 'del', netns]);
  }
}

const iptVersion = execFileSync('iptables', ['--version'], { encoding: 'utf8' }).trim();
console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, kernel ${os.release()}, node ${process.version}, ${iptVersion}`);
console.log(`date: ${new Date().toISOString()}`);
console.log(`${SERVICES} ClusterIP Services x 2 endpoints: restore input ${(payloadBytes / 1024).toFixed(0)} KiB, ${lines} lines; nat rules in the kernel: ${natRules}`);
console.log('| step | median (ms) | runs (ms) |');
console.log('|---|---|---|');
console.log(`| render (objects → restore text) | ${median(renderTimes).toFixed(1)} | ${fmt(renderTimes)} |`);
console.log(`| full sync: render | ${median(full.render).toFixed(1)} | ${fmt(full.render)} |`);
console.log(`| full sync: apply (one iptables-restore) | ${median(full.apply).toFixed(1)} | ${fmt(full.apply)} |`);
console.log(`| full sync: total (incl. iptables-save, nfacct, sysctl) | ${median(full.total).toFixed(1)} | ${fmt(full.total)} |`);
console.log(`| partial sync after 1 endpoint change: render | ${median(partial.render).toFixed(1)} | ${fmt(partial.render)} |`);
console.log(`| partial sync: apply | ${median(partial.apply).toFixed(1)} | ${fmt(partial.apply)} |`);
console.log(`| partial sync: total | ${median(partial.total).toFixed(1)} | ${fmt(partial.total)} |`);
console.log(`| sync with nothing changed (no command) | ${median(noop).toFixed(1)} | ${fmt(noop)} |`);
