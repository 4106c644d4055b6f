import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { applyManifests, LAST_APPLIED, parseManifests } from '../../../src/controlplane/manifests.js';
import { ObjectStore } from '../../../src/api/store.js';

const REF = path.resolve(import.meta.dirname, '../../../../shared/reference/manifests');
const course = ['ngx-conf.yml', 'ngx-dep.yml', 'ngx-svc.yml'].map((f) => ({
  file: path.join(REF, f),
  text: readFileSync(path.join(REF, f), 'utf8'),
}));

describe('manifests', () => {
  it("reads the course's files unchanged", () => {
    const { manifests, problems } = parseManifests(course);
    expect(problems).toEqual([]);
    expect(manifests.map((m) => `${m.object.kind}/${m.object.metadata.name}`)).toEqual([
      'ConfigMap/ngx-conf',
      'Deployment/ngx-dep',
      'Service/ngx-svc',
    ]);
  });

  it('locates problems by file and line', () => {
    const { problems } = parseManifests([
      { file: 'x.yml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\nfoo: [\n' },
    ]);
    expect(problems.map((p) => [p.file, p.line, p.field])[0]).toEqual(['x.yml', 5, 'kind']);
    // The unclosed flow sequence opened on line 9 is reported where the parser gives up.
    expect(problems[1]?.line).toBeGreaterThanOrEqual(9);
    expect(problems[0]?.message).toContain('example.com/v1 Widget is not served');
  });

  it('stores objects as kubectl apply leaves them, and applies again as an update', () => {
    const store = new ObjectStore();
    store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    const { manifests } = parseManifests(course.slice(0, 1));
    const [cm] = applyManifests(store, manifests);
    expect(cm?.metadata.namespace).toBe('default');
    expect(JSON.parse(cm?.metadata.annotations?.[LAST_APPLIED] ?? '{}').metadata.name).toBe('ngx-conf');
    const [again] = applyManifests(store, manifests);
    expect(again?.metadata.uid).toBe(cm?.metadata.uid);
  });
});
