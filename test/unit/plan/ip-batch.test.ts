import { describe, expect, it } from 'vitest';
import { batchTokenProblem, renderIpBatches } from '../../../src/plan/ip-batch.js';
import { planTopology, type TopologyPlan } from '../../../src/plan/topology.js';
import { courseLab, lab, nic, node } from '../../helpers/labs.js';

function allLines(plan: TopologyPlan): string[] {
  const b = renderIpBatches(plan);
  return [...b.create, ...b.configure.flatMap((c) => c.lines)];
}

describe('ip -batch words', () => {
  it('refuses whitespace, #, backslash, quotes, control characters and empty words', () => {
    for (const token of ['eth0', 'nslab-default.node-master', '192.168.10.1/24', 'flannel.1', 'a_b']) {
      expect(batchTokenProblem(token), token).toBeUndefined();
    }
    for (const token of ['', 'a b', 'a\tb', 'a\nb', 'eth#1', 'eth\\', "a'b", 'a"b', 'a\u0000b', 'a\u007fb', 'a\u0085b']) {
      expect(batchTokenProblem(token), JSON.stringify(token)).toBeDefined();
    }
  });

  // Defence in depth for hole 6: if a hostile name slipped past lab-file
  // validation, the old renderer wrote "link add eth#1 ..." (ip reads "#1 ..."
  // as a comment); now rendering fails instead of running another command.
  it('throws instead of rendering a line with a hostile name', () => {
    for (const name of ['eth#1', 'eth\\', 'eth 1', 'eth"1', 'eth\u00001', '']) {
      const plan = planTopology(
        lab('t', {
          networks: [{ name: 'lan', cidr: '192.168.10.0/24', gateway: '192.168.10.1', perMachine: false }],
          nodes: [node('m', [nic('lan', '192.168.10.2', { name })])],
        }),
      );
      expect(() => renderIpBatches(plan), JSON.stringify(name)).toThrow(/internal error: ip -batch word/);
    }
  });

  // `link add up type veth peer name p` makes ip create "veth0" (it reads "up"
  // as the keyword), and `link set up up` fails; the kernel takes "up" as a name.
  it('puts every device name after an explicit name or dev keyword, so a NIC called "up" or "help" stays a name', () => {
    const plan = planTopology(
      lab('t', {
        networks: [{ name: 'lan', cidr: '192.168.10.0/24', gateway: '192.168.10.1', perMachine: false }],
        nodes: [node('m', [nic('lan', '192.168.10.2', { name: 'up' }), nic('lan', '192.168.10.3', { name: 'help' })])],
      }),
    );
    const lines = allLines(plan);
    expect(lines).toContain('link add name up netns nslab-t.node-m type veth peer name m-up netns nslab-t.net-lan');
    expect(lines).toContain('link set dev up up');
    expect(lines).toContain('addr add 192.168.10.3/24 dev help');
    expect(lines).toContain('route add default via 192.168.10.1 dev up');
    expect(lines).toContain('link set dev help up');
    expect(lines).not.toContain('link set up up');
  });

  it('renders the course lab with only safe words', () => {
    for (const l of allLines(planTopology(courseLab()))) {
      for (const w of l.split(' ')) expect(batchTokenProblem(w), l).toBeUndefined();
    }
  });
});
