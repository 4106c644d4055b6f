// ConfigMap volumes, written the way the kubelet's atomic writer does: the
// data in a timestamped folder, "..data" pointing at it, one symlink per key.
// Swapping "..data" makes an update appear at once through the bind mount.
import { chmod, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

/** Which files a ConfigMap volume holds: every key, or the listed items. Pure. */
export function volumeFiles(data: Record<string, string>, items?: KeyToPath[]): Array<{ path: string; content: string; mode?: number }> {
  if (!items?.length) return Object.keys(data).sort().map((k) => ({ path: k, content: data[k] ?? '' }));
  return items.filter((i) => i.key in data).map((i) => ({ path: i.path, content: data[i.key] ?? '', ...(i.mode !== undefined ? { mode: i.mode } : {}) }));
}

function stamp(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}${String(process.hrtime()[1]).padStart(9, '0').slice(3)}`;
}

export async function writeAtomicVolume(dir: string, files: Array<{ path: string; content: string; mode?: number }>, defaultMode = 0o644): Promise<void> {
  await mkdir(dir, { recursive: true });
  const version = stamp();
  const versionDir = path.join(dir, version);
  await mkdir(versionDir);
  for (const f of files) {
    const target = path.join(versionDir, f.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, f.content);
    await chmod(target, f.mode ?? defaultMode);
  }
  const tmpLink = path.join(dir, '..data_tmp');
  await rm(tmpLink, { force: true });
  await symlink(version, tmpLink);
  await rename(tmpLink, path.join(dir, '..data'));
  const tops = new Set(files.map((f) => f.path.split('/')[0] ?? f.path));
  for (const top of tops) {
    await symlink(path.join('..data', top), path.join(dir, top)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
  for (const entry of await readdir(dir)) {
    if (entry === version || entry === '..data') continue;
    if (entry.startsWith('..')) await rm(path.join(dir, entry), { recursive: true, force: true });
    else if (!tops.has(entry)) {
      const link = await readlink(path.join(dir, entry)).catch(() => undefined);
      if (link?.startsWith('..data/')) await rm(path.join(dir, entry), { force: true });
    }
  }
}
