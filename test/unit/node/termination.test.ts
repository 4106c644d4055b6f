// How a container of a deleted pod stops: preStop first (bounded by the
// grace period), then the stop signal, SIGKILL when the rest of the grace
// period (at least 2 s) runs out; shorter grace periods bring it forward.
// Driven with fake timers and a fake container that records what it got when.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ContainerStopper, effectiveGracePeriod, MINIMUM_GRACE_PERIOD_SECONDS, preStopAction, type StopTarget } from '../../../src/node/termination.js';

interface FakeContainer extends StopTarget {
  got: Array<[number, NodeJS.Signals]>;
  exit(): void;
  hookRuns: number;
  hookAborted: boolean;
}

/** A container that exits on `exitsOn` (or never), with a hook that ends after hookMs (or never), succeeding or not. */
function container(o: { exitsOn?: NodeJS.Signals[]; hookMs?: number | 'never'; hookOk?: boolean; stopSignal?: NodeJS.Signals } = {}): FakeContainer {
  const t0 = Date.now();
  let exit: () => void = () => {};
  const exited = new Promise<void>((r) => (exit = r));
  const c: FakeContainer = {
    stopSignal: o.stopSignal ?? 'SIGTERM',
    got: [],
    hookRuns: 0,
    hookAborted: false,
    exited,
    exit: () => exit(),
    signal(sig) {
      c.got.push([Date.now() - t0, sig]);
      if (sig === 'SIGKILL' || (o.exitsOn ?? []).includes(sig)) exit();
    },
  };
  if (o.hookMs !== undefined) {
    c.preStop = (abort) =>
      new Promise<boolean>((resolve) => {
        c.hookRuns++;
        const t = o.hookMs === 'never' ? undefined : setTimeout(() => resolve(o.hookOk ?? true), o.hookMs);
        abort.addEventListener('abort', () => {
          clearTimeout(t);
          c.hookAborted = true;
          resolve(false);
        });
      });
  }
  return c;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('stopping a container', () => {
  it('without preStop: the stop signal at once, SIGKILL when the grace period ends', async () => {
    const c = container();
    const s = new ContainerStopper(c, 30);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(c.got).toEqual([[0, 'SIGTERM']]);
    await vi.advanceTimersByTimeAsync(1);
    await s.done;
    expect(c.got).toEqual([
      [0, 'SIGTERM'],
      [30_000, 'SIGKILL'],
    ]);
  });

  it("sends the image's stop signal (nginx: SIGQUIT) and no SIGKILL to a container that stops on it", async () => {
    const c = container({ stopSignal: 'SIGQUIT', exitsOn: ['SIGQUIT'] });
    const s = new ContainerStopper(c, 30);
    await vi.advanceTimersByTimeAsync(60_000);
    await s.done;
    expect(c.got).toEqual([[0, 'SIGQUIT']]);
  });

  it('runs preStop first: the container keeps running (no signal) until the hook ends, then gets the rest of the grace period', async () => {
    const c = container({ hookMs: 3_000 });
    const s = new ContainerStopper(c, 30);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(c.got).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.got).toEqual([[3_000, 'SIGTERM']]);
    await vi.advanceTimersByTimeAsync(27_000);
    await s.done;
    // 30 s in all: 3 s of hook, 27 s after the signal.
    expect(c.got).toEqual([
      [3_000, 'SIGTERM'],
      [30_000, 'SIGKILL'],
    ]);
  });

  it('cuts a hook that overruns the grace period, then still allows 2 s between the stop signal and SIGKILL', async () => {
    const timedOut = vi.fn();
    const c = container({ hookMs: 'never' });
    const s = new ContainerStopper(c, 5, { onHookTimedOut: timedOut });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(c.hookAborted).toBe(true);
    expect(timedOut).toHaveBeenCalledOnce();
    expect(c.got).toEqual([[5_000, 'SIGTERM']]);
    await vi.advanceTimersByTimeAsync(MINIMUM_GRACE_PERIOD_SECONDS * 1000);
    await s.done;
    expect(c.got).toEqual([
      [5_000, 'SIGTERM'],
      [7_000, 'SIGKILL'],
    ]);
  });

  it('reports a failed hook and stops the container right after it', async () => {
    const failed = vi.fn();
    const c = container({ hookMs: 100, hookOk: false, exitsOn: ['SIGTERM'] });
    const s = new ContainerStopper(c, 30, { onHookFailed: failed });
    await vi.advanceTimersByTimeAsync(100);
    await s.done;
    expect(failed).toHaveBeenCalledOnce();
    expect(c.got).toEqual([[100, 'SIGTERM']]);
  });

  it('skips the hook when the grace period is 0', async () => {
    const c = container({ hookMs: 1_000, exitsOn: ['SIGTERM'] });
    const s = new ContainerStopper(c, 0);
    await vi.advanceTimersByTimeAsync(0);
    await s.done;
    expect(c.hookRuns).toBe(0);
    expect(c.got).toEqual([[0, 'SIGTERM']]);
  });

  it('a shorter grace period during the hook: the hook gets what is left of it, then the 2 s minimum', async () => {
    const c = container({ hookMs: 20_000 });
    const s = new ContainerStopper(c, 30);
    await vi.advanceTimersByTimeAsync(1_000);
    s.shorten(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(c.hookAborted).toBe(true);
    expect(c.got).toEqual([[2_000, 'SIGTERM']]);
    await vi.advanceTimersByTimeAsync(2_000);
    await s.done;
    expect(c.got.at(-1)).toEqual([4_000, 'SIGKILL']);
  });

  it('a shorter grace period after the signal brings SIGKILL forward, never back', async () => {
    const c = container();
    const s = new ContainerStopper(c, 30);
    await vi.advanceTimersByTimeAsync(1_000);
    s.shorten(40);
    s.shorten(5);
    await vi.advanceTimersByTimeAsync(5_000);
    await s.done;
    expect(c.got).toEqual([
      [0, 'SIGTERM'],
      [6_000, 'SIGKILL'],
    ]);
  });

  it('killNow (the lab goes away): the hook is abandoned, the stop signal and SIGKILL follow at once', async () => {
    const failed = vi.fn();
    const c = container({ hookMs: 10_000 });
    const s = new ContainerStopper(c, 30, { onHookFailed: failed });
    await vi.advanceTimersByTimeAsync(500);
    s.killNow();
    await vi.advanceTimersByTimeAsync(0);
    await s.done;
    expect(c.hookAborted).toBe(true);
    expect(failed).not.toHaveBeenCalled();
    expect(c.got).toEqual([
      [500, 'SIGTERM'],
      [500, 'SIGKILL'],
    ]);
  });

  it('a container that dies during its hook is not signalled', async () => {
    const c = container({ hookMs: 10_000 });
    const s = new ContainerStopper(c, 30);
    await vi.advanceTimersByTimeAsync(1_000);
    c.exit();
    await vi.advanceTimersByTimeAsync(60_000);
    await s.done;
    expect(c.hookAborted).toBe(true);
    expect(c.got).toEqual([]);
  });
});

describe('the grace period the kubelet kills with', () => {
  it('takes the delete request over the spec, only ever decreases, and is at least 1 s', () => {
    expect(effectiveGracePeriod(0, undefined, 30)).toBe(30);
    expect(effectiveGracePeriod(0, 10, 30)).toBe(10);
    expect(effectiveGracePeriod(10, 20, 30)).toBe(10);
    expect(effectiveGracePeriod(10, 3, 30)).toBe(3);
    // A force delete (grace 0) leaves the pod 1 s, whatever the spec says.
    expect(effectiveGracePeriod(0, 0, 30)).toBe(1);
    expect(effectiveGracePeriod(30, 0, 30)).toBe(1);
    expect(effectiveGracePeriod(0, undefined, undefined)).toBe(1);
  });
});

describe('preStop handlers', () => {
  it('reads exec, sleep and httpGet; ignores tcpSocket and malformed ones', () => {
    expect(preStopAction({ preStop: { exec: { command: ['sh', '-c', 'sleep 5'] } } })).toEqual({ kind: 'exec', command: ['sh', '-c', 'sleep 5'] });
    expect(preStopAction({ preStop: { sleep: { seconds: 5 } } })).toEqual({ kind: 'sleep', seconds: 5 });
    expect(preStopAction({ preStop: { httpGet: { path: '/drain', port: 80 } } })).toEqual({ kind: 'httpGet', probe: { httpGet: { path: '/drain', port: 80 } } });
    expect(preStopAction({ preStop: { tcpSocket: { port: 80 } } })).toBeUndefined();
    expect(preStopAction({ preStop: { exec: { command: [] } } })).toBeUndefined();
    expect(preStopAction({ preStop: { exec: { command: ['sh', 3] } } })).toBeUndefined();
    expect(preStopAction({ preStop: { sleep: { seconds: -1 } } })).toBeUndefined();
    expect(preStopAction({ postStart: { sleep: { seconds: 1 } } })).toBeUndefined();
    expect(preStopAction(undefined)).toBeUndefined();
  });
});
