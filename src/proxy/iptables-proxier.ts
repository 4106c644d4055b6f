// kube-proxy's iptables mode for one node netns: a change tracker fed with
// Service and EndpointSlice events, coalesced syncs, and one iptables-restore
// per sync that rewrites the top-level chains plus the chains of the services
// that changed (kube-proxy's partial sync), deleting chains that went stale.
// Full syncs (the first one, and after a failed restore) also ensure the jump
// rules in the built-in chains, the canary chains, the nfacct counters and
// the sysctls, as kube-proxy does at start-up and on full resyncs.
import type { KubeObject, WatchEvent } from '../api/types.js';
import type { CommandRunner } from '../sys/runner.js';
import { conntrackDeleteArgs, parseUdpFlows, staleUdpFilters } from './conntrack.js';
import { netnsIptables, type NetnsIptables } from '../sys/iptables.js';
import {
  compareServicePorts,
  LARGE_CLUSTER_ENDPOINTS_THRESHOLD,
  NFACCT_CT_STATE_INVALID_DROPPED,
  NFACCT_LOCALHOST_NODEPORTS_ACCEPTED,
  renderIptables,
  type IptablesProxyConfig,
  type ProxyState,
} from './iptables.js';
import { endpointsOfSlices, keyOf, servicePorts, sliceServiceName, type EndpointInfo, type ServicePortInfo } from './model.js';
import { fullSyncExtras, kubeProxySysctls, savedChains } from './node-setup.js';
import { isServiceChainName } from './hash.js';

export interface IptablesProxierOptions extends IptablesProxyConfig {
  /** The node's network namespace (a name under /run/netns). */
  netns: string;
  runner: CommandRunner;
  /** Syncs start at least this far apart; events in between coalesce (kube-proxy: minSyncPeriod, default 1 s). Default 100 ms. */
  minSyncIntervalMs?: number;
  /** In large-cluster mode stale chains are deleted at most once per this period (kube-proxy: syncPeriod, 30 s). */
  syncPeriodMs?: number;
  /** Delay before retrying after a failed restore. Default 1 s. */
  retryDelayMs?: number;
  /** Create kube-proxy's nfacct counters in the node (when `nfacct` is not given). Default true. */
  probeNfacct?: boolean;
  /** Write kube-proxy's sysctls on the first full sync. Default true. */
  applySysctls?: boolean;
  /** Reports failures of background (event-driven) syncs. */
  onError?: (err: Error) => void;
  /** Clock, for tests. */
  now?: () => number;
}

export interface SyncResult {
  /** An iptables-restore ran. */
  applied: boolean;
  full: boolean;
  /** Services ("namespace/name") whose chains were rewritten; all of them on a full sync. */
  changedServices: string[];
  deletedChains: string[];
  renderMs: number;
  applyMs: number;
  payloadBytes: number;
  error?: Error;
}

interface ServiceEntry {
  ports: ServicePortInfo[];
  endpoints: Map<string, EndpointInfo[]>;
  fingerprint: string;
}

/** The renderer's part of the options. */
function renderConfig(o: IptablesProxierOptions): IptablesProxyConfig {
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

function objKey(o: KubeObject): string {
  return `${o.metadata.namespace ?? 'default'}/${o.metadata.name ?? ''}`;
}

export class IptablesProxier {
  readonly netns: string;
  private readonly ipt: NetnsIptables;
  private readonly cfg: IptablesProxyConfig;
  private readonly opts: IptablesProxierOptions;
  private readonly now: () => number;

  private readonly services = new Map<string, KubeObject>();
  private readonly slices = new Map<string, KubeObject>();
  /** Slices per service ("namespace/name" from the service-name label). */
  private readonly slicesByService = new Map<string, Set<string>>();
  /** Services touched by events since their entry was last computed. */
  private readonly touched = new Set<string>();
  private readonly entries = new Map<string, ServiceEntry>();
  /** Fingerprints as of the last successful restore. */
  private readonly applied = new Map<string, string>();

  private needFullSync = true;
  private sysctlsDone = false;
  /** Per-service NAT chains in the kernel, as far as this proxier knows. */
  private knownNatChains = new Set<string>();
  /** Some known chain is stale but was kept (large-cluster cleanup throttling). */
  private staleLeft = false;
  private nfacct: { ctStateInvalidDropped: boolean; localhostNodePortsAccepted: boolean } | undefined;
  private lastCleanup = -Infinity;
  private lastSyncStart = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SyncResult> | undefined;
  private closed = false;
  private payload: string | undefined;

  constructor(opts: IptablesProxierOptions) {
    this.opts = opts;
    this.netns = opts.netns;
    this.ipt = netnsIptables(opts.runner, opts.netns);
    this.cfg = renderConfig(opts);
    this.nfacct = opts.nfacct;
    this.now = opts.now ?? (() => performance.now());
  }

  /** The restore input of the last successful sync. */
  get lastPayload(): string | undefined {
    return this.payload;
  }

  // ---- events -------------------------------------------------------------

  onServiceUpsert(svc: KubeObject): void {
    this.services.set(objKey(svc), svc);
    this.touch(objKey(svc));
  }

  onServiceDelete(svc: KubeObject): void {
    this.services.delete(objKey(svc));
    this.touch(objKey(svc));
  }

  onEndpointSliceUpsert(slice: KubeObject): void {
    const key = objKey(slice);
    this.unlinkSlice(key);
    this.slices.set(key, slice);
    const svc = sliceServiceName(slice);
    if (svc !== undefined) {
      const set = this.slicesByService.get(svc) ?? new Set<string>();
      set.add(key);
      this.slicesByService.set(svc, set);
      this.touch(svc);
    }
  }

  onEndpointSliceDelete(slice: KubeObject): void {
    this.unlinkSlice(objKey(slice));
  }

  /** Feed a watch event of a Service or an EndpointSlice; others are ignored. */
  handleWatchEvent(ev: WatchEvent): void {
    if (ev.type === 'BOOKMARK') return;
    if (ev.object.kind === 'Service') {
      if (ev.type === 'DELETED') this.onServiceDelete(ev.object);
      else this.onServiceUpsert(ev.object);
    } else if (ev.object.kind === 'EndpointSlice') {
      if (ev.type === 'DELETED') this.onEndpointSliceDelete(ev.object);
      else this.onEndpointSliceUpsert(ev.object);
    }
  }

  private unlinkSlice(key: string): void {
    const old = this.slices.get(key);
    if (!old) return;
    this.slices.delete(key);
    const svc = sliceServiceName(old);
    if (svc === undefined) return;
    const set = this.slicesByService.get(svc);
    set?.delete(key);
    if (set && set.size === 0) this.slicesByService.delete(svc);
    this.touch(svc);
  }

  private touch(service: string): void {
    this.touched.add(service);
    this.requestSync();
  }

  // ---- syncing --------------------------------------------------------------

  /**
   * Replace the whole picture with these objects (when given) and sync now.
   * Resolves once the rules are in the kernel (or the restore failed).
   */
  async sync(services?: readonly KubeObject[], slices?: readonly KubeObject[]): Promise<SyncResult> {
    if (services !== undefined) {
      const keep = new Set(services.map(objKey));
      for (const k of [...this.services.keys()]) if (!keep.has(k)) this.onServiceDelete(this.services.get(k) as KubeObject);
      for (const s of services) {
        const old = this.services.get(objKey(s));
        if (old !== s) this.onServiceUpsert(s);
      }
    }
    if (slices !== undefined) {
      const keep = new Set(slices.map(objKey));
      for (const k of [...this.slices.keys()]) if (!keep.has(k)) this.onEndpointSliceDelete(this.slices.get(k) as KubeObject);
      for (const s of slices) {
        const old = this.slices.get(objKey(s));
        if (old !== s) this.onEndpointSliceUpsert(s);
      }
    }
    this.clearTimer();
    return this.runSerialized();
  }

  /** Schedule a coalesced sync (kube-proxy's BoundedFrequencyRunner, simplified). */
  requestSync(): void {
    if (this.closed || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastSyncStart + (this.opts.minSyncIntervalMs ?? 100) - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runSerialized().then((r) => {
        if (r.error) this.opts.onError?.(r.error);
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

  private refreshEntries(): void {
    for (const svc of this.touched) {
      const obj = this.services.get(svc);
      const ports = obj ? servicePorts(obj) : [];
      const sliceObjs = [...(this.slicesByService.get(svc) ?? [])].map((k) => this.slices.get(k)).filter((x): x is KubeObject => x !== undefined);
      const endpoints = endpointsOfSlices(sliceObjs, this.cfg.nodeName);
      if (ports.length === 0 && endpoints.size === 0) {
        this.entries.delete(svc);
        continue;
      }
      const fingerprint = JSON.stringify([ports, ports.map((p) => endpoints.get(keyOf(p)) ?? []), [...endpoints]]);
      this.entries.set(svc, { ports, endpoints, fingerprint });
    }
    this.touched.clear();
  }

  private state(): ProxyState {
    const servicePortsList: ServicePortInfo[] = [];
    const endpoints = new Map<string, EndpointInfo[]>();
    for (const e of this.entries.values()) {
      servicePortsList.push(...e.ports);
      for (const [k, v] of e.endpoints) endpoints.set(k, v);
    }
    servicePortsList.sort(compareServicePorts);
    return { servicePorts: servicePortsList, endpoints };
  }

  private async syncOnce(): Promise<SyncResult> {
    this.lastSyncStart = this.now();
    const t0 = this.now();
    this.refreshEntries();
    const full = this.needFullSync;
    const changed = new Set<string>();
    for (const [svc, e] of this.entries) if (this.applied.get(svc) !== e.fingerprint) changed.add(svc);
    for (const svc of this.applied.keys()) if (!this.entries.has(svc)) changed.add(svc);
    const base: SyncResult = { applied: false, full, changedServices: [...changed].sort(), deletedChains: [], renderMs: 0, applyMs: 0, payloadBytes: 0 };
    if (this.closed) return base;
    if (!full && changed.size === 0 && !this.staleLeft) return base;

    const state = this.state();
    const prepMs = this.now() - t0;
    let totalEndpoints = 0;
    for (const sp of state.servicePorts) totalEndpoints += state.endpoints.get(keyOf(sp))?.length ?? 0;
    const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
    const cleanupDue = !largeClusterMode || this.now() - this.lastCleanup > (this.opts.syncPeriodMs ?? 30_000);
    if (!full && changed.size === 0 && !(cleanupDue && this.staleLeft)) return base;

    let saved: string | undefined;
    try {
      if (full) {
        saved = await this.ipt.save();
        this.knownNatChains = new Set([...savedChains(saved, 'nat')].filter(isServiceChainName));
        await this.fullSyncSetup();
      }
    } catch (err) {
      this.scheduleRetry();
      return { ...base, error: err instanceof Error ? err : new Error(String(err)) };
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
    const out: SyncResult = {
      ...base,
      changedServices: full ? [...this.entries.keys(), ...[...this.applied.keys()].filter((s) => !this.entries.has(s))].sort() : base.changedServices,
      deletedChains: render.deletedChains,
      renderMs: prepMs + (t2 - t1),
      applyMs: t3 - t2,
      payloadBytes: Buffer.byteLength(payload),
    };
    if (result.exitCode !== 0) {
      // As kube-proxy: the partial state is lost, so the next sync is a full one.
      this.needFullSync = true;
      this.scheduleRetry();
      return { ...out, error: new Error(`iptables-restore failed in ${this.netns} (exit ${result.exitCode}): ${result.stderr.trim()}`) };
    }
    const known = new Set([...this.knownNatChains, ...render.activeNatChains]);
    for (const c of render.deletedChains) known.delete(c);
    this.knownNatChains = known;
    this.staleLeft = [...known].some((c) => !render.activeNatChains.has(c));
    if (cleanupDue) this.lastCleanup = this.now();
    this.applied.clear();
    for (const [svc, e] of this.entries) this.applied.set(svc, e.fingerprint);
    this.needFullSync = false;
    this.payload = payload;
    await this.cleanStaleUdpFlows(state);
    return { ...out, applied: true };
  }

  /** After the rules changed, as kube-proxy does: UDP flows to endpoints that no longer serve go. */
  private async cleanStaleUdpFlows(state: ProxyState): Promise<void> {
    if (!state.servicePorts.some((sp) => sp.protocol === 'UDP')) return;
    try {
      const filters = staleUdpFilters(parseUdpFlows(await this.ipt.listUdpFlows()), state);
      for (const f of filters) await this.ipt.conntrack(conntrackDeleteArgs(f));
    } catch (err) {
      this.opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private scheduleRetry(): void {
    if (!this.closed) setTimeout(() => this.requestSync(), this.opts.retryDelayMs ?? 1000).unref();
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
