// `nslab check FILE`: the lab file's checks run against its running lab;
// the outcomes for the CLI to print, and as JUnit XML when asked for.
import { writeFile } from 'node:fs/promises';
import { LabApiClient } from '../client/api-client.js';
import type { LabRecord } from '../plan/lab-record.js';
import { UsageError } from '../labfile/errors.js';
import { loadLabFile } from '../labfile/parse-lab.js';
import type { CommandRunner } from '../sys/runner.js';
import { files, readJson } from '../sys/state-dir.js';
import { junitXml, type CheckOutcome } from './junit.js';
import { runChecks } from './run-checks.js';

export interface CheckLabResult {
  lab: string;
  /** The lab file as read (absolute). */
  file: string;
  /** False when the lab file has no checks (nothing was run). */
  hasChecks: boolean;
  outcomes: CheckOutcome[];
  passed: number;
  failed: number;
}

export interface CheckLabOptions {
  runner: CommandRunner;
  /** Each check's outcome as it is known. */
  onOutcome?: (o: CheckOutcome) => void;
  /** Also write the outcomes as JUnit XML here. */
  junitFile?: string;
}

/** Runs the checks of the lab file `file` (as the user gave it) against its lab; a UsageError when the lab is not up. */
export async function checkLabFile(file: string, givenAs: string | undefined, opts: CheckLabOptions): Promise<CheckLabResult> {
  const spec = await loadLabFile(file);
  const record = await readJson<LabRecord>(spec.name, files.lab);
  if (!record) throw new UsageError(`lab "${spec.name}" is not up: start it with "sudo nslab up ${givenAs ?? ''}"`.trimEnd());
  if (spec.checks.length === 0) return { lab: spec.name, file: spec.file, hasChecks: false, outcomes: [], passed: 0, failed: 0 };
  const outcomes = await runChecks({ record, api: LabApiClient.forLab(spec.name), runner: opts.runner }, spec.checks, opts.onOutcome);
  const failed = outcomes.filter((o) => !o.passed).length;
  if (opts.junitFile) await writeFile(opts.junitFile, junitXml(spec.name, outcomes));
  return { lab: spec.name, file: spec.file, hasChecks: true, outcomes, passed: outcomes.length - failed, failed };
}
