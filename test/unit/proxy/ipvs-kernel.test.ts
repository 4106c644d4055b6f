// proxyMode ipvs on a kernel without IP_VS or the dummy link type (this
// project's own machines): `up` stops before creating anything, with exit 2
// (UsageError), saying what the kernel lacks and that iptables and nftables
// modes work here. The probe itself never touches the root netns.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLabFile } from '../../../src/labfile/parse-lab.js';
import { upLab } from '../../../src/lab/up.js';
import { ipvsKernelProblem } from '../../../src/proxy/modes.js';
import { probeIpvsKernel } from '../../../src/sys/kernel-features.js';
import { RecordingRunner } from '../../../src/sys/runner.js';

const LAB = path.resolve(import.meta.dirname, '../../../labs/course-service.yaml');

describe('ipvs kernel decision', () => {
  it('a kernel with IP_VS and dummy has no problem', () => {
    expect(ipvsKernelProblem({ release: '6.1.0-56-amd64', ipVs: true, dummy: true })).toBeUndefined();
  });

  it('names each missing feature, the kernel, and the modes that work', () => {
    const both = ipvsKernelProblem({ release: '6.18.44-fc', ipVs: false, dummy: false });
    expect(both).toContain('this kernel (6.18.44-fc) lacks IP_VS ("modprobe ip_vs" fails) and the dummy link type');
    expect(both).toContain('The iptables and nftables modes work on this kernel');
    expect(both).toContain('nothing was created');
    const onlyDummy = ipvsKernelProblem({ release: 'k', ipVs: true, dummy: false });
    expect(onlyDummy).toContain('lacks the dummy link type');
    expect(onlyDummy).not.toContain('modprobe ip_vs');
    expect(ipvsKernelProblem({ release: 'k', ipVs: false, dummy: true })).toMatch(/lacks IP_VS \("modprobe ip_vs" fails\);/);
  });
});

describe('probeIpvsKernel', () => {
  it('tries modprobe ip_vs and a dummy link in a throwaway netns only', async () => {
    const runner = new RecordingRunner((argv) => (argv[0] === 'modprobe' ? { exitCode: 1 } : { exitCode: 2 }));
    const k = await probeIpvsKernel(runner, () => false);
    expect(k).toMatchObject({ ipVs: false, dummy: false });
    expect(runner.calls.map((c) => c.argv)).toEqual([
      ['modprobe', 'ip_vs'],
      ['unshare', '--net', '--', 'ip', 'link', 'add', 'nslab-probe0', 'type', 'dummy'],
    ]);
  });

  it('skips modprobe when ip_vs is already loaded', async () => {
    const runner = new RecordingRunner();
    expect(await probeIpvsKernel(runner, () => true)).toMatchObject({ ipVs: true, dummy: true });
    expect(runner.calls.map((c) => c.argv[0])).toEqual(['unshare']);
  });
});

describe('nslab up of an ipvs lab on a kernel without IP_VS', () => {
  it.skipIf(process.getuid?.() !== 0)('is a UsageError (exit 2) after only the probe commands', async () => {
    const spec = await loadLabFile(LAB);
    // modprobe fails and the dummy link type is unknown, as on this project's machines.
    const runner = new RecordingRunner((argv) => (argv[0] === 'modprobe' ? { exitCode: 1 } : argv[0] === 'unshare' ? { exitCode: 2 } : {}));
    const err = await upLab({ ...spec, cluster: { ...spec.cluster, proxyMode: 'ipvs' } }, { runner, kubeconfig: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('UsageError');
    expect((err as Error).message).toMatch(/lacks IP_VS .* and the dummy link type .*; nothing was created\. The iptables and nftables modes work/);
    expect(runner.calls.map((c) => c.argv[0])).toEqual(['modprobe', 'unshare']);
  });
});
