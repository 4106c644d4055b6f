// The foundation as a user meets it: `nslab up` the course's cluster, the
// real kubectl against it, exec into machines, `nslab down`, and nothing left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { rows, sandbox, type Sandbox } from '../helpers/cli.js';
import { labCgroupExists, labNetns, rootNetnsSnapshot, strayBaseline, strayProcesses } from '../helpers/root-snapshot.js';

describe('the default lab, end to end', () => {
  let sb: Sandbox;
  let before: Record<string, string>;
  let baseline: Set<number>;
  let upOutput = '';

  beforeAll(async () => {
    sb = sandbox();
    before = await rootNetnsSnapshot();
    baseline = await strayBaseline();
    const up = await sb.nslab(['up']);
    upOutput = up.stdout + up.stderr;
    expect(up.exitCode, upOutput).toBe(0);
  });

  afterAll(async () => {
    await sb.nslab(['down', 'default']);
    sb.cleanup();
  });

  it('reports each step with its time and a summary', () => {
    expect(upOutput).toMatch(/✓ Created 4 network namespaces.*\d+ ms/);
    expect(upOutput).toMatch(/✓ Started control plane at https:\/\/127\.0\.0\.1:\d+/);
    expect(upOutput).toMatch(/Lab "default" is up in/);
    expect(upOutput).toContain('master');
    expect(upOutput).toContain('192.168.10.220');
  });

  it('makes its context current in $KUBECONFIG', () => {
    const doc = YAML.parse(readFileSync(sb.kubeconfig, 'utf8'));
    expect(doc['current-context']).toBe('nslab-default');
  });

  it('kubectl get nodes -o wide shows both nodes Ready with the kubelet-chosen IPs', async () => {
    const r = await sb.kubectl(['get', 'nodes', '-o', 'wide']);
    expect(r.exitCode, r.stderr).toBe(0);
    const [header, ...nodes] = rows(r.stdout);
    expect(header?.slice(0, 6)).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP']);
    expect(nodes.map((n) => [n[0], n[1], n[2], n[5]])).toEqual([
      ['master', 'Ready', 'control-plane', '192.168.10.210'],
      ['worker', 'Ready', '<none>', '192.168.10.220'],
    ]);
  });

  it('kubectl get ns lists the four namespaces of a fresh cluster', async () => {
    const r = await sb.kubectl(['get', 'ns']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(rows(r.stdout).slice(1).map((x) => [x[0], x[1]])).toEqual([
      ['default', 'Active'],
      ['kube-node-lease', 'Active'],
      ['kube-public', 'Active'],
      ['kube-system', 'Active'],
    ]);
  });

  it('kubectl api-resources shows svc as a core v1 resource', async () => {
    const r = await sb.kubectl(['api-resources']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^services\s+svc\s+v1\s+true\s+Service$/m);
    expect(r.stdout).toMatch(/^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
  });

  it('kubectl get svc shows the kubernetes Service at 10.96.0.1:443', async () => {
    const r = await sb.kubectl(['get', 'svc']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(rows(r.stdout)[1]?.slice(0, 5)).toEqual(['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
  });

  it('refuses requests without the lab credentials', async () => {
    const doc = YAML.parse(readFileSync(sb.kubeconfig, 'utf8'));
    const server: string = doc.clusters.find((c: { name: string }) => c.name === 'nslab-default').cluster.server;
    const r = await execa('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', `${server}/api/v1/namespaces`], { reject: false });
    expect(r.stdout).toBe('401');
  });

  it('nslab kubeconfig prints a kubeconfig that works on its own', async () => {
    const r = await sb.nslab(['kubeconfig', 'default']);
    expect(r.exitCode, r.stderr).toBe(0);
    const file = `${sb.dir}/printed-kubeconfig`;
    await import('node:fs/promises').then((fs) => fs.writeFile(file, r.stdout, { mode: 0o600 }));
    const get = await sb.kubectl(['get', 'nodes', '-o', 'name'], { kubeconfig: file });
    expect(get.stdout.trim().split('\n')).toEqual(['node/master', 'node/worker']);
  });

  it('runs commands inside nodes and hosts', async () => {
    const route = await sb.nslab(['exec', 'node/worker', '--', 'ip', 'route']);
    expect(route.exitCode, route.stderr).toBe(0);
    expect(route.stdout).toContain('10.10.0.0/24 via 192.168.10.210 dev eth0');
    expect(route.stdout).toContain('10.10.1.0/24 dev cni0 proto kernel scope link src 10.10.1.1');
    const ping = await sb.nslab(['exec', 'host/console', '--', 'ping', '-c1', '-W2', '192.168.10.220']);
    expect(ping.exitCode, ping.stdout + ping.stderr).toBe(0);
    expect(ping.stdout).toContain('1 received');
    const fails = await sb.nslab(['exec', 'node/worker', '--', 'sh', '-c', 'exit 7']);
    expect(fails.exitCode).toBe(7);
  });

  it('sets up each node as flannel and kubeadm expect', async () => {
    const sysctl = await sb.nslab([
      'exec', 'node/master', '--', 'sysctl', '-n', 'net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables',
    ]);
    expect(sysctl.stdout.trim().split('\n')).toEqual(['1', '1']);
    const cni = await sb.nslab(['exec', 'node/master', '--', 'ip', '-4', '-o', 'addr', 'show', 'cni0']);
    expect(cni.stdout).toContain('10.10.0.1/24');
    const hostFwd = await sb.nslab(['exec', 'host/console', '--', 'sysctl', '-n', 'net.ipv4.ip_forward']);
    expect(hostFwd.stdout.trim()).toBe('0');
  });

  it('says what runs, in text and JSON', async () => {
    const status = await sb.nslab(['status', '-o', 'json']);
    expect(status.exitCode, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.state).toBe('Running');
    expect(s.namespaces).toMatchObject({ expected: 4, present: 4, missing: [] });
    const list = await sb.nslab(['list']);
    expect(list.stdout).toMatch(/^default\s+Running\s+2\s+1\s+https:/m);
  });

  it('treats a second up of a running lab as harmless', async () => {
    const again = await sb.nslab(['up']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('already up');
    const nodes = await sb.kubectl(['get', 'nodes', '-o', 'name']);
    expect(nodes.exitCode).toBe(0);
  });

  it('down removes every namespace, process, file and the context, and never touched the root netns', async () => {
    const down = await sb.nslab(['down']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await labNetns('nslab-default.')).toEqual([]);
    expect(existsSync('/run/nslab/default')).toBe(false);
    const pgrep = await execa('pgrep', ['-f', 'controlplane/daemon.js --lab default'], { reject: false });
    expect(pgrep.stdout).toBe('');
    // Also no process left in a namespace that lost its name (pods' namespaces are deleted before their processes die).
    expect(await strayProcesses('nslab-default.', baseline)).toEqual([]);
    expect(labCgroupExists('default')).toBe(false);
    const doc = YAML.parse(readFileSync(sb.kubeconfig, 'utf8'));
    expect(doc.contexts ?? []).toEqual([]);
    expect(doc['current-context']).toBe('');
    expect(await rootNetnsSnapshot()).toEqual(before);
  });
});
