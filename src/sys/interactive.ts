// Commands the user drives directly (stdin, stdout, stderr and the TTY passed through).
import { spawn } from 'node:child_process';

/** Run argv attached to this terminal; resolves with its exit status (128+n for signal n). */
export function runAttached(argv: readonly string[]): Promise<number> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
      resolve(code ?? 128 + (signal ? (signals[signal] ?? 1) : 1));
    });
  });
}

export function netnsExecArgv(netns: string, command: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', netns, ...command];
}
