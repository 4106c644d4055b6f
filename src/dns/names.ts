// Reading wire names as miekg/dns unpacks them (UnpackDomainName): labels
// of at most 63 bytes, compression pointers anywhere in the message but at
// most 126 per name (so a loop ends), at most 255 octets; printed with the
// label bytes escaped as miekg prints them, so that "a.b" as ONE label
// reads "a\.b." and the encoder (wire.ts nameToLabels) writes back the same
// bytes. Zone membership then compares whole labels (isSubDomain).
//
//   const {name, end} = readName(buf, 12);   // throws FormatError where miekg fails
//   scanName(buf, off);                      // the same walk, no allocation: end or -1

/** A message that does not unpack (miekg/dns returns an error; a server answers FORMERR). */
export class FormatError extends Error {
  override readonly name = 'FormatError';
}

/** miekg's maxCompressionPointers: (255 + 1) / 2 - 2. */
const MAX_POINTERS = 126;

/**
 * Walks the wire name at off as miekg/dns's UnpackDomainName does: labels
 * of at most 63 bytes (type bits 01 and 10 are errors), pointers anywhere
 * inside [0, limit) but at most 126 of them (so loops end), at most 255
 * octets in all. Calls label(start, length) for every label. Returns the
 * offset just past the name where it started (past the first pointer), or
 * -1 when the name does not unpack.
 */
export function scanName(buf: Buffer, off: number, limit: number = buf.length, label?: (start: number, len: number) => void): number {
  let p = off;
  let end = -1;
  let budget = 255;
  let pointers = 0;
  for (;;) {
    if (p >= limit) return -1;
    const c = buf[p]!;
    p++;
    if (c === 0) break;
    const kind = c & 0xc0;
    if (kind === 0) {
      if (p + c > limit) return -1;
      budget -= c + 1;
      if (budget <= 0) return -1;
      label?.(p, c);
      p += c;
    } else if (kind === 0xc0) {
      if (p >= limit) return -1;
      const target = ((c & 0x3f) << 8) | buf[p]!;
      p++;
      if (pointers === 0) end = p;
      if (++pointers > MAX_POINTERS) return -1;
      p = target;
    } else return -1;
  }
  return end >= 0 ? end : p;
}

/** Bytes a label prints with a backslash before them (miekg's isDomainNameLabelSpecial). */
function isLabelSpecial(b: number): boolean {
  // . space ' @ ; ( ) " \
  return b === 0x2e || b === 0x20 || b === 0x27 || b === 0x40 || b === 0x3b || b === 0x28 || b === 0x29 || b === 0x22 || b === 0x5c;
}

/** One label in presentation form, escaped as miekg/dns prints it: "a\.b", "\255". */
export function labelText(buf: Buffer, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) {
    const b = buf[i]!;
    if (isLabelSpecial(b)) s += `\\${String.fromCharCode(b)}`;
    else if (b < 0x20 || b > 0x7e) s += `\\${String(b).padStart(3, '0')}`;
    else s += String.fromCharCode(b);
  }
  return s;
}

/**
 * The name at off in presentation form with the root dot ("." for the
 * root), labels escaped so that nameToLabels gives back the same bytes;
 * and the offset past it. Throws FormatError where miekg/dns fails.
 */
export function readName(buf: Buffer, off: number, limit: number = buf.length): { name: string; end: number } {
  let name = '';
  const end = scanName(buf, off, limit, (start, len) => {
    name += `${labelText(buf, start, len)}.`;
  });
  if (end < 0) throw new FormatError(`bad name at offset ${off}`);
  return { name: name === '' ? '.' : name, end };
}

/** child is parent or below it, comparing whole labels (an escaped "\." is no label boundary). Lower-case FQDNs. */
export function isSubDomain(parent: string, child: string): boolean {
  if (parent === '.' || child === parent) return true;
  if (!child.endsWith(parent)) return false;
  const dot = child.length - parent.length - 1;
  if (dot < 0 || child[dot] !== '.') return false;
  // The dot is a boundary only if an even number of backslashes precede it.
  let slashes = 0;
  for (let i = dot - 1; i >= 0 && child[i] === '\\'; i--) slashes++;
  return slashes % 2 === 0;
}
