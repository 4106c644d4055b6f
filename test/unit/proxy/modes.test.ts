// A lab file that names a proxy mode nslab cannot build must not come up
// without Service rules: `up` refuses it (UsageError: exit 2) before it runs
// a single command.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLabFile } from '../../../src/labfile/parse-lab.js';
import { upLab } from '../../../src/lab/up.js';
import { unavailableProxyMode } from '../../../src/proxy/modes.js';
import type { CommandRunner, RunResult } from '../../../src/sys/runner.js';

class RecordingRunner implements CommandRunner {
  readonly calls: string[][] = [];
  async run(argv: readonly string[]): Promise<RunResult> {
    this.calls.push([...argv]);
    return { argv: [...argv], exitCode: 0, stdout: '', stderr: '' };
  }
}

describe('proxy modes', () => {
  it('iptables and nftables can be built; ipvs is refused with a clear message', () => {
    expect(unavailableProxyMode('iptables')).toBeUndefined();
    expect(unavailableProxyMode('nftables')).toBeUndefined();
    expect(unavailableProxyMode('ipvs')).toBe('spec.cluster.proxyMode "ipvs" is not available yet; use "iptables" or "nftables"');
  });

  it('nslab up refuses proxyMode ipvs with a UsageError before running any command', async () => {
    const spec = await loadLabFile(path.resolve(import.meta.dirname, '../../../labs/course-service.yaml'));
    const runner = new RecordingRunner();
    const err = await upLab({ ...spec, cluster: { ...spec.cluster, proxyMode: 'ipvs' } }, { runner, kubeconfig: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('UsageError');
    expect((err as Error).message).toMatch(/proxyMode "ipvs" is not available yet/);
    expect(runner.calls).toEqual([]);
  });
});
