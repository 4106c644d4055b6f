// Which processes `down` kills by namespace inode, and the runner that
// records and empties pod namespaces.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nsLinkInode, pidsInLabNetns, type ProcNet } from '../../../src/lab/leftovers.js';
import { netnsCommand, NetnsTrackingRunner } from '../../../src/sys/netns-tracking-runner.js';
import { recordedNetns } from '../../../src/sys/netns-record.js';
import { isAlive } from '../../../src/sys/processes.js';
import { RecordingRunner } from '../../../src/sys/runner.js';
import { cgroup2Mount, labOfCgroup, v2CgroupPath } from '../../../src/sys/cgroup.js';

describe('pidsInLabNetns', () => {
  const facts = { labInodes: new Set([11, 12, 13]), foreignInodes: new Set([13]), rootInode: 1 };
  const procs: ProcNet[] = [
    { pid: 500, netns: 11 }, // in a recorded namespace that lost its name: an orphaned nginx worker
    { pid: 501, netns: 12, cgroupLab: 'a' },
    { pid: 502, netns: 13 }, // inode now named for something else: reused, not ours
    { pid: 503, netns: 1 }, // root namespace
    { pid: 504, netns: 99 },
    { pid: 505, netns: 12, cgroupLab: 'b' }, // in another lab's cgroup
    { pid: 506 }, // unreadable
    { pid: 1, netns: 11 },
    { pid: 777, netns: 11 }, // the caller itself
  ];

  it("kills exactly the processes in the lab's namespaces, never the root one, another's, or itself", () => {
    expect(pidsInLabNetns(procs, 'a', facts, 777)).toEqual([500, 501]);
  });

  it('never matches the root namespace even if it was recorded', () => {
    expect(pidsInLabNetns([{ pid: 600, netns: 1 }], 'a', { ...facts, labInodes: new Set([1]) }, 777)).toEqual([]);
  });

  it('reads inodes from ns links', () => {
    expect(nsLinkInode('net:[4026532291]')).toBe(4026532291);
    expect(nsLinkInode('mnt:[4026532291]')).toBeUndefined();
    expect(nsLinkInode('')).toBeUndefined();
  });
});

describe('cgroup v2 helpers', () => {
  it('finds the cgroup2 mount in mountinfo (hybrid, pure v2, escaped, none)', () => {
    const hybrid = [
      '30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
      '31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw',
      '32 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu',
    ].join('\n');
    expect(cgroup2Mount(hybrid)).toBe('/sys/fs/cgroup/unified');
    expect(cgroup2Mount('35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate')).toBe('/sys/fs/cgroup');
    expect(cgroup2Mount('35 24 0:30 / /mnt/my\\040cg rw - cgroup2 none rw')).toBe('/mnt/my cg');
    expect(cgroup2Mount('32 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu')).toBeUndefined();
  });

  it("reads a process's v2 cgroup and the lab it belongs to", () => {
    expect(v2CgroupPath('4:memory:/x\n0::/nslab/it-alpha\n')).toBe('/nslab/it-alpha');
    expect(labOfCgroup('0::/nslab/it-alpha\n')).toBe('it-alpha');
    expect(labOfCgroup('0::/nslab/it-alpha/sub\n')).toBe('it-alpha');
    expect(labOfCgroup('0::/\n')).toBeUndefined();
    expect(labOfCgroup('0::/nslab/..\n')).toBeUndefined();
    expect(labOfCgroup('0::/nslab/Bad_Name\n')).toBeUndefined();
    expect(labOfCgroup('1:name=systemd:/nslab/x\n')).toBeUndefined();
  });
});

describe('NetnsTrackingRunner', () => {
  const env = { ...process.env };
  let tmp: string | undefined;
  afterEach(() => {
    process.env = { ...env };
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('recognises only single-namespace add/del of lab namespaces', () => {
    expect(netnsCommand(['ip', 'netns', 'add', 'nslab-a.pod-default.x'])).toEqual({ op: 'add', name: 'nslab-a.pod-default.x' });
    expect(netnsCommand(['ip', 'netns', 'delete', 'nslab-a.pod-default.x'])).toEqual({ op: 'del', name: 'nslab-a.pod-default.x' });
    expect(netnsCommand(['ip', 'netns', 'add', 'someone-else'])).toBeUndefined();
    expect(netnsCommand(['ip', 'netns', 'list'])).toBeUndefined();
    expect(netnsCommand(['ip', '-n', 'nslab-a.node-x', 'link', 'show'])).toBeUndefined();
  });

  it("kills what still runs in a pod's namespace before deleting it, and forgets its inode", async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'nslab-track-'));
    process.env['NSLAB_STATE_DIR'] = tmp;
    mkdirSync(path.join(tmp, 'a', 'netns'), { recursive: true });
    const ns = 'nslab-a.pod-default.web';
    writeFileSync(path.join(tmp, 'a', 'netns', ns), '4026500001\n');
    // Stands in for an orphaned nginx worker in the pod's namespace.
    const worker = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = worker.pid ?? 0;
    let aliveAtDelete: boolean | undefined;
    const inner = new RecordingRunner((argv) => {
      if (argv.join(' ') === `ip netns pids ${ns}`) return { stdout: `${pid}\n` };
      if (argv.join(' ') === `ip netns del ${ns}`) aliveAtDelete = isAlive(pid);
      return {};
    });
    try {
      await new NetnsTrackingRunner(inner).run(['ip', 'netns', 'del', ns]);
      expect(aliveAtDelete).toBe(false);
      expect(inner.calls.map((c) => c.argv.join(' '))).toEqual([`ip netns pids ${ns}`, `ip netns del ${ns}`]);
      expect(existsSync(path.join(tmp, 'a', 'netns', ns))).toBe(false);
    } finally {
      worker.kill('SIGKILL');
    }
  });

  it.runIf(process.getuid?.() === 0)('believes recorded inodes only from a lab folder nobody but root can write', async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'nslab-track-'));
    process.env['NSLAB_STATE_DIR'] = tmp;
    mkdirSync(path.join(tmp, 'a', 'netns'), { recursive: true, mode: 0o700 });
    chmodSync(path.join(tmp, 'a'), 0o700);
    writeFileSync(path.join(tmp, 'a', 'netns', 'nslab-a.node-x'), '4026500002\n');
    expect([...(await recordedNetns('a')).entries()]).toEqual([[4026500002, 'nslab-a.node-x']]);
    chmodSync(path.join(tmp, 'a'), 0o777);
    expect((await recordedNetns('a')).size).toBe(0);
  });

  it('passes every other command through untouched', async () => {
    const inner = new RecordingRunner(() => ({ stdout: 'x' }));
    const r = await new NetnsTrackingRunner(inner).run(['ip', '-n', 'nslab-a.node-m', 'link', 'show'], { input: 'y' });
    expect(r.stdout).toBe('x');
    expect(inner.calls).toEqual([{ argv: ['ip', '-n', 'nslab-a.node-m', 'link', 'show'], input: 'y' }]);
  });
});
