// Taking a lab down: stop its processes and remove every kernel object and
// file it made. Works from what exists (netns by name prefix, the daemon by
// its root-owned pid file checked against /proc, the lab's cgroup, the
// recorded namespace inodes), not only from what `up` wrote, so a dead
// daemon or an `up` killed halfway leaves nothing behind either. Every lab
// name is checked before it reaches a path, and only this lab's objects are
// touched: another lab's down, crash or bad input never reaches a second lab.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { labNetnsPrefix, labOfNetns } from '../plan/names.js';
import { ExecaRunner, type CommandRunner } from '../sys/runner.js';
import { killLabCgroup, listLabCgroups } from '../sys/cgroup.js';
import { deleteNetns, listLabNetns, pidsInNetns } from '../sys/topology.js';
import { findDaemonPids, stopProcesses } from '../sys/processes.js';
import { files, labDirProblem, labStateDir, listStateLabs, readJson, stateRoot, type KubeconfigRecord } from '../sys/state-dir.js';
import { contextName, removeFromKubeconfig } from '../kubeconfig/kubeconfig.js';
import { readIfExists, resolveKubeconfigTarget, writeKubeconfigFile } from '../kubeconfig/target.js';
import { UnsafeKubeconfigError } from '../kubeconfig/user-file.js';
import { silentReporter, timed, type Reporter } from './progress.js';
import { assertLabName, isLabName } from '../labfile/lab-name.js';
import { removeInside } from '../sys/safe-remove.js';
import { labNetnsProcesses } from './leftovers.js';

export interface DownOptions {
  runner?: CommandRunner;
  reporter?: Reporter;
  /** Leave kubeconfig files alone (used when `up` cleans up after itself). */
  keepKubeconfig?: boolean;
}

export interface DownResult {
  lab: string;
  namespaces: number;
  processes: number;
}

const ETC_NETNS = '/etc/netns';

export async function downLab(lab: string, opts: DownOptions = {}): Promise<DownResult> {
  assertLabName(lab);
  const runner = opts.runner ?? new ExecaRunner();
  const reporter = opts.reporter ?? silentReporter;

  // The daemon first, gently: its kubelets stop the pods and its proxies their rules.
  const daemons = await findDaemonPids(lab);
  await timed(reporter, `Stopped control plane${daemons.length ? ` (pid ${daemons.join(', ')})` : ' (not running)'}`, () =>
    stopProcesses(daemons, 10_000),
  );
  // Then whatever the lab started and is still there: everything in its cgroup
  // (an `up` killed halfway, orphaned workers) ...
  const inCgroup = await killLabCgroup(lab);

  const netns = await listLabNetns(runner, lab);
  const leftover = [...new Set([...(await pidsInNetns(runner, netns)), ...(await labNetnsProcesses(lab))])];
  await timed(reporter, `Removed ${netns.length} network namespaces${leftover.length + inCgroup ? `, ${leftover.length + inCgroup} processes` : ''}`, async () => {
    // ... and everything in its namespaces, named or not (machines without a cgroup v2, `nslab exec` shells).
    await stopProcesses(leftover, 1000);
    await deleteNetns(runner, netns);
    await removeEtcNetns(lab);
  });

  if (!opts.keepKubeconfig) {
    // The record names a file root will rewrite: only believe it from a folder nobody else could write.
    const record = (await labDirProblem(lab)) ? undefined : await readJson<KubeconfigRecord>(lab, files.kubeconfigTarget);
    try {
      await timed(reporter, 'Removed kubeconfig context', () => removeContext(record?.path, contextName(lab)));
    } catch (e) {
      // A link planted in ~/.kube after `up` must not keep the lab from going down.
      if (!(e instanceof UnsafeKubeconfigError)) throw e;
      reporter.note(`warning: ${e.message}. Context ${contextName(lab)} was left in it`);
    }
  }
  await removeInside(stateRoot(), labStateDir(lab));
  return { lab, namespaces: netns.length, processes: daemons.length + inCgroup + leftover.length };
}

async function removeEtcNetns(lab: string): Promise<void> {
  if (!existsSync(ETC_NETNS)) return;
  const prefix = labNetnsPrefix(lab);
  for (const entry of await readdir(ETC_NETNS)) {
    if (entry.startsWith(prefix)) await removeInside(ETC_NETNS, path.join(ETC_NETNS, entry));
  }
}

async function removeContext(recordedPath: string | undefined, name: string): Promise<void> {
  const target = recordedPath ? { path: recordedPath } : resolveKubeconfigTarget();
  const text = await readIfExists(target.path);
  if (text === undefined) return;
  const { text: updated, changed } = removeFromKubeconfig(text, name);
  if (changed) await writeKubeconfigFile(target, updated);
}

/**
 * Every lab with anything left on this machine: a state folder, a namespace
 * or a cgroup, each only where it carries a valid lab name. Never a name
 * read from a process's command line: anyone can start a process.
 */
export async function labsPresent(runner: CommandRunner = new ExecaRunner()): Promise<string[]> {
  const names = new Set([...(await listStateLabs()), ...(await listLabCgroups())]);
  for (const ns of await listLabNetns(runner)) {
    const lab = labOfNetns(ns);
    if (lab !== undefined && isLabName(lab)) names.add(lab);
  }
  return [...names].sort();
}

export async function downAll(opts: DownOptions = {}): Promise<DownResult[]> {
  const results: DownResult[] = [];
  for (const lab of await labsPresent(opts.runner)) results.push(await downLab(lab, opts));
  return results;
}
