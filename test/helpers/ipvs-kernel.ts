// Whether this kernel can run kube-proxy's ipvs mode (IP_VS loadable and the
// dummy link type), probed the way `nslab up` does. Ipvs-mode lab runs are
// skipped where it cannot (this project's machines; they run in scripts/vm.sh).
import { probeIpvsKernel } from '../../src/sys/kernel-features.js';
import { ExecaRunner } from '../../src/sys/runner.js';

let cached: Promise<boolean> | undefined;

export function kernelHasIpvs(): Promise<boolean> {
  cached ??= probeIpvsKernel(new ExecaRunner()).then((k) => k.ipVs && k.dummy);
  return cached;
}

/** A lab file in proxyMode ipvs (the labs are written `cluster: {proxyMode: ipvs, ...}`). */
export function isIpvsLab(text: string): boolean {
  return /^\s*cluster:.*proxyMode: ipvs\b/m.test(text);
}
