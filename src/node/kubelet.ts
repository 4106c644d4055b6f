// A node's kubelet, inside the lab's control plane: it watches the pods
// bound to its node, makes each one real (sandbox, files, mounts,
// containers), restarts containers per restartPolicy with back-off, reports
// status, and tears pods down gracefully when they are deleted.
import { spawn, type ChildProcess } from 'node:child_process';
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Writable, type Readable } from 'node:stream';
import * as pty from 'node-pty';
import type { ObjectStore, WatchHandle } from '../api/store.js';
import { rfc3339, type KubeObject } from '../api/types.js';
import type { ExecOptions, ExecSession, LogOptions } from '../api/pod-streams.js';
import type { PlannedNode } from '../plan/topology.js';
import { podHostVeth, podNetns } from '../plan/names.js';
import { inNetns } from '../sys/netns.js';
import type { CommandRunner } from '../sys/runner.js';
import { recordEvent } from '../controlplane/events.js';
import { CriLogWriter, openLog } from './cri-log.js';
import { closeWriter, openFifo } from './stdio-fifo.js';
import { projectRoot } from '../lab/paths.js';
import { POD_API_SOCKET, runPlan, type ContainerLike, type RunPlan } from './images.js';
import { afterProbe, INITIAL_PROBE_STATE, nextProbeDelay, probeSucceeded, probeUrl, type ContainerPort, type HttpGetProbe, type ProbeState } from './probes.js';
import { HostLocalIpam } from './ipam.js';
import { nginxConf, NGINX_DEFAULT_SITE, renderHosts, renderResolvConf, type DnsConfig } from './pod-files.js';
import { createSandbox, destroySandbox, enterArgv, type Mount } from './sandbox.js';
import { ContainerStopper, effectiveGracePeriod, preStopAction, type PreStopAction, type StopTarget } from './termination.js';
import { volumeFiles, writeAtomicVolume, type KeyToPath } from './volumes.js';
import { removeInside } from '../sys/safe-remove.js';

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
  volumes?: Array<{ name: string; configMap?: { name: string; items?: KeyToPath[]; defaultMode?: number } }>;
  restartPolicy?: string;
  terminationGracePeriodSeconds?: number;
  dnsPolicy?: string;
  dnsConfig?: DnsConfig;
  hostAliases?: Array<{ ip: string; hostnames: string[] }>;
}

type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; reason: string; startedAt: string; finishedAt: string; signal?: number } };

interface ContainerRun {
  spec: PodSpec['containers'][number];
  plan: RunPlan;
  proc?: ChildProcess;
  restartCount: number;
  state: ContainerState;
  lastState?: ContainerState;
  containerID: string;
  restartTimer?: NodeJS.Timeout;
  lastStart: number;
  onExit?: (exitCode: number) => void;
  /** Readiness of the running process; undefined without a readinessProbe. */
  probe?: ProbeState;
  probeTimer?: NodeJS.Timeout;
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

const WEB_USER = 'www-data';
const BACKOFF_START_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;

export function restartDelay(restartCount: number, ranForMs: number): number {
  // The back-off resets once a container has run for 10 minutes.
  if (restartCount === 0 || ranForMs > 600_000) return 0;
  return Math.min(BACKOFF_START_MS * 2 ** (restartCount - 1), BACKOFF_MAX_MS);
}

function randomID(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export class Kubelet {
  private readonly pods = new Map<string, PodRun>();
  private readonly ipam: HostLocalIpam;
  private watches: WatchHandle[] = [];
  private stopped = false;

  constructor(private readonly o: KubeletOptions) {
    this.ipam = new HostLocalIpam(o.node.podCIDR);
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
      const mounts = await this.writePodFiles(run, spec);
      run.pausePid = await createSandbox(
        {
          nodeNetns: this.o.node.netns,
          netns: run.netns,
          hostVeth: podHostVeth(run.uid),
          hostname: name,
          ip: run.ip,
          prefix: this.ipam.prefix,
          gateway: this.ipam.gateway(),
        },
        mounts,
        this.o.runner,
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
      await destroySandbox(run.netns, run.pausePid, this.o.runner);
      run.pausePid = undefined;
      const retry = setTimeout(() => {
        if (!run.terminating && !this.stopped && this.pods.get(run.uid) === run) void this.setUpSandbox(pod, run, spec, resolveReady, attempt + 1);
      }, Math.min(1000 * 2 ** attempt, 30_000));
      retry.unref();
    }
  }

  /** resolv.conf, hosts, hostname, volumes and nginx files; returns the mounts the sandbox needs. */
  private async writePodFiles(run: PodRun, spec: PodSpec): Promise<Mount[]> {
    const etc = path.join(run.dir, 'etc');
    await mkdir(etc, { recursive: true });
    await writeFile(
      path.join(etc, 'resolv.conf'),
      renderResolvConf({
        dnsPolicy: spec.dnsPolicy ?? 'ClusterFirst',
        namespace: run.namespace,
        clusterDomain: this.o.clusterDomain,
        clusterDNS: this.o.clusterDNS,
        nodeResolvConf: this.o.nodeResolvConf,
        ...(spec.dnsConfig ? { dnsConfig: spec.dnsConfig } : {}),
      }),
    );
    await writeFile(path.join(etc, 'hosts'), renderHosts(run.ip ?? '', run.name, spec.hostAliases ?? []));
    await writeFile(path.join(etc, 'hostname'), `${run.name}\n`);
    const mounts: Mount[] = [
      { kind: 'tmpfs', target: '/run', options: 'mode=755' },
      { kind: 'tmpfs', target: '/tmp', options: 'mode=1777' },
      { kind: 'bind', source: path.join(etc, 'hosts'), target: '/etc/hosts' },
      { kind: 'bind', source: path.join(etc, 'resolv.conf'), target: '/etc/resolv.conf' },
      { kind: 'bind', source: path.join(etc, 'hostname'), target: '/etc/hostname' },
    ];
    if ([...run.containers.values()].some((c) => c.plan.kind === 'coredns')) {
      // A folder holding only a hard link of the API's socket (same tmpfs), so the pod sees nothing else of the lab's state.
      const secrets = path.join(run.dir, 'api');
      await mkdir(secrets, { recursive: true, mode: 0o700 });
      await rm(path.join(secrets, path.basename(POD_API_SOCKET)), { force: true });
      await link(this.o.apiSocket, path.join(secrets, path.basename(POD_API_SOCKET)));
      mounts.push({ kind: 'bind', source: secrets, target: path.dirname(POD_API_SOCKET), staged: true });
      // The DNS server is nslab's own code: if the pod's /tmp or /run would hide it (a checkout under /tmp), bind it back.
      const root = projectRoot();
      if (['/tmp/', '/run/'].some((p) => `${root}/`.startsWith(p))) mounts.push({ kind: 'bind', source: root, target: root, staged: true });
    }
    const volumeMounts = spec.containers.flatMap((c) => c.volumeMounts ?? []);
    if ([...run.containers.values()].some((c) => c.plan.kind === 'nginx')) {
      const nginx = path.join(run.dir, 'nginx');
      await mkdir(path.join(nginx, 'conf.d'), { recursive: true });
      await writeFile(path.join(nginx, 'nginx.conf'), nginxConf(WEB_USER));
      await writeFile(path.join(nginx, 'conf.d', 'default.conf'), NGINX_DEFAULT_SITE);
      mounts.push(
        { kind: 'tmpfs', target: '/var/lib/nginx', options: 'mode=755' },
        { kind: 'tmpfs', target: '/var/log/nginx', options: 'mode=755' },
        { kind: 'bind', source: path.join(nginx, 'nginx.conf'), target: '/etc/nginx/nginx.conf' },
      );
      if (!volumeMounts.some((m) => m.mountPath.replace(/\/$/, '') === '/etc/nginx/conf.d')) {
        mounts.push({ kind: 'bind', source: path.join(nginx, 'conf.d'), target: '/etc/nginx/conf.d' });
      }
    }
    for (const vm of volumeMounts) {
      const vol = spec.volumes?.find((v) => v.name === vm.name);
      if (!vol?.configMap) continue;
      const dir = path.join(run.dir, 'volumes', vol.name);
      await this.writeConfigMapVolume(run.namespace, vol.configMap, dir);
      mounts.push({ kind: 'bind', source: dir, target: vm.mountPath });
    }
    return mounts;
  }

  private async writeConfigMapVolume(namespace: string, ref: { name: string; items?: KeyToPath[]; defaultMode?: number }, dir: string): Promise<void> {
    const cm = this.o.store.find('configmaps', namespace, ref.name);
    if (!cm) throw new Error(`configmap "${ref.name}" not found`);
    const data = (cm['data'] ?? {}) as Record<string, string>;
    await writeAtomicVolume(dir, volumeFiles(data, ref.items), ref.defaultMode ?? 0o644);
  }

  private async refreshConfigMap(cm: KubeObject): Promise<void> {
    for (const run of this.pods.values()) {
      if (run.terminating || run.namespace !== cm.metadata.namespace) continue;
      const pod = this.o.store.find('pods', run.namespace, run.name);
      const volumes = ((pod?.['spec'] as PodSpec | undefined)?.volumes ?? []).filter((v) => v.configMap?.name === cm.metadata.name);
      for (const v of volumes) {
        if (v.configMap) await this.writeConfigMapVolume(run.namespace, v.configMap, path.join(run.dir, 'volumes', v.name)).catch(() => undefined);
      }
    }
  }

  private env(run: PodRun, c: PodSpec['containers'][number], tty: boolean): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOSTNAME: run.name,
      HOME: '/root',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      ...(tty ? { TERM: 'xterm' } : {}),
    };
    for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    return env;
  }

  private startContainer(pod: KubeObject, run: PodRun, c: ContainerRun): void {
    if (run.terminating || this.stopped || run.pausePid === undefined) return;
    if (c.plan.kind === 'unrunnable') {
      c.state = { waiting: { reason: c.plan.reason, message: c.plan.message } };
      this.event(pod, 'Warning', 'Failed', c.plan.message, c.spec.name);
      this.reportStatus(run);
      return;
    }
    const logDir = path.join(run.dir, 'logs', c.spec.name);
    void this.spawnContainer(run, c, logDir).then(
      (startedAt) => {
        if (startedAt === undefined) return;
        this.containerStarted(pod, run, c, startedAt);
      },
      (e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        c.state = { waiting: { reason: 'CreateContainerError', message } };
        this.event(pod, 'Warning', 'Failed', `Error: ${message}`, c.spec.name);
        this.reportStatus(run);
      },
    );
  }

  /** Start the container's process with FIFOs for stdout/stderr; resolves with its start time. */
  private async spawnContainer(run: PodRun, c: ContainerRun, logDir: string): Promise<string | undefined> {
    await mkdir(logDir, { recursive: true });
    if (run.terminating || this.stopped || run.pausePid === undefined || c.plan.kind === 'unrunnable') return undefined;
    const base = path.join(logDir, `${c.restartCount}`);
    await rm(`${base}.stdout`, { force: true });
    await rm(`${base}.stderr`, { force: true });
    const out = await openFifo(`${base}.stdout`, this.o.runner);
    const err = await openFifo(`${base}.stderr`, this.o.runner);
    const writer = new CriLogWriter(`${base}.log`);
    out.reader.on('data', (d: Buffer) => writer.write('stdout', d));
    err.reader.on('data', (d: Buffer) => writer.write('stderr', d));
    let open = 2;
    const closed = () => {
      if (--open === 0) writer.close();
    };
    out.reader.on('close', closed);
    err.reader.on('close', closed);
    // The pod may have begun terminating during the awaits above: a process started now would outlive it.
    if (run.terminating || this.stopped) {
      closeWriter(out);
      closeWriter(err);
      return undefined;
    }
    const argv = enterArgv(run.pausePid, c.plan.argv);
    // Its own process group: a runtime's container ends with its main process
    // (the kernel kills a PID namespace with its init), so what the main
    // process leaves behind (nginx workers of a killed master) is killed with it.
    const proc = spawn(argv[0] ?? 'nsenter', argv.slice(1), {
      stdio: ['ignore', out.writeFd, err.writeFd],
      env: this.env(run, c.spec, false),
      detached: true,
    });
    closeWriter(out);
    closeWriter(err);
    c.proc = proc;
    c.containerID = `nslab://${randomID()}`;
    c.lastStart = Date.now();
    const startedAt = rfc3339(new Date());
    c.state = { running: { startedAt } };
    proc.on('exit', (code, signal) => {
      c.proc = undefined;
      killGroup(proc.pid);
      const signals: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGQUIT: 3, SIGINT: 2 };
      const exitCode = code ?? 128 + (signal ? (signals[signal] ?? 1) : 0);
      c.state = {
        terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: rfc3339(new Date()), ...(signal ? { signal: signals[signal] ?? 0 } : {}) },
      };
      c.onExit?.(exitCode);
    });
    return startedAt;
  }

  private containerStarted(pod: KubeObject, run: PodRun, c: ContainerRun, _startedAt: string): void {
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
    if (!c.proc && 'terminated' in c.state) c.onExit?.(c.state.terminated.exitCode);
    else if (c.spec.readinessProbe) {
      c.probe = INITIAL_PROBE_STATE;
      this.scheduleProbe(pod, run, c, c.proc, (c.spec.readinessProbe.initialDelaySeconds ?? 0) * 1000);
    }
    this.reportStatus(run);
  }

  private scheduleProbe(pod: KubeObject, run: PodRun, c: ContainerRun, proc: ChildProcess | undefined, delayMs: number): void {
    clearTimeout(c.probeTimer);
    c.probeTimer = setTimeout(() => void this.probeOnce(pod, run, c, proc), delayMs);
  }

  private async probeOnce(pod: KubeObject, run: PodRun, c: ContainerRun, proc: ChildProcess | undefined): Promise<void> {
    const probe = c.spec.readinessProbe;
    // Readiness is probed while the pod terminates too: it is what the endpoint's `serving` condition reports.
    const live = () => !this.stopped && c.proc === proc && proc !== undefined && c.probe !== undefined;
    if (!probe || !live() || !run.ip) return;
    const url = probeUrl(probe, run.ip, c.spec.ports);
    let ok = false;
    if (url) {
      const timeout = String(probe.timeoutSeconds ?? 1);
      const r = await this.o.runner.run(inNetns(this.o.node.netns, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', timeout, url]), { allowFailure: true });
      ok = probeSucceeded(r.stdout.trim());
    }
    if (!live() || !c.probe) return;
    const before = c.probe.ready;
    c.probe = afterProbe(c.probe, ok, probe);
    if (c.probe.ready !== before) {
      this.log(`pod ${run.namespace}/${run.name}: container ${c.spec.name} ${c.probe.ready ? 'ready' : 'not ready'} ${Date.now() - c.lastStart} ms after start`);
      if (!c.probe.ready) this.event(pod, 'Warning', 'Unhealthy', `Readiness probe failed: ${url ?? 'no such port'}`, c.spec.name);
      this.reportStatus(run);
    }
    this.scheduleProbe(pod, run, c, proc, nextProbeDelay(c.probe, probe));
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

  private podStatus(run: PodRun): Record<string, unknown> {
    const now = rfc3339(new Date());
    const containers = [...run.containers.values()];
    const ready = (c: ContainerRun) => 'running' in c.state && (c.probe === undefined || c.probe.ready);
    const allReady = containers.every(ready);
    const running = containers.some((c) => 'running' in c.state);
    const cond = (type: string, status: boolean, reason?: string) => ({
      type,
      status: status ? 'True' : 'False',
      lastProbeTime: null,
      lastTransitionTime: now,
      ...(reason && !status ? { reason } : {}),
    });
    const allDone = containers.every((c) => 'terminated' in c.state);
    const phase = running || containers.some((c) => c.restartCount > 0 || 'waiting' in c.state && c.state.waiting.reason === 'CrashLoopBackOff')
      ? 'Running'
      : allDone
        ? containers.every((c) => 'terminated' in c.state && c.state.terminated.exitCode === 0) ? 'Succeeded' : 'Failed'
        : 'Pending';
    return {
      phase,
      conditions: [
        cond('PodReadyToStartContainers', run.pausePid !== undefined),
        cond('Initialized', true),
        cond('Ready', allReady, 'ContainersNotReady'),
        cond('ContainersReady', allReady, 'ContainersNotReady'),
        cond('PodScheduled', true),
      ],
      hostIP: this.o.node.nodeIP,
      hostIPs: [{ ip: this.o.node.nodeIP }],
      ...(run.pausePid !== undefined && run.ip ? { podIP: run.ip, podIPs: [{ ip: run.ip }] } : {}),
      startTime: run.startTime,
      qosClass: 'BestEffort',
      containerStatuses: containers.map((c) => ({
        name: c.spec.name,
        image: c.spec.image ?? '',
        imageID: `${c.spec.image ?? ''}@sha256:${'0'.repeat(64)}`,
        ...(c.containerID ? { containerID: c.containerID } : {}),
        ready: ready(c),
        started: 'running' in c.state,
        restartCount: c.restartCount,
        state: c.state,
        lastState: c.lastState ?? {},
      })),
    };
  }

  /** Write status, keeping the transition times of unchanged conditions. */
  private reportStatus(run: PodRun): void {
    if (this.stopped) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = this.o.store.find('pods', run.namespace, run.name);
      if (!current || current.metadata.uid !== run.uid) return;
      const status = this.podStatus(run);
      const old = (current['status'] ?? {}) as { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> };
      const conds = (status['conditions'] as Array<{ type: string; status: string; lastTransitionTime: string }>).map((c) => {
        const prev = old.conditions?.find((p) => p.type === c.type);
        return prev && prev.status === c.status && prev.lastTransitionTime ? { ...c, lastTransitionTime: prev.lastTransitionTime } : c;
      });
      try {
        this.o.store.update('pods', { ...current, status: { ...status, conditions: conds } }, { subresource: 'status' });
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
    const running = [...run.containers.values()].filter((c) => c.proc && c.proc.exitCode === null && c.proc.signalCode === null);
    run.stoppers = running.map((c) => {
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
    for (const c of run.containers.values()) clearTimeout(c.probeTimer);
    await destroySandbox(run.netns, run.pausePid, this.o.runner);
    this.ipam.release(run.uid);
    await removeInside(this.o.podsDir, run.dir);
    this.pods.delete(run.uid);
  }

  /** A running container as the stopper drives it. */
  private stopTarget(run: PodRun, c: ContainerRun, action: PreStopAction | undefined, pod: KubeObject | undefined): StopTarget {
    const proc = c.proc;
    const exited = new Promise<void>((resolve) => {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
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
    // exec: in the container's namespaces, as `kubectl exec` runs. Its own process group, so that
    // when its time is up (or the container has stopped) nothing it started outlives it.
    return new Promise((resolve) => {
      const argv = enterArgv(run.pausePid ?? 0, action.command);
      const proc = spawn(argv[0] ?? 'nsenter', argv.slice(1), { stdio: 'ignore', detached: true, env: this.env(run, c.spec, false) });
      let ended = false;
      const killGroup = () => {
        try {
          if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
        } catch {
          // nothing left in the group
        }
      };
      abort.addEventListener('abort', () => {
        if (!ended) killGroup();
      });
      proc.once('error', () => resolve(false));
      proc.once('exit', (code) => {
        // What it left running in the background goes with it; after this the group id is not ours to signal.
        killGroup();
        ended = true;
        resolve(code === 0);
      });
    });
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
    const argv = enterArgv(run.pausePid ?? 0, command);
    if (opts.tty) {
      const term = pty.spawn(argv[0] ?? 'nsenter', argv.slice(1), { name: 'xterm', cols: 80, rows: 24, env: this.env(run, c.spec, true) });
      const stdout = new PassThrough();
      term.onData((d) => stdout.write(d));
      const exited = new Promise<{ exitCode: number }>((resolve) =>
        term.onExit(({ exitCode }) => {
          stdout.end();
          resolve({ exitCode });
        }),
      );
      const stdin = new Writable({
        write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
          term.write(chunk.toString());
          cb();
        },
      });
      return { stdin, stdout, resize: (cols, rows) => term.resize(cols, rows), exited, kill: () => term.kill() };
    }
    const proc = spawn(argv[0] ?? 'nsenter', argv.slice(1), { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: this.env(run, c.spec, false) });
    const exited = new Promise<{ exitCode: number }>((resolve) => {
      proc.on('error', () => resolve({ exitCode: 126 }));
      proc.on('exit', (code, signal) => resolve({ exitCode: code ?? (signal === 'SIGKILL' ? 137 : 128) }));
    });
    return {
      ...(proc.stdin ? { stdin: proc.stdin as Writable } : {}),
      stdout: proc.stdout as Readable,
      ...(proc.stderr ? { stderr: proc.stderr as Readable } : {}),
      resize: () => {},
      exited,
      kill: () => proc.kill('SIGKILL'),
    };
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

/** SIGKILL to what is left of a container's process group after its main process exited. */
function killGroup(pgid: number | undefined): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // nothing left in the group
  }
}
