// IPv4 for the whole of nslab, addresses as unsigned 32-bit numbers: the
// strict syntax lab files are read with (dotted quads only: "10.1" or
// "0x0a..." are refused even though inet_aton takes them), and the small
// arithmetic the plan, IPAM and Service allocators do on checked text
// (networks, n-th address, n-th subnet).
import ipaddr from 'ipaddr.js';

export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function isIPv4(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text);
}

export function ipToNumber(ip: string): number {
  const b = ipaddr.IPv4.parse(ip).toByteArray();
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; hostBitsOf?: Cidr };

/**
 * Parses "A.B.C.D/N". A CIDR with host bits set is refused, but the network
 * it probably meant is returned so the message can suggest it.
 */
export function parseCidr(text: string): CidrParse {
  const match = /^([0-9.]+)\/(0|[1-9][0-9]?)$/.exec(text);
  if (!match || !isIPv4(match[1] ?? '')) return { ok: false };
  const prefix = Number(match[2]);
  if (prefix > 32) return { ok: false };
  const address = ipToNumber(match[1] ?? '');
  const base = (address & mask(prefix)) >>> 0;
  return base === address ? { ok: true, cidr: { base, prefix } } : { ok: false, hostBitsOf: { base, prefix } };
}

/** A CIDR written in the code, known to be valid. */
export function cidrOf(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(`invalid CIDR constant ${text}`);
  return parsed.cidr;
}

/**
 * The network "A.B.C.D/N" lies in (host bits cleared: "192.168.10.5/24" is
 * 192.168.10.0/24), for text already checked (a lab file once read, the
 * plan's own); throws on anything ipaddr.js cannot parse.
 */
export function networkOf(text: string): Cidr {
  const [addr, prefix] = ipaddr.IPv4.parseCIDR(text);
  return { base: (ipToNumber(addr.toString()) & mask(prefix)) >>> 0, prefix };
}

export function cidrToString(c: Cidr): string {
  return `${numberToIp(c.base)}/${c.prefix}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function lastAddress(c: Cidr): number {
  return c.base + cidrSize(c) - 1;
}

export function cidrContains(c: Cidr, address: number): boolean {
  return address >= c.base && address <= lastAddress(c);
}

/** Whether the dotted-quad `ip` lies in `c`. */
export function containsAddress(c: Cidr, ip: string): boolean {
  return cidrContains(c, ipToNumber(ip));
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

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.base <= lastAddress(b) && b.base <= lastAddress(a);
}

/** Ranges no lab segment, pod or Service network may touch. */
export const SPECIAL_RANGES: ReadonlyArray<{ cidr: Cidr; what: string }> = [
  { cidr: { base: 0, prefix: 8 }, what: '"this network" range 0.0.0.0/8' },
  { cidr: { base: 0x7f000000, prefix: 8 }, what: 'loopback range 127.0.0.0/8' },
  { cidr: { base: 0xe0000000, prefix: 4 }, what: 'multicast range 224.0.0.0/4' },
  { cidr: { base: 0xf0000000, prefix: 4 }, what: 'reserved range 240.0.0.0/4' },
];

/** The special range `c` overlaps, if any. */
export function specialRangeOverlap(c: Cidr): string | undefined {
  return SPECIAL_RANGES.find((r) => cidrsOverlap(c, r.cidr))?.what;
}
