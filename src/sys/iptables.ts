// The commands kube-proxy's iptables mode runs, inside a node's network
// namespace: iptables-restore (one per sync, payload on stdin),
// iptables-save, nfacct counters, sysctls and conntrack. Argument arrays only.
import { assertNetnsName, inNetns } from './netns.js';
import type { CommandRunner, RunResult } from './runner.js';

/** kube-proxy's flags: wait 5 s for the xtables lock polling every 100 ms, keep other chains, keep counters. */
export const IPTABLES_RESTORE_ARGS = ['iptables-restore', '-w', '5', '-W', '100000', '--noflush', '--counters'] as const;

export interface NetnsIptables {
  readonly netns: string;
  restore(payload: string): Promise<RunResult>;
  save(table?: string): Promise<string>;
  /** Create an nfacct counter if missing; false if the node cannot have it. */
  ensureNfacct(name: string): Promise<boolean>;
  setSysctls(settings: ReadonlyArray<{ key: string; value: string }>): Promise<void>;
  /** The UDP flows of the node's conntrack table, as `conntrack -L -p udp` prints them. */
  listUdpFlows(): Promise<string>;
  /** conntrack with these arguments; exit status 1 (nothing matched) is not an error. */
  conntrack(args: readonly string[]): Promise<RunResult>;
}

export function netnsIptables(runner: CommandRunner, netns: string): NetnsIptables {
  assertNetnsName(netns);
  return {
    netns,
    restore: (payload) => runner.run(inNetns(netns, IPTABLES_RESTORE_ARGS), { input: payload, allowFailure: true, timeoutMs: 60_000 }),
    async save(table) {
      const r = await runner.run(inNetns(netns, table === undefined ? ['iptables-save'] : ['iptables-save', '-t', table]));
      return r.stdout;
    },
    async ensureNfacct(name) {
      if (!/^[A-Za-z0-9_-]{1,31}$/.test(name)) throw new Error(`invalid nfacct name "${name}"`);
      // nfacct(8) answers EBUSY for an existing object; kube-proxy treats that as success.
      const add = await runner.run(inNetns(netns, ['nfacct', 'add', name]), { allowFailure: true });
      if (add.exitCode === 0) return true;
      const get = await runner.run(inNetns(netns, ['nfacct', 'get', name]), { allowFailure: true });
      return get.exitCode === 0;
    },
    async setSysctls(settings) {
      if (settings.length === 0) return;
      for (const s of settings) {
        if (!/^[a-z0-9_.]+$/.test(s.key) || !/^[0-9]+$/.test(s.value)) throw new Error(`invalid sysctl ${s.key}=${s.value}`);
      }
      await runner.run(inNetns(netns, ['sysctl', '-q', '-w', ...settings.map((s) => `${s.key}=${s.value}`)]));
    },
    async listUdpFlows() {
      const r = await runner.run(inNetns(netns, ['conntrack', '-L', '-p', 'udp']), { allowFailure: true });
      return r.exitCode === 0 ? r.stdout : '';
    },
    conntrack: (args) => runner.run(inNetns(netns, ['conntrack', ...args]), { allowFailure: true }),
  };
}
