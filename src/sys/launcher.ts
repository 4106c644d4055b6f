// The one place that starts long-lived processes (containers, pause
// processes, exec sessions, dnsmasq, the lab's daemon), beside CommandRunner
// for commands that run to completion. Everything above hands over argument
// arrays; unit tests swap in RecordingLauncher (launcher-fake.ts), as kind
// keeps os/exec behind one Cmder.
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import * as pty from 'node-pty';

/** One of the child's fds: closed ('ignore'), a pipe to us, or an fd of ours handed over. */
export type StdioSlot = 'ignore' | 'pipe' | number;

export interface LaunchOptions {
  /** stdin, stdout, stderr, then fds 3, 4, ...; every slot left out is 'ignore'. */
  stdio?: readonly StdioSlot[];
  env?: NodeJS.ProcessEnv;
  /** Its own process group and session, so that killGroup reaches what it starts. */
  detached?: boolean;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchedProcess {
  /** Undefined when it could not be started (an 'error' follows). */
  readonly pid: number | undefined;
  readonly stdin: Writable | undefined;
  readonly stdout: Readable | undefined;
  readonly stderr: Readable | undefined;
  /** The pipe at an fd of 3 or more that stdio asked for. */
  pipe(fd: number): Readable | undefined;
  /** Undefined while it runs. */
  readonly exit: ProcessExit | undefined;
  /** Called once when it exits; returns a function that removes the listener. */
  onExit(listener: (exit: ProcessExit) => void): () => void;
  /** It could not be started, or signalling it failed. */
  onError(listener: (e: Error) => void): void;
  kill(signal?: NodeJS.Signals): void;
  /** Signal its whole process group (detached only); a group that is gone is no error. */
  killGroup(signal: NodeJS.Signals): void;
  /** Do not keep this process's event loop alive for it. */
  unref(): void;
}

export interface PtyOptions {
  env: NodeJS.ProcessEnv;
  cols: number;
  rows: number;
}

export interface PtyProcess {
  onData(listener: (data: string) => void): void;
  onExit(listener: (exit: { exitCode: number }) => void): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  kill(): void;
}

export interface ProcessLauncher {
  spawn(argv: readonly string[], opts?: LaunchOptions): LaunchedProcess;
  /** A process on a pseudo-terminal (kubectl exec -t). */
  spawnPty(argv: readonly string[], opts: PtyOptions): PtyProcess;
  /** Signal a pid (a negative pid: its process group); false when there is no such process. */
  signal(pid: number, signal: NodeJS.Signals): boolean;
  /** The /proc/PID/ns/NS link (which namespace it is in); undefined once it is gone. */
  namespaceOf(pid: number | 'self', ns: string): string | undefined;
}

function split(argv: readonly string[]): [string, string[]] {
  const [file, ...args] = argv;
  if (!file) throw new Error('empty command');
  return [file, args];
}

function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

class ChildLaunched implements LaunchedProcess {
  constructor(private readonly child: ChildProcess) {}
  get pid(): number | undefined {
    return this.child.pid;
  }
  get stdin(): Writable | undefined {
    return this.child.stdin ?? undefined;
  }
  get stdout(): Readable | undefined {
    return this.child.stdout ?? undefined;
  }
  get stderr(): Readable | undefined {
    return this.child.stderr ?? undefined;
  }
  pipe(fd: number): Readable | undefined {
    const s = this.child.stdio[fd];
    return s && 'on' in s && 'read' in s ? (s as Readable) : undefined;
  }
  get exit(): ProcessExit | undefined {
    const { exitCode: code, signalCode: signal } = this.child;
    return code === null && signal === null ? undefined : { code, signal };
  }
  onExit(listener: (exit: ProcessExit) => void): () => void {
    const l = (code: number | null, signal: NodeJS.Signals | null) => listener({ code, signal });
    this.child.once('exit', l);
    return () => this.child.off('exit', l);
  }
  onError(listener: (e: Error) => void): void {
    this.child.once('error', listener);
  }
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }
  killGroup(signal: NodeJS.Signals): void {
    if (this.child.pid !== undefined) signalPid(-this.child.pid, signal);
  }
  unref(): void {
    this.child.unref();
  }
}

export class NodeLauncher implements ProcessLauncher {
  spawn(argv: readonly string[], opts: LaunchOptions = {}): LaunchedProcess {
    const [file, args] = split(argv);
    const stdio = [0, 1, 2].map((i) => opts.stdio?.[i] ?? 'ignore').concat((opts.stdio ?? []).slice(3));
    const child = spawnChild(file, args, {
      stdio,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.detached ? { detached: true } : {}),
    });
    return new ChildLaunched(child);
  }

  spawnPty(argv: readonly string[], opts: PtyOptions): PtyProcess {
    const [file, args] = split(argv);
    const term = pty.spawn(file, args, { name: 'xterm', cols: opts.cols, rows: opts.rows, env: opts.env });
    return {
      onData: (l) => void term.onData(l),
      onExit: (l) => void term.onExit(({ exitCode }) => l({ exitCode })),
      write: (d) => term.write(d),
      resize: (c, r) => term.resize(c, r),
      kill: () => term.kill(),
    };
  }

  signal(pid: number, signal: NodeJS.Signals): boolean {
    return signalPid(pid, signal);
  }

  namespaceOf(pid: number | 'self', ns: string): string | undefined {
    try {
      return readlinkSync(`/proc/${pid}/ns/${ns}`);
    } catch {
      return undefined;
    }
  }
}
