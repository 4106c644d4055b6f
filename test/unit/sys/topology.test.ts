import { describe, expect, it } from 'vitest';
import { planTopology } from '../../../src/plan/topology.js';
import { applyTopology, deleteNetns, listLabNetns, pidsInNetns } from '../../../src/sys/topology.js';
import { CommandError, RecordingRunner } from '../../../src/sys/runner.js';
import { courseLab } from '../../helpers/labs.js';

describe('applyTopology', () => {
  it('creates everything in one batch, configures each namespace in one batch, sets sysctls per namespace', async () => {
    const runner = new RecordingRunner();
    await applyTopology(planTopology(courseLab()), runner);
    const argvs = runner.calls.map((c) => c.argv.join(' '));
    expect(argvs[0]).toBe('ip -batch -');
    expect(runner.calls[0]?.input).toContain('netns add nslab-default.node-master\n');
    expect(argvs.filter((a) => a.startsWith('ip -n '))).toHaveLength(4);
    expect(argvs).toContain(
      'nsenter --net=/run/netns/nslab-default.node-worker -- sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1',
    );
    // flannel's --ip-masq rules, one iptables-restore per node.
    const masq = runner.calls.filter((c) => c.argv.includes('iptables-restore'));
    expect(masq.map((c) => c.argv.slice(0, 3).join(' '))).toEqual(['nsenter --net=/run/netns/nslab-default.node-master --', 'nsenter --net=/run/netns/nslab-default.node-worker --']);
    expect(masq[1]?.input).toContain('-A FLANNEL-POSTRTG -s 10.10.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully');
    // 1 create + 4 configure + 4 sysctl + 2 masq processes: no process per address.
    expect(runner.calls).toHaveLength(11);
  });

  it('stops at the first failing batch with the command and its error', async () => {
    const runner = new RecordingRunner((argv) => (argv[1] === '-batch' ? { exitCode: 1, stderr: 'RTNETLINK answers: File exists\n' } : {}));
    await expect(applyTopology(planTopology(courseLab()), runner)).rejects.toThrow(CommandError);
    await expect(applyTopology(planTopology(courseLab()), runner)).rejects.toThrow(/File exists/);
  });
});

describe('finding and removing a lab', () => {
  it("lists only the lab's namespaces, not another lab's with a longer name", async () => {
    const runner = new RecordingRunner(() => ({
      stdout: 'nslab-a.node-x (id: 1)\nnslab-a-b.node-x (id: 2)\nother\nnslab-a.net-lan\n',
    }));
    expect(await listLabNetns(runner, 'a')).toEqual(['nslab-a.node-x', 'nslab-a.net-lan']);
    expect(await listLabNetns(runner)).toHaveLength(3);
  });

  it('collects pids from every namespace and deletes namespaces in one batch', async () => {
    const runner = new RecordingRunner((argv) => ({ stdout: argv[3] === 'ns1' ? '12\n13\n' : '' }));
    expect(await pidsInNetns(runner, ['ns1', 'ns2'])).toEqual([12, 13]);
    await deleteNetns(runner, ['ns1', 'ns2']);
    expect(runner.calls.at(-1)).toEqual({ argv: ['ip', '-force', '-batch', '-'], input: 'netns del ns1\nnetns del ns2\n' });
  });
});
