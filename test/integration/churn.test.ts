// Churn with no lost requests, on a real lab with the real kubectl: pods
// with preStop hooks stay Terminating and keep serving while their hooks
// run (exec in the container's namespaces, sleep), a container that ignores
// its stop signal is killed 2 s after an overrunning hook, and `kubectl
// rollout restart` of a Deployment with a readinessProbe and a preStop sleep
// under a steady load (from the console host through a NodePort, from a pod
// through the ClusterIP) loses no request. The same rollout without preStop
// loses some, as on a real cluster: connections refused by pods that stopped
// listening before every node's rules had let go of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { rows, sandbox, type Sandbox } from '../helpers/cli.js';
import { courseLabYaml, readyPodRows, until, upLab } from '../helpers/course.js';
import { addLoads, churnWorkload, CONNECTION_FAILURES, curlLoadArgv, parseLoad, type LoadResult } from '../../bench/churn-load.js';

const LAB = 'it-churn';
const WORKER = '192.168.10.220';
/** Requests per client and rollout, at 50 per second: 8 s of load, plus 1 s per request that times out. */
const LOAD = { count: 400, ratePerSecond: 50, timeoutSeconds: 1 };

const MANIFESTS = `${churnWorkload('web', 30080, 3, 2)}${churnWorkload('plain', 30081, 3)}apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - {name: client, image: busybox, command: [sleep, "3600"]}
`;

/** Pods deleted in the hook test: what each does when its turn comes. */
const HOOK_PODS = `apiVersion: v1
kind: Pod
metadata: {name: hooked, labels: {test: hooks}}
spec:
  containers:
  - name: nginx
    image: nginx:alpine
    # Runs only where the pod's hostname is the pod's name: inside its UTS namespace.
    lifecycle: {preStop: {exec: {command: [sh, -c, 'test "$(hostname)" = hooked && sleep 2']}}}
---
apiVersion: v1
kind: Pod
metadata: {name: badhook, labels: {test: hooks}}
spec:
  containers:
  - name: nginx
    image: nginx:alpine
    lifecycle: {preStop: {exec: {command: [sh, -c, 'exit 3']}}}
---
apiVersion: v1
kind: Pod
metadata: {name: httphook, labels: {test: hooks}}
spec:
  containers:
  - name: nginx
    image: nginx:alpine
    lifecycle: {preStop: {httpGet: {path: /, port: 80}}}
---
apiVersion: v1
kind: Pod
metadata: {name: badhttp, labels: {test: hooks}}
spec:
  containers:
  - name: nginx
    image: nginx:alpine
    # Nothing listens there: the GET fails, and so does the hook.
    lifecycle: {preStop: {httpGet: {path: /, port: 81}}}
---
apiVersion: v1
kind: Pod
metadata: {name: stubborn, labels: {test: hooks}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox
    command: [sh, -c, "trap '' TERM; while :; do sleep 1; done"]
    lifecycle: {preStop: {sleep: {seconds: 10}}}
`;

const HOOKED = ['hooked', 'badhook', 'httphook', 'badhttp', 'stubborn'];

describe('churn with no lost requests', () => {
  let sb: Sandbox;

  /** kubectl without the sandbox's --request-timeout, which would cut a long exec stream. */
  const kubectlLong = (args: string[], timeoutMs: number) =>
    execa('kubectl', ['--cache-dir', path.join(sb.dir, 'kube-cache'), ...args], { env: sb.env, reject: false, timeout: timeoutMs, input: '' });

  const podNames = async (selector: string): Promise<string[]> => {
    const r = await sb.kubectl(['get', 'pod', '-l', selector, '-o', 'name']);
    return r.stdout.split('\n').filter(Boolean).map((n) => n.replace(/^pod\//, ''));
  };

  beforeAll(async () => {
    sb = sandbox();
    await upLab(sb, LAB, courseLabYaml(LAB));
    const file = path.join(sb.dir, 'churn.yaml');
    writeFileSync(file, MANIFESTS);
    const apply = await sb.kubectl(['apply', '-f', file]);
    expect(apply.exitCode, apply.stderr).toBe(0);
    await readyPodRows(sb, 'app=web', 3);
    await readyPodRows(sb, 'app=plain', 3);
    await until('the client pod', async () => ((await sb.kubectl(['get', 'pod', 'client', '--no-headers'])).stdout.includes('Running') ? true : undefined));
  });

  afterAll(async () => {
    await sb.nslab(['down', LAB]);
    sb.cleanup();
  });

  it('runs preStop hooks before the stop signal, inside the container, bounded by the grace period', async () => {
    const file = path.join(sb.dir, 'hooks.yaml');
    writeFileSync(file, HOOK_PODS);
    expect((await sb.kubectl(['apply', '-f', file])).exitCode).toBe(0);
    const running = await until('the hook pods running', async () => {
      const r = await sb.kubectl(['get', 'pod', '-l', 'test=hooks', '-o', 'wide', '--no-headers']);
      const p = r.stdout.trim() ? rows(r.stdout) : [];
      return p.length === HOOKED.length && p.every((c) => c[2] === 'Running') ? p : undefined;
    });
    const hookedIP = running.find((c) => c[0] === 'hooked')?.[5] ?? '';
    const t0 = Date.now();
    expect((await sb.kubectl(['delete', 'pod', ...HOOKED, '--wait=false'])).exitCode).toBe(0);

    const goneAt: Record<string, number> = {};
    let servedWhileTerminating = false;
    let shownTerminating = false;
    await until('the hook pods gone', async () => {
      const r = await sb.kubectl(['get', 'pod', '-l', 'test=hooks', '--no-headers']);
      const left = r.stdout.trim() ? rows(r.stdout) : [];
      for (const name of HOOKED) if (!left.some((c) => c[0] === name)) goneAt[name] ??= Date.now() - t0;
      if (left.find((c) => c[0] === 'hooked')?.[2] === 'Terminating') {
        shownTerminating = true;
        // While its hook sleeps, the pod still answers (from a node, where pod IPs route).
        const c = await sb.nslab(['exec', '--lab', LAB, 'node/worker', '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '1', `http://${hookedIP}/`]);
        if (c.stdout === '200') servedWhileTerminating = true;
      }
      return left.length === 0 ? true : undefined;
    }, 20_000, 100);

    expect(shownTerminating).toBe(true);
    expect(servedWhileTerminating).toBe(true);
    // hooked: its hook found the pod's hostname and slept 2 s before nginx got SIGQUIT.
    expect(goneAt['hooked']).toBeGreaterThanOrEqual(1800);
    // stubborn ignores SIGTERM: its 10 s hook is cut at the 2 s grace period, SIGKILL 2 s after the signal.
    expect(goneAt['stubborn']).toBeGreaterThanOrEqual(3500);
    expect(goneAt['stubborn']).toBeLessThan(9000);
    const events = await sb.kubectl(['get', 'events', '--field-selector', 'reason=FailedPreStopHook', '-o', 'jsonpath={range .items[*]}{.involvedObject.name}: {.message}{"\\n"}{end}']);
    expect(events.stdout.trim().split('\n').sort()).toEqual(['badhook: PreStopHook failed', 'badhttp: PreStopHook failed']);
  });

  /** One client's load, running inside a lab namespace until its count is done. */
  interface RunningLoad {
    result: Promise<LoadResult>;
    running: () => boolean;
  }

  function startLoad(where: 'console' | 'pod', url: string): RunningLoad {
    const argv = curlLoadArgv({ url, ...LOAD });
    const bound = (LOAD.count / LOAD.ratePerSecond + 20) * 1000;
    let done = false;
    const run =
      where === 'console'
        ? sb.nslab(['exec', '--lab', LAB, 'host/console', '--', ...argv], { timeoutMs: bound })
        : kubectlLong(['exec', 'client', '--', ...argv], bound).then((r) => ({ exitCode: r.exitCode ?? 124, stdout: String(r.stdout), stderr: String(r.stderr) }));
    const result = run.then((r) => {
      done = true;
      return parseLoad(r.stdout);
    });
    return { result, running: () => !done };
  }

  /** Rolls the Deployment under load from the console (NodePort) and the client pod (ClusterIP). */
  async function churn(name: string, nodePort: number): Promise<{ nodePort: LoadResult; clusterIP: LoadResult; total: LoadResult }> {
    const clusterIP = (await sb.kubectl(['get', 'svc', name, '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    const old = await podNames(`app=${name}`);
    expect(old.length).toBe(3);
    const viaNodePort = startLoad('console', `http://${WORKER}:${nodePort}/`);
    const viaClusterIP = startLoad('pod', `http://${clusterIP}/`);
    await new Promise((r) => setTimeout(r, 800));
    const restart = await sb.kubectl(['rollout', 'restart', 'deployment', name]);
    expect(restart.exitCode, restart.stderr).toBe(0);
    const status = await kubectlLong(['rollout', 'status', 'deployment', name, '--timeout=30s'], 40_000);
    expect(String(status.stdout)).toContain(`deployment "${name}" successfully rolled out`);
    await until(`the old ${name} pods gone`, async () => ((await podNames(`app=${name}`)).some((p) => old.includes(p)) ? undefined : true), 20_000, 100);
    // The whole churn, old pods' termination included, happened under load.
    expect(viaNodePort.running() && viaClusterIP.running()).toBe(true);
    const [a, b] = await Promise.all([viaNodePort.result, viaClusterIP.result]);
    return { nodePort: a, clusterIP: b, total: addLoads(a, b) };
  }

  it('rolls a Deployment with a readinessProbe and a preStop sleep under load without one failed request', async () => {
    const r = await churn('web', 30080);
    console.log(`churn with preStop: ${JSON.stringify(r)}`);
    expect(r.nodePort.requests).toBe(LOAD.count);
    expect(r.clusterIP.requests).toBe(LOAD.count);
    expect(r.total.failed).toEqual({});
    expect(r.total.failures).toBe(0);
  });

  it('without preStop, the same rollout fails requests the way a cluster does: connections refused, never HTTP errors', async () => {
    const r = await churn('plain', 30081);
    console.log(`churn without preStop: ${JSON.stringify(r)}`);
    expect(r.total.requests).toBe(2 * LOAD.count);
    for (const kind of Object.keys(r.total.failed)) expect(CONNECTION_FAILURES).toContain(kind);
  });
});
