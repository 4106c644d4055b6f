// Chaos cycles for a lab: `nslab up`, a kill -9 at a random (seeded) moment
// of the `up` process, the lab's daemon or a pod's process, then `nslab down`,
// and a list of whatever of the lab is left. Used by the chaos integration
// test and by bench/chaos.ts; no test framework here.
import { execa, type ResultPromise } from 'execa';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { labCgroupExists, labNetns, strayProcesses } from './root-snapshot.js';

export type ChaosMode = 'up' | 'daemon' | 'pod';

/**
 * Writes the chaos lab into `dir` (chaos.yaml and its web.yaml) and returns
 * the lab file: one node, two nginx pods (whose workers outlive a killed
 * master), and the cluster DNS pods every lab has.
 */
export function writeChaosLab(dir: string, name: string, subnet: string): string {
  writeFileSync(
    path.join(dir, 'web.yaml'),
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: nginx:alpine, ports: [{containerPort: 80}]}
`,
  );
  const labFile = path.join(dir, 'chaos.yaml');
  writeFileSync(
    labFile,
    `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: ${name}}
spec:
  networks:
  - {name: lan, cidr: ${subnet}.0/24, gateway: ${subnet}.1}
  nodes:
  - {name: solo, roles: [control-plane], nics: [{network: lan, address: ${subnet}.10}]}
  manifests: [web.yaml]
`,
  );
  return labFile;
}

export interface ChaosLab {
  cli: string;
  lab: string;
  labFile: string;
  /** Environment of every nslab command (KUBECONFIG and the like). */
  env: Record<string, string>;
  kubeconfig: string;
  stateRoot: string;
}

export interface CycleResult {
  cycle: number;
  mode: ChaosMode;
  delayMs: number;
  /** Whether this cycle ran with the lab's cgroup (false: NSLAB_CGROUP=off, the namespace-inode fallback only). */
  cgroup: boolean;
  /** What was killed, e.g. "up", "daemon 1234", "nginx 2345", or "" when the moment passed (up had finished, no pod yet). */
  killed: string;
  upExit: number | undefined;
  downExit: number;
  downOutput: string;
  downMs: number;
  leftovers: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function poll<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, stepMs = 20): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(stepMs);
  }
  return undefined;
}

function kill9(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

function daemonPid(c: ChaosLab): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(c.stateRoot, c.lab, 'daemon.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 && existsSync(`/proc/${pid}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A process of one of the lab's pods: an nginx master where there is one, else any. */
async function podProcess(c: ChaosLab, pick: () => number): Promise<{ pid: number; comm: string } | undefined> {
  const procs: Array<{ pid: number; comm: string }> = [];
  for (const ns of await labNetns(`nslab-${c.lab}.pod-`)) {
    const r = await execa('ip', ['netns', 'pids', ns], { reject: false });
    for (const pid of String(r.stdout).split('\n').map(Number).filter((n) => n > 1)) {
      const comm = (() => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
        } catch {
          return '';
        }
      })();
      if (comm) procs.push({ pid, comm });
    }
  }
  if (procs.length === 0) return undefined;
  const masters = procs.filter((p) => p.comm.startsWith('nginx: master'));
  const from = masters.length > 0 ? masters : procs;
  return from[Math.floor(pick() * from.length)];
}

/** What of the lab is still on the machine, one line each; [] when nothing is. */
export async function leftoversOf(c: ChaosLab, baseline: ReadonlySet<number>): Promise<string[]> {
  const prefix = `nslab-${c.lab}.`;
  const out: string[] = [];
  for (const ns of await labNetns(prefix)) out.push(`netns ${ns}`);
  if (existsSync('/etc/netns')) for (const e of readdirSync('/etc/netns')) if (e.startsWith(prefix)) out.push(`/etc/netns/${e}`);
  if (existsSync(path.join(c.stateRoot, c.lab))) out.push(`state folder ${path.join(c.stateRoot, c.lab)}`);
  for (const p of await strayProcesses(prefix, baseline)) out.push(`process ${p.pid} ${p.comm} in netns ${p.netnsName ?? `(unnamed, inode ${p.netns})`}`);
  if (labCgroupExists(c.lab)) out.push(`cgroup nslab/${c.lab}`);
  const daemons = await execa('pgrep', ['-f', `controlplane/daemon.js --lab ${c.lab}$`], { reject: false });
  for (const pid of String(daemons.stdout).split('\n').filter(Boolean)) out.push(`daemon process ${pid}`);
  if (existsSync(c.kubeconfig) && readFileSync(c.kubeconfig, 'utf8').includes(`nslab-${c.lab}`)) out.push(`kubeconfig context nslab-${c.lab}`);
  return out;
}

/**
 * One cycle: up, kill -9 something at a random moment, down, leftovers.
 * `next` is the seeded PRNG; every wait is bounded.
 */
export async function chaosCycle(c: ChaosLab, next: () => number, cycle: number, baseline: ReadonlySet<number>, maxDelayMs = 1500): Promise<CycleResult> {
  const modes: ChaosMode[] = ['up', 'daemon', 'pod'];
  const mode = modes[Math.floor(next() * modes.length)] ?? 'up';
  const delayMs = Math.floor(next() * maxDelayMs);
  const cgroup = next() >= 0.3;
  const env = { ...c.env, ...(cgroup ? {} : { NSLAB_CGROUP: 'off' }) };
  const up: ResultPromise = execa(process.execPath, [c.cli, 'up', c.labFile], { env, reject: false, timeout: 60_000, input: '' });
  let killed = '';
  if (mode === 'up') {
    await sleep(delayMs);
    if (up.exitCode === null && up.pid !== undefined && kill9(up.pid)) killed = 'up';
  } else if (mode === 'daemon') {
    const pid = await poll(() => daemonPid(c), 15_000);
    await sleep(delayMs);
    if (pid !== undefined && kill9(pid)) killed = `daemon ${pid}`;
  } else {
    await up;
    await sleep(delayMs);
    const victim = await poll(() => podProcess(c, next), 15_000, 50);
    if (victim && kill9(victim.pid)) killed = `${(victim.comm.split(' ')[0] ?? '').replace(/:$/, '')} ${victim.pid}`;
  }
  const upResult = await up;
  const start = performance.now();
  const down = await execa(process.execPath, [c.cli, 'down', c.lab], { env, reject: false, timeout: 60_000, input: '' });
  const downMs = performance.now() - start;
  return {
    cycle,
    mode,
    delayMs,
    cgroup,
    killed,
    upExit: upResult.exitCode,
    downExit: down.exitCode ?? 124,
    downOutput: `${String(down.stdout)}${String(down.stderr)}`,
    downMs,
    leftovers: await leftoversOf(c, baseline),
  };
}
