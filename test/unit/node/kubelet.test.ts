// The kubelet's decisions without root: every process goes to the recording
// launcher (nothing is started), commands to a recording runner (only
// mkfifo runs for real, in a temporary folder), and the test decides when a
// container exits.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ObjectStore } from '../../../src/api/store.js';
import type { KubeObject } from '../../../src/api/types.js';
import { startKubelet, type Kubelet } from '../../../src/node/kubelet.js';
import type { PlannedNode } from '../../../src/plan/topology.js';
import { podNetns } from '../../../src/plan/names.js';
import { RecordingLauncher, type FakeProcess } from '../../../src/sys/launcher-fake.js';
import { ExecaRunner, RecordingRunner, type CommandRunner, type RunOptions, type RunResult } from '../../../src/sys/runner.js';

/** Records every command; makes the FIFOs a container's stdout/stderr need. */
class FifoRunner implements CommandRunner {
  readonly recorded = new RecordingRunner();
  private readonly real = new ExecaRunner();
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return argv[0] === 'mkfifo' ? this.real.run(argv, opts) : this.recorded.run(argv, opts);
  }
}

const NODE = { name: 'worker', netns: 'nslab-t-worker', podCIDR: '10.244.1.0/24', nodeIP: '192.168.56.11' } as PlannedNode;

interface ContainerStatus {
  restartCount: number;
  state: Record<string, { reason?: string; message?: string; exitCode?: number }>;
  lastState: Record<string, { exitCode?: number }>;
}

async function until<T>(what: string, fn: () => T | undefined, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function pod(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: NODE.name, ...spec } };
}

describe('kubelet (through the fake launcher)', () => {
  let dir: string;
  let store: ObjectStore;
  let launcher: RecordingLauncher;
  let runner: FifoRunner;
  let kubelet: Kubelet | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'nslab-kubelet-'));
    store = new ObjectStore();
    store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    launcher = new RecordingLauncher();
    runner = new FifoRunner();
    kubelet = startKubelet({
      store,
      node: NODE,
      lab: 't',
      podsDir: path.join(dir, 'pods'),
      clusterDomain: 'cluster.local',
      clusterDNS: '10.96.0.10',
      nodeResolvConf: '',
      apiSocket: path.join(dir, 'api.sock'),
      runner,
      launcher,
      log: () => {},
    });
  });

  afterEach(async () => {
    vi.useRealTimers();
    await kubelet?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const containers = () => launcher.processes.filter((p) => p.argv.includes('crash'));
  const status = (name: string) => (store.find('pods', 'default', name)?.['status'] as { containerStatuses?: ContainerStatus[]; phase?: string } | undefined);
  const containerStatus = (name: string) => status(name)?.containerStatuses?.[0];

  it('starts a pause process, then the container detached in its namespaces with the spec env', async () => {
    store.create('pods', pod('web', { containers: [{ name: 'c', image: 'busybox', command: ['crash'], env: [{ name: 'GREETING', value: 'hi' }] }] }));
    const [c] = await until('the container', () => (containers().length === 1 ? containers() : undefined));
    const pause = launcher.find('sleep', 'infinity')[0];
    expect(pause?.opts.detached).toBe(true);
    expect(c?.argv).toEqual(['nsenter', '-t', String(pause?.pid), '--net', '--uts', '--ipc', '--mount', '--', 'crash']);
    expect(c?.opts.detached).toBe(true);
    expect(c?.opts.env?.['GREETING']).toBe('hi');
    expect(runner.recorded.calls.map((x) => x.argv.join(' '))).toContain(`ip netns add ${podNetns('t', 'default', 'web')}`);
    await until('status running', () => (containerStatus('web')?.state['running'] ? true : undefined));
    expect(status('web')?.phase).toBe('Running');
  });

  it("kills what is left of a container's process group when its main process exits", async () => {
    store.create('pods', pod('web', { containers: [{ name: 'c', image: 'busybox', command: ['crash'] }], restartPolicy: 'Never' }));
    const [c] = await until('the container', () => (containers().length === 1 ? containers() : undefined));
    c?.end(0);
    await until('terminated', () => (containerStatus('web')?.state['terminated'] ? true : undefined));
    expect(c?.groupSignals).toEqual(['SIGKILL']);
    expect(status('web')?.phase).toBe('Succeeded');
    expect(containers()).toHaveLength(1);
  });

  it('restarts a container that exits at once, then backs off, counting RESTARTS only when done', async () => {
    store.create('pods', pod('web', { containers: [{ name: 'c', image: 'busybox', command: ['crash'] }] }));
    const first = await until('the container', () => containers()[0]);
    first.end(1);
    // The first restart is immediate.
    const second = await until('the first restart', () => containers()[1]);
    await until('restartCount 1', () => (containerStatus('web')?.restartCount === 1 && containerStatus('web')?.state['running'] ? true : undefined));
    expect(containerStatus('web')?.lastState['terminated']?.exitCode).toBe(1);

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    second.end(2);
    await vi.advanceTimersByTimeAsync(0);
    await until('back-off', () => (containerStatus('web')?.state['waiting']?.reason === 'CrashLoopBackOff' ? true : undefined));
    expect(containerStatus('web')?.state['waiting']?.message).toMatch(/^back-off 10s restarting failed container=c pod=web_default/);
    expect(containerStatus('web')?.restartCount).toBe(1);
    expect(status('web')?.phase).toBe('Running');
    const backOff = store.list('events', { namespace: 'default' }).items.filter((e) => e['reason'] === 'BackOff');
    expect(backOff).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(containers()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    vi.useRealTimers();
    await until('the second restart', () => containers()[2]);
    await until('restartCount 2', () => (containerStatus('web')?.restartCount === 2 ? true : undefined));
  });

  it('a deleted pod: its container gets its stop signal, then the sandbox goes and the pod leaves the API', async () => {
    store.create('pods', pod('web', { containers: [{ name: 'c', image: 'busybox', command: ['crash'] }], terminationGracePeriodSeconds: 5 }));
    const c: FakeProcess = await until('the container', () => containers()[0]);
    await until('status running', () => (containerStatus('web')?.state['running'] ? true : undefined));
    const pause = launcher.find('sleep', 'infinity')[0];
    store.delete('pods', 'default', 'web');
    await until('the pod gone', () => (store.find('pods', 'default', 'web') ? undefined : true));
    expect(c.signals[0]).toBe('SIGTERM');
    expect(launcher.signalled).toContainEqual([pause?.pid, 'SIGKILL']);
    expect(runner.recorded.calls.map((x) => x.argv.join(' '))).toContain(`ip netns del ${podNetns('t', 'default', 'web')}`);
  });

  it('runs a preStop exec hook in the container, in its own process group, before the stop signal', async () => {
    const spec = { containers: [{ name: 'c', image: 'busybox', command: ['crash'], lifecycle: { preStop: { exec: { command: ['drain'] } } } }], terminationGracePeriodSeconds: 30 };
    store.create('pods', pod('web', spec));
    const c = await until('the container', () => containers()[0]);
    await until('status running', () => (containerStatus('web')?.state['running'] ? true : undefined));
    const pause = launcher.find('sleep', 'infinity')[0];
    store.delete('pods', 'default', 'web');
    const hook = await until('the hook', () => launcher.find('drain')[0]);
    expect(hook.argv).toEqual(['nsenter', '-t', String(pause?.pid), '--net', '--uts', '--ipc', '--mount', '--', 'drain']);
    expect(hook.opts.detached).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(c.signals).toEqual([]);
    hook.end(0);
    await until('the stop signal', () => (c.signals.length > 0 ? true : undefined));
    expect(c.signals[0]).toBe('SIGTERM');
    expect(hook.groupSignals).toEqual(['SIGKILL']);
    await until('the pod gone', () => (store.find('pods', 'default', 'web') ? undefined : true));
  });
});
