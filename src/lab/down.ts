// Taking a lab down: stop its processes and remove every kernel object and
// file it made. Works from what exists (netns by name prefix, daemons by
// command line), not from what `up` wrote, so a dead daemon or an `up` killed
// halfway leaves nothing behind either.
import { readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { labNetnsPrefix, labOfNetns } from '../plan/names.js';
import { ExecaRunner, type CommandRunner } from '../sys/runner.js';
import { deleteNetns, listLabNetns, pidsInNetns } from '../sys/topology.js';
import { findDaemonPids, findDaemons, stopProcesses } from './processes.js';
import { files, labStateDir, listStateLabs, readJson, type KubeconfigRecord } from './state.js';
import { contextName, removeFromKubeconfig } from '../kubeconfig/kubeconfig.js';
import { readIfExists, resolveKubeconfigTarget, writeKubeconfigFile } from '../kubeconfig/target.js';
import { silentReporter, timed, type Reporter } from './progress.js';

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
  const runner = opts.runner ?? new ExecaRunner();
  const reporter = opts.reporter ?? silentReporter;

  const daemons = await findDaemonPids(lab);
  await timed(reporter, `Stopped control plane${daemons.length ? ` (pid ${daemons.join(', ')})` : ' (not running)'}`, () =>
    stopProcesses(daemons, 10_000),
  );

  const netns = await listLabNetns(runner, lab);
  const leftover = await pidsInNetns(runner, netns);
  await timed(reporter, `Removed ${netns.length} network namespaces${leftover.length ? `, ${leftover.length} processes` : ''}`, async () => {
    await stopProcesses(leftover, 1000);
    await deleteNetns(runner, netns);
    await removeEtcNetns(lab);
  });

  if (!opts.keepKubeconfig) {
    const record = await readJson<KubeconfigRecord>(lab, files.kubeconfigTarget);
    await timed(reporter, 'Removed kubeconfig context', () => removeContext(record?.path, contextName(lab)));
  }
  await rm(labStateDir(lab), { recursive: true, force: true });
  return { lab, namespaces: netns.length, processes: daemons.length + leftover.length };
}

async function removeEtcNetns(lab: string): Promise<void> {
  if (!existsSync(ETC_NETNS)) return;
  const prefix = labNetnsPrefix(lab);
  for (const entry of await readdir(ETC_NETNS)) {
    if (entry.startsWith(prefix)) await rm(path.join(ETC_NETNS, entry), { recursive: true, force: true });
  }
}

async function removeContext(recordedPath: string | undefined, name: string): Promise<void> {
  const target = recordedPath ? { path: recordedPath } : resolveKubeconfigTarget();
  const text = await readIfExists(target.path);
  if (text === undefined) return;
  const { text: updated, changed } = removeFromKubeconfig(text, name);
  if (changed) await writeKubeconfigFile(target, updated);
}

/** Every lab with anything left on this machine: a state folder, a namespace or a daemon. */
export async function labsPresent(runner: CommandRunner = new ExecaRunner()): Promise<string[]> {
  const names = new Set(await listStateLabs());
  for (const d of await findDaemons()) names.add(d.lab);
  for (const ns of await listLabNetns(runner)) {
    const lab = labOfNetns(ns);
    if (lab) names.add(lab);
  }
  return [...names].sort();
}

export async function downAll(opts: DownOptions = {}): Promise<DownResult[]> {
  const results: DownResult[] = [];
  for (const lab of await labsPresent(opts.runner)) results.push(await downLab(lab, opts));
  return results;
}
