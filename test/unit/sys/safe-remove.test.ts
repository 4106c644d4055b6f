// removeInside: the one recursive delete nslab does, only strictly inside a root.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { outsideProblem, removeInside } from '../../../src/sys/safe-remove.js';

describe('removeInside', () => {
  let tmp: string;
  let root: string;

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'nslab-rm-'));
    root = path.join(tmp, 'nslab');
    mkdirSync(path.join(root, 'lab', 'pki'), { recursive: true });
    writeFileSync(path.join(root, 'lab', 'pki', 'ca.crt'), '');
    writeFileSync(path.join(root, 'keep'), '');
    mkdirSync(path.join(tmp, 'nslab-evil'));
    writeFileSync(path.join(tmp, 'nslab-evil', 'canary'), '');
    mkdirSync(path.join(tmp, 'outside'));
    writeFileSync(path.join(tmp, 'outside', 'canary'), '');
  });

  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('removes a folder tree strictly inside the root', async () => {
    expect(await removeInside(root, path.join(root, 'lab'))).toBe(true);
    expect(existsSync(path.join(root, 'lab'))).toBe(false);
    expect(existsSync(path.join(root, 'keep'))).toBe(true);
  });

  it('answers false for something that is not there', async () => {
    expect(await removeInside(root, path.join(root, 'nothing'))).toBe(false);
    expect(await removeInside(path.join(tmp, 'no-root'), path.join(tmp, 'no-root', 'x'))).toBe(false);
  });

  it('refuses the root itself, its parent and a sibling that shares its prefix', async () => {
    await expect(removeInside(root, root)).rejects.toThrow(/root itself/);
    await expect(removeInside(root, `${root}/`)).rejects.toThrow(/root itself/);
    await expect(removeInside(root, tmp)).rejects.toThrow(/not inside/);
    await expect(removeInside(root, path.join(tmp, 'nslab-evil'))).rejects.toThrow(/not inside/);
    await expect(removeInside(root, '/')).rejects.toThrow(/not inside/);
    expect(existsSync(path.join(root, 'keep'))).toBe(true);
    expect(existsSync(path.join(tmp, 'nslab-evil', 'canary'))).toBe(true);
  });

  it("refuses '..' anywhere in the target and relative paths", async () => {
    await expect(removeInside(root, `${root}/../outside`)).rejects.toThrow(/'\.\.'/);
    await expect(removeInside(root, `${root}/lab/../lab`)).rejects.toThrow(/'\.\.'/);
    await expect(removeInside(root, 'lab')).rejects.toThrow(/absolute/);
    await expect(removeInside('run/nslab', `${root}/lab`)).rejects.toThrow(/absolute/);
    expect(existsSync(path.join(tmp, 'outside', 'canary'))).toBe(true);
  });

  it('refuses a target that is a symlink, wherever it points', async () => {
    symlinkSync(path.join(tmp, 'outside'), path.join(root, 'link-out'));
    symlinkSync(path.join(root, 'lab'), path.join(root, 'link-in'));
    await expect(removeInside(root, path.join(root, 'link-out'))).rejects.toThrow(/symbolic link/);
    await expect(removeInside(root, path.join(root, 'link-in'))).rejects.toThrow(/symbolic link/);
    expect(existsSync(path.join(tmp, 'outside', 'canary'))).toBe(true);
    expect(existsSync(path.join(root, 'lab', 'pki', 'ca.crt'))).toBe(true);
  });

  it('refuses a target whose parent is a symlink out of the root', async () => {
    symlinkSync(path.join(tmp, 'outside'), path.join(root, 'via'));
    mkdirSync(path.join(tmp, 'outside', 'sub'));
    await expect(removeInside(root, path.join(root, 'via', 'sub'))).rejects.toThrow(/not inside.*resolved/);
    expect(existsSync(path.join(tmp, 'outside', 'sub'))).toBe(true);
  });

  it('works through a root that is itself reached by a symlink (as /var/run is)', async () => {
    symlinkSync(root, path.join(tmp, 'alias'));
    expect(await removeInside(path.join(tmp, 'alias'), path.join(tmp, 'alias', 'lab'))).toBe(true);
    expect(existsSync(path.join(root, 'lab'))).toBe(false);
  });

  it('outsideProblem is lexical and pure', () => {
    expect(outsideProblem('/run/nslab', '/run/nslab/a')).toBeUndefined();
    expect(outsideProblem('/run/nslab', '/run/nslab/a/b')).toBeUndefined();
    expect(outsideProblem('/run/nslab', '/run/nslab-evil')).toMatch(/not inside/);
    expect(outsideProblem('/run/nslab', '/run')).toMatch(/not inside/);
    expect(outsideProblem('/etc/netns', '/etc/netns/')).toMatch(/root itself/);
    expect(outsideProblem('/etc/netns', '/etc/netns/..')).toMatch(/'\.\.'/);
  });
});
