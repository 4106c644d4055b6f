// A pod's status as the kubelet reports it, computed from what the kubelet
// knows of the pod's run (its containers' states, restarts, readiness) and
// nothing else: pure, so every case is a unit test (as the kubelet's
// generateAPIPodStatus / getPhase in pkg/kubelet/kubelet_pods.go).
export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; reason: string; startedAt: string; finishedAt: string; signal?: number } };

/** What the status needs of one container's run. */
export interface ContainerRunState {
  name: string;
  image?: string;
  state: ContainerState;
  lastState?: ContainerState;
  restartCount: number;
  containerID: string;
  /** Readiness of the running process; undefined without a readinessProbe. */
  probeReady?: boolean;
}

/** What the status needs of one pod's run. */
export interface PodRunState {
  /** The sandbox is up (its pause process runs). */
  sandboxReady: boolean;
  ip?: string;
  startTime: string;
  containers: readonly ContainerRunState[];
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False';
  lastProbeTime: null;
  lastTransitionTime: string;
  reason?: string;
}

export interface PodStatus {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  conditions: PodCondition[];
  hostIP: string;
  hostIPs: Array<{ ip: string }>;
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  startTime: string;
  qosClass: 'BestEffort';
  containerStatuses: Array<Record<string, unknown>>;
}

const BACKOFF_START_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;

/** How long to wait before restarting a container that exited: 0, 10 s, 20 s, ... up to 5 min. Pure. */
export function restartDelay(restartCount: number, ranForMs: number): number {
  // The back-off resets once a container has run for 10 minutes.
  if (restartCount === 0 || ranForMs > 600_000) return 0;
  return Math.min(BACKOFF_START_MS * 2 ** (restartCount - 1), BACKOFF_MAX_MS);
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGQUIT: 3, SIGINT: 2 };

/** The terminated state of a process that exited with `code` or was killed by `signal`. Pure. */
export function terminatedState(code: number | null, signal: string | null, startedAt: string, finishedAt: string): ContainerState {
  const exitCode = code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 0);
  return {
    terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt, ...(signal ? { signal: SIGNAL_NUMBERS[signal] ?? 0 } : {}) },
  };
}

function containerReady(c: ContainerRunState): boolean {
  return 'running' in c.state && (c.probeReady === undefined || c.probeReady);
}

/** The pod's status at `now` (an RFC 3339 time) on a node with address `hostIP`. Pure. */
export function podStatus(run: PodRunState, hostIP: string, now: string): PodStatus {
  const containers = run.containers;
  const allReady = containers.every(containerReady);
  const running = containers.some((c) => 'running' in c.state);
  const cond = (type: string, status: boolean, reason?: string): PodCondition => ({
    type,
    status: status ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: now,
    ...(reason && !status ? { reason } : {}),
  });
  const allDone = containers.every((c) => 'terminated' in c.state);
  const phase = running || containers.some((c) => c.restartCount > 0 || ('waiting' in c.state && c.state.waiting.reason === 'CrashLoopBackOff'))
    ? 'Running'
    : allDone
      ? containers.every((c) => 'terminated' in c.state && c.state.terminated.exitCode === 0) ? 'Succeeded' : 'Failed'
      : 'Pending';
  return {
    phase,
    conditions: [
      cond('PodReadyToStartContainers', run.sandboxReady),
      cond('Initialized', true),
      cond('Ready', allReady, 'ContainersNotReady'),
      cond('ContainersReady', allReady, 'ContainersNotReady'),
      cond('PodScheduled', true),
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    ...(run.sandboxReady && run.ip ? { podIP: run.ip, podIPs: [{ ip: run.ip }] } : {}),
    startTime: run.startTime,
    qosClass: 'BestEffort',
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: `${c.image ?? ''}@sha256:${'0'.repeat(64)}`,
      ...(c.containerID ? { containerID: c.containerID } : {}),
      ready: containerReady(c),
      started: 'running' in c.state,
      restartCount: c.restartCount,
      state: c.state,
      lastState: c.lastState ?? {},
    })),
  };
}

/** The new status with the transition times of conditions that did not change kept from the old one. Pure. */
export function keepTransitionTimes(status: PodStatus, old: { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> }): PodStatus {
  const conditions = status.conditions.map((c) => {
    const prev = old.conditions?.find((p) => p.type === c.type);
    return prev && prev.status === c.status && prev.lastTransitionTime ? { ...c, lastTransitionTime: prev.lastTransitionTime } : c;
  });
  return { ...status, conditions };
}
