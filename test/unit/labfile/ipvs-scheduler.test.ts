// cluster.ipvs.scheduler: kube-proxy's --ipvs-scheduler for an ipvs lab
// (default rr), refused with a pointed message when misspelt or given to a
// lab in another proxy mode.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { formatProblems, loadLabFile, parseLabText } from '../../../src/labfile/parse-lab.js';

const lab = (cluster: string): string =>
  [
    'apiVersion: nslab/v1alpha1',
    'kind: Lab',
    'metadata: {name: t}',
    'spec:',
    `  cluster: ${cluster}`,
    '  networks:',
    '  - {name: lan, cidr: 192.168.10.0/24, gateway: 192.168.10.1}',
    '  nodes:',
    '  - {name: master, nics: [{network: lan, address: 192.168.10.210}]}',
    '',
  ].join('\n');

describe('cluster.ipvs.scheduler', () => {
  it('is read for an ipvs lab', () => {
    const { lab: spec, problems } = parseLabText(lab('{proxyMode: ipvs, ipvs: {scheduler: sh}}'), 'lab.yaml');
    expect(formatProblems(problems)).toBe('');
    expect(spec?.cluster.ipvs).toEqual({ scheduler: 'sh' });
  });

  it('is absent when not given (the proxy uses rr)', () => {
    expect(parseLabText(lab('{proxyMode: ipvs}'), 'lab.yaml').lab?.cluster.ipvs).toBeUndefined();
  });

  it('refuses an unknown scheduler, with a suggestion', () => {
    const text = formatProblems(parseLabText(lab('{proxyMode: ipvs, ipvs: {scheduler: rrr}}'), 'lab.yaml').problems);
    expect(text).toMatch(/^lab\.yaml:5:\d+: spec\.cluster\.ipvs\.scheduler: must be "rr", "wrr", .* or "mh"/);
  });

  it('refuses cluster.ipvs in a lab whose proxyMode is not ipvs', () => {
    const text = formatProblems(parseLabText(lab('{proxyMode: nftables, ipvs: {scheduler: rr}}'), 'lab.yaml').problems);
    expect(text).toMatch(/spec\.cluster\.ipvs: applies only to proxyMode ipvs \(this lab's proxyMode is nftables\)/);
  });

  it('refuses unknown keys under cluster.ipvs', () => {
    const text = formatProblems(parseLabText(lab('{proxyMode: ipvs, ipvs: {schedular: rr}}'), 'lab.yaml').problems);
    expect(text).toMatch(/spec\.cluster\.ipvs\.schedular/);
  });

  it('labs/course-ipvs.yaml is an ipvs lab with scheduler rr', async () => {
    const spec = await loadLabFile(path.resolve(import.meta.dirname, '../../../labs/course-ipvs.yaml'));
    expect([spec.cluster.proxyMode, spec.cluster.ipvs]).toEqual(['ipvs', { scheduler: 'rr' }]);
  });
});
