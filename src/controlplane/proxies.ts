// kube-proxy for every node of the lab: one proxier per node netns in the
// lab's proxy mode, fed from the store's Services and EndpointSlices.
import type { ObjectStore, WatchHandle } from '../api/store.js';
import type { LabRecord } from '../plan/lab-record.js';
import type { CommandRunner } from '../sys/runner.js';
import { createNodeProxier, type ProxySyncLoop } from '../proxy/index.js';

const SLICES = 'endpointslices.discovery.k8s.io';

export interface NodeProxies {
  proxiers: ProxySyncLoop[];
  /** Resolves when every node's rules reflect everything seen so far. */
  whenIdle(): Promise<void>;
  stop(): void;
}

export async function startNodeProxies(store: ObjectStore, record: LabRecord, runner: CommandRunner, log: (line: string) => void): Promise<NodeProxies> {
  const cluster = record.spec.cluster;
  // `up` refuses modes that cannot be built; createNodeProxier throws for them too.
  const proxiers = record.plan.nodes.map((node) =>
    createNodeProxier({
      mode: cluster.proxyMode,
      netns: node.netns,
      runner,
      nodeName: node.name,
      nodeIP: node.nodeIP,
      clusterCIDR: cluster.podCIDR,
      serviceCIDR: cluster.serviceCIDR,
      ...(cluster.ipvs ? { ipvsScheduler: cluster.ipvs.scheduler } : {}),
      onError: (e) => log(`kube-proxy ${node.name}: ${e.message}`),
    }),
  );
  await Promise.all(proxiers.map((p) => p.sync(store.list('services').items, store.list(SLICES).items)));
  const watches: WatchHandle[] = ['services', SLICES].map((resource) =>
    // From now on: the initial state went in with the first sync.
    store.watch(resource, { resourceVersion: store.currentResourceVersion() }, (ev) => {
      for (const p of proxiers) p.handleWatchEvent(ev);
    }),
  );
  return {
    proxiers,
    whenIdle: async () => {
      await Promise.all(proxiers.map((p) => p.whenIdle()));
    },
    stop: () => {
      for (const w of watches) w.stop();
      for (const p of proxiers) p.close();
    },
  };
}
