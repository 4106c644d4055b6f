// The state `nslab doctor` judges: the Node objects from the lab's API and,
// from every node netns, its addresses, flannel.1 and flannel.1's FDB
// (read with `ip -j` and `bridge -j`, never changed).
import type { KubeObject } from '../api/types.js';
import { LabApiClient } from '../client/api-client.js';
import { UsageError } from '../labfile/errors.js';
import type { LabRecord } from '../plan/lab-record.js';
import { VXLAN_DEVICE } from '../plan/vxlan.js';
import type { CommandRunner } from '../sys/runner.js';
import { files, readJson } from '../sys/state-dir.js';
import { inNetns } from '../sys/netns.js';
import { diagnose, type DnsEndpoint, type DoctorReport, type FdbEntry, type NodeState } from './findings.js';

const PUBLIC_IP = 'flannel.alpha.coreos.com/public-ip';

interface IpAddrJson {
  ifname?: string;
  addr_info?: Array<{ family?: string; local?: string }>;
}
interface IpLinkJson {
  linkinfo?: { info_kind?: string; info_data?: { local?: string; link?: string } };
}
interface PortJson {
  ifname?: string;
  linkinfo?: { info_slave_data?: { hairpin?: boolean } };
}
interface FdbJson {
  mac?: string;
  dst?: string;
}

function parseJson<T>(text: string): T[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}

const SYSCTLS = ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables'] as const;

async function kernelState(runner: CommandRunner, netns: string): Promise<Pick<NodeState, 'addresses' | 'vtep' | 'fdb' | 'hairpinOff' | 'sysctls'>> {
  const opts = { allowFailure: true, timeoutMs: 5000 };
  const [ports, ...values] = await Promise.all([
    runner.run(['ip', '-j', '-d', '-n', netns, 'link', 'show', 'master', 'cni0'], opts),
    ...SYSCTLS.map((key) => runner.run(inNetns(netns, ['sysctl', '-n', key]), opts)),
  ]);
  const hairpinOff = parseJson<PortJson>(ports.stdout)
    .filter((p) => p.linkinfo?.info_slave_data?.hairpin === false)
    .map((p) => (p.ifname ?? '').split('@')[0] ?? '');
  const sysctls: NodeState['sysctls'] = {};
  SYSCTLS.forEach((key, i) => {
    const r = values[i];
    if (r && r.exitCode === 0) sysctls[key] = r.stdout.trim();
  });
  const [addr, link, fdb] = await Promise.all([
    runner.run(['ip', '-j', '-n', netns, 'addr', 'show'], opts),
    runner.run(['ip', '-j', '-d', '-n', netns, 'link', 'show', 'dev', VXLAN_DEVICE], opts),
    runner.run(['bridge', '-j', '-n', netns, 'fdb', 'show', 'dev', VXLAN_DEVICE], opts),
  ]);
  const addresses: Record<string, string> = {};
  for (const i of parseJson<IpAddrJson>(addr.stdout)) {
    for (const a of i.addr_info ?? []) if (a.family === 'inet' && a.local && i.ifname !== 'lo') addresses[a.local] = i.ifname ?? '';
  }
  const data = link.exitCode === 0 ? parseJson<IpLinkJson>(link.stdout)[0]?.linkinfo?.info_data : undefined;
  const entries: FdbEntry[] = parseJson<FdbJson>(fdb.stdout).flatMap((e) => (e.mac && e.dst ? [{ mac: e.mac, dst: e.dst }] : []));
  return { hairpinOff, sysctls, addresses, ...(data?.local ? { vtep: { local: data.local, ...(data.link ? { dev: data.link } : {}) } } : {}), fdb: entries };
}

function internalIP(node: KubeObject | undefined): string | undefined {
  const addresses = (node?.['status'] as { addresses?: Array<{ type?: string; address?: string }> } | undefined)?.addresses ?? [];
  return addresses.find((a) => a.type === 'InternalIP')?.address;
}

/** Inspects the running lab `lab`; a UsageError when it is not up. */
export async function doctorLab(lab: string, runner: CommandRunner): Promise<DoctorReport> {
  const record = await readJson<LabRecord>(lab, files.lab);
  if (!record) throw new UsageError(`lab "${lab}" is not up: start it with "sudo nslab up FILE"`);
  const api = LabApiClient.forLab(lab);
  const nodes = await api.list('/api/v1/nodes');
  const dnsPods = await api.list(`/api/v1/namespaces/kube-system/pods?labelSelector=${encodeURIComponent('k8s-app=kube-dns')}`);
  const dns: DnsEndpoint[] = dnsPods.flatMap((p) => {
    const node = (p['spec'] as { nodeName?: string } | undefined)?.nodeName;
    const ip = (p['status'] as { podIP?: string } | undefined)?.podIP;
    return node && ip && !p.metadata.deletionTimestamp ? [{ pod: p.metadata.name ?? '', node, ip }] : [];
  });
  const states = await Promise.all(
    record.plan.nodes.map(async (n): Promise<NodeState> => {
      const obj = nodes.find((o) => o.metadata.name === n.name);
      const ip = internalIP(obj);
      const publicIP = obj?.metadata.annotations?.[PUBLIC_IP];
      return { name: n.name, ...(ip ? { internalIP: ip } : {}), ...(publicIP ? { publicIP } : {}), ...(await kernelState(runner, n.netns)) };
    }),
  );
  return diagnose(record.plan, states, dns);
}
