import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { mergeKubeconfig, removeFromKubeconfig, renderKubeconfig } from '../../../src/kubeconfig/kubeconfig.js';
import { parsePasswd, resolveKubeconfigTarget } from '../../../src/kubeconfig/target.js';

const entry = (name: string, server = 'https://127.0.0.1:40000') => ({
  name,
  server,
  caCertPem: 'CA',
  clientCertPem: 'CERT',
  clientKeyPem: 'KEY',
});

const existing = YAML.stringify({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'prod', cluster: { server: 'https://prod:6443' } }],
  users: [{ name: 'prod-admin', user: { token: 't' } }],
  contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'prod-admin' } }],
  'current-context': 'prod',
  preferences: {},
});

describe('kubeconfig merge', () => {
  it('renders a standalone kubeconfig with embedded credentials', () => {
    const doc = YAML.parse(renderKubeconfig(entry('nslab-default')));
    expect(doc['current-context']).toBe('nslab-default');
    expect(doc.clusters[0].cluster['certificate-authority-data']).toBe(Buffer.from('CA').toString('base64'));
    expect(doc.users[0].user['client-key-data']).toBe(Buffer.from('KEY').toString('base64'));
  });

  it('adds the lab next to what is there and makes it current, as kind does', () => {
    const doc = YAML.parse(mergeKubeconfig(existing, entry('nslab-default')));
    expect(doc.contexts.map((c: { name: string }) => c.name)).toEqual(['prod', 'nslab-default']);
    expect(doc['current-context']).toBe('nslab-default');
    expect(doc.users[0].user.token).toBe('t');
  });

  it('replaces an older entry of the same lab instead of duplicating it', () => {
    const once = mergeKubeconfig(existing, entry('nslab-default', 'https://127.0.0.1:1'));
    const doc = YAML.parse(mergeKubeconfig(once, entry('nslab-default', 'https://127.0.0.1:2')));
    const servers = doc.clusters.filter((c: { name: string }) => c.name === 'nslab-default');
    expect(servers).toHaveLength(1);
    expect(servers[0].cluster.server).toBe('https://127.0.0.1:2');
  });

  it('removes the lab and clears current-context only if it pointed there', () => {
    const merged = mergeKubeconfig(existing, entry('nslab-default'));
    const { text, changed } = removeFromKubeconfig(merged, 'nslab-default');
    const doc = YAML.parse(text);
    expect(changed).toBe(true);
    expect(doc.contexts.map((c: { name: string }) => c.name)).toEqual(['prod']);
    expect(doc['current-context']).toBe('');
    expect(removeFromKubeconfig(existing, 'nslab-default').changed).toBe(false);
  });
});

describe('kubeconfig target', () => {
  it('uses the first file of $KUBECONFIG', () => {
    expect(resolveKubeconfigTarget({ KUBECONFIG: '/tmp/a:/tmp/b' }).path).toBe('/tmp/a');
  });

  it("reads the sudo user's home from passwd", () => {
    expect(parsePasswd('root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n', 'alice')).toEqual({
      uid: 1000,
      gid: 1000,
      home: '/home/alice',
    });
  });
});
