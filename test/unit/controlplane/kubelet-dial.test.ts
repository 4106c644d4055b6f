import { describe, expect, it } from 'vitest';
import { planTopology } from '../../../src/plan/topology.js';
import { dialKubelet, internalIP } from '../../../src/controlplane/kubelet-dial.js';
import { courseLab, virtualboxLab } from '../../helpers/labs.js';

describe('which kubelet the apiserver reaches at a Node InternalIP:10250', () => {
  it('reaches each node of the course cluster at its own address', () => {
    const { nodes } = planTopology(courseLab());
    const master = nodes[0]!;
    expect(dialKubelet(nodes, master, '192.168.10.210')).toEqual({ node: 'master' });
    expect(dialKubelet(nodes, master, '192.168.10.220')).toEqual({ node: 'worker' });
  });

  it('reaches its own kubelet when every node says INTERNAL-IP 10.0.2.15 (the VirtualBox pitfall)', () => {
    const { nodes } = planTopology(virtualboxLab());
    // The worker's 10.0.2.15 sits on its private NAT copy; the master dials its own.
    expect(dialKubelet(nodes, nodes[0]!, '10.0.2.15')).toEqual({ node: 'master' });
  });

  it('reaches the worker over the host-only network once nodeIP is set', () => {
    const { nodes } = planTopology(virtualboxLab());
    expect(dialKubelet(nodes, nodes[0]!, '192.168.56.220')).toEqual({ node: 'worker' });
  });

  it('cannot dial an address on no segment the control-plane node shares', () => {
    const { nodes } = planTopology(virtualboxLab());
    expect(dialKubelet(nodes, nodes[0]!, '172.16.0.9')).toEqual({ error: 'error dialing backend: dial tcp 172.16.0.9:10250: i/o timeout' });
  });

  it('reads the InternalIP from a Node object', () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w' }, status: { addresses: [{ type: 'Hostname', address: 'w' }, { type: 'InternalIP', address: '10.0.2.15' }] } };
    expect(internalIP(node)).toBe('10.0.2.15');
    expect(internalIP(undefined)).toBeUndefined();
  });
});
