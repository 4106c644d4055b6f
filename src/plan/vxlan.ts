// flannel's vxlan backend, as flanneld programs a node (pkg/backend/vxlan):
// one flannel.1 per node (VNI 1, the kernel's port 8472, `local` = the
// public IP flannel chose, nolearning, MTU = NIC MTU - 50, the pod subnet's
// .0 as a /32), and for every other node a permanent neighbour entry (its .0
// -> its VtepMAC), an FDB entry (its VtepMAC -> its public IP) and a route
// `<its pod CIDR> via <its .0> dev flannel.1 onlink`. Pure.
import { createHash } from 'node:crypto';
import { cidrToString, containsAddress, networkOf, nthAddress } from '../labfile/ipv4.js';
import type { PlannedNode } from './topology.js';

export const VXLAN_DEVICE = 'flannel.1';
export const VXLAN_VNI = 1;
/** flannel leaves Port 0, so the Linux kernel default applies. */
export const VXLAN_PORT = 8472;
/** Every lab NIC is a veth with the kernel's default MTU. */
export const NIC_MTU = 1500;
/** flannel's encapOverhead. */
export const VXLAN_OVERHEAD = 50;

export interface PlannedVtep {
  device: string;
  vni: number;
  port: number;
  /** flannel's public IP (`local`), and the NIC it sits on (`dev`). */
  local: string;
  dev: string;
  mtu: number;
  mac: string;
  /** The pod subnet's .0 with /32. */
  address: string;
}

export interface PlannedVxlanPeer {
  node: string;
  podCIDR: string;
  /** The peer's flannel.1 address (its pod subnet's .0). */
  gateway: string;
  mac: string;
  publicIP: string;
}

/**
 * flannel makes a random locally administered unicast MAC and stores it in
 * the node's backend-data annotation; the lab derives it from the lab and
 * node names so the plan stays pure and a restart keeps it, as flannel does.
 */
export function vtepMac(lab: string, node: string): string {
  const b = [...createHash('sha256').update(`${lab}/${node}/${VXLAN_DEVICE}`).digest().subarray(0, 6)];
  b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Fills in each node's vtep, peers and routes; returns what a real cluster would get wrong. */
export function planVxlan(lab: string, nodes: PlannedNode[]): string[] {
  const warnings: string[] = [];
  for (const node of nodes) {
    const cidr = networkOf(node.podCIDR);
    node.vtep = {
      device: VXLAN_DEVICE,
      vni: VXLAN_VNI,
      port: VXLAN_PORT,
      local: node.flannelIP,
      dev: node.flannelIface,
      mtu: NIC_MTU - VXLAN_OVERHEAD,
      mac: vtepMac(lab, node.name),
      address: `${nthAddress(cidr, 0)}/32`,
    };
  }
  for (const node of nodes) {
    const own = new Set(node.nics.map((n) => n.address));
    const nic = node.nics.find((n) => n.ifname === node.flannelIface);
    const subnet = nic ? networkOf(`${nic.address}/${nic.prefix}`) : undefined;
    node.vxlanPeers = [];
    for (const peer of nodes) {
      if (peer === node || !peer.vtep) continue;
      const gateway = nthAddress(networkOf(peer.podCIDR), 0);
      node.vxlanPeers.push({ node: peer.name, podCIDR: peer.podCIDR, gateway, mac: peer.vtep.mac, publicIP: peer.flannelIP });
      node.podRoutes.push({ dst: peer.podCIDR, via: gateway, dev: VXLAN_DEVICE, onlink: true });
      // flannel programs the entries either way; the frames then go nowhere.
      if (own.has(peer.flannelIP)) {
        warnings.push(
          `node ${node.name}: vxlan FDB sends ${peer.name}'s pods ${peer.podCIDR} to ${peer.flannelIP}, ` +
            `${node.name}'s own address: the frames never leave ${node.name} (set iface on the nodes to the NIC they share)`,
        );
      } else if (subnet && !containsAddress(subnet, peer.flannelIP)) {
        warnings.push(
          `node ${node.name}: vxlan FDB sends ${peer.name}'s pods ${peer.podCIDR} to ${peer.flannelIP}, ` +
            `which is not on ${node.name}'s ${node.flannelIface} (${cidrToString(subnet)}) and no lab router forwards`,
        );
      }
    }
  }
  return warnings;
}
