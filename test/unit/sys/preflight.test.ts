import { describe, expect, it } from 'vitest';
import { findOnPath, missingTools } from '../../../src/sys/preflight.js';

describe('preflight', () => {
  it('finds tools in the sbin folders even when PATH lacks them, as under plain sudo', () => {
    expect(findOnPath('ip', '/nonexistent')).toMatch(/\/s?bin\/ip$/);
  });

  it('names the package of every missing tool', () => {
    expect(missingTools({ ip: 'iproute2', 'nslab-no-such-tool': 'nslab-no-such-package' })).toEqual([
      { tool: 'nslab-no-such-tool', pkg: 'nslab-no-such-package' },
    ]);
  });
});

describe('capabilities', () => {
  it('accept a privileged process', async () => {
    const { requireNamespaceCapabilities } = await import('../../../src/sys/preflight.js');
    expect(() => requireNamespaceCapabilities('CapEff:\t000001ffffffffff\n')).not.toThrow();
  });

  it('explain what an unprivileged container lacks', async () => {
    const { requireNamespaceCapabilities } = await import('../../../src/sys/preflight.js');
    // Docker's default set: no CAP_NET_ADMIN, no CAP_SYS_ADMIN.
    expect(() => requireNamespaceCapabilities('CapEff:\t00000000a80425fb\n')).toThrow(
      /needs CAP_NET_ADMIN and CAP_SYS_ADMIN .*--privileged/,
    );
  });
});
