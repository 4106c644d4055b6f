// kube-proxy's ipvs mode as a backend of the shared sync loop. Per sync, in
// kube-proxy's order of dependencies: one `ipset restore` (the sets the
// iptables rules match on), one `ip -batch` for kube-ipvs0's addresses, one
// `ipvsadm --restore` and one `iptables-restore`, each with only what changed
// since the last successful sync. Full syncs (the first, and after a failure)
// read the node's IPVS table back, recreate the dummy device and the sets,
// ensure the jump rules and write the sysctls.
import type { IpvsScheduler } from '../labfile/types.js';
import { netnsIptables, type NetnsIptables } from '../sys/iptables.js';
import { netnsIpvs, type NetnsIpvs } from '../sys/ipvs.js';
import type { CommandRunner } from '../sys/runner.js';
import type { BackendSyncReport, BackendSyncRequest, ProxyBackend } from './backend.js';
import { conntrackDeleteArgs, parseUdpFlows, staleUdpFilters } from './conntrack.js';
import type { ProxyState } from './iptables.js';
import { IPVS_JUMPS, KUBE_IPVS_DUMMY, renderIpvs, type IpvsProxyConfig } from './ipvs.js';
import { addressScript, ipsetScript, ipvsDiff, parseIpvsadmSave, type AppliedIpvs } from './ipvs-transaction.js';
import { savedRulesByTable } from './node-setup.js';
import { saveFormOfRule } from './save-form.js';

export interface IpvsBackendOptions {
  netns: string;
  runner: CommandRunner;
  nodeName: string;
  nodeIP: string;
  clusterCIDR: string;
  scheduler?: IpvsScheduler;
  /** How often drained real servers are looked for while some wait at weight 0. Default 1 s. */
  drainCheckMs?: number;
  now?: () => number;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Restore lines that prepend kube-proxy's missing jump rules (iptables -C / -I on every full sync upstream). */
export function missingIpvsJumps(saved: string): string {
  const present = savedRulesByTable(saved);
  const byTable: Record<'nat' | 'filter', string[]> = { nat: [], filter: [] };
  for (const j of IPVS_JUMPS) {
    const rule = `-m comment --comment "${j.comment}" -j ${j.target}`;
    if (present.get(j.table)?.has(saveFormOfRule(`-A ${j.chain} ${rule}`))) continue;
    byTable[j.table].push(`-I ${j.chain} 1 ${rule}`);
  }
  return (['nat', 'filter'] as const)
    .filter((t) => byTable[t].length > 0)
    .map((t) => `*${t}\n${byTable[t].join('\n')}\nCOMMIT\n`)
    .join('');
}

export class IpvsBackend implements ProxyBackend {
  readonly mode = 'ipvs' as const;
  private readonly ipvs: NetnsIpvs;
  private readonly ipt: NetnsIptables;
  private readonly now: () => number;
  private applied: AppliedIpvs = new Map();
  private graceful = new Set<string>();
  private sets: Map<string, Set<string>> | undefined;
  private bound = new Set<string>();
  private iptables = '';
  private nodeIPs: string[] = [];
  private sysctlsDone = false;
  private lastDrainCheck = -Infinity;

  constructor(private readonly opts: IpvsBackendOptions) {
    this.ipvs = netnsIpvs(opts.runner, opts.netns);
    this.ipt = netnsIptables(opts.runner, opts.netns);
    this.now = opts.now ?? (() => performance.now());
  }

  /** Real servers at weight 0 wait for their connections to drain. */
  hasPendingWork(): boolean {
    return this.graceful.size > 0;
  }

  pendingWorkDelayMs(): number | undefined {
    if (this.graceful.size === 0) return undefined;
    return Math.max(0, this.lastDrainCheck + (this.opts.drainCheckMs ?? 1000) - this.now()) + 10;
  }

  private config(): IpvsProxyConfig {
    return {
      nodeName: this.opts.nodeName,
      nodeIPs: this.nodeIPs,
      nodeIP: this.opts.nodeIP,
      clusterCIDR: this.opts.clusterCIDR,
      ...(this.opts.scheduler ? { scheduler: this.opts.scheduler } : {}),
    };
  }

  async sync(req: BackendSyncRequest): Promise<BackendSyncReport> {
    const none: BackendSyncReport = { applied: false, deletedChains: [], renderMs: 0, applyMs: 0, payloadBytes: 0 };
    let saved = '';
    try {
      if (req.full) {
        await this.ipvs.ensureDummy(KUBE_IPVS_DUMMY);
        // Reading the table first loads ip_vs, which brings net.ipv4.vs.* into being.
        this.applied = parseIpvsadmSave(await this.ipvs.ipvsadmSave());
        if (!this.sysctlsDone) {
          await this.ipt.setSysctls(renderIpvs({ servicePorts: [], endpoints: new Map() }, this.config()).sysctls);
          this.sysctlsDone = true;
        }
        this.nodeIPs = await this.ipvs.localAddresses(KUBE_IPVS_DUMMY);
        this.bound = new Set(await this.ipvs.deviceAddresses(KUBE_IPVS_DUMMY));
        this.sets = undefined;
        this.iptables = '';
        saved = await this.ipt.save();
      }
    } catch (err) {
      return { ...none, error: asError(err) };
    }
    if (!req.full && req.changedServices.size === 0 && this.graceful.size === 0) return none;

    const t1 = this.now();
    const desired = renderIpvs(req.state, this.config());
    let diff = ipvsDiff(desired.virtualServers, this.applied, this.graceful, new Set());
    const t2 = this.now();
    try {
      if (diff.graceful.size > 0) {
        // Something leaves or waits at weight 0: look at its connections.
        this.lastDrainCheck = this.now();
        const drained = new Set(
          (await this.ipvs.counters()).filter((c) => c.activeConn + c.inactiveConn === 0).map((c) => `${c.service}/${c.server}`),
        );
        diff = ipvsDiff(desired.virtualServers, this.applied, this.graceful, drained);
      }
    } catch (err) {
      return { ...none, error: asError(err) };
    }
    const sets = ipsetScript(desired.ipsets, this.sets);
    const addrs = addressScript(desired.boundAddresses, this.bound);
    const restore = desired.restore === this.iptables && !req.full ? '' : desired.restore + (req.full ? missingIpvsJumps(saved) : '');
    const t3 = this.now();
    const payload = [sets && `# ipset restore\n${sets}`, addrs && `# ip -batch\n${addrs}`, diff.script && `# ipvsadm --restore\n${diff.script}`, restore && `# iptables-restore\n${restore}`]
      .filter(Boolean)
      .join('');
    const out: BackendSyncReport = { ...none, renderMs: t2 - t1, payloadBytes: Buffer.byteLength(payload) };
    const fail = (what: string, r: { exitCode: number; stderr: string }): BackendSyncReport => ({
      ...out,
      applyMs: this.now() - t3,
      error: new Error(`${what} failed in ${this.opts.netns} (exit ${r.exitCode}): ${r.stderr.trim()}`),
    });
    if (sets) {
      const r = await this.ipvs.ipsetRestore(sets);
      if (r.exitCode !== 0) return fail('ipset restore', r);
    }
    if (addrs) {
      const r = await this.ipvs.ipBatch(addrs);
      if (r.exitCode !== 0) return fail('ip -batch (kube-ipvs0 addresses)', r);
    }
    if (diff.script) {
      const r = await this.ipvs.ipvsadmRestore(diff.script);
      if (r.exitCode !== 0) return fail('ipvsadm --restore', r);
    }
    if (restore) {
      const r = await this.ipt.restore(restore);
      if (r.exitCode !== 0) return fail('iptables-restore', r);
    }
    this.sets = new Map(desired.ipsets.map((s) => [s.name, new Set(s.entries)]));
    this.bound = new Set(desired.boundAddresses);
    this.applied = diff.applied;
    this.graceful = diff.graceful;
    this.iptables = desired.restore;
    return { ...out, applied: payload !== '', applyMs: this.now() - t3, ...(payload ? { payload } : {}) };
  }

  /** As kube-proxy after a sync: UDP flows to endpoints that no longer serve go. */
  async afterSync(state: ProxyState): Promise<void> {
    if (!state.servicePorts.some((sp) => sp.protocol === 'UDP')) return;
    const filters = staleUdpFilters(parseUdpFlows(await this.ipt.listUdpFlows()), state);
    for (const f of filters) await this.ipt.conntrack(conntrackDeleteArgs(f));
  }
}
