// What `nslab capture` and `nslab trace` name: a node, host, pod or segment
// of a running lab, resolved to its network namespace (and, for a pod, its
// node and address).
import { arr, rec, str, type KubeObject } from '../api/types.js';
import type { LabApiClient } from '../client/api-client.js';
import { UsageError } from '../labfile/errors.js';
import type { LabRecord } from '../plan/lab-record.js';
import { podNetns } from '../plan/names.js';
import { SEGMENT_BRIDGE } from '../plan/topology.js';

export interface NetnsTarget {
  kind: 'node' | 'host' | 'pod' | 'segment';
  /** node/host/segment name, or NAMESPACE/NAME of a pod. */
  name: string;
  netns: string;
  /** The interface a capture listens on when none is named. */
  defaultIface: string;
  /** Pods: the node the pod runs on. */
  node?: string;
  /** Pods: the pod's IP; nodes: the node IP; hosts: the first NIC's address. */
  ip?: string;
}

/** TARGET[:IFACE], split at the last colon (no target name holds one). */
export function splitTargetIface(arg: string): { target: string; iface?: string } {
  const colon = arg.lastIndexOf(':');
  if (colon < 0) return { target: arg };
  const iface = arg.slice(colon + 1);
  if (!iface) throw new UsageError(`"${arg}": no interface after ":"`);
  return { target: arg.slice(0, colon), iface };
}

function isReady(p: KubeObject): boolean {
  const status = rec(p['status']);
  return status['phase'] === 'Running' && arr(status['conditions']).some((c) => rec(c)['type'] === 'Ready' && rec(c)['status'] === 'True');
}

/** pod/NAME, pod/NAMESPACE/NAME or pod/[NAMESPACE/]LABEL=VALUE (the first ready pod by name). */
async function findPod(api: LabApiClient, ref: string, defaultNamespace: string): Promise<KubeObject> {
  const slash = ref.indexOf('/');
  const namespace = slash < 0 ? defaultNamespace : ref.slice(0, slash);
  const name = slash < 0 ? ref : ref.slice(slash + 1);
  const ns = encodeURIComponent(namespace);
  if (name.includes('=')) {
    const pods = (await api.list(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(name)}`)).filter(isReady);
    pods.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    if (!pods[0]) throw new UsageError(`no ready pod with label ${name} in namespace ${namespace}`);
    return pods[0];
  }
  return api.get(`/api/v1/namespaces/${ns}/pods/${encodeURIComponent(name)}`);
}

export async function resolveNetnsTarget(lab: string, record: LabRecord, api: LabApiClient, ref: string, namespace = 'default'): Promise<NetnsTarget> {
  const m = /^(node|host|pod|segment)\/(.+)$/.exec(ref);
  if (!m) throw new UsageError(`"${ref}" is not a target: use node/NAME, host/NAME, pod/NAME, pod/LABEL=VALUE or segment/NETWORK`);
  const [, kind, name] = m as unknown as [string, NetnsTarget['kind'], string];
  const plan = record.plan;
  const none = (known: string[]) => new UsageError(`lab "${lab}" has no ${kind} "${name}" (it has: ${known.map((k) => `${kind}/${k}`).join(', ') || 'none'})`);
  if (kind === 'node') {
    const n = plan.nodes.find((x) => x.name === name);
    if (!n) throw none(plan.nodes.map((x) => x.name));
    return { kind, name, netns: n.netns, defaultIface: 'any', ip: n.nodeIP };
  }
  if (kind === 'host') {
    const h = plan.hosts.find((x) => x.name === name);
    if (!h) throw none(plan.hosts.map((x) => x.name));
    return { kind, name, netns: h.netns, defaultIface: 'any', ...(h.nics[0] ? { ip: h.nics[0].address } : {}) };
  }
  if (kind === 'segment') {
    // A perMachine network has one segment per machine: NETWORK.MACHINE names it.
    const names = plan.segments.map((s) => (s.machine ? `${s.network}.${s.machine}` : s.network));
    const i = names.indexOf(name);
    const seg = plan.segments[i];
    if (!seg) throw none(names);
    return { kind, name, netns: seg.netns, defaultIface: SEGMENT_BRIDGE };
  }
  const pod = await findPod(api, name, namespace);
  const podNs = pod.metadata.namespace ?? namespace;
  const podName = pod.metadata.name ?? '';
  const ip = str(rec(pod['status'])['podIP']);
  const node = str(rec(pod['spec'])['nodeName']);
  return { kind, name: `${podNs}/${podName}`, netns: podNetns(lab, podNs, podName), defaultIface: 'eth0', ...(node ? { node } : {}), ...(ip ? { ip } : {}) };
}
