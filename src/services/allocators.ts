// ClusterIP and NodePort allocation as kube-apiserver does it: a static band
// at the bottom of the range is kept for explicit requests; dynamic picks
// start at a random offset in the upper band and scan forward, falling back
// to the lower band only when the upper one is full.
import { cidrSize, ipToNumber, networkOf, numberToIp, type Cidr } from '../labfile/ipv4.js';

export type Random = () => number;

/** A bitmap allocator over [0, size) with upstream's two bands. */
export class RangeAllocator {
  private readonly used = new Set<number>();

  constructor(
    readonly size: number,
    /** Offsets below this are the static band. */
    readonly staticBand: number,
    private readonly random: Random = Math.random,
  ) {}

  has(offset: number): boolean {
    return this.used.has(offset);
  }

  allocate(offset: number): boolean {
    if (offset < 0 || offset >= this.size || this.used.has(offset)) return false;
    this.used.add(offset);
    return true;
  }

  allocateNext(): number | undefined {
    const scan = (from: number, to: number): number | undefined => {
      const span = to - from;
      if (span <= 0) return undefined;
      const start = Math.floor(this.random() * span);
      for (let i = 0; i < span; i++) {
        const offset = from + ((start + i) % span);
        if (!this.used.has(offset)) return offset;
      }
      return undefined;
    };
    const offset = scan(this.staticBand, this.size) ?? scan(0, this.staticBand);
    if (offset !== undefined) this.used.add(offset);
    return offset;
  }

  release(offset: number): void {
    this.used.delete(offset);
  }
}

/** Addresses of a service CIDR: network and broadcast are never handed out. */
export class ClusterIPAllocator {
  private readonly cidr: Cidr;
  private readonly bits: RangeAllocator;

  constructor(serviceCIDR: string, random?: Random) {
    this.cidr = networkOf(serviceCIDR);
    const size = cidrSize(this.cidr) - 2;
    // ServiceIPStaticSubrange: min(max(16, size/16), 256) addresses.
    this.bits = new RangeAllocator(size, Math.min(Math.max(16, Math.floor(size / 16)), 256), random);
  }

  /** e.g. "10.96.0.0 - 10.111.255.255" for messages. */
  get rangeText(): string {
    return `${numberToIp(this.cidr.base)}/${this.cidr.prefix}`;
  }

  private offset(ip: string): number {
    return ipToNumber(ip) - this.cidr.base - 1;
  }

  contains(ip: string): boolean {
    const o = this.offset(ip);
    return o >= 0 && o < this.bits.size;
  }

  allocate(ip: string): 'ok' | 'taken' | 'out-of-range' {
    if (!this.contains(ip)) return 'out-of-range';
    return this.bits.allocate(this.offset(ip)) ? 'ok' : 'taken';
  }

  allocateNext(): string | undefined {
    const o = this.bits.allocateNext();
    return o === undefined ? undefined : numberToIp(this.cidr.base + 1 + o);
  }

  release(ip: string): void {
    if (this.contains(ip)) this.bits.release(this.offset(ip));
  }
}

export class NodePortAllocator {
  private readonly bits: RangeAllocator;

  constructor(
    readonly base: number,
    readonly size: number,
    random?: Random,
  ) {
    // ServiceNodePortStaticSubrange: min(max(16, size/32), 128) ports.
    this.bits = new RangeAllocator(size, Math.min(Math.max(16, Math.floor(size / 32)), 128), random);
  }

  get rangeText(): string {
    return `${this.base}-${this.base + this.size - 1}`;
  }

  allocate(port: number): 'ok' | 'taken' | 'out-of-range' {
    if (port < this.base || port >= this.base + this.size) return 'out-of-range';
    return this.bits.allocate(port - this.base) ? 'ok' : 'taken';
  }

  allocateNext(): number | undefined {
    const o = this.bits.allocateNext();
    return o === undefined ? undefined : this.base + o;
  }

  release(port: number): void {
    if (port >= this.base && port < this.base + this.size) this.bits.release(port - this.base);
  }
}
