// Hole 1 of issue 9: a lab name that climbs out of the state root.
// `nslab down ..` used to remove /run, `nslab down .` all of /run/nslab.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertLabName, isLabName } from '../../../src/labfile/lab-name.js';
import { resolveLabName } from '../../../src/lab/targets.js';
import { downAll, downLab, labsPresent } from '../../../src/lab/down.js';
import { labStateDir, listStateLabs, removeStateDir } from '../../../src/sys/state-dir.js';
import { RecordingRunner } from '../../../src/sys/runner.js';

const HOSTILE = ['..', '.', '', '/', 'a/b', '../..', 'x\n', 'A', 'a'.repeat(64), '-a', 'a-', 'a.b', ' a', 'a\0b', '../../etc'];

describe('lab names', () => {
  it('accepts RFC 1123 labels', () => {
    for (const ok of ['default', 'it-alpha', 'a', '0', 'a'.repeat(63), 'course-service']) expect(isLabName(ok), ok).toBe(true);
  });

  it.each(HOSTILE)('refuses %j with a UsageError that says what a lab name must be', (name) => {
    expect(isLabName(name)).toBe(false);
    expect(() => assertLabName(name)).toThrow(expect.objectContaining({ name: 'UsageError' }));
    expect(() => assertLabName(name)).toThrow(/RFC 1123 label/);
    expect(() => labStateDir(name)).toThrow(/not a valid lab name/);
  });
});

describe('a hostile lab name touches nothing', () => {
  let tmp: string;
  let stateDir: string;
  const env = { ...process.env };

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'nslab-names-'));
    // The state root two levels down, so '..' and '../..' land on folders of this test.
    stateDir = path.join(tmp, 'run', 'nslab');
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    mkdirSync(path.join(stateDir, 'unit-other-lab'));
    writeFileSync(path.join(tmp, 'canary'), 'still here');
    writeFileSync(path.join(tmp, 'run', 'canary'), 'still here');
    writeFileSync(path.join(stateDir, 'unit-other-lab', 'canary'), 'still here');
    process.env['NSLAB_STATE_DIR'] = stateDir;
    process.env['NSLAB_CGROUP'] = 'off';
  });

  afterEach(() => {
    process.env = { ...env };
    rmSync(tmp, { recursive: true, force: true });
  });

  const intact = () => {
    expect(existsSync(path.join(tmp, 'canary'))).toBe(true);
    expect(existsSync(path.join(tmp, 'run', 'canary'))).toBe(true);
    expect(existsSync(path.join(stateDir, 'unit-other-lab', 'canary'))).toBe(true);
  };

  it.each(HOSTILE)('resolveLabName(%j) is a UsageError', async (name) => {
    await expect(resolveLabName(name, new RecordingRunner())).rejects.toThrow(expect.objectContaining({ name: 'UsageError' }));
    intact();
  });

  it('resolveLabName of an existing folder such as ../.. is a UsageError, not a lab file', async () => {
    await expect(resolveLabName('../..', new RecordingRunner())).rejects.toThrow(expect.objectContaining({ name: 'UsageError' }));
  });

  it.each(HOSTILE)('downLab(%j) refuses before it removes anything', async (name) => {
    const runner = new RecordingRunner();
    await expect(downLab(name, { runner, keepKubeconfig: true })).rejects.toThrow(expect.objectContaining({ name: 'UsageError' }));
    expect(runner.calls).toEqual([]);
    intact();
  });

  it('the state folder listing ignores entries that are not lab names, and down --all leaves them', async () => {
    for (const bad of ['UPPER', 'a.b', 'x y', '-lead']) mkdirSync(path.join(stateDir, bad));
    writeFileSync(path.join(stateDir, 'plain-file'), '');
    mkdirSync(path.join(tmp, 'outside'));
    writeFileSync(path.join(tmp, 'outside', 'canary'), '');
    symlinkSync(path.join(tmp, 'outside'), path.join(stateDir, 'linked'));
    expect(await listStateLabs()).toEqual(['unit-other-lab']);
    const runner = new RecordingRunner();
    expect(await labsPresent(runner)).toEqual(['unit-other-lab']);
    await downAll({ runner, keepKubeconfig: true });
    expect(existsSync(path.join(stateDir, 'unit-other-lab'))).toBe(false);
    for (const bad of ['UPPER', 'a.b', 'x y', '-lead', 'plain-file', 'linked']) expect(existsSync(path.join(stateDir, bad)), bad).toBe(true);
    expect(existsSync(path.join(tmp, 'outside', 'canary'))).toBe(true);
  });

  it('removeStateDir refuses a lab folder that is a symlink out of the state root', async () => {
    mkdirSync(path.join(tmp, 'elsewhere'));
    writeFileSync(path.join(tmp, 'elsewhere', 'canary'), '');
    symlinkSync(path.join(tmp, 'elsewhere'), path.join(stateDir, 'linked-lab'));
    await expect(removeStateDir('linked-lab')).rejects.toThrow(/symbolic link/);
    expect(existsSync(path.join(tmp, 'elsewhere', 'canary'))).toBe(true);
  });

  it("down of one lab leaves another lab's state folder alone", async () => {
    mkdirSync(path.join(stateDir, 'unit-one'));
    await downLab('unit-one', { runner: new RecordingRunner(), keepKubeconfig: true });
    expect(existsSync(path.join(stateDir, 'unit-one'))).toBe(false);
    intact();
  });
});
