// Every lab in labs/ comes up, passes its own checks and goes down clean.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, sandbox, type Sandbox } from '../helpers/cli.js';
import { labNetns } from '../helpers/root-snapshot.js';
import { isIpvsLab, kernelHasIpvs } from '../helpers/ipvs-kernel.js';

const LABS = readdirSync(path.join(ROOT, 'labs')).filter((f) => f.endsWith('.yaml')).sort();
const ipvsKernel = await kernelHasIpvs();
const SHARED = path.resolve(ROOT, '..', 'shared', 'reference', 'manifests');

describe('labs/', () => {
  let sb: Sandbox;
  beforeAll(() => {
    sb = sandbox();
  });
  afterAll(() => sb.cleanup());

  it("carries the course's manifests unchanged", () => {
    for (const f of ['ngx-conf.yml', 'ngx-dep.yml', 'ngx-svc.yml']) {
      expect(readFileSync(path.join(ROOT, 'labs', 'course', f), 'utf8')).toBe(readFileSync(path.join(SHARED, f), 'utf8'));
    }
  });

  for (const file of LABS) {
    // ipvs labs need a kernel with IP_VS: elsewhere they run in scripts/vm.sh (npm run test:vm).
    const skip = isIpvsLab(readFileSync(path.join(ROOT, 'labs', file), 'utf8')) && !ipvsKernel;
    it.skipIf(skip)(`${file}: up, check, down`, async () => {
      const lab = path.join(ROOT, 'labs', file);
      const name = /metadata: \{name: ([a-z0-9-]+)\}/.exec(readFileSync(lab, 'utf8'))?.[1] ?? '';
      try {
        const up = await sb.nslab(['up', lab]);
        expect(up.exitCode, up.stdout + up.stderr).toBe(0);
        const check = await sb.nslab(['check', lab]);
        expect(check.exitCode, check.stdout + check.stderr).toBe(0);
        expect(check.stdout).toMatch(/ \d+ passed, 0 failed/);
      } finally {
        await sb.nslab(['down', name]);
      }
      expect(await labNetns(`nslab-${name}.`)).toEqual([]);
    });
  }
});
