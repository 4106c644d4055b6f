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
