// The course's workloads on a real lab, driven by the real kubectl: the
// ConfigMap and the nginx Deployment, pods on both nodes answering curl,
// exec, logs, delete/replace, scale, restart of a killed nginx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { rows, sandbox, type Sandbox } from '../helpers/cli.js';
import { courseLabYaml, until, upLab } from '../helpers/course.js';
import { labNetns } from '../helpers/root-snapshot.js';

const MANIFESTS = path.resolve(import.meta.dirname, '../../../shared/reference/manifests');
const LAB = 'it-pods';

interface PodRow {
  name: string;
  ready: string;
  status: string;
  restarts: string;
  ip: string;
  node: string;
}


async function netnsPids(netns: string): Promise<number[]> {
  const r = await execa('ip', ['netns', 'pids', netns], { reject: false });
  return String(r.stdout).split('\n').map(Number).filter((n) => n > 1);
}

function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

describe('pods for real', () => {
  let sb: Sandbox;

  const pods = async (selector = 'app=ngx-dep'): Promise<PodRow[]> => {
    const r = await sb.kubectl(['get', 'pod', '-l', selector, '-o', 'wide', '--no-headers']);
    if (r.exitCode !== 0 || !r.stdout.trim()) return [];
    return rows(r.stdout).map((c) => ({
      name: c[0] ?? '',
      ready: c[1] ?? '',
      status: c[2] ?? '',
      restarts: c[3] ?? '',
      ip: c[5] ?? '',
      node: c[6] ?? '',
    }));
  };
  const runningPods = (n: number) =>
    until(`${n} running pods`, async () => {
      const p = await pods();
      return p.length === n && p.every((x) => x.status === 'Running' && x.ready === '1/1') ? p : undefined;
    });

  beforeAll(async () => {
    sb = sandbox();
    await upLab(sb, LAB, courseLabYaml(LAB));
  });

  afterAll(async () => {
    await sb.nslab(['down', LAB]);
    sb.cleanup();
  });

  it("applies the course's ConfigMap and Deployment unchanged and spreads 2 pods over both nodes", async () => {
    const apply = await sb.kubectl(['apply', '-f', path.join(MANIFESTS, 'ngx-conf.yml'), '-f', path.join(MANIFESTS, 'ngx-dep.yml')]);
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('configmap/ngx-conf created');
    expect(apply.stdout).toContain('deployment.apps/ngx-dep created');
    const p = await runningPods(2);
    expect(p.map((x) => x.name).every((n) => /^ngx-dep-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/.test(n))).toBe(true);
    expect(new Set(p.map((x) => x.node))).toEqual(new Set(['master', 'worker']));
    expect(p.every((x) => /^10\.10\.[01]\.\d+$/.test(x.ip))).toBe(true);
    const deploy = await sb.kubectl(['get', 'deploy', 'ngx-dep', '--no-headers']);
    expect(rows(deploy.stdout)[0]?.slice(0, 4)).toEqual(['ngx-dep', '2/2', '2', '2']);
  });

  it('a second apply of the same files changes nothing', async () => {
    const again = await sb.kubectl(['apply', '-f', path.join(MANIFESTS, 'ngx-conf.yml'), '-f', path.join(MANIFESTS, 'ngx-dep.yml')]);
    expect(again.stdout).toContain('configmap/ngx-conf unchanged');
    expect(again.stdout).toContain('deployment.apps/ngx-dep unchanged');
  });

  it("answers curl from the other pod with the ConfigMap's page", async () => {
    const [a, b] = await runningPods(2);
    const r = await sb.kubectl(['exec', a!.name, '--', 'curl', '-s', `http://${b!.ip}/`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`srv : ${b!.ip}:80`);
    expect(r.stdout).toContain(`host: ${b!.name}`);
    expect(r.stdout).toMatch(/uri : GET 10\.10\.\d+\.\d+ \//);
    expect(r.stdout).toMatch(/date: \d{4}-\d\d-\d\dT/);
  });

  it('exec sees the pod: hostname, resolv.conf, exit codes, a TTY', async () => {
    const [a] = await runningPods(2);
    const host = await sb.kubectl(['exec', a!.name, '--', 'hostname']);
    expect(host.stdout.trim()).toBe(a!.name);
    const resolv = await sb.kubectl(['exec', a!.name, '--', 'cat', '/etc/resolv.conf']);
    expect(resolv.stdout).toContain('nameserver 10.96.0.10');
    expect(resolv.stdout).toContain('search default.svc.cluster.local svc.cluster.local cluster.local');
    expect(resolv.stdout).toContain('options ndots:5');
    const code = await sb.kubectl(['exec', a!.name, '--', 'sh', '-c', 'exit 3']);
    expect(code.exitCode).toBe(3);
    const tty = await execa('script', ['-qec', `kubectl --request-timeout=10s exec -it ${a!.name} -- sh -c 'tty; exit 4'`, '/dev/null'], {
      env: sb.env,
      reject: false,
      timeout: 20_000,
    });
    expect(tty.stdout).toContain('/dev/pts/');
    expect(tty.exitCode).toBe(4);
    const viaNslab = await sb.nslab(['exec', '--lab', LAB, `pod/${a!.name}`, '--', 'hostname']);
    expect(viaNslab.stdout.trim()).toBe(a!.name);
  });

  it("logs show nginx's access log", async () => {
    const [a, b] = await runningPods(2);
    await sb.kubectl(['exec', a!.name, '--', 'curl', '-s', `http://${b!.ip}/from-test`]);
    const logs = await until('the access log line', async () => {
      const r = await sb.kubectl(['logs', b!.name]);
      return r.stdout.includes('GET /from-test') ? r.stdout : undefined;
    });
    expect(logs).toContain(`${a!.ip} - - [`);
  });

  it('deleting a pod replaces it with a new name and a new IP', async () => {
    const before = await runningPods(2);
    const victim = before[0]!;
    const del = await sb.kubectl(['delete', 'pod', victim.name], { timeoutMs: 40_000 });
    expect(del.exitCode, del.stderr).toBe(0);
    const after = await runningPods(2);
    expect(after.map((p) => p.name)).not.toContain(victim.name);
    expect(after.map((p) => p.ip)).not.toContain(victim.ip);
    expect((await labNetns(`nslab-${LAB}.pod-default.${victim.name}`)).length).toBe(0);
  });

  it('restarts nginx when it dies, counting RESTARTS', async () => {
    const [a] = await runningPods(2);
    const [netns] = (await labNetns(`nslab-${LAB}.pod-default.`)).filter((n) => n.endsWith(a!.name));
    const before = await netnsPids(netns!);
    expect(before.length).toBeGreaterThan(1);
    await sb.kubectl(['exec', a!.name, '--', 'sh', '-c', 'kill -9 $(cat /var/run/nginx.pid)']);
    const restarted = await until('a restart', async () => {
      const p = (await pods()).find((x) => x.name === a!.name);
      return p && p.restarts.startsWith('1') && p.status === 'Running' ? p : undefined;
    }, 30_000);
    expect(restarted.ready).toBe('1/1');
    // The killed master's workers died with it, as a container's processes do with its init.
    const after = new Set(await netnsPids(netns!));
    const survivors = before.filter((pid) => after.has(pid) && processName(pid).startsWith('nginx: worker'));
    expect(survivors).toEqual([]);
  });

  it('scales, and deletes the Deployment with its pods', async () => {
    const scale = await sb.kubectl(['scale', 'deploy', 'ngx-dep', '--replicas=4']);
    expect(scale.exitCode, scale.stderr).toBe(0);
    const four = await runningPods(4);
    const perNode = four.reduce<Record<string, number>>((m, p) => ({ ...m, [p.node]: (m[p.node] ?? 0) + 1 }), {});
    expect(perNode).toEqual({ master: 2, worker: 2 });
    const del = await sb.kubectl(['delete', 'deploy', 'ngx-dep'], { timeoutMs: 40_000 });
    expect(del.exitCode, del.stderr).toBe(0);
    await until('no pods', async () => ((await pods()).length === 0 ? true : undefined), 30_000);
    expect(await labNetns(`nslab-${LAB}.pod-default.`)).toEqual([]);
  });
});
