// `nslab node set NODE --node-ip IP --iface NIC`: the course readers' fix in
// place. --node-ip is the kubelet's flag (KUBELET_EXTRA_ARGS, then a kubelet
// restart): the Node's InternalIP follows, and with it where the apiserver
// dials for exec and logs. --iface is flannel's: flanneld restarted with it
// recreates flannel.1 on the new NIC, re-annotates the Node, and every other
// node's flanneld replaces its FDB entry for this node.
import type { KubeObject } from '../api/types.js';
import { LabApiClient } from '../client/api-client.js';
import { UsageError } from '../labfile/errors.js';
import type { LabSpec } from '../labfile/types.js';
import { vxlanReprogram } from '../plan/ip-batch.js';
import type { LabRecord } from '../plan/lab-record.js';
import { planTopology } from '../plan/topology.js';
import type { CommandRunner } from '../sys/runner.js';
import { files, readJson, writeJson } from '../sys/state-dir.js';

export interface NodeSetOptions {
  nodeIP?: string;
  iface?: string;
}

type Addresses = Array<{ type?: string; address?: string }>;

/** Applies the change to the running lab; returns one line per thing that changed. */
export async function setNode(lab: string, nodeName: string, opts: NodeSetOptions, runner: CommandRunner): Promise<string[]> {
  const record = await readJson<LabRecord>(lab, files.lab);
  if (!record) throw new UsageError(`lab "${lab}" is not up`);
  const spec = record.spec.nodes.find((n) => n.name === nodeName);
  if (!spec) throw new UsageError(`lab "${lab}" has no node ${nodeName} (nodes: ${record.spec.nodes.map((n) => n.name).join(', ')})`);
  if (opts.nodeIP === undefined && opts.iface === undefined) throw new UsageError('give --node-ip, --iface or both');
  // The kubelet's and flanneld's own refusals, word for word.
  if (opts.nodeIP !== undefined && !spec.nics.some((n) => n.address === opts.nodeIP)) {
    throw new UsageError(`kubelet on ${nodeName}: failed to validate nodeIP: node IP: "${opts.nodeIP}" not found in the host's network interfaces`);
  }
  if (opts.iface !== undefined && !spec.nics.some((n) => n.name === opts.iface)) {
    throw new UsageError(`flanneld on ${nodeName}: Failed to find interface to use that matches the interfaces and/or regexes provided`);
  }
  const newSpec: LabSpec = {
    ...record.spec,
    nodes: record.spec.nodes.map((n) =>
      n.name === nodeName ? { ...n, ...(opts.nodeIP !== undefined ? { nodeIP: opts.nodeIP } : {}), ...(opts.iface !== undefined ? { iface: opts.iface } : {}) } : n,
    ),
  };
  const plan = planTopology(newSpec);
  const planned = plan.nodes.find((n) => n.name === nodeName);
  const before = record.plan.nodes.find((n) => n.name === nodeName);
  if (!planned || !before) throw new UsageError(`no node ${nodeName}`);
  const api = LabApiClient.forLab(lab);
  const path = `/api/v1/nodes/${encodeURIComponent(nodeName)}`;
  const done: string[] = [];

  if (planned.flannelIP !== before.flannelIP && plan.podNetwork === 'vxlan') {
    const r = vxlanReprogram(plan, nodeName);
    for (const b of r.ip) await runner.run(['ip', '-n', b.netns, '-batch', '-'], { input: b.lines.map((l) => `${l}\n`).join('') });
    for (const b of r.fdb) await runner.run(['bridge', '-n', b.netns, '-batch', '-'], { input: b.lines.map((l) => `${l}\n`).join('') });
    done.push(`flanneld on ${nodeName} restarted with --iface=${planned.flannelIface}: flannel.1 local ${planned.flannelIP} dev ${planned.flannelIface}; the other nodes' FDB entries for ${nodeName} now point at ${planned.flannelIP}`);
  } else if (planned.flannelIP !== before.flannelIP) {
    done.push(`flanneld on ${nodeName} restarted with --iface=${planned.flannelIface} (public IP ${planned.flannelIP})`);
  }
  if (planned.flannelIP !== before.flannelIP) {
    const node = await api.get(path);
    const annotations = { ...(node.metadata.annotations ?? {}), 'flannel.alpha.coreos.com/public-ip': planned.flannelIP };
    await api.request<KubeObject>('PUT', path, { ...node, metadata: { ...node.metadata, annotations } });
  }
  if (planned.nodeIP !== before.nodeIP) {
    const node = await api.get(path);
    const status = (node['status'] ?? {}) as { addresses?: Addresses };
    const addresses = (status.addresses ?? []).map((a) => (a.type === 'InternalIP' ? { ...a, address: planned.nodeIP } : a));
    await api.request<KubeObject>('PUT', `${path}/status`, { ...node, status: { ...status, addresses } });
    done.push(`kubelet on ${nodeName} restarted with --node-ip=${planned.nodeIP}: Node ${nodeName} INTERNAL-IP ${before.nodeIP} -> ${planned.nodeIP}`);
  }
  await writeJson(lab, files.lab, { ...record, spec: newSpec, plan });
  return done.length > 0 ? done : [`${nodeName}: nothing to change`];
}
