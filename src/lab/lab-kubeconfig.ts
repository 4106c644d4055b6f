// `nslab kubeconfig LAB`: the lab's own kubeconfig file (its context only),
// as `kind get kubeconfig` prints one.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../labfile/errors.js';
import { files, statePath } from '../sys/state-dir.js';

export async function labKubeconfig(lab: string): Promise<string> {
  try {
    return await readFile(statePath(lab, files.kubeconfig), 'utf8');
  } catch {
    throw new UsageError(`lab "${lab}" has no kubeconfig: is it up? ("sudo nslab up")`);
  }
}
