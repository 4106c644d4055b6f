// Drive nslab and kubectl the way a user does, as real processes, with a
// kubeconfig and a kubectl cache of the test's own.
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface Result {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  dir: string;
  kubeconfig: string;
  env: Record<string, string>;
  nslab(args: string[], opts?: { timeoutMs?: number; env?: Record<string, string> }): Promise<Result>;
  kubectl(args: string[], opts?: { kubeconfig?: string; timeoutMs?: number }): Promise<Result>;
  cleanup(): void;
}

async function run(file: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<Result> {
  const r = await execa(file, args, { env, reject: false, timeout: timeoutMs, input: '' });
  return { exitCode: r.exitCode ?? 124, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export function sandbox(): Sandbox {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nslab-test-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  const env = { KUBECONFIG: kubeconfig, KUBECACHEDIR: path.join(dir, 'kube-cache'), HOME: dir };
  return {
    dir,
    kubeconfig,
    env,
    nslab: (args, opts = {}) => run(process.execPath, [CLI, ...args], { ...env, ...opts.env }, opts.timeoutMs ?? 30_000),
    kubectl: (args, opts = {}) =>
      run(
        'kubectl',
        ['--request-timeout=10s', '--cache-dir', env.KUBECACHEDIR, ...args],
        { ...env, KUBECONFIG: opts.kubeconfig ?? kubeconfig },
        opts.timeoutMs ?? 20_000,
      ),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Split kubectl's table output into rows of cells. */
export function rows(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));
}
