// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for,
// with the columns and cell formats of kube-apiserver's printers
// (kubernetes/pkg/printers/internalversion/printers.go). The server always
// prints wide (priority-1 columns included); kubectl hides them without -o wide.
//
//   buildTable(PRINTERS.Service, [svc], {now, includeObject: 'Metadata'})

import { ageSince } from './duration.js';
import { formatLabels, formatLabelSelector, labelSelectorFromObject } from './selectors.js';
import { arr, int, isRecord, rec, str, type JsonRecord, type KubeObject } from './types.js';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export type TableCell = string | number | boolean;

export interface TablePrinter {
  columns: TableColumnDefinition[];
  row(obj: KubeObject, now: Date): TableCell[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableRow {
  cells: TableCell[];
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string };
  /** null on every watch event but the first, as the apiserver's NoHeaders. */
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

export interface BuildTableOptions {
  now: Date;
  includeObject: IncludeObject;
  noHeaders?: boolean;
  resourceVersion?: string;
  /** "meta.k8s.io/v1" (default) or "meta.k8s.io/v1beta1". */
  apiVersion?: string;
}

export function buildTable(printer: TablePrinter, objects: KubeObject[], opts: BuildTableOptions): Table {
  const apiVersion = opts.apiVersion ?? 'meta.k8s.io/v1';
  const table: Table = {
    kind: 'Table',
    apiVersion,
    metadata: opts.resourceVersion !== undefined ? { resourceVersion: opts.resourceVersion } : {},
    columnDefinitions: opts.noHeaders ? null : printer.columns,
    rows: objects.map((o) => {
      const row: TableRow = { cells: printer.row(o, opts.now) };
      if (opts.includeObject === 'Object') row.object = o;
      else if (opts.includeObject === 'Metadata') row.object = partialObjectMetadata(o, apiVersion);
      return row;
    }),
  };
  return table;
}

export function partialObjectMetadata(o: KubeObject, apiVersion = 'meta.k8s.io/v1'): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion, metadata: o.metadata };
}

// ---- column helpers --------------------------------------------------------

const NAME_DOC =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const CREATION_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';
const CONTAINERS_DOC = 'Names of each container in the template.';
const IMAGES_DOC = 'Images referenced by each container in the template.';

function col(name: string, type: string, description: string, opts: { priority?: number; format?: string } = {}): TableColumnDefinition {
  return { name, type, format: opts.format ?? '', description, priority: opts.priority ?? 0 };
}
const nameCol = (priority = 0): TableColumnDefinition => col('Name', 'string', NAME_DOC, { format: 'name', priority });
const ageCol = (): TableColumnDefinition => col('Age', 'string', CREATION_DOC);
const wide = (name: string, type: string, description: string): TableColumnDefinition => col(name, type, description, { priority: 1 });

const name = (o: KubeObject): string => o.metadata.name ?? '';
const age = (o: KubeObject, now: Date): string => ageSince(o.metadata.creationTimestamp, now);
const spec = (o: KubeObject): JsonRecord => rec(o['spec']);
const status = (o: KubeObject): JsonRecord => rec(o['status']);

/** Names and images of containers, comma-joined (layoutContainerCells). */
function containerCells(containers: unknown): [string, string] {
  const cs = arr(containers).map(rec);
  return [cs.map((c) => str(c['name'])).join(','), cs.map((c) => str(c['image'])).join(',')];
}

function templateContainers(o: KubeObject): unknown {
  return rec(rec(spec(o)['template'])['spec'])['containers'];
}

/** "a,b,c + 2 more..." after three items, "<unset>" when empty (listWithMoreString). */
function listWithMore(items: string[], max = 3): string {
  const shown = items.slice(0, max).join(',');
  if (items.length > max) return `${shown} + ${items.length - max} more...`;
  return shown === '' ? '<unset>' : shown;
}

/** net.JoinHostPort: IPv6 addresses get brackets. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function firstNonEmpty(...xs: string[]): string {
  return xs.find((x) => x.length > 0) ?? '';
}

// ---- printers --------------------------------------------------------------

const namespace: TablePrinter = {
  columns: [nameCol(), col('Status', 'string', 'The status of the namespace'), ageCol()],
  row: (o, now) => [name(o), str(status(o)['phase']), age(o, now)],
};

function nodeRoles(labels: Record<string, string>): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v !== '') roles.add(v);
  }
  return [...roles].sort();
}

function nodeAddress(o: KubeObject, type: string): string {
  const a = arr(status(o)['addresses'])
    .map(rec)
    .find((x) => str(x['type']) === type);
  return a ? str(a['address']) : '<none>';
}

const node: TablePrinter = {
  columns: [
    nameCol(),
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    ageCol(),
    col('Version', 'string', 'Kubelet Version reported by the node.'),
    wide('Internal-IP', 'string', NODE_ADDRESSES_DOC()),
    wide('External-IP', 'string', NODE_ADDRESSES_DOC()),
    wide('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).'),
    wide('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    wide(
      'Container-Runtime',
      'string',
      'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
    ),
  ],
  row(o, now) {
    const conds = arr(status(o)['conditions']).map(rec);
    const states: string[] = [];
    // Only the Ready condition is shown (NodeAllConditions).
    const ready = conds.filter((c) => str(c['type']) === 'Ready').pop();
    if (ready) states.push(str(ready['status']) === 'True' ? 'Ready' : 'NotReady');
    if (states.length === 0) states.push('Unknown');
    if (spec(o)['unschedulable'] === true) states.push('SchedulingDisabled');
    const roles = nodeRoles(o.metadata.labels ?? {}).join(',');
    const info = rec(status(o)['nodeInfo']);
    const orUnknown = (s: string): string => (s === '' ? '<unknown>' : s);
    return [
      name(o),
      states.join(','),
      roles === '' ? '<none>' : roles,
      age(o, now),
      str(info['kubeletVersion']),
      nodeAddress(o, 'InternalIP'),
      nodeAddress(o, 'ExternalIP'),
      orUnknown(str(info['osImage'])),
      orUnknown(str(info['kernelVersion'])),
      orUnknown(str(info['containerRuntimeVersion'])),
    ];
  },
};

function NODE_ADDRESSES_DOC(): string {
  return 'List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node\'s address in its own status or consumers of the downward API (status.hostIP).';
}

const LOAD_BALANCER_WIDTH = 16;

function loadBalancerIngress(o: KubeObject, wideOut: boolean): string {
  const set = new Set<string>();
  for (const ing of arr(rec(status(o)['loadBalancer'])['ingress']).map(rec)) {
    const ip = str(ing['ip']);
    const host = str(ing['hostname']);
    if (ip) set.add(ip);
    else if (host) set.add(host);
  }
  let r = [...set].sort().join(',');
  if (!wideOut && r.length > LOAD_BALANCER_WIDTH) r = `${r.slice(0, LOAD_BALANCER_WIDTH - 3)}...`;
  return r;
}

/** getServiceExternalIP; the server prints wide, so load-balancer lists are not clipped. */
function serviceExternalIP(o: KubeObject): string {
  const s = spec(o);
  const externalIPs = arr(s['externalIPs']).map(str);
  switch (str(s['type'])) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngress(o, true);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return str(s['externalName']);
  }
  return '<unknown>';
}

function servicePorts(ports: unknown): string {
  return arr(ports)
    .map(rec)
    .map((p) => {
      const nodePort = int(p['nodePort']);
      const proto = str(p['protocol']);
      return nodePort > 0 ? `${int(p['port'])}:${nodePort}/${proto}` : `${int(p['port'])}/${proto}`;
    })
    .join(',');
}

const service: TablePrinter = {
  columns: [
    nameCol(),
    col('Type', 'string', SERVICE_TYPE_DOC()),
    col('Cluster-IP', 'string', SERVICE_CLUSTER_IP_DOC()),
    col(
      'External-IP',
      'string',
      'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.',
    ),
    col(
      'Port(s)',
      'string',
      'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
    ),
    ageCol(),
    wide(
      'Selector',
      'string',
      'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/',
    ),
  ],
  row(o, now) {
    const s = spec(o);
    const clusterIPs = arr(s['clusterIPs']).map(str);
    const ports = servicePorts(s['ports']);
    return [
      name(o),
      str(s['type']),
      clusterIPs[0] ?? '<none>',
      serviceExternalIP(o),
      ports === '' ? '<none>' : ports,
      age(o, now),
      formatLabels(s['selector']),
    ];
  },
};

function SERVICE_TYPE_DOC(): string {
  return 'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types';
}

function SERVICE_CLUSTER_IP_DOC(): string {
  return 'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies';
}

/** formatEndpoints with all ports: "ip:port" for each address and port, three at most. */
export function formatEndpoints(o: KubeObject): string {
  const subsets = arr(o['subsets']).map(rec);
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let count = 0;
  let more = false;
  for (const ss of subsets) {
    const addresses = arr(ss['addresses']).map((a) => str(rec(a)['ip']));
    const ports = arr(ss['ports']).map(rec);
    if (ports.length === 0) {
      // Headless services without ports list bare addresses.
      count += addresses.length;
      for (const ip of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(ip);
      }
      continue;
    }
    for (const p of ports) {
      count += addresses.length;
      for (const ip of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(ip, int(p['port'])));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

const endpoints: TablePrinter = {
  columns: [
    nameCol(),
    col(
      'Endpoints',
      'string',
      'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.',
    ),
    ageCol(),
  ],
  row: (o, now) => [name(o), formatEndpoints(o), age(o, now)],
};

const endpointSlice: TablePrinter = {
  columns: [
    nameCol(),
    col(
      'AddressType',
      'string',
      'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.',
    ),
    col(
      'Ports',
      'string',
      'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.',
    ),
    col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.'),
    ageCol(),
  ],
  row(o, now) {
    const ports = arr(o['ports'])
      .map(rec)
      .map((p) => (typeof p['port'] === 'number' ? String(int(p['port'])) : typeof p['name'] === 'string' ? p['name'] : '*'));
    const addrs = arr(o['endpoints']).flatMap((e) => arr(rec(e)['addresses']).map(str));
    return [name(o), str(o['addressType']), listWithMore(ports), listWithMore(addrs), age(o, now)];
  },
};

const configMap: TablePrinter = {
  columns: [
    nameCol(),
    col(
      'Data',
      'string',
      "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
    ),
    ageCol(),
  ],
  row: (o, now) => [name(o), Object.keys(rec(o['data'])).length + Object.keys(rec(o['binaryData'])).length, age(o, now)],
};

/** RFC 3339 timestamp (or MicroTime) to an age; "<unknown>" when unset. */
function since(ts: unknown, now: Date): string {
  return ageSince(typeof ts === 'string' && ts !== '' ? ts : undefined, now);
}

const event: TablePrinter = {
  columns: [
    col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    col(
      'Reason',
      'string',
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col('Object', 'string', 'The object that this event is about.'),
    wide(
      'Subobject',
      'string',
      'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.',
    ),
    wide('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.'),
    col('Message', 'string', 'A human-readable description of the status of this operation.'),
    wide('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)'),
    wide('Count', 'string', 'The number of times this event has occurred.'),
    col('Name', 'string', NAME_DOC, { format: 'name', priority: 1 }),
  ],
  // The server prints wide, so the wide cells sit where their columns are.
  row(o, now) {
    const first = str(o['firstTimestamp']) ? since(o['firstTimestamp'], now) : since(o['eventTime'], now);
    let last = str(o['lastTimestamp']) ? since(o['lastTimestamp'], now) : first;
    let count = int(o['count']);
    const series = o['series'];
    if (isRecord(series)) {
      last = since(series['lastObservedTime'], now);
      count = int(series['count']);
    } else if (count === 0) count = 1;
    const involved = rec(o['involvedObject']);
    const kind = str(involved['kind']).toLowerCase();
    const target = str(involved['name']) ? `${kind}/${str(involved['name'])}` : kind;
    const source = rec(o['source']);
    const component = firstNonEmpty(str(source['component']), str(o['reportingComponent']));
    const instance = firstNonEmpty(str(source['host']), str(o['reportingInstance']));
    return [
      last,
      str(o['type']),
      str(o['reason']),
      target,
      str(involved['fieldPath']),
      instance ? `${component}, ${instance}` : component,
      str(o['message']).trim(),
      first,
      count,
      name(o),
    ];
  },
};

interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  started?: boolean;
  state: JsonRecord;
  lastTerminated?: JsonRecord;
}

function containerStatuses(v: unknown): ContainerStatus[] {
  return arr(v)
    .map(rec)
    .map((c) => {
      const last = rec(c['lastState'])['terminated'];
      const cs: ContainerStatus = {
        name: str(c['name']),
        ready: c['ready'] === true,
        restartCount: int(c['restartCount']),
        state: rec(c['state']),
      };
      if (typeof c['started'] === 'boolean') cs.started = c['started'];
      if (isRecord(last)) cs.lastTerminated = last;
      return cs;
    });
}

function conditionTrue(conds: unknown, type: string): boolean {
  return arr(conds)
    .map(rec)
    .some((c) => str(c['type']) === type && str(c['status']) === 'True');
}

/** Later of two RFC 3339 stamps ("" is the zero time). */
function laterStamp(a: string, b: string): string {
  if (!b) return a;
  if (!a) return b;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** The READY, STATUS and RESTARTS cells of printPod. */
export function podSummary(o: KubeObject, now: Date): { ready: string; reason: string; restarts: string } {
  const s = spec(o);
  const st = status(o);
  const initSpecs = arr(s['initContainers']).map(rec);
  const restartable = new Set(initSpecs.filter((c) => str(c['restartPolicy']) === 'Always').map((c) => str(c['name'])));
  let total = arr(s['containers']).length + restartable.size;
  let ready = 0;
  let restarts = 0;
  let restartableRestarts = 0;
  let lastRestart = '';
  let lastRestartableRestart = '';
  const phase = str(st['phase']);
  let reason = str(st['reason']) || phase;
  for (const c of arr(st['conditions']).map(rec)) {
    if (str(c['type']) === 'PodScheduled' && str(c['reason']) === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const inits = containerStatuses(st['initContainerStatuses']);
  let initializing = false;
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    if (!c) continue;
    restarts += c.restartCount;
    const finished = c.lastTerminated ? str(c.lastTerminated['finishedAt']) : '';
    lastRestart = laterStamp(lastRestart, finished);
    const isRestartable = restartable.has(c.name);
    if (isRestartable) {
      restartableRestarts += c.restartCount;
      lastRestartableRestart = laterStamp(lastRestartableRestart, finished);
    }
    const term = c.state['terminated'];
    const wait = c.state['waiting'];
    if (isRecord(term) && int(term['exitCode']) === 0) continue;
    if (isRestartable && c.started === true) {
      if (c.ready) ready++;
      continue;
    }
    if (isRecord(term)) {
      const r = str(term['reason']);
      if (r) reason = `Init:${r}`;
      else if (int(term['signal']) !== 0) reason = `Init:Signal:${int(term['signal'])}`;
      else reason = `Init:ExitCode:${int(term['exitCode'])}`;
    } else if (isRecord(wait) && str(wait['reason']) !== '' && str(wait['reason']) !== 'PodInitializing') {
      reason = `Init:${str(wait['reason'])}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  const podInitialized = arr(st['conditions'])
    .map(rec)
    .find((c) => str(c['type']) === 'Initialized');
  if (!initializing || (podInitialized !== undefined && str(podInitialized['status']) === 'True')) {
    restarts = restartableRestarts;
    lastRestart = lastRestartableRestart;
    let hasRunning = false;
    const cs = containerStatuses(st['containerStatuses']);
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      if (!c) continue;
      restarts += c.restartCount;
      if (c.lastTerminated) lastRestart = laterStamp(lastRestart, str(c.lastTerminated['finishedAt']));
      const wait = c.state['waiting'];
      const term = c.state['terminated'];
      if (isRecord(wait) && str(wait['reason']) !== '') reason = str(wait['reason']);
      else if (isRecord(term) && str(term['reason']) !== '') reason = str(term['reason']);
      else if (isRecord(term)) {
        reason = int(term['signal']) !== 0 ? `Signal:${int(term['signal'])}` : `ExitCode:${int(term['exitCode'])}`;
      } else if (c.ready && isRecord(c.state['running'])) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(st['conditions'], 'Ready') ? 'Running' : 'NotReady';
  }

  if (o.metadata.deletionTimestamp && str(st['reason']) === 'NodeLost') reason = 'Unknown';
  else if (o.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart) restartsCell = `${restarts} (${ageSince(lastRestart, now)} ago)`;
  total = Math.max(total, 0);
  return { ready: `${ready}/${total}`, reason, restarts: restartsCell };
}

const pod: TablePrinter = {
  columns: [
    nameCol(),
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col(
      'Restarts',
      'string',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    ageCol(),
    wide('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.'),
    wide(
      'Node',
      'string',
      'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename',
    ),
    wide(
      'Nominated Node',
      'string',
      'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
    ),
    wide(
      'Readiness Gates',
      'string',
      'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
    ),
  ],
  row(o, now) {
    const sum = podSummary(o, now);
    const s = spec(o);
    const st = status(o);
    const podIPs = arr(st['podIPs']).map((p) => str(rec(p)['ip']));
    const gates = arr(s['readinessGates']).map((g) => str(rec(g)['conditionType']));
    let gatesCell = '<none>';
    if (gates.length > 0) {
      const conds = arr(st['conditions']).map(rec);
      const trueCount = gates.filter((g) => {
        const c = conds.find((x) => str(x['type']) === g);
        return c !== undefined && str(c['status']) === 'True';
      }).length;
      gatesCell = `${trueCount}/${gates.length}`;
    }
    return [
      name(o),
      sum.ready,
      sum.reason,
      sum.restarts,
      age(o, now),
      podIPs[0] || '<none>',
      str(s['nodeName']) || '<none>',
      str(st['nominatedNodeName']) || '<none>',
      gatesCell,
    ];
  },
};

const deployment: TablePrinter = {
  columns: [
    nameCol(),
    col('Ready', 'string', 'Number of the pod with ready state'),
    col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageCol(),
    wide('Containers', 'string', CONTAINERS_DOC),
    wide('Images', 'string', IMAGES_DOC),
    wide(
      'Selector',
      'string',
      'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
    ),
  ],
  row(o, now) {
    const st = status(o);
    const [names, images] = containerCells(templateContainers(o));
    return [
      name(o),
      `${int(st['readyReplicas'])}/${int(spec(o)['replicas'])}`,
      int(st['updatedReplicas']),
      int(st['availableReplicas']),
      age(o, now),
      names,
      images,
      labelSelectorFromObject(spec(o)['selector']).toString(),
    ];
  },
};

const replicaSet: TablePrinter = {
  columns: [
    nameCol(),
    col(
      'Desired',
      'integer',
      'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller',
    ),
    col(
      'Current',
      'integer',
      'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller',
    ),
    col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
    ageCol(),
    wide('Containers', 'string', CONTAINERS_DOC),
    wide('Images', 'string', IMAGES_DOC),
    wide(
      'Selector',
      'string',
      'Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
    ),
  ],
  row(o, now) {
    const st = status(o);
    const [names, images] = containerCells(templateContainers(o));
    return [
      name(o),
      int(spec(o)['replicas']),
      int(st['replicas']),
      int(st['readyReplicas']),
      age(o, now),
      names,
      images,
      formatLabelSelector(spec(o)['selector']),
    ];
  },
};

const daemonSet: TablePrinter = {
  columns: [
    nameCol(),
    col(
      'Desired',
      'integer',
      'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
    ),
    col(
      'Current',
      'integer',
      'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
    ),
    col('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
    col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
    col(
      'Available',
      'integer',
      'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
    ),
    col(
      'Node Selector',
      'string',
      "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
    ),
    ageCol(),
    wide('Containers', 'string', CONTAINERS_DOC),
    wide('Images', 'string', IMAGES_DOC),
    wide(
      'Selector',
      'string',
      'A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
    ),
  ],
  row(o, now) {
    const st = status(o);
    const [names, images] = containerCells(templateContainers(o));
    return [
      name(o),
      int(st['desiredNumberScheduled']),
      int(st['currentNumberScheduled']),
      int(st['numberReady']),
      int(st['updatedNumberScheduled']),
      int(st['numberAvailable']),
      formatLabels(rec(rec(spec(o)['template'])['spec'])['nodeSelector']),
      age(o, now),
      names,
      images,
      formatLabelSelector(spec(o)['selector']),
    ];
  },
};

const lease: TablePrinter = {
  columns: [
    nameCol(),
    col(
      'Holder',
      'string',
      'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.',
    ),
    ageCol(),
  ],
  row: (o, now) => [name(o), str(spec(o)['holderIdentity']), age(o, now)],
};

/** rest.NewDefaultTableConvertor: NAME and "Created At", for resources without a printer. */
export const defaultPrinter: TablePrinter = {
  columns: [nameCol(), col('Created At', 'date', CREATION_DOC)],
  row: (o) => [name(o), o.metadata.creationTimestamp ?? ''],
};

/** Printers by kind, for the resource registry. */
export const PRINTERS = {
  Namespace: namespace,
  Node: node,
  Service: service,
  Endpoints: endpoints,
  EndpointSlice: endpointSlice,
  ConfigMap: configMap,
  Event: event,
  Pod: pod,
  Deployment: deployment,
  ReplicaSet: replicaSet,
  DaemonSet: daemonSet,
  Lease: lease,
} satisfies Record<string, TablePrinter>;
