import type { SpecProblem } from './types.js';

/** One line per problem: `FILE:LINE:COL: FIELD: MESSAGE` (no FIELD part when the problem has none). */
export function formatProblems(problems: readonly SpecProblem[]): string {
  return problems
    .map((p) => `${p.file}:${p.line}:${p.col}: ${p.field ? `${p.field}: ` : ''}${p.message}`)
    .join('\n');
}

/** Problems in file order: by line, then column; ties keep the order they were found in. */
export function sortProblems(problems: readonly SpecProblem[]): SpecProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** A lab file that cannot be used as it is; carries every problem found in it. */
export class LabFileError extends Error {
  readonly problems: SpecProblem[];

  constructor(problems: SpecProblem[]) {
    super(formatProblems(problems));
    this.name = 'LabFileError';
    this.problems = problems;
  }

  format(): string {
    return formatProblems(this.problems);
  }
}

/** Input a user gave wrongly (a command-line argument, a lab name): the CLI prints its message and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
