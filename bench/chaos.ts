// Chaos figures: up/down cycles of a small lab (one node, two nginx pods, the
// cluster DNS pods) with a kill -9 at a random, seeded moment of `nslab up`,
// the lab's daemon or a pod's process, each followed by `nslab down`; counts
// what was left on the machine after each down (the goal: nothing, ever).
// About a third of the cycles run with NSLAB_CGROUP=off, so the
// namespace-inode fallback is measured too. Bounded: CYCLES cycles, 10 min.
// Usage (root, no other lab up): node dist/bench/chaos.js [CYCLES] [SEED]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chaosCycle, writeChaosLab, type ChaosLab, type CycleResult } from '../test/helpers/chaos.js';
import { strayBaseline } from '../test/helpers/root-snapshot.js';
import { rng } from '../test/helpers/fuzz.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const cycles = Number(process.argv[2] ?? 20);
const seed = Number(process.argv[3] ?? 1);
const dir = mkdtempSync(path.join(os.tmpdir(), 'nslab-chaos-'));
const labFile = writeChaosLab(dir, 'bench-chaos', '192.168.41');
const kubeconfig = path.join(dir, 'kubeconfig');
const lab: ChaosLab = {
  cli: path.join(root, 'dist', 'src', 'cli', 'main.js'),
  lab: 'bench-chaos',
  labFile,
  env: { KUBECONFIG: kubeconfig, HOME: dir, PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
  kubeconfig,
  stateRoot: '/run/nslab',
};

const results: CycleResult[] = [];
const deadline = Date.now() + 600_000;
try {
  const baseline = await strayBaseline();
  const next = rng(seed);
  for (let i = 0; i < cycles && Date.now() < deadline; i++) {
    const r = await chaosCycle(lab, next, i, baseline);
    results.push(r);
    console.error(
      `cycle ${i}: kill ${r.mode} after ${r.delayMs} ms (cgroup ${r.cgroup ? 'on' : 'off'}): ${r.killed || 'nothing to kill'}; ` +
        `down exit ${r.downExit} in ${r.downMs.toFixed(0)} ms; leftovers ${r.leftovers.length}${r.leftovers.length ? `: ${r.leftovers.join('; ')}` : ''}`,
    );
  }
} finally {
  try {
    execFileSync(process.execPath, [lab.cli, 'down', lab.lab], { env: lab.env, stdio: 'ignore' });
  } catch {
    // already down
  }
  rmSync(dir, { recursive: true, force: true });
}

const count = (f: (r: CycleResult) => boolean) => results.filter(f).length;
const downs = results.map((r) => r.downMs).sort((a, b) => a - b);
const median = downs[Math.floor(downs.length / 2)] ?? NaN;
console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), kernel ${os.release()}, node ${process.version}`);
console.log(`date: ${new Date().toISOString()}, seed ${seed}`);
console.log('| figure | value |');
console.log('|---|---|');
console.log(`| cycles (up, kill -9, down) | ${results.length} |`);
console.log(`| kills that landed: up / daemon / pod process | ${count((r) => r.mode === 'up' && r.killed !== '')} / ${count((r) => r.mode === 'daemon' && r.killed !== '')} / ${count((r) => r.mode === 'pod' && r.killed !== '')} |`);
console.log(`| cycles without the lab cgroup (namespace-inode fallback only) | ${count((r) => !r.cgroup)} |`);
console.log(`| downs that failed | ${count((r) => r.downExit !== 0)} |`);
console.log(`| cycles with leftovers (netns, /etc/netns, state folder, process, cgroup, kubeconfig context) | ${count((r) => r.leftovers.length > 0)} |`);
console.log(`| leftovers in total | ${results.reduce((n, r) => n + r.leftovers.length, 0)} |`);
console.log(`| nslab down after a kill, median / max | ${median.toFixed(0)} ms / ${(downs[downs.length - 1] ?? NaN).toFixed(0)} ms |`);
