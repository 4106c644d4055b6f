// Which kubeconfig file `up` writes to: the first file in $KUBECONFIG, else
// ~/.kube/config of the user who ran sudo (so a plain `kubectl` of theirs
// finds the lab), else root's.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readUserFile, writeUserFile, type Owner } from './user-file.js';

export { UnsafeKubeconfigError } from './user-file.js';

export interface KubeconfigTarget {
  path: string;
  /** Whom the file is written for (the sudo user): it and new folders become theirs. */
  owner?: Owner;
}

interface PasswdEntry {
  home: string;
  uid: number;
  gid: number;
}

export function parsePasswd(text: string, user: string): PasswdEntry | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 7) {
      return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' };
    }
  }
  return undefined;
}

export function resolveKubeconfigTarget(env: NodeJS.ProcessEnv = process.env): KubeconfigTarget {
  const first = (env['KUBECONFIG'] ?? '').split(path.delimiter).find((p) => p.length > 0);
  if (first) return { path: path.resolve(first) };
  const sudoUser = env['SUDO_USER'];
  if (sudoUser && sudoUser !== 'root' && existsSync('/etc/passwd')) {
    const pw = parsePasswd(readFileSync('/etc/passwd', 'utf8'), sudoUser);
    if (pw && pw.home) return { path: path.join(pw.home, '.kube', 'config'), owner: { uid: pw.uid, gid: pw.gid } };
  }
  return { path: path.join(os.homedir(), '.kube', 'config') };
}

/**
 * A file's text, or undefined if it is not there. Read on behalf of the
 * target's owner, or else of whoever owns the folder the file is in: a
 * symlink to a file they do not own, or a file they cannot read, is refused
 * (UnsafeKubeconfigError), so root never reads for them what they could not.
 */
export async function readIfExists(file: string | KubeconfigTarget): Promise<string | undefined> {
  return typeof file === 'string' ? readUserFile(file) : readUserFile(file.path, file.owner);
}

/**
 * Replace the kubeconfig atomically with mode 0600, for the target's owner
 * (the sudo user): the file and any folder created for it become theirs.
 * Throws UnsafeKubeconfigError, naming the path and what to do, rather than
 * write through a symlink into something the user does not own.
 */
export async function writeKubeconfigFile(target: KubeconfigTarget, text: string): Promise<void> {
  await writeUserFile(target.path, text, target.owner);
}
