// ConfigMap volumes, written the way the kubelet's atomic writer does: the
// data in a timestamped folder, "..data" pointing at it, one symlink per key.
// Swapping "..data" makes an update appear at once through the bind mount.
import { chmod, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { removeInside } from '../sys/safe-remove.js';

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

/** Which files a ConfigMap volume holds: every key, or the listed items. Pure. */
export function volumeFiles(data: Record<string, string>, items?: KeyToPath[]): Array<{ path: string; content: string; mode?: number }> {
  // Own keys only: an item key such as "constructor" must not find Object.prototype's.
  const value = (k: string): string => (Object.hasOwn(data, k) && typeof data[k] === 'string' ? data[k] : '');
  if (!items?.length) return Object.keys(data).sort().map((k) => ({ path: k, content: value(k) }));
  return items
    .filter((i) => Object.hasOwn(data, i.key))
    .map((i) => ({ path: i.path, content: value(i.key), ...(i.mode !== undefined ? { mode: i.mode } : {}) }));
}

/** The kubelet's AtomicWriter limits. */
const MAX_PATH_LENGTH = 4096;
const MAX_FILE_NAME_LENGTH = 255;

/**
 * Why a file path inside a volume is refused, as the kubelet's atomic writer
 * (validatePath) refuses it, or undefined. The apiserver checks the same
 * before storing; this is the node's own check. Pure.
 */
export function volumePathProblem(target: string): string | undefined {
  if (target === '') return `invalid path: must not be empty: ${JSON.stringify(target)}`;
  if (target.startsWith('/')) return `invalid path: must be relative path: ${target}`;
  if (target.includes('\0')) return `invalid path: must not contain NUL: ${JSON.stringify(target)}`;
  if (Buffer.byteLength(target) > MAX_PATH_LENGTH) return `invalid path: must be less than or equal to ${MAX_PATH_LENGTH} characters`;
  const items = target.split('/');
  for (const item of items) {
    if (item === '..') return `invalid path: must not contain '..': ${target}`;
    if (Buffer.byteLength(item) > MAX_FILE_NAME_LENGTH) {
      return `invalid path: filenames must be less than or equal to ${MAX_FILE_NAME_LENGTH} characters`;
    }
  }
  // "..data" and the timestamped folders are the writer's own.
  if ((items[0] ?? '').startsWith('..') && (items[0] ?? '').length > 2) return `invalid path: must not start with '..': ${target}`;
  return undefined;
}

/**
 * `dir` joined with the volume path `rel`, refusing anything that does not
 * land strictly inside `dir`: outside it, or `dir` itself ("." or "a/.."). Pure:
 * it looks at the strings only, which is enough because the writer creates
 * every folder below `dir` itself, so no symlink is on the way.
 */
export function joinInside(dir: string, rel: string): string {
  const problem = volumePathProblem(rel);
  if (problem) throw new Error(problem);
  const root = path.resolve(dir);
  const full = path.resolve(root, rel);
  if (!full.startsWith(root + path.sep)) throw new Error(`invalid path: must name a file inside the volume: ${rel}`);
  // Once cleaned ("./..data" is "..data"), the path must still pass.
  const cleaned = volumePathProblem(path.relative(root, full));
  if (cleaned) throw new Error(cleaned);
  return full;
}

function stamp(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}${String(process.hrtime()[1]).padStart(9, '0').slice(3)}`;
}

export async function writeAtomicVolume(dir: string, files: Array<{ path: string; content: string; mode?: number }>, defaultMode = 0o644): Promise<void> {
  // Every path is checked before anything is written, so a bad one leaves the volume as it was.
  const checked = files.map((f) => ({ ...f, rel: path.relative(path.resolve(dir), joinInside(dir, f.path)) }));
  await mkdir(dir, { recursive: true });
  const version = stamp();
  const versionDir = path.join(dir, version);
  await mkdir(versionDir);
  for (const f of checked) {
    const target = joinInside(versionDir, f.rel);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, f.content);
    await chmod(target, (f.mode ?? defaultMode) & 0o777);
  }
  const tmpLink = path.join(dir, '..data_tmp');
  await rm(tmpLink, { force: true });
  await symlink(version, tmpLink);
  await rename(tmpLink, path.join(dir, '..data'));
  const tops = new Set(checked.map((f) => f.rel.split(path.sep)[0] ?? f.rel));
  for (const top of tops) {
    await symlink(path.join('..data', top), joinInside(dir, top)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
  for (const entry of await readdir(dir)) {
    if (entry === version || entry === '..data') continue;
    if (entry.startsWith('..')) await removeInside(dir, path.join(dir, entry));
    else if (!tops.has(entry)) {
      const link = await readlink(path.join(dir, entry)).catch(() => undefined);
      if (link?.startsWith('..data/')) await rm(path.join(dir, entry), { force: true });
    }
  }
}
