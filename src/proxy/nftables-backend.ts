// kube-proxy's nftables mode as a backend of the shared sync loop: one
// `nft -f` transaction per sync into `table ip kube-proxy` of the node netns.
// Stale chains are flushed by the sync that orphans them and deleted by a
// separate transaction at least a second later, as kube-proxy does.
import type { CommandRunner } from '../sys/runner.js';
import { netnsNft, type NetnsNft } from '../sys/nft.js';
import { netnsIptables, type NetnsIptables } from '../sys/iptables.js';
import { conntrackDeleteArgs, parseUdpFlows, staleUdpFilters } from './conntrack.js';
import type { ProxyState } from './iptables.js';
import type { BackendSyncReport, BackendSyncRequest, ProxyBackend } from './backend.js';
import { isNftAffinitySetName, isNftServiceChainName, NFT_FAMILY, NFT_TABLE, renderNftables, type NftablesProxyConfig } from './nftables.js';
import { nftDeleteChains, nftTransaction, type WrittenElements } from './nft-transaction.js';

export interface NftablesBackendOptions extends NftablesProxyConfig {
  netns: string;
  runner: CommandRunner;
  /** Stale chains are deleted once they have been unreferenced this long (kube-proxy: 1 s). */
  staleChainDelayMs?: number;
  now?: () => number;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class NftablesBackend implements ProxyBackend {
  readonly mode = 'nftables' as const;
  private readonly nft: NetnsNft;
  /** For conntrack only: nothing of iptables mode is written in this mode. */
  private readonly ct: NetnsIptables;
  private readonly now: () => number;
  private knownChains = new Set<string>();
  private affinitySets = new Set<string>();
  /** Flushed stale chain → when it went stale. */
  private readonly staleChains = new Map<string, number>();
  private written: WrittenElements = new Map();

  constructor(private readonly opts: NftablesBackendOptions) {
    this.nft = netnsNft(opts.runner, opts.netns);
    this.ct = netnsIptables(opts.runner, opts.netns);
    this.now = opts.now ?? (() => performance.now());
  }

  hasPendingWork(): boolean {
    return this.staleChains.size > 0;
  }

  /** When the loop should come back to delete stale chains. */
  pendingWorkDelayMs(): number | undefined {
    if (this.staleChains.size === 0) return undefined;
    const oldest = Math.min(...this.staleChains.values());
    return Math.max(0, oldest + (this.opts.staleChainDelayMs ?? 1000) - this.now()) + 10;
  }

  async sync(req: BackendSyncRequest): Promise<BackendSyncReport> {
    const none: BackendSyncReport = { applied: false, deletedChains: [], renderMs: 0, applyMs: 0, payloadBytes: 0 };
    const deletedChains: string[] = [];
    try {
      if (req.full) {
        this.knownChains = new Set((await this.nft.listChains(NFT_FAMILY, NFT_TABLE)).filter(isNftServiceChainName));
        this.affinitySets = new Set((await this.nft.listSets(NFT_FAMILY, NFT_TABLE)).filter(isNftAffinitySetName));
        this.staleChains.clear();
      }
      const due = [...this.staleChains].filter(([, t]) => this.now() - t >= (this.opts.staleChainDelayMs ?? 1000)).map(([c]) => c);
      if (due.length > 0) {
        for (const c of due) this.staleChains.delete(c);
        const r = await this.nft.run(nftDeleteChains(due));
        if (r.exitCode === 0) {
          for (const c of due) this.knownChains.delete(c);
          deletedChains.push(...due);
        } else {
          // As kube-proxy: they are still there, so they are stale from now on and tried again later.
          for (const c of due) this.staleChains.set(c, this.now());
        }
      }
    } catch (err) {
      return { ...none, error: asError(err) };
    }
    if (!req.full && req.changedServices.size === 0) {
      return { ...none, applied: deletedChains.length > 0, deletedChains };
    }

    const t1 = this.now();
    const desired = renderNftables(req.state, this.opts);
    const tx = nftTransaction(desired, {
      full: req.full,
      changedServices: req.changedServices,
      existingChains: this.knownChains,
      staleChains: new Set(this.staleChains.keys()),
      existingAffinitySets: this.affinitySets,
      written: this.written,
    });
    const t2 = this.now();
    const result = tx.script === '' ? { exitCode: 0, stderr: '' } : await this.nft.run(tx.script);
    const t3 = this.now();
    const out: BackendSyncReport = { applied: false, deletedChains, renderMs: t2 - t1, applyMs: t3 - t2, payloadBytes: Buffer.byteLength(tx.script) };
    if (result.exitCode !== 0) {
      return { ...out, error: new Error(`nft -f failed in ${this.opts.netns} (exit ${result.exitCode}): ${result.stderr.trim()}`) };
    }
    for (const c of tx.newlyStale) this.staleChains.set(c, this.now());
    for (const c of tx.activeChains) this.staleChains.delete(c);
    this.knownChains = new Set([...tx.activeChains, ...this.staleChains.keys()]);
    this.affinitySets = tx.activeAffinitySets;
    this.written = tx.written;
    return { ...out, applied: true, payload: tx.script };
  }

  /** As kube-proxy after every sync: UDP flows to endpoints that no longer serve go. */
  async afterSync(state: ProxyState): Promise<void> {
    if (!state.servicePorts.some((sp) => sp.protocol === 'UDP')) return;
    const filters = staleUdpFilters(parseUdpFlows(await this.ct.listUdpFlows()), state);
    for (const f of filters) await this.ct.conntrack(conntrackDeleteArgs(f));
  }
}
