// Shared test fixtures: the objects a fresh two-node lab has, and a
// kubeconfig for kubectl pointed at an in-process API server.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { LabPki } from '../../../src/api/pki.js';
import type { ObjectStore } from '../../../src/api/store.js';
import type { KubeObject } from '../../../src/api/types.js';

export const NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export function nodeObject(name: string, ip: string, roles: string[]): KubeObject {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' };
  for (const r of roles) labels[`node-role.kubernetes.io/${r}`] = '';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels },
    spec: { podCIDR: '10.10.0.0/24' },
    status: {
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
      ],
      capacity: { cpu: '2', memory: '4028096Ki', pods: '110' },
      allocatable: { cpu: '2', memory: '4028096Ki', pods: '110' },
      nodeInfo: {
        kubeletVersion: 'v1.32.4',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0-31-amd64',
        containerRuntimeVersion: 'nslab://0.1.0',
        operatingSystem: 'linux',
        architecture: 'amd64',
        machineID: 'm',
        systemUUID: 'm',
        bootID: 'b',
        kubeProxyVersion: '',
      },
    },
  };
}

/** Namespaces, nodes master/worker with their leases, and default/kubernetes. */
export function seedLab(store: ObjectStore): void {
  for (const name of NAMESPACES) {
    store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  store.create('nodes', nodeObject('master', '192.168.10.210', ['control-plane']));
  store.create('nodes', nodeObject('worker', '192.168.10.220', []));
  for (const node of ['master', 'worker']) {
    store.create('leases.coordination.k8s.io', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: node, namespace: 'kube-node-lease' },
      spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') },
    });
  }
  store.create('services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  });
}

export interface TempDir {
  dir: string;
  remove(): Promise<void>;
}

export async function tempDir(prefix: string): Promise<TempDir> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export interface Credentials {
  caCert: string;
  clientCert?: string;
  clientKey?: string;
  token?: string;
}

/** A kubeconfig (mode 0600) for `server` with whatever credentials are given. */
export async function writeKubeconfig(file: string, server: string, creds: Credentials | LabPki): Promise<void> {
  const user: Record<string, string> = {};
  if (creds.clientCert && creds.clientKey) {
    user['client-certificate-data'] = b64(creds.clientCert);
    user['client-key-data'] = b64(creds.clientKey);
  }
  if ('token' in creds && creds.token) user['token'] = creds.token;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'nslab', cluster: { server, 'certificate-authority-data': b64(creds.caCert) } }],
    users: [{ name: 'admin', user }],
    contexts: [{ name: 'nslab', context: { cluster: 'nslab', user: 'admin' } }],
    'current-context': 'nslab',
  };
  await writeFile(file, stringify(config), { mode: 0o600 });
}
