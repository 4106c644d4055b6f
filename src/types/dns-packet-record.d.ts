// dns-packet exports its per-type rdata codecs as record(type); its typings leave that out.
import 'dns-packet';

declare module 'dns-packet' {
  /** The rdata codec of a record type; encode writes the 2-byte rdata length first. */
  export function record(type: string): {
    encode(data: unknown, buf?: Buffer, offset?: number): Buffer;
    decode(buf: Buffer, offset?: number): unknown;
    encodingLength(data: unknown): number;
  };
}
