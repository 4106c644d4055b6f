// The ipvs-mode tests that need a kernel with IP_VS: run inside the
// scripts/vm.sh guest by `npm run test:vm`, never by `npm test` on the host
// (test/vm is outside the unit and integration projects' includes).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'vm',
    include: ['test/vm/**/*.test.ts'],
    fileParallelism: false,
    // Everything runs about 15 times slower under software emulation.
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
