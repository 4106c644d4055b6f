// Where nslab itself is installed (its package root, lab files, the built daemon), whether it runs from dist/ or from src/ under the test runner.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'labs'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the nslab installation (no package.json with labs/ above this file)');
    dir = parent;
  }
}

export function defaultLabFile(): string {
  return path.join(projectRoot(), 'labs', 'default.yaml');
}

export function daemonScript(): string {
  const script = path.join(projectRoot(), 'dist', 'src', 'controlplane', 'daemon.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: build nslab first with "npm run build"`);
  return script;
}
