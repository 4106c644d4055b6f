// The one place that runs commands. Everything above it hands over argument
// arrays (never shell strings); unit tests swap in the recording fake.
import { execa } from 'execa';

export interface RunOptions {
  input?: string;
  /** Do not throw on a non-zero exit; the caller inspects the result. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

export interface RunResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

export class CommandError extends Error {
  constructor(readonly result: RunResult) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    super(`command failed (exit ${result.exitCode}): ${result.argv.join(' ')}\n${detail}`);
    this.name = 'CommandError';
  }
}

export class ExecaRunner implements CommandRunner {
  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const [file, ...args] = argv;
    if (!file) throw new Error('empty command');
    const r = await execa(file, args, {
      input: opts.input ?? '',
      reject: false,
      timeout: opts.timeoutMs ?? 30_000,
      stripFinalNewline: false,
    });
    const result: RunResult = {
      argv: [...argv],
      exitCode: r.exitCode ?? (r.timedOut ? 124 : 1),
      stdout: String(r.stdout ?? ''),
      stderr: r.failed && r.exitCode === undefined ? `${r.shortMessage}\n` : String(r.stderr ?? ''),
    };
    if (result.exitCode !== 0 && !opts.allowFailure) throw new CommandError(result);
    return result;
  }
}

/** A fake for unit tests: records every command and answers from a script. */
export class RecordingRunner implements CommandRunner {
  readonly calls: Array<{ argv: string[]; input?: string }> = [];
  constructor(private readonly answer: (argv: readonly string[]) => Partial<RunResult> = () => ({})) {}

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], ...(opts.input !== undefined ? { input: opts.input } : {}) });
    const result: RunResult = { argv: [...argv], exitCode: 0, stdout: '', stderr: '', ...this.answer(argv) };
    if (result.exitCode !== 0 && !opts.allowFailure) throw new CommandError(result);
    return result;
  }
}
