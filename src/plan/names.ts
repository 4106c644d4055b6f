// Names of the kernel objects a lab owns. Everything is derived from the lab
// name and the spec's names, so two labs never clash and `down` can find all
// of a lab's objects by prefix even without its state folder.
import { createHash } from 'node:crypto';
// The one interface-name limit (IFNAMSIZ) and character set, as the lab file's check uses them.
import { IFNAME_CHARS as IFNAME_SAFE, IFNAME_MAX_BYTES as IFNAME_MAX } from '../labfile/names.js';

export const NETNS_PREFIX = 'nslab-';

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

/** Linux NAME_MAX: a netns name is a file name in /run/netns and /etc/netns. */
export const NETNS_NAME_MAX = 255;

export function podNetns(lab: string, namespace: string, pod: string): string {
  // A pod name may be 253 bytes long, so the whole name may not fit; the
  // lab prefix stays whole, so `down` still finds the namespace.
  return fitBytes(`${labNetnsPrefix(lab)}pod-${namespace}.${pod}`, NETNS_NAME_MAX, 16);
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
 * The first characters of `text` that fit in `maxBytes` UTF-8 bytes, never
 * cutting a character in two.
 */
export function bytePrefix(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** `name` itself when it fits in `maxBytes`, else a prefix of it plus a hash of all of it. */
function fitBytes(name: string, maxBytes: number, hexChars: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  return `${bytePrefix(name, maxBytes - hexChars - 1)}-${shortHash(name, hexChars)}`;
}

/**
 * A readable interface name for `wanted` that fits IFNAME_MAX bytes. Names
 * that fit (and hold only [A-Za-z0-9_.-]) are kept; others become a prefix
 * plus a hash of the whole name, so two long names sharing a prefix still
 * differ. Lengths are counted in bytes, as the kernel counts them, and
 * characters outside the safe set are left out of the prefix. `taken` holds
 * names already used in the same netns; on a (astronomically unlikely) hash
 * clash the hash grows.
 */
export function deriveIfname(wanted: string, taken: ReadonlySet<string>): string {
  if (Buffer.byteLength(wanted) <= IFNAME_MAX && IFNAME_SAFE.test(wanted) && !wanted.startsWith('-') && !taken.has(wanted)) {
    return wanted;
  }
  const safe = [...wanted].filter((ch) => IFNAME_SAFE.test(ch)).join('');
  for (let hexChars = 4; hexChars <= 12; hexChars += 2) {
    // The safe set is ASCII, so characters and bytes agree from here on.
    const prefix = safe.slice(0, IFNAME_MAX - hexChars - 1).replace(/^-+|-+$/g, '') || 'if';
    const candidate = `${prefix}-${shortHash(wanted, hexChars)}`;
    if (!taken.has(candidate)) return candidate;
  }
  throw new Error(`cannot derive a unique interface name for ${JSON.stringify(wanted)}`);
}

/** Host-side veth name of a pod, as the CNI bridge plugin names it: veth + 8 hex. */
export function podHostVeth(podUid: string): string {
  return `veth${shortHash(podUid, 8)}`;
}
