// What runs: per lab, its daemon, API, namespaces and machines.
import { labNetnsPrefix } from '../plan/names.js';
import { allNetns } from '../plan/topology.js';
import { ExecaRunner, type CommandRunner } from '../sys/runner.js';
import { listLabNetns } from '../sys/topology.js';
import { labsPresent } from './down.js';
import { findDaemonPids, pidFileVerdict } from '../sys/processes.js';
import { files, labStateDir, readJson, type ApiRecord } from '../sys/state-dir.js';
import type { LabRecord } from '../plan/lab-record.js';
import { probeApi } from './api-probe.js';
import { assertLabName } from '../labfile/lab-name.js';

export type LabState = 'Running' | 'Degraded' | 'Stopped';

export interface LabStatus {
  name: string;
  state: LabState;
  file?: string;
  stateDir: string;
  createdAt?: string;
  api?: { url: string; pid: number; alive: boolean };
  namespaces: { expected: number; present: number; missing: string[] };
  /** Pod network namespaces. */
  pods: number;
  nodes: Array<{ name: string; netns: string; nodeIP: string; podCIDR: string; roles: string[] }>;
  hosts: Array<{ name: string; netns: string; addresses: string[] }>;
  warnings: string[];
  /** What is wrong with a lab that is not Running, each with what to do about it. */
  problems: string[];
}

export async function labStatus(lab: string, runner: CommandRunner = new ExecaRunner()): Promise<LabStatus> {
  assertLabName(lab);
  const record = await readJson<LabRecord>(lab, files.lab);
  const api = await readJson<ApiRecord>(lab, files.api);
  const daemons = await findDaemonPids(lab);
  const all = await listLabNetns(runner, lab);
  // Pods' namespaces come and go with the workloads; the lab's machines and segments are what status checks.
  const podPrefix = `${labNetnsPrefix(lab)}pod-`;
  const present = all.filter((ns) => !ns.startsWith(podPrefix));
  const expected = record ? allNetns(record.plan) : [];
  const missing = expected.filter((ns) => !present.includes(ns));
  const alive = api ? daemons.includes(api.pid) : false;
  // Bounded: a stopped or wedged daemon must not make `status` hang.
  const answers = alive ? (await probeApi(lab)) === 'answers' : false;
  const problems = await labProblems(lab, { hasRecord: record !== undefined, alive, answers, daemons, apiPid: api?.pid, missing });
  const state: LabState =
    record && alive && answers && missing.length === 0 ? 'Running' : present.length > 0 || daemons.length > 0 || record ? 'Degraded' : 'Stopped';
  return {
    name: lab,
    state,
    stateDir: labStateDir(lab),
    ...(record ? { file: record.spec.file, createdAt: record.createdAt } : {}),
    ...(api ? { api: { url: api.url, pid: api.pid, alive } } : {}),
    namespaces: { expected: expected.length, present: present.length, missing },
    pods: all.length - present.length,
    nodes: (record?.plan.nodes ?? []).map((n) => ({
      name: n.name,
      netns: n.netns,
      nodeIP: n.nodeIP,
      podCIDR: n.podCIDR,
      roles: n.roles,
    })),
    hosts: (record?.plan.hosts ?? []).map((h) => ({ name: h.name, netns: h.netns, addresses: h.nics.map((n) => n.address) })),
    warnings: record?.plan.warnings ?? [],
    problems,
  };
}

async function labProblems(
  lab: string,
  f: { hasRecord: boolean; alive: boolean; answers: boolean; daemons: number[]; apiPid: number | undefined; missing: string[] },
): Promise<string[]> {
  const fix = `run "sudo nslab down ${lab}" or "sudo nslab up LAB_FILE"`;
  const problems: string[] = [];
  if (!f.hasRecord) problems.push(`the lab record is missing (an "nslab up" did not finish); ${fix}`);
  if (!f.alive) {
    const verdict = await pidFileVerdict(lab);
    const why = f.daemons.length > 0 ? `pid ${f.daemons.join(', ')} runs without a matching API record` : (verdict.problem ?? 'no API record');
    problems.push(`control plane is not running (${why}); ${fix}`);
  } else if (!f.answers) {
    problems.push(`control plane (pid ${f.apiPid}) does not answer on its API socket; ${fix}`);
  }
  if (f.missing.length > 0) problems.push(`${f.missing.length} network namespaces are missing (${f.missing.join(', ')}); ${fix}`);
  return problems;
}

export async function allLabStatuses(runner: CommandRunner = new ExecaRunner()): Promise<LabStatus[]> {
  return Promise.all((await labsPresent(runner)).map((lab) => labStatus(lab, runner)));
}
