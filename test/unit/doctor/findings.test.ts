import { describe, expect, it } from 'vitest';
import { planTopology } from '../../../src/plan/topology.js';
import { diagnose, reportText, type NodeState } from '../../../src/doctor/findings.js';
import type { LabSpec } from '../../../src/labfile/types.js';
import { courseLab, virtualboxLab } from '../../helpers/labs.js';

function vxlan(lab: LabSpec): LabSpec {
  return { ...lab, cluster: { ...lab.cluster, podNetwork: 'vxlan' } };
}

/** What the API and the kernel show for a planned lab once flannel and the kubelets did what the plan says. */
function statesOf(lab: LabSpec): NodeState[] {
  const plan = planTopology(lab);
  return plan.nodes.map((n) => ({
    name: n.name,
    internalIP: n.nodeIP,
    publicIP: n.flannelIP,
    addresses: Object.fromEntries(n.nics.map((nic) => [nic.address, nic.ifname])),
    ...(n.vtep ? { vtep: { local: n.vtep.local, dev: n.vtep.dev } } : {}),
    fdb: (n.vxlanPeers ?? []).map((p) => ({ mac: p.mac, dst: p.publicIP })),
  }));
}

describe('nslab doctor findings', () => {
  it('names the VirtualBox pitfall: shared InternalIP, public IP on the NAT network, FDB at its own address', () => {
    const lab = vxlan(virtualboxLab());
    const r = diagnose(planTopology(lab), statesOf(lab));
    expect(r.healthy).toBe(false);
    expect(r.findings.map((f) => [f.id, f.nodes.join(',')])).toEqual([
      ['shared-internal-ip', 'master,worker'],
      ['flannel-public-ip-unreachable', 'master'],
      ['flannel-public-ip-unreachable', 'worker'],
      ['fdb-own-address', 'master'],
      ['fdb-own-address', 'worker'],
    ]);
    const text = reportText(r);
    expect(text).toContain('nodes master, worker all report INTERNAL-IP 10.0.2.15');
    expect(text).toContain("flannel's public IP 10.0.2.15 is on nat network, a per-machine (NAT) network");
    expect(text).toContain("the vxlan FDB sends other nodes' pod traffic to 10.0.2.15, master's own address");
    expect(text).toContain('--iface=enp0s8');
    expect(text).toContain('--node-ip=192.168.56.220');
  });

  it('finds nothing on the fixed twin', () => {
    const base = vxlan(virtualboxLab({ iface: 'enp0s8' }));
    const lab = { ...base, nodes: base.nodes.map((n) => ({ ...n, nodeIP: n.nics[1]?.address })) };
    const r = diagnose(planTopology(lab), statesOf(lab));
    expect(r.findings).toEqual([]);
    expect(reportText(r)).toBe('Lab "vbox": no problems found.');
  });

  it('finds nothing on the course cluster, host-gw or vxlan', () => {
    for (const lab of [courseLab(), vxlan(courseLab())]) {
      expect(diagnose(planTopology(lab), statesOf(lab)).healthy).toBe(true);
    }
  });

  it('reports an FDB entry no segment of the node reaches', () => {
    const lab = vxlan(courseLab());
    const states = statesOf(lab).map((s) => (s.name === 'master' ? { ...s, fdb: [{ mac: '02:00:00:00:00:01', dst: '172.16.9.9' }] } : s));
    const r = diagnose(planTopology(lab), states);
    expect(r.findings.map((f) => f.id)).toEqual(['fdb-unreachable']);
    expect(r.findings[0]?.evidence).toEqual(['master: bridge fdb: 02:00:00:00:00:01 dev flannel.1 dst 172.16.9.9 self permanent']);
  });
});

describe('nslab doctor on node settings', () => {
  const lab = courseLab();
  const plan = planTopology(lab);
  const healthy = statesOf(lab).map((s) => ({ ...s, hairpinOff: [], sysctls: { 'net.ipv4.ip_forward': '1', 'net.bridge.bridge-nf-call-iptables': '1' } }));

  it('finds nothing when hairpin is on and both sysctls are 1', () => {
    expect(diagnose(plan, healthy).findings).toEqual([]);
  });

  it('names hairpin off, bridge-nf-call-iptables off and ip_forward off, on the node that has them', () => {
    const states = healthy.map((s) =>
      s.name === 'worker'
        ? { ...s, hairpinOff: ['veth1234abcd'], sysctls: { 'net.ipv4.ip_forward': '0', 'net.bridge.bridge-nf-call-iptables': '0' } }
        : s,
    );
    const r = diagnose(plan, states);
    expect(r.findings.map((f) => `${f.id} ${f.nodes.join(',')}`)).toEqual([
      'hairpin-off worker',
      'bridge-nf-call-iptables-off worker',
      'ip-forward-off worker',
    ]);
    expect(r.findings[0]?.evidence).toEqual(['worker: ip -d link show veth1234abcd: master cni0 ... hairpin off']);
    expect(r.findings[1]?.fix).toContain('sysctl -w net.bridge.bridge-nf-call-iptables=1');
  });
});

describe('nslab doctor on the cluster DNS', () => {
  const dnsOnMaster = [
    { pod: 'coredns-a', node: 'master', ip: '10.10.0.4' },
    { pod: 'coredns-b', node: 'master', ip: '10.10.0.5' },
  ];

  it('names the node that reaches no CoreDNS endpoint in the VirtualBox pitfall', () => {
    const lab = vxlan(virtualboxLab());
    const r = diagnose(planTopology(lab), statesOf(lab), dnsOnMaster);
    const dns = r.findings.filter((f) => f.id === 'coredns-unreachable');
    expect(dns.map((f) => f.nodes)).toEqual([['worker']]);
    expect(dns[0]?.evidence[0]).toBe("coredns-a 10.10.0.4 on master: worker's FDB sends master's VtepMAC to 10.0.2.15, not an address of master it reaches");
  });

  it('finds nothing once the pod network is fixed', () => {
    const base = vxlan(virtualboxLab({ iface: 'enp0s8' }));
    const lab = { ...base, nodes: base.nodes.map((n) => ({ ...n, nodeIP: n.nics[1]?.address })) };
    expect(diagnose(planTopology(lab), statesOf(lab), dnsOnMaster).findings).toEqual([]);
  });
});
