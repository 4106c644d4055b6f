// Decoding of Kubernetes protobuf request bodies into the JSON objects the
// store keeps. kubectl's typed clients (create namespace/deployment/...,
// run) send application/vnd.kubernetes.protobuf and cannot fall back to
// JSON, so the server must read it. Responses are always JSON, which those
// clients also accept.
//
// Layout: the 4-byte magic "k8s\0", then a runtime.Unknown message
// {1: typeMeta {1: apiVersion, 2: kind}, 2: raw object bytes}.
// Zero values of non-pointer fields are on the wire (gogo-protobuf writes
// them); like Go's omitempty we drop them, except for pointer fields.

import { badRequest, unsupportedMediaType } from './errors.js';
import { PROTO_MESSAGES } from './proto-schema.js';
import { rfc3339, setOwn, type JsonRecord, type KubeObject } from './types.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
/** Go's zero time.Time, in Unix seconds. */
const ZERO_TIME_SECONDS = -62135596800n;

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw badRequest('protobuf: truncated varint');
      const b = this.buf[this.pos++] ?? 0;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw badRequest('protobuf: varint too long');
    }
  }

  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw badRequest('protobuf: truncated field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw badRequest(`protobuf: unsupported wire type ${wire}`);
  }

  /** Each (field number, wire type) in order; the callback consumes the value. */
  fields(fn: (num: number, wire: number) => void): void {
    while (!this.done) {
      const tag = Number(this.varint());
      fn(tag >>> 3, tag & 7);
    }
  }
}

/** int32/int64 varints are two's complement in 64 bits. */
function signed(v: bigint): bigint {
  return v >= 1n << 63n ? v - (1n << 64n) : v;
}

/** metav1.Time: the zero time is sent as an empty message (or Go's zero instant). */
function decodeTime(buf: Buffer): string | undefined {
  let seconds = 0n;
  let nanos = 0n;
  const r = new Reader(buf);
  r.fields((num, wire) => {
    if (num === 1 && wire === 0) seconds = signed(r.varint());
    else if (num === 2 && wire === 0) nanos = r.varint();
    else r.skip(wire);
  });
  if ((seconds === 0n && nanos === 0n) || seconds === ZERO_TIME_SECONDS) return undefined;
  const when = new Date(Number(seconds) * 1000);
  // Go's time.Time reaches further than a JS Date; what JSON cannot show is a bad request, not a crash.
  if (Number.isNaN(when.getTime())) throw badRequest(`protobuf: time out of range: ${seconds} seconds`);
  return rfc3339(when);
}

function decodeIntOrString(buf: Buffer): number | string {
  let type = 0n;
  let intVal = 0n;
  let strVal = '';
  const r = new Reader(buf);
  r.fields((num, wire) => {
    if (num === 1 && wire === 0) type = r.varint();
    else if (num === 2 && wire === 0) intVal = signed(r.varint());
    else if (num === 3 && wire === 2) strVal = r.bytes().toString('utf8');
    else r.skip(wire);
  });
  return type === 1n ? strVal : Number(intVal);
}

function decodeQuantity(buf: Buffer): string {
  let s = '';
  const r = new Reader(buf);
  r.fields((num, wire) => {
    if (num === 1 && wire === 2) s = r.bytes().toString('utf8');
    else r.skip(wire);
  });
  return s;
}

const isZero = (v: unknown): boolean => v === '' || v === 0 || v === false || v === undefined;

/** One value of a scalar or message type from the reader. */
function readValue(r: Reader, wire: number, type: string): unknown {
  switch (type) {
    case 's':
      return r.bytes().toString('utf8');
    case 'y':
      return r.bytes().toString('base64');
    case 'i':
      return Number(signed(r.varint()));
    case 'b':
      return r.varint() !== 0n;
    case 'time':
      return decodeTime(r.bytes());
    case 'intstr':
      return decodeIntOrString(r.bytes());
    case 'quantity':
      return decodeQuantity(r.bytes());
  }
  if (type.startsWith('m:')) return decodeMessage(r.bytes(), type.slice(2));
  r.skip(wire);
  return undefined;
}

function decodeMapEntry(buf: Buffer, keyType: string, valueType: string): [string, unknown] {
  let key = '';
  let value: unknown = valueType === 's' ? '' : undefined;
  const r = new Reader(buf);
  r.fields((num, wire) => {
    if (num === 1) key = String(readValue(r, wire, keyType));
    else if (num === 2) value = readValue(r, wire, valueType);
    else r.skip(wire);
  });
  return [key, value];
}

function decodeMessage(buf: Buffer, name: string): JsonRecord {
  const schema = PROTO_MESSAGES[name];
  const out: JsonRecord = {};
  const r = new Reader(buf);
  const byNum = new Map((schema ?? []).map((f) => [f[0], f]));
  r.fields((num, wire) => {
    const f = byNum.get(num);
    if (!f) return r.skip(wire);
    const [, json, type, flags = ''] = f;
    if (type.startsWith('map:')) {
      const rest = type.slice('map:'.length);
      const colon = rest.indexOf(':');
      const [key, value] = decodeMapEntry(r.bytes(), rest.slice(0, colon), rest.slice(colon + 1));
      const m = (out[json] ??= {}) as JsonRecord;
      // Map keys are the client's ("__proto__" is a valid ConfigMap key): an own property, never the prototype.
      setOwn(m, key, value);
      return;
    }
    // Packed repeated scalars (proto3 style) are not produced by gogo for k8s types.
    const value = readValue(r, wire, type);
    if (flags.includes('n')) {
      if (value && typeof value === 'object') Object.assign(out, value);
      return;
    }
    if (flags.includes('r')) {
      ((out[json] ??= []) as unknown[]).push(value);
      return;
    }
    if (value === undefined || (!flags.includes('p') && isZero(value))) return;
    out[json] = value;
  });
  return out;
}

const GROUP_PACKAGE: Record<string, string> = { v1: 'core', 'apps/v1': 'apps', 'meta.k8s.io/v1': 'meta' };

/** A protobuf-encoded object (with the k8s envelope) as JSON. */
export function decodeProtobufObject(buf: Buffer): KubeObject {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf: missing the k8s envelope');
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  const r = new Reader(buf.subarray(4));
  r.fields((num, wire) => {
    if (num === 1 && wire === 2) {
      const tm = new Reader(r.bytes());
      tm.fields((n, w) => {
        if (n === 1 && w === 2) apiVersion = tm.bytes().toString('utf8');
        else if (n === 2 && w === 2) kind = tm.bytes().toString('utf8');
        else tm.skip(w);
      });
    } else if (num === 2 && wire === 2) raw = r.bytes();
    else r.skip(wire);
  });
  const pkg = kind === 'DeleteOptions' ? 'meta' : GROUP_PACKAGE[apiVersion];
  const name = `${pkg ?? ''}.${kind}`;
  if (!pkg || !PROTO_MESSAGES[name]) {
    throw unsupportedMediaType(`protobuf bodies of ${apiVersion}/${kind} are not supported: send application/json`);
  }
  const body = decodeMessage(raw, name);
  return { apiVersion, kind, ...body, metadata: (body['metadata'] as KubeObject['metadata'] | undefined) ?? {} };
}
