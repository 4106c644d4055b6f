// `nslab status` of a lab whose control plane died says so and what to do.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labStatus } from '../../../src/lab/status.js';
import { statusText } from '../../../src/cli/format.js';
import { RecordingRunner } from '../../../src/sys/runner.js';
import { planTopology } from '../../../src/plan/topology.js';
import { courseLab } from '../../helpers/labs.js';

describe('status of a lab whose daemon is gone', () => {
  let tmp: string;
  let notDaemon: ChildProcess;
  const env = { ...process.env };

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'nslab-status-'));
    process.env['NSLAB_STATE_DIR'] = tmp;
    const spec = courseLab();
    mkdirSync(path.join(tmp, 'default'), { mode: 0o700 });
    writeFileSync(path.join(tmp, 'default', 'lab.json'), JSON.stringify({ spec, plan: planTopology(spec), createdAt: '2024-01-01T00:00:00Z' }));
    // The pid was reused by an unrelated process after the daemon died.
    notDaemon = spawn('sleep', ['30'], { stdio: 'ignore' });
    writeFileSync(path.join(tmp, 'default', 'api.json'), JSON.stringify({ pid: notDaemon.pid, url: 'https://127.0.0.1:1', port: 1 }));
    writeFileSync(path.join(tmp, 'default', 'daemon.pid'), `${notDaemon.pid}\n`, { mode: 0o600 });
  });

  afterEach(() => {
    notDaemon.kill('SIGKILL');
    process.env = { ...env };
    rmSync(tmp, { recursive: true, force: true });
  });

  it('is Degraded with a problem that names the stale pid file and the way out', async () => {
    const runner = new RecordingRunner(() => ({ stdout: 'nslab-default.node-master\nnslab-default.node-worker\nnslab-default.host-console\nnslab-default.net-lan\n' }));
    const s = await labStatus('default', runner);
    expect(s.state).toBe('Degraded');
    expect(s.api?.alive).toBe(false);
    expect(s.problems.join('\n')).toMatch(/control plane is not running \(.*\); run "sudo nslab down default" or "sudo nslab up LAB_FILE"/);
    expect(statusText(s)).toMatch(/problem: control plane is not running/);
  });

  it('names the missing namespaces', async () => {
    const s = await labStatus('default', new RecordingRunner(() => ({ stdout: 'nslab-default.node-master\n' })));
    expect(s.problems.join('\n')).toMatch(/3 network namespaces are missing \(.*nslab-default\.node-worker/);
  });
});
