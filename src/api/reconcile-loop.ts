// A controller's work loop: any change to the watched resources queues one
// reconcile of everything, run once per burst of events (on setImmediate);
// a reconcile that throws is retried after retryMs.
import type { ObjectStore, WatchHandle } from './store.js';

export class ReconcileLoop {
  private watches: WatchHandle[] = [];
  private pending = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly resources: readonly string[],
    private readonly reconcile: () => void,
    private readonly onError: (e: unknown) => void,
    private readonly retryMs: number,
  ) {}

  start(): void {
    for (const r of this.resources) this.watches.push(this.store.watch(r, {}, () => this.queue()));
  }

  stop(): void {
    for (const w of this.watches) w.stop();
  }

  queue(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      try {
        this.reconcile();
      } catch (e) {
        this.onError(e);
        setTimeout(() => this.queue(), this.retryMs);
      }
    });
  }
}
