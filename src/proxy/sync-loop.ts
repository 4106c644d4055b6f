// One node's kube-proxy: the change tracker, a coalescing sync runner
// (kube-proxy's BoundedFrequencyRunner, simplified) and the mode's backend.
// The loop decides when to sync and whether it is a full or a partial one
// (needFullSync: the first sync and any sync after a failure); the backend
// renders and applies.
import type { KubeObject, WatchEvent } from '../api/types.js';
import type { ProxyBackend } from './backend.js';
import { ChangeTracker } from './tracker.js';

export interface SyncLoopOptions {
  /** The node's network namespace (a name under /run/netns). */
  netns: string;
  nodeName: string;
  /** Syncs start at least this far apart; events in between coalesce (kube-proxy: minSyncPeriod, default 1 s). Default 100 ms. */
  minSyncIntervalMs?: number;
  /** Delay before retrying after a failed sync. Default 1 s. */
  retryDelayMs?: number;
  /** Reports failures of background (event-driven) syncs. */
  onError?: (err: Error) => void;
  /** Clock, for tests. */
  now?: () => number;
}

export interface SyncResult {
  /** A transaction ran and succeeded. */
  applied: boolean;
  full: boolean;
  /** Services ("namespace/name") whose rules were rewritten; all of them on a full sync. */
  changedServices: string[];
  deletedChains: string[];
  renderMs: number;
  applyMs: number;
  payloadBytes: number;
  error?: Error;
}

export class ProxySyncLoop {
  readonly netns: string;
  private readonly tracker: ChangeTracker;
  private readonly now: () => number;
  private needFullSync = true;
  private lastSyncStart = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SyncResult> | undefined;
  private closed = false;
  private payload: string | undefined;

  constructor(
    private readonly backend: ProxyBackend,
    private readonly loopOpts: SyncLoopOptions,
  ) {
    this.netns = loopOpts.netns;
    this.now = loopOpts.now ?? (() => performance.now());
    this.tracker = new ChangeTracker(loopOpts.nodeName, () => this.requestSync());
  }

  get mode(): ProxyBackend['mode'] {
    return this.backend.mode;
  }

  /** The transaction input of the last successful sync. */
  get lastPayload(): string | undefined {
    return this.payload;
  }

  onServiceUpsert(svc: KubeObject): void {
    this.tracker.onServiceUpsert(svc);
  }

  onServiceDelete(svc: KubeObject): void {
    this.tracker.onServiceDelete(svc);
  }

  onEndpointSliceUpsert(slice: KubeObject): void {
    this.tracker.onEndpointSliceUpsert(slice);
  }

  onEndpointSliceDelete(slice: KubeObject): void {
    this.tracker.onEndpointSliceDelete(slice);
  }

  handleWatchEvent(ev: WatchEvent): void {
    this.tracker.handleWatchEvent(ev);
  }

  /**
   * Replace the whole picture with these objects (when given) and sync now.
   * Resolves once the rules are in the kernel (or the sync failed).
   */
  async sync(services?: readonly KubeObject[], slices?: readonly KubeObject[]): Promise<SyncResult> {
    this.tracker.replaceAll(services, slices);
    this.clearTimer();
    return this.runSerialized();
  }

  /** Schedule a coalesced sync. */
  requestSync(): void {
    if (this.closed || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastSyncStart + (this.loopOpts.minSyncIntervalMs ?? 100) - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runSerialized().then((r) => {
        if (r.error) this.loopOpts.onError?.(r.error);
      });
    }, wait);
  }

  /** Wait until no sync is running or scheduled. */
  async whenIdle(): Promise<void> {
    for (let i = 0; i < 100 && (this.running !== undefined || this.timer !== undefined); i++) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async runSerialized(): Promise<SyncResult> {
    while (this.running) await this.running.catch(() => undefined);
    const p = this.syncOnce();
    this.running = p;
    try {
      return await p;
    } finally {
      this.running = undefined;
    }
  }

  private async syncOnce(): Promise<SyncResult> {
    this.lastSyncStart = this.now();
    const t0 = this.now();
    const changed = this.tracker.changesSinceApplied();
    const full = this.needFullSync;
    const base: SyncResult = { applied: false, full, changedServices: [...changed].sort(), deletedChains: [], renderMs: 0, applyMs: 0, payloadBytes: 0 };
    if (this.closed) return base;
    if (!full && changed.size === 0 && !this.backend.hasPendingWork()) return base;
    const state = this.tracker.state();
    const prepMs = this.now() - t0;
    const report = await this.backend.sync({ state, full, changedServices: changed });
    if (report.error) {
      // As kube-proxy: the partial state is lost, so the next sync is a full one.
      this.needFullSync = true;
      this.scheduleRetry();
    }
    if (!report.applied) {
      if (report.error === undefined) {
        this.schedulePendingWork();
        return base;
      }
      const ran = report.payloadBytes > 0;
      return {
        ...base,
        changedServices: ran && full ? this.tracker.allServices() : base.changedServices,
        renderMs: ran ? prepMs + report.renderMs : 0,
        applyMs: report.applyMs,
        payloadBytes: report.payloadBytes,
        deletedChains: report.deletedChains,
        error: report.error,
      };
    }
    this.tracker.markApplied();
    this.needFullSync = false;
    this.schedulePendingWork();
    if (report.payload !== undefined) this.payload = report.payload;
    if (this.backend.afterSync) {
      try {
        await this.backend.afterSync(state);
      } catch (err) {
        this.loopOpts.onError?.(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return {
      ...base,
      applied: true,
      changedServices: full ? this.tracker.allServices() : base.changedServices,
      deletedChains: report.deletedChains,
      renderMs: prepMs + report.renderMs,
      applyMs: report.applyMs,
      payloadBytes: report.payloadBytes,
    };
  }

  private schedulePendingWork(): void {
    const delay = this.backend.pendingWorkDelayMs?.();
    if (delay === undefined || this.closed) return;
    setTimeout(() => this.requestSync(), delay).unref();
  }

  private scheduleRetry(): void {
    if (!this.closed) setTimeout(() => this.requestSync(), this.loopOpts.retryDelayMs ?? 1000).unref();
  }
}
