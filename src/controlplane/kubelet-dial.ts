// Which kubelet the apiserver reaches for a pod's exec and logs. The
// apiserver (hostNetwork on the control-plane node) dials the pod's Node at
// its InternalIP, port 10250 (kubeadm's --kubelet-preferred-address-types
// puts InternalIP first), not by node name. When every Node says
// InternalIP 10.0.2.15 (the VirtualBox pitfall) that is the control-plane
// node's own address, so its own kubelet answers, and that kubelet has no
// such pod. Pure.
import type { PlannedNode } from '../plan/topology.js';
import type { KubeObject } from '../api/types.js';

export const KUBELET_PORT = 10250;

export type KubeletDial = { node: string } | { error: string };

/** The Node object's InternalIP, as status.addresses carries it. */
export function internalIP(node: KubeObject | undefined): string | undefined {
  const addresses = (node?.['status'] as { addresses?: Array<{ type?: string; address?: string }> } | undefined)?.addresses ?? [];
  return addresses.find((a) => a.type === 'InternalIP')?.address;
}

/**
 * The node whose kubelet answers `ip:10250` as seen from `from`'s netns: its
 * own address first (local delivery), else a node with that address on a
 * segment `from` is attached to. Anything else is not reachable from there.
 */
export function dialKubelet(nodes: readonly PlannedNode[], from: PlannedNode, ip: string): KubeletDial {
  if (from.nics.some((n) => n.address === ip)) return { node: from.name };
  const segments = new Set(from.nics.map((n) => n.segmentNetns));
  const peer = nodes.find((n) => n.nics.some((nic) => nic.address === ip && segments.has(nic.segmentNetns)));
  return peer ? { node: peer.name } : { error: `error dialing backend: dial tcp ${ip}:${KUBELET_PORT}: i/o timeout` };
}

/** What the apiserver reports when the kubelet it reached does not run the pod (kubelet server getExec: 404). */
export const POD_DOES_NOT_EXIST = 'unable to upgrade connection: pod does not exist';
