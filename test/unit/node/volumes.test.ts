// Hole 7, on the node: ConfigMap keys and items[].path were joined into host
// paths with path.join, so "../x" wrote outside the volume (as root). The
// writer now refuses any path that does not stay strictly inside the volume.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { joinInside, volumeFiles, volumePathProblem, writeAtomicVolume } from '../../../src/node/volumes.js';

describe('volumePathProblem (the kubelet atomic writer validatePath)', () => {
  it('accepts relative paths that descend', () => {
    for (const p of ['nginx.conf', 'conf.d/default.conf', 'a/b/c', '.hidden', 'a..b', 'x/.']) {
      expect(volumePathProblem(p), p).toBeUndefined();
    }
  });

  it('refuses empty, absolute, backstepping and reserved paths with the kubelet messages', () => {
    expect(volumePathProblem('')).toBe('invalid path: must not be empty: ""');
    expect(volumePathProblem('/etc/passwd')).toBe('invalid path: must be relative path: /etc/passwd');
    expect(volumePathProblem('../evil')).toBe("invalid path: must not contain '..': ../evil");
    expect(volumePathProblem('a/../../evil')).toBe("invalid path: must not contain '..': a/../../evil");
    expect(volumePathProblem('..')).toBe("invalid path: must not contain '..': ..");
    expect(volumePathProblem('..data')).toBe("invalid path: must not start with '..': ..data");
    expect(volumePathProblem('a\u0000b')).toContain('NUL');
    expect(volumePathProblem('a'.repeat(256))).toBe('invalid path: filenames must be less than or equal to 255 characters');
    expect(volumePathProblem('a/'.repeat(2049))).toBe('invalid path: must be less than or equal to 4096 characters');
  });
});

describe('joinInside', () => {
  it('joins paths that stay strictly inside the folder', () => {
    expect(joinInside('/v', 'a/b')).toBe('/v/a/b');
    expect(joinInside('/v/', './x')).toBe('/v/x');
  });

  it('refuses anything that leaves the folder or names the folder itself', () => {
    for (const p of ['../x', 'a/../../x', '/etc/cron.d/x', '.', 'a/..', './', './..data', '', 'a\u0000']) {
      expect(() => joinInside('/v', p), JSON.stringify(p)).toThrow(/invalid path/);
    }
  });
});

describe('volumeFiles', () => {
  it('looks up own keys only', () => {
    const data = { a: '1' };
    expect(volumeFiles(data, [{ key: 'constructor', path: 'c' }, { key: 'a', path: 'x' }])).toEqual([{ path: 'x', content: '1' }]);
  });
});

describe('writeAtomicVolume', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'nslab-volume-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('writes nothing, inside or outside, when a key or item path would leave the volume', async () => {
    const dir = path.join(root, 'pod', 'volumes', 'conf');
    for (const files of [
      volumeFiles({ 'ok.conf': 'fine', '../../../evil': 'pwned' }),
      volumeFiles({ conf: 'pwned' }, [{ key: 'conf', path: '../../escape' }]),
      volumeFiles({ conf: 'pwned' }, [{ key: 'conf', path: path.join(root, 'abs') }]),
    ]) {
      await expect(writeAtomicVolume(dir, files)).rejects.toThrow(/invalid path/);
    }
    expect(readdirSync(root)).toEqual([]);
  });

  it('still writes ordinary volumes, with modes limited to 0777', async () => {
    const dir = path.join(root, 'conf');
    mkdirSync(dir);
    await writeAtomicVolume(dir, [
      { path: 'default.conf', content: 'server {}', mode: 0o4755 },
      { path: 'sub/x', content: 'x' },
    ]);
    expect(readFileSync(path.join(dir, 'default.conf'), 'utf8')).toBe('server {}');
    expect(statSync(path.join(dir, 'default.conf')).mode & 0o7777).toBe(0o755);
    expect(readFileSync(path.join(dir, 'sub', 'x'), 'utf8')).toBe('x');
    expect(existsSync(path.join(root, 'evil'))).toBe(false);
  });
});
