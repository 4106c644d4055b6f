// A container's stdout/stderr as FIFOs, as container runtimes give them:
// programs like nginx reopen /dev/stdout, which works for a FIFO but not for
// the socket pair Node's 'pipe' stdio would be.
import { closeSync, constants, openSync } from 'node:fs';
import net from 'node:net';
import type { CommandRunner } from '../sys/runner.js';

export interface FifoPair {
  /** Give this to the child as its fd. */
  writeFd: number;
  /** Data the child writes; ends when every writer has closed it. */
  reader: net.Socket;
}

export async function openFifo(path: string, runner: CommandRunner): Promise<FifoPair> {
  await runner.run(['mkfifo', '-m', '600', path]);
  // The reader first and non-blocking, so opening the writer does not wait.
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(path, constants.O_WRONLY);
  return { writeFd, reader: new net.Socket({ fd: readFd, readable: true, writable: false }) };
}

export function closeWriter(p: FifoPair): void {
  try {
    closeSync(p.writeFd);
  } catch {
    // already closed
  }
}
