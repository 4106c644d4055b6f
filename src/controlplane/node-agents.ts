// The per-node agents of a lab inside its control plane: a kubelet for
// every node, routed to by the API's pods/exec and pods/log.
import type { Readable } from 'node:stream';
import type { ObjectStore } from '../api/store.js';
import type { KubeObject } from '../api/types.js';
import type { ExecOptions, ExecSession, LogOptions, PodRuntime } from '../api/pod-streams.js';
import type { LabRecord } from '../plan/lab-record.js';
import type { CommandRunner } from '../sys/runner.js';
import type { ProcessLauncher } from '../sys/launcher.js';
import { networkOf, nthAddress } from '../labfile/ipv4.js';
import { startKubelet, type Kubelet } from '../node/kubelet.js';
import path from 'node:path';
import { files, statePath } from '../sys/state-dir.js';
import { nodeResolvConf } from './resolver-hosts.js';
import { controlPlaneNode } from './bootstrap-objects.js';
import { dialKubelet, internalIP, POD_DOES_NOT_EXIST } from './kubelet-dial.js';

export interface NodeAgents extends PodRuntime {
  stop(): Promise<void>;
}

/** kube-dns's address: the 10th of the service CIDR, as kubeadm picks it. */
export function clusterDNSAddress(serviceCIDR: string): string {
  return nthAddress(networkOf(serviceCIDR), 10);
}

export function startNodeAgents(
  store: ObjectStore,
  record: LabRecord,
  { stateDir, runner, launcher }: { stateDir: string; runner: CommandRunner; launcher: ProcessLauncher },
  log: (line: string) => void,
): NodeAgents {
  const kubelets = new Map<string, Kubelet>();
  for (const node of record.plan.nodes) {
    kubelets.set(
      node.name,
      startKubelet({
        store,
        node,
        lab: record.spec.name,
        podsDir: path.join(stateDir, 'pods', node.name),
        clusterDomain: record.spec.cluster.dns.domain,
        clusterDNS: clusterDNSAddress(record.spec.cluster.serviceCIDR),
        nodeResolvConf: nodeResolvConf(record),
        apiSocket: statePath(record.spec.name, files.socket),
        runner,
        launcher,
        log: (line) => log(`kubelet ${node.name}: ${line}`),
      }),
    );
  }
  const apiserverNode = controlPlaneNode(record.plan.nodes);
  // As the apiserver: dial the Node's InternalIP:10250 from the control-plane node.
  const kubeletFor = (pod: KubeObject): Kubelet => {
    const nodeName = (pod['spec'] as { nodeName?: string } | undefined)?.nodeName ?? '';
    const k = kubelets.get(nodeName);
    if (!k) throw new Error(`pod ${pod.metadata.name} is on no node of this lab`);
    const ip = internalIP(store.find('nodes', undefined, nodeName));
    if (ip === undefined) return k;
    const dialed = dialKubelet(record.plan.nodes, apiserverNode, ip);
    if ('error' in dialed) throw new Error(dialed.error);
    if (dialed.node !== nodeName) throw new Error(POD_DOES_NOT_EXIST);
    return k;
  };
  return {
    // Inside a promise, so a kubelet that cannot be dialed becomes a rejection (an error Status), not a throw.
    exec: (pod: KubeObject, container: string, command: string[], opts: ExecOptions): Promise<ExecSession> =>
      new Promise((resolve) => resolve(kubeletFor(pod).exec(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '', container, command, opts))),
    logs: (pod: KubeObject, container: string, opts: LogOptions): Promise<Readable> =>
      new Promise((resolve) => resolve(kubeletFor(pod).logs(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '', container, opts))),
    async stop() {
      await Promise.all([...kubelets.values()].map((k) => k.stop()));
    },
  };
}
