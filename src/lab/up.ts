// Bringing a lab up: namespaces and links from the plan, certificates, the
// control-plane daemon, and a kubeconfig context for the real kubectl.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabSpec } from '../labfile/types.js';
import { loadLabFile, LabFileError } from '../labfile/parse-lab.js';
import { readManifests } from '../controlplane/manifests.js';
import { allNetns, planTopology, type TopologyPlan } from '../plan/topology.js';
import { ExecaRunner, type CommandRunner } from '../sys/runner.js';
import { NodeLauncher, type ProcessLauncher } from '../sys/launcher.js';
import { applyTopology, listLabNetns } from '../sys/topology.js';
import { bridgeNetfilterAvailable, PreflightError, requireNamespaceCapabilities, requireRoot, requireTools, REQUIRED_TOOLS, RESOLVER_TOOLS, NFTABLES_TOOLS, IPVS_TOOLS } from '../sys/preflight.js';
import { createLabPki, type LabPki } from '../api/pki.js';
import { contextName, mergeKubeconfig, renderKubeconfig } from '../kubeconfig/kubeconfig.js';
import { readIfExists, resolveKubeconfigTarget, writeKubeconfigFile, type KubeconfigTarget } from '../kubeconfig/target.js';
import { UnsafeKubeconfigError } from '../kubeconfig/user-file.js';
import { enterLabCgroup, labCgroupDir } from '../sys/cgroup.js';
import { downLab } from './down.js';
import { daemonScript } from '../sys/install-paths.js';
import { findDaemonPids } from '../sys/processes.js';
import { recordNetns } from '../sys/netns-record.js';
import { probeApi } from './api-probe.js';
import { silentReporter, timed, type Reporter } from './progress.js';
import {
  ensureStateDir,
  files,
  labStateDir,
  readJson,
  stateRoot,
  statePath,
  writeJson,
  type ApiRecord,
  type KubeconfigRecord,
} from '../sys/state-dir.js';
import type { LabRecord } from '../plan/lab-record.js';
import { PKI_FILES } from '../controlplane/pki-files.js';
import { ipvsKernelProblem, unavailableProxyMode } from '../proxy/modes.js';
import { probeIpvsKernel } from '../sys/kernel-features.js';
import { UsageError } from '../labfile/errors.js';

export interface UpOptions {
  runner?: CommandRunner;
  launcher?: ProcessLauncher;
  reporter?: Reporter;
  /** Where to merge the lab's context; false to leave kubeconfig files alone. */
  kubeconfig?: KubeconfigTarget | false;
  /** Give up waiting for the control plane after this long. */
  readyTimeoutMs?: number;
}

export interface UpResult {
  spec: LabSpec;
  plan: TopologyPlan;
  api: ApiRecord;
  kubeconfigPath?: string;
  alreadyUp: boolean;
}

export async function upLabFile(file: string, opts: UpOptions = {}): Promise<UpResult> {
  const reporter = opts.reporter ?? silentReporter;
  const spec = await timed(reporter, (s: LabSpec) => `Read ${path.relative(process.cwd(), s.file) || s.file}`, () =>
    loadLabFile(file),
  );
  return upLab(spec, opts);
}

export async function upLab(spec: LabSpec, opts: UpOptions = {}): Promise<UpResult> {
  const runner = opts.runner ?? new ExecaRunner();
  const reporter = opts.reporter ?? silentReporter;
  const { problems } = await readManifests(spec.manifests);
  if (problems.length > 0) throw new LabFileError(problems);
  requireRoot('up');
  requireNamespaceCapabilities();
  // Before anything is created: a kernel without what ipvs mode needs, or a
  // mode the lab cannot build, is refused (exit 2).
  if (spec.cluster.proxyMode === 'ipvs') {
    const kernelProblem = ipvsKernelProblem(await probeIpvsKernel(runner));
    if (kernelProblem !== undefined) throw new UsageError(kernelProblem);
  }
  const modeProblem = unavailableProxyMode(spec.cluster.proxyMode);
  if (modeProblem !== undefined) throw new UsageError(modeProblem);
  requireTools({
    ...REQUIRED_TOOLS,
    ...(spec.hosts.some((h) => Object.keys(h.dnsRecords).length > 0) ? RESOLVER_TOOLS : {}),
    ...(spec.cluster.proxyMode === 'nftables' ? NFTABLES_TOOLS : {}),
    ...(spec.cluster.proxyMode === 'ipvs' ? IPVS_TOOLS : {}),
  });
  await ensureBridgeNetfilter(runner);

  const plan = planTopology(spec);
  const running = await runningLab(spec.name, runner, plan);
  if (running) {
    reporter.note(`Lab "${spec.name}" is already up; nothing to do.`);
    const kubeconfigPath = await mergeContextOrWarn(spec.name, running, opts.kubeconfig, reporter);
    return { spec, plan, api: running, alreadyUp: true, ...(kubeconfigPath ? { kubeconfigPath } : {}) };
  }
  // A lab that is not running but left something (a dead daemon, an `up`
  // killed halfway, a state folder that outlived a reboot) is taken down
  // first and built again from its file.
  if (await hasTraces(spec.name, runner)) {
    await timed(reporter, 'Removed what an earlier run left (its control plane was not running)', () =>
      downLab(spec.name, { runner, keepKubeconfig: true }),
    );
  }

  // From here on everything `up` starts is in the lab's cgroup, so a `down`
  // after `up` was killed at any moment finds it; `up` leaves the cgroup
  // before it cleans up or returns.
  const cgroup = await enterLabCgroup(spec.name);
  try {
    await ensureStateDir(spec.name);
    const record: LabRecord = { spec, plan, createdAt: new Date().toISOString() };
    await writeJson(spec.name, files.lab, record);
    await timed(
      reporter,
      `Created ${allNetns(plan).length} network namespaces, ${plan.nodes.length + plan.hosts.length} machines, ${plan.segments.length} segments`,
      () => applyTopology(plan, runner, () => recordNetns(spec.name, allNetns(plan))),
    );
    const pki = await timed(reporter, 'Issued the lab CA and certificates', async () => {
      const pki = await createLabPki(spec.name);
      await writePki(spec.name, pki);
      return pki;
    });
    const api = await timed(reporter, (a: ApiRecord) => `Started control plane at ${a.url}`, () =>
      startDaemon(spec.name, opts.launcher ?? new NodeLauncher(), opts.readyTimeoutMs ?? readyTimeoutMs()),
    );
    await writeFile(
      statePath(spec.name, files.kubeconfig),
      renderKubeconfig({ name: contextName(spec.name), server: api.url, caCertPem: pki.caCert, clientCertPem: pki.clientCert, clientKeyPem: pki.clientKey }),
      { mode: 0o600 },
    );
    const kubeconfigPath = await timed(
      reporter,
      (p: string | undefined) => (p ? `Merged context ${contextName(spec.name)} into ${p}` : 'Wrote kubeconfig'),
      () => mergeContextOrWarn(spec.name, api, opts.kubeconfig, reporter),
    );
    for (const w of plan.warnings) reporter.note(`warning: ${w}`);
    await cgroup?.leave();
    return { spec, plan, api, alreadyUp: false, ...(kubeconfigPath ? { kubeconfigPath } : {}) };
  } catch (e) {
    await cgroup?.leave();
    await downLab(spec.name, { runner, keepKubeconfig: true }).catch(() => undefined);
    throw e;
  }
}

/** The lab's API record if its daemon runs and answers and all its namespaces exist. */
async function runningLab(lab: string, runner: CommandRunner, plan: TopologyPlan): Promise<ApiRecord | undefined> {
  const api = await readJson<ApiRecord>(lab, files.api);
  if (!api) return undefined;
  const daemons = await findDaemonPids(lab);
  if (!daemons.includes(api.pid)) return undefined;
  const present = new Set(await listLabNetns(runner, lab));
  if (!allNetns(plan).every((ns) => present.has(ns))) return undefined;
  // Generous: a busy but healthy control plane must not be taken for a dead one and rebuilt.
  return (await probeApi(lab, 5000)) === 'answers' ? api : undefined;
}

/** Anything of the lab on this machine: its state folder, a namespace, a daemon or its cgroup. */
async function hasTraces(lab: string, runner: CommandRunner): Promise<boolean> {
  const cgroup = labCgroupDir(lab);
  return (
    existsSync(labStateDir(lab)) ||
    (cgroup !== undefined && existsSync(cgroup)) ||
    (await listLabNetns(runner, lab)).length > 0 ||
    (await findDaemonPids(lab)).length > 0
  );
}

async function ensureBridgeNetfilter(runner: CommandRunner): Promise<void> {
  if (bridgeNetfilterAvailable()) return;
  await runner.run(['modprobe', 'br_netfilter'], { allowFailure: true });
  if (!bridgeNetfilterAvailable()) {
    throw new PreflightError(
      'the kernel has no br_netfilter (net.bridge.bridge-nf-call-iptables is missing): run "sudo modprobe br_netfilter"; ' +
        'in a container, load it on the host first',
    );
  }
}

async function writePki(lab: string, pki: LabPki): Promise<void> {
  const dir = statePath(lab, files.pki);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await Promise.all(
    Object.entries(PKI_FILES).map(([key, name]) => writeFile(path.join(dir, name), pki[key as keyof typeof PKI_FILES], { mode: 0o600 })),
  );
}

/**
 * Start the lab's control plane detached, with its log in the state folder,
 * and wait until it says it is ready on fd 3 (or dies, or times out).
 */
async function startDaemon(lab: string, launcher: ProcessLauncher, timeoutMs: number): Promise<ApiRecord> {
  const log = await open(statePath(lab, files.log), 'a', 0o600);
  try {
    // Detached: its own session, so it outlives `up`; it is in the lab's cgroup because `up` is (see upLab).
    const child = launcher.spawn([process.execPath, daemonScript(), '--lab', lab], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd, 'pipe'],
      env: { ...process.env, NSLAB_STATE_DIR: stateRoot() },
    });
    await writeFile(statePath(lab, files.pid), `${child.pid}\n`, { mode: 0o600 });
    const readyPipe = child.pipe(3);
    if (!readyPipe) throw new Error('could not open the control plane readiness pipe');
    let stopWatchingExit = () => {};
    const ready = await new Promise<ApiRecord>((resolve, reject) => {
      let buf = '';
      const fail = (why: string) => {
        // The state folder goes when `up` cleans up, so the log's tail goes into the message.
        const tail = readLogTail(statePath(lab, files.log));
        reject(new Error(`the control plane ${why}${tail ? `; its log ends:\n${tail}` : ''}`));
      };
      const timer = setTimeout(() => fail(`was not ready after ${timeoutMs} ms`), timeoutMs);
      readyPipe.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          try {
            resolve(JSON.parse(buf.slice(0, nl)) as ApiRecord);
          } catch {
            fail(`sent a garbled ready message: ${buf.slice(0, nl)}`);
          }
        }
      });
      stopWatchingExit = child.onExit(({ code, signal }) => {
        clearTimeout(timer);
        fail(`exited while starting (${signal ?? `exit ${code}`})`);
      });
    });
    stopWatchingExit();
    readyPipe.destroy();
    child.unref();
    return ready;
  } finally {
    await log.close();
  }
}

function readLogTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * A kubeconfig nslab refuses to write (a symlink planted to a file the user
 * does not own) does not undo a lab that is up: the user is told, and gets
 * the lab's kubeconfig another way.
 */
async function mergeContextOrWarn(
  lab: string,
  api: ApiRecord,
  target: KubeconfigTarget | false | undefined,
  reporter: Reporter,
): Promise<string | undefined> {
  try {
    return await mergeContext(lab, api, target);
  } catch (e) {
    if (!(e instanceof UnsafeKubeconfigError)) throw e;
    reporter.note(`warning: ${e.message}. The lab is up without a merged context; get its kubeconfig with "sudo nslab kubeconfig ${lab} > FILE"`);
    return undefined;
  }
}

async function mergeContext(lab: string, api: ApiRecord, target: KubeconfigTarget | false | undefined): Promise<string | undefined> {
  if (target === false) return undefined;
  const where = target ?? resolveKubeconfigTarget();
  const pkiDir = statePath(lab, files.pki);
  const read = async (name: string) => (await readIfExists(path.join(pkiDir, name))) ?? '';
  const entry = {
    name: contextName(lab),
    server: api.url,
    caCertPem: await read(PKI_FILES.caCert),
    clientCertPem: await read(PKI_FILES.clientCert),
    clientKeyPem: await read(PKI_FILES.clientKey),
  };
  await writeKubeconfigFile(where, mergeKubeconfig(await readIfExists(where), entry));
  const record: KubeconfigRecord = { path: where.path, context: entry.name };
  await writeJson(lab, files.kubeconfigTarget, record);
  return where.path;
}

export { labStateDir };

/**
 * How long the control plane may take to become ready: 15 s, or
 * NSLAB_READY_TIMEOUT_MS (scripts/vm.sh sets it: everything is about 15 times
 * slower in a guest under software emulation).
 */
function readyTimeoutMs(): number {
  const v = Number(process.env['NSLAB_READY_TIMEOUT_MS']);
  return Number.isInteger(v) && v > 0 ? v : 15_000;
}
