// One lab's control plane: the object store, the API server kubectl talks
// to, the controllers (workloads, endpoints, root CA), and per node a kubelet
// and a kube-proxy; the cluster DNS add-on and resolver hosts; heartbeats.
import { conditionTrue } from '../api/types.js';
import type { LabRecord } from '../plan/lab-record.js';
import { ObjectStore } from '../api/store.js';
import { startApiServer, type ApiServer } from '../api/server.js';
import type { LabPki } from '../api/pki.js';
import { KUBE_VERSION } from '../version.js';
import {
  conditions,
  controlPlaneNode,
  kubernetesEndpoints,
  kubernetesService,
  namespaceObject,
  nodeLease,
  nodeObject,
  SYSTEM_NAMESPACES,
  type Obj,
} from './bootstrap-objects.js';
import { machineInfo } from './machine-info.js';
import { applyManifests, readManifests } from './manifests.js';
import { clusterDNSAddress, startNodeAgents, type NodeAgents } from './node-agents.js';
import { corednsDeployment, kubeDnsService } from './dns-addon.js';
import { startResolverHosts } from './resolver-hosts.js';
import { startRootCAPublisher } from './root-ca-publisher.js';
import { startNodeProxies } from './proxies.js';
import { startWorkloadControllers } from '../workloads/controllers.js';
import { installServiceAdmission } from '../services/admission.js';
import { startEndpointControllers } from '../services/endpoints.js';
import { podStreamHandlers, type PodRuntime } from '../api/pod-streams.js';
import type { CommandRunner } from '../sys/runner.js';
import type { ProcessLauncher } from '../sys/launcher.js';

export interface ControlPlane {
  store: ObjectStore;
  api: ApiServer;
  stop(): Promise<void>;
}

/** The parts that make pods real; left out, the control plane serves the API only (unit tests). */
export interface NodeAgentOptions {
  stateDir: string;
  runner: CommandRunner;
  launcher: ProcessLauncher;
}

export interface ControlPlaneOptions {
  host?: string;
  port?: number;
  log?: (line: string) => void;
  /** A unix socket serving the API without TLS, for in-lab components and nslab's own commands. */
  socketPath?: string;
  agents?: NodeAgentOptions;
  /** How long to wait for the lab file's workloads to be ready before reporting the lab up. */
  readyTimeoutMs?: number;
  /** How often node agents renew their Lease and Ready heartbeat (the kubelet's default is 10 s). */
  heartbeatMs?: number;
}

const RESOURCE_OF: Record<string, string> = {
  Namespace: 'namespaces',
  Node: 'nodes',
  Lease: 'leases.coordination.k8s.io',
  Service: 'services',
  Endpoints: 'endpoints',
  EndpointSlice: 'endpointslices.discovery.k8s.io',
  Deployment: 'deployments.apps',
};

function create(store: ObjectStore, obj: Obj): void {
  const resource = RESOURCE_OF[obj.kind];
  if (!resource) throw new Error(`no resource for kind ${obj.kind}`);
  store.create(resource, obj);
}

export function seedStore(store: ObjectStore, record: LabRecord): void {
  const now = isoNow();
  for (const ns of SYSTEM_NAMESPACES) create(store, namespaceObject(ns));
  for (const node of record.plan.nodes) {
    create(store, nodeObject(node, machineInfo(node.name), now, record.spec.cluster.podNetwork));
    create(store, nodeLease(node.name, now));
  }
  create(store, kubernetesService(record.spec.cluster.serviceCIDR));
  for (const obj of kubernetesEndpoints(controlPlaneNode(record.plan.nodes))) create(store, obj);
  create(store, kubeDnsService(clusterDNSAddress(record.spec.cluster.serviceCIDR)));
  create(store, corednsDeployment());
}

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** What a kubelet does every heartbeat: renew its Lease and refresh its conditions. */
export function heartbeat(store: ObjectStore, nodeName: string): void {
  const now = isoNow();
  const lease = store.get('leases.coordination.k8s.io', 'kube-node-lease', nodeName);
  store.update('leases.coordination.k8s.io', { ...lease, spec: { ...(lease['spec'] as object), renewTime: now.replace('Z', '.000000Z') } });
  const node = store.get('nodes', undefined, nodeName);
  const status = node['status'] as { conditions: Array<Record<string, string>> };
  const previous = new Map(status.conditions.map((c) => [c.type, c]));
  const refreshed = status.conditions.map((c) =>
    c.type === 'NetworkUnavailable'
      ? c
      : { ...(conditions(true, now).find((n) => n.type === c.type) ?? c), lastTransitionTime: previous.get(c.type)?.lastTransitionTime ?? now },
  );
  store.update('nodes', { ...node, status: { ...status, conditions: refreshed } }, { subresource: 'status' });
}

/** Every pod of the lab Ready and every Deployment fully available, or the deadline. */
export async function workloadsReady(store: ObjectStore, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const ready = () =>
    store.list('pods').items.every((p) => conditionTrue(p, 'Ready')) &&
    store.list('deployments.apps').items.every((d) => {
      const want = (d['spec'] as { replicas?: number }).replicas ?? 1;
      return ((d['status'] as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0) === want;
    });
  while (Date.now() < deadline) {
    if (ready()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

export async function startControlPlane(record: LabRecord, pki: LabPki, opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const store = new ObjectStore();
  installServiceAdmission(store, { serviceCIDR: record.spec.cluster.serviceCIDR, nodePortRange: record.spec.cluster.nodePortRange });
  seedStore(store, record);
  const { manifests, problems } = await readManifests(record.spec.manifests);
  if (problems.length > 0) throw new Error(problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
  const log = opts.log ?? (() => {});
  const controllers = startWorkloadControllers(store, log);
  const endpoints = startEndpointControllers(store, log);
  const rootCA = startRootCAPublisher(store, pki.caCert);
  // The API first: coredns pods get its socket bound in when the kubelets start them.
  let agents: NodeAgents | undefined;
  const runtime: PodRuntime = {
    exec: (pod, container, command, o) => (agents ? agents.exec(pod, container, command, o) : Promise.reject(new Error('no kubelets yet'))),
    logs: (pod, container, o) => (agents ? agents.logs(pod, container, o) : Promise.reject(new Error('no kubelets yet'))),
  };
  const api = await startApiServer({
    store,
    pki,
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    version: KUBE_VERSION,
    log,
    ...(opts.agents ? { subresources: podStreamHandlers(runtime) } : {}),
    ...(opts.socketPath ? { socketPath: opts.socketPath } : {}),
  });
  const t0 = performance.now();
  const since = () => `${Math.round(performance.now() - t0)} ms`;
  // The kubelets start the DNS pods while the proxies program their first rules.
  agents = opts.agents ? startNodeAgents(store, record, opts.agents, log) : undefined;
  const resolvers = opts.agents ? startResolverHosts(record, opts.agents.launcher, log) : undefined;
  const proxies = opts.agents ? await startNodeProxies(store, record, opts.agents.runner, log) : undefined;
  if (proxies) log(`control plane: proxies synced after ${since()}`);
  applyManifests(store, manifests);
  // The cluster DNS's pods are workloads too: up returns with DNS answering.
  if (agents) {
    await workloadsReady(store, opts.readyTimeoutMs ?? 20_000);
    log(`control plane: workloads ready after ${since()}`);
  }
  const timer = setInterval(() => {
    for (const node of record.plan.nodes) heartbeat(store, node.name);
  }, opts.heartbeatMs ?? 10_000);
  timer.unref();
  return {
    store,
    api,
    async stop() {
      clearInterval(timer);
      controllers.stop();
      endpoints.stop();
      rootCA.stop();
      proxies?.stop();
      resolvers?.stop();
      await agents?.stop();
      await api.close();
    },
  };
}
