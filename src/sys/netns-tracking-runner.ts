// The command runner the lab's daemon hands its kubelets: it records every
// pod network namespace as soon as `ip netns add` made it (before the pause
// process or any container starts in it), and before `ip netns del` kills
// whatever still runs in it, so no process is left in a namespace that has
// lost its name (an nginx master killed at the end of its grace period
// leaves its workers behind; they would keep the pod's veth and IP alive).
import type { CommandRunner, RunOptions, RunResult } from './runner.js';
import { pidsInNetns } from './topology.js';
import { labOfNetns } from '../plan/names.js';
import { isAlive, killProcesses } from './processes.js';
import { forgetNetns, recordLabNetns } from './netns-record.js';

/** The namespace an `ip netns add NAME` / `ip netns del NAME` command works on. Pure. */
export function netnsCommand(argv: readonly string[]): { op: 'add' | 'del'; name: string } | undefined {
  if (argv.length !== 4 || argv[0] !== 'ip' || argv[1] !== 'netns') return undefined;
  const op = argv[2] === 'add' ? 'add' : argv[2] === 'del' || argv[2] === 'delete' ? 'del' : undefined;
  const name = argv[3];
  return op && name && labOfNetns(name) !== undefined ? { op, name } : undefined;
}

export class NetnsTrackingRunner implements CommandRunner {
  constructor(private readonly inner: CommandRunner) {}

  async run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    const cmd = netnsCommand(argv);
    let emptied = false;
    if (cmd?.op === 'del') {
      const pids = await pidsInNetns(this.inner, [cmd.name]);
      await killProcesses(pids);
      emptied = !pids.some(isAlive);
    }
    const result = await this.inner.run(argv, opts);
    if (cmd?.op === 'add' && result.exitCode === 0) await recordLabNetns(cmd.name);
    // Forget only a namespace that is really gone: its inode may be reused then.
    if (cmd?.op === 'del' && emptied) await forgetNetns(cmd.name);
    return result;
  }
}
