// The one way nslab deletes a folder tree: only strictly inside a given
// root (the state root, /etc/netns), never the root itself, never through a
// symlink, never by a '..' that climbs out. nslab runs as root, so a bad
// name here would otherwise delete system folders.
import { lstat, realpath, rm } from 'node:fs/promises';
import path from 'node:path';

export class UnsafeRemoveError extends Error {
  constructor(root: string, target: string, why: string) {
    super(`refusing to remove ${JSON.stringify(target)} (root ${JSON.stringify(root)}): ${why}`);
    this.name = 'UnsafeRemoveError';
  }
}

/** Why `target` is not strictly inside `root`, lexically; undefined when it is. Pure. */
export function outsideProblem(root: string, target: string): string | undefined {
  if (!path.isAbsolute(root) || !path.isAbsolute(target)) return 'both paths must be absolute';
  if (target.split('/').includes('..')) return "the path contains '..'";
  const rel = path.relative(path.resolve(root), path.resolve(target));
  if (rel === '') return 'it is the root itself';
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return 'it is not inside the root';
  return undefined;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Removes `target` and everything under it if it lies strictly inside
 * `root`, after resolving symlinks of the root and of the target's parent.
 * A target that is itself a symlink is refused (rm would remove the link,
 * but nslab never makes one, so it is someone else's). Resolves to false
 * when there was nothing to remove.
 */
export async function removeInside(root: string, target: string): Promise<boolean> {
  const lexical = outsideProblem(root, target);
  if (lexical) throw new UnsafeRemoveError(root, target, lexical);
  let realRoot: string;
  let stat;
  try {
    realRoot = await realpath(root);
    stat = await lstat(target);
  } catch (e) {
    if (errno(e) === 'ENOENT') return false;
    throw e;
  }
  if (stat.isSymbolicLink()) throw new UnsafeRemoveError(root, target, 'it is a symbolic link');
  const realTarget = path.join(await realpath(path.dirname(path.resolve(target))), path.basename(target));
  const resolved = outsideProblem(realRoot, realTarget);
  if (resolved) throw new UnsafeRemoveError(root, target, `${resolved} once symbolic links are resolved (${realTarget})`);
  await rm(realTarget, { recursive: true, force: true });
  return true;
}
