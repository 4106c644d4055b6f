// `forward . /etc/resolv.conf`: names outside the cluster zones go to the
// upstream nameservers, over the protocol the client used (UDP or TCP), in
// random order (the plugin's default policy), each try bounded by a read
// timeout and the whole exchange by a deadline (CoreDNS: 2 s and 5 s). With
// no upstream at all the exchange fails at once; an upstream that answers
// with ICMP port unreachable fails its try at once.
//
//   const ups = parseResolvConf(text).nameservers.map((h) => ({host: h, port: 53}));
//   const {reply, upstream} = await forwardQuery(queryBytes, 'udp', {upstreams: ups, timeoutMs: 2000, deadlineMs: 5000});

import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

export interface ForwardOptions {
  upstreams: readonly Upstream[];
  /** Per try (CoreDNS's read timeout: 2 s). */
  timeoutMs: number;
  /** For the whole exchange (CoreDNS: 5 s). */
  deadlineMs: number;
  /** Called after every try: the upstream, the reply's rcode name or an error, seconds taken. */
  onTry?: (upstream: Upstream, outcome: string, seconds: number) => void;
}

export class ForwardError extends Error {}

export function upstreamText(u: Upstream): string {
  return u.host.includes(':') ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
}

/** The resolv.conf parts forward and the kubelet read. */
export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const r: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) r.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') r.search = rest.map((s) => s.replace(/\.$/, ''));
    else if (key === 'options') r.options = rest;
  }
  // forward reads at most 15 upstreams.
  r.nameservers = r.nameservers.slice(0, 15);
  return r;
}

/** "10.0.0.1", "10.0.0.1:5353", "[fd00::1]:53", "fd00::1" → Upstream. */
export function parseUpstream(s: string, defaultPort = 53): Upstream {
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (m6) return { host: m6[1] ?? '', port: m6[2] ? Number(m6[2]) : defaultPort };
  if (net.isIPv6(s)) return { host: s, port: defaultPort };
  const m = /^([^:]+)(?::(\d+))?$/.exec(s);
  if (!m || !net.isIP(m[1] ?? '')) throw new Error(`not an upstream address: ${JSON.stringify(s)}`);
  return { host: m[1] ?? '', port: m[2] ? Number(m[2]) : defaultPort };
}

function shuffled<T>(xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** The reply matches the query: same ID and same question bytes (name compared without case). */
function matches(query: Buffer, reply: Buffer): boolean {
  if (reply.length < 12 || reply.readUInt16BE(0) !== query.readUInt16BE(0) || (reply[2]! & 0x80) === 0) return false;
  let p = 12;
  for (;;) {
    if (p >= query.length || p >= reply.length) return false;
    const len = query[p]!;
    if (len !== reply[p]) return false;
    if (len === 0 || len >= 0xc0) break;
    for (let i = p + 1; i <= p + len; i++) {
      const a = query[i]!;
      const b = reply[i];
      if (b === undefined) return false;
      if ((a | (a >= 0x41 && a <= 0x5a ? 0x20 : 0)) !== (b | (b >= 0x41 && b <= 0x5a ? 0x20 : 0))) return false;
    }
    p += len + 1;
  }
  return reply.length >= p + 5 && reply.readUInt32BE(p + 1) === query.readUInt32BE(p + 1);
}

function tryUdp(query: Buffer, u: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(u.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err: Error | undefined, reply?: Buffer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else if (reply) resolve(reply);
    };
    const timer = setTimeout(() => finish(new ForwardError(`read udp ${upstreamText(u)}: i/o timeout`)), timeoutMs);
    sock.on('error', (e: NodeJS.ErrnoException) => finish(new ForwardError(`read udp ${upstreamText(u)}: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}`)));
    sock.on('message', (msg) => {
      if (matches(query, msg)) finish(undefined, msg);
    });
    // Connected, so an ICMP port unreachable comes back as ECONNREFUSED.
    sock.connect(u.port, u.host, () => {
      sock.send(query, (e) => {
        if (e) finish(new ForwardError(`write udp ${upstreamText(u)}: ${e.message}`));
      });
    });
  });
}

function tryTcp(query: Buffer, u: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: u.host, port: u.port });
    let done = false;
    let buf = Buffer.alloc(0);
    const finish = (err: Error | undefined, reply?: Buffer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else if (reply) resolve(reply);
    };
    const timer = setTimeout(() => finish(new ForwardError(`read tcp ${upstreamText(u)}: i/o timeout`)), timeoutMs);
    sock.on('error', (e: NodeJS.ErrnoException) => finish(new ForwardError(`dial tcp ${upstreamText(u)}: ${e.code === 'ECONNREFUSED' ? 'connect: connection refused' : e.message}`)));
    sock.on('connect', () => {
      const frame = Buffer.allocUnsafe(2 + query.length);
      frame.writeUInt16BE(query.length, 0);
      query.copy(frame, 2);
      sock.write(frame);
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        if (matches(query, msg)) return finish(undefined, Buffer.from(msg));
      }
      if (buf.length > 70000) finish(new ForwardError(`read tcp ${upstreamText(u)}: message too long`));
    });
    sock.on('end', () => finish(new ForwardError(`read tcp ${upstreamText(u)}: EOF`)));
  });
}

/**
 * Sends query (its ID is replaced by a random one, and restored in the
 * reply) to the upstreams until one answers or the deadline passes.
 */
export async function forwardQuery(query: Buffer, proto: 'udp' | 'tcp', opts: ForwardOptions): Promise<{ reply: Buffer; upstream: Upstream }> {
  if (opts.upstreams.length === 0) throw new ForwardError('no nameservers to forward to');
  const start = performance.now();
  const q = Buffer.from(query);
  const id = query.readUInt16BE(0);
  let lastError: Error = new ForwardError('no upstream answered');
  // Rounds over the upstreams until the deadline; a round where every try
  // failed fast (refused) ends it: nothing will answer.
  for (let round = 0; round < 100; round++) {
    let slowFailure = false;
    for (const u of shuffled(opts.upstreams)) {
      const left = opts.deadlineMs - (performance.now() - start);
      if (left <= 0) throw lastError;
      q.writeUInt16BE(randomInt(65536), 0);
      const t0 = performance.now();
      try {
        const reply = proto === 'tcp' ? await tryTcp(q, u, Math.min(opts.timeoutMs, left)) : await tryUdp(q, u, Math.min(opts.timeoutMs, left));
        opts.onTry?.(u, rcodeText(reply), (performance.now() - t0) / 1000);
        const out = Buffer.from(reply);
        out.writeUInt16BE(id, 0);
        return { reply: out, upstream: u };
      } catch (e) {
        lastError = e instanceof Error ? e : new ForwardError(String(e));
        opts.onTry?.(u, 'error', (performance.now() - t0) / 1000);
        if (performance.now() - t0 > 50) slowFailure = true;
      }
    }
    if (!slowFailure) throw lastError;
  }
  throw lastError;
}

const RCODE_TEXT = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
function rcodeText(reply: Buffer): string {
  return RCODE_TEXT[reply[3]! & 0xf] ?? String(reply[3]! & 0xf);
}
