// A node netns for unit tests of the nftables backend: records `nft -f -`
// transactions and keeps track of the chains and sets of `table ip kube-proxy`
// they leave, so `nft -j list chains|sets ip` answers like the kernel would.
import type { CommandRunner, RunOptions, RunResult } from '../../../src/sys/runner.js';
import { CommandError } from '../../../src/sys/runner.js';
import { applyScript, emptyState, type ModelState } from './nft-model.js';

export class FakeNftNode implements CommandRunner {
  readonly calls: Array<{ argv: string[]; input?: string }> = [];
  readonly chains = new Set<string>();
  readonly sets = new Set<string>();
  failNext = 0;
  /** The table as the kernel would hold it (see nft-model.ts). */
  model: ModelState = emptyState();

  get scripts(): string[] {
    return this.calls.filter((c) => c.argv.includes('-f')).map((c) => c.input ?? '');
  }

  private apply(script: string): void {
    for (const line of script.split('\n')) {
      const m = /^(add|delete) (chain|set|map) ip kube-proxy (\S+)/.exec(line);
      if (m) {
        const target = m[2] === 'chain' ? this.chains : this.sets;
        if (m[1] === 'add') target.add(m[3] as string);
        else target.delete(m[3] as string);
      }
    }
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], ...(opts.input !== undefined ? { input: opts.input } : {}) });
    const i = argv.indexOf('--');
    const cmd = i >= 0 ? argv.slice(i + 1) : [...argv];
    let result: RunResult = { argv: [...argv], exitCode: 0, stdout: '', stderr: '' };
    if (cmd[0] === 'nft' && cmd[1] === '-f') {
      if (this.failNext > 0) {
        this.failNext--;
        result = { ...result, exitCode: 1, stderr: 'Error: Could not process rule: No such file or directory\n' };
      } else {
        try {
          this.model = applyScript(this.model, opts.input ?? '');
          this.apply(opts.input ?? '');
        } catch (err) {
          result = { ...result, exitCode: 1, stderr: `Error: ${err instanceof Error ? err.message : String(err)}\n` };
        }
      }
    } else if (cmd[0] === 'nft' && cmd[1] === '-j' && cmd[2] === 'list') {
      const kind = cmd[3] === 'chains' ? 'chain' : 'set';
      const names = kind === 'chain' ? this.chains : this.sets;
      result.stdout = JSON.stringify({ nftables: [{ metainfo: {} }, ...[...names].map((name) => ({ [kind]: { family: 'ip', table: 'kube-proxy', name } }))] });
    } else if (cmd[0] === 'conntrack') {
      result.stdout = '';
    } else {
      result = { ...result, exitCode: 127, stderr: `unexpected command ${cmd.join(' ')}\n` };
    }
    if (result.exitCode !== 0 && !opts.allowFailure) throw new CommandError(result);
    return result;
  }
}
