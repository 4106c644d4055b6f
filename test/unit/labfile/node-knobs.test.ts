import { describe, expect, it } from 'vitest';
import { parseLabText } from '../../../src/labfile/parse-lab.js';

function labText(workerExtra: string): string {
  return [
    'apiVersion: nslab/v1alpha1',
    'kind: Lab',
    'metadata: {name: knobs}',
    'spec:',
    '  networks:',
    '  - {name: lan, cidr: 192.168.10.0/24}',
    '  nodes:',
    '  - {name: master, nics: [{network: lan, address: 192.168.10.210}]}',
    `  - {name: worker, ${workerExtra}nics: [{network: lan, address: 192.168.10.220}]}`,
    '',
  ].join('\n');
}

describe('the pitfall labs node knobs', () => {
  it('reads hairpin and bridgeNfCallIptables, and leaves them unset when absent', () => {
    const { lab } = parseLabText(labText('hairpin: false, bridgeNfCallIptables: false, '), '/labs/k.yaml');
    expect(lab?.nodes.map((n) => [n.name, n.hairpin, n.bridgeNfCallIptables])).toEqual([
      ['master', undefined, undefined],
      ['worker', false, false],
    ]);
  });

  it('refuses a knob that is not true or false', () => {
    const { lab, problems } = parseLabText(labText('hairpin: maybe, '), '/labs/k.yaml');
    expect(lab).toBeUndefined();
    expect(problems.map((p) => p.field)).toContain('spec.nodes[1].hairpin');
  });

  it('defaults the pod network to vxlan, as kube-flannel.yml does', () => {
    expect(parseLabText(labText(''), '/labs/k.yaml').lab?.cluster.podNetwork).toBe('vxlan');
  });
});
