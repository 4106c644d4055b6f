// What every proxy mode implements behind the shared change tracker and sync
// loop (kube-proxy keeps the same split: pkg/proxy tracks changes, each mode's
// Proxier renders and applies). A backend renders a node's desired state
// purely from the tracked objects, applies it in one transaction and reports
// what it did; it never decides when to sync.
import type { ProxyMode } from '../labfile/types.js';
import type { ProxyState } from './iptables.js';

export interface BackendSyncRequest {
  /** Every service port of the node with its endpoints, as tracked now. */
  state: ProxyState;
  /** Rewrite everything (first sync, after a failure), not only what changed. */
  full: boolean;
  /** Services ("namespace/name") whose Service or EndpointSlices changed since the last successful sync. */
  changedServices: ReadonlySet<string>;
}

export interface BackendSyncReport {
  /** A transaction ran and succeeded. False with no error: there was nothing to write. */
  applied: boolean;
  /** Chains the transaction deleted (stale ones, kube-proxy deletes them later than the services). */
  deletedChains: string[];
  renderMs: number;
  applyMs: number;
  payloadBytes: number;
  /** The transaction's input (restore input or nft script). */
  payload?: string;
  /** The sync failed; the loop retries with a full sync. */
  error?: Error;
}

export interface ProxyBackend {
  readonly mode: ProxyMode;
  /** Work an earlier sync left (e.g. stale chains kept back) that is worth a sync with no changes. */
  hasPendingWork(): boolean;
  /** When that work is due, so the loop comes back by itself (absent: only on the next change). */
  pendingWorkDelayMs?(): number | undefined;
  sync(req: BackendSyncRequest): Promise<BackendSyncReport>;
  /** After a successful sync (kube-proxy: stale UDP conntrack entries). Errors go to onError. */
  afterSync?(state: ProxyState): Promise<void>;
}
