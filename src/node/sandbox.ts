// A pod sandbox on a node: its network namespace wired into the node's cni0
// (as the CNI bridge plugin does, hairpin on), and a pause process holding
// the pod's UTS, IPC and mount namespaces. Containers and exec sessions
// enter the pause process's namespaces.
import type { CommandRunner } from '../sys/runner.js';
import type { ProcessLauncher } from '../sys/launcher.js';
import { POD_BRIDGE } from '../plan/topology.js';

export interface SandboxSpec {
  nodeNetns: string;
  netns: string;
  hostVeth: string;
  hostname: string;
  ip: string;
  prefix: number;
  gateway: string;
  /** False: the pod's cni0 port without hairpin mode (a lab knob; the CNI bridge plugin turns it on). */
  hairpin?: boolean;
  /** Both ends' MTU when the pod network sets one (flannel's FLANNEL_MTU for vxlan, handed to the bridge plugin). */
  mtu?: number;
}

export interface Mount {
  /** A fresh tmpfs, or a bind of `source`. */
  kind: 'tmpfs' | 'bind';
  target: string;
  source?: string;
  options?: string;
  /**
   * A bind whose source or target the pod's own tmpfs mounts (/run, /tmp)
   * cover: bound at a staging folder first, then moved into place once they
   * are mounted. (A bind from /proc/PID/root of another mount namespace is
   * refused, so the source has to be reached before it is covered.)
   */
  staged?: boolean;
}

/** Where staged binds wait, on a tmpfs of the pod's own over a folder every Debian/Ubuntu system has. */
const STAGING = '/mnt';

/** The `ip -batch` lines that wire a pod into its node (run in the node's netns) and inside the pod. Pure. */
export function sandboxBatches(s: SandboxSpec): { node: string[]; pod: string[] } {
  return {
    node: [
      s.mtu === undefined
        ? `link add ${s.hostVeth} type veth peer name eth0 netns ${s.netns}`
        : `link add ${s.hostVeth} mtu ${s.mtu} type veth peer name eth0 mtu ${s.mtu} netns ${s.netns}`,
      `link set ${s.hostVeth} master ${POD_BRIDGE} up`,
      `link set dev ${s.hostVeth} type bridge_slave hairpin ${s.hairpin === false ? 'off' : 'on'}`,
    ],
    pod: ['link set lo up', `addr add ${s.ip}/${s.prefix} dev eth0`, 'link set eth0 up', `route add default via ${s.gateway} dev eth0`],
  };
}

/**
 * Every command that makes the pod's mounts, in order: binds (their sources
 * live under /run), the pod's tmpfs mounts over /run and /tmp, then staged
 * binds moved into place. Pure.
 */
export function mountCommands(pausePid: number, mounts: readonly Mount[]): string[][] {
  const enter = ['nsenter', '-t', String(pausePid), '--mount', '--'];
  const staged = mounts.filter((m) => m.kind === 'bind' && m.staged);
  const slot = (i: number) => `${STAGING}/${i}`;
  return [
    ...mounts.filter((m) => m.kind === 'bind' && !m.staged).map((m) => mountArgv(pausePid, m)),
    ...(staged.length > 0 ? [[...enter, 'mount', '-t', 'tmpfs', '-o', 'mode=700', 'nslab-staging', STAGING]] : []),
    ...staged.flatMap((m, i) => [
      [...enter, 'mkdir', slot(i)],
      [...enter, 'mount', '--bind', m.source ?? '', slot(i)],
    ]),
    ...mounts.filter((m) => m.kind === 'tmpfs').map((m) => mountArgv(pausePid, m)),
    ...staged.flatMap((m, i) => [
      [...enter, 'mkdir', '-p', m.target],
      [...enter, 'mount', '--move', slot(i), m.target],
    ]),
    ...(staged.length > 0 ? [[...enter, 'umount', STAGING]] : []),
  ];
}

export function mountArgv(pausePid: number, m: Mount): string[] {
  const base = ['nsenter', '-t', String(pausePid), '--mount', '--', 'mount'];
  return m.kind === 'tmpfs'
    ? [...base, '-t', 'tmpfs', '-o', m.options ?? 'mode=755', 'tmpfs', m.target]
    : [...base, '--bind', m.source ?? '', m.target];
}

/** argv that runs a command inside the pod's namespaces. */
export function enterArgv(pausePid: number, argv: string[]): string[] {
  return ['nsenter', '-t', String(pausePid), '--net', '--uts', '--ipc', '--mount', '--', ...argv];
}

async function startPause(netns: string, launcher: ProcessLauncher): Promise<number> {
  const child = launcher.spawn(
    ['nsenter', `--net=/run/netns/${netns}`, '--', 'unshare', '--uts', '--ipc', '--mount', '--propagation', 'private', '--', 'sleep', 'infinity'],
    { detached: true },
  );
  child.unref();
  const nsOf = (p: number | 'self', ns: string) => launcher.namespaceOf(p, ns);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the pod sandbox');
  // nsenter and unshare exec in place, so the pid ends up in the new namespaces.
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    const mnt = nsOf(pid, 'mnt');
    if (mnt === undefined) throw new Error('the pod sandbox exited while starting');
    if (mnt !== nsOf('self', 'mnt') && nsOf(pid, 'uts') !== nsOf('self', 'uts')) return pid;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('the pod sandbox did not start in time');
}

/** Creates the sandbox; returns the pause process's pid. */
export async function createSandbox(s: SandboxSpec, mounts: Mount[], runner: CommandRunner, launcher: ProcessLauncher): Promise<number> {
  const batches = sandboxBatches(s);
  await runner.run(['ip', 'netns', 'add', s.netns]);
  await runner.run(['ip', '-n', s.nodeNetns, '-batch', '-'], { input: `${batches.node.join('\n')}\n` });
  await runner.run(['ip', '-n', s.netns, '-batch', '-'], { input: `${batches.pod.join('\n')}\n` });
  const pid = await startPause(s.netns, launcher);
  try {
    await runner.run(['nsenter', '-t', String(pid), '--uts', '--', 'hostname', s.hostname]);
    for (const argv of mountCommands(pid, mounts)) await runner.run(argv);
  } catch (e) {
    launcher.signal(pid, 'SIGKILL');
    throw e;
  }
  return pid;
}

export async function destroySandbox(netns: string, pausePid: number | undefined, runner: CommandRunner, launcher: ProcessLauncher): Promise<void> {
  // A pause process already gone is no error.
  if (pausePid !== undefined) launcher.signal(pausePid, 'SIGKILL');
  // Deleting the netns takes the veth pair (and so the cni0 port) with it.
  await runner.run(['ip', 'netns', 'del', netns], { allowFailure: true });
}
