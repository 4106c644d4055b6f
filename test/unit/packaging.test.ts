// The ways nslab is delivered: the Vagrantfile and the Containerfile.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findOnPath } from '../../src/sys/preflight.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('packaging', () => {
  // .ci/run installs vagrant, so CI always runs this; elsewhere it needs vagrant installed.
  it.skipIf(!findOnPath('vagrant'))('the Vagrantfile passes vagrant validate', async () => {
    const r = await execa('vagrant', ['validate'], { cwd: ROOT, reject: false, timeout: 60_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Vagrantfile validated successfully');
  });

  it('the Containerfile installs what nslab runs and builds it', () => {
    const text = readFileSync(path.join(ROOT, 'Containerfile'), 'utf8');
    for (const pkg of ['nodejs', 'iproute2', 'iptables', 'nftables', 'ipvsadm', 'nginx-light', 'kubernetes-client']) {
      expect(text).toContain(pkg);
    }
    expect(text).toMatch(/npm ci/);
    expect(text).toMatch(/npm run build/);
  });
});
