// kube-proxy's chain names: a prefix plus the first 16 characters of the
// RFC 4648 base32 encoding (StdEncoding, upper case) of a SHA-256 digest.
import { createHash } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first `chars` characters of base32(sha256(text)). */
export function base32Sha256(text: string, chars = 16): string {
  const digest = createHash('sha256').update(text, 'utf8').digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of digest) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= chars) break;
  }
  return out;
}

/** portProtoHash: servicePortName + lowercase protocol. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return base32Sha256(servicePortName + protocol);
}

export const SVC_PREFIX = 'KUBE-SVC-';
export const SVL_PREFIX = 'KUBE-SVL-';
export const FW_PREFIX = 'KUBE-FW-';
export const EXT_PREFIX = 'KUBE-EXT-';
export const SEP_PREFIX = 'KUBE-SEP-';

export function serviceChainNames(servicePortName: string, protocol: string): {
  cluster: string;
  local: string;
  firewall: string;
  external: string;
} {
  const h = portProtoHash(servicePortName, protocol);
  return { cluster: SVC_PREFIX + h, local: SVL_PREFIX + h, firewall: FW_PREFIX + h, external: EXT_PREFIX + h };
}

/** KUBE-SEP-: servicePortName + protocol + "ip:port". */
export function endpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return SEP_PREFIX + base32Sha256(servicePortName + protocol + endpoint);
}

/** isServiceChainName: chains kube-proxy may delete when they go stale. */
export function isServiceChainName(chain: string): boolean {
  return [SVC_PREFIX, SVL_PREFIX, SEP_PREFIX, FW_PREFIX, EXT_PREFIX].some((p) => chain.startsWith(p));
}
