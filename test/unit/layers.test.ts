// The source folders are layers, and imports only point down (or sideways
// within a layer, without cycles): the lab file and its plan at the bottom,
// the one door to the kernel and to processes (sys), the API machinery, the
// components a cluster runs, the control plane that wires them, the lab's
// life cycle, and the command line on top. README "How it is built" names
// the same folders in the same order.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Bottom first. Folders in one layer may import each other, as long as no cycle forms. */
const LAYERS: readonly (readonly string[])[] = [
  ['.', 'types', 'labfile'], // version.ts and ambient types; the lab file
  ['plan'], // pure planning: names, addresses, topology
  ['sys'], // the only code that runs commands, starts processes, or touches kernel state
  ['api'], // the Kubernetes API: store, REST, watch, events
  ['services', 'workloads', 'proxy', 'dns', 'node', 'kubeconfig', 'client'], // what runs on and against a cluster
  ['controlplane'], // one lab's daemon: wires API, controllers, kubelets, proxies, DNS
  ['lab', 'checks', 'trace', 'graph', 'doctor'], // a lab's life: up, down, status; its checks; seeing its packets and its picture; diagnosing it
  ['cli'], // the nslab command
];

interface Import {
  file: string;
  line: number;
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function folderOf(file: string): string {
  const rel = path.relative(SRC, file);
  return rel.includes(path.sep) ? (rel.split(path.sep)[0] ?? '.') : '.';
}

// `import ... from '...'`, `export ... from '...'`, `import('...')`, `import '...'`; relative ones only.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;

/** Every relative import in src that crosses from one folder into another, with where it is. */
function crossFolderImports(): Import[] {
  const out: Import[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    text.split('\n').forEach((lineText, i) => {
      for (const m of lineText.matchAll(SPECIFIER)) {
        const target = path.resolve(path.dirname(file), m[1] ?? '');
        const from = folderOf(file);
        const to = folderOf(target);
        if (from !== to) out.push({ file: path.relative(path.dirname(SRC), file), line: i + 1, from, to });
      }
    });
  }
  return out;
}

function layerOf(folder: string): number {
  return LAYERS.findIndex((l) => l.includes(folder));
}

/** Folder cycles among edges (each cycle once, as a list of folders). */
function cycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (state.get(m) === 'open') found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...edges.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

describe('layers', () => {
  const imports = crossFolderImports();

  it('finds the imports it checks (the parser works)', () => {
    expect(imports.some((i) => i.from === 'cli' && i.to === 'lab')).toBe(true);
    expect(imports.some((i) => i.from === 'node' && i.to === 'sys')).toBe(true);
  });

  it('places every source folder in a layer', () => {
    const folders = [...new Set(sourceFiles(SRC).map(folderOf))].sort();
    expect(folders.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it('has no import pointing up a layer', () => {
    const upward = imports.filter((i) => layerOf(i.to) > layerOf(i.from)).map((i) => `${i.file}:${i.line}: ${i.from} (layer ${layerOf(i.from)}) imports ${i.to} (layer ${layerOf(i.to)})`);
    expect(upward).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const i of imports) edges.set(i.from, (edges.get(i.from) ?? new Set()).add(i.to));
    const where = (a: string, b: string) => imports.find((i) => i.from === a && i.to === b);
    const found = cycles(edges).map((c) => c.slice(1).map((to, k) => { const i = where(c[k] ?? '', to); return `${i?.file}:${i?.line}: ${i?.from} -> ${to}`; }).join('; '));
    expect(found).toEqual([]);
  });

  it('starts processes and runs commands only in src/sys', () => {
    const spawning = /from\s*'(node:child_process|child_process|execa|node-pty)'/;
    const outside = sourceFiles(SRC)
      .filter((f) => folderOf(f) !== 'sys')
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').flatMap((l, i) => (spawning.test(l) ? [`${path.relative(path.dirname(SRC), f)}:${i + 1}: ${l.trim()}`] : [])));
    expect(outside).toEqual([]);
  });

  it('README "How it is built" names every folder once, bottom layer first', () => {
    const readme = readFileSync(path.resolve(SRC, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## How it is built'));
    const listed = [...section.slice(0, section.indexOf('\n## ') > 0 ? section.indexOf('\n## ') : undefined).matchAll(/^- `([a-z]+)`:/gm)].map((m) => m[1] ?? '');
    const folders = [...new Set(sourceFiles(SRC).map(folderOf))].filter((f) => f !== '.');
    expect([...listed].sort()).toEqual(folders.sort());
    // Type declarations for untyped packages are listed last, outside the flow.
    const layers = listed.filter((f) => f !== 'types').map(layerOf);
    expect(layers).toEqual([...layers].sort((a, b) => a - b));
  });

  it('the cycle finder finds a cycle (so the check above can fail)', () => {
    const edges = new Map([['lab', new Set(['controlplane'])], ['controlplane', new Set(['lab'])]]);
    expect(cycles(edges)).toEqual([['controlplane', 'lab', 'controlplane']]);
  });
});
