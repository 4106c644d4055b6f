import { describe, expect, it } from 'vitest';
import { planTopology } from '../../../src/plan/topology.js';
import { renderIpBatches } from '../../../src/plan/ip-batch.js';
import { expectGolden } from '../../helpers/golden.js';
import { courseLab, virtualboxLab } from '../../helpers/labs.js';
import type { LabSpec } from '../../../src/labfile/types.js';
import { vtepMac } from '../../../src/plan/vxlan.js';

function vxlan(lab: LabSpec): LabSpec {
  return { ...lab, cluster: { ...lab.cluster, podNetwork: 'vxlan' } };
}

/** The VirtualBox lab with the course's fix: iface enp0s8 and each node's host-only address as nodeIP. */
function fixedVbox(): LabSpec {
  const lab = vxlan(virtualboxLab({ iface: 'enp0s8' }));
  return { ...lab, nodes: lab.nodes.map((n) => ({ ...n, nodeIP: n.nics[1]?.address })) };
}

function batchesText(lab: ReturnType<typeof courseLab>): string {
  const b = renderIpBatches(planTopology(lab));
  return [
    '# ip -batch -',
    ...b.create,
    ...b.configure.flatMap((c) => [`# ip -n ${c.netns} -batch -`, ...c.lines]),
    ...b.fdb.flatMap((c) => [`# bridge -n ${c.netns} -batch -`, ...c.lines]),
    '',
  ].join('\n');
}

describe('planTopology on the course cluster', () => {
  const plan = planTopology(courseLab());

  it('gives each node its pod CIDR, cni0 gateway and node IP', () => {
    expect(plan.nodes.map((n) => [n.name, n.nodeIP, n.podCIDR, n.podGateway])).toEqual([
      ['master', '192.168.10.210', '10.10.0.0/24', '10.10.0.1/24'],
      ['worker', '192.168.10.220', '10.10.1.0/24', '10.10.1.1/24'],
    ]);
  });

  it('routes each node to the other pod CIDRs via the other node (host-gw)', () => {
    expect(plan.nodes[0]?.podRoutes).toEqual([{ dst: '10.10.1.0/24', via: '192.168.10.220', dev: 'eth0' }]);
    expect(plan.nodes[1]?.podRoutes).toEqual([{ dst: '10.10.0.0/24', via: '192.168.10.210', dev: 'eth0' }]);
    expect(plan.warnings).toEqual([]);
  });

  it('turns on forwarding and bridge netfilter in nodes only', () => {
    const on = plan.sysctls.filter((s) => s.value === '1').map((s) => `${s.netns} ${s.key}`);
    expect(on).toEqual([
      'nslab-default.node-master net.ipv4.ip_forward',
      'nslab-default.node-master net.bridge.bridge-nf-call-iptables',
      'nslab-default.node-master net.bridge.bridge-nf-call-ip6tables',
      'nslab-default.node-worker net.ipv4.ip_forward',
      'nslab-default.node-worker net.bridge.bridge-nf-call-iptables',
      'nslab-default.node-worker net.bridge.bridge-nf-call-ip6tables',
    ]);
  });

  it('matches the golden plan and ip batches', () => {
    expectGolden('course.plan.json', `${JSON.stringify(plan, null, 2)}\n`);
    expectGolden('course.ip-batch.txt', batchesText(courseLab()));
  });
});

describe('planTopology on the VirtualBox dual-NIC pitfall', () => {
  it('registers every node with the NAT address, as a kubelet without --node-ip does', () => {
    const plan = planTopology(virtualboxLab());
    expect(plan.nodes.map((n) => n.nodeIP)).toEqual(['10.0.2.15', '10.0.2.15']);
    expect(plan.nodes.every((n) => n.podRoutes.length === 0)).toBe(true);
    expect(plan.warnings.join('\n')).toContain("flannel's next hop 10.0.2.15 is master's own address");
    expect(plan.warnings.join('\n')).toContain('all register INTERNAL-IP 10.0.2.15');
  });

  it('gives every machine its own NAT segment', () => {
    const plan = planTopology(virtualboxLab());
    expect(plan.segments.map((s) => s.netns)).toEqual([
      'nslab-vbox.net-nat.master',
      'nslab-vbox.net-hostonly',
      'nslab-vbox.net-nat.worker',
    ]);
  });

  it('works once nodeIP and iface are set, as the course comments advise', () => {
    const plan = planTopology(virtualboxLab({ iface: 'enp0s8' }));
    const fixed = plan.nodes.map((n) => n.podRoutes);
    expect(fixed).toEqual([
      [{ dst: '10.10.1.0/24', via: '192.168.56.220', dev: 'enp0s8' }],
      [{ dst: '10.10.0.0/24', via: '192.168.56.210', dev: 'enp0s8' }],
    ]);
    expectGolden('vbox-iface.ip-batch.txt', batchesText(virtualboxLab({ iface: 'enp0s8' })));
  });
});

describe('planTopology with flannel vxlan', () => {
  it('builds flannel.1 on every node as flannel does: VNI 1, port 8472, local = public IP, MTU NIC-50, .0/32', () => {
    const plan = planTopology(fixedVbox());
    expect(plan.nodes.map((n) => [n.nodeIP, n.vtep?.local])).toEqual([
      ['192.168.56.210', '192.168.56.210'],
      ['192.168.56.220', '192.168.56.220'],
    ]);
    expect(plan.nodes.map((n) => n.vtep)).toEqual([
      { device: 'flannel.1', vni: 1, port: 8472, local: '192.168.56.210', dev: 'enp0s8', mtu: 1450, mac: vtepMac('vbox', 'master'), address: '10.10.0.0/32' },
      { device: 'flannel.1', vni: 1, port: 8472, local: '192.168.56.220', dev: 'enp0s8', mtu: 1450, mac: vtepMac('vbox', 'worker'), address: '10.10.1.0/32' },
    ]);
    expect(plan.nodes[0]?.podRoutes).toEqual([{ dst: '10.10.1.0/24', via: '10.10.1.0', dev: 'flannel.1', onlink: true }]);
    expect(plan.nodes[0]?.vxlanPeers).toEqual([
      { node: 'worker', podCIDR: '10.10.1.0/24', gateway: '10.10.1.0', mac: vtepMac('vbox', 'worker'), publicIP: '192.168.56.220' },
    ]);
    expect(plan.warnings).toEqual([]);
    expectGolden('vbox-vxlan-fixed.ip-batch.txt', batchesText(fixedVbox()));
  });

  it('uses a locally administered unicast VtepMAC that stays the same for the same node', () => {
    const mac = vtepMac('vbox', 'master');
    expect(mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(Number.parseInt(mac.slice(0, 2), 16) & 0x03).toBe(0x02);
    expect(vtepMac('vbox', 'master')).toBe(mac);
    expect(vtepMac('vbox', 'worker')).not.toBe(mac);
  });

  it('without iface, points every FDB entry at 10.0.2.15, the node\'s own address, as the VirtualBox pitfall does', () => {
    const plan = planTopology(vxlan(virtualboxLab()));
    expect(plan.nodes.map((n) => [n.nodeIP, n.vtep?.local, n.vtep?.dev])).toEqual([
      ['10.0.2.15', '10.0.2.15', 'enp0s3'],
      ['10.0.2.15', '10.0.2.15', 'enp0s3'],
    ]);
    // flannel installs the entries anyway: the route exists, the frames go nowhere.
    expect(plan.nodes.map((n) => n.vxlanPeers?.map((p) => p.publicIP))).toEqual([['10.0.2.15'], ['10.0.2.15']]);
    expect(plan.nodes.every((n) => n.podRoutes.length === 1)).toBe(true);
    const batches = renderIpBatches(plan);
    expect(batches.fdb.map((f) => f.lines)).toEqual([
      [`fdb replace ${vtepMac('vbox', 'worker')} dev flannel.1 dst 10.0.2.15 self permanent`],
      [`fdb replace ${vtepMac('vbox', 'master')} dev flannel.1 dst 10.0.2.15 self permanent`],
    ]);
    expect(plan.warnings.join('\n')).toContain("vxlan FDB sends worker's pods 10.10.1.0/24 to 10.0.2.15, master's own address");
    expect(plan.warnings.join('\n')).toContain('all register INTERNAL-IP 10.0.2.15');
  });

  it('makes no vxlan device under host-gw', () => {
    const plan = planTopology(courseLab());
    expect(plan.nodes.every((n) => n.vtep === undefined)).toBe(true);
    expect(renderIpBatches(plan).fdb).toEqual([]);
  });
});

describe('re-programming vxlan after flannel restarts with --iface', () => {
  it('recreates flannel.1 on the node and points the peers FDB entries at its new public IP', async () => {
    const { vxlanReprogram } = await import('../../../src/plan/ip-batch.js');
    const lab = vxlan(virtualboxLab());
    const fixed = { ...lab, nodes: lab.nodes.map((n) => (n.name === 'worker' ? { ...n, iface: 'enp0s8' } : n)) };
    const r = vxlanReprogram(planTopology(fixed), 'worker');
    expect(r.ip[0]?.netns).toBe('nslab-vbox.node-worker');
    expect(r.ip[0]?.lines.slice(0, 2)).toEqual([
      'link del dev flannel.1',
      'link add name flannel.1 type vxlan id 1 local 192.168.56.220 dev enp0s8 nolearning dstport 8472',
    ]);
    expect(r.ip[0]?.lines).toContain('route replace 10.10.0.0/24 via 10.10.0.0 dev flannel.1 onlink');
    expect(r.fdb).toEqual([
      { netns: 'nslab-vbox.node-worker', lines: [`fdb replace ${vtepMac('vbox', 'master')} dev flannel.1 dst 10.0.2.15 self permanent`] },
      { netns: 'nslab-vbox.node-master', lines: [`fdb replace ${vtepMac('vbox', 'worker')} dev flannel.1 dst 192.168.56.220 self permanent`] },
    ]);
  });
});

describe('node knobs for the pitfall labs', () => {
  it('turns bridge-nf-call-iptables off and marks hairpin off only on the node that asks', () => {
    const lab = courseLab();
    const plan = planTopology({ ...lab, nodes: lab.nodes.map((n) => (n.name === 'worker' ? { ...n, hairpin: false, bridgeNfCallIptables: false } : n)) });
    expect(plan.sysctls.filter((s) => s.key === 'net.bridge.bridge-nf-call-iptables').map((s) => `${s.netns} ${s.value}`)).toEqual([
      'nslab-default.node-master 1',
      'nslab-default.node-worker 0',
    ]);
    expect(plan.nodes.map((n) => n.hairpin)).toEqual([undefined, false]);
  });
});
