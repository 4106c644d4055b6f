// The apiserver's rules for the names that the kubelet turns into host paths:
// ConfigMap keys (file names in a volume), a ConfigMap volume's items[].path,
// file modes, and the volume and container names that name folders. Messages
// follow k8s.io/apimachinery/pkg/util/validation (IsConfigMapKey,
// IsDNS1123Label) and pkg/apis/core/validation (ValidateConfigMap,
// validateKeyToPath, ValidateLocalNonReservedPath) word for word, since
// kubectl prints them as they come.

import type { FieldError } from './errors.js';
import { arr, isRecord, rec, str, type JsonRecord, type KubeObject } from './types.js';

/** A field error plus where its field is in the object, for locating it in a manifest file. */
export interface PathFieldError extends FieldError {
  at: Array<string | number>;
  /** The problem is the last element of `at` as a map key (a ConfigMap key), not its value. */
  onKey?: boolean;
}

const DNS1123_SUBDOMAIN_MAX = 253;
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_MAP_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' " +
  "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

const DNS1123_LABEL_MAX = 63;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end " +
  "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** pkg/apis/core/validation fileModeErrorMsg. */
const FILE_MODE_MSG = 'must be a number between 0 and 0777 (octal), both inclusive';

/** IsConfigMapKey: what may name a file in a ConfigMap (or Secret) volume. Lengths are bytes, as Go's len(). */
export function configMapKeyErrors(key: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(key) > DNS1123_SUBDOMAIN_MAX) errs.push(`must be no more than ${DNS1123_SUBDOMAIN_MAX} characters`);
  if (!CONFIG_MAP_KEY.test(key)) errs.push(CONFIG_MAP_KEY_MSG);
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/**
 * ValidateLocalNonReservedPath: relative, no '..' element, not starting with
 * '..' (the kubelet keeps its own "..data" and timestamped folders there).
 */
export function localPathErrors(path: string): string[] {
  const errs: string[] = [];
  if (path.startsWith('/')) errs.push('must be a relative path');
  // One error is enough for `../../..`.
  if (path.split('/').includes('..')) errs.push("must not contain '..'");
  // Not reported when the check for '..' elements already caught it.
  if (path.startsWith('..') && !path.startsWith('../')) errs.push("must not start with '..'");
  return errs;
}

/** IsDNS1123Label, as the apiserver checks volume and container names. */
function dns1123LabelErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > DNS1123_LABEL_MAX) errs.push(`must be no more than ${DNS1123_LABEL_MAX} characters`);
  if (!DNS1123_LABEL.test(name)) errs.push(DNS1123_SUBDOMAIN.test(name) ? 'must not contain dots' : DNS1123_LABEL_MSG);
  return errs;
}

const invalid = (field: string, at: Array<string | number>, value: string | number, detail: string): PathFieldError => ({
  type: 'FieldValueInvalid',
  field,
  body: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  at,
});

const requiredValue = (field: string, at: Array<string | number>): PathFieldError => ({ type: 'FieldValueRequired', field, body: 'Required value', at });

const duplicate = (field: string, at: Array<string | number>, value: string): PathFieldError => ({
  type: 'FieldValueDuplicate',
  field,
  body: `Duplicate value: ${JSON.stringify(value)}`,
  at,
});

/** ValidateConfigMap's key rules: `data[KEY]` and `binaryData[KEY]`, as field.Path.Key renders them. */
export function configMapErrors(cm: KubeObject): PathFieldError[] {
  const errs: PathFieldError[] = [];
  const data = rec(cm['data']);
  const binary = rec(cm['binaryData']);
  for (const key of Object.keys(data)) {
    const at = ['data', key];
    for (const msg of configMapKeyErrors(key)) errs.push({ ...invalid(`data[${key}]`, at, key, msg), onKey: true });
    if (Object.hasOwn(binary, key)) errs.push({ ...invalid(`data[${key}]`, at, key, 'duplicate of key present in binaryData'), onKey: true });
  }
  for (const key of Object.keys(binary)) {
    const at = ['binaryData', key];
    for (const msg of configMapKeyErrors(key)) errs.push({ ...invalid(`binaryData[${key}]`, at, key, msg), onKey: true });
  }
  return errs;
}

function modeErrors(v: unknown, field: string, at: Array<string | number>): PathFieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o777) return [];
  return [invalid(field, at, typeof v === 'number' ? v : String(v), FILE_MODE_MSG)];
}

/** validateConfigMapVolumeSource: items[].key and items[].path required, paths local, modes within 0777. */
function configMapVolumeErrors(cm: JsonRecord, field: string, at: Array<string | number>): PathFieldError[] {
  const errs = modeErrors(cm['defaultMode'], `${field}.defaultMode`, [...at, 'defaultMode']);
  arr(cm['items']).forEach((item, i) => {
    const f = `${field}.items[${i}]`;
    const a = [...at, 'items', i];
    const kp = rec(item);
    const key = str(kp['key']);
    const path = str(kp['path']);
    if (!key) errs.push(requiredValue(`${f}.key`, [...a, 'key']));
    if (!path) errs.push(requiredValue(`${f}.path`, [...a, 'path']));
    for (const msg of localPathErrors(path)) errs.push(invalid(`${f}.path`, [...a, 'path'], path, msg));
    errs.push(...modeErrors(kp['mode'], `${f}.mode`, [...a, 'mode']));
  });
  return errs;
}

/** Names that must be DNS-1123 labels and unique in their list (volumes, containers): each names a folder. */
function folderNameErrors(list: unknown, field: string, at: Array<string | number>): PathFieldError[] {
  const errs: PathFieldError[] = [];
  const seen = new Set<string>();
  arr(list).forEach((entry, i) => {
    const name = str(rec(entry)['name']);
    if (!name) return; // "Required value" is the pod spec validation's to report.
    const f = `${field}[${i}].name`;
    const a = [...at, i, 'name'];
    for (const msg of dns1123LabelErrors(name)) errs.push(invalid(f, a, name, msg));
    if (seen.has(name)) errs.push(duplicate(f, a, name));
    seen.add(name);
  });
  return errs;
}

/**
 * The rules of a pod spec that guard host paths: volume and container names
 * (folders under the pod's directory) and ConfigMap volume items (files in
 * the volume). `field` is the spec's path, e.g. "spec.template.spec".
 */
export function podSpecPathErrors(spec: JsonRecord, field: string, at: Array<string | number> = field.split('.')): PathFieldError[] {
  const errs = folderNameErrors(spec['volumes'], `${field}.volumes`, [...at, 'volumes']);
  arr(spec['volumes']).forEach((v, i) => {
    const cm = rec(v)['configMap'];
    if (isRecord(cm)) errs.push(...configMapVolumeErrors(cm, `${field}.volumes[${i}].configMap`, [...at, 'volumes', i, 'configMap']));
  });
  errs.push(...folderNameErrors(spec['containers'], `${field}.containers`, [...at, 'containers']));
  errs.push(...folderNameErrors(spec['initContainers'], `${field}.initContainers`, [...at, 'initContainers']));
  return errs;
}

const TEMPLATE_KINDS: ReadonlySet<string> = new Set(['Deployment', 'ReplicaSet', 'DaemonSet']);

/** Every path rule above that applies to an object of this kind, for objects read from manifest files. */
export function objectPathErrors(obj: KubeObject): PathFieldError[] {
  if (obj.kind === 'ConfigMap') return configMapErrors(obj);
  const spec = rec(obj['spec']);
  if (obj.kind === 'Pod') return podSpecPathErrors(spec, 'spec');
  if (TEMPLATE_KINDS.has(obj.kind)) return podSpecPathErrors(rec(rec(spec['template'])['spec']), 'spec.template.spec');
  return [];
}
