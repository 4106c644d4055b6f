import { describe, expect, it } from 'vitest';
import { IFNAME_MAX_BYTES as IFNAME_MAX } from '../../../src/labfile/names.js';
import {
  bytePrefix,
  deriveIfname,
  hostNetns,
  labOfNetns,
  NETNS_NAME_MAX,
  networkNetns,
  nodeNetns,
  podHostVeth,
  podNetns,
} from '../../../src/plan/names.js';

describe('namespace names', () => {
  it('carry the lab name so two labs never clash', () => {
    expect(nodeNetns('default', 'worker')).toBe('nslab-default.node-worker');
    expect(nodeNetns('other', 'worker')).not.toBe(nodeNetns('default', 'worker'));
    expect(hostNetns('default', 'console')).toBe('nslab-default.host-console');
    expect(networkNetns('vbox', 'nat', 'master')).toBe('nslab-vbox.net-nat.master');
  });

  it('fit a pod netns in NAME_MAX bytes even for a 253-character pod name, keeping the lab prefix', () => {
    expect(podNetns('default', 'default', 'ngx-dep-1')).toBe('nslab-default.pod-default.ngx-dep-1');
    const long = (c: string) => podNetns('l'.repeat(63), 'n'.repeat(63), c.repeat(253));
    expect(Buffer.byteLength(long('a'))).toBe(NETNS_NAME_MAX);
    expect(labOfNetns(long('a'))).toBe('l'.repeat(63));
    expect(long('a')).not.toBe(long('b'));
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

  // Hole 6: the old code cut long names by UTF-16 units, so multibyte text
  // came out longer than IFNAMSIZ allows (and unsafe for ip -batch).
  it('count bytes, not UTF-16 units, and keep only [A-Za-z0-9_.-]', () => {
    for (const wanted of ['é'.repeat(20), 'ééééééé-e', '網卡網卡網卡-eth0', 'a#b\\c"d e-eth0', '-'.repeat(20)]) {
      const name = deriveIfname(wanted, new Set());
      expect(Buffer.byteLength(name), wanted).toBeLessThanOrEqual(IFNAME_MAX);
      expect(name, wanted).toMatch(/^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/);
    }
    // Different long names that clean up to the same prefix still differ.
    expect(deriveIfname('é'.repeat(20), new Set())).not.toBe(deriveIfname('è'.repeat(20), new Set()));
    expect(bytePrefix('aé網b', 3)).toBe('aé');
    expect(bytePrefix('aé網b', 5)).toBe('aé');
    expect(bytePrefix('aé網b', 6)).toBe('aé網');
  });

  it('name pod veths like the CNI bridge plugin does', () => {
    expect(podHostVeth('uid-1')).toMatch(/^veth[0-9a-f]{8}$/);
  });
});
