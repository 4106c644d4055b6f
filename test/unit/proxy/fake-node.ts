// A node netns for unit tests: answers the commands IptablesProxier runs
// (through nsenter) from the restore inputs it has accepted so far.
import type { CommandRunner, RunOptions, RunResult } from '../../../src/sys/runner.js';
import { CommandError } from '../../../src/sys/runner.js';
import { expectedSave } from '../../../src/proxy/save-form.js';

export class FakeNode implements CommandRunner {
  readonly calls: Array<{ argv: string[]; input?: string }> = [];
  readonly applied: string[] = [];
  /** Restores to reject, counted from now (1 = the next one). */
  failNextRestores = 0;
  nfacctObjects = new Set<string>();
  nfacctWorks = true;
  /** What `conntrack -L -p udp` prints. */
  conntrackFlows = '';
  sysctls = new Map<string, string>();

  get restores(): string[] {
    return this.calls.filter((c) => c.argv.includes('iptables-restore')).map((c) => c.input ?? '');
  }

  save(table?: string): string {
    const tables = table === undefined ? ['filter', 'nat', 'mangle'] : [table];
    return tables.map((t) => expectedSave(this.applied, t)).join('');
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], ...(opts.input !== undefined ? { input: opts.input } : {}) });
    const i = argv.indexOf('--');
    const cmd = i >= 0 ? argv.slice(i + 1) : [...argv];
    let result: RunResult = { argv: [...argv], exitCode: 0, stdout: '', stderr: '' };
    switch (cmd[0]) {
      case 'iptables-restore':
        if (this.failNextRestores > 0) {
          this.failNextRestores--;
          result = { ...result, exitCode: 4, stderr: 'iptables-restore: line 42 failed\n' };
        } else {
          this.applied.push(opts.input ?? '');
        }
        break;
      case 'iptables-save':
        result.stdout = this.save(cmd[1] === '-t' ? cmd[2] : undefined);
        break;
      case 'nfacct': {
        const name = cmd[2] ?? '';
        if (!this.nfacctWorks) result = { ...result, exitCode: 1, stderr: 'nfacct: Operation not supported\n' };
        else if (cmd[1] === 'add' && this.nfacctObjects.has(name)) result = { ...result, exitCode: 1, stderr: 'Device or resource busy\n' };
        else if (cmd[1] === 'add') this.nfacctObjects.add(name);
        else if (cmd[1] === 'get' && !this.nfacctObjects.has(name)) result = { ...result, exitCode: 1 };
        break;
      }
      case 'conntrack':
        if (cmd[1] === '-L') result.stdout = this.conntrackFlows;
        break;
      case 'sysctl':
        for (const kv of cmd.slice(1).filter((a) => a.includes('='))) {
          const [k = '', v = ''] = kv.split('=');
          this.sysctls.set(k, v);
        }
        break;
      default:
        result = { ...result, exitCode: 127, stderr: `unexpected command ${cmd.join(' ')}\n` };
    }
    if (result.exitCode !== 0 && !opts.allowFailure) throw new CommandError(result);
    return result;
  }
}

/** The part of a proxier payload that is kube-proxy's syncProxyRules output (filter + nat). */
export function kubeProxyPart(payload: string): string {
  const blocks = payload.split('COMMIT\n');
  return `${blocks[0]}COMMIT\n${blocks[1]}COMMIT\n`;
}
