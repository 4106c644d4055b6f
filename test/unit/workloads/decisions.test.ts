import { describe, expect, it } from 'vitest';
import { fnv32a, podsToDelete, podTemplateHash, safeEncode, schedule, type NodeFacts } from '../../../src/workloads/decisions.js';

const node = (name: string, extra: Partial<NodeFacts> = {}): NodeFacts => ({ name, ready: true, unschedulable: false, labels: {}, taints: [], ...extra });

describe('pod-template-hash', () => {
  it('is FNV-32a printed in decimal and safe-encoded, like ComputeHash', () => {
    expect(fnv32a('')).toBe(0x811c9dc5);
    expect(fnv32a('a')).toBe(0xe40c292c);
    expect(safeEncode('0123456789')).toBe('bcdfghjklm'.split('').map((_, i) => 'bcdfghjklmnpqrstvwxz2456789'[(48 + i) % 27]).join(''));
    const h = podTemplateHash({ spec: { containers: [{ name: 'nginx', image: 'nginx:alpine' }] } });
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(podTemplateHash({ spec: { containers: [{ image: 'nginx:alpine', name: 'nginx' }] } })).toBe(h);
    expect(podTemplateHash({ spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } })).not.toBe(h);
  });
});

describe('ReplicaSet scale-down ranking', () => {
  it('deletes unscheduled, then not-ready, then the newest pods first', () => {
    const pods = [
      { name: 'old-ready', nodeName: 'a', ready: true, creationTimestamp: '2026-01-01T00:00:00Z' },
      { name: 'new-ready', nodeName: 'b', ready: true, creationTimestamp: '2026-01-02T00:00:00Z' },
      { name: 'not-ready', nodeName: 'a', ready: false, creationTimestamp: '2026-01-01T00:00:00Z' },
      { name: 'pending', ready: false, creationTimestamp: '2026-01-01T00:00:00Z' },
    ];
    expect(podsToDelete(pods, 3)).toEqual(['pending', 'not-ready', 'new-ready']);
  });
});

describe('scheduler', () => {
  it('spreads over the least loaded ready nodes', () => {
    expect(schedule({}, [node('master'), node('worker')], new Map([['master', 1]])).node).toBe('worker');
    expect(schedule({}, [node('master'), node('worker', { ready: false })], new Map([['master', 5]])).node).toBe('master');
  });
  it('honours nodeSelector, cordons and taints, and says why nothing fits', () => {
    const nodes = [node('master', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }), node('worker', { unschedulable: true })];
    const r = schedule({}, nodes, new Map());
    expect(r.node).toBeUndefined();
    expect(r.message).toBe(
      '0/2 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
    expect(schedule({ tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }] }, nodes, new Map()).node).toBe('master');
    expect(schedule({ nodeSelector: { disk: 'ssd' } }, [node('a'), node('b', { labels: { disk: 'ssd' } })], new Map()).node).toBe('b');
  });
});
