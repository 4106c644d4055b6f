// Hole 7 before `up` builds anything: the lab file's manifests get the same
// path rules as the API, located at FILE:LINE:COL of the offending value.
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../src/controlplane/manifests.js';

describe('manifest path checks', () => {
  it('refuse a ConfigMap key and a volume item path that leave the volume, at their line', () => {
    const cm = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: ngx-conf}', 'data:', '  default.conf: |', '    server {}', '  ../evil: x', ''].join('\n');
    const dep = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: ngx-dep}',
      'spec:',
      '  selector: {matchLabels: {app: ngx-dep}}',
      '  template:',
      '    metadata: {labels: {app: ngx-dep}}',
      '    spec:',
      '      containers: [{name: nginx, image: nginx:alpine}]',
      '      volumes:',
      '      - name: conf',
      '        configMap:',
      '          name: ngx-conf',
      '          items:',
      '          - {key: default.conf, path: ../../../../etc/cron.d/x}',
      '',
    ].join('\n');
    const { manifests, problems } = parseManifests([
      { file: 'ngx-conf.yml', text: cm },
      { file: 'ngx-dep.yml', text: dep },
    ]);
    expect(manifests).toEqual([]);
    expect(problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.field}: ${p.message}`)).toEqual([
      `ngx-conf.yml:7:3: data[../evil]: Invalid value: "../evil": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      `ngx-conf.yml:7:3: data[../evil]: Invalid value: "../evil": must not start with '..'`,
      `ngx-dep.yml:15:39: spec.template.spec.volumes[0].configMap.items[0].path: Invalid value: "../../../../etc/cron.d/x": must not contain '..'`,
    ]);
  });
});
