// A lab file that names a proxy mode nslab cannot build must not come up
// without Service rules: `up` refuses it (UsageError: exit 2). For ipvs the
// kernel is probed first (ipvs-kernel.test.ts).
import { describe, expect, it } from 'vitest';
import { unavailableProxyMode } from '../../../src/proxy/modes.js';

describe('proxy modes', () => {
  it('iptables, nftables and ipvs can be built (ipvs where the kernel has IP_VS)', () => {
    expect(unavailableProxyMode('iptables')).toBeUndefined();
    expect(unavailableProxyMode('nftables')).toBeUndefined();
    expect(unavailableProxyMode('ipvs')).toBeUndefined();
  });
});
