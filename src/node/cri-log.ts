// Container logs in the CRI format the kubelet reads for `kubectl logs`:
// "<RFC3339Nano time> <stream> <F|P> <text>" per line.
import { createWriteStream, existsSync, readFileSync, statSync, watch, type WriteStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';

function nanoTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** Writes a process's stdout/stderr as CRI log lines. */
export class CriLogWriter {
  private readonly out: WriteStream;
  private readonly partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  constructor(readonly path: string) {
    this.out = createWriteStream(path, { flags: 'a', mode: 0o600 });
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void {
    const text = this.partial[stream] + chunk.toString();
    const lines = text.split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.out.write(`${nanoTime()} ${stream} F ${line}\n`);
  }

  close(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.out.write(`${nanoTime()} ${stream} P ${this.partial[stream]}\n`);
      this.partial[stream] = '';
    }
    this.out.end();
  }
}

export interface CriLine {
  time: string;
  stream: string;
  full: boolean;
  text: string;
}

export function parseCriLine(line: string): CriLine | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/.exec(line);
  return m ? { time: m[1] ?? '', stream: m[2] ?? '', full: m[3] === 'F', text: m[4] ?? '' } : undefined;
}

export interface ReadLogOptions {
  follow: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  limitBytes?: number;
}

export function formatLines(lines: CriLine[], opts: ReadLogOptions, now = Date.now()): string {
  let selected = lines;
  if (opts.sinceSeconds !== undefined) {
    const since = now - opts.sinceSeconds * 1000;
    selected = selected.filter((l) => Date.parse(l.time) >= since);
  }
  if (opts.tailLines !== undefined) selected = selected.slice(Math.max(0, selected.length - opts.tailLines));
  let text = selected.map((l) => `${opts.timestamps ? `${l.time} ` : ''}${l.text}${l.full ? '\n' : ''}`).join('');
  if (opts.limitBytes !== undefined) text = Buffer.from(text).subarray(0, opts.limitBytes).toString();
  return text;
}

function readLines(path: string, from = 0): { lines: CriLine[]; size: number } {
  if (!existsSync(path)) return { lines: [], size: 0 };
  const buf = readFileSync(path);
  const text = buf.subarray(from).toString();
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return {
    lines: complete.split('\n').flatMap((l) => parseCriLine(l) ?? []),
    size: from + Buffer.byteLength(complete),
  };
}

/**
 * A log as a stream; with follow, new lines are streamed until `isDone()`
 * says the container has stopped or the reader goes away.
 */
export function openLog(path: string, opts: ReadLogOptions, isDone: () => boolean): Readable {
  const out = new PassThrough();
  const first = readLines(path);
  out.write(formatLines(first.lines, opts));
  if (!opts.follow) {
    out.end();
    return out;
  }
  let offset = first.size;
  const poll = () => {
    if (existsSync(path) && statSync(path).size > offset) {
      const next = readLines(path, offset);
      offset = next.size;
      out.write(formatLines(next.lines, { ...opts, tailLines: undefined, sinceSeconds: undefined }));
    }
    if (isDone()) stop();
  };
  const watcher = existsSync(path) ? watch(path, poll) : undefined;
  const timer = setInterval(poll, 250);
  const stop = () => {
    clearInterval(timer);
    watcher?.close();
    if (!out.writableEnded) out.end();
  };
  out.on('close', stop);
  return out;
}
