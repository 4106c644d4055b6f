// What kube-proxy's ipvs mode needs from the kernel, probed without touching
// the root network namespace: the IP_VS module (loaded, built in, or loadable
// by modprobe) and the dummy link type (tried in a throwaway netns that
// `unshare --net` drops when `ip` exits, so nothing is left behind).
import { existsSync, readFileSync } from 'node:fs';
import type { CommandRunner } from './runner.js';

export interface IpvsKernelFeatures {
  /** `uname -r` of the running kernel. */
  release: string;
  ipVs: boolean;
  dummy: boolean;
}

/** /sys/module/ip_vs exists once IP_VS is loaded or built in. */
function ipVsPresent(): boolean {
  return existsSync('/sys/module/ip_vs') || existsSync('/proc/net/ip_vs');
}

function kernelRelease(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** `ipVsLoaded` is swapped only by unit tests. */
export async function probeIpvsKernel(runner: CommandRunner, ipVsLoaded: () => boolean = ipVsPresent): Promise<IpvsKernelFeatures> {
  let ipVs = ipVsLoaded();
  if (!ipVs) {
    // kube-proxy loads it the same way; a kernel without it fails here.
    const r = await runner.run(['modprobe', 'ip_vs'], { allowFailure: true, timeoutMs: 10_000 });
    ipVs = r.exitCode === 0 && ipVsLoaded();
  }
  const dummy = await runner.run(['unshare', '--net', '--', 'ip', 'link', 'add', 'nslab-probe0', 'type', 'dummy'], {
    allowFailure: true,
    timeoutMs: 10_000,
  });
  return { release: kernelRelease(), ipVs, dummy: dummy.exitCode === 0 };
}
