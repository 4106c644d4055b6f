// The container runtime's exec paths through the recording launcher: what is
// started (in the sandbox's namespaces, in its own process group for hooks),
// and how exits and signals become exit codes.
import { describe, expect, it } from 'vitest';
import { containerEnv, ContainerRuntime } from '../../../src/node/runtime.js';
import { RecordingLauncher } from '../../../src/sys/launcher-fake.js';
import { RecordingRunner } from '../../../src/sys/runner.js';

const ENTER = ['nsenter', '-t', '42', '--net', '--uts', '--ipc', '--mount', '--'];

describe('container runtime', () => {
  it('gives a container the runtime variables, then its own, TERM only on a terminal', () => {
    expect(containerEnv('web', [{ name: 'A', value: '1' }, { name: 'B' }], false)).toEqual({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOSTNAME: 'web',
      HOME: '/root',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      A: '1',
    });
    expect(containerEnv('web', [], true)['TERM']).toBe('xterm');
  });

  it('execs in the sandbox with pipes, and reports exits the way kubectl exec does', async () => {
    const launcher = new RecordingLauncher();
    const rt = new ContainerRuntime(new RecordingRunner(), launcher);
    const s = rt.exec(42, ['hostname'], { HOSTNAME: 'web' }, { stdin: false, tty: false });
    const [p] = launcher.processes;
    expect(p?.argv).toEqual([...ENTER, 'hostname']);
    expect(p?.opts.stdio).toEqual(['ignore', 'pipe', 'pipe']);
    expect(s.stdin).toBeUndefined();
    p?.end(3);
    expect(await s.exited).toEqual({ exitCode: 3 });

    const killed = rt.exec(42, ['sleep', '9'], {}, { stdin: true, tty: false });
    expect(launcher.processes[1]?.opts.stdio?.[0]).toBe('pipe');
    killed.kill();
    expect(await killed.exited).toEqual({ exitCode: 137 });

    const missing = rt.exec(42, ['nope'], {}, { stdin: false, tty: false });
    launcher.processes[2]?.fail(new Error('ENOENT'));
    expect(await missing.exited).toEqual({ exitCode: 126 });
  });

  it('execs on a terminal through the launcher, passing input and output through', async () => {
    const launcher = new RecordingLauncher();
    const rt = new ContainerRuntime(new RecordingRunner(), launcher);
    const s = rt.exec(42, ['sh'], {}, { stdin: true, tty: true });
    const [t] = launcher.ptys;
    expect(t?.argv).toEqual([...ENTER, 'sh']);
    s.stdin?.write('ls\n');
    t?.emit('bin\n');
    expect(t?.written).toEqual(['ls\n']);
    expect(String(s.stdout.read())).toBe('bin\n');
    t?.end(0);
    expect(await s.exited).toEqual({ exitCode: 0 });
  });

  it('runs an exec hook in its own process group, killing the group when it exits or its time is up', async () => {
    const launcher = new RecordingLauncher();
    const rt = new ContainerRuntime(new RecordingRunner(), launcher);
    const done = rt.execHook(42, ['sh', '-c', 'sleep 1 &'], {}, new AbortController().signal);
    const [hook] = launcher.processes;
    expect(hook?.opts.detached).toBe(true);
    hook?.end(0);
    expect(await done).toBe(true);
    expect(hook?.groupSignals).toEqual(['SIGKILL']);

    const abort = new AbortController();
    const late = rt.execHook(42, ['sleep', '60'], {}, abort.signal);
    const slow = launcher.processes[1];
    abort.abort();
    expect(slow?.groupSignals).toEqual(['SIGKILL']);
    slow?.end(null, 'SIGKILL');
    expect(await late).toBe(false);
  });
});
