// The DNS process's last resort (src/dns/last-resort.ts, installed by
// src/dns/main.ts): an error nothing caught is logged and the process keeps
// serving; only a process that keeps failing exits (for the kubelet to
// restart it). Driven through an EventEmitter standing in for `process`.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FaultWindow, installLastResort } from '../../../src/dns/last-resort.js';

function harness(maxFaults = 3, windowMs = 1000) {
  const proc = new EventEmitter();
  const lines: string[] = [];
  const exits: number[] = [];
  let now = 0;
  const window = new FaultWindow({ maxFaults, windowMs }, () => now);
  const remove = installLastResort(proc, (l) => lines.push(l), (c) => exits.push(c), window);
  return { proc, lines, exits, remove, advance: (ms: number) => (now += ms) };
}

describe('last-resort handlers of the DNS process', () => {
  it('logs an unhandled rejection and an uncaught exception and keeps running', () => {
    const h = harness();
    h.proc.emit('unhandledRejection', new Error('empty label in "a..com."'));
    h.proc.emit('uncaughtException', new TypeError('boom'));
    expect(h.exits).toEqual([]);
    expect(h.lines[0]).toMatch(/^\[ERROR\] Recovered from unhandledRejection: Error: empty label in "a\.\.com\."/);
    expect(h.lines[1]).toMatch(/^\[ERROR\] Recovered from uncaughtException: TypeError: boom/);
  });

  it('exits 1 once faults keep coming faster than the window allows', () => {
    const h = harness(3, 1000);
    for (let i = 0; i < 3; i++) h.proc.emit('unhandledRejection', 'x');
    expect(h.exits).toEqual([]);
    h.proc.emit('unhandledRejection', 'x');
    expect(h.exits).toEqual([1]);
    expect(h.lines.at(-1)).toMatch(/^\[FATAL\]/);
  });

  it('forgets faults older than the window', () => {
    const h = harness(3, 1000);
    for (let i = 0; i < 10; i++) {
      h.proc.emit('uncaughtException', new Error(`fault ${i}`));
      h.advance(400);
    }
    expect(h.exits).toEqual([]);
  });

  it('removes its handlers', () => {
    const h = harness();
    h.remove();
    expect(h.proc.listenerCount('uncaughtException')).toBe(0);
    expect(h.proc.listenerCount('unhandledRejection')).toBe(0);
  });
});
