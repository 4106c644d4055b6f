// Finds the folder a file lives in the way the kernel would, one path
// component at a time, holding each folder open and naming the next one
// through /proc/self/fd/N/<name> (Node has no openat). Whoever owns a folder
// on the way can then not swap it for a symlink between our checks and our
// write: every later step works on the folder we checked. Each symlink
// followed is recorded, with its owner, so the caller decides whom to trust.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** As the kernel's MAXSYMLINKS. */
const MAX_LINKS = 40;

export const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

export interface FollowedLink {
  /** Where the link is, as walked (folders resolved). */
  path: string;
  uid: number;
  /** Owner of the folder the link is in. */
  dirUid: number;
  dirGid: number;
}

export interface Walked {
  /** The deepest folder on the way that exists, open; the caller closes it. */
  dir: FileHandle;
  dirStat: Stats;
  /** That folder's real path, for messages. */
  dirPath: string;
  /** Below `dir`: folders that do not exist yet, then the file's name last. */
  rest: string[];
  /** The file itself (never a symlink here), when it exists. */
  file?: Stats;
  links: FollowedLink[];
}

/** A name inside an open folder, as a path the kernel resolves to exactly that folder. */
export function inDir(dir: FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

export function realPathOf(w: Walked): string {
  return path.join(w.dirPath, ...w.rest);
}

const parts = (p: string) => p.split('/').filter((s) => s !== '' && s !== '.');

async function lstatIfExists(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function fsError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

export async function walkPath(file: string): Promise<Walked> {
  let todo = parts(file.startsWith('/') ? file : `${process.cwd()}/${file}`);
  let dir = await open('/', DIR_FLAGS);
  let dirPath = '/';
  const links: FollowedLink[] = [];
  const moveTo = async (next: FileHandle, nextPath: string) => {
    await dir.close();
    dir = next;
    dirPath = nextPath;
  };
  try {
    while (todo.length > 0) {
      const name = todo[0] ?? '';
      if (name === '..') {
        await moveTo(await open(inDir(dir, '..'), DIR_FLAGS), path.dirname(dirPath));
        todo.shift();
        continue;
      }
      const st = await lstatIfExists(inDir(dir, name));
      if (!st) break;
      if (st.isSymbolicLink()) {
        if (links.length >= MAX_LINKS) throw fsError('ELOOP', `too many symlinks resolving ${file}`);
        const to = await readlink(inDir(dir, name));
        const ds = await dir.stat();
        links.push({ path: path.join(dirPath, name), uid: st.uid, dirUid: ds.uid, dirGid: ds.gid });
        if (to.startsWith('/')) await moveTo(await open('/', DIR_FLAGS), '/');
        todo = [...parts(to), ...todo.slice(1)];
        continue;
      }
      if (todo.length === 1) {
        const dirStat = await dir.stat();
        return { dir, dirStat, dirPath, rest: todo, file: st, links };
      }
      if (!st.isDirectory()) throw fsError('ENOTDIR', `${path.join(dirPath, name)} (on the way to ${file}) is not a folder`);
      // O_NOFOLLOW: a folder swapped for a symlink since the lstat fails here.
      await moveTo(await open(inDir(dir, name), DIR_FLAGS), path.join(dirPath, name));
      todo.shift();
    }
    if (todo.length === 0) throw fsError('EISDIR', `${file} names a folder, not a file`);
    if (todo.includes('..')) throw fsError('ENOENT', `${file} goes through ".." below a folder that does not exist`);
    return { dir, dirStat: await dir.stat(), dirPath, rest: todo, links };
  } catch (e) {
    await dir.close();
    throw e;
  }
}
