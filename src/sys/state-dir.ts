// A lab's state folder: everything nslab writes for a lab outside its
// namespaces lives here (/run/nslab/<lab>, gone at reboot like the netns).
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertLabName, isLabName } from '../labfile/lab-name.js';
import { removeInside } from './safe-remove.js';

export function stateRoot(): string {
  return path.resolve(process.env['NSLAB_STATE_DIR'] ?? '/run/nslab');
}

/** The lab's folder; the name is checked here too, so no caller can make it climb out of the state root. */
export function labStateDir(lab: string): string {
  return path.join(stateRoot(), assertLabName(lab));
}

export interface ApiRecord {
  pid: number;
  url: string;
  port: number;
}

export interface KubeconfigRecord {
  /** The kubeconfig file `up` merged the lab's context into. */
  path: string;
  context: string;
}

export const files = {
  lab: 'lab.json',
  api: 'api.json',
  pid: 'daemon.pid',
  socket: 'api.sock',
  log: 'daemon.log',
  kubeconfig: 'kubeconfig',
  kubeconfigTarget: 'kubeconfig-target.json',
  pki: 'pki',
  /** One file per network namespace the lab made, holding its inode (see netns-record.ts). */
  netns: 'netns',
} as const;

export function statePath(lab: string, file: string): string {
  return path.join(labStateDir(lab), file);
}

export async function ensureStateDir(lab: string): Promise<string> {
  const dir = labStateDir(lab);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export async function writeJson(lab: string, file: string, value: unknown, mode = 0o600): Promise<void> {
  await writeFile(statePath(lab, file), `${JSON.stringify(value, null, 2)}\n`, { mode });
}

export async function readJson<T>(lab: string, file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(statePath(lab, file), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Labs with a state folder; entries that are not valid lab names (or not folders) are not labs and are ignored. */
export async function listStateLabs(): Promise<string[]> {
  if (!existsSync(stateRoot())) return [];
  return (await readdir(stateRoot(), { withFileTypes: true })).filter((d) => d.isDirectory() && isLabName(d.name)).map((d) => d.name);
}

export async function removeStateDir(lab: string): Promise<void> {
  await removeInside(stateRoot(), labStateDir(lab));
}

/**
 * Why a path cannot be trusted to hold what only root wrote: it must be a
 * real folder or file (not a symlink) owned by root and writable by nobody
 * else. Undefined when it is fine.
 */
export async function untrustedProblem(p: string, kind: 'dir' | 'file'): Promise<string | undefined> {
  let st;
  try {
    st = await lstat(p);
  } catch {
    return `${p} does not exist`;
  }
  if (kind === 'dir' ? !st.isDirectory() : !st.isFile()) return `${p} is not a ${kind === 'dir' ? 'folder' : 'regular file'}`;
  if (st.uid !== 0) return `${p} is not owned by root`;
  if ((st.mode & 0o022) !== 0) return `${p} is writable by group or others`;
  return undefined;
}

/** Why the lab's folder (and the state root) cannot be trusted to hold only what root wrote; undefined when they can. */
export async function labDirProblem(lab: string): Promise<string | undefined> {
  return (await untrustedProblem(stateRoot(), 'dir')) ?? (await untrustedProblem(labStateDir(lab), 'dir'));
}

export type PidFile = { pid: number } | { problem: string };

/** The daemon pid the lab's pid file names, read only from a root-owned state root and lab folder. */
export async function readPidFile(lab: string): Promise<PidFile> {
  const problem = (await labDirProblem(lab)) ?? (await untrustedProblem(statePath(lab, files.pid), 'file'));
  if (problem) return { problem };
  const text = await readFile(statePath(lab, files.pid), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 1 ? { pid } : { problem: `${statePath(lab, files.pid)} holds no pid` };
}
