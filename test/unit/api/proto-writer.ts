// A minimal protobuf writer, enough to build what kubectl's typed clients
// send (the k8s envelope around a message of varints and length-delimited
// fields). Numbers are bytes, so fuzzers can mutate the output.

export function varint(n: bigint): number[] {
  let v = n < 0n ? n + (1n << 64n) : n;
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

export const tag = (num: number, wire: number): number[] => varint(BigInt((num << 3) | wire));
export const bytes = (num: number, b: number[]): number[] => [...tag(num, 2), ...varint(BigInt(b.length)), ...b];
export const str = (num: number, s: string): number[] => bytes(num, [...Buffer.from(s)]);
export const int = (num: number, n: number): number[] => [...tag(num, 0), ...varint(BigInt(n))];
export const msg = (num: number, ...fields: number[][]): number[] => bytes(num, fields.flat());
export const entry = (num: number, k: string, v: string): number[] => msg(num, str(1, k), str(2, v));

export function envelope(apiVersion: string, kind: string, raw: number[]): Buffer {
  return Buffer.from([0x6b, 0x38, 0x73, 0x00, ...msg(1, str(1, apiVersion), str(2, kind)), ...bytes(2, raw), ...str(3, ''), ...str(4, '')]);
}

/** ObjectMeta as gogo-protobuf writes it: every non-pointer field, zero or not. */
export const objectMeta = (name: string, labels: Record<string, string> = {}): number[] =>
  msg(
    1,
    str(1, name),
    str(2, ''),
    str(3, ''),
    str(4, ''),
    str(5, ''),
    str(6, ''),
    int(7, 0),
    msg(8),
    ...Object.entries(labels).map(([k, v]) => entry(11, k, v)),
  );
