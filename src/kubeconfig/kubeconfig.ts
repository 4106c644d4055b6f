// kubeconfig files, handled the way kind does: a lab's cluster, user and
// context all named nslab-<lab>; `up` merges them in and makes the context
// current, `down` takes them out again. The merge logic is pure.
import YAML from 'yaml';

export interface KubeconfigEntry {
  /** Used for the cluster, the user and the context. */
  name: string;
  server: string;
  caCertPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

interface Named {
  name: string;
  [k: string]: unknown;
}

interface KubeconfigDoc {
  apiVersion: string;
  kind: string;
  clusters: Named[];
  users: Named[];
  contexts: Named[];
  'current-context': string;
  preferences: Record<string, unknown>;
  [k: string]: unknown;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function contextName(lab: string): string {
  return `nslab-${lab}`;
}

function entryParts(e: KubeconfigEntry): { cluster: Named; user: Named; context: Named } {
  return {
    cluster: { name: e.name, cluster: { server: e.server, 'certificate-authority-data': b64(e.caCertPem) } },
    user: { name: e.name, user: { 'client-certificate-data': b64(e.clientCertPem), 'client-key-data': b64(e.clientKeyPem) } },
    context: { name: e.name, context: { cluster: e.name, user: e.name } },
  };
}

function emptyDoc(): KubeconfigDoc {
  return { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], 'current-context': '', preferences: {} };
}

/**
 * The YAML parser quotes the offending line in its errors. The text may be
 * a file root read for a user, so the error says where, not what.
 */
function parseYaml(text: string): unknown {
  try {
    return YAML.parse(text);
  } catch (e) {
    const at = e instanceof YAML.YAMLError && e.linePos ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
    throw new Error(`the existing kubeconfig is not valid YAML${at}; fix it or move it away`);
  }
}

function parseDoc(text: string | undefined): KubeconfigDoc {
  const raw: unknown = text && text.trim() ? parseYaml(text) : undefined;
  const doc = emptyDoc();
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    Object.assign(doc, raw);
    for (const key of ['clusters', 'users', 'contexts'] as const) {
      if (!Array.isArray(doc[key])) doc[key] = [];
    }
    if (typeof doc['current-context'] !== 'string') doc['current-context'] = '';
  }
  return doc;
}

/** A kubeconfig holding only this lab, as `nslab kubeconfig` prints it. */
export function renderKubeconfig(entry: KubeconfigEntry): string {
  return mergeKubeconfig(undefined, entry);
}

/** Add or replace the lab's entries and make its context current. */
export function mergeKubeconfig(existing: string | undefined, entry: KubeconfigEntry): string {
  const doc = parseDoc(existing);
  const parts = entryParts(entry);
  const upsert = (list: Named[], item: Named) => [...list.filter((x) => x.name !== item.name), item];
  doc.clusters = upsert(doc.clusters, parts.cluster);
  doc.users = upsert(doc.users, parts.user);
  doc.contexts = upsert(doc.contexts, parts.context);
  doc['current-context'] = entry.name;
  return YAML.stringify(doc);
}

/** Remove the named entries; a current-context pointing at them is cleared. */
export function removeFromKubeconfig(existing: string, name: string): { text: string; changed: boolean } {
  const doc = parseDoc(existing);
  const before = doc.clusters.length + doc.users.length + doc.contexts.length;
  doc.clusters = doc.clusters.filter((x) => x.name !== name);
  doc.users = doc.users.filter((x) => x.name !== name);
  doc.contexts = doc.contexts.filter((x) => x.name !== name);
  let changed = before !== doc.clusters.length + doc.users.length + doc.contexts.length;
  if (doc['current-context'] === name) {
    doc['current-context'] = '';
    changed = true;
  }
  return { text: YAML.stringify(doc), changed };
}
