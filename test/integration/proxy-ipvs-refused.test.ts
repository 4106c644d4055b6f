// On a kernel without IP_VS or the dummy link type (this project's own
// machines), `nslab up labs/course-ipvs.yaml` stops before creating anything:
// exit 2, a message naming what the kernel lacks and the modes that work, no
// netns, no lab in `nslab list`, the root netns unchanged. Where the kernel
// has both (the scripts/vm.sh guest) this file is skipped: test/vm/ covers it.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ROOT, rows, sandbox } from '../helpers/cli.js';
import { kernelHasIpvs } from '../helpers/ipvs-kernel.js';
import { labNetns, rootNetnsSnapshot } from '../helpers/root-snapshot.js';

const LAB_FILE = path.join(ROOT, 'labs', 'course-ipvs.yaml');
const LAB = 'course-ipvs';
const capable = await kernelHasIpvs();

describe('proxyMode ipvs on a kernel without IP_VS', () => {
  it.skipIf(capable)('nslab up exits 2 before creating anything, naming what the kernel lacks', async () => {
    const before = await rootNetnsSnapshot();
    const sb = sandbox();
    try {
      const up = await sb.nslab(['up', LAB_FILE]);
      expect(up.exitCode, up.stdout + up.stderr).toBe(2);
      expect(up.stderr).toMatch(/^nslab: spec\.cluster\.proxyMode "ipvs" needs IP_VS and the dummy link type, and this kernel \(\S+\) lacks IP_VS/);
      expect(up.stderr).toContain('The iptables and nftables modes work on this kernel');
      expect(await labNetns(`nslab-${LAB}.`)).toEqual([]);
      expect(rows((await sb.nslab(['list'])).stdout).filter((r) => r[0] === LAB)).toEqual([]);
      expect(await rootNetnsSnapshot()).toEqual(before);
    } finally {
      await sb.nslab(['down', LAB]);
      sb.cleanup();
    }
  });
});
