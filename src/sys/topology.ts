// Applies a topology plan to the kernel and takes a lab's objects down again.
import { flannelMasqRestore } from '../plan/flannel-masq.js';
import { allNetns, type TopologyPlan } from '../plan/topology.js';
import { renderIpBatches } from '../plan/ip-batch.js';
import { labNetnsPrefix, NETNS_PREFIX } from '../plan/names.js';
import { inNetns } from './netns.js';
import type { CommandRunner } from './runner.js';

/** `afterCreate` runs once the namespaces exist, before any process runs in them (up records their inodes there). */
export async function applyTopology(plan: TopologyPlan, runner: CommandRunner, afterCreate?: () => Promise<void>): Promise<void> {
  const batches = renderIpBatches(plan);
  await runner.run(['ip', '-batch', '-'], { input: batchText(batches.create) });
  await afterCreate?.();
  await Promise.all(
    batches.configure.map(({ netns, lines }) => runner.run(['ip', '-n', netns, '-batch', '-'], { input: batchText(lines) })),
  );
  // FDB entries need flannel.1, made by the batches above.
  await Promise.all(batches.fdb.map(({ netns, lines }) => runner.run(['bridge', '-n', netns, '-batch', '-'], { input: batchText(lines) })));
  const byNetns = new Map<string, string[]>();
  for (const s of plan.sysctls) byNetns.set(s.netns, [...(byNetns.get(s.netns) ?? []), `${s.key}=${s.value}`]);
  await Promise.all(
    [...byNetns.entries()].map(([netns, settings]) =>
      runner.run(inNetns(netns, ['sysctl', '-q', '-w', ...settings])),
    ),
  );
  await Promise.all(
    plan.nodes.map((n) =>
      runner.run(inNetns(n.netns, ['iptables-restore', '-w', '5', '--noflush']), { input: flannelMasqRestore(plan.clusterPodCIDR, n.podCIDR) }),
    ),
  );
}

function batchText(lines: string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}

/** Names of the network namespaces that exist now, optionally only one lab's. */
export async function listLabNetns(runner: CommandRunner, lab?: string): Promise<string[]> {
  const r = await runner.run(['ip', 'netns', 'list'], { allowFailure: true, timeoutMs: 5000 });
  const prefix = lab === undefined ? NETNS_PREFIX : labNetnsPrefix(lab);
  return r.stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}

/** Process IDs running inside the given namespaces (pods' and nodes' processes). */
export async function pidsInNetns(runner: CommandRunner, netns: string[]): Promise<number[]> {
  const results = await Promise.all(
    netns.map((ns) => runner.run(['ip', 'netns', 'pids', ns], { allowFailure: true, timeoutMs: 5000 })),
  );
  return results.flatMap((r) =>
    r.stdout
      .split('\n')
      .map((s) => Number.parseInt(s, 10))
      .filter((n) => Number.isInteger(n) && n > 1),
  );
}

export async function deleteNetns(runner: CommandRunner, netns: string[]): Promise<void> {
  if (netns.length === 0) return;
  // -force: go on past a namespace that vanished meanwhile.
  await runner.run(['ip', '-force', '-batch', '-'], {
    input: batchText(netns.map((ns) => `netns del ${ns}`)),
    allowFailure: true,
  });
}

export { allNetns };
