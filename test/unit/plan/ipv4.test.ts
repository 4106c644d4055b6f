import { describe, expect, it } from 'vitest';
import { containsAddress as cidrContains, cidrToString, networkOf as parseCidr, nthAddress, nthSubnet } from '../../../src/labfile/ipv4.js';

describe('ipv4', () => {
  it('splits a pod CIDR into node CIDRs as the node IPAM controller does', () => {
    const pods = parseCidr('10.10.0.0/16');
    expect(cidrToString(nthSubnet(pods, 24, 0))).toBe('10.10.0.0/24');
    expect(cidrToString(nthSubnet(pods, 24, 1))).toBe('10.10.1.0/24');
    expect(cidrToString(nthSubnet(pods, 24, 255))).toBe('10.10.255.0/24');
    expect(() => nthSubnet(pods, 24, 256)).toThrow(RangeError);
  });

  it('picks addresses and tests membership', () => {
    const svc = parseCidr('10.96.0.0/12');
    expect(nthAddress(svc, 1)).toBe('10.96.0.1');
    expect(nthAddress(svc, 10)).toBe('10.96.0.10');
    expect(cidrContains(svc, '10.111.255.254')).toBe(true);
    expect(cidrContains(svc, '10.112.0.1')).toBe(false);
  });

  it('normalises host bits away', () => {
    expect(cidrToString(parseCidr('192.168.10.5/24'))).toBe('192.168.10.0/24');
  });
});
