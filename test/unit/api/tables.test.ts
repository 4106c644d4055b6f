import { describe, expect, it } from 'vitest';
import { ResourceRegistry } from '../../../src/api/resources.js';
import { PRINTERS, buildTable, formatEndpoints, type TablePrinter } from '../../../src/api/tables.js';
import type { KubeObject } from '../../../src/api/types.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString().replace(/\.\d+Z$/, 'Z');
const S = 1000;

function obj(apiVersion: string, kind: string, name: string, rest: Record<string, unknown> = {}, meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion, kind, metadata: { name, creationTimestamp: ago(5 * S), ...meta }, ...rest };
}

const header = (p: TablePrinter): string[] => p.columns.map((c) => `${c.name}${c.priority ? '*' : ''}`);
const row = (p: TablePrinter, o: KubeObject): unknown[] => p.row(o, NOW);

describe('namespace printer', () => {
  it('prints NAME STATUS AGE', () => {
    expect(header(PRINTERS.Namespace)).toEqual(['Name', 'Status', 'Age']);
    expect(row(PRINTERS.Namespace, obj('v1', 'Namespace', 'default', { status: { phase: 'Active' } }))).toEqual(['default', 'Active', '5s']);
  });
});

describe('node printer', () => {
  const node = (labels: Record<string, string>, ready: string, extra: Record<string, unknown> = {}): KubeObject =>
    obj(
      'v1',
      'Node',
      'n1',
      {
        spec: extra,
        status: {
          conditions: [
            { type: 'MemoryPressure', status: 'False' },
            { type: 'Ready', status: ready },
          ],
          addresses: [
            { type: 'InternalIP', address: '192.168.10.210' },
            { type: 'Hostname', address: 'n1' },
          ],
          nodeInfo: { kubeletVersion: 'v1.32.4', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'nslab://0.1.0' },
        },
      },
      { labels, creationTimestamp: ago((3 * 60 + 2) * S) },
    );

  it('has the upstream columns, wide ones at priority 1', () => {
    expect(header(PRINTERS.Node)).toEqual([
      'Name',
      'Status',
      'Roles',
      'Age',
      'Version',
      'Internal-IP*',
      'External-IP*',
      'OS-Image*',
      'Kernel-Version*',
      'Container-Runtime*',
    ]);
  });

  it('prints Ready, roles sorted from both label styles, and addresses', () => {
    const n = node({ 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'ingress' }, 'True');
    expect(row(PRINTERS.Node, n)).toEqual([
      'n1',
      'Ready',
      'control-plane,ingress,worker',
      '3m2s',
      'v1.32.4',
      '192.168.10.210',
      '<none>',
      'Debian GNU/Linux 12 (bookworm)',
      '6.1.0',
      'nslab://0.1.0',
    ]);
  });

  it('prints NotReady, SchedulingDisabled and <none> roles', () => {
    expect(row(PRINTERS.Node, node({}, 'False', { unschedulable: true })).slice(0, 3)).toEqual(['n1', 'NotReady,SchedulingDisabled', '<none>']);
    const bare = obj('v1', 'Node', 'b', { status: {} });
    expect(row(PRINTERS.Node, bare)).toEqual(['b', 'Unknown', '<none>', '5s', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });
});

describe('service printer', () => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject =>
    obj('v1', 'Service', 's', { spec, status }, { creationTimestamp: ago(2 * 24 * 3600 * S) });

  it('prints ClusterIP services', () => {
    expect(header(PRINTERS.Service)).toEqual(['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector*']);
    expect(
      row(PRINTERS.Service, svc({ type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] })),
    ).toEqual(['s', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP', '2d', '<none>']);
  });

  it('prints node ports, several ports, selectors and external IPs', () => {
    expect(
      row(
        PRINTERS.Service,
        svc({
          type: 'NodePort',
          clusterIPs: ['10.96.3.4'],
          externalIPs: ['1.2.3.4'],
          selector: { app: 'ngx-dep' },
          ports: [
            { port: 80, nodePort: 30651, protocol: 'TCP' },
            { port: 53, protocol: 'UDP' },
          ],
        }),
      ),
    ).toEqual(['s', 'NodePort', '10.96.3.4', '1.2.3.4', '80:30651/TCP,53/UDP', '2d', 'app=ngx-dep']);
  });

  it('prints <pending> for a LoadBalancer without ingress, the ingress when there is one', () => {
    expect(row(PRINTERS.Service, svc({ type: 'LoadBalancer', clusterIPs: ['10.96.0.9'], ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] }))[3]).toBe(
      '<pending>',
    );
    expect(row(PRINTERS.Service, svc({ type: 'LoadBalancer', ports: [] }, { loadBalancer: { ingress: [{ ip: '5.6.7.8' }, { hostname: 'lb' }] } }))[3]).toBe(
      '5.6.7.8,lb',
    );
    expect(row(PRINTERS.Service, svc({ type: 'ExternalName', externalName: 'example.com' })).slice(2, 5)).toEqual(['<none>', 'example.com', '<none>']);
  });
});

describe('endpoints and endpointslice printers', () => {
  it('formats endpoints as ip:port, three at most', () => {
    const ep = obj('v1', 'Endpoints', 'e', {
      subsets: [
        {
          addresses: [{ ip: '10.10.1.2' }, { ip: '10.10.2.3' }],
          ports: [
            { name: 'http', port: 80 },
            { name: 'https', port: 443 },
          ],
        },
      ],
    });
    expect(formatEndpoints(ep)).toBe('10.10.1.2:80,10.10.2.3:80,10.10.1.2:443 + 1 more...');
    expect(row(PRINTERS.Endpoints, obj('v1', 'Endpoints', 'none'))).toEqual(['none', '<none>', '5s']);
    expect(formatEndpoints(obj('v1', 'Endpoints', 'h', { subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 53 }] }] }))).toBe('[fd00::1]:53');
  });

  it('prints AddressType, ports and endpoints of slices', () => {
    const slice = obj('discovery.k8s.io/v1', 'EndpointSlice', 'web-abcde', {
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.10.1.2'] }, { addresses: ['10.10.2.3'] }],
    });
    expect(header(PRINTERS.EndpointSlice)).toEqual(['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
    expect(row(PRINTERS.EndpointSlice, slice)).toEqual(['web-abcde', 'IPv4', '80', '10.10.1.2,10.10.2.3', '5s']);
    expect(row(PRINTERS.EndpointSlice, obj('discovery.k8s.io/v1', 'EndpointSlice', 'x', { addressType: 'IPv4' }))).toEqual(['x', 'IPv4', '<unset>', '<unset>', '5s']);
  });
});

describe('configmap, lease and event printers', () => {
  it('counts data and binaryData keys', () => {
    expect(row(PRINTERS.ConfigMap, obj('v1', 'ConfigMap', 'c', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }))).toEqual(['c', 3, '5s']);
  });

  it('prints the lease holder', () => {
    expect(row(PRINTERS.Lease, obj('coordination.k8s.io/v1', 'Lease', 'worker', { spec: { holderIdentity: 'worker' } }))).toEqual(['worker', 'worker', '5s']);
  });

  it('prints events as kubectl get events shows them', () => {
    expect(header(PRINTERS.Event)).toEqual(['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*']);
    const ev = obj('v1', 'Event', 'web.1', {
      involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{nginx}' },
      reason: 'Pulled',
      type: 'Normal',
      message: ' Container image already present \n',
      source: { component: 'kubelet', host: 'worker' },
      firstTimestamp: ago(70 * S),
      lastTimestamp: ago(10 * S),
      count: 3,
    });
    expect(row(PRINTERS.Event, ev)).toEqual([
      '10s',
      'Normal',
      'Pulled',
      'pod/web',
      'spec.containers{nginx}',
      'kubelet, worker',
      'Container image already present',
      '70s',
      3,
      'web.1',
    ]);
    const single = obj('v1', 'Event', 'n.1', { involvedObject: { kind: 'Node' }, eventTime: ago(3 * S), reportingComponent: 'nslab' });
    expect(row(PRINTERS.Event, single)).toEqual(['3s', '', '', 'node', '', 'nslab', '', '3s', 1, 'n.1']);
  });
});

describe('pod printer', () => {
  const pod = (status: Record<string, unknown>, spec: Record<string, unknown> = {}, meta: Partial<KubeObject['metadata']> = {}): KubeObject =>
    obj('v1', 'Pod', 'web-1', { spec: { containers: [{ name: 'nginx' }], ...spec }, status }, meta);

  it('has the upstream columns', () => {
    expect(header(PRINTERS.Pod)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP*', 'Node*', 'Nominated Node*', 'Readiness Gates*']);
  });

  it('prints a running pod', () => {
    const running = pod(
      {
        phase: 'Running',
        podIPs: [{ ip: '10.10.1.5' }],
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'nginx', ready: true, restartCount: 0, state: { running: { startedAt: ago(5 * S) } } }],
      },
      { nodeName: 'worker' },
    );
    expect(row(PRINTERS.Pod, running)).toEqual(['web-1', '1/1', 'Running', '0', '5s', '10.10.1.5', 'worker', '<none>', '<none>']);
  });

  it('prints restarts with the time of the last one', () => {
    const restarted = pod({
      phase: 'Running',
      containerStatuses: [
        {
          name: 'nginx',
          ready: true,
          restartCount: 2,
          state: { running: {} },
          lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * S) } },
        },
      ],
    });
    expect(row(PRINTERS.Pod, restarted).slice(1, 4)).toEqual(['1/1', 'Running', '2 (5s ago)']);
  });

  it('prints waiting reasons, init progress, Terminating and readiness gates', () => {
    expect(row(PRINTERS.Pod, pod({ phase: 'Pending', containerStatuses: [{ name: 'nginx', state: { waiting: { reason: 'ContainerCreating' } } }] }))[2]).toBe(
      'ContainerCreating',
    );
    expect(
      row(
        PRINTERS.Pod,
        pod({ phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { running: {} } }] }, { initContainers: [{ name: 'init' }] }),
      )[2],
    ).toBe('Init:0/1');
    expect(row(PRINTERS.Pod, pod({ phase: 'Running' }, {}, { deletionTimestamp: ago(0) }))[2]).toBe('Terminating');
    expect(
      row(
        PRINTERS.Pod,
        pod({ phase: 'Running', conditions: [{ type: 'www.example.com/gate', status: 'True' }] }, { readinessGates: [{ conditionType: 'www.example.com/gate' }, { conditionType: 'other' }] }),
      )[8],
    ).toBe('1/2');
    expect(row(PRINTERS.Pod, pod({ phase: 'Succeeded', containerStatuses: [{ name: 'nginx', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }))[2]).toBe(
      'Completed',
    );
  });
});

describe('workload printers', () => {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:alpine' }, { name: 'side', image: 'busybox' }] } };

  it('prints deployments', () => {
    expect(header(PRINTERS.Deployment)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers*', 'Images*', 'Selector*']);
    const d = obj('apps/v1', 'Deployment', 'web', {
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template },
      status: { readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 },
    });
    expect(row(PRINTERS.Deployment, d)).toEqual(['web', '1/2', 2, 1, '5s', 'nginx,side', 'nginx:alpine,busybox', 'app=web']);
  });

  it('prints replicasets and daemonsets', () => {
    const rs = obj('apps/v1', 'ReplicaSet', 'web-6796688696', {
      spec: { replicas: 2, selector: { matchLabels: { app: 'web', 'pod-template-hash': '6796688696' } }, template },
      status: { replicas: 2, readyReplicas: 2 },
    });
    expect(header(PRINTERS.ReplicaSet)).toEqual(['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers*', 'Images*', 'Selector*']);
    expect(row(PRINTERS.ReplicaSet, rs)).toEqual(['web-6796688696', 2, 2, 2, '5s', 'nginx,side', 'nginx:alpine,busybox', 'app=web,pod-template-hash=6796688696']);
    const ds = obj('apps/v1', 'DaemonSet', 'proxy', {
      spec: { selector: { matchLabels: { k: 'p' } }, template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'p', image: 'kp' }] } } },
      status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 },
    });
    expect(header(PRINTERS.DaemonSet)).toEqual([
      'Name',
      'Desired',
      'Current',
      'Ready',
      'Up-to-date',
      'Available',
      'Node Selector',
      'Age',
      'Containers*',
      'Images*',
      'Selector*',
    ]);
    expect(row(PRINTERS.DaemonSet, ds)).toEqual(['proxy', 2, 2, 1, 2, 1, 'kubernetes.io/os=linux', '5s', 'p', 'kp', 'k=p']);
  });
});

describe('buildTable', () => {
  const registry = new ResourceRegistry();
  const ns = obj('v1', 'Namespace', 'default', { status: { phase: 'Active' } }, { uid: 'u1', resourceVersion: '7', labels: { a: 'b' } });

  it('returns a meta.k8s.io/v1 Table with PartialObjectMetadata rows by default', () => {
    const t = buildTable(registry.must('namespaces').printer, [ns], { now: NOW, includeObject: 'Metadata', resourceVersion: '9' });
    expect(t.kind).toBe('Table');
    expect(t.apiVersion).toBe('meta.k8s.io/v1');
    expect(t.metadata).toEqual({ resourceVersion: '9' });
    expect(t.columnDefinitions?.[0]).toMatchObject({ name: 'Name', type: 'string', format: 'name', priority: 0 });
    expect(t.rows[0]).toEqual({ cells: ['default', 'Active', '5s'], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: ns.metadata } });
  });

  it('includes the whole object, or none, and drops headers when asked', () => {
    expect(buildTable(PRINTERS.Namespace, [ns], { now: NOW, includeObject: 'Object' }).rows[0]?.object).toEqual(ns);
    const none = buildTable(PRINTERS.Namespace, [ns], { now: NOW, includeObject: 'None', noHeaders: true });
    expect(none.rows[0]).toEqual({ cells: ['default', 'Active', '5s'] });
    expect(none.columnDefinitions).toBeNull();
  });

  it('every registered resource has a printer whose rows fit its columns', () => {
    for (const rt of registry.all()) {
      const cells = rt.printer.row(obj(`${rt.group ? `${rt.group}/` : ''}${rt.version}`, rt.kind, 'x'), NOW);
      expect(cells, rt.resource).toHaveLength(rt.printer.columns.length);
    }
  });
});
