// The node's container runtime: processes in a pod sandbox's namespaces
// (entered through its pause process), as the CRI runtime runs them for the
// kubelet: a container's main process with its stdout/stderr on FIFOs into a
// CRI log file, exec sessions (with or without a terminal) and exec hooks.
// Every process goes through the ProcessLauncher of src/sys.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { ExecOptions, ExecSession } from '../api/pod-streams.js';
import type { LaunchedProcess, ProcessLauncher } from '../sys/launcher.js';
import type { CommandRunner } from '../sys/runner.js';
import { CriLogWriter } from './cri-log.js';
import { enterArgv } from './sandbox.js';
import { closeWriter, openFifo } from './stdio-fifo.js';

/** A container's environment: the runtime's own variables, then the spec's `env` values. Pure. */
export function containerEnv(hostname: string, env: ReadonlyArray<{ name: string; value?: string }> | undefined, tty: boolean): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: hostname,
    HOME: '/root',
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    ...(tty ? { TERM: 'xterm' } : {}),
  };
  for (const e of env ?? []) if (e.value !== undefined) out[e.name] = e.value;
  return out;
}

export class ContainerRuntime {
  constructor(
    private readonly runner: CommandRunner,
    private readonly launcher: ProcessLauncher,
  ) {}

  /**
   * Start a container's main process in the sandbox of `pausePid`, its
   * stdout/stderr logged to `<logBase>.log`. Resolves undefined when
   * `cancelled()` turned true while the FIFOs were being made (a process
   * started then would outlive its terminating pod).
   */
  async startContainer(pausePid: number, argv: string[], env: NodeJS.ProcessEnv, logBase: string, cancelled: () => boolean): Promise<LaunchedProcess | undefined> {
    await mkdir(path.dirname(logBase), { recursive: true });
    if (cancelled()) return undefined;
    await rm(`${logBase}.stdout`, { force: true });
    await rm(`${logBase}.stderr`, { force: true });
    const out = await openFifo(`${logBase}.stdout`, this.runner);
    const err = await openFifo(`${logBase}.stderr`, this.runner);
    const writer = new CriLogWriter(`${logBase}.log`);
    out.reader.on('data', (d: Buffer) => writer.write('stdout', d));
    err.reader.on('data', (d: Buffer) => writer.write('stderr', d));
    let open = 2;
    const closed = () => {
      if (--open === 0) writer.close();
    };
    out.reader.on('close', closed);
    err.reader.on('close', closed);
    if (cancelled()) {
      closeWriter(out);
      closeWriter(err);
      return undefined;
    }
    // Its own process group: a runtime's container ends with its main process
    // (the kernel kills a PID namespace with its init), so what the main
    // process leaves behind (nginx workers of a killed master) is killed with it.
    const proc = this.launcher.spawn(enterArgv(pausePid, argv), { stdio: ['ignore', out.writeFd, err.writeFd], env, detached: true });
    closeWriter(out);
    closeWriter(err);
    proc.onExit(() => proc.killGroup('SIGKILL'));
    return proc;
  }

  /** `kubectl exec`: a session in the sandbox of `pausePid`, on a terminal when asked for. */
  exec(pausePid: number, command: string[], env: NodeJS.ProcessEnv, opts: ExecOptions): ExecSession {
    const argv = enterArgv(pausePid, command);
    if (opts.tty) {
      const term = this.launcher.spawnPty(argv, { cols: 80, rows: 24, env });
      const stdout = new PassThrough();
      term.onData((d) => stdout.write(d));
      const exited = new Promise<{ exitCode: number }>((resolve) =>
        term.onExit(({ exitCode }) => {
          stdout.end();
          resolve({ exitCode });
        }),
      );
      const stdin = new Writable({
        write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
          term.write(chunk.toString());
          cb();
        },
      });
      return { stdin, stdout, resize: (cols, rows) => term.resize(cols, rows), exited, kill: () => term.kill() };
    }
    const proc = this.launcher.spawn(argv, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env });
    const exited = new Promise<{ exitCode: number }>((resolve) => {
      proc.onError(() => resolve({ exitCode: 126 }));
      proc.onExit(({ code, signal }) => resolve({ exitCode: code ?? (signal === 'SIGKILL' ? 137 : 128) }));
    });
    return {
      ...(proc.stdin ? { stdin: proc.stdin } : {}),
      stdout: proc.stdout ?? new PassThrough().end(),
      ...(proc.stderr ? { stderr: proc.stderr } : {}),
      resize: () => {},
      exited,
      kill: () => proc.kill('SIGKILL'),
    };
  }

  /**
   * An exec hook (preStop): true when the command exits 0. Its own process
   * group, so that when its time is up (abort) or it has exited, nothing it
   * started outlives it.
   */
  execHook(pausePid: number, command: string[], env: NodeJS.ProcessEnv, abort: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const proc = this.launcher.spawn(enterArgv(pausePid, command), { env, detached: true });
      let ended = false;
      abort.addEventListener('abort', () => {
        if (!ended) proc.killGroup('SIGKILL');
      });
      proc.onError(() => resolve(false));
      proc.onExit(({ code }) => {
        // What it left running in the background goes with it; after this the group id is not ours to signal.
        proc.killGroup('SIGKILL');
        ended = true;
        resolve(code === 0);
      });
    });
  }
}
