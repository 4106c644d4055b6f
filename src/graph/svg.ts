// SVG through Graphviz's dot, when it is installed.
import type { CommandRunner } from '../sys/runner.js';
import { UsageError } from '../labfile/errors.js';

export async function dotToSvg(dot: string, runner: CommandRunner): Promise<string> {
  const r = await runner.run(['dot', '-Tsvg'], { input: dot, allowFailure: true, timeoutMs: 30_000 });
  if (r.exitCode !== 0) {
    const missing = /ENOENT|not found/i.test(r.stderr);
    throw new UsageError(
      missing ? 'SVG needs Graphviz\'s "dot" (apt-get install graphviz); -f mermaid or -f dot work without it' : `dot failed: ${r.stderr.trim()}`,
    );
  }
  return r.stdout;
}
