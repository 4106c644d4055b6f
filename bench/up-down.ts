// How long `nslab up` and `nslab down` take on this machine, for the default
// lab's topology under a lab name of its own. Runs the real CLI as a user
// does (node start-up included). Bounded: RUNS iterations, 60 s at most.
// Usage (root): node dist/bench/up-down.js [RUNS]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const runs = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(path.join(os.tmpdir(), 'nslab-bench-'));
const labFile = path.join(dir, 'bench.yaml');
writeFileSync(
  labFile,
  readFileSync(path.join(root, 'labs', 'default.yaml'), 'utf8').replace('metadata: {name: default}', 'metadata: {name: bench-updown}'),
);
const env = { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig') };

function timeIt(args: string[]): number {
  const start = performance.now();
  execFileSync(process.execPath, [cli, ...args], { env, stdio: 'ignore' });
  return performance.now() - start;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const ups: number[] = [];
const downs: number[] = [];
const deadline = Date.now() + 60_000;
try {
  for (let i = 0; i < runs && Date.now() < deadline; i++) {
    ups.push(timeIt(['up', labFile]));
    downs.push(timeIt(['down', 'bench-updown']));
  }
} finally {
  try {
    execFileSync(process.execPath, [cli, 'down', 'bench-updown'], { env, stdio: 'ignore' });
  } catch {
    // already down
  }
  rmSync(dir, { recursive: true, force: true });
}
const nodeStart = (() => {
  const start = performance.now();
  execFileSync(process.execPath, ['-e', '0']);
  return performance.now() - start;
})();
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, kernel ${os.release()}, node ${process.version}`);
console.log(`date: ${new Date().toISOString()}`);
console.log('| step | median | runs (ms) |');
console.log('|---|---|---|');
console.log(`| nslab up (default lab, until the API answers, the coredns pods are Ready and the rules programmed) | ${median(ups).toFixed(0)} ms | ${fmt(ups)} |`);
console.log(`| nslab down | ${median(downs).toFixed(0)} ms | ${fmt(downs)} |`);
console.log(`| node -e 0 (process start-up, for scale) | ${nodeStart.toFixed(0)} ms | |`);
