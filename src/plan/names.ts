// Names of the kernel objects a lab owns. Everything is derived from the lab
// name and the spec's names, so two labs never clash and `down` can find all
// of a lab's objects by prefix even without its state folder.
import { createHash } from 'node:crypto';

export const NETNS_PREFIX = 'nslab-';
/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const IFNAME_MAX = 15;

/**
 * The lab name is an RFC 1123 label and so never contains '.', which makes
 * the first '.' an unambiguous separator between lab and object.
 */
export function labNetnsPrefix(lab: string): string {
  return `${NETNS_PREFIX}${lab}.`;
}

export function nodeNetns(lab: string, node: string): string {
  return `${labNetnsPrefix(lab)}node-${node}`;
}

export function hostNetns(lab: string, host: string): string {
  return `${labNetnsPrefix(lab)}host-${host}`;
}

/** A shared segment, or a machine's private copy of a perMachine segment. */
export function networkNetns(lab: string, network: string, machine?: string): string {
  return machine === undefined
    ? `${labNetnsPrefix(lab)}net-${network}`
    : `${labNetnsPrefix(lab)}net-${network}.${machine}`;
}

export function podNetns(lab: string, namespace: string, pod: string): string {
  return `${labNetnsPrefix(lab)}pod-${namespace}.${pod}`;
}

/** The lab a netns belongs to, or undefined if it is not an nslab netns. */
export function labOfNetns(netns: string): string | undefined {
  if (!netns.startsWith(NETNS_PREFIX)) return undefined;
  const dot = netns.indexOf('.', NETNS_PREFIX.length);
  return dot < 0 ? undefined : netns.slice(NETNS_PREFIX.length, dot);
}

function shortHash(text: string, hexChars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexChars);
}

/**
 * A readable interface name for `wanted` that fits IFNAME_MAX. Names that fit
 * are kept; longer ones become a prefix plus a hash of the whole name, so two
 * long names sharing a prefix still differ. `taken` holds names already used
 * in the same netns; on a (astronomically unlikely) hash clash the hash grows.
 */
export function deriveIfname(wanted: string, taken: ReadonlySet<string>): string {
  if (Buffer.byteLength(wanted) <= IFNAME_MAX && !taken.has(wanted)) return wanted;
  for (let hexChars = 4; hexChars <= 12; hexChars += 2) {
    const prefix = wanted.slice(0, IFNAME_MAX - hexChars - 1).replace(/-+$/, '');
    const candidate = `${prefix}-${shortHash(wanted, hexChars)}`;
    if (!taken.has(candidate)) return candidate;
  }
  throw new Error(`cannot derive a unique interface name for "${wanted}"`);
}

/** Host-side veth name of a pod, as the CNI bridge plugin names it: veth + 8 hex. */
export function podHostVeth(podUid: string): string {
  return `veth${shortHash(podUid, 8)}`;
}
