import { describe, expect, it } from 'vitest';
import { HostLocalIpam } from '../../../src/node/ipam.js';

describe('host-local IPAM', () => {
  it('skips network and gateway, and does not hand a freed address out again at once', () => {
    const ipam = new HostLocalIpam('10.10.1.0/24');
    expect(ipam.gateway()).toBe('10.10.1.1');
    expect(ipam.allocate('a')).toBe('10.10.1.2');
    expect(ipam.allocate('b')).toBe('10.10.1.3');
    ipam.release('a');
    expect(ipam.allocate('c')).toBe('10.10.1.4');
    expect(ipam.allocate('b')).toBe('10.10.1.3');
  });

  it('wraps around before the broadcast address and runs out cleanly', () => {
    const ipam = new HostLocalIpam('10.10.1.0/29'); // .2 .. .6 usable
    const got = ['a', 'b', 'c', 'd', 'e'].map((o) => ipam.allocate(o));
    expect(got).toEqual(['10.10.1.2', '10.10.1.3', '10.10.1.4', '10.10.1.5', '10.10.1.6']);
    expect(() => ipam.allocate('f')).toThrow(/no free address/);
    ipam.release('b');
    expect(ipam.allocate('f')).toBe('10.10.1.3');
  });
});
