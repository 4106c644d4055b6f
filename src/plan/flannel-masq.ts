// flanneld's --ip-masq rules (the default in kube-flannel): pod traffic that
// leaves the pod network is masqueraded to the node's address, pod-to-pod
// traffic is not, and packets kube-proxy already marked for SNAT are left to
// it. As an iptables-restore --noflush payload for one node's nat table. Pure.

export function flannelMasqRestore(clusterPodCIDR: string, nodePodCIDR: string): string {
  const c = '-m comment --comment "flanneld masq"';
  return [
    '*nat',
    ':FLANNEL-POSTRTG - [0:0]',
    `-A POSTROUTING ${c} -j FLANNEL-POSTRTG`,
    `-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 ${c} -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${nodePodCIDR} -d ${clusterPodCIDR} ${c} -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${clusterPodCIDR} -d ${nodePodCIDR} ${c} -j RETURN`,
    `-A FLANNEL-POSTRTG ! -s ${clusterPodCIDR} -d ${nodePodCIDR} ${c} -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${clusterPodCIDR} ! -d 224.0.0.0/4 ${c} -j MASQUERADE --random-fully`,
    `-A FLANNEL-POSTRTG ! -s ${clusterPodCIDR} -d ${clusterPodCIDR} ${c} -j MASQUERADE --random-fully`,
    'COMMIT',
    '',
  ].join('\n');
}
