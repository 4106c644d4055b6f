// The pod status as a pure function of the kubelet's run state: phase,
// conditions, container readiness, and which transition times survive.
import { describe, expect, it } from 'vitest';
import { keepTransitionTimes, podStatus, terminatedState, type ContainerRunState, type PodRunState } from '../../../src/node/pod-status.js';

const NOW = '2026-01-01T00:00:10Z';
const running: ContainerRunState = { name: 'c', image: 'nginx', state: { running: { startedAt: NOW } }, restartCount: 0, containerID: 'nslab://1' };
const run = (containers: ContainerRunState[], sandboxReady = true): PodRunState => ({ sandboxReady, ip: '10.244.1.2', startTime: NOW, containers });
const cond = (s: ReturnType<typeof podStatus>, type: string) => s.conditions.find((c) => c.type === type)?.status;

describe('podStatus', () => {
  const cases: Array<{ name: string; containers: ContainerRunState[]; sandboxReady?: boolean; phase: string; ready: 'True' | 'False' }> = [
    { name: 'creating', containers: [{ ...running, state: { waiting: { reason: 'ContainerCreating' } }, containerID: '' }], sandboxReady: false, phase: 'Pending', ready: 'False' },
    { name: 'running without a probe', containers: [running], phase: 'Running', ready: 'True' },
    { name: 'running, probe not yet ready', containers: [{ ...running, probeReady: false }], phase: 'Running', ready: 'False' },
    { name: 'running, probe ready', containers: [{ ...running, probeReady: true }], phase: 'Running', ready: 'True' },
    { name: 'crash loop', containers: [{ ...running, state: { waiting: { reason: 'CrashLoopBackOff' } }, restartCount: 0 }], phase: 'Running', ready: 'False' },
    { name: 'restarted, waiting', containers: [{ ...running, state: { waiting: { reason: 'ContainerCreating' } }, restartCount: 2 }], phase: 'Running', ready: 'False' },
    { name: 'all exited 0', containers: [{ ...running, state: terminatedState(0, null, NOW, NOW) }], phase: 'Succeeded', ready: 'False' },
    { name: 'one killed', containers: [{ ...running, state: terminatedState(0, null, NOW, NOW) }, { ...running, name: 'd', state: terminatedState(null, 'SIGKILL', NOW, NOW) }], phase: 'Failed', ready: 'False' },
    { name: 'unrunnable image', containers: [{ ...running, state: { waiting: { reason: 'ErrImagePull' } } }], phase: 'Pending', ready: 'False' },
  ];
  for (const c of cases) {
    it(`${c.name}: phase ${c.phase}, Ready ${c.ready}`, () => {
      const s = podStatus(run(c.containers, c.sandboxReady ?? true), '192.168.56.11', NOW);
      expect(s.phase).toBe(c.phase);
      expect(cond(s, 'Ready')).toBe(c.ready);
      expect(cond(s, 'ContainersReady')).toBe(c.ready);
      expect(cond(s, 'PodReadyToStartContainers')).toBe(c.sandboxReady === false ? 'False' : 'True');
    });
  }

  it('gives the pod IP only once the sandbox is up', () => {
    expect(podStatus(run([running], false), '192.168.56.11', NOW).podIP).toBeUndefined();
    expect(podStatus(run([running]), '192.168.56.11', NOW)).toMatchObject({ podIP: '10.244.1.2', podIPs: [{ ip: '10.244.1.2' }], hostIP: '192.168.56.11' });
  });

  it('says why a pod is not ready, and only then', () => {
    expect(podStatus(run([{ ...running, probeReady: false }]), 'h', NOW).conditions.find((c) => c.type === 'Ready')?.reason).toBe('ContainersNotReady');
    expect(podStatus(run([running]), 'h', NOW).conditions.find((c) => c.type === 'Ready')).not.toHaveProperty('reason');
  });

  it('reports a killed process as 128 + its signal, with the signal', () => {
    expect(terminatedState(null, 'SIGTERM', NOW, NOW)).toEqual({ terminated: { exitCode: 143, reason: 'Error', startedAt: NOW, finishedAt: NOW, signal: 15 } });
    expect(terminatedState(0, null, NOW, NOW)).toEqual({ terminated: { exitCode: 0, reason: 'Completed', startedAt: NOW, finishedAt: NOW } });
  });

  it('keeps the transition time of a condition whose status did not change', () => {
    const s = podStatus(run([running]), 'h', NOW);
    const kept = keepTransitionTimes(s, { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: 'earlier' }, { type: 'Initialized', status: 'False', lastTransitionTime: 'earlier' }] });
    expect(kept.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('earlier');
    expect(kept.conditions.find((c) => c.type === 'Initialized')?.lastTransitionTime).toBe(NOW);
  });
});
