// IPv4 parsing as kube-proxy does it (k8s.io/utils/net ParseIPSloppy): octets
// may carry leading zeros, which are read as decimal ("010" is 10), and the
// result is written back in canonical form.

/** Canonical dotted quad of a (sloppy) IPv4 address, or undefined. */
export function parseIPv4Sloppy(text: string): string | undefined {
  const n = ipv4ToNumberSloppy(text);
  return n === undefined ? undefined : numberToIPv4(n);
}

export function ipv4ToNumberSloppy(text: string): number | undefined {
  const parts = text.trim().split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number.parseInt(p, 10);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function numberToIPv4(n: number): string {
  return [Math.floor(n / 2 ** 24) % 256, Math.floor(n / 2 ** 16) % 256, Math.floor(n / 2 ** 8) % 256, n % 256].join('.');
}

export interface IPv4Cidr {
  base: number;
  prefix: number;
}

/** A CIDR as net.ParseCIDR would return it: the network masked, written canonically. */
export function parseIPv4CidrSloppy(text: string): IPv4Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const addr = ipv4ToNumberSloppy(m[1] ?? '');
  const prefix = Number.parseInt(m[2] ?? '', 10);
  if (addr === undefined || !(prefix >= 0 && prefix <= 32)) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: addr - (addr % size), prefix };
}

export function cidrString(c: IPv4Cidr): string {
  return `${numberToIPv4(c.base)}/${c.prefix}`;
}

export function cidrContainsIPv4(c: IPv4Cidr, ip: string): boolean {
  const n = ipv4ToNumberSloppy(ip);
  if (n === undefined) return false;
  return n >= c.base && n < c.base + 2 ** (32 - c.prefix);
}
