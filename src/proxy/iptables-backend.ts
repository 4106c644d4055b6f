// kube-proxy's iptables mode as a backend of the shared sync loop: one
// iptables-restore per sync that rewrites the top-level chains plus the chains
// of the services that changed (kube-proxy's partial sync), deleting chains
// that went stale. Full syncs (the first one, and after a failed restore) also
// ensure the jump rules in the built-in chains, the canary chains, the nfacct
// counters and the sysctls, as kube-proxy does at start-up and on full resyncs.
import type { CommandRunner } from '../sys/runner.js';
import { netnsIptables, type NetnsIptables } from '../sys/iptables.js';
import type { BackendSyncReport, BackendSyncRequest, ProxyBackend } from './backend.js';
import { conntrackDeleteArgs, parseUdpFlows, staleUdpFilters } from './conntrack.js';
import {
  LARGE_CLUSTER_ENDPOINTS_THRESHOLD,
  NFACCT_CT_STATE_INVALID_DROPPED,
  NFACCT_LOCALHOST_NODEPORTS_ACCEPTED,
  renderIptables,
  type IptablesProxyConfig,
  type ProxyState,
} from './iptables.js';
import { keyOf } from './model.js';
import { fullSyncExtras, kubeProxySysctls, savedChains } from './node-setup.js';
import { isServiceChainName } from './hash.js';

export interface IptablesBackendOptions extends IptablesProxyConfig {
  netns: string;
  runner: CommandRunner;
  /** In large-cluster mode stale chains are deleted at most once per this period (kube-proxy: syncPeriod, 30 s). */
  syncPeriodMs?: number;
  /** Create kube-proxy's nfacct counters in the node (when `nfacct` is not given). Default true. */
  probeNfacct?: boolean;
  /** Write kube-proxy's sysctls on the first full sync. Default true. */
  applySysctls?: boolean;
  now?: () => number;
}

/** The renderer's part of the options. */
function renderConfig(o: IptablesBackendOptions): IptablesProxyConfig {
  const cfg: IptablesProxyConfig = { nodeName: o.nodeName };
  if (o.nodeIP !== undefined) cfg.nodeIP = o.nodeIP;
  if (o.clusterCIDR !== undefined) cfg.clusterCIDR = o.clusterCIDR;
  if (o.masqueradeBit !== undefined) cfg.masqueradeBit = o.masqueradeBit;
  if (o.masqueradeMark !== undefined) cfg.masqueradeMark = o.masqueradeMark;
  if (o.masqueradeAll !== undefined) cfg.masqueradeAll = o.masqueradeAll;
  if (o.localhostNodePorts !== undefined) cfg.localhostNodePorts = o.localhostNodePorts;
  if (o.randomFully !== undefined) cfg.randomFully = o.randomFully;
  if (o.conntrackTCPLiberal !== undefined) cfg.conntrackTCPLiberal = o.conntrackTCPLiberal;
  return cfg;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class IptablesBackend implements ProxyBackend {
  readonly mode = 'iptables' as const;
  private readonly ipt: NetnsIptables;
  private readonly cfg: IptablesProxyConfig;
  private readonly now: () => number;
  private sysctlsDone = false;
  /** Per-service NAT chains in the kernel, as far as this backend knows. */
  private knownNatChains = new Set<string>();
  /** Some known chain is stale but was kept (large-cluster cleanup throttling). */
  private staleLeft = false;
  private nfacct: { ctStateInvalidDropped: boolean; localhostNodePortsAccepted: boolean } | undefined;
  private lastCleanup = -Infinity;

  constructor(private readonly opts: IptablesBackendOptions) {
    this.ipt = netnsIptables(opts.runner, opts.netns);
    this.cfg = renderConfig(opts);
    this.nfacct = opts.nfacct;
    this.now = opts.now ?? (() => performance.now());
  }

  hasPendingWork(): boolean {
    return this.staleLeft;
  }

  async sync(req: BackendSyncRequest): Promise<BackendSyncReport> {
    const { state, full, changedServices: changed } = req;
    const none: BackendSyncReport = { applied: false, deletedChains: [], renderMs: 0, applyMs: 0, payloadBytes: 0 };
    let totalEndpoints = 0;
    for (const sp of state.servicePorts) totalEndpoints += state.endpoints.get(keyOf(sp))?.length ?? 0;
    const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
    const cleanupDue = !largeClusterMode || this.now() - this.lastCleanup > (this.opts.syncPeriodMs ?? 30_000);
    if (!full && changed.size === 0 && !(cleanupDue && this.staleLeft)) return none;

    let saved: string | undefined;
    try {
      if (full) {
        saved = await this.ipt.save();
        this.knownNatChains = new Set([...savedChains(saved, 'nat')].filter(isServiceChainName));
        await this.fullSyncSetup();
      }
    } catch (err) {
      return { ...none, error: asError(err) };
    }

    const t1 = this.now();
    const cfg: IptablesProxyConfig = { ...this.cfg, nfacct: this.nfacct ?? { ctStateInvalidDropped: false, localhostNodePortsAccepted: false } };
    const render = renderIptables(state, cfg, {
      ...(full ? {} : { changedServices: changed }),
      ...(cleanupDue ? { existingNatChains: this.knownNatChains } : {}),
    });
    let payload = render.restore;
    if (full) {
      const declared = (table: string, chain: string): boolean => {
        const section = payload.split('COMMIT\n').find((s) => s.startsWith(`*${table}\n`)) ?? '';
        return section.includes(`\n:${chain} - [0:0]\n`);
      };
      payload += fullSyncExtras(saved, declared);
    }
    const t2 = this.now();
    const result = await this.ipt.restore(payload);
    const t3 = this.now();
    const out: BackendSyncReport = {
      applied: false,
      deletedChains: render.deletedChains,
      renderMs: t2 - t1,
      applyMs: t3 - t2,
      payloadBytes: Buffer.byteLength(payload),
    };
    if (result.exitCode !== 0) {
      return { ...out, error: new Error(`iptables-restore failed in ${this.opts.netns} (exit ${result.exitCode}): ${result.stderr.trim()}`) };
    }
    const known = new Set([...this.knownNatChains, ...render.activeNatChains]);
    for (const c of render.deletedChains) known.delete(c);
    this.knownNatChains = known;
    this.staleLeft = [...known].some((c) => !render.activeNatChains.has(c));
    if (cleanupDue) this.lastCleanup = this.now();
    return { ...out, applied: true, payload };
  }

  /** After the rules changed, as kube-proxy does: UDP flows to endpoints that no longer serve go. */
  async afterSync(state: ProxyState): Promise<void> {
    if (!state.servicePorts.some((sp) => sp.protocol === 'UDP')) return;
    const filters = staleUdpFilters(parseUdpFlows(await this.ipt.listUdpFlows()), state);
    for (const f of filters) await this.ipt.conntrack(conntrackDeleteArgs(f));
  }

  private async fullSyncSetup(): Promise<void> {
    if (this.opts.nfacct === undefined) {
      if (this.opts.probeNfacct ?? true) {
        const [ct, lh] = await Promise.all([
          this.ipt.ensureNfacct(NFACCT_CT_STATE_INVALID_DROPPED),
          this.ipt.ensureNfacct(NFACCT_LOCALHOST_NODEPORTS_ACCEPTED),
        ]);
        this.nfacct = { ctStateInvalidDropped: ct, localhostNodePortsAccepted: lh };
      } else {
        this.nfacct = { ctStateInvalidDropped: false, localhostNodePortsAccepted: false };
      }
    }
    if (!this.sysctlsDone && (this.opts.applySysctls ?? true)) {
      await this.ipt.setSysctls(kubeProxySysctls(this.cfg));
      this.sysctlsDone = true;
    }
  }
}
