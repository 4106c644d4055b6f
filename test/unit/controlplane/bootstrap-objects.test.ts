import { describe, expect, it } from 'vitest';
import { planTopology } from '../../../src/plan/topology.js';
import { controlPlaneNode, kubernetesEndpoints, kubernetesService, nodeObject } from '../../../src/controlplane/bootstrap-objects.js';
import { osImage } from '../../../src/controlplane/machine-info.js';
import { courseLab } from '../../helpers/labs.js';

const info = {
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  kernelVersion: '6.1.0-56-amd64',
  architecture: 'amd64',
  cpus: 2,
  memoryKi: 1024,
  bootID: 'b',
  machineID: 'm',
};

describe('bootstrap objects', () => {
  const plan = planTopology(courseLab());

  it('registers nodes as a kubeadm kubelet would', () => {
    const master = nodeObject(plan.nodes[0]!, info, '2026-01-01T00:00:00Z', 'host-gw');
    expect(master.metadata.labels?.['node-role.kubernetes.io/control-plane']).toBe('');
    expect(master['spec']).toEqual({ podCIDR: '10.10.0.0/24', podCIDRs: ['10.10.0.0/24'] });
    const status = master['status'] as { addresses: unknown; conditions: Array<{ type: string; status: string }> };
    expect(status.addresses).toEqual([
      { type: 'InternalIP', address: '192.168.10.210' },
      { type: 'Hostname', address: 'master' },
    ]);
    expect(status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('gives the kubernetes Service the first address of the service CIDR', () => {
    const svc = kubernetesService('10.96.0.0/12');
    expect((svc['spec'] as { clusterIP: string }).clusterIP).toBe('10.96.0.1');
  });

  it('points the kubernetes endpoints at the control-plane node', () => {
    expect(controlPlaneNode(plan.nodes).name).toBe('master');
    const [ep] = kubernetesEndpoints(controlPlaneNode(plan.nodes));
    expect(JSON.stringify(ep)).toContain('192.168.10.210');
    expect(JSON.stringify(ep)).toContain('6443');
  });

  it('reads the OS image from os-release', () => {
    expect(osImage('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')).toBe('Debian GNU/Linux 12 (bookworm)');
  });

  it("annotates nodes as flannel's kube subnet manager does, with the VtepMAC under vxlan", () => {
    const lab = courseLab();
    const vx = planTopology({ ...lab, cluster: { ...lab.cluster, podNetwork: 'vxlan' } });
    const a = nodeObject(vx.nodes[1]!, info, '2026-01-01T00:00:00Z', 'vxlan').metadata.annotations ?? {};
    expect(a['flannel.alpha.coreos.com/backend-type']).toBe('vxlan');
    expect(a['flannel.alpha.coreos.com/public-ip']).toBe('192.168.10.220');
    expect(a['flannel.alpha.coreos.com/kube-subnet-manager']).toBe('true');
    expect(JSON.parse(a['flannel.alpha.coreos.com/backend-data'] ?? '')).toEqual({ VNI: 1, VtepMAC: vx.nodes[1]?.vtep?.mac });
  });
});
