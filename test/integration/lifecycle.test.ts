// Labs in the situations users get into: two at once, a dead control plane,
// an `up` killed halfway, a broken lab file, no root.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, sandbox, type Sandbox } from '../helpers/cli.js';
import { labCgroupDir, labCgroupExists, labNetns, strayBaseline, strayProcesses } from '../helpers/root-snapshot.js';

const daemonPid = (lab: string) => Number(readFileSync(`/run/nslab/${lab}/daemon.pid`, 'utf8').trim());

/** Every process in the lab's named namespaces. */
async function labNetnsPids(prefix: string): Promise<number[]> {
  const pids: number[] = [];
  for (const ns of await labNetns(prefix)) {
    const r = await execa('ip', ['netns', 'pids', ns], { reject: false });
    pids.push(...String(r.stdout).split('\n').map(Number).filter((n) => n > 1));
  }
  return pids.sort((a, b) => a - b);
}

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX]/.test(stat);
  } catch {
    return false;
  }
};

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
  let baseline: Set<number>;
  const labs = ['it-alpha', 'it-beta'];

  beforeAll(async () => {
    sb = sandbox();
    baseline = await strayBaseline();
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
    process.kill(daemonPid('it-alpha'), 'SIGKILL');
    const status = await sb.nslab(['status', 'it-alpha']);
    expect(status.stdout).toContain('Degraded');
    expect(status.stdout).toContain('problem: control plane is not running');
    const down = await sb.nslab(['down', 'it-alpha']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await labNetns('nslab-it-alpha.')).toEqual([]);
    expect(existsSync('/run/nslab/it-alpha')).toBe(false);
    expect(await strayProcesses('nslab-it-alpha.', baseline)).toEqual([]);
    expect(labCgroupExists('it-alpha')).toBe(false);
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
    expect(await strayProcesses('nslab-it-alpha.', baseline)).toEqual([]);
    expect(labCgroupExists('it-alpha')).toBe(false);
  });

  it("down of one lab, and bad lab names, never touch another lab", async () => {
    const a = await sb.nslab(['up', writeLab('it-alpha', labYaml('it-alpha', '192.168.35'))]);
    const b = await sb.nslab(['up', writeLab('it-beta', labYaml('it-beta', '192.168.35'))]);
    expect(a.exitCode, a.stdout + a.stderr).toBe(0);
    expect(b.exitCode, b.stdout + b.stderr).toBe(0);
    // Let beta's pods start, then take stock of it.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await labNetns('nslab-it-beta.pod-')).length < 2) await new Promise((r) => setTimeout(r, 100));
    const betaNetns = (await labNetns('nslab-it-beta.')).sort();
    // Its lasting processes (pause, DNS servers): readiness probes and rule syncs come and go by themselves.
    const first = await labNetnsPids('nslab-it-beta.');
    await new Promise((r) => setTimeout(r, 1500));
    const betaPids = (await labNetnsPids('nslab-it-beta.')).filter((p) => first.includes(p));
    const betaDaemon = daemonPid('it-beta');
    const comm = new Map(betaPids.map((p) => [p, readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ')]));
    expect(betaPids.length).toBeGreaterThan(0);

    // Hostile names go to a state root deep in a folder of this test, never to /run/nslab: on code without
    // the checks, `down ..` removed the state root's parent (/run itself).
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'nslab-bad-names-'));
    try {
      const stateRoot = path.join(tmp, 'a', 'b', 'state');
      mkdirSync(stateRoot, { recursive: true, mode: 0o700 });
      writeFileSync(path.join(tmp, 'canary'), '');
      writeFileSync(path.join(tmp, 'a', 'canary'), '');
      for (const bad of ['..', '.', '', '../..', 'it-beta/..', 'IT-BETA']) {
        const r = await sb.nslab(['down', bad], { env: { NSLAB_STATE_DIR: stateRoot } });
        expect(r.exitCode, `down ${JSON.stringify(bad)}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(/is not a valid lab name/);
      }
      const both = await sb.nslab(['down', 'it-beta', '--all'], { env: { NSLAB_STATE_DIR: stateRoot } });
      expect(both.exitCode).toBe(2);
      expect(existsSync(path.join(tmp, 'canary'))).toBe(true);
      expect(existsSync(path.join(tmp, 'a', 'canary'))).toBe(true);
      expect(existsSync(stateRoot)).toBe(true);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    expect(existsSync('/run/nslab/it-beta')).toBe(true);
    expect(existsSync('/run/nslab/it-alpha')).toBe(true);

    const down = await sb.nslab(['down', 'it-alpha']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await labNetns('nslab-it-alpha.')).toEqual([]);
    expect(await strayProcesses('nslab-it-alpha.', baseline)).toEqual([]);

    // beta is whole: namespaces, processes, daemon, cgroup, API.
    expect((await labNetns('nslab-it-beta.')).sort()).toEqual(betaNetns);
    expect(betaPids.filter((p) => !alive(p)).map((p) => `${p} ${comm.get(p) ?? ''}`)).toEqual([]);
    expect(alive(betaDaemon)).toBe(true);
    if (labCgroupDir('it-beta') && existsSync(path.dirname(labCgroupDir('it-beta') ?? ''))) expect(labCgroupExists('it-beta')).toBe(true);
    const nodes = await sb.kubectl(['--context', 'nslab-it-beta', 'get', 'nodes', '-o', 'name']);
    expect(nodes.exitCode, nodes.stderr).toBe(0);
    expect(nodes.stdout.trim().split('\n')).toEqual(['node/master', 'node/worker']);
  });

  it("a user's process that looks like a lab daemon with --lab ../.. is no lab, and down --all deletes nothing of it", async () => {
    // A state root three levels down in a folder of this test: on the old code, '../..' resolved to tmp/a.
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'nslab-fake-daemon-'));
    chmodSync(tmp, 0o755);
    const stateRoot = path.join(tmp, 'a', 'b', 'state');
    mkdirSync(stateRoot, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(tmp, 'canary'), '');
    writeFileSync(path.join(tmp, 'a', 'canary'), '');
    const script = path.join(tmp, 'fake', 'controlplane', 'daemon.js');
    mkdirSync(path.dirname(script), { recursive: true, mode: 0o755 });
    writeFileSync(script, 'setTimeout(() => {}, 120000);\n', { mode: 0o644 });
    const fake = execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script, '--lab', '../..'], {
      reject: false,
      env: { HOME: '/tmp' },
    });
    try {
      const until = Date.now() + 10_000;
      while (Date.now() < until && !(await execa('pgrep', ['-f', `${script} --lab`], { reject: false })).stdout) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const env = { NSLAB_STATE_DIR: stateRoot };
      const list = await sb.nslab(['list', '-o', 'json'], { env });
      expect(list.exitCode, list.stderr).toBe(0);
      expect(list.stdout).not.toContain('../..');
      // `down --all` takes down every lab on the machine: only try it when no other lab is up.
      if ((await labNetns()).length === 0) {
        const all = await sb.nslab(['down', '--all'], { env });
        expect(all.exitCode, all.stderr).toBe(0);
        expect(all.stdout).toContain('No labs were up.');
      }
      expect(existsSync(path.join(tmp, 'canary'))).toBe(true);
      expect(existsSync(path.join(tmp, 'a', 'canary'))).toBe(true);
      expect(existsSync(stateRoot)).toBe(true);
      expect(fake.exitCode).toBe(null); // not ours to stop either
      expect(existsSync('/run/netns') || !existsSync('/run')).toBe(true);
    } finally {
      fake.kill('SIGKILL');
      await fake;
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a kubeconfig symlink planted to a file the user does not own is refused; the lab still comes up and goes down', async () => {
    // The user (uid 65534) owns the folder and the link; the link points at a root-owned file.
    const home = mkdtempSync(path.join(os.tmpdir(), 'nslab-planted-'));
    const victim = path.join(home, 'victim');
    try {
      writeFileSync(victim, 'root only\n', { mode: 0o600 });
      const userDir = path.join(home, 'user');
      mkdirSync(userDir);
      chownSync(userDir, 65534, 65534);
      const link = path.join(userDir, 'config');
      symlinkSync(victim, link);
      lchownSync(link, 65534, 65534);
      const env = { KUBECONFIG: link };
      const up = await sb.nslab(['up', writeLab('it-alpha', labYaml('it-alpha', '192.168.33'))], { env });
      expect(up.exitCode, up.stdout + up.stderr).toBe(0);
      expect(up.stdout + up.stderr).toMatch(new RegExp(`refusing to (read|write) ${link}: it is a symlink to ${victim}`));
      expect(up.stdout + up.stderr).toContain('nslab kubeconfig it-alpha');
      expect(readFileSync(victim, 'utf8')).toBe('root only\n');
      expect(statSync(victim).uid).toBe(0);
      const down = await sb.nslab(['down', 'it-alpha'], { env });
      expect(down.exitCode, down.stdout + down.stderr).toBe(0);
      expect(existsSync('/run/nslab/it-alpha')).toBe(false);
      expect(readFileSync(victim, 'utf8')).toBe('root only\n');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
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
