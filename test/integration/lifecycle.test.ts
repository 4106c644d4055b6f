// Labs in the situations users get into: two at once, a dead control plane,
// an `up` killed halfway, a broken lab file, no root.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, sandbox, type Sandbox } from '../helpers/cli.js';
import { labNetns } from '../helpers/root-snapshot.js';

/** A lab's namespaces without its pods'. */
const machinesAndSegments = (netns: string[]) => netns.filter((n) => !n.includes('.pod-'));

function labYaml(name: string, subnet: string): string {
  return `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: ${name}}
spec:
  networks:
  - {name: lan, cidr: ${subnet}.0/24, gateway: ${subnet}.1}
  nodes:
  - {name: master, roles: [control-plane], nics: [{network: lan, address: ${subnet}.10}]}
  - {name: worker, nics: [{network: lan, address: ${subnet}.20}]}
  hosts:
  - {name: console, nics: [{network: lan, address: ${subnet}.30}]}
`;
}

describe('lab lifecycle', () => {
  let sb: Sandbox;
  const labs = ['it-alpha', 'it-beta'];

  beforeAll(() => {
    sb = sandbox();
  });

  afterEach(async () => {
    for (const lab of labs) await sb.nslab(['down', lab]);
  });

  afterAll(() => sb.cleanup());

  function writeLab(name: string, text: string): string {
    const file = path.join(sb.dir, `${name}.yaml`);
    writeFileSync(file, text);
    return file;
  }

  it('runs two labs with the same machine names side by side', async () => {
    const a = await sb.nslab(['up', writeLab('it-alpha', labYaml('it-alpha', '192.168.30'))]);
    const b = await sb.nslab(['up', writeLab('it-beta', labYaml('it-beta', '192.168.30'))]);
    expect(a.exitCode, a.stdout + a.stderr).toBe(0);
    expect(b.exitCode, b.stdout + b.stderr).toBe(0);
    expect(machinesAndSegments(await labNetns('nslab-it-alpha.'))).toHaveLength(4);
    expect(machinesAndSegments(await labNetns('nslab-it-beta.'))).toHaveLength(4);
    // and each lab's own cluster DNS pods
    expect(await labNetns('nslab-it-alpha.pod-kube-system.coredns-')).toHaveLength(2);
    expect(await labNetns('nslab-it-beta.pod-kube-system.coredns-')).toHaveLength(2);
    for (const lab of labs) {
      const ping = await sb.nslab(['exec', '--lab', lab, 'host/console', '--', 'ping', '-c1', '-W2', '192.168.30.20']);
      expect(ping.exitCode, ping.stdout + ping.stderr).toBe(0);
    }
    const ctx = await sb.kubectl(['config', 'get-contexts', '-o', 'name']);
    expect(ctx.stdout.split('\n').sort()).toEqual(expect.arrayContaining(['nslab-it-alpha', 'nslab-it-beta']));
    const nodes = await sb.kubectl(['--context', 'nslab-it-alpha', 'get', 'nodes', '-o', 'wide']);
    expect(nodes.stdout).toContain('192.168.30.10');

    const ambiguous = await sb.nslab(['exec', 'node/worker', '--', 'true']);
    expect(ambiguous.exitCode).toBe(2);
    expect(ambiguous.stderr).toContain('several labs are up');

    // `down --all` takes down every lab on the machine: only try it when ours are the only ones.
    const others = (await labNetns()).filter((ns) => !/^nslab-it-(alpha|beta)\./.test(ns));
    const all = others.length === 0 ? await sb.nslab(['down', '--all']) : await sb.nslab(['down', 'it-alpha']);
    expect(all.exitCode, all.stderr).toBe(0);
    if (others.length > 0) await sb.nslab(['down', 'it-beta']);
    expect(await labNetns('nslab-it-')).toEqual([]);
  });

  it('cleans up after a control plane that died', async () => {
    const up = await sb.nslab(['up', writeLab('it-alpha', labYaml('it-alpha', '192.168.31'))]);
    expect(up.exitCode, up.stderr).toBe(0);
    await execa('pkill', ['-KILL', '-f', 'controlplane/daemon.js --lab it-alpha']);
    const status = await sb.nslab(['status', 'it-alpha']);
    expect(status.stdout).toContain('Degraded');
    const down = await sb.nslab(['down', 'it-alpha']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await labNetns('nslab-it-alpha.')).toEqual([]);
    expect(existsSync('/run/nslab/it-alpha')).toBe(false);
  });

  it('cleans up after an up that was killed halfway, and up then rebuilds', async () => {
    const file = writeLab('it-alpha', labYaml('it-alpha', '192.168.32'));
    const child = execa(process.execPath, [CLI, 'up', file], { env: sb.env, reject: false });
    // Kill it as soon as its first namespace exists (bounded wait).
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await labNetns('nslab-it-alpha.')).length === 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await child;
    const again = await sb.nslab(['up', file]);
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(machinesAndSegments(await labNetns('nslab-it-alpha.'))).toHaveLength(4);
    const down = await sb.nslab(['down', 'it-alpha']);
    expect(down.exitCode).toBe(0);
    expect(await labNetns('nslab-it-alpha.')).toEqual([]);
    const pgrep = await execa('pgrep', ['-f', 'controlplane/daemon.js --lab it-alpha'], { reject: false });
    expect(pgrep.stdout).toBe('');
  });

  it('rejects a broken lab file with one located message per problem and creates nothing', async () => {
    const file = writeLab(
      'it-alpha',
      `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: it-alpha}
spec:
  networks:
  - {name: lan, cidr: 192.168.33.0/24}
  nodes:
  - {name: master, nics: [{network: lan, address: 192.168.34.10}]}
  - {name: master, nics: [{network: lan, address: 192.168.33.300}]}
  - {name: Worker_1, nicks: []}
`,
    );
    const r = await sb.nslab(['up', file]);
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(r.stderr).toMatch(new RegExp(`${file}:8:\\d+: spec\\.nodes\\[0\\]\\.nics\\[0\\]\\.address: .*192\\.168\\.33\\.0/24`));
    expect(r.stderr).toMatch(new RegExp(`${file}:9:\\d+: spec\\.nodes\\[1\\]\\.name: .*already used`));
    expect(r.stderr).toMatch(new RegExp(`${file}:9:\\d+: spec\\.nodes\\[1\\]\\.nics\\[0\\]\\.address`));
    expect(r.stderr).toMatch(new RegExp(`${file}:10:\\d+: spec\\.nodes\\[2\\]`));
    expect(r.stderr).toContain('nicks');
    expect(await labNetns('nslab-it-alpha.')).toEqual([]);
    expect(existsSync('/run/nslab/it-alpha')).toBe(false);
  });

  it('tells a user without root what to run', async () => {
    const r = await execa('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI, 'up'], {
      reject: false,
      env: { HOME: '/tmp' },
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('sudo nslab up');
    expect(await labNetns('nslab-default.')).toEqual([]);
  });
});
