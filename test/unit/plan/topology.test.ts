import { describe, expect, it } from 'vitest';
import { planTopology } from '../../../src/plan/topology.js';
import { renderIpBatches } from '../../../src/plan/ip-batch.js';
import { expectGolden } from '../../helpers/golden.js';
import { courseLab, virtualboxLab } from '../../helpers/labs.js';

function batchesText(lab: ReturnType<typeof courseLab>): string {
  const b = renderIpBatches(planTopology(lab));
  return [
    '# ip -batch -',
    ...b.create,
    ...b.configure.flatMap((c) => [`# ip -n ${c.netns} -batch -`, ...c.lines]),
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
