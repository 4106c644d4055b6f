// Raw DNS bytes for the hostile-packet and fuzz tests: packets built byte by
// byte (so they can be as broken as needed), a client that talks to the
// server over UDP and TCP on loopback, and a fake upstream that records the
// exact question bytes it was asked. Not a test file itself.
import dgram from 'node:dgram';
import net from 'node:net';
import type { KubeObject } from '../../../src/api/types.js';
import { buildZone, type ZoneConfig, type ZoneIndex } from '../../../src/dns/zone.js';

// ---- the cluster the server serves ---------------------------------------------------

export const ZONE_CONFIG: ZoneConfig = { domain: 'cluster.local' };
export const KUBERNETES_IP = '10.96.0.1';
export const NGX_IP = '10.96.240.115';

const service = (namespace: string, name: string, ip: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ port: 443, protocol: 'TCP', name: 'https' }] },
});

export function clusterZone(): ZoneIndex {
  return buildZone(
    {
      namespaces: ['default', 'kube-system'],
      serial: 1_700_000_000,
      services: [service('default', 'kubernetes', KUBERNETES_IP), service('default', 'ngx-svc', NGX_IP)],
      endpointSlices: [],
    },
    ZONE_CONFIG,
  );
}

// ---- building packets ----------------------------------------------------------------

/** A wire name from labels, each given as its exact bytes ("a.b" is ONE label of three bytes). */
export function wireName(...labels: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = typeof l === 'string' ? Buffer.from(l, 'utf8') : l;
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export const CLUSTER = ['svc', 'cluster', 'local'] as const;

export interface HeaderSpec {
  /** Byte 2 and 3 of the header; default RD only. */
  flags?: number;
  qd?: number;
  an?: number;
  ns?: number;
  ar?: number;
}

export function header(id: number, h: HeaderSpec = {}): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(h.flags ?? 0x0100, 2);
  b.writeUInt16BE(h.qd ?? 1, 4);
  b.writeUInt16BE(h.an ?? 0, 6);
  b.writeUInt16BE(h.ns ?? 0, 8);
  b.writeUInt16BE(h.ar ?? 0, 10);
  return b;
}

export function u16(...vs: number[]): Buffer {
  const b = Buffer.alloc(vs.length * 2);
  vs.forEach((v, i) => b.writeUInt16BE(v & 0xffff, i * 2));
  return b;
}

/** A query: header, one question, then any raw extra bytes (records). */
export function rawQuery(id: number, name: Buffer, type = 1, cls = 1, h: HeaderSpec = {}, ...extra: Buffer[]): Buffer {
  return Buffer.concat([header(id, h), name, u16(type, cls), ...extra]);
}

/** An OPT record (root owner) with the given rdata. */
export function optRecord(udpSize: number, o: { version?: number; do?: boolean; rdata?: Buffer; rdlength?: number } = {}): Buffer {
  const rdata = o.rdata ?? Buffer.alloc(0);
  const b = Buffer.alloc(11);
  b[0] = 0;
  b.writeUInt16BE(41, 1);
  b.writeUInt16BE(udpSize, 3);
  b.writeUInt32BE(((o.version ?? 0) << 16) | (o.do ? 0x8000 : 0), 5);
  b.writeUInt16BE(o.rdlength ?? rdata.length, 9);
  return Buffer.concat([b, rdata]);
}

/** A well-formed query for a name given as dotted text (no odd bytes). */
export function plainQuery(id: number, name: string, type = 1): Buffer {
  return rawQuery(id, wireName(...name.split('.').filter((l) => l !== '')), type);
}

// ---- reading replies ------------------------------------------------------------------

export interface ReplyHeader {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  qd: number;
  an: number;
  ns: number;
  ar: number;
}

export function replyHeader(b: Buffer): ReplyHeader {
  if (b.length < 12) throw new Error(`reply of ${b.length} bytes: shorter than a header`);
  return {
    id: b.readUInt16BE(0),
    qr: (b[2]! & 0x80) !== 0,
    opcode: (b[2]! >> 3) & 0xf,
    aa: (b[2]! & 0x04) !== 0,
    tc: (b[2]! & 0x02) !== 0,
    rd: (b[2]! & 0x01) !== 0,
    ra: (b[3]! & 0x80) !== 0,
    rcode: b[3]! & 0xf,
    qd: b.readUInt16BE(4),
    an: b.readUInt16BE(6),
    ns: b.readUInt16BE(8),
    ar: b.readUInt16BE(10),
  };
}

// ---- talking to the server --------------------------------------------------------------

export const TIMEOUT_MS = 2000;
/** IDs at or above this are the client's own sentinel queries. */
const SENTINEL_BASE = 60000;
let sentinelId = SENTINEL_BASE;
const nextSentinel = (): number => (sentinelId = sentinelId >= 65535 ? SENTINEL_BASE : sentinelId + 1);

function frame(msg: Buffer): Buffer {
  const f = Buffer.alloc(2 + msg.length);
  f.writeUInt16BE(msg.length & 0xffff, 0);
  msg.copy(f, 2);
  return f;
}

/**
 * Sends pkt over UDP, then a normal query from the same socket, and returns
 * every reply that came before the normal query's answer (the server handles
 * datagrams in order, and answers that need no upstream within the same
 * turn). Rejects if the normal query is not answered.
 */
export function udpExchange(port: number, pkt: Buffer, timeoutMs = TIMEOUT_MS): Promise<Buffer[]> {
  const sid = nextSentinel();
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`the server did not answer a normal query within ${timeoutMs} ms after ${pkt.toString('hex')}`));
    }, timeoutMs);
    s.on('error', (e) => {
      clearTimeout(t);
      s.close();
      reject(e);
    });
    s.on('message', (m) => {
      if (m.length >= 2 && m.readUInt16BE(0) === sid) {
        clearTimeout(t);
        s.close();
        resolve(got);
      } else got.push(m);
    });
    s.send(pkt, port, '127.0.0.1', () => s.send(plainQuery(sid, 'kubernetes.default.svc.cluster.local'), port, '127.0.0.1'));
  });
}

/** Sends pkt over UDP and waits for a reply carrying `id` (forwarded names take a round trip upstream). */
export function udpAsk(port: number, pkt: Buffer, id: number, timeoutMs = TIMEOUT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP reply with id ${id} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('error', (e) => {
      clearTimeout(t);
      s.close();
      reject(e);
    });
    s.on('message', (m) => {
      if (m.length >= 2 && m.readUInt16BE(0) === id) {
        clearTimeout(t);
        s.close();
        resolve(m);
      }
    });
    s.send(pkt, port, '127.0.0.1');
  });
}

/**
 * Writes `bytes` on a new TCP connection, then a framed normal query, and
 * returns every other reply frame that arrives up to shortly after the
 * normal query's answer.
 */
export function tcpExchange(port: number, bytes: Buffer, timeoutMs = TIMEOUT_MS): Promise<Buffer[]> {
  const sid = nextSentinel();
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`the server did not answer a normal query over TCP within ${timeoutMs} ms after ${bytes.toString('hex')}`));
    }, timeoutMs);
    s.on('error', (e) => {
      clearTimeout(t);
      s.destroy();
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(t);
      reject(new Error('the server closed the connection before answering'));
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + m.length);
        if (m.length >= 2 && m.readUInt16BE(0) === sid) {
          clearTimeout(t);
          s.removeAllListeners('close');
          // Messages of one segment are answered out of order (RFC 7766
          // allows it): a slow-path answer may follow by a few ms.
          setTimeout(() => {
            s.destroy();
            resolve(got);
          }, 15);
          continue;
        }
        got.push(Buffer.from(m));
      }
    });
    s.write(Buffer.concat([bytes, frame(plainQuery(sid, 'kubernetes.default.svc.cluster.local'))]));
  });
}

/** One framed message over TCP; waits for the reply with `id`. */
export function tcpAsk(port: number, pkt: Buffer, id: number, timeoutMs = TIMEOUT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no TCP reply with id ${id} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('error', (e) => {
      clearTimeout(t);
      s.destroy();
      reject(e);
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + m.length);
        if (m.readUInt16BE(0) === id) {
          clearTimeout(t);
          s.destroy();
          resolve(Buffer.from(m));
          return;
        }
      }
    });
    s.write(frame(pkt));
  });
}

/** Writes raw bytes on a TCP connection and closes it (after `pauseMs`, or at once). */
export function tcpWriteAndClose(port: number, bytes: Buffer, pauseMs = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', reject);
    s.write(bytes, () => {
      setTimeout(() => {
        s.destroy();
        resolve();
      }, pauseMs);
    });
  });
}

/** Writes a framed message one byte at a time; resolves with the reply with `id`. */
export function tcpDribble(port: number, pkt: Buffer, id: number, timeoutMs = TIMEOUT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no TCP reply with id ${id} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(t);
        s.destroy();
        resolve(Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    const bytes = frame(pkt);
    let i = 0;
    const step = (): void => {
      if (i >= bytes.length || s.destroyed) return;
      s.write(bytes.subarray(i, i + 1), () => setTimeout(step, 1));
      i++;
    };
    step();
  });
}

// ---- a fake upstream ------------------------------------------------------------------------

export interface FakeUpstream {
  port: number;
  /** The question bytes (name, type, class) of every query received, hex. */
  asked: string[];
  close(): Promise<void>;
}

/** End of the (uncompressed) question name at 12, or -1. */
function questionNameEnd(b: Buffer): number {
  let p = 12;
  for (let guard = 0; guard < 128 && p < b.length; guard++) {
    const len = b[p]!;
    if (len === 0) return p + 1;
    if (len >= 0x40) return -1;
    p += 1 + len;
  }
  return -1;
}

/** The fake upstream's reply: NXDOMAIN (qr rd ra) with the question bytes as received; undefined for what it cannot read. */
function upstreamReply(m: Buffer, asked: string[]): Buffer | undefined {
  const end = questionNameEnd(m);
  if (end < 0 || end + 4 > m.length) return undefined;
  asked.push(m.subarray(12, end + 4).toString('hex'));
  const reply = Buffer.from(m.subarray(0, end + 4));
  reply[2] = 0x80 | (m[2]! & 0x01);
  reply[3] = 0x80 | 3;
  reply.writeUInt16BE(1, 4);
  reply.writeUInt32BE(0, 6);
  reply.writeUInt16BE(0, 10);
  return reply;
}

/** Answers every query NXDOMAIN over UDP and TCP on one port, echoing the question bytes as received. */
export async function startUpstream(): Promise<FakeUpstream> {
  const asked: string[] = [];
  const tcp = net.createServer((c) => {
    let buf = Buffer.alloc(0);
    c.on('error', () => c.destroy());
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const reply = upstreamReply(buf.subarray(2, 2 + buf.readUInt16BE(0)), asked);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        if (reply) c.write(frame(reply));
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as net.AddressInfo).port;
  const sock = dgram.createSocket('udp4');
  sock.on('message', (m, from) => {
    const reply = upstreamReply(m, asked);
    if (reply) sock.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, '127.0.0.1', resolve);
  });
  return {
    port,
    asked,
    close: async () => {
      await new Promise<void>((resolve) => sock.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
