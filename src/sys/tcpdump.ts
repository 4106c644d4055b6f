// tcpdump inside one of a lab's network namespaces: the argument vector only.
import { inNetns } from './netns.js';

export interface TcpdumpOptions {
  iface: string;
  /** Stop after this many packets. */
  count?: number;
  /** pcap file to write, or '-' for stdout; unset: print packets as text. */
  write?: string;
  /** A pcap-filter expression, as words (tcpdump joins them). */
  filter?: readonly string[];
}

export function tcpdumpArgv(netns: string, o: TcpdumpOptions): string[] {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(o.iface) && o.iface !== 'any') throw new Error(`invalid interface name "${o.iface}"`);
  const out =
    o.write !== undefined
      ? // -U: write each packet as it comes, so a pipe into Wireshark sees it at once.
        ['-U', '-w', o.write]
      : // -l: line-buffered text; -nn: no name or port lookups (nothing leaves the lab).
        ['-l', '-nn'];
  // -Z root: tcpdump would otherwise drop to user tcpdump, which may not write where the user asked.
  return inNetns(netns, ['tcpdump', '-Z', 'root', '-i', o.iface, ...out, ...(o.count !== undefined ? ['-c', String(o.count)] : []), ...(o.filter ?? [])]);
}
