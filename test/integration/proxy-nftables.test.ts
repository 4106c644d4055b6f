// The course in kube-proxy's nftables mode on a real lab (labs/course-nftables.yaml),
// driven by the real kubectl: the lab's own checks, then what a learner does
// (curl to the ClusterIP, NodePort from the console, DNS, delete a pod, a
// rollout) with the node's `table ip kube-proxy` following, ping to a
// ClusterIP answered "Destination Port Unreachable", an unused port refused,
// no NodePort on 127.0.0.1 and nothing of iptables mode in the nodes. Also:
// `proxyMode: ipvs` is refused by `up` with exit 2 before anything exists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, rows, sandbox, type Sandbox } from '../helpers/cli.js';
import { readyPodRows, until } from '../helpers/course.js';
import { labNetns, rootNetnsSnapshot } from '../helpers/root-snapshot.js';

const LAB_FILE = path.join(ROOT, 'labs', 'course-nftables.yaml');
const LAB = 'course-nftables';
const NODES = ['master', 'worker'];

describe('kube-proxy nftables mode on a real lab', () => {
  let sb: Sandbox;
  let pods: Array<{ name: string; ip: string }> = [];
  let clusterIP = '';
  let nodePort = '';
  let rootBefore: Record<string, string> = {};

  const readyPods = async () => (await readyPodRows(sb, 'app=ngx-dep', 2)).map((c) => ({ name: c[0] ?? '', ip: c[5] ?? '' }));
  const table = async (node: string) => (await sb.nslab(['exec', '--lab', LAB, `node/${node}`, '--', 'nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout;
  const fromConsole = (url: string) => sb.nslab(['exec', '--lab', LAB, 'host/console', '--', 'curl', '-s', '-m', '2', url]);
  const inPod = (argv: string[]) => sb.kubectl(['exec', pods[0]!.name, '--', ...argv]);

  beforeAll(async () => {
    rootBefore = await rootNetnsSnapshot();
    sb = sandbox();
    const up = await sb.nslab(['up', LAB_FILE], { timeoutMs: 120_000 });
    expect(up.exitCode, up.stdout + up.stderr).toBe(0);
    expect(up.stdout).toContain('nftables proxy mode');
    pods = await readyPods();
    clusterIP = (await sb.kubectl(['get', 'svc', 'ngx-svc', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    nodePort = (await sb.kubectl(['get', 'svc', 'ngx-svc', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout;
  }, 180_000);

  afterAll(async () => {
    await sb.nslab(['down', LAB], { timeoutMs: 60_000 });
    sb.cleanup();
    expect(await labNetns(`nslab-${LAB}.`)).toEqual([]);
    expect(await rootNetnsSnapshot()).toEqual(rootBefore);
  }, 90_000);

  it('passes its own checks (nslab check)', async () => {
    const check = await sb.nslab(['check', LAB_FILE], { timeoutMs: 120_000 });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/ 9 passed, 0 failed/);
  }, 150_000);

  it("writes one table ip kube-proxy per node and nothing of iptables mode", async () => {
    for (const node of NODES) {
      const t = await table(node);
      expect(t).toContain('table ip kube-proxy {');
      expect(t).toContain('comment "rules for kube-proxy"');
      expect(t).toMatch(/chain nat-prerouting \{\n\s+type nat hook prerouting priority dstnat; policy accept;\n\s+jump services\n/);
      expect(t).toContain('masquerade fully-random');
      expect(t).toMatch(new RegExp(`${clusterIP.replaceAll('.', '\\.')} \\. tcp \\. 80 : goto service-[A-Z2-7]{8}-default/ngx-svc/tcp/`));
      for (const p of pods) expect(t).toContain(`dnat to ${p.ip}:80`);
      const nat = (await sb.nslab(['exec', '--lab', LAB, `node/${node}`, '--', 'iptables-save', '-t', 'nat'])).stdout;
      expect(nat).not.toContain('KUBE-SVC');
      expect(nat).not.toContain('KUBE-SERVICES');
    }
  });

  it('spreads curl to the ClusterIP over both pods and resolves the Service by name', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 2; i++) {
      const m = /^srv : (\S+):80/.exec((await inPod(['curl', '-s', '-m', '2', `http://${clusterIP}/`])).stdout);
      if (m?.[1]) seen.add(m[1]);
    }
    expect([...seen].sort()).toEqual(pods.map((p) => p.ip).sort());
    const byName = await inPod(['curl', '-s', '-m', '3', 'http://ngx-svc/']);
    expect(byName.stdout).toMatch(/^srv : 10\.10\.\d+\.\d+:80/);
  });

  it('answers ping to the ClusterIP with Destination Port Unreachable, drops unallocated addresses and refuses an unused port', async () => {
    const ping = await inPod(['ping', '-c1', '-W1', clusterIP]);
    expect(ping.exitCode).toBe(1);
    expect(ping.stdout).toContain('Destination Port Unreachable');
    // An address of the service CIDR no Service has: dropped, so no answer of any kind.
    const unallocated = await inPod(['ping', '-c1', '-W1', '10.111.255.250']);
    expect(unallocated.exitCode).toBe(1);
    expect(unallocated.stdout).toContain('1 packets transmitted, 0 received');
    expect(unallocated.stdout).not.toContain('Unreachable');
    const refused = await inPod(['curl', '-sS', '-m', '2', `http://${clusterIP}:8080/`]);
    expect(refused.exitCode).toBe(7);
    expect(refused.stderr).toContain("Couldn't connect to server");
  });

  it('serves the NodePort to the console on both node addresses, never on 127.0.0.1', async () => {
    for (const nodeIP of ['192.168.10.210', '192.168.10.220']) {
      expect((await fromConsole(`http://${nodeIP}:${nodePort}/`)).stdout).toMatch(/^srv : 10\.10\.\d+\.\d+:80\nhost: ngx-dep-/);
    }
    for (const node of NODES) {
      const local = await sb.nslab(['exec', '--lab', LAB, `node/${node}`, '--', 'curl', '-sS', '-m', '2', `http://127.0.0.1:${nodePort}/`]);
      expect(local.exitCode).toBe(7);
    }
  });

  it('rejects at once a Service without endpoints', async () => {
    expect((await sb.kubectl(['create', 'service', 'clusterip', 'nothing', '--tcp=80:80'])).exitCode).toBe(0);
    const ip = (await sb.kubectl(['get', 'svc', 'nothing', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    const r = await until('the no-endpoint-services element', async () => {
      const x = await inPod(['curl', '-sS', '-m', '2', `http://${ip}/`]);
      return x.exitCode === 7 ? x : undefined;
    });
    expect(r.stderr).toContain("Couldn't connect to server");
    expect(await table('worker')).toMatch(new RegExp(`${ip.replaceAll('.', '\\.')} \\. tcp \\. 80 comment "default/nothing:80-80" : goto reject-chain`));
  });

  it('follows a deleted pod on every node while the NodePort keeps answering', async () => {
    const victim = pods[1]!;
    expect((await sb.kubectl(['delete', 'pod', victim.name, '--wait=false'])).exitCode).toBe(0);
    const codes: string[] = [];
    await until(
      `${victim.ip} gone from every node's table`,
      async () => {
        codes.push((await sb.nslab(['exec', '--lab', LAB, 'host/console', '--', 'curl', '-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://192.168.10.210:${nodePort}/`])).stdout);
        const tables = await Promise.all(NODES.map(table));
        return tables.every((t) => !t.includes(`dnat to ${victim.ip}:80`)) ? true : undefined;
      },
      5000,
      50,
    );
    pods = await readyPods();
    for (let i = 0; i < 10; i++) codes.push((await fromConsole(`http://192.168.10.220:${nodePort}/`)).stdout.slice(0, 6));
    expect(codes.filter((c) => c !== '200' && c !== 'srv : ')).toEqual([]);
  });

  it('moves the Service to the new pods of a rollout', async () => {
    const old = pods.map((p) => p.ip);
    expect((await sb.kubectl(['rollout', 'restart', 'deployment', 'ngx-dep'])).exitCode).toBe(0);
    const status = await sb.kubectl(['rollout', 'status', 'deployment', 'ngx-dep', '--timeout=60s'], { timeoutMs: 70_000 });
    expect(status.exitCode, status.stderr).toBe(0);
    pods = await until('two new ready pods', async () => {
      const p = await readyPods();
      return p.every((x) => !old.includes(x.ip)) ? p : undefined;
    });
    await until('the new pods in every table', async () => {
      const tables = await Promise.all(NODES.map(table));
      return tables.every((t) => pods.every((p) => t.includes(`dnat to ${p.ip}:80`)) && old.every((ip) => !t.includes(`dnat to ${ip}:80`))) ? true : undefined;
    });
    expect((await inPod(['curl', '-s', '-m', '2', `http://${clusterIP}/`])).stdout).toMatch(/^srv : 10\.10\.\d+\.\d+:80/);
    expect((await fromConsole(`http://192.168.10.220:${nodePort}/`)).stdout).toMatch(/^srv : /);
  }, 120_000);

  it('keeps a client on one pod with sessionAffinity ClientIP, and external clients on local pods with externalTrafficPolicy Local', async () => {
    const patch = await sb.kubectl(['patch', 'svc', 'ngx-svc', '-p', '{"spec":{"sessionAffinity":"ClientIP","externalTrafficPolicy":"Local"}}']);
    expect(patch.exitCode, patch.stderr).toBe(0);
    await until('the affinity sets', async () => ((await table('worker')).includes('set affinity-') ? true : undefined));
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add(/^srv : (\S+)/.exec((await inPod(['curl', '-s', '-m', '2', `http://${clusterIP}/`])).stdout)?.[1] ?? '?');
    expect(seen.size).toBe(1);
    const rowsNow = await readyPodRows(sb, 'app=ngx-dep', 2);
    for (const [node, nodeIP] of [['master', '192.168.10.210'], ['worker', '192.168.10.220']] as const) {
      const local = rowsNow.filter((c) => c[6] === node).map((c) => `${c[5]}:80`);
      if (local.length === 0) continue;
      for (let i = 0; i < 6; i++) {
        const got = /^srv : (\S+)/.exec((await fromConsole(`http://${nodeIP}:${nodePort}/`)).stdout)?.[1];
        expect(local).toContain(got);
      }
    }
  });
});

describe('proxyMode ipvs', () => {
  it('is refused by nslab up with exit 2, creating nothing', async () => {
    const sb = sandbox();
    try {
      const file = path.join(sb.dir, 'ipvs.yaml');
      writeFileSync(file, readFileSync(LAB_FILE, 'utf8').replace('metadata: {name: course-nftables}', 'metadata: {name: it-ipvs}').replace('cluster: {proxyMode: nftables}', 'cluster: {proxyMode: ipvs}').replace(/^  manifests: .*\n/m, ''));
      const up = await sb.nslab(['up', file]);
      expect(up.exitCode).toBe(2);
      // This machine's kernel has no IP_VS: the kernel probe refuses it (proxy-ipvs-refused.test.ts).
      expect(up.stderr).toContain('nslab: spec.cluster.proxyMode "ipvs" needs IP_VS');
      expect(await labNetns('nslab-it-ipvs.')).toEqual([]);
      expect(rows((await sb.nslab(['list'])).stdout).filter((r) => r[0] === 'it-ipvs')).toEqual([]);
    } finally {
      await sb.nslab(['down', 'it-ipvs']);
      sb.cleanup();
    }
  });
});
