// The DNS process's last resort for errors nothing else caught. The server
// contains every message itself (server.ts onPacket answers SERVFAIL and
// keeps going, as CoreDNS's ServeDNS recovers from a panic), so an error
// that reaches the process belongs to one piece of work that is already
// lost: log it and keep serving, which is what the kubelet would want from
// a DNS server. A process that keeps failing, though, is in a state it will
// not leave by itself: past `maxFaults` within `windowMs` it exits 1 and the
// kubelet restarts the container, as it would restart a CoreDNS that died.
//
//   const stop = installLastResort(process, log, (code) => process.exit(code));

export interface LastResortPolicy {
  /** More faults than this within windowMs: exit. Default 20. */
  maxFaults: number;
  /** Default 10 s. */
  windowMs: number;
}

export const DEFAULT_POLICY: LastResortPolicy = { maxFaults: 20, windowMs: 10_000 };

export type FaultKind = 'uncaughtException' | 'unhandledRejection';

/** Counts faults in a sliding window and says what the process should do about each. */
export class FaultWindow {
  private readonly times: number[] = [];

  constructor(
    private readonly policy: LastResortPolicy = DEFAULT_POLICY,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Records one fault: 'continue', or 'exit' once the window holds more than maxFaults. */
  record(): 'continue' | 'exit' {
    const t = this.now();
    this.times.push(t);
    while (this.times.length > 0 && t - this.times[0]! > this.policy.windowMs) this.times.shift();
    return this.times.length > this.policy.maxFaults ? 'exit' : 'continue';
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

/** The part of process this needs (an EventEmitter in tests). */
export interface FaultSource {
  on(event: FaultKind, listener: (err: unknown) => void): unknown;
  off(event: FaultKind, listener: (err: unknown) => void): unknown;
}

/**
 * Handles uncaughtException and unhandledRejection on `proc`: each is logged
 * CoreDNS-style; too many in a row exit through `exit(1)`. Returns a
 * function that removes the handlers.
 */
export function installLastResort(
  proc: FaultSource,
  log: (line: string) => void,
  exit: (code: number) => void,
  window: FaultWindow = new FaultWindow(),
): () => void {
  const handler =
    (kind: FaultKind) =>
    (err: unknown): void => {
      log(`[ERROR] Recovered from ${kind}: ${errorText(err)}`);
      if (window.record() === 'exit') {
        log('[FATAL] too many unrecovered errors in a short time: exiting so that the container is restarted');
        exit(1);
      }
    };
  const onException = handler('uncaughtException');
  const onRejection = handler('unhandledRejection');
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('uncaughtException', onException);
    proc.off('unhandledRejection', onRejection);
  };
}
