// The course in kube-proxy's ipvs mode on a real lab (labs/course-ipvs.yaml)
// with the real kubectl, inside the scripts/vm.sh guest (a stock kernel with
// IP_VS): the lab's own checks, `ipvsadm -Ln` with both pods as Masq 1 real
// servers, curl through the ClusterIP and the NodePort, DNS, ping answered
// "Destination Port Unreachable", a deleted pod set to weight 0 at once and
// deleted once its connections drained, and scheduler sh keeping a client on
// one pod. On a kernel without IP_VS (this project's machines) every test is
// skipped, saying why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, sandbox, type Sandbox } from '../helpers/cli.js';
import { readyPodRows, until } from '../helpers/course.js';
import { kernelHasIpvs } from '../helpers/ipvs-kernel.js';
import { labNetns } from '../helpers/root-snapshot.js';

const LAB_FILE = path.join(ROOT, 'labs', 'course-ipvs.yaml');
const LAB = 'course-ipvs';
const capable = await kernelHasIpvs();
if (!capable) console.warn('test/vm: this kernel has no IP_VS or dummy link type; run these tests with `npm run test:vm` (scripts/vm.sh)');

describe.skipIf(!capable)('kube-proxy ipvs mode on a real lab (in the VM)', () => {
  let sb: Sandbox;
  let pods: Array<{ name: string; ip: string }> = [];
  let clusterIP = '';
  let nodePort = '';
  const readyPods = async () => (await readyPodRows(sb, 'app=ngx-dep', 2)).map((c) => ({ name: c[0] ?? '', ip: c[5] ?? '' }));
  const ipvsadm = async (node: string) => (await sb.nslab(['exec', '--lab', LAB, `node/${node}`, '--', 'ipvsadm', '-Ln'])).stdout;
  const inPod = (argv: string[]) => sb.kubectl(['exec', pods[0]!.name, '--', ...argv]);
  const fromConsole = (url: string) => sb.nslab(['exec', '--lab', LAB, 'host/console', '--', 'curl', '-s', '-m', '3', url]);

  beforeAll(async () => {
    sb = sandbox();
    const up = await sb.nslab(['up', LAB_FILE], { timeoutMs: 280_000 });
    expect(up.exitCode, up.stdout + up.stderr).toBe(0);
    expect(up.stdout).toContain('ipvs proxy mode');
    pods = await readyPods();
    clusterIP = (await sb.kubectl(['get', 'svc', 'ngx-svc', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    nodePort = (await sb.kubectl(['get', 'svc', 'ngx-svc', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout;
  });

  afterAll(async () => {
    await sb?.nslab(['down', LAB], { timeoutMs: 120_000 });
    sb?.cleanup();
    expect(await labNetns(`nslab-${LAB}.`)).toEqual([]);
  });

  it('passes its own checks (nslab check)', async () => {
    const check = await sb.nslab(['check', LAB_FILE], { timeoutMs: 170_000 });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/ 8 passed, 0 failed/);
  });

  it('ipvsadm -Ln on the worker shows the ClusterIP with both pods as Masq 1', async () => {
    const out = await ipvsadm('worker');
    const block = out.split(/\n(?=TCP|UDP)/).find((b) => b.startsWith(`TCP  ${clusterIP}:80 rr`)) ?? '';
    for (const p of pods) expect(block).toMatch(new RegExp(`-> ${p.ip.replaceAll('.', '\\.')}:80\\s+Masq\\s+1\\s`));
  });

  it('curl through the ClusterIP reaches both pods, the NodePort answers the console, DNS resolves', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) seen.add(/^srv : (\S+):80/.exec((await inPod(['curl', '-s', '-m', '3', `http://${clusterIP}/`])).stdout)?.[1] ?? '?');
    expect([...seen].sort()).toEqual(pods.map((p) => p.ip).sort());
    expect((await fromConsole(`http://192.168.10.220:${nodePort}/`)).stdout).toMatch(/^srv : 10\.10\.\d+\.\d+:80/);
    expect((await inPod(['curl', '-s', '-m', '5', 'http://ngx-svc/'])).stdout).toMatch(/^srv : 10\.10\.\d+\.\d+:80/);
  });

  it('ping of the ClusterIP says Destination Port Unreachable (KUBE-IPVS-FILTER)', async () => {
    const ping = await inPod(['ping', '-c1', '-W2', clusterIP]);
    expect(ping.exitCode).toBe(1);
    expect(ping.stdout).toContain('Destination Port Unreachable');
  });

  it('a deleted pod is set to weight 0 at once, gets no new connections, and leaves once its connections drained', async () => {
    const victim = pods[1]!;
    const rsLines = (out: string) => out.split('\n').filter((l) => l.includes(`-> ${victim.ip}:80 `));
    expect((await sb.kubectl(['delete', 'pod', victim.name, '--wait=false'])).exitCode).toBe(0);
    await until(
      `${victim.ip} at weight 0 or gone in the worker's virtual servers`,
      async () => (rsLines(await ipvsadm('worker')).every((l) => /Masq\s+0\s/.test(l)) ? true : undefined),
      30_000,
      500,
    );
    pods = await readyPods();
    for (let i = 0; i < 4; i++) {
      const got = /^srv : (\S+):80/.exec((await fromConsole(`http://192.168.10.220:${nodePort}/`)).stdout)?.[1];
      expect(got).toBeDefined();
      expect(got).not.toBe(victim.ip);
    }
    // IPVS keeps a closed connection (InActConn) for its TIME_WAIT, 2 minutes; then the real server is deleted.
    let last = '';
    const gone = await until(
      `${victim.ip} deleted once drained`,
      async () => {
        last = await ipvsadm('worker');
        return rsLines(last).length === 0 ? true : undefined;
      },
      170_000,
      2000,
    ).catch(() => false);
    expect(gone, last).toBe(true);
  }, 240_000);
});

describe.skipIf(!capable)('cluster.ipvs.scheduler sh (in the VM)', () => {
  it('keeps one client on one pod', async () => {
    const sb = sandbox();
    const file = path.join(sb.dir, 'course-ipvs-sh.yaml');
    writeFileSync(
      file,
      readFileSync(LAB_FILE, 'utf8')
        .replace('metadata: {name: course-ipvs}', 'metadata: {name: ipvs-sh}')
        .replace('scheduler: rr', 'scheduler: sh')
        // The manifests are named relative to labs/; this copy lives elsewhere.
        .replace(/^ {2}manifests: .*$/m, (line) => line.replaceAll('course/', `${path.join(ROOT, 'labs', 'course')}/`))
        .replace(/\n  checks:[\s\S]*$/, '\n'),
    );
    try {
      const up = await sb.nslab(['up', file], { timeoutMs: 280_000 });
      expect(up.exitCode, up.stdout + up.stderr).toBe(0);
      const ip = (await sb.kubectl(['get', 'svc', 'ngx-svc', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
      const out = (await sb.nslab(['exec', '--lab', 'ipvs-sh', 'node/worker', '--', 'ipvsadm', '-Ln'])).stdout;
      expect(out).toContain(`TCP  ${ip}:80 sh`);
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        seen.add(/^srv : (\S+)/.exec((await sb.nslab(['exec', '--lab', 'ipvs-sh', 'host/console', '--', 'curl', '-s', '-m', '3', `http://192.168.10.220:${(await sb.kubectl(['get', 'svc', 'ngx-svc', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout}/`])).stdout)?.[1] ?? '?');
      }
      expect(seen.size).toBe(1);
    } finally {
      await sb.nslab(['down', 'ipvs-sh'], { timeoutMs: 120_000 });
      sb.cleanup();
    }
  }, 600_000);
});
