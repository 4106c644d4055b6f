// Resolving what the user names: which lab, and which machine inside it.
import { statSync } from 'node:fs';
import { loadLabFile } from '../labfile/parse-lab.js';
import type { CommandRunner } from '../sys/runner.js';
import { labsPresent } from './down.js';
import { assertLabName } from '../labfile/lab-name.js';
import { files, readJson } from '../sys/state-dir.js';
import type { LabRecord } from '../plan/lab-record.js';
import { UsageError } from '../labfile/errors.js';

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * A lab named by name or by its file; with nothing named, the one lab that
 * is up. A name that is neither a lab file nor a valid lab name ('..', '',
 * 'a/b') is a UsageError before anything is touched.
 */
export async function resolveLabName(arg: string | undefined, runner: CommandRunner): Promise<string> {
  if (arg !== undefined) {
    if (/\.ya?ml$/.test(arg) || (arg.includes('/') && isFile(arg))) return assertLabName((await loadLabFile(arg)).name);
    return assertLabName(arg);
  }
  const labs = await labsPresent(runner);
  if (labs.length === 1 && labs[0]) return labs[0];
  if (labs.length === 0) throw new UsageError('no lab is up: start one with "sudo nslab up [LAB_FILE]"');
  throw new UsageError(`several labs are up (${labs.join(', ')}): name one, e.g. --lab ${labs[0]}`);
}

export interface Target {
  kind: 'node' | 'host';
  name: string;
  netns: string;
}

export async function resolveTarget(lab: string, target: string): Promise<Target> {
  const record = await readJson<LabRecord>(lab, files.lab);
  if (!record) throw new UsageError(`lab "${lab}" is not up: start it with "sudo nslab up"`);
  const m = /^(node|host)\/(.+)$/.exec(target);
  if (!m) throw new UsageError(`"${target}" is not a target: use node/NAME or host/NAME`);
  const [, kind, name] = m as unknown as [string, 'node' | 'host', string];
  const list = kind === 'node' ? record.plan.nodes : record.plan.hosts;
  const machine = list.find((x) => x.name === name);
  if (!machine) {
    const known = list.map((x) => `${kind}/${x.name}`).join(', ') || 'none';
    throw new UsageError(`lab "${lab}" has no ${kind} "${name}" (it has: ${known})`);
  }
  return { kind, name, netns: machine.netns };
}
