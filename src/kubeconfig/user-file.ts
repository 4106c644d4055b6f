// Reading and writing a kubeconfig in someone else's folder as root, without
// letting the owner of that folder turn the write against root: no symlink
// leads us to a file or folder the user does not own, the temporary file is
// created exclusively under a random name, and nothing we create or chown is
// reached through a path the user could swap in the meantime (see walk.ts).
//
// A user's own symlink to their own file keeps working as it does for
// kubectl (which writes through the link): we replace the file the link
// resolves to and keep the link.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DIR_FLAGS, inDir, realPathOf, walkPath, type Walked } from './walk.js';

export interface Owner {
  uid: number;
  gid: number;
}

/** A kubeconfig path nslab will not read or write, with what to do about it. */
export class UnsafeKubeconfigError extends Error {
  override name = 'UnsafeKubeconfigError';
}

const ownerOf = (s: Stats): Owner => ({ uid: s.uid, gid: s.gid });

function refuse(verb: 'read' | 'write', file: string, why: string, fix = 'remove the link or set KUBECONFIG'): UnsafeKubeconfigError {
  return new UnsafeKubeconfigError(`refusing to ${verb} ${file}: ${why}; ${fix}`);
}

/** Symlinks root made are plumbing (/var/run -> /run) and trusted like folders. */
const userLinks = (w: Walked) => w.links.filter((l) => l.uid !== 0);

/**
 * Whom a file is for when nobody said: the owner of the folder holding the
 * first symlink someone other than root made, else of the file's folder.
 */
function inferUser(w: Walked): Owner {
  const first = userLinks(w)[0];
  return first ? { uid: first.dirUid, gid: first.dirGid } : ownerOf(w.dirStat);
}

/** The rules that hold before any file is opened: whom the path leads to. */
function checkPath(verb: 'read' | 'write', file: string, w: Walked, user: Owner): void {
  const real = realPathOf(w);
  const links = userLinks(w);
  const foreign = links.find((l) => l.uid !== user.uid);
  if (foreign) {
    const trusted = user.uid === 0 ? 'root' : `UID ${user.uid} or root`;
    throw refuse(verb, file, `it goes through the symlink ${foreign.path}, owned by UID ${foreign.uid}, not by ${trusted}`);
  }
  if (links.length > 0) {
    const lead = links[0]?.path === path.resolve(file) ? `it is a symlink to ${real}` : `it resolves through a symlink to ${real}`;
    if (w.file && w.file.uid !== user.uid) throw refuse(verb, file, `${lead}, which UID ${user.uid} does not own`);
    if (w.dirStat.uid !== user.uid) throw refuse(verb, file, `${lead}, in ${w.dirPath}, which UID ${user.uid} does not own`);
  }
  if (w.file && !w.file.isFile()) throw refuse(verb, file, `${real} is not a regular file`, 'remove it or set KUBECONFIG');
}

function readableBy(s: Stats, user: Owner): boolean {
  if (user.uid === 0) return true;
  if (s.uid === user.uid) return (s.mode & 0o400) !== 0;
  if (s.gid === user.gid) return (s.mode & 0o040) !== 0;
  return (s.mode & 0o004) !== 0;
}

/**
 * The file's text, or undefined if it does not exist. `user` is whom it is
 * read for; without one, see inferUser.
 */
export async function readUserFile(file: string, user?: Owner): Promise<string | undefined> {
  const w = await walkPath(file);
  try {
    const name = w.rest[0];
    if (w.rest.length !== 1 || !w.file || name === undefined) return undefined;
    const who = user ?? inferUser(w);
    checkPath('read', file, w, who);
    let fh: FileHandle;
    try {
      // O_NONBLOCK: a FIFO swapped in after the check must not hang root.
      fh = await open(inDir(w.dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      // Judge the file we hold open, not the one we looked at before.
      const s = await fh.stat();
      const real = realPathOf(w);
      if (!s.isFile()) throw refuse('read', file, `${real} is not a regular file`, 'remove it or set KUBECONFIG');
      if (userLinks(w).length > 0 && s.uid !== who.uid) throw refuse('read', file, `it is a symlink to ${real}, which UID ${who.uid} does not own`);
      if (!readableBy(s, who)) {
        const mode = (s.mode & 0o777).toString(8).padStart(4, '0');
        throw refuse('read', file, `${real} (UID ${s.uid}, mode ${mode}) is not readable by UID ${who.uid}`, `give it to UID ${who.uid} (chown) or set KUBECONFIG`);
      }
      return await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } finally {
    await w.dir.close();
  }
}

/** A folder we create for the user: 0700, theirs. */
async function makeDir(parent: FileHandle, name: string, owner: Owner): Promise<FileHandle> {
  await mkdir(inDir(parent, name), { mode: 0o700 });
  const fh = await open(inDir(parent, name), DIR_FLAGS);
  try {
    if ((await fh.stat()).uid !== process.geteuid?.()) throw new UnsafeKubeconfigError(`folder ${name} was replaced while nslab created it`);
    await fh.chmod(0o700);
    await fh.chown(owner.uid, owner.gid);
    return fh;
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Write `text` to a new file next to `name` and rename it over `name`. */
async function replaceInDir(dir: FileHandle, name: string, text: string, owner: Owner | undefined): Promise<void> {
  const tmp = inDir(dir, `.${name}.nslab-${randomBytes(12).toString('hex')}`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const fh = await open(tmp, flags, 0o600);
  try {
    try {
      await fh.writeFile(text, 'utf8');
      await fh.chmod(0o600);
      if (owner) await fh.chown(owner.uid, owner.gid);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, inDir(dir, name));
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/**
 * Replace the file atomically with mode 0600. `owner` is whom it is written
 * for: the file and any folder created on the way become theirs. Without one,
 * it is written for the user inferUser finds, and an existing file keeps its
 * owner.
 */
export async function writeUserFile(file: string, text: string, owner?: Owner): Promise<void> {
  const w = await walkPath(file);
  const opened: FileHandle[] = [w.dir];
  try {
    const who = owner ?? inferUser(w);
    checkPath('write', file, w, who);
    let dir = w.dir;
    for (const name of w.rest.slice(0, -1)) {
      dir = await makeDir(dir, name, who);
      opened.push(dir);
    }
    const name = w.rest[w.rest.length - 1] ?? '';
    await replaceInDir(dir, name, text, owner ?? (w.file ? ownerOf(w.file) : who));
  } finally {
    for (const fh of opened) await fh.close();
  }
}
