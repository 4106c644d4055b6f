// Golden files: compare against test/golden/NAME. A missing golden file is a
// failure (a test that writes its own expectation cannot fail); run with
// UPDATE_GOLDEN=1 to write or rewrite them, then review the diff.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

export const GOLDEN_DIR = path.resolve(import.meta.dirname, '..', 'golden');

export function expectGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, name);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
  } else if (!existsSync(file)) {
    throw new Error(`golden file test/golden/${name} is missing: run the test with UPDATE_GOLDEN=1 to write it, and review it`);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
