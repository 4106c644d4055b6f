// Small IPv4 arithmetic on top of ipaddr.js, for CIDR subdivision and
// address picking. Addresses are handled as unsigned 32-bit numbers.
import ipaddr from 'ipaddr.js';

export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function ipToNumber(ip: string): number {
  const bytes = ipaddr.IPv4.parse(ip).toByteArray();
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(text: string): Cidr {
  const [addr, prefix] = ipaddr.IPv4.parseCIDR(text);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ipToNumber(addr.toString()) & mask) >>> 0, prefix };
}

export function cidrToString(c: Cidr): string {
  return `${numberToIp(c.base)}/${c.prefix}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function cidrContains(c: Cidr, ip: string): boolean {
  const n = ipToNumber(ip);
  return n >= c.base && n < c.base + cidrSize(c);
}

/** The n-th address of the CIDR (0 is the network address). */
export function nthAddress(c: Cidr, n: number): string {
  if (n < 0 || n >= cidrSize(c)) throw new RangeError(`${cidrToString(c)} has no address #${n}`);
  return numberToIp(c.base + n);
}

/** The i-th subnet of the given prefix length inside c. */
export function nthSubnet(c: Cidr, prefix: number, i: number): Cidr {
  const size = 2 ** (32 - prefix);
  const count = cidrSize(c) / size;
  if (prefix < c.prefix || i < 0 || i >= count) {
    throw new RangeError(`${cidrToString(c)} has no subnet #${i} of size /${prefix}`);
  }
  return { base: c.base + i * size, prefix };
}
