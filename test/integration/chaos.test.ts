// Faults (issue 9): kill -9 of `nslab up` at any moment, of the lab's daemon
// or of a pod's process, then `nslab down` leaves nothing of the lab; `nslab
// status` says what is wrong without hanging; `nslab up` of a lab whose
// daemon died (or whose namespaces are gone, as after a reboot) brings it
// back. Cycles: NSLAB_CHAOS_CYCLES (default 5), seed NSLAB_CHAOS_SEED.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, sandbox, type Sandbox } from '../helpers/cli.js';
import { labNetns, rootNetnsSnapshot, strayBaseline } from '../helpers/root-snapshot.js';
import { chaosCycle, leftoversOf, writeChaosLab, type ChaosLab } from '../helpers/chaos.js';
import { rng } from '../helpers/fuzz.js';
import { until } from '../helpers/course.js';

const CYCLES = Number(process.env['NSLAB_CHAOS_CYCLES'] ?? 5);
const SEED = Number(process.env['NSLAB_CHAOS_SEED'] ?? 1);

describe('chaos: kill -9 at random moments, then down', () => {
  let sb: Sandbox;
  let before: Record<string, string>;
  let baseline: Set<number>;
  let lab: ChaosLab;

  beforeAll(async () => {
    sb = sandbox();
    before = await rootNetnsSnapshot();
    baseline = await strayBaseline();
    const dir = path.join(sb.dir, 'chaos');
    mkdirSync(dir);
    const labFile = writeChaosLab(dir, 'it-chaos', '192.168.40');
    lab = { cli: CLI, lab: 'it-chaos', labFile, env: sb.env, kubeconfig: sb.kubeconfig, stateRoot: '/run/nslab' };
  });

  afterEach(async () => {
    await sb.nslab(['down', 'it-chaos'], { timeoutMs: 60_000 });
  });

  afterAll(() => sb.cleanup());

  it(
    `${CYCLES} cycles of up with a kill -9 of up, the daemon or a pod process, each followed by down, leave nothing`,
    async () => {
      const next = rng(SEED);
      const deadline = Date.now() + CYCLES * 30_000;
      for (let i = 0; i < CYCLES && Date.now() < deadline; i++) {
        const r = await chaosCycle(lab, next, i, baseline);
        const what = `cycle ${i} (seed ${SEED}): ${r.mode} after ${r.delayMs} ms, cgroup ${r.cgroup ? 'on' : 'off'}, killed ${r.killed || 'nothing'}`;
        console.log(what);
        expect(r.downExit, `${what}\n${r.downOutput}`).toBe(0);
        expect(r.leftovers, what).toEqual([]);
      }
      expect(await rootNetnsSnapshot()).toEqual(before);
    },
    CYCLES * 30_000 + 30_000,
  );

  it('status of a lab whose daemon was killed says so at once, and up brings the lab back, also with its namespaces gone', async () => {
    const first = await sb.nslab(['up', lab.labFile]);
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    const pid = Number(readFileSync('/run/nslab/it-chaos/daemon.pid', 'utf8').trim());

    // A daemon that does not answer (stopped): status is bounded and says so.
    process.kill(pid, 'SIGSTOP');
    try {
      const start = Date.now();
      const stopped = await sb.nslab(['status', 'it-chaos'], { timeoutMs: 15_000 });
      expect(Date.now() - start).toBeLessThan(8000);
      expect(stopped.exitCode).toBe(1);
      expect(stopped.stdout).toMatch(/problem: control plane \(pid \d+\) does not answer on its API socket/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }

    process.kill(pid, 'SIGKILL');
    const dead = await sb.nslab(['status', 'it-chaos'], { timeoutMs: 15_000 });
    expect(dead.exitCode).toBe(1);
    expect(dead.stdout).toContain('Degraded');
    expect(dead.stdout).toMatch(/problem: control plane is not running \(pid file stale.*\); run "sudo nslab down it-chaos" or "sudo nslab up LAB_FILE"/);

    const again = await sb.nslab(['up', lab.labFile], { timeoutMs: 60_000 });
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).not.toContain('already up');
    expect(again.stdout).toContain('Removed what an earlier run left');
    const nodes = await sb.kubectl(['--context', 'nslab-it-chaos', 'get', 'nodes', '-o', 'name']);
    expect(nodes.exitCode, nodes.stderr).toBe(0);
    expect(nodes.stdout.trim()).toBe('node/solo');

    // As after a reboot that kept the state folder: no daemon, no namespaces (their processes left unnamed).
    process.kill(Number(readFileSync('/run/nslab/it-chaos/daemon.pid', 'utf8').trim()), 'SIGKILL');
    for (const ns of await labNetns('nslab-it-chaos.')) await execa('ip', ['netns', 'del', ns]);
    const rebuilt = await sb.nslab(['up', lab.labFile], { timeoutMs: 60_000 });
    expect(rebuilt.exitCode, rebuilt.stdout + rebuilt.stderr).toBe(0);
    const ready = await until('node solo Ready', async () => {
      const r = await sb.kubectl(['--context', 'nslab-it-chaos', 'get', 'nodes', '--no-headers']);
      return r.exitCode === 0 && /\bReady\b/.test(r.stdout) ? r.stdout : undefined;
    });
    expect(ready).toMatch(/^solo\s+Ready/);

    const down = await sb.nslab(['down', 'it-chaos']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await leftoversOf(lab, baseline)).toEqual([]);
    expect(await rootNetnsSnapshot()).toEqual(before);
  });
});
