// The library behind `nslab check` and `nslab kubeconfig` (the CLI only
// prints): which lab they act on, and the UsageError (exit 2) when the lab
// is not up.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkLabFile } from '../../../src/checks/check-lab-file.js';
import { labKubeconfig } from '../../../src/lab/lab-kubeconfig.js';
import { UsageError } from '../../../src/labfile/errors.js';
import { RecordingRunner } from '../../../src/sys/runner.js';

const LAB = `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: cl-test}
spec:
  networks:
  - {name: lan, cidr: 192.168.10.0/24}
  nodes:
  - {name: master, nics: [{network: lan, address: 192.168.10.210}]}
`;

describe('check and kubeconfig as library functions', () => {
  let dir: string;
  let saved: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'nslab-check-'));
    saved = process.env['NSLAB_STATE_DIR'];
    process.env['NSLAB_STATE_DIR'] = path.join(dir, 'state');
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env['NSLAB_STATE_DIR'];
    else process.env['NSLAB_STATE_DIR'] = saved;
    await rm(dir, { recursive: true, force: true });
  });

  it('check of a lab that is not up is a UsageError naming the file as given, and runs nothing', async () => {
    const file = path.join(dir, 'lab.yaml');
    await writeFile(file, LAB);
    const runner = new RecordingRunner();
    const e = await checkLabFile(file, 'lab.yaml', { runner }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toBe('lab "cl-test" is not up: start it with "sudo nslab up lab.yaml"');
    expect(runner.calls).toEqual([]);
  });

  it('check of an up lab whose file has no checks says so and runs nothing', async () => {
    const file = path.join(dir, 'lab.yaml');
    await writeFile(file, LAB);
    await mkdir(path.join(dir, 'state', 'cl-test'), { recursive: true });
    await writeFile(path.join(dir, 'state', 'cl-test', 'lab.json'), '{}');
    const runner = new RecordingRunner();
    const r = await checkLabFile(file, undefined, { runner });
    expect(r).toMatchObject({ lab: 'cl-test', file, hasChecks: false, outcomes: [] });
    expect(runner.calls).toEqual([]);
  });

  it("kubeconfig prints the lab's own file, or is a UsageError when there is none", async () => {
    await expect(labKubeconfig('cl-test')).rejects.toThrow(new UsageError('lab "cl-test" has no kubeconfig: is it up? ("sudo nslab up")'));
    await mkdir(path.join(dir, 'state', 'cl-test'), { recursive: true });
    await writeFile(path.join(dir, 'state', 'cl-test', 'kubeconfig'), 'apiVersion: v1\n');
    expect(await labKubeconfig('cl-test')).toBe('apiVersion: v1\n');
  });
});
