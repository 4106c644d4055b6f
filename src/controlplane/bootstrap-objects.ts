// The objects a fresh kubeadm cluster has before anyone applies anything:
// the four namespaces, the Nodes as their kubelets register them, their
// Leases, and the `kubernetes` Service with its endpoints. Pure functions.
import type { PlannedNode } from '../plan/topology.js';
import { networkOf, nthAddress } from '../labfile/ipv4.js';
import { CONTAINER_RUNTIME_VERSION, KUBE_VERSION } from '../version.js';

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;
/** The apiserver's secure port on the control-plane node, as kubeadm sets it. */
export const APISERVER_PORT = 6443;

export function namespaceObject(name: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

/** What the machine the lab runs on tells a kubelet about itself. */
export interface MachineInfo {
  osImage: string;
  kernelVersion: string;
  architecture: string;
  cpus: number;
  memoryKi: number;
  bootID: string;
  machineID: string;
}

export function goArch(nodeArch: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

export function nodeLabels(node: PlannedNode, arch: string): Record<string, string> {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': node.name,
    'kubernetes.io/os': 'linux',
  };
  for (const role of node.roles) labels[`node-role.kubernetes.io/${role}`] = '';
  if (node.roles.includes('control-plane')) labels['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
  return { ...labels, ...node.labels };
}

export function conditions(ready: boolean, now: string): Array<Record<string, string>> {
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
    reason,
    message,
  });
  return [
    cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    ready
      ? cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
      : cond('Ready', 'False', 'KubeletNotReady', 'container runtime network not ready'),
  ];
}

/** As flannel's kube subnet manager writes them (pkg/subnet/kube AcquireLease). */
export function flannelAnnotations(node: PlannedNode, podNetwork: string): Record<string, string> {
  const data = node.vtep ? JSON.stringify({ VNI: node.vtep.vni, VtepMAC: node.vtep.mac }) : 'null';
  return {
    'flannel.alpha.coreos.com/backend-data': data,
    'flannel.alpha.coreos.com/backend-type': podNetwork,
    'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
    'flannel.alpha.coreos.com/public-ip': node.flannelIP,
  };
}

export function nodeObject(node: PlannedNode, info: MachineInfo, now: string, podNetwork: string): Obj {
  const resources = {
    cpu: String(info.cpus),
    'ephemeral-storage': '0',
    memory: `${info.memoryKi}Ki`,
    pods: '110',
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: nodeLabels(node, info.architecture),
      annotations: {
        ...flannelAnnotations(node, podNetwork),
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [
        {
          type: 'NetworkUnavailable',
          status: 'False',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
          reason: 'FlannelIsUp',
          message: 'Flannel is running on this node',
        },
        ...conditions(true, now),
      ],
      addresses: [
        { type: 'InternalIP', address: node.nodeIP },
        { type: 'Hostname', address: node.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: info.machineID,
        systemUUID: info.machineID,
        bootID: info.bootID,
        kernelVersion: info.kernelVersion,
        osImage: info.osImage,
        containerRuntimeVersion: CONTAINER_RUNTIME_VERSION,
        kubeletVersion: KUBE_VERSION.gitVersion,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: info.architecture,
      },
    },
  };
}

export function nodeLease(node: string, now: string): Obj {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: node, namespace: 'kube-node-lease' },
    spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: now.replace('Z', '.000000Z') },
  };
}

/** The control-plane node: the first with the control-plane role, else the first node. */
export function controlPlaneNode(nodes: PlannedNode[]): PlannedNode {
  const node = nodes.find((n) => n.roles.includes('control-plane')) ?? nodes[0];
  if (!node) throw new Error('a lab needs at least one node');
  return node;
}

export function kubernetesService(serviceCIDR: string): Obj {
  const ip = nthAddress(networkOf(serviceCIDR), 1);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { component: 'apiserver', provider: 'kubernetes' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: ip,
      clusterIPs: [ip],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      sessionAffinity: 'None',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: APISERVER_PORT }],
    },
    status: { loadBalancer: {} },
  };
}

export function kubernetesEndpoints(controlPlane: PlannedNode): Obj[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [
        {
          addresses: [{ ip: controlPlane.nodeIP }],
          ports: [{ name: 'https', port: APISERVER_PORT, protocol: 'TCP' }],
        },
      ],
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { 'kubernetes.io/service-name': 'kubernetes' },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [controlPlane.nodeIP], conditions: { ready: true, serving: true, terminating: false } }],
      ports: [{ name: 'https', port: APISERVER_PORT, protocol: 'TCP' }],
    },
  ];
}
