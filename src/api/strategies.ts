// What the apiserver's registry strategies do on create and update for the
// served kinds: defaulting that users see in `kubectl get -o yaml`, status
// reset, and the validation errors users hit most. Not a full port of
// pkg/apis/*/validation: only cheap, visible rules.

import type { FieldError } from './errors.js';
import { labelSelectorFromObject } from './selectors.js';
import { configMapErrors, podSpecPathErrors } from './validation-paths.js';
import { arr, isRecord, rec, str, strMap, type JsonRecord, type KubeObject } from './types.js';

export interface Strategy {
  /** Defaults and status reset, before validation (PrepareForCreate + defaulting). */
  prepareForCreate?(obj: KubeObject): void;
  /** Defaults on update (old is the stored object). */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  validate?(obj: KubeObject): FieldError[];
}

export type NameRule = 'dns1123-label' | 'dns1123-subdomain' | 'dns1035-label' | 'path-segment';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** The messages of k8s.io/apimachinery/pkg/util/validation for a name. */
export function nameErrors(name: string, rule: NameRule): string[] {
  const errs: string[] = [];
  switch (rule) {
    case 'dns1123-label':
      if (name.length > 63) errs.push('must be no more than 63 characters');
      if (!DNS1123_LABEL.test(name)) {
        errs.push(
          DNS1123_SUBDOMAIN.test(name)
            ? 'must not contain dots'
            : "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        );
      }
      break;
    case 'dns1123-subdomain':
      if (name.length > 253) errs.push('must be no more than 253 characters');
      if (!DNS1123_SUBDOMAIN.test(name)) {
        errs.push(
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        );
      }
      break;
    case 'dns1035-label':
      if (name.length > 63) errs.push('must be no more than 63 characters');
      if (!DNS1035_LABEL.test(name)) {
        errs.push(
          "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        );
      }
      break;
    case 'path-segment':
      if (name === '.' || name === '..') errs.push(`may not be '${name}'`);
      for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
      break;
  }
  return errs;
}

export const invalidValue = (field: string, value: string, detail: string): FieldError => ({
  type: 'FieldValueInvalid',
  field,
  body: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
});
export const required = (field: string, detail?: string): FieldError => ({
  type: 'FieldValueRequired',
  field,
  body: detail ? `Required value: ${detail}` : 'Required value',
});
const unsupported = (field: string, value: string, allowed: string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  body: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
});

function setDefault(o: JsonRecord, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null || o[key] === '') o[key] = value;
}

function child(o: JsonRecord, key: string): JsonRecord {
  const v = o[key];
  if (isRecord(v)) return v;
  const fresh: JsonRecord = {};
  o[key] = fresh;
  return fresh;
}

/** Image without a tag, or ":latest", pulls Always; anything else IfNotPresent. */
function defaultPullPolicy(image: string): string {
  const lastSlash = image.lastIndexOf('/');
  const tail = image.slice(lastSlash + 1);
  if (tail.includes('@')) return 'IfNotPresent';
  const colon = tail.lastIndexOf(':');
  if (colon < 0 || tail.slice(colon + 1) === 'latest') return 'Always';
  return 'IfNotPresent';
}

function defaultContainers(list: unknown): void {
  for (const c of arr(list)) {
    if (!isRecord(c)) continue;
    setDefault(c, 'imagePullPolicy', defaultPullPolicy(str(c['image'])));
    setDefault(c, 'terminationMessagePath', '/dev/termination-log');
    setDefault(c, 'terminationMessagePolicy', 'File');
    setDefault(c, 'resources', {});
    for (const p of arr(c['ports'])) if (isRecord(p)) setDefault(p, 'protocol', 'TCP');
  }
}

/** SetDefaults_PodSpec and friends, as seen in `kubectl get pod -o yaml`. */
export function defaultPodSpec(spec: JsonRecord): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'securityContext', {});
  defaultContainers(spec['containers']);
  defaultContainers(spec['initContainers']);
  for (const v of arr(spec['volumes'])) {
    if (!isRecord(v)) continue;
    const cm = v['configMap'];
    if (isRecord(cm)) setDefault(cm, 'defaultMode', 420);
    const secret = v['secret'];
    if (isRecord(secret)) setDefault(secret, 'defaultMode', 420);
  }
}

function validatePodSpec(spec: JsonRecord, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const containers = arr(spec['containers']);
  if (containers.length === 0) errs.push(required(`${path}.containers`));
  containers.forEach((c, i) => {
    const cr = rec(c);
    if (!str(cr['name'])) errs.push(required(`${path}.containers[${i}].name`));
    if (!str(cr['image'])) errs.push(required(`${path}.containers[${i}].image`));
  });
  // Names and paths the kubelet joins into host paths.
  errs.push(...podSpecPathErrors(spec, path));
  return errs;
}

function templateOf(o: KubeObject): JsonRecord {
  return child(child(o as JsonRecord, 'spec'), 'template');
}

function defaultTemplate(o: KubeObject): void {
  defaultPodSpec(child(templateOf(o), 'spec'));
}

/** Selector required, and it must select the template's labels. */
function validateSelectorAndTemplate(o: KubeObject): FieldError[] {
  const spec = rec(o['spec']);
  const errs: FieldError[] = [];
  const sel = spec['selector'];
  const labels = strMap(rec(rec(spec['template'])['metadata'])['labels']);
  if (!isRecord(sel)) errs.push(required('spec.selector'));
  else {
    const s = labelSelectorFromObject(sel);
    if (s.empty) errs.push(invalidValue('spec.selector', '', `empty selector is invalid for ${o.kind.toLowerCase()}`));
    else if (!s.matches(labels)) {
      errs.push({
        type: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        body: `Invalid value: map[string]string{${Object.entries(labels)
          .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
          .join(', ')}}: \`selector\` does not match template \`labels\``,
      });
    }
  }
  errs.push(...validatePodSpec(rec(rec(spec['template'])['spec']), 'spec.template.spec'));
  return errs;
}

function resetStatus(o: KubeObject, status: JsonRecord = {}): void {
  o['status'] = status;
}

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

function defaultService(o: KubeObject): void {
  const spec = child(o as JsonRecord, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  const type = str(spec['type']);
  setDefault(spec, 'sessionAffinity', 'None');
  if (type !== 'ExternalName') {
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    if (type === 'NodePort' || type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
    const ip = str(spec['clusterIP']);
    if (ip && arr(spec['clusterIPs']).length === 0) spec['clusterIPs'] = [ip];
    if (ip !== 'None') {
      setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
      if (arr(spec['ipFamilies']).length === 0) spec['ipFamilies'] = ['IPv4'];
    }
  }
  for (const p of arr(spec['ports'])) {
    if (!isRecord(p)) continue;
    setDefault(p, 'protocol', 'TCP');
    if (p['targetPort'] === undefined || p['targetPort'] === 0 || p['targetPort'] === '') p['targetPort'] = p['port'];
  }
}

function validateService(o: KubeObject): FieldError[] {
  const spec = rec(o['spec']);
  const errs: FieldError[] = [];
  const type = str(spec['type']);
  if (!SERVICE_TYPES.includes(type)) errs.push(unsupported('spec.type', type, SERVICE_TYPES));
  const ports = arr(spec['ports']);
  if (ports.length === 0 && type !== 'ExternalName' && str(spec['clusterIP']) !== 'None') errs.push(required('spec.ports'));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const pr = rec(p);
    const port = pr['port'];
    if (typeof port !== 'number' || port < 1 || port > 65535 || !Number.isInteger(port)) {
      errs.push({
        type: 'FieldValueInvalid',
        field: `spec.ports[${i}].port`,
        body: `Invalid value: ${typeof port === 'number' ? port : 0}: must be between 1 and 65535, inclusive`,
      });
    }
    const proto = str(pr['protocol']);
    if (!PROTOCOLS.includes(proto)) errs.push(unsupported(`spec.ports[${i}].protocol`, proto, PROTOCOLS));
    const n = str(pr['name']);
    if (ports.length > 1 && n === '') errs.push(required(`spec.ports[${i}].name`));
    if (n && names.has(n)) errs.push({ type: 'FieldValueDuplicate', field: `spec.ports[${i}].name`, body: `Duplicate value: ${JSON.stringify(n)}` });
    names.add(n);
  });
  return errs;
}

/** Namespaces always carry kubernetes.io/metadata.name=<name> (NamespaceDefaultLabelName). */
function nameLabel(o: KubeObject): void {
  o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name ?? '' };
}

const keepStatus = (o: KubeObject, old: KubeObject): void => {
  if (old['status'] === undefined) delete o['status'];
  else o['status'] = old['status'];
};

/** Per-kind behaviour. Kinds absent here store objects as sent. */
export const STRATEGIES: Record<string, Strategy> = {
  Namespace: {
    prepareForCreate(o) {
      const spec = child(o as JsonRecord, 'spec');
      if (arr(spec['finalizers']).length === 0) spec['finalizers'] = ['kubernetes'];
      resetStatus(o, { phase: 'Active' });
      nameLabel(o);
    },
    prepareForUpdate(o, old) {
      keepStatus(o, old);
      nameLabel(o);
    },
  },
  Node: {
    prepareForUpdate: keepStatus,
  },
  ConfigMap: {
    validate: configMapErrors,
  },
  Service: {
    prepareForCreate(o) {
      defaultService(o);
      resetStatus(o, { loadBalancer: {} });
    },
    prepareForUpdate(o, old) {
      defaultService(o);
      keepStatus(o, old);
    },
    validate: validateService,
  },
  Pod: {
    prepareForCreate(o) {
      defaultPodSpec(child(o as JsonRecord, 'spec'));
      resetStatus(o, { phase: 'Pending', qosClass: 'BestEffort' });
    },
    prepareForUpdate(o, old) {
      defaultPodSpec(child(o as JsonRecord, 'spec'));
      keepStatus(o, old);
    },
    validate: (o) => validatePodSpec(rec(o['spec']), 'spec'),
  },
  Deployment: {
    prepareForCreate(o) {
      const spec = child(o as JsonRecord, 'spec');
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      if (!isRecord(spec['strategy'])) spec['strategy'] = {};
      const strategy = child(spec, 'strategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy['type'] === 'RollingUpdate') {
        const ru = child(strategy, 'rollingUpdate');
        setDefault(ru, 'maxUnavailable', '25%');
        setDefault(ru, 'maxSurge', '25%');
      }
      defaultTemplate(o);
      resetStatus(o);
    },
    prepareForUpdate(o, old) {
      setDefault(child(o as JsonRecord, 'spec'), 'replicas', 1);
      defaultTemplate(o);
      keepStatus(o, old);
    },
    validate: validateSelectorAndTemplate,
  },
  ReplicaSet: {
    prepareForCreate(o) {
      setDefault(child(o as JsonRecord, 'spec'), 'replicas', 1);
      defaultTemplate(o);
      resetStatus(o, { replicas: 0 });
    },
    prepareForUpdate(o, old) {
      setDefault(child(o as JsonRecord, 'spec'), 'replicas', 1);
      defaultTemplate(o);
      keepStatus(o, old);
    },
    validate: validateSelectorAndTemplate,
  },
  DaemonSet: {
    prepareForCreate(o) {
      const spec = child(o as JsonRecord, 'spec');
      setDefault(spec, 'revisionHistoryLimit', 10);
      const us = child(spec, 'updateStrategy');
      setDefault(us, 'type', 'RollingUpdate');
      if (us['type'] === 'RollingUpdate') {
        const ru = child(us, 'rollingUpdate');
        setDefault(ru, 'maxUnavailable', 1);
        setDefault(ru, 'maxSurge', 0);
      }
      defaultTemplate(o);
      resetStatus(o, { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 });
    },
    prepareForUpdate(o, old) {
      defaultTemplate(o);
      keepStatus(o, old);
    },
    validate: validateSelectorAndTemplate,
  },
};
