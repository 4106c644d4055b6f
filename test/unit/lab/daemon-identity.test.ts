// Hole 2 of issue 9: a process is the lab's daemon only if only root could
// have started it; a command line that ends in "controlplane/daemon.js --lab
// ../.." proves nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { daemonProblem, findDaemonPids, pidFileVerdict, statusUids, type ProcFacts, type ProcReader } from '../../../src/sys/processes.js';

const SCRIPT = '/opt/nslab/dist/src/controlplane/daemon.js';
const same = (p: string) => p;

function status(uids: string, state = 'S (sleeping)'): string {
  return `Name:\tnode\nState:\t${state}\nTgid:\t42\nUid:\t${uids}\nGid:\t0\t0\t0\t0\n`;
}

const daemon = (lab: string, extra: Partial<ProcFacts> = {}): ProcFacts => ({
  status: status('0\t0\t0\t0'),
  argv: ['/usr/bin/node', SCRIPT, '--lab', lab],
  exe: '/usr/bin/node',
  ...extra,
});

describe('daemonProblem (pure)', () => {
  it("accepts root's node running the installed daemon.js for exactly this lab", () => {
    expect(daemonProblem(daemon('default'), 'default', SCRIPT, same)).toBeUndefined();
    expect(daemonProblem(daemon('default', { exe: '/usr/local/bin/node20 (deleted)' }), 'default', SCRIPT, same)).toBeUndefined();
  });

  it('refuses a user process with the same command line', () => {
    expect(daemonProblem(daemon('default', { status: status('65534\t65534\t65534\t65534') }), 'default', SCRIPT, same)).toMatch(/not run as root/);
  });

  it('refuses a set-uid program run by a user (real uid not 0)', () => {
    expect(daemonProblem(daemon('default', { status: status('1000\t0\t0\t0'), exe: '/usr/bin/passwd' }), 'default', SCRIPT, same)).toMatch(/not run as root/);
  });

  it('refuses an executable that is not node', () => {
    expect(daemonProblem(daemon('default', { exe: '/usr/bin/python3' }), 'default', SCRIPT, same)).toMatch(/not node/);
  });

  it('refuses a look-alike script path and a relative one', () => {
    const fake = ['/usr/bin/node', '/tmp/evil/controlplane/daemon.js', '--lab', 'default'];
    expect(daemonProblem(daemon('default', { argv: fake }), 'default', SCRIPT, same)).toMatch(/does not run/);
    const rel = ['node', 'dist/src/controlplane/daemon.js', '--lab', 'default'];
    expect(daemonProblem(daemon('default', { argv: rel }), 'default', SCRIPT, same)).toMatch(/does not run/);
    // a symlink to the real script is the real script
    const viaLink = ['/usr/bin/node', '/srv/link/daemon.js', '--lab', 'default'];
    expect(daemonProblem(daemon('default', { argv: viaLink }), 'default', SCRIPT, (p) => (p === '/srv/link/daemon.js' ? SCRIPT : p))).toBeUndefined();
  });

  it("refuses another lab's daemon, extra arguments and a hostile --lab", () => {
    expect(daemonProblem(daemon('other'), 'default', SCRIPT, same)).toMatch(/not started for lab/);
    expect(daemonProblem(daemon('default', { argv: ['/usr/bin/node', SCRIPT, '--lab', 'default', '--x'] }), 'default', SCRIPT, same)).toMatch(/not started/);
    expect(daemonProblem(daemon('../..'), 'default', SCRIPT, same)).toMatch(/not started/);
  });

  it('refuses zombies and processes that are gone', () => {
    expect(daemonProblem(daemon('default', { status: status('0\t0\t0\t0', 'Z (zombie)') }), 'default', SCRIPT, same)).toMatch(/exited/);
    expect(daemonProblem({}, 'default', SCRIPT, same)).toMatch(/gone/);
  });

  it('reads all four uids', () => {
    expect(statusUids(status('0\t1\t2\t3'))).toEqual([0, 1, 2, 3]);
    expect(statusUids('Name: x\n')).toBeUndefined();
  });
});

function fakeProc(procs: Record<number, ProcFacts>): ProcReader {
  return {
    pids: async () => Object.keys(procs).map(Number),
    argv: async (pid) => procs[pid]?.argv,
    facts: async (pid) => procs[pid] ?? {},
    canonical: same,
    daemonScript: () => SCRIPT,
  };
}

describe('findDaemonPids over a fake /proc', () => {
  let tmp: string;
  const env = { ...process.env };
  const asRoot = process.getuid?.() === 0;

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'nslab-ident-'));
    process.env['NSLAB_STATE_DIR'] = tmp;
    mkdirSync(path.join(tmp, 'default'), { mode: 0o700 });
  });

  afterEach(() => {
    process.env = { ...env };
    rmSync(tmp, { recursive: true, force: true });
  });

  it("finds the lab's daemon and nothing that merely looks like one", async () => {
    const proc = fakeProc({
      100: daemon('default'),
      200: daemon('default', { status: status('65534\t65534\t65534\t65534') }),
      300: daemon('../..', { status: status('65534\t65534\t65534\t65534'), argv: ['/usr/bin/node', '/home/u/controlplane/daemon.js', '--lab', '../..'] }),
      400: daemon('other'),
    });
    expect(await findDaemonPids('default', proc)).toEqual([100]);
    expect(await findDaemonPids('other', proc)).toEqual([400]);
    await expect(findDaemonPids('../..', proc)).rejects.toThrow(expect.objectContaining({ name: 'UsageError' }));
  });

  it.runIf(asRoot)('trusts the pid file of a root-owned lab folder, and says why a pid file is stale', async () => {
    writeFileSync(path.join(tmp, 'default', 'daemon.pid'), '100\n', { mode: 0o600 });
    expect(await pidFileVerdict('default', fakeProc({ 100: daemon('default') }))).toEqual({ pid: 100 });
    const stale = await pidFileVerdict('default', fakeProc({ 100: daemon('default', { status: status('1000\t1000\t1000\t1000') }) }));
    expect(stale.problem).toMatch(/pid file stale, process 100: it does not run as root/);
    expect((await pidFileVerdict('default', fakeProc({}))).problem).toMatch(/pid file stale, process 100: the process is gone/);
  });

  it.runIf(asRoot)('does not trust a pid file in a folder others can write', async () => {
    writeFileSync(path.join(tmp, 'default', 'daemon.pid'), '100\n', { mode: 0o600 });
    chmodSync(path.join(tmp, 'default'), 0o777);
    expect((await pidFileVerdict('default', fakeProc({ 100: daemon('default') }))).problem).toMatch(/writable by group or others/);
  });
});
