// The lab's picture: the pure model from a plan plus the API's objects, and
// its Mermaid and DOT renderings, golden-tested for the course lab.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/api/types.js';
import { clusterView } from '../../../src/graph/cluster-objects.js';
import { renderDot } from '../../../src/graph/dot.js';
import { renderMermaid } from '../../../src/graph/mermaid.js';
import { buildGraphModel } from '../../../src/graph/model.js';
import { loadLabFile } from '../../../src/labfile/parse-lab.js';
import { planTopology } from '../../../src/plan/topology.js';
import { expectGolden } from '../../helpers/golden.js';

const LABS = path.resolve(import.meta.dirname, '../../../labs');

function pod(name: string, node: string, ip: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node, ...extra }, status: { podIP: ip } };
}

/** What the course lab's API holds once up: two nginx pods behind ngx-svc, and the cluster DNS. */
function courseObjects() {
  const pods = [
    pod('ngx-dep-6796688696-k2x7p', 'master', '10.10.0.2'),
    pod('ngx-dep-6796688696-zq9rd', 'worker', '10.10.1.2'),
    { ...pod('coredns-5d78c9869d-abcde', 'master', '10.10.0.3'), metadata: { name: 'coredns-5d78c9869d-abcde', namespace: 'kube-system' } },
    pod('node-exporter', 'worker', '192.168.10.220', { hostNetwork: true }),
  ];
  const services: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ngx-svc', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: '10.96.142.7', ports: [{ port: 80, protocol: 'TCP' }] } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system' },
      spec: { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] },
    },
  ];
  const endpoints: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ngx-svc', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.10.1.2' }, { ip: '10.10.0.2' }], ports: [{ port: 80 }] }] },
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kube-dns', namespace: 'kube-system' }, subsets: [{ addresses: [{ ip: '10.10.0.3' }], ports: [{ port: 53 }] }] },
  ];
  return clusterView(pods, services, endpoints);
}

/** The course lab with host-gw pinned, so the picture does not follow a change of default. */
async function courseSpec() {
  const spec = await loadLabFile(path.join(LABS, 'course-service.yaml'));
  return { ...spec, cluster: { ...spec.cluster, podNetwork: 'host-gw' as const } };
}

async function courseModel() {
  const spec = await courseSpec();
  return buildGraphModel(planTopology(spec), spec.cluster, courseObjects());
}

describe('nslab graph', () => {
  it('draws the course lab as Mermaid (golden)', async () => {
    expectGolden('graph/course-service.mmd', renderMermaid(await courseModel()));
  });

  it('draws the course lab as Graphviz DOT (golden)', async () => {
    expectGolden('graph/course-service.dot', renderDot(await courseModel()));
  });

  it('puts each pod under its node and links every endpoint to its pod', async () => {
    const g = await courseModel();
    const master = g.machines.find((m) => m.name === 'master');
    const worker = g.machines.find((m) => m.name === 'worker');
    expect(master?.pods.map((p) => p.name)).toEqual(['ngx-dep-6796688696-k2x7p', 'coredns-5d78c9869d-abcde']);
    // A host-network pod is its node, not a pod on the pod network.
    expect(worker?.pods.map((p) => p.name)).toEqual(['ngx-dep-6796688696-zq9rd']);
    const svc = g.services.find((s) => s.name === 'ngx-svc');
    expect(svc?.endpoints.map((e) => [e.ip, e.pod])).toEqual([
      ['10.10.0.2', 'pod__default__ngx_dep_6796688696_k2x7p'],
      ['10.10.1.2', 'pod__default__ngx_dep_6796688696_zq9rd'],
    ]);
    // host-gw: each node routes the other's pod CIDR via its address on the lan.
    expect(g.podRoutes).toEqual([
      { from: 'node__master', dst: '10.10.1.0/24', via: '192.168.10.220', dev: 'eth0', to: 'node__worker' },
      { from: 'node__worker', dst: '10.10.0.0/24', via: '192.168.10.210', dev: 'eth0', to: 'node__master' },
    ]);
  });

  it('a lab file that is not up draws machines and networks, with no pods or Services', async () => {
    const spec = await courseSpec();
    const text = renderMermaid(buildGraphModel(planTopology(spec), spec.cluster));
    expect(text).toContain('node master');
    expect(text).toContain('host console');
    expect(text).not.toContain('svc ');
    expect(text).not.toContain('"pod ');
  });

  it('quotes names so a label cannot break out of Mermaid or DOT syntax', async () => {
    const spec = await courseSpec();
    const view = clusterView(
      [],
      [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a"b', namespace: 'x\\y' }, spec: { clusterIP: '10.96.0.9', ports: [] } }],
      [{ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'a"b', namespace: 'x\\y' }, subsets: [{ addresses: [{ ip: '192.0.2.9' }], ports: [{ port: 1 }] }] }],
    );
    const g = buildGraphModel(planTopology(spec), spec.cluster, view);
    const mmd = renderMermaid(g);
    expect(mmd).toContain('svc x\\y/a#quot;b');
    expect(mmd).not.toMatch(/a"b/);
    const dot = renderDot(g);
    expect(dot).toContain('svc x\\\\y/a\\"b');
    // An endpoint outside the lab's pods gets its own node.
    expect(dot).toContain('endpoint 192.0.2.9');
  });
});

describe('nslab graph -f svg', () => {
  it('pipes the DOT text into dot -Tsvg, and says how to get dot when it is missing', async () => {
    const { RecordingRunner } = await import('../../../src/sys/runner.js');
    const { dotToSvg } = await import('../../../src/graph/svg.js');
    const ok = new RecordingRunner(() => ({ stdout: '<svg/>' }));
    expect(await dotToSvg('graph "x" {}', ok)).toBe('<svg/>');
    expect(ok.calls).toEqual([{ argv: ['dot', '-Tsvg'], input: 'graph "x" {}' }]);
    const missing = new RecordingRunner(() => ({ exitCode: 1, stderr: 'Command failed with ENOENT: dot -Tsvg\nspawn dot ENOENT\n' }));
    await expect(dotToSvg('graph "x" {}', missing)).rejects.toThrow(/apt-get install graphviz/);
  });
});
