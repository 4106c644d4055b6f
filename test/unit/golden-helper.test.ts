// The golden helper itself: a missing golden file fails the test (it used to
// be written, and the test passed) unless UPDATE_GOLDEN=1 asks for it.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectGolden, GOLDEN_DIR } from '../helpers/golden.js';

const NAME = `missing-${process.pid}.txt`;
const FILE = path.join(GOLDEN_DIR, NAME);

describe('expectGolden', () => {
  const saved = process.env['UPDATE_GOLDEN'];
  afterEach(() => {
    if (saved === undefined) delete process.env['UPDATE_GOLDEN'];
    else process.env['UPDATE_GOLDEN'] = saved;
    rmSync(FILE, { force: true });
  });

  it('fails on a missing golden file and writes nothing', () => {
    delete process.env['UPDATE_GOLDEN'];
    expect(() => expectGolden(NAME, 'text\n')).toThrow(`golden file test/golden/${NAME} is missing: run the test with UPDATE_GOLDEN=1`);
    expect(existsSync(FILE)).toBe(false);
  });

  it('writes it with UPDATE_GOLDEN=1, and compares against it afterwards', () => {
    process.env['UPDATE_GOLDEN'] = '1';
    expectGolden(NAME, 'text\n');
    delete process.env['UPDATE_GOLDEN'];
    expectGolden(NAME, 'text\n');
    expect(() => expectGolden(NAME, 'other\n')).toThrow();
  });
});
