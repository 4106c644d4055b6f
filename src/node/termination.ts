// How the kubelet stops a container of a deleted pod, as kuberuntime's
// killContainer does: the preStop hook first, bounded by the grace period;
// then the image's stop signal; SIGKILL once what is left of the grace
// period has run out, never sooner than 2 s after the signal
// (minimumGracePeriodInSeconds). A later, shorter grace period (a second
// `kubectl delete --grace-period`, a force delete) brings the deadlines
// forward, as the pod worker's "grace period can only decrease" does.
import type { HttpGetProbe } from './probes.js';

/** kuberuntime's minimumGracePeriodInSeconds: the least time between the stop signal and SIGKILL. */
export const MINIMUM_GRACE_PERIOD_SECONDS = 2;

/**
 * The grace period the pod worker kills with (calculateEffectiveGracePeriod):
 * it only ever decreases; the apiserver's deletionGracePeriodSeconds wins
 * over the spec; 0 (a force delete) and anything below 1 become 1.
 * `current` is 0 while the pod is not terminating yet.
 */
export function effectiveGracePeriod(current: number, deletionGrace: number | undefined, specGrace: number | undefined): number {
  let grace = current;
  let overridden = false;
  if (deletionGrace !== undefined && (grace === 0 || deletionGrace < grace)) {
    grace = deletionGrace;
    overridden = true;
  }
  if (!overridden && grace === 0 && specGrace !== undefined) grace = specGrace;
  return grace < 1 ? 1 : Math.trunc(grace);
}

/** A container's lifecycle.preStop handler, as the kubelet's handler runner tells the kinds apart. */
export type PreStopAction =
  | { kind: 'exec'; command: string[] }
  | { kind: 'sleep'; seconds: number }
  | { kind: 'httpGet'; probe: HttpGetProbe };

/** The preStop action of a container spec's `lifecycle`, or undefined when it has none (or none the kubelet runs). */
export function preStopAction(lifecycle: unknown): PreStopAction | undefined {
  if (!isObject(lifecycle) || !isObject(lifecycle['preStop'])) return undefined;
  const h = lifecycle['preStop'];
  if (isObject(h['exec'])) {
    const command = h['exec']['command'];
    if (Array.isArray(command) && command.length > 0 && command.every((c): c is string => typeof c === 'string')) return { kind: 'exec', command };
    return undefined;
  }
  if (isObject(h['httpGet'])) return { kind: 'httpGet', probe: { httpGet: h['httpGet'] as HttpGetProbe['httpGet'] } };
  if (isObject(h['sleep'])) {
    const seconds = h['sleep']['seconds'];
    if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) return { kind: 'sleep', seconds: Math.trunc(seconds) };
  }
  // tcpSocket is accepted by the API for compatibility and never run by the kubelet.
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The container as the stopper drives it. */
export interface StopTarget {
  /** The image's STOPSIGNAL (SIGTERM unless the image says otherwise; nginx: SIGQUIT). */
  stopSignal: NodeJS.Signals;
  signal(sig: NodeJS.Signals): void;
  /** Resolves once the container's process has exited. */
  exited: Promise<void>;
  /**
   * Runs the preStop hook: resolves true when it succeeded, false when it
   * failed. Aborting the signal must end it (kill its process, stop its
   * timer) and settle the promise.
   */
  preStop?: (abort: AbortSignal) => Promise<boolean>;
}

export interface StopperOptions {
  /** The hook failed (the kubelet records a FailedPreStopHook event). */
  onHookFailed?: () => void;
  /** The hook was still running when its share of the grace period ran out. */
  onHookTimedOut?: () => void;
  now?: () => number;
}

/** One container's way from running to stopped; `done` resolves when its process is gone. */
export class ContainerStopper {
  readonly done: Promise<void>;
  private readonly now: () => number;
  /** Start of the current kill attempt and its grace period (both move when the grace is shortened). */
  private start: number;
  private grace: number;
  private phase: 'hook' | 'signalled' | 'exited' = 'hook';
  private hookAbort: AbortController | undefined;
  private hookTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private killAt = Infinity;
  private endHook: (() => void) | undefined;

  constructor(
    private readonly target: StopTarget,
    graceSeconds: number,
    private readonly opts: StopperOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.start = this.now();
    this.grace = Math.max(0, graceSeconds);
    this.done = target.exited.then(() => this.finish());
    void this.run();
  }

  /** A shorter grace period arrived: deadlines move forward, never back. */
  shorten(graceSeconds: number): void {
    if (this.phase === 'exited') return;
    const elapsed = Math.floor((this.now() - this.start) / 1000);
    if (graceSeconds >= this.grace - elapsed) return;
    if (this.phase === 'hook') {
      this.start = this.now();
      this.grace = Math.max(0, graceSeconds);
      this.armHookTimer();
      return;
    }
    this.armKill(Math.max(MINIMUM_GRACE_PERIOD_SECONDS, graceSeconds) * 1000);
  }

  /** The lab is going away: no hook, no grace. */
  killNow(): void {
    if (this.phase === 'exited') return;
    this.hookAbort?.abort();
    if (this.phase === 'hook') {
      this.phase = 'signalled';
      this.target.signal(this.target.stopSignal);
    }
    this.armKill(0);
  }

  private async run(): Promise<void> {
    const hook = this.target.preStop;
    if (hook && this.grace > 0) {
      const abort = new AbortController();
      this.hookAbort = abort;
      const ended = new Promise<void>((resolve) => (this.endHook = resolve));
      this.armHookTimer();
      const result = hook(abort.signal).then(
        (ok) => ({ ok }),
        () => ({ ok: false }),
      );
      // The hook ends, its time runs out, or the container dies under it.
      const first = await Promise.race([result, ended.then(() => undefined), this.target.exited.then(() => undefined)]);
      clearTimeout(this.hookTimer);
      // Ended from outside (killNow, the container's exit): neither a failure nor a timeout.
      const cut = abort.signal.aborted || this.phase !== 'hook';
      if (!cut && first === undefined) this.opts.onHookTimedOut?.();
      if (!cut && first !== undefined && !first.ok) this.opts.onHookFailed?.();
      abort.abort();
    }
    if (this.phase !== 'hook') return;
    this.phase = 'signalled';
    // executePreStopHook reports whole seconds spent; the rest of the grace period, at least 2 s, is the stop timeout.
    const spent = Math.floor((this.now() - this.start) / 1000);
    const stopGrace = Math.max(MINIMUM_GRACE_PERIOD_SECONDS, this.grace - spent);
    this.target.signal(this.target.stopSignal);
    this.armKill(stopGrace * 1000);
  }

  private armHookTimer(): void {
    clearTimeout(this.hookTimer);
    const left = Math.max(0, this.start + this.grace * 1000 - this.now());
    this.hookTimer = setTimeout(() => this.endHook?.(), left);
  }

  private armKill(afterMs: number): void {
    const at = this.now() + afterMs;
    if (at >= this.killAt) return;
    this.killAt = at;
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => {
      if (this.phase !== 'exited') this.target.signal('SIGKILL');
    }, afterMs);
  }

  private finish(): void {
    this.phase = 'exited';
    this.hookAbort?.abort();
    clearTimeout(this.hookTimer);
    clearTimeout(this.killTimer);
  }
}
