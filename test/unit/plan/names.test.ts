import { describe, expect, it } from 'vitest';
import { deriveIfname, hostNetns, IFNAME_MAX, labOfNetns, networkNetns, nodeNetns, podHostVeth } from '../../../src/plan/names.js';

describe('namespace names', () => {
  it('carry the lab name so two labs never clash', () => {
    expect(nodeNetns('default', 'worker')).toBe('nslab-default.node-worker');
    expect(nodeNetns('other', 'worker')).not.toBe(nodeNetns('default', 'worker'));
    expect(hostNetns('default', 'console')).toBe('nslab-default.host-console');
    expect(networkNetns('vbox', 'nat', 'master')).toBe('nslab-vbox.net-nat.master');
  });

  it('give back their lab, even when a lab name looks like a prefix of another', () => {
    expect(labOfNetns(nodeNetns('a', 'node-x'))).toBe('a');
    expect(labOfNetns(nodeNetns('a-node', 'x'))).toBe('a-node');
    expect(labOfNetns('docker-netns')).toBeUndefined();
  });
});

describe('interface names', () => {
  it('keep names that fit', () => {
    expect(deriveIfname('master-eth0', new Set())).toBe('master-eth0');
  });

  it('shorten long names to 15 bytes without collisions', () => {
    const a = deriveIfname('a-very-long-machine-name-1-eth0', new Set());
    const b = deriveIfname('a-very-long-machine-name-2-eth0', new Set([a]));
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(IFNAME_MAX);
    expect(Buffer.byteLength(b)).toBeLessThanOrEqual(IFNAME_MAX);
    expect(a).not.toBe(b);
    expect(a.startsWith('a-very-lon')).toBe(true);
  });

  it('grow the hash when a derived name is taken', () => {
    const first = deriveIfname('some-really-long-name', new Set());
    const second = deriveIfname('some-really-long-name', new Set([first]));
    expect(second).not.toBe(first);
    expect(Buffer.byteLength(second)).toBeLessThanOrEqual(IFNAME_MAX);
  });

  it('name pod veths like the CNI bridge plugin does', () => {
    expect(podHostVeth('uid-1')).toMatch(/^veth[0-9a-f]{8}$/);
  });
});
