// What `nslab trace` sends to: svc/[NS/]NAME[:PORT], node/NAME:PORT (a
// NodePort), or IP[:PORT]; with the pods that may answer, so their
// namespaces are traced as well.
import { arr, int, rec, str, type KubeObject } from '../api/types.js';
import type { LabApiClient } from '../client/api-client.js';
import { UsageError } from '../labfile/errors.js';
import type { LabRecord } from '../plan/lab-record.js';
import { podNetns } from '../plan/names.js';

export interface Destination {
  text: string;
  ip: string;
  port?: number;
  /** Every destination port the packet may carry on its way (Service port, target ports, NodePort). */
  dports: number[];
  /** Pods that may receive it. */
  pods: Array<{ namespace: string; name: string; ip: string; netns: string }>;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function port(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`${what}: "${text}" is not a port`);
  return n;
}

interface Backing {
  ports: number[];
  pods: Array<{ namespace: string; name: string; ip: string }>;
}

/** A Service's endpoints (addresses and ports) from its Endpoints object. */
function backing(endpoints: KubeObject | undefined, podsByIp: ReadonlyMap<string, { namespace: string; name: string }>): Backing {
  const out: Backing = { ports: [], pods: [] };
  for (const subset of arr(endpoints?.['subsets'])) {
    out.ports.push(...arr(rec(subset)['ports']).map((p) => int(rec(p)['port'])));
    for (const list of ['addresses', 'notReadyAddresses']) {
      for (const a of arr(rec(subset)[list])) {
        const ip = str(rec(a)['ip']);
        const pod = podsByIp.get(ip);
        if (pod) out.pods.push({ ...pod, ip });
      }
    }
  }
  return out;
}

export async function resolveDestination(lab: string, record: LabRecord, api: LabApiClient, to: string, namespace = 'default'): Promise<Destination> {
  const pods = await api.list('/api/v1/pods');
  const podsByIp = new Map(
    pods.flatMap((p) => {
      const ip = str(rec(p['status'])['podIP']);
      return ip && rec(p['spec'])['hostNetwork'] !== true ? [[ip, { namespace: p.metadata.namespace ?? 'default', name: p.metadata.name ?? '' }] as const] : [];
    }),
  );
  const withNetns = (b: Backing) => b.pods.map((p) => ({ ...p, netns: podNetns(lab, p.namespace, p.name) }));
  const services = async () => api.list('/api/v1/services');
  const endpointsOf = async (ns: string, name: string) =>
    api.get(`/api/v1/namespaces/${encodeURIComponent(ns)}/endpoints/${encodeURIComponent(name)}`).catch(() => undefined);

  const svc = /^svc\/(?:([^/:]+)\/)?([^/:]+)(?::([^:]+))?$/.exec(to);
  if (svc) {
    const ns = svc[1] ?? namespace;
    const name = svc[2] ?? '';
    const s = await api.get(`/api/v1/namespaces/${encodeURIComponent(ns)}/services/${encodeURIComponent(name)}`);
    const spec = rec(s['spec']);
    const ip = str(spec['clusterIP']);
    if (!IPV4.test(ip)) throw new UsageError(`service ${ns}/${name} has no cluster IP (${ip || 'none'}): trace a pod IP instead`);
    const ports = arr(spec['ports']).map(rec);
    const want = svc[3];
    const p = want === undefined ? ports[0] : ports.find((x) => str(x['name']) === want || String(int(x['port'])) === want);
    if (!p) throw new UsageError(`service ${ns}/${name} has no port ${want ?? ''} (it has: ${ports.map((x) => int(x['port'])).join(', ') || 'none'})`);
    const b = backing(await endpointsOf(ns, name), podsByIp);
    const svcPort = int(p['port']);
    const nodePort = int(p['nodePort']);
    return { text: `svc/${ns}/${name} (${ip}:${svcPort})`, ip, port: svcPort, dports: [svcPort, ...b.ports, ...(nodePort ? [nodePort] : [])], pods: withNetns(b) };
  }

  const node = /^node\/([^:]+):(\d+)$/.exec(to);
  if (node) {
    const n = record.plan.nodes.find((x) => x.name === node[1]);
    if (!n) throw new UsageError(`lab "${lab}" has no node "${node[1]}" (it has: ${record.plan.nodes.map((x) => x.name).join(', ')})`);
    const np = port(node[2], to) ?? 0;
    const ports: number[] = [np];
    const backers: Backing['pods'] = [];
    for (const s of await services()) {
      const hit = arr(rec(s['spec'])['ports']).map(rec).find((x) => int(x['nodePort']) === np);
      if (!hit) continue;
      const b = backing(await endpointsOf(s.metadata.namespace ?? 'default', s.metadata.name ?? ''), podsByIp);
      ports.push(int(hit['port']), ...b.ports);
      backers.push(...b.pods);
    }
    return { text: `node/${n.name} NodePort ${n.nodeIP}:${np}`, ip: n.nodeIP, port: np, dports: ports, pods: withNetns({ ports, pods: backers }) };
  }

  const ipPort = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(to);
  if (ipPort) {
    const ip = ipPort[1] ?? '';
    const p = port(ipPort[2], to);
    const ports: number[] = p ? [p] : [];
    const backers: Backing['pods'] = [];
    const direct = podsByIp.get(ip);
    if (direct) backers.push({ ...direct, ip });
    for (const s of await services()) {
      if (str(rec(s['spec'])['clusterIP']) !== ip) continue;
      const b = backing(await endpointsOf(s.metadata.namespace ?? 'default', s.metadata.name ?? ''), podsByIp);
      ports.push(...b.ports);
      backers.push(...b.pods);
    }
    return { text: `${ip}${p ? `:${p}` : ''}`, ip, ...(p ? { port: p } : {}), dports: ports, pods: withNetns({ ports, pods: backers }) };
  }
  throw new UsageError(`"${to}" is not a destination: use svc/NAME[:PORT], node/NAME:PORT or IP[:PORT] (DNS names are not supported yet)`);
}
