// A node's kubelet, inside the lab's control plane: the pod lifecycle. It
// watches the pods bound to its node, makes each one real (sandbox, files,
// containers), restarts containers per restartPolicy with back-off, reports
// status, and tears pods down gracefully when they are deleted. Its seams,
// as the kubelet's own: the runtime (runtime.ts: processes in a sandbox),
// the pod's folder (pod-dir.ts), readiness probing (prober.ts) and the
// status as a pure function of the pod's run state (pod-status.ts).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ObjectStore, WatchHandle } from '../api/store.js';
import { rfc3339, type KubeObject } from '../api/types.js';
import type { ExecOptions, ExecSession, LogOptions } from '../api/pod-streams.js';
import { recordEvent } from '../api/events.js';
import type { PlannedNode } from '../plan/topology.js';
import { podHostVeth, podNetns } from '../plan/names.js';
import { inNetns } from '../sys/netns.js';
import type { CommandRunner } from '../sys/runner.js';
import type { LaunchedProcess, ProcessLauncher } from '../sys/launcher.js';
import { removeInside } from '../sys/safe-remove.js';
import { openLog } from './cri-log.js';
import { runPlan, type ContainerLike, type RunPlan } from './images.js';
import { probeUrl, type ContainerPort, type HttpGetProbe } from './probes.js';
import { HostLocalIpam } from './ipam.js';
import type { DnsConfig } from './pod-files.js';
import { volumeDir, writeConfigMapVolume, writePodFiles, type ConfigMapVolumeSource } from './pod-dir.js';
import { keepTransitionTimes, podStatus, restartDelay, terminatedState, type ContainerState, type PodRunState } from './pod-status.js';
import { ReadinessProber } from './prober.js';
import { containerEnv, ContainerRuntime } from './runtime.js';
import { createSandbox, destroySandbox } from './sandbox.js';
import { ContainerStopper, effectiveGracePeriod, preStopAction, type PreStopAction, type StopTarget } from './termination.js';

export interface KubeletOptions {
  store: ObjectStore;
  node: PlannedNode;
  lab: string;
  /** Folder for this node's pods (under the lab's state folder). */
  podsDir: string;
  clusterDomain: string;
  clusterDNS: string;
  /** The node's resolv.conf (the lab's upstream resolver), for dnsPolicy Default. */
  nodeResolvConf: string;
  /** The lab API's unix socket, bound into coredns pods. */
  apiSocket: string;
  runner: CommandRunner;
  launcher: ProcessLauncher;
  log: (line: string) => void;
}

interface PodSpec {
  containers: Array<
    ContainerLike & {
      env?: Array<{ name: string; value?: string }>;
      volumeMounts?: Array<{ name: string; mountPath: string }>;
      ports?: ContainerPort[];
      readinessProbe?: HttpGetProbe;
      lifecycle?: unknown;
    }
  >;
  volumes?: Array<{ name: string; configMap?: ConfigMapVolumeSource }>;
  restartPolicy?: string;
  terminationGracePeriodSeconds?: number;
  dnsPolicy?: string;
  dnsConfig?: DnsConfig;
  hostAliases?: Array<{ ip: string; hostnames: string[] }>;
}

interface ContainerRun {
  spec: PodSpec['containers'][number];
  plan: RunPlan;
  proc?: LaunchedProcess;
  restartCount: number;
  state: ContainerState;
  lastState?: ContainerState;
  containerID: string;
  restartTimer?: NodeJS.Timeout;
  lastStart: number;
  onExit?: (exitCode: number) => void;
  /** Probes the running process's readiness; undefined without a readinessProbe. */
  prober?: ReadinessProber;
}

interface PodRun {
  uid: string;
  namespace: string;
  name: string;
  dir: string;
  netns: string;
  ip?: string;
  pausePid?: number;
  containers: Map<string, ContainerRun>;
  startTime: string;
  /** When this kubelet first saw the pod (ms). */
  seenAt: number;
  terminating: boolean;
  /** The grace period the pod is being killed with (0 until it terminates); it only ever decreases. */
  grace: number;
  /** One per container that was running when termination began. */
  stoppers: ContainerStopper[];
  /** Set once: the whole way from terminating to gone (containers, sandbox, files). */
  stopping?: Promise<void>;
  /** The lab is going away: skip hooks and grace. */
  killNow: boolean;
  ready: Promise<void>;
}

function randomID(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** What pod-status.ts needs of a pod's run. */
function runState(run: PodRun): PodRunState {
  return {
    sandboxReady: run.pausePid !== undefined,
    ...(run.ip ? { ip: run.ip } : {}),
    startTime: run.startTime,
    containers: [...run.containers.values()].map((c) => ({
      name: c.spec.name,
      ...(c.spec.image !== undefined ? { image: c.spec.image } : {}),
      state: c.state,
      ...(c.lastState ? { lastState: c.lastState } : {}),
      restartCount: c.restartCount,
      containerID: c.containerID,
      ...(c.prober ? { probeReady: c.prober.state.ready } : {}),
    })),
  };
}

function running(proc: LaunchedProcess | undefined): proc is LaunchedProcess {
  return proc !== undefined && proc.exit === undefined;
}

export class Kubelet {
  private readonly pods = new Map<string, PodRun>();
  private readonly ipam: HostLocalIpam;
  private readonly runtime: ContainerRuntime;
  private watches: WatchHandle[] = [];
  private stopped = false;

  constructor(private readonly o: KubeletOptions) {
    this.ipam = new HostLocalIpam(o.node.podCIDR);
    this.runtime = new ContainerRuntime(o.runner, o.launcher);
  }

  start(): void {
    this.watches.push(
      this.o.store.watch('pods', { fieldSelector: `spec.nodeName=${this.o.node.name}` }, (ev) => {
        if (ev.type === 'BOOKMARK') return;
        const pod = ev.object;
        // Gone from the API without the kubelet (a force delete): what is still running here gets the least grace.
        if (ev.type === 'DELETED') void this.terminate(pod, false, 0);
        else if (pod.metadata.deletionTimestamp) void this.terminate(pod, true, pod.metadata.deletionGracePeriodSeconds);
        else if (!this.pods.has(pod.metadata.uid ?? '')) void this.startPod(pod);
      }),
      this.o.store.watch('configmaps', {}, (ev) => {
        if (ev.type === 'MODIFIED') void this.refreshConfigMap(ev.object);
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watches) w.stop();
    for (const p of this.pods.values()) for (const c of p.containers.values()) c.prober?.stop();
    // The node is going away with its lab: no hooks, no grace (a DNS pod would sit out its lameduck),
    // also for pods already on their way out.
    await Promise.all(
      [...this.pods.values()].map((p) => {
        p.killNow = true;
        for (const s of p.stoppers) s.killNow();
        return p.stopping ?? this.stopPod(p, 0);
      }),
    );
  }

  private log(line: string): void {
    this.o.log(line);
  }

  private event(pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, container?: string): void {
    recordEvent(this.o.store, pod, type, reason, message, { component: 'kubelet', host: this.o.node.name }, container ? `spec.containers{${container}}` : undefined);
  }

  private async startPod(pod: KubeObject): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const namespace = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    const spec = pod['spec'] as PodSpec;
    let resolveReady: () => void = () => {};
    const run: PodRun = {
      uid,
      namespace,
      name,
      dir: path.join(this.o.podsDir, uid),
      netns: podNetns(this.o.lab, namespace, name),
      containers: new Map(
        spec.containers.map((c) => [c.name, { spec: c, plan: runPlan(c, this.o.clusterDomain), restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } }, containerID: '', lastStart: 0 }]),
      ),
      startTime: rfc3339(new Date()),
      seenAt: Date.now(),
      terminating: false,
      grace: 0,
      stoppers: [],
      killNow: false,
      ready: new Promise((r) => (resolveReady = r)),
    };
    this.pods.set(uid, run);
    await this.setUpSandbox(pod, run, spec, resolveReady, 0);
  }

  /** Sandbox, files and containers; a failed sandbox is torn down and tried again with back-off, as the kubelet's pod sync does. */
  private async setUpSandbox(pod: KubeObject, run: PodRun, spec: PodSpec, resolveReady: () => void, attempt: number): Promise<void> {
    const { namespace, name } = run;
    try {
      run.ip ??= this.ipam.allocate(run.uid);
      await mkdir(run.dir, { recursive: true, mode: 0o700 });
      const mounts = await writePodFiles(this.o, { dir: run.dir, namespace, name, ip: run.ip, plans: [...run.containers.values()].map((c) => c.plan) }, spec);
      run.pausePid = await createSandbox(
        {
          nodeNetns: this.o.node.netns,
          netns: run.netns,
          hostVeth: podHostVeth(run.uid),
          hostname: name,
          ip: run.ip,
          prefix: this.ipam.prefix,
          gateway: this.ipam.gateway(),
          ...(this.o.node.vtep ? { mtu: this.o.node.vtep.mtu } : {}),
          ...(this.o.node.hairpin === false ? { hairpin: false } : {}),
        },
        mounts,
        this.o.runner,
        this.o.launcher,
      );
      resolveReady();
      this.log(`pod ${namespace}/${name}: sandbox ${run.ip} ready in ${Date.now() - run.seenAt} ms`);
      if (run.terminating || this.stopped) return;
      for (const c of run.containers.values()) this.startContainer(pod, run, c);
      this.reportStatus(run);
    } catch (e) {
      resolveReady();
      const message = e instanceof Error ? e.message : String(e);
      this.log(`pod ${namespace}/${name}: sandbox failed: ${message}`);
      this.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${message}`);
      for (const c of run.containers.values()) c.state = { waiting: { reason: 'ContainerCreating', message } };
      this.reportStatus(run);
      await destroySandbox(run.netns, run.pausePid, this.o.runner, this.o.launcher);
      run.pausePid = undefined;
      const retry = setTimeout(() => {
        if (!run.terminating && !this.stopped && this.pods.get(run.uid) === run) void this.setUpSandbox(pod, run, spec, resolveReady, attempt + 1);
      }, Math.min(1000 * 2 ** attempt, 30_000));
      retry.unref();
    }
  }

  private async refreshConfigMap(cm: KubeObject): Promise<void> {
    for (const run of this.pods.values()) {
      if (run.terminating || run.namespace !== cm.metadata.namespace) continue;
      const pod = this.o.store.find('pods', run.namespace, run.name);
      const volumes = ((pod?.['spec'] as PodSpec | undefined)?.volumes ?? []).filter((v) => v.configMap?.name === cm.metadata.name);
      for (const v of volumes) {
        if (v.configMap) await writeConfigMapVolume(this.o.store, run.namespace, v.configMap, volumeDir(run.dir, v.name)).catch(() => undefined);
      }
    }
  }

  private startContainer(pod: KubeObject, run: PodRun, c: ContainerRun): void {
    if (run.terminating || this.stopped || run.pausePid === undefined) return;
    if (c.plan.kind === 'unrunnable') {
      c.state = { waiting: { reason: c.plan.reason, message: c.plan.message } };
      this.event(pod, 'Warning', 'Failed', c.plan.message, c.spec.name);
      this.reportStatus(run);
      return;
    }
    void this.spawnContainer(run, c).then(
      (started) => {
        if (started) this.containerStarted(pod, run, c);
      },
      (e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        c.state = { waiting: { reason: 'CreateContainerError', message } };
        this.event(pod, 'Warning', 'Failed', `Error: ${message}`, c.spec.name);
        this.reportStatus(run);
      },
    );
  }

  /** Start the container's process through the runtime; false when the pod began terminating meanwhile. */
  private async spawnContainer(run: PodRun, c: ContainerRun): Promise<boolean> {
    const pausePid = run.pausePid;
    if (pausePid === undefined || c.plan.kind === 'unrunnable') return false;
    const logBase = path.join(run.dir, 'logs', c.spec.name, `${c.restartCount}`);
    const proc = await this.runtime.startContainer(pausePid, c.plan.argv, containerEnv(run.name, c.spec.env, false), logBase, () => run.terminating || this.stopped || run.pausePid === undefined);
    if (!proc) return false;
    c.proc = proc;
    c.containerID = `nslab://${randomID()}`;
    c.lastStart = Date.now();
    const startedAt = rfc3339(new Date());
    c.state = { running: { startedAt } };
    proc.onExit(({ code, signal }) => {
      c.proc = undefined;
      c.prober?.stop();
      c.state = terminatedState(code, signal, startedAt, rfc3339(new Date()));
      if ('terminated' in c.state) c.onExit?.(c.state.terminated.exitCode);
    });
    return true;
  }

  private containerStarted(pod: KubeObject, run: PodRun, c: ContainerRun): void {
    c.onExit = (exitCode) => {
      if (this.stopped) return;
      // A terminating pod restarts nothing, but its status says the container stopped (Ready false, so serving false).
      if (run.terminating) this.reportStatus(run);
      else this.afterExit(pod, run, c, exitCode);
    };
    if (c.restartCount === 0) {
      this.event(pod, 'Normal', 'Pulled', `Container image "${c.spec.image ?? ''}" already present on machine`, c.spec.name);
    }
    this.event(pod, 'Normal', 'Created', `Created container ${c.spec.name}`, c.spec.name);
    this.event(pod, 'Normal', 'Started', `Started container ${c.spec.name}`, c.spec.name);
    // The process may have died already (a command that exits at once).
    if (!c.proc && 'terminated' in c.state) c.onExit(c.state.terminated.exitCode);
    else if (c.spec.readinessProbe && run.ip) this.startProber(pod, run, c, c.spec.readinessProbe, run.ip);
    this.reportStatus(run);
  }

  private startProber(pod: KubeObject, run: PodRun, c: ContainerRun, probe: HttpGetProbe, podIP: string): void {
    c.prober?.stop();
    // Readiness is probed while the pod terminates too: it is what the endpoint's `serving` condition reports.
    c.prober = new ReadinessProber({
      runner: this.o.runner,
      nodeNetns: this.o.node.netns,
      probe,
      podIP,
      ...(c.spec.ports ? { ports: c.spec.ports } : {}),
      onChange: (ready, url) => {
        this.log(`pod ${run.namespace}/${run.name}: container ${c.spec.name} ${ready ? 'ready' : 'not ready'} ${Date.now() - c.lastStart} ms after start`);
        if (!ready) this.event(pod, 'Warning', 'Unhealthy', `Readiness probe failed: ${url ?? 'no such port'}`, c.spec.name);
        this.reportStatus(run);
      },
    });
    c.prober.start();
  }

  private afterExit(pod: KubeObject, run: PodRun, c: ContainerRun, exitCode: number): void {
    const policy = (pod['spec'] as PodSpec).restartPolicy ?? 'Always';
    const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
    if (!restart) {
      this.reportStatus(run);
      return;
    }
    const delay = restartDelay(c.restartCount, Date.now() - c.lastStart);
    c.lastState = c.state;
    if (delay > 0) {
      c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.spec.name} pod=${run.name}_${run.namespace}(${run.uid})` } };
      this.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container', c.spec.name);
    }
    this.reportStatus(run);
    c.restartTimer = setTimeout(() => {
      // RESTARTS counts restarts done, not restarts waiting out their back-off.
      c.restartCount++;
      this.startContainer(pod, run, c);
    }, delay);
  }

  /** Write status, keeping the transition times of unchanged conditions. */
  private reportStatus(run: PodRun): void {
    if (this.stopped) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = this.o.store.find('pods', run.namespace, run.name);
      if (!current || current.metadata.uid !== run.uid) return;
      const status = keepTransitionTimes(podStatus(runState(run), this.o.node.nodeIP, rfc3339(new Date())), (current['status'] ?? {}) as Parameters<typeof keepTransitionTimes>[1]);
      try {
        this.o.store.update('pods', { ...current, status }, { subresource: 'status' });
        return;
      } catch {
        // a concurrent write: read again and retry
      }
    }
  }

  /** Stops the pod's containers (preStop, stop signal, SIGKILL after the grace period), then its sandbox; once per pod. */
  private stopPod(run: PodRun, graceSeconds: number, pod?: KubeObject): Promise<void> {
    run.terminating = true;
    run.grace = graceSeconds;
    run.stopping ??= this.stopPodOnce(run, pod);
    return run.stopping;
  }

  private async stopPodOnce(run: PodRun, pod: KubeObject | undefined): Promise<void> {
    await run.ready;
    for (const c of run.containers.values()) clearTimeout(c.restartTimer);
    const live = [...run.containers.values()].filter((c) => running(c.proc));
    run.stoppers = live.map((c) => {
      const action = pod && !run.killNow ? preStopAction(c.spec.lifecycle) : undefined;
      return new ContainerStopper(this.stopTarget(run, c, action, pod), run.killNow ? 0 : run.grace, {
        onHookFailed: () => {
          this.log(`pod ${run.namespace}/${run.name}: container ${c.spec.name} preStop hook failed`);
          // As the kubelet: the hook's output stays out of the event, so no secret leaks through it.
          if (pod) this.event(pod, 'Warning', 'FailedPreStopHook', 'PreStopHook failed', c.spec.name);
        },
        onHookTimedOut: () => this.log(`pod ${run.namespace}/${run.name}: container ${c.spec.name} preStop hook not completed in grace period`),
      });
    });
    if (run.killNow) for (const s of run.stoppers) s.killNow();
    await Promise.all(run.stoppers.map((s) => s.done));
    for (const c of run.containers.values()) c.prober?.stop();
    await destroySandbox(run.netns, run.pausePid, this.o.runner, this.o.launcher);
    this.ipam.release(run.uid);
    await removeInside(this.o.podsDir, run.dir);
    this.pods.delete(run.uid);
  }

  /** A running container as the stopper drives it. */
  private stopTarget(run: PodRun, c: ContainerRun, action: PreStopAction | undefined, pod: KubeObject | undefined): StopTarget {
    const proc = c.proc;
    const exited = new Promise<void>((resolve) => {
      if (!running(proc)) resolve();
      else proc.onExit(() => resolve());
    });
    return {
      stopSignal: c.plan.kind === 'unrunnable' ? 'SIGTERM' : c.plan.stopSignal,
      signal: (sig) => {
        proc?.kill(sig);
      },
      exited,
      ...(action && pod ? { preStop: (abort: AbortSignal) => this.runPreStop(run, c, action, abort) } : {}),
    };
  }

  /** One preStop handler, as the kubelet's handler runner: exec in the container, sleep, or an HTTP GET from the node. */
  private runPreStop(run: PodRun, c: ContainerRun, action: PreStopAction, abort: AbortSignal): Promise<boolean> {
    if (action.kind === 'sleep') {
      return new Promise((resolve) => {
        const t = setTimeout(() => resolve(true), action.seconds * 1000);
        abort.addEventListener('abort', () => {
          clearTimeout(t);
          resolve(false);
        });
      });
    }
    if (action.kind === 'httpGet') {
      const url = run.ip ? probeUrl(action.probe, run.ip, c.spec.ports) : undefined;
      if (!url) return Promise.resolve(false);
      // Any HTTP answer will do (the kubelet checks no status code); curl's own limit bounds it after an abort.
      const argv = inNetns(this.o.node.netns, ['curl', '-s', '-o', '/dev/null', '-m', String(Math.max(1, run.grace)), url]);
      return this.o.runner.run(argv, { allowFailure: true }).then((r) => r.exitCode === 0, () => false);
    }
    // exec: in the container's namespaces, as `kubectl exec` runs.
    return this.runtime.execHook(run.pausePid ?? 0, action.command, containerEnv(run.name, c.spec.env, false), abort);
  }

  /**
   * The pod was marked for deletion (finishDelete: remove it from the API
   * once its containers are gone) or removed outright. `deletionGrace` is the
   * apiserver's deletionGracePeriodSeconds; a later, shorter one cuts the
   * running termination short.
   */
  private async terminate(pod: KubeObject, finishDelete: boolean, deletionGrace: number | undefined): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const run = this.pods.get(uid);
    if (run) {
      const grace = effectiveGracePeriod(run.grace, deletionGrace, (pod['spec'] as PodSpec).terminationGracePeriodSeconds);
      if (run.terminating) {
        if (grace < run.grace) {
          run.grace = grace;
          for (const s of run.stoppers) s.shorten(grace);
        }
        return;
      }
      for (const c of run.containers.values()) if (c.proc) this.event(pod, 'Normal', 'Killing', `Stopping container ${c.spec.name}`, c.spec.name);
      await this.stopPod(run, grace, pod);
    }
    if (finishDelete) {
      try {
        this.o.store.delete('pods', pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid } });
      } catch {
        // already gone
      }
    }
  }

  private findRun(namespace: string, name: string): PodRun {
    // A terminating pod still takes exec sessions while its containers run (its preStop hook may be waiting on one).
    const same = [...this.pods.values()].filter((p) => p.namespace === namespace && p.name === name);
    const run = same.find((p) => !p.terminating) ?? same.find((p) => !p.killNow);
    if (!run || run.pausePid === undefined) throw new Error(`pod ${name} is not running on ${this.o.node.name}`);
    return run;
  }

  exec(namespace: string, name: string, container: string, command: string[], opts: ExecOptions): ExecSession {
    const run = this.findRun(namespace, name);
    const c = run.containers.get(container);
    if (!c || !('running' in c.state)) throw new Error(`container ${container} is not running`);
    return this.runtime.exec(run.pausePid ?? 0, command, containerEnv(run.name, c.spec.env, opts.tty === true), opts);
  }

  logs(namespace: string, name: string, container: string, opts: LogOptions): Readable {
    const run = [...this.pods.values()].find((p) => p.namespace === namespace && p.name === name);
    if (!run) throw new Error(`pod ${name} has no logs on ${this.o.node.name}`);
    const c = run.containers.get(container);
    if (!c) throw new Error(`container ${container} is not valid for pod ${name}`);
    const n = opts.previous ? c.restartCount - 1 : c.restartCount;
    if (n < 0) throw new Error(`previous terminated container "${container}" in pod "${name}" not found`);
    const file = path.join(run.dir, 'logs', container, `${n}.log`);
    return openLog(file, opts, () => opts.previous || !c.proc || run.terminating);
  }
}

export function startKubelet(o: KubeletOptions): Kubelet {
  const k = new Kubelet(o);
  k.start();
  return k;
}
