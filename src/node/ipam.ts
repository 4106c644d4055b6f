// host-local IPAM, as the CNI plugin keeps it per node: addresses from the
// node's pod CIDR (not the network, gateway or broadcast address), handed out
// round-robin after the last one reserved, so a freed address is not reused at once.
import { cidrSize, networkOf, nthAddress, type Cidr } from '../labfile/ipv4.js';

export class HostLocalIpam {
  private readonly cidr: Cidr;
  private readonly inUse = new Map<string, string>();
  private last = 1;

  constructor(podCIDR: string) {
    this.cidr = networkOf(podCIDR);
  }

  /** The gateway (cni0) address: the first of the range. */
  gateway(): string {
    return nthAddress(this.cidr, 1);
  }

  get prefix(): number {
    return this.cidr.prefix;
  }

  allocate(owner: string): string {
    const existing = [...this.inUse.entries()].find(([, o]) => o === owner);
    if (existing) return existing[0];
    const size = cidrSize(this.cidr);
    for (let step = 1; step < size; step++) {
      const n = ((this.last - 2 + step) % (size - 3)) + 2; // 2 .. size-2
      const ip = nthAddress(this.cidr, n);
      if (!this.inUse.has(ip)) {
        this.inUse.set(ip, owner);
        this.last = n;
        return ip;
      }
    }
    throw new Error(`no free address left in ${nthAddress(this.cidr, 0)}/${this.cidr.prefix}`);
  }

  release(owner: string): void {
    for (const [ip, o] of this.inUse) if (o === owner) this.inUse.delete(ip);
  }
}
