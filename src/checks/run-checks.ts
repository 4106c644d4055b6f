// `nslab check`: run a lab file's checks against the running lab, each
// retried until its deadline, from a pod, node or host.
import { PassThrough } from 'node:stream';
import type { CheckExpectation, CheckSpec } from '../labfile/types.js';
import type { KubeObject } from '../api/types.js';
import type { LabRecord } from '../plan/lab-record.js';
import type { CommandRunner } from '../sys/runner.js';
import { ApiRequestError, type LabApiClient } from '../client/api-client.js';
import { execInPod } from '../client/exec-client.js';
import { mismatch, type Observed } from './expect.js';
import type { CheckOutcome } from './junit.js';
import { renderTemplate, type TemplateCall } from './template.js';
import { splitWords } from './words.js';

export interface CheckEnv {
  record: LabRecord;
  api: LabApiClient;
  runner: CommandRunner;
  /** Pause between attempts. */
  retryMs?: number;
}

type Target = { kind: 'machine'; netns: string } | { kind: 'pod'; namespace: string; name: string };

interface PodLike {
  metadata: { name?: string; namespace?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string; podIP?: string; hostIP?: string; conditions?: Array<{ type: string; status: string }> };
}

function splitNamespaced(ref: string): { namespace: string; name: string } {
  const slash = ref.indexOf('/');
  return slash < 0 ? { namespace: 'default', name: ref } : { namespace: ref.slice(0, slash), name: ref.slice(slash + 1) };
}

function isReady(pod: PodLike): boolean {
  return pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** A pod by name, or the first ready pod (by name) with label KEY=VALUE. */
async function findPod(api: LabApiClient, ref: string): Promise<PodLike> {
  const { namespace, name } = splitNamespaced(ref);
  if (name.includes('=')) {
    const pods = (await api.list(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?labelSelector=${encodeURIComponent(name)}`)) as unknown as PodLike[];
    const ready = pods.filter(isReady).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    if (!ready[0]) throw new Error(`no ready pod with label ${name} in namespace ${namespace}`);
    return ready[0];
  }
  return (await api.get(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`)) as unknown as PodLike;
}

interface ServicePort {
  name?: string;
  port?: number;
  nodePort?: number;
}

async function lookup(env: CheckEnv, call: TemplateCall): Promise<string> {
  const [ref = '', field = '', extra] = call.args;
  const missing = (what: string) => new Error(`{{ ${call.fn} "${ref}" "${field}" }}: ${what}`);
  switch (call.fn) {
    case 'service': {
      const { namespace, name } = splitNamespaced(ref);
      const svc = (await env.api.get(`/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`)) as KubeObject & {
        spec?: { clusterIP?: string; ports?: ServicePort[] };
      };
      const ports = svc.spec?.ports ?? [];
      const port = extra ? ports.find((p) => p.name === extra) : ports[0];
      const value = field === 'clusterIP' ? svc.spec?.clusterIP : field === 'nodePort' ? port?.nodePort : field === 'port' ? port?.port : undefined;
      if (value === undefined || value === '') throw missing(`the service has no ${field}${extra ? ` for port ${extra}` : ''} (fields: clusterIP, port, nodePort)`);
      return String(value);
    }
    case 'pod': {
      const pod = await findPod(env.api, ref);
      const value = { ip: pod.status?.podIP, name: pod.metadata.name, node: pod.spec?.nodeName, hostIP: pod.status?.hostIP }[field];
      if (!value) throw missing(`the pod has no ${field} yet (fields: ip, name, node, hostIP)`);
      return value;
    }
    case 'node': {
      const node = env.record.plan.nodes.find((n) => n.name === ref);
      const value = node ? { ip: node.nodeIP, podCIDR: node.podCIDR }[field] : undefined;
      if (!value) throw missing(node ? `unknown field (fields: ip, podCIDR)` : `no such node`);
      return value;
    }
    default:
      throw new Error(`unknown template function ${call.fn}: use service, pod or node`);
  }
}

async function resolveTarget(env: CheckEnv, from: string): Promise<Target> {
  const slash = from.indexOf('/');
  const kind = from.slice(0, slash);
  const ref = from.slice(slash + 1);
  if (kind === 'node' || kind === 'host') {
    const machine = (kind === 'node' ? env.record.plan.nodes : env.record.plan.hosts).find((m) => m.name === ref);
    if (!machine) throw new Error(`no ${kind} ${ref} in this lab`);
    return { kind: 'machine', netns: machine.netns };
  }
  const pod = await findPod(env.api, ref);
  if (!isReady(pod)) throw new Error(`pod ${pod.metadata.name} is not ready`);
  return { kind: 'pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' };
}

async function runOnce(env: CheckEnv, target: Target, argv: string[], timeoutMs: number): Promise<Observed> {
  if (target.kind === 'machine') {
    const r = await env.runner.run(['ip', 'netns', 'exec', target.netns, ...argv], { allowFailure: true, timeoutMs });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const exec = execInPod(env.api.socketPath, { namespace: target.namespace, pod: target.name, command: argv, tty: false }, { stdout, stderr });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(124), timeoutMs)));
  const exitCode = await Promise.race([exec, timeout]).finally(() => clearTimeout(timer));
  return { exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

/** Live values in expectations too; inside a /regex/ they match literally. */
async function renderExpectation(env: CheckEnv, e: CheckExpectation): Promise<CheckExpectation> {
  const out: CheckExpectation = { ...e };
  for (const stream of ['stdout', 'stderr'] as const) {
    const pattern = e[stream];
    if (pattern === undefined || !pattern.includes('{{')) continue;
    const regex = /^\/.*\/[a-z]*$/s.test(pattern);
    out[stream] = await renderTemplate(pattern, async (call) => {
      const v = await lookup(env, call);
      return regex ? v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') : v;
    });
  }
  return out;
}

export async function runCheck(env: CheckEnv, check: CheckSpec): Promise<CheckOutcome> {
  const start = performance.now();
  const deadline = Date.now() + check.timeout * 1000;
  let attempts = 0;
  let last: Observed = { exitCode: -1, stdout: '', stderr: '' };
  let message = 'not run';
  let command = check.run;
  for (;;) {
    attempts++;
    try {
      command = await renderTemplate(check.run, (call) => lookup(env, call));
      const target = await resolveTarget(env, check.from);
      const remaining = Math.max(1000, deadline - Date.now());
      last = await runOnce(env, target, splitWords(command), Math.min(remaining, 15_000));
      const why = mismatch(await renderExpectation(env, check.expect), last);
      if (!why) {
        return { name: check.name, target: check.from, command, passed: true, ms: performance.now() - start, attempts, ...last };
      }
      message = why;
    } catch (e) {
      message = e instanceof ApiRequestError && e.code === 404 ? e.message : e instanceof Error ? e.message : String(e);
    }
    if (Date.now() + (env.retryMs ?? 500) >= deadline) break;
    await new Promise((r) => setTimeout(r, env.retryMs ?? 500));
  }
  return { name: check.name, target: check.from, command, passed: false, ms: performance.now() - start, attempts, message, ...last };
}

export async function runChecks(env: CheckEnv, checks: CheckSpec[], onOutcome?: (o: CheckOutcome) => void): Promise<CheckOutcome[]> {
  const outcomes: CheckOutcome[] = [];
  for (const check of checks) {
    const o = await runCheck(env, check);
    onOutcome?.(o);
    outcomes.push(o);
  }
  return outcomes;
}
