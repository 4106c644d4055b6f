// kube-proxy's iptables rules on real namespaces: a node netns with cni0 and
// two backend "pods", a client pod, and a host on the node's LAN side. The
// IptablesProxier programs the node with one iptables-restore; then curl,
// ping and iptables-save behave as on a real iptables-mode node. Everything
// lives in namespaces this file creates and removes; the root netns is only
// read (and compared before/after).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ExecaRunner, type RunResult } from '../../src/sys/runner.js';
import { inNetns } from '../../src/sys/netns.js';
import { IptablesProxier } from '../../src/proxy/iptables-proxier.js';
import { expectedSave, normalizeSave } from '../../src/proxy/save-form.js';
import type { KubeObject } from '../../src/api/types.js';
import { rootNetnsSnapshot } from '../helpers/root-snapshot.js';

const runner = new ExecaRunner();
const ID = `pt${randomBytes(3).toString('hex')}`;
const NS = {
  node: `nslab-${ID}.node-a`,
  podA: `nslab-${ID}.pod-default.ngx-a`,
  podB: `nslab-${ID}.pod-default.ngx-b`,
  client: `nslab-${ID}.pod-default.client`,
  host: `nslab-${ID}.host-console`,
};
const NODE_IP = '192.168.77.10';
const HOST_IP = '192.168.77.5';
const CLUSTER_IP = '10.96.240.115';
const EMPTY_IP = '10.96.240.116';
const NODE_PORT = 30651;
const POD = { a: '10.10.0.2', b: '10.10.0.3', client: '10.10.0.4' };

const created: string[] = [];
const servers: ChildProcess[] = [];
let rootBefore: Record<string, string> = {};
let proxier: IptablesProxier | undefined;
const payloads: string[] = [];

async function sh(argv: string[], allowFailure = false): Promise<RunResult> {
  return runner.run(argv, { allowFailure, timeoutMs: 15_000 });
}
const inNs = (ns: string, argv: string[], allowFailure = false) => sh(inNetns(ns, argv), allowFailure);

async function addNetns(name: string): Promise<void> {
  await sh(['ip', 'netns', 'add', name]);
  created.push(name);
  await sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

async function addPod(ns: string, ip: string, hostVeth: string): Promise<void> {
  await addNetns(ns);
  await sh(['ip', '-n', NS.node, 'link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await sh(['ip', '-n', NS.node, 'link', 'set', hostVeth, 'master', 'cni0', 'up']);
  await sh(['ip', '-n', NS.node, 'link', 'set', 'dev', hostVeth, 'type', 'bridge_slave', 'hairpin', 'on']);
  await sh(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
  await sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  await sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', '10.10.0.1']);
}

/** A tiny HTTP server in a pod netns answering "srv : <pod ip>". */
async function startServer(ns: string, ip: string): Promise<void> {
  const code = `
    const net = require('node:net');
    const body = 'srv : ${ip}\\n';
    net.createServer((s) => {
      s.once('data', () => s.end('HTTP/1.0 200 OK\\r\\nContent-Length: ' + body.length + '\\r\\nConnection: close\\r\\n\\r\\n' + body));
      s.on('error', () => {});
    }).listen(80, '0.0.0.0', () => console.log('ready'));
    setTimeout(() => process.exit(0), 120000).unref();
  `;
  const child = spawn('nsenter', inNetns(ns, [process.execPath, '-e', code]).slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server in ${ns} not ready`)), 10_000);
    child.stdout?.once('data', () => {
      clearTimeout(t);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`server in ${ns} exited ${code}`)));
  });
}

async function curl(ns: string, url: string): Promise<RunResult> {
  return inNs(ns, ['curl', '-s', '-m', '2', url], true);
}

/** Curl until every expected backend answered, at most `max` times. */
async function backendsSeen(ns: string, url: string, max = 60): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < max && seen.size < 2; i++) {
    const r = await curl(ns, url);
    if (r.exitCode === 0) seen.add(r.stdout.trim());
  }
  return seen;
}

function service(name: string, ip: string, nodePort?: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: {
      type: nodePort ? 'NodePort' : 'ClusterIP',
      clusterIP: ip,
      clusterIPs: [ip],
      externalTrafficPolicy: nodePort ? 'Cluster' : undefined,
      ports: [{ port: 80, targetPort: 80, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) }],
    },
  };
}

function slice(name: string, ips: string[]): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-abcde`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-a' })),
    ports: [{ name: '', port: 80, protocol: 'TCP' }],
  };
}

describe('kube-proxy iptables rules in a real node netns', () => {
  beforeAll(async () => {
    rootBefore = await rootNetnsSnapshot();
    await addNetns(NS.node);
    await addNetns(NS.host);
    // The node's LAN side: eth0 to a host that does not forward (a router
    // that drops what it cannot route, silently).
    await sh(['ip', '-n', NS.node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.host]);
    await sh(['ip', '-n', NS.node, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0']);
    await sh(['ip', '-n', NS.host, 'addr', 'add', `${HOST_IP}/24`, 'dev', 'eth0']);
    await sh(['ip', '-n', NS.node, 'link', 'set', 'eth0', 'up']);
    await sh(['ip', '-n', NS.host, 'link', 'set', 'eth0', 'up']);
    await sh(['ip', '-n', NS.node, 'route', 'add', 'default', 'via', HOST_IP]);
    await inNs(NS.host, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
    // cni0 with the first address of the pod CIDR; br_netfilter on, forwarding on.
    await sh(['ip', '-n', NS.node, 'link', 'add', 'cni0', 'type', 'bridge']);
    await sh(['ip', '-n', NS.node, 'addr', 'add', '10.10.0.1/24', 'dev', 'cni0']);
    await sh(['ip', '-n', NS.node, 'link', 'set', 'cni0', 'up']);
    await inNs(NS.node, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1']);
    await addPod(NS.podA, POD.a, 'veth-a');
    await addPod(NS.podB, POD.b, 'veth-b');
    await addPod(NS.client, POD.client, 'veth-c');
    await Promise.all([startServer(NS.podA, POD.a), startServer(NS.podB, POD.b)]);

    proxier = new IptablesProxier({
      netns: NS.node,
      runner,
      nodeName: 'node-a',
      nodeIP: NODE_IP,
      clusterCIDR: '10.10.0.0/16',
      minSyncIntervalMs: 0,
    });
    const r = await proxier.sync(
      [service('ngx-svc', CLUSTER_IP, NODE_PORT), service('empty-svc', EMPTY_IP)],
      [slice('ngx-svc', [POD.a, POD.b])],
    );
    if (r.error) throw r.error;
    expect([r.applied, r.full]).toEqual([true, true]);
    payloads.push(proxier.lastPayload ?? '');
  });

  afterAll(async () => {
    proxier?.close();
    for (const s of servers) if (s.exitCode === null && s.pid !== undefined) s.kill('SIGTERM');
    await Promise.all(servers.map((s) => (s.exitCode === null ? new Promise((r) => s.once('exit', r)) : undefined)));
    for (const ns of created.reverse()) await sh(['ip', 'netns', 'del', ns], true);
  });

  it('curl from a client pod to the ClusterIP reaches both backends', async () => {
    const seen = await backendsSeen(NS.client, `http://${CLUSTER_IP}/`);
    expect([...seen].sort()).toEqual([`srv : ${POD.a}`, `srv : ${POD.b}`]);
  });

  it('a pod calling its own Service reaches itself too (hairpin masquerade)', async () => {
    const seen = await backendsSeen(NS.podA, `http://${CLUSTER_IP}/`);
    expect([...seen].sort()).toEqual([`srv : ${POD.a}`, `srv : ${POD.b}`]);
  });

  it('ping to the ClusterIP gets no reply (exit status 1), as in iptables mode', async () => {
    const r = await inNs(NS.client, ['ping', '-c1', '-W1', CLUSTER_IP], true);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('0 received');
    expect(r.stdout).not.toMatch(/Unreachable/);
  });

  it('a Service without endpoints refuses at once', async () => {
    const t0 = performance.now();
    const r = await curl(NS.client, `http://${EMPTY_IP}/`);
    expect(r.exitCode).toBe(7); // curl: couldn't connect (ICMP port unreachable → ECONNREFUSED)
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  it('the NodePort answers from a host on the LAN side, with both backends', async () => {
    const seen = await backendsSeen(NS.host, `http://${NODE_IP}:${NODE_PORT}/`);
    expect([...seen].sort()).toEqual([`srv : ${POD.a}`, `srv : ${POD.b}`]);
  });

  it('the NodePort answers on 127.0.0.1 inside the node (route_localnet)', async () => {
    const r = await inNs(NS.node, ['sysctl', '-n', 'net.ipv4.conf.all.route_localnet']);
    expect(r.stdout.trim()).toBe('1');
    const seen = await backendsSeen(NS.node, `http://127.0.0.1:${NODE_PORT}/`);
    expect(seen.size).toBe(2);
  });

  it('iptables-save shows exactly the expected saved form of the rules', async () => {
    for (const table of ['nat', 'filter']) {
      const actual = normalizeSave((await inNs(NS.node, ['iptables-save', '-t', table])).stdout);
      expect(actual, table).toBe(expectedSave(payloads, table));
    }
    const nat = (await inNs(NS.node, ['iptables-save', '-t', 'nat'])).stdout;
    expect(nat).toMatch(/^-A KUBE-SERVICES -d 10\.96\.240\.115\/32 -p tcp -m comment --comment "default\/ngx-svc cluster IP" -m tcp --dport 80 -j KUBE-SVC-[A-Z2-7]{16}$/m);
    expect(nat).toContain('-m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-');
    expect(nat).toContain('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000');
    expect(nat).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  });

  it('an endpoint going away is reprogrammed with one partial restore', async () => {
    const r = await proxier!.sync(
      [service('ngx-svc', CLUSTER_IP, NODE_PORT), service('empty-svc', EMPTY_IP)],
      [slice('ngx-svc', [POD.b])],
    );
    expect([r.applied, r.full, r.changedServices, r.deletedChains.length]).toEqual([true, false, ['default/ngx-svc'], 1]);
    payloads.push(proxier!.lastPayload ?? '');
    for (let i = 0; i < 10; i++) expect((await curl(NS.client, `http://${CLUSTER_IP}/`)).stdout.trim()).toBe(`srv : ${POD.b}`);
    const actual = normalizeSave((await inNs(NS.node, ['iptables-save', '-t', 'nat'])).stdout);
    expect(actual).toBe(expectedSave(payloads, 'nat'));
    const again = await proxier!.sync(
      [service('ngx-svc', CLUSTER_IP, NODE_PORT), service('empty-svc', EMPTY_IP)],
      [slice('ngx-svc', [POD.b])],
    );
    expect(again.applied).toBe(false);
  });

  it('left the root network namespace as it was', async () => {
    expect(await rootNetnsSnapshot()).toEqual(rootBefore);
  });
});
