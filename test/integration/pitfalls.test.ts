// The course's pitfalls as labs: each comes up, passes its own checks (which
// assert what a real cluster shows) and goes down clean; kubectl sees what
// the course's readers saw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ROOT, rows, sandbox, type Sandbox } from '../helpers/cli.js';
import { labNetns } from '../helpers/root-snapshot.js';

const PITFALLS = path.join(ROOT, 'labs', 'pitfalls');

describe('labs/pitfalls', () => {
  let sb: Sandbox;
  beforeAll(() => {
    sb = sandbox();
  });
  afterAll(() => sb.cleanup());

  async function withLab(name: string, body: () => Promise<void>): Promise<void> {
    try {
      const up = await sb.nslab(['up', path.join(PITFALLS, `${name}.yaml`)], { timeoutMs: 120_000 });
      expect(up.exitCode, up.stdout + up.stderr).toBe(0);
      const check = await sb.nslab(['check', path.join(PITFALLS, `${name}.yaml`)], { timeoutMs: 180_000 });
      expect(check.exitCode, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toMatch(/ \d+ passed, 0 failed/);
      await body();
    } finally {
      await sb.nslab(['down', name]);
    }
    expect(await labNetns(`nslab-${name}.`)).toEqual([]);
  }

  it('vbox-dual-nic: INTERNAL-IP 10.0.2.15 twice, cross-node pods dead, exec into the worker fails', async () => {
    await withLab('vbox-dual-nic', async () => {
      const nodes = await sb.kubectl(['get', 'nodes', '-o', 'wide']);
      expect(nodes.exitCode, nodes.stderr).toBe(0);
      const table = rows(nodes.stdout);
      const ipCol = table[0]?.indexOf('INTERNAL-IP') ?? -1;
      expect(table.slice(1).map((r) => [r[0], r[ipCol]])).toEqual([
        ['master', '10.0.2.15'],
        ['worker', '10.0.2.15'],
      ]);
      const annotations = await sb.kubectl(['get', 'node', 'worker', '-o', 'jsonpath={.metadata.annotations}']);
      expect(annotations.stdout).toContain('"flannel.alpha.coreos.com/public-ip":"10.0.2.15"');
      expect(annotations.stdout).toContain('"flannel.alpha.coreos.com/backend-type":"vxlan"');
      expect(annotations.stdout).toMatch(/backend-data":"\{\\"VNI\\":1,\\"VtepMAC\\":\\"[0-9a-f:]{17}\\"\}"/);
      const exec = await sb.kubectl(['exec', 'web-worker', '--', 'hostname']);
      expect(exec.exitCode).not.toBe(0);
      expect(exec.stdout + exec.stderr).toContain('pod does not exist');
      const ok = await sb.kubectl(['exec', 'web-master', '--', 'hostname']);
      expect(ok.stdout.trim()).toBe('web-master');
      const doctor = await sb.nslab(['doctor', 'vbox-dual-nic', '-o', 'json']);
      expect(doctor.exitCode, doctor.stderr).toBe(1);
      const report = JSON.parse(doctor.stdout) as { findings: Array<{ id: string; nodes: string[] }> };
      expect(report.findings.map((f) => `${f.id} ${f.nodes.join(',')}`)).toEqual([
        'shared-internal-ip master,worker',
        'flannel-public-ip-unreachable master',
        'flannel-public-ip-unreachable worker',
        'fdb-own-address master',
        'fdb-own-address worker',
        'coredns-unreachable worker',
      ]);
      const text = await sb.nslab(['doctor', 'vbox-dual-nic']);
      expect(text.stdout).toContain('--iface=enp0s8');
      expect(text.stdout).toContain('dst 10.0.2.15 self permanent');
    });
  }, 420_000);

  it('vbox-dual-nic-fixed: each node its own address, pods, DNS and exec work over vxlan', async () => {
    await withLab('vbox-dual-nic-fixed', async () => {
      const nodes = await sb.kubectl(['get', 'nodes', '-o', 'wide']);
      const table = rows(nodes.stdout);
      const ipCol = table[0]?.indexOf('INTERNAL-IP') ?? -1;
      expect(table.slice(1).map((r) => [r[0], r[ipCol]])).toEqual([
        ['master', '192.168.56.101'],
        ['worker', '192.168.56.102'],
      ]);
      const exec = await sb.kubectl(['exec', 'web-worker', '--', 'hostname']);
      expect(exec.stdout.trim(), exec.stderr).toBe('web-worker');
      const doctor = await sb.nslab(['doctor', 'vbox-dual-nic-fixed']);
      expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).toContain('no problems found');
    });
  }, 420_000);

  it('vbox-dual-nic fixed in place: node set --node-ip and --iface, then Nodes, FDB, exec, pods and DNS follow', async () => {
    const name = 'vbox-dual-nic';
    try {
      const up = await sb.nslab(['up', path.join(PITFALLS, `${name}.yaml`)], { timeoutMs: 120_000 });
      expect(up.exitCode, up.stdout + up.stderr).toBe(0);
      const bad = await sb.nslab(['node', 'set', 'worker', '--node-ip', '10.9.9.9']);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toContain('failed to validate nodeIP: node IP: "10.9.9.9" not found in the host\'s network interfaces');
      for (const [node, ip] of [['master', '192.168.56.101'], ['worker', '192.168.56.102']] as const) {
        const set = await sb.nslab(['node', 'set', node, '--node-ip', ip, '--iface', 'enp0s8']);
        expect(set.exitCode, set.stdout + set.stderr).toBe(0);
        expect(set.stdout).toContain(`INTERNAL-IP 10.0.2.15 -> ${ip}`);
      }
      const table = rows((await sb.kubectl(['get', 'nodes', '-o', 'wide'])).stdout);
      const ipCol = table[0]?.indexOf('INTERNAL-IP') ?? -1;
      expect(table.slice(1).map((r) => r[ipCol])).toEqual(['192.168.56.101', '192.168.56.102']);
      const fdb = await sb.nslab(['exec', 'node/master', '--', 'bridge', 'fdb', 'show', 'dev', 'flannel.1']);
      expect(fdb.stdout).toContain('dst 192.168.56.102 self permanent');
      const exec = await sb.kubectl(['exec', 'web-worker', '--', 'hostname']);
      expect(exec.stdout.trim(), exec.stderr).toBe('web-worker');
      const dns = await sb.nslab(['exec', 'node/worker', '--', 'dig', '+short', '+tries=1', '+time=2', '@10.96.0.10', 'kubernetes.default.svc.cluster.local']);
      expect(dns.stdout.trim(), dns.stderr).toBe('10.96.0.1');
      const doctor = await sb.nslab(['doctor', name]);
      expect(doctor.exitCode, doctor.stdout).toBe(0);
    } finally {
      await sb.nslab(['down', name]);
    }
    expect(await labNetns(`nslab-${name}.`)).toEqual([]);
  }, 300_000);

  // The other pitfalls and their twins: each passes its own checks, and doctor names the pitfall (nothing on a twin).
  const OTHERS: Array<[string, string[]]> = [
    ['hairpin-off', ['hairpin-off worker']],
    ['hairpin-on', []],
    ['br-netfilter-off', ['bridge-nf-call-iptables-off master']],
    ['br-netfilter-on', []],
    ['coredns-unreachable', ['flannel-public-ip-unreachable infra', 'fdb-unreachable master', 'fdb-unreachable worker', 'coredns-unreachable master', 'coredns-unreachable worker']],
    ['coredns-reachable', []],
  ];
  for (const [name, expected] of OTHERS) {
    it(`${name}: checks pass, doctor finds ${expected.length ? expected.join('; ') : 'nothing'}`, async () => {
      await withLab(name, async () => {
        const doctor = await sb.nslab(['doctor', name, '-o', 'json']);
        expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(expected.length ? 1 : 0);
        const report = JSON.parse(doctor.stdout) as { findings: Array<{ id: string; nodes: string[] }> };
        expect(report.findings.map((f) => `${f.id} ${f.nodes.join(',')}`)).toEqual(expected);
      });
    }, 300_000);
  }

  it('doctor finds nothing on a course lab (vxlan, the default pod network)', async () => {
    try {
      const up = await sb.nslab(['up', path.join(ROOT, 'labs', 'course-dns.yaml')], { timeoutMs: 120_000 });
      expect(up.exitCode, up.stdout + up.stderr).toBe(0);
      const doctor = await sb.nslab(['doctor', 'course-dns', '-o', 'json']);
      expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(0);
      expect(JSON.parse(doctor.stdout)).toEqual({ lab: 'course-dns', healthy: true, findings: [] });
    } finally {
      await sb.nslab(['down', 'course-dns']);
    }
    expect(await labNetns('nslab-course-dns.')).toEqual([]);
  }, 300_000);
});
