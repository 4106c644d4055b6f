import { describe, expect, it } from 'vitest';
import { ObjectStore } from '../../../src/api/store.js';
import { ROOT_CA_CONFIGMAP, startRootCAPublisher } from '../../../src/controlplane/root-ca-publisher.js';

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
/** Watch events arrive asynchronously. */
const settle = () => new Promise((r) => setTimeout(r, 5));
const caOf = (store: ObjectStore, namespace: string) => (store.find('configmaps', namespace, ROOT_CA_CONFIGMAP)?.['data'] as { 'ca.crt'?: string } | undefined)?.['ca.crt'];

describe('the root CA publisher', () => {
  it('puts kube-root-ca.crt in every namespace, new ones too, and puts it back when deleted', async () => {
    const store = new ObjectStore();
    store.create('namespaces', ns('default'));
    const p = startRootCAPublisher(store, 'PEM');
    await settle();
    expect(caOf(store, 'default')).toBe('PEM');
    store.create('namespaces', ns('team-a'));
    await settle();
    expect(caOf(store, 'team-a')).toBe('PEM');
    store.delete('configmaps', 'default', ROOT_CA_CONFIGMAP);
    await settle();
    expect(caOf(store, 'default')).toBe('PEM');
    p.stop();
  });
});
