// Comparing a check's result with its expectation. A string is a substring
// to find; /.../flags is a regular expression. No expectation means exit 0.
import type { CheckExpectation } from '../labfile/types.js';

export interface Observed {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function matcher(pattern: string): (text: string) => boolean {
  const re = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  if (re) {
    const regex = new RegExp(re[1] ?? '', re[2]);
    return (text) => regex.test(text);
  }
  return (text) => text.includes(pattern);
}

/** Why the observation does not meet the expectation, or undefined if it does. */
export function mismatch(expect: CheckExpectation, got: Observed): string | undefined {
  const wantExit = expect.exitCode ?? 0;
  const problems: string[] = [];
  if (got.exitCode !== wantExit) problems.push(`exit code ${got.exitCode}, expected ${wantExit}`);
  for (const stream of ['stdout', 'stderr'] as const) {
    const pattern = expect[stream];
    if (pattern !== undefined && !matcher(pattern)(got[stream])) {
      const shown = got[stream].trim().split('\n').slice(0, 3).join(' | ').slice(0, 200);
      problems.push(`${stream} ${shown ? `"${shown}"` : 'is empty'}, expected ${pattern.startsWith('/') ? 'to match' : 'to contain'} ${JSON.stringify(pattern)}`);
    }
  }
  return problems.length ? problems.join('; ') : undefined;
}
