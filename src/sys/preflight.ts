// Checks that nslab can work here, with messages that say what to run.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export class PreflightError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreflightError';
  }
}

/** Tools nslab runs, and the Debian/Ubuntu package that has each. */
export const REQUIRED_TOOLS: Record<string, string> = {
  ip: 'iproute2',
  nsenter: 'util-linux',
  sysctl: 'procps',
  'iptables-restore': 'iptables',
  curl: 'curl',
};

/** Tools only some labs need: dnsmasq for a host with dnsRecords. */
export const RESOLVER_TOOLS: Record<string, string> = { dnsmasq: 'dnsmasq-base' };

/** nft for kube-proxy's nftables mode. */
export const NFTABLES_TOOLS: Record<string, string> = { nft: 'nftables' };

/** ipvsadm and ipset for kube-proxy's ipvs mode. */
export const IPVS_TOOLS: Record<string, string> = { ipvsadm: 'ipvsadm', ipset: 'ipset' };

export function findOnPath(tool: string, envPath = process.env['PATH'] ?? ''): string | undefined {
  const dirs = [...envPath.split(path.delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function missingTools(tools: Record<string, string> = REQUIRED_TOOLS): Array<{ tool: string; pkg: string }> {
  return Object.entries(tools)
    .filter(([tool]) => !findOnPath(tool))
    .map(([tool, pkg]) => ({ tool, pkg }));
}

export function requireRoot(command: string): void {
  if (process.getuid?.() !== 0) {
    throw new PreflightError(
      `nslab ${command} creates network namespaces and needs root: run it as "sudo nslab ${command}"`,
    );
  }
}

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

/** Effective capabilities from /proc/self/status, as a bigint bit set. */
export function effectiveCapabilities(status: string): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m?.[1] ? BigInt(`0x${m[1]}`) : 0n;
}

/** Creating and entering network namespaces needs these; an unprivileged container lacks them. */
export function requireNamespaceCapabilities(status = readFileSync('/proc/self/status', 'utf8')): void {
  const caps = effectiveCapabilities(status);
  const missing = [
    ...(caps & (1n << BigInt(CAP_NET_ADMIN)) ? [] : ['CAP_NET_ADMIN']),
    ...(caps & (1n << BigInt(CAP_SYS_ADMIN)) ? [] : ['CAP_SYS_ADMIN']),
  ];
  if (missing.length > 0) {
    throw new PreflightError(
      `nslab needs ${missing.join(' and ')} to create network namespaces, and this process lacks them: ` +
        'in a container, run it privileged ("docker run --privileged ..." or "podman run --privileged ...")',
    );
  }
}

export function requireTools(tools: Record<string, string> = REQUIRED_TOOLS): void {
  const missing = missingTools(tools);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))].join(' ');
    throw new PreflightError(
      `missing ${missing.map((m) => m.tool).join(', ')}: install with "sudo apt-get install -y ${pkgs}" ` +
        `(or run scripts/setup.sh, which installs everything nslab needs)`,
    );
  }
}

/** br_netfilter gives every netns its own net.bridge.* sysctls; without it pods' Service traffic breaks. */
export function bridgeNetfilterAvailable(): boolean {
  return existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables');
}
