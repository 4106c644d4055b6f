// Lab specs built in code, for planner tests that must not depend on the parser.
import type { LabSpec, NodeSpec, HostSpec, NetworkSpec } from '../../src/labfile/types.js';

export function nic(network: string, address: string, extra: Partial<NodeSpec['nics'][number]> = {}) {
  return { network, address, name: 'eth0', defaultRoute: false, ...extra };
}

export function node(name: string, nics: NodeSpec['nics'], extra: Partial<NodeSpec> = {}): NodeSpec {
  return { name, nics, roles: [], labels: {}, ...extra };
}

export function host(name: string, nics: HostSpec['nics'], dnsRecords: Record<string, string> = {}): HostSpec {
  return { name, nics, dnsRecords };
}

export function lab(name: string, parts: { networks: NetworkSpec[]; nodes: NodeSpec[]; hosts?: HostSpec[] }): LabSpec {
  return {
    name,
    file: `/labs/${name}.yaml`,
    networks: parts.networks,
    nodes: parts.nodes,
    hosts: parts.hosts ?? [],
    cluster: {
      podCIDR: '10.10.0.0/16',
      nodeCIDRMaskSize: 24,
      serviceCIDR: '10.96.0.0/12',
      nodePortRange: { base: 30000, size: 2768 },
      proxyMode: 'iptables',
      podNetwork: 'host-gw',
      dns: { domain: 'cluster.local' },
    },
    manifests: [],
    checks: [],
  };
}

/** The course's cluster, as labs/default.yaml describes it. */
export function courseLab(): LabSpec {
  return lab('default', {
    networks: [{ name: 'lan', cidr: '192.168.10.0/24', gateway: '192.168.10.1', perMachine: false }],
    nodes: [
      node('master', [nic('lan', '192.168.10.210')], { roles: ['control-plane'] }),
      node('worker', [nic('lan', '192.168.10.220')]),
    ],
    hosts: [host('console', [nic('lan', '192.168.10.208')])],
  });
}

/** VirtualBox's dual-NIC setup: every VM's NAT NIC is 10.0.2.15 and holds the default route. */
export function virtualboxLab(extra: Partial<NodeSpec> = {}): LabSpec {
  const vbNode = (name: string, hostOnly: string, roles: string[] = []) =>
    node(name, [nic('nat', '10.0.2.15', { name: 'enp0s3' }), nic('hostonly', hostOnly, { name: 'enp0s8' })], { roles, ...extra });
  return lab('vbox', {
    networks: [
      { name: 'nat', cidr: '10.0.2.0/24', gateway: '10.0.2.2', perMachine: true },
      { name: 'hostonly', cidr: '192.168.56.0/24', perMachine: false },
    ],
    nodes: [vbNode('master', '192.168.56.210', ['control-plane']), vbNode('worker', '192.168.56.220')],
  });
}
