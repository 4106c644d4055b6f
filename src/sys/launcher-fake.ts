// A ProcessLauncher for unit tests: records every process it is asked to
// start and every signal, starts nothing, and lets the test decide when a
// process exits. A signal ends the fake process (as the default action of
// SIGTERM/SIGKILL would) unless the test says it is ignored.
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { LaunchedProcess, LaunchOptions, ProcessExit, ProcessLauncher, PtyOptions, PtyProcess } from './launcher.js';

export class FakeProcess implements LaunchedProcess {
  readonly stdin: Writable | undefined;
  readonly stdout: Readable | undefined;
  readonly stderr: Readable | undefined;
  private readonly pipes = new Map<number, PassThrough>();
  private readonly exitListeners = new Set<(exit: ProcessExit) => void>();
  private readonly errorListeners: Array<(e: Error) => void> = [];
  exit: ProcessExit | undefined;
  /** Signals sent to the process itself, in order. */
  readonly signals: NodeJS.Signals[] = [];
  /** Signals sent to its process group, in order. */
  readonly groupSignals: NodeJS.Signals[] = [];
  /** Signals that do not end it (a process that traps SIGTERM). */
  readonly ignores = new Set<NodeJS.Signals>();
  unrefed = false;

  constructor(
    readonly pid: number,
    readonly argv: string[],
    readonly opts: LaunchOptions,
  ) {
    const slot = (i: number) => opts.stdio?.[i] ?? 'ignore';
    this.stdin = slot(0) === 'pipe' ? new PassThrough() : undefined;
    this.stdout = slot(1) === 'pipe' ? new PassThrough() : undefined;
    this.stderr = slot(2) === 'pipe' ? new PassThrough() : undefined;
    (opts.stdio ?? []).forEach((s, fd) => {
      if (fd >= 3 && s === 'pipe') this.pipes.set(fd, new PassThrough());
    });
  }

  pipe(fd: number): Readable | undefined {
    return this.pipes.get(fd);
  }

  onExit(listener: (exit: ProcessExit) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  onError(listener: (e: Error) => void): void {
    this.errorListeners.push(listener);
  }

  /** The test ends the process: listeners run on the next tick, as a child's 'exit' event would. */
  end(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exit) return;
    this.exit = { code, signal };
    const exit = this.exit;
    for (const s of [this.stdout, this.stderr, ...this.pipes.values()]) (s as PassThrough | undefined)?.end();
    process.nextTick(() => {
      for (const l of [...this.exitListeners]) l(exit);
      this.exitListeners.clear();
    });
  }

  /** The test makes the process fail to start. */
  fail(e: Error): void {
    for (const l of this.errorListeners) l(e);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.signals.push(signal);
    if (!this.ignores.has(signal) || signal === 'SIGKILL') this.end(null, signal);
  }

  killGroup(signal: NodeJS.Signals): void {
    this.groupSignals.push(signal);
  }

  unref(): void {
    this.unrefed = true;
  }
}

export interface FakePty extends PtyProcess {
  readonly argv: string[];
  readonly written: string[];
  /** The test writes output / ends the session. */
  emit(data: string): void;
  end(exitCode: number): void;
}

export class RecordingLauncher implements ProcessLauncher {
  readonly processes: FakeProcess[] = [];
  readonly ptys: FakePty[] = [];
  /** launcher.signal calls by pid, as [pid, signal]. */
  readonly signalled: Array<[number, NodeJS.Signals]> = [];
  private nextPid = 1000;

  /** `onSpawn` may script a process as it starts (end it at once, make it ignore SIGTERM, ...). */
  constructor(private readonly onSpawn: (p: FakeProcess) => void = () => {}) {}

  spawn(argv: readonly string[], opts: LaunchOptions = {}): FakeProcess {
    const p = new FakeProcess(this.nextPid++, [...argv], opts);
    this.processes.push(p);
    this.onSpawn(p);
    return p;
  }

  spawnPty(argv: readonly string[], _opts: PtyOptions): FakePty {
    const data: Array<(d: string) => void> = [];
    const exits: Array<(e: { exitCode: number }) => void> = [];
    const written: string[] = [];
    const t: FakePty = {
      argv: [...argv],
      written,
      onData: (l) => void data.push(l),
      onExit: (l) => void exits.push(l),
      write: (d) => void written.push(d),
      resize: () => {},
      kill: () => t.end(129),
      emit: (d) => data.forEach((l) => l(d)),
      end: (exitCode) => exits.splice(0).forEach((l) => l({ exitCode })),
    };
    this.ptys.push(t);
    return t;
  }

  signal(pid: number, signal: NodeJS.Signals): boolean {
    this.signalled.push([pid, signal]);
    const p = this.processes.find((q) => q.pid === Math.abs(pid));
    if (!p || p.exit) return false;
    if (pid > 0) p.kill(signal);
    else p.killGroup(signal);
    return true;
  }

  /** A started process is in namespaces of its own (as the pause process is once nsenter and unshare ran). */
  namespaceOf(pid: number | 'self', ns: string): string | undefined {
    if (pid === 'self') return `${ns}:[self]`;
    const p = this.processes.find((q) => q.pid === pid);
    return p && !p.exit ? `${ns}:[${pid}]` : undefined;
  }

  /** The processes whose argv contains every one of these words, in start order. */
  find(...words: string[]): FakeProcess[] {
    return this.processes.filter((p) => words.every((w) => p.argv.includes(w)));
  }
}
