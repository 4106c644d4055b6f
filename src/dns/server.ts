// The cluster DNS server: UDP and TCP on one address, a thin shell around
// zone.ts that behaves like CoreDNS with kubeadm's Corefile:
//
//   .:53 { errors; health; ready; kubernetes cluster.local in-addr.arpa ip6.arpa
//          { pods insecure; fallthrough in-addr.arpa ip6.arpa; ttl 30 };
//          prometheus :9153; forward . /etc/resolv.conf; cache 30 [disable success/denial cluster.local];
//          loop; loadbalance }
//
//   const dns = await startDnsServer({listen: {host: '127.0.0.1', port: 0},
//                                     zoneConfig: {domain: 'cluster.local'}, zone,
//                                     upstreams: [{host: '10.0.2.3', port: 53}]});
//   dns.setZone(buildZone(objects, config));       // after every watched change
//   await dns.close();
//
// No packet stops the server: each message's handling is contained
// (onPacket: a failure is logged, counted in coredns_panics_total and
// answered SERVFAIL, as CoreDNS's ServeDNS recovers from a panic), and TCP
// framing errors end only their connection.
//
// Per query, as CoreDNS's plugin chain: miekg's accept and unpack rules
// (no reply to responses or to less than a header; FORMERR, NOTIMP;
// SERVFAIL for a header without its question), class IN only (REFUSED), EDNS version 0 only (BADVERS), the cache
// (keyed by lower-case name, type, class, DO, CD; TTLs counting down in hits,
// AA set), the kubernetes plugin (zone.ts), the loop detector, forward; on
// the way back every record's TTL becomes the cache's min(TTL) clamped to
// [5, 30], A/AAAA records are shuffled (loadbalance), the request's OPT
// record is echoed (its UDP size, DO, and the NSID/EXPIRE/COOKIE/KEEPALIVE/
// PADDING options) and the reply is fitted to the client's size (uncompressed
// if it fits, else compressed, else truncated with TC).
//
// kubeadm >= 1.32 renders `cache 30 { disable success cluster.local; disable
// denial cluster.local }`: names in the cluster domain are not cached (their
// TTL is always 30, changes show at once); cacheClusterNames: true is the
// older plain `cache 30` (their TTL counts down too). Either way the server
// keeps each encoded cluster answer until the zone changes (invisible to
// clients): the hot path is a Map lookup and a copy with the ID patched.

import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { cacheClass, cacheConfig, cacheDuration, cacheResponseType, isCacheable, withTtl, type CacheConfig } from './cache.js';
import { CACHED, makeEntry, MEMO, ResponseCache, type Entry } from './response-cache.js';
import { LoopDetector, startLoopProbe } from './loop.js';
import { queryLogLine, type QueryLogRequest } from './query-log.js';
import { forwardQuery, upstreamText, type Upstream } from './forward.js';
import { DnsMetrics, PLUGIN_ID, ZONE_DROPPED, ZONE_ROOT, type BuildInfo } from './metrics.js';
import {
  CLASS_IN,
  echoedOptions,
  EMPTY,
  encodeBody,
  encodeMessage,
  lowerName,
  lowerQuestionKey,
  QueryStatus,
  QueryView,
  questionKey,
  RCODE,
  TYPE,
  typeName,
  type Message,
  type Question,
  type RR,
} from './wire.js';
import { decodeMessage } from './decode.js';
import { isSubDomain, readName } from './names.js';
import { buildZone, matchZone, resolve, type ZoneConfig, type ZoneIndex } from './zone.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface DnsServerOptions {
  /** UDP and TCP; port 0 picks a port free for both. */
  listen: ListenAddress;
  zoneConfig: ZoneConfig;
  /** The first zone; default an empty, unsynced one (cluster names SERVFAIL, /ready 503). */
  zone?: ZoneIndex;
  upstreams?: Upstream[];
  /** Per try; default 2000 ms. */
  forwardTimeoutMs?: number;
  /** Per query; default 5000 ms. */
  forwardDeadlineMs?: number;
  /** `cache N`; default 30; 0: no cache plugin (and no TTL rewriting). */
  cacheTtl?: number;
  /** Also cache names in the cluster domain (kubeadm before 1.32). Default false. */
  cacheClusterNames?: boolean;
  /** HTTP listeners: prometheus /metrics, health /health, ready /ready (same address: one listener). */
  metrics?: ListenAddress;
  health?: ListenAddress;
  ready?: ListenAddress;
  /** Log lines, CoreDNS style ("[ERROR] plugin/errors: ..."). */
  log?: (line: string) => void;
  /** The log plugin's query lines. */
  logQueries?: boolean;
  /** The loop plugin: probe ourselves at start; onLoop is called when the probe comes back more than twice. */
  loopCheck?: boolean;
  onLoop?: (line: string) => void;
  build?: BuildInfo;
  /** The metrics `server` label; default "dns://:<port>" (or "dns://<host>:<port>" for a specific host). */
  serverLabel?: string;
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number | undefined;
  readonly healthPort: number | undefined;
  readonly readyPort: number | undefined;
  readonly zone: ZoneIndex;
  setZone(zone: ZoneIndex): void;
  metricsText(): string;
  close(): Promise<void>;
}

export const BUILD_INFO: BuildInfo = { version: '1.11.3', revision: 'nslab', goversion: `node${process.versions.node}` };

/** The request fields a reply needs (QueryView or a copy of it). */
interface RequestInfo {
  id: number;
  opcode: number;
  rd: boolean;
  cd: boolean;
  ad: boolean;
  do: boolean;
  edns: boolean;
  udpSize: number;
  optStart: number;
  optEnd: number;
  qnameEnd: number;
  /** The request's question name used a compression pointer. */
  compressed: boolean;
  qtype: number;
  qclass: number;
  ednsVersion: number;
  /** The question unpacked. */
  questionOk: boolean;
}

function snapshot(v: QueryView): RequestInfo {
  return {
    id: v.id,
    opcode: v.opcode,
    rd: v.rd,
    cd: v.cd,
    ad: v.ad,
    do: v.do,
    edns: v.edns,
    udpSize: v.udpSize,
    optStart: v.optStart,
    optEnd: v.optEnd,
    qnameEnd: v.qnameEnd,
    compressed: v.qnameCompressed,
    qtype: v.qtype,
    qclass: v.qclass,
    ednsVersion: v.ednsVersion,
    questionOk: v.questionOk,
  };
}

function randomFrom(n: number): number {
  return Math.floor(Math.random() * n);
}

/** loadbalance's roundRobin: CNAMEs, the rest, then the addresses (shuffled), then MX (shuffled). */
function roundRobin(rrs: RR[]): RR[] {
  if (rrs.length <= 1) return rrs;
  const cname: RR[] = [];
  const address: RR[] = [];
  const mx: RR[] = [];
  const rest: RR[] = [];
  for (const r of rrs) {
    if (r.type === 'CNAME') cname.push(r);
    else if (r.type === 'A' || r.type === 'AAAA') address.push(r);
    else if (r.type === 'MX') mx.push(r);
    else rest.push(r);
  }
  for (const list of [address, mx]) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = randomFrom(i + 1);
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
  }
  return [...cname, ...rest, ...address, ...mx];
}

/** SetReply: the reply skeleton for a question (of the request's class: a REFUSED one echoes it). */
function replyTo(r: RequestInfo, name: string, type: number): Message {
  return {
    id: r.id,
    qr: true,
    opcode: r.opcode,
    aa: false,
    tc: false,
    rd: r.rd,
    ra: false,
    ad: false,
    cd: r.cd,
    rcode: 0,
    question: [{ name, type, class: r.qclass }],
    answers: [],
    authority: [],
    additional: [],
  };
}

class Engine {
  zone: ZoneIndex;
  gen = 0;
  readonly cache = new ResponseCache();
  readonly responses = this.cache.entries;
  readonly view = new QueryView();
  readonly metrics: DnsMetrics;
  private readonly cacheCfg: CacheConfig | undefined;
  private readonly domain: string;
  readonly loop = new LoopDetector();

  constructor(private readonly opts: DnsServerOptions, serverLabel: string) {
    this.zone = opts.zone ?? buildZone({ services: [], endpointSlices: [], namespaces: [], synced: false }, opts.zoneConfig);
    this.domain = this.zone.config.domain;
    const ttl = opts.cacheTtl ?? 30;
    this.cacheCfg = ttl > 0 ? cacheConfig(ttl) : undefined;
    this.metrics = new DnsMetrics(serverLabel, opts.build ?? BUILD_INFO, () => this.cache.counts(performance.now()));
  }

  setZone(z: ZoneIndex): void {
    this.zone = z;
    this.gen++;
  }

  /**
   * Every packet, both transports. send() gets the reply bytes (not
   * framed), at most once. Nothing a packet does escapes from here: a
   * failure anywhere in its handling is logged and answered SERVFAIL (if
   * nothing was sent yet), as CoreDNS's ServeDNS recovers from a panic.
   */
  onPacket(buf: Buffer, tcp: boolean, family: number, remote: string, send: (out: Buffer) => void): void {
    let sent = false;
    const once = (out: Buffer): void => {
      if (sent) return;
      sent = true;
      send(out);
    };
    try {
      this.answer(buf, tcp, family, remote, once)?.catch((e: unknown) => this.recover(buf, e, sent ? undefined : send));
    } catch (e) {
      this.recover(buf, e, sent ? undefined : send);
    }
  }

  /** A failed message: count it, log it, answer SERVFAIL if it still can be. */
  private recover(buf: Buffer, e: unknown, send: ((out: Buffer) => void) | undefined): void {
    this.metrics.panics++;
    try {
      this.opts.log?.(`[ERROR] Recovered from panic in server: "${this.metrics.server}" ${e instanceof Error ? e.message : String(e)}`);
      const out = send ? this.failReply(buf) : undefined;
      if (out) send?.(out);
    } catch {
      // Nothing more can be done for this message (the socket is gone).
    }
  }

  /** errorAndMetricsFunc(SERVFAIL) for a request that failed half-way: the question if it unpacked; nothing for what gets no reply at all. */
  private failReply(buf: Buffer): Buffer | undefined {
    const v = new QueryView();
    const status = v.parse(buf);
    if (status === QueryStatus.Drop) return undefined;
    if (status === QueryStatus.Ok) {
      try {
        const q = this.questionOf(buf, v);
        return this.errorReply(buf, snapshot(v), q.name, q.type, RCODE.SERVFAIL);
      } catch {
        // fall back to the header alone
      }
    }
    return this.headerReply(buf, RCODE.SERVFAIL);
  }

  /** Answers one packet; a promise when the answer needs the slow path. */
  private answer(buf: Buffer, tcp: boolean, family: number, remote: string, send: (out: Buffer) => void): Promise<void> | undefined {
    const t0 = performance.now();
    const v = this.view;
    if (v.parse(buf) === QueryStatus.Ok && v.opcode === 0 && !v.qnameCompressed && v.qclass === CLASS_IN && (!v.edns || v.ednsVersion === 0)) {
      let key = buf.toString('latin1', 12, v.qnameEnd + 4);
      if (v.do) key += '\u0001';
      if (v.cd) key += '\u0002';
      let e = this.responses.get(key);
      if (e !== undefined && (e.kind === MEMO ? e.gen !== this.gen : t0 >= e.expires)) {
        this.responses.delete(key);
        e = undefined;
      }
      if (e === undefined && v.hasUpper) {
        let lk = lowerQuestionKey(buf, v.qnameEnd);
        if (v.do) lk += '\u0001';
        if (v.cd) lk += '\u0002';
        const c = this.responses.get(lk);
        if (c !== undefined && c.kind === CACHED && t0 < c.expires) e = c;
      }
      if (e !== undefined) {
        const m = this.metrics;
        if (this.cacheCfg) {
          m.cacheRequests++;
          if (e.kind === CACHED) m.cacheHits[e.cls]++;
          else m.cacheMisses++;
        }
        const out = this.render(e, buf, v, tcp, t0);
        send(out);
        m.report(ZONE_ROOT, tcp ? 1 : 0, family, v.qtype, e.rcode, e.kind === CACHED ? PLUGIN_ID.cache : e.plugin, (performance.now() - t0) / 1000, buf.length, out.length, v.do);
        if (this.opts.logQueries) this.logQuery(buf, v, out, tcp, remote, t0);
        return undefined;
      }
    }
    return this.slowPath(buf, tcp, family, remote, send, t0, v.status, snapshot(v));
  }

  /** The reply bytes for an entry, fitted to this request. */
  render(e: Entry, req: Buffer, r: RequestInfo, tcp: boolean, now: number): Buffer {
    const limit = tcp ? 65535 : r.edns ? Math.max(512, r.udpSize) : 512;
    const opts = r.edns ? echoedOptions(req, r.optStart, r.optEnd) : EMPTY;
    const optLen = r.edns ? 11 + opts.length : 0;
    const budget = limit - optLen;
    let body: Buffer;
    let ttlOffsets: number[];
    if (e.shuffle === 2) {
      const shuffled: Message = { ...e.msg, answers: roundRobin(e.msg.answers), authority: roundRobin(e.msg.authority), additional: roundRobin(e.msg.additional) };
      const enc = encodeBody(shuffled, budget);
      body = enc.buf;
      ttlOffsets = enc.ttlOffsets;
    } else {
      let variant = e.variants.get(budget);
      if (variant === undefined) {
        const enc = encodeBody(e.msg, budget);
        variant = { body: enc.buf, ttlOffsets: enc.ttlOffsets };
        e.variants.set(budget, variant);
      }
      body = variant.body;
      ttlOffsets = variant.ttlOffsets;
    }
    const out = Buffer.allocUnsafe(body.length + optLen);
    body.copy(out, 0);
    out[0] = r.id >> 8;
    out[1] = r.id & 0xff;
    out[2] = (out[2]! & 0x86) | ((r.opcode & 0xf) << 3) | (r.rd ? 1 : 0);
    const b3 = out[3]!;
    out[3] = (b3 & 0xcf) | (r.cd ? 0x10 : 0) | (b3 & 0x20 && (r.do || r.ad) ? 0x20 : 0);
    // The question as this client spelled it (entries are shared across case).
    if (!r.compressed) req.copy(out, 12, 12, r.qnameEnd);
    if (e.kind === CACHED) {
      const ttl = Math.max(0, e.ttl - Math.floor((now - e.stored) / 1000));
      for (const off of ttlOffsets) out.writeUInt32BE(ttl, off);
    }
    if (e.shuffle === 1) {
      for (const g of e.groups) {
        const offs = g.filter((i) => i < ttlOffsets.length).map((i) => ttlOffsets[i]! + 6);
        // Truncation may have cut the group down to one record or none.
        if (offs.length < 2) continue;
        const size = out.readUInt16BE(offs[0]! - 2);
        for (let i = offs.length - 1; i > 0; i--) {
          const j = randomFrom(i + 1);
          if (i === j) continue;
          const a = offs[i]!;
          const b = offs[j]!;
          for (let k = 0; k < size; k++) {
            const t = out[a + k]!;
            out[a + k] = out[b + k]!;
            out[b + k] = t;
          }
        }
      }
    }
    if (r.edns) {
      out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
      let p = body.length;
      out[p++] = 0;
      out.writeUInt16BE(TYPE.OPT, p);
      out.writeUInt16BE(r.udpSize, p + 2);
      out.writeUInt32BE((((e.rcode > 15 ? e.rcode >> 4 : 0) & 0xff) << 24) | (r.do ? 0x8000 : 0), p + 4);
      out.writeUInt16BE(opts.length, p + 8);
      opts.copy(out, p + 10);
      if (e.rcode > 15) out[3] = (out[3]! & 0xf0) | (e.rcode & 0xf);
    }
    return out;
  }

  /** errorFunc: SetRcode + SizeAndDo (no AA, no records). */
  private errorReply(req: Buffer, r: RequestInfo, name: string, type: number, rcode: number): Buffer {
    const m = replyTo(r, name, type);
    m.rcode = rcode;
    if (r.edns) m.edns = { udpSize: r.udpSize, do: r.do, version: 0, extRcode: 0, options: echoedOptions(req, r.optStart, r.optEnd) };
    const out = encodeMessage(m, 65535).buf;
    return out;
  }

  /**
   * miekg's serveDNS rejecting a message (FORMERR, or NOTIMP for an
   * opcode): the request's header with QR set, AA and Z cleared, opcode
   * QUERY unless NOTIMP, no records; the question only when the message
   * failed after its question unpacked.
   */
  private rejectReply(req: Buffer, rcode: number, question?: Question): Buffer {
    const b2 = req[2]!;
    const b3 = req[3]!;
    const m: Message = {
      id: req.readUInt16BE(0),
      qr: true,
      opcode: rcode === RCODE.NOTIMP ? (b2 >> 3) & 0xf : 0,
      aa: false,
      tc: (b2 & 0x02) !== 0,
      rd: (b2 & 0x01) !== 0,
      ra: (b3 & 0x80) !== 0,
      ad: (b3 & 0x20) !== 0,
      cd: (b3 & 0x10) !== 0,
      rcode,
      question: question ? [question] : [],
      answers: [],
      authority: [],
      additional: [],
    };
    return encodeMessage(m).buf;
  }

  /** SetRcode on a request without a question: ID, QR, opcode, RD and CD (for QUERY), the rcode. */
  private headerReply(req: Buffer, rcode: number): Buffer {
    const opcode = (req[2]! >> 3) & 0xf;
    const out = Buffer.alloc(12);
    req.copy(out, 0, 0, 2);
    out[2] = 0x80 | (opcode << 3) | (opcode === 0 ? req[2]! & 0x01 : 0);
    out[3] = (opcode === 0 ? req[3]! & 0x10 : 0) | (rcode & 0xf);
    return out;
  }

  /** The question QueryView found, its name in presentation form (labels escaped as miekg prints them). */
  private questionOf(buf: Buffer, r: { qtype: number; qclass: number }): Question {
    return { name: readName(buf, 12).name, type: r.qtype, class: r.qclass };
  }

  private async slowPath(buf: Buffer, tcp: boolean, family: number, remote: string, send: (out: Buffer) => void, t0: number, status: QueryStatus, r: RequestInfo): Promise<void> {
    switch (status) {
      case QueryStatus.Drop:
        return;
      case QueryStatus.NotImp:
        send(this.rejectReply(buf, RCODE.NOTIMP));
        return;
      case QueryStatus.FormErr:
        send(this.rejectReply(buf, RCODE.FORMERR, r.questionOk ? this.questionOf(buf, r) : undefined));
        return;
      case QueryStatus.NoQuestion: {
        // CoreDNS's ServeDNS: no question, SERVFAIL, counted as dropped.
        const out = this.headerReply(buf, RCODE.SERVFAIL);
        send(out);
        this.metrics.report(ZONE_DROPPED, tcp ? 1 : 0, family, 0, RCODE.SERVFAIL, PLUGIN_ID[''], (performance.now() - t0) / 1000, buf.length, out.length, false);
        return;
      }
      case QueryStatus.Ok:
        break;
    }
    const q = this.questionOf(buf, r);
    if (q.class !== CLASS_IN) {
      const out = this.errorReply(buf, r, q.name, q.type, RCODE.REFUSED);
      send(out);
      this.metrics.report(ZONE_DROPPED, tcp ? 1 : 0, family, q.type, RCODE.REFUSED, PLUGIN_ID[''], (performance.now() - t0) / 1000, buf.length, out.length, r.do);
      return;
    }
    if (r.edns && r.ednsVersion !== 0) {
      const m = replyTo(r, q.name, q.type);
      m.rcode = RCODE.BADVERS;
      m.edns = { udpSize: 0, do: false, version: 0, extRcode: 1, options: EMPTY };
      send(encodeMessage(m, 65535).buf);
      return;
    }
    let keyExact: string | undefined;
    if (!r.compressed && r.opcode === 0) {
      keyExact = buf.toString('latin1', 12, r.qnameEnd + 4);
      if (r.do) keyExact += '\u0001';
      if (r.cd) keyExact += '\u0002';
    }
    let out: Buffer;
    let rcode: number;
    let plugin: number;
    try {
      const res = await this.serve(q.name, q.type, buf, r, tcp, 0, keyExact);
      if (res.entry) {
        out = this.render(res.entry, buf, r, tcp, performance.now());
        rcode = res.entry.rcode;
      } else {
        out = this.errorReply(buf, r, q.name, q.type, res.error);
        rcode = res.error;
      }
      plugin = res.plugin;
    } catch (e) {
      this.opts.log?.(`[ERROR] plugin/errors: 2 ${q.name} ${typeName(q.type)}: ${e instanceof Error ? e.message : String(e)}`);
      out = this.errorReply(buf, r, q.name, q.type, RCODE.SERVFAIL);
      rcode = RCODE.SERVFAIL;
      plugin = PLUGIN_ID[''];
    }
    send(out);
    this.metrics.report(ZONE_ROOT, tcp ? 1 : 0, family, q.type, rcode, plugin, (performance.now() - t0) / 1000, buf.length, out.length, r.do);
    if (this.opts.logQueries) this.logQuery(buf, { ...r, qtype: q.type }, out, tcp, remote, t0, q.name);
  }

  /** The chain from the cache plugin on: cache → kubernetes → loop → forward, and back through the cache. */
  private async serve(
    qname: string,
    qtype: number,
    reqBuf: Buffer,
    r: RequestInfo,
    tcp: boolean,
    depth: number,
    keyExact: string | undefined,
  ): Promise<{ entry: Entry; plugin: number } | { entry?: undefined; error: number; plugin: number }> {
    const lc = lowerName(qname);
    const flags = (r.do ? '\u0001' : '') + (r.cd ? '\u0002' : '');
    let ckey: string | undefined;
    try {
      ckey = questionKey(lc, qtype, CLASS_IN) + flags;
    } catch {
      ckey = undefined;
    }
    const now = performance.now();
    if (this.cacheCfg && ckey !== undefined) {
      this.metrics.cacheRequests++;
      const hit = this.responses.get(ckey);
      if (hit && hit.kind === CACHED) {
        if (now < hit.expires) {
          this.metrics.cacheHits[hit.cls]++;
          return { entry: hit, plugin: PLUGIN_ID.cache };
        }
        this.responses.delete(ckey);
      }
      this.metrics.cacheMisses++;
    }
    const gen = this.gen;
    const res = resolve({ name: qname, type: qtype }, this.zone);
    if (res.action === 'refuse') return { error: RCODE.REFUSED, plugin: PLUGIN_ID[''] };
    let msg: Message;
    let plugin: number;
    if (res.action === 'answer') {
      msg = replyTo(r, qname, qtype);
      msg.aa = res.authoritative;
      msg.rcode = res.rcode;
      msg.answers = res.answers;
      msg.authority = res.authority;
      msg.additional = res.additional;
      if (res.chase && depth < 4) {
        const sub = await this.serve(res.chase.name, res.chase.type, reqBuf, r, tcp, depth + 1, undefined);
        if (sub.entry) {
          const ttl = sub.entry.kind === CACHED ? Math.max(0, sub.entry.ttl - Math.floor((performance.now() - sub.entry.stored) / 1000)) : undefined;
          msg.answers = [...msg.answers, ...sub.entry.msg.answers.map((a) => (ttl === undefined ? a : { ...a, ttl }))];
          if (sub.entry.msg.tc) msg.tc = true;
        }
      }
      plugin = PLUGIN_ID.kubernetes;
    } else {
      const loopLine = this.loop.seen(qtype, lc, this.opts.listen);
      if (loopLine) this.opts.onLoop?.(loopLine);
      const upstreams = this.opts.upstreams ?? [];
      let query: Buffer;
      if (depth === 0) query = reqBuf;
      else {
        const m = replyTo(r, qname, qtype);
        m.qr = false;
        m.rd = true;
        m.cd = r.cd;
        if (r.edns) m.edns = { udpSize: r.udpSize, do: r.do, version: 0, extRcode: 0, options: EMPTY };
        query = encodeMessage(m, 65535).buf;
      }
      try {
        const { reply } = await forwardQuery(query, tcp ? 'tcp' : 'udp', {
          upstreams,
          timeoutMs: this.opts.forwardTimeoutMs ?? 2000,
          deadlineMs: this.opts.forwardDeadlineMs ?? 5000,
          onTry: (u, outcome, secs) => {
            if (outcome === 'error') this.metrics.forwardFailure(upstreamText(u));
            else this.metrics.proxyRequest(upstreamText(u), outcome, secs);
          },
        });
        msg = decodeMessage(reply);
      } catch (e) {
        this.opts.log?.(`[ERROR] plugin/errors: 2 ${qname} ${typeName(qtype)}: ${e instanceof Error ? e.message : String(e)}`);
        return { error: RCODE.SERVFAIL, plugin: PLUGIN_ID[''] };
      }
      delete msg.edns;
      msg.question = [{ name: qname, type: qtype, class: CLASS_IN }];
      msg.id = r.id;
      plugin = PLUGIN_ID.forward;
    }

    // Back through the cache plugin's writer.
    const cfg = this.cacheCfg;
    const t = cacheResponseType(msg);
    let ttl = 0;
    if (cfg) {
      ttl = cacheDuration(msg, t, cfg);
      msg = withTtl(msg, ttl);
    }
    if (!r.do && !r.ad) msg.ad = false;
    const inCluster = isSubDomain(this.domain, lc);
    const fresh = makeEntry(msg, MEMO, plugin, gen, now, ttl, cacheClass(t));
    if (cfg && ckey !== undefined && ttl > 0 && isCacheable(msg, t) && (!inCluster || this.opts.cacheClusterNames === true)) {
      this.cache.store(ckey, makeEntry({ ...msg, aa: true }, CACHED, PLUGIN_ID.cache, gen, performance.now(), ttl, cacheClass(t)));
    } else if (plugin === PLUGIN_ID.kubernetes && !res.chase && keyExact !== undefined && depth === 0 && gen === this.gen && matchZone(lc, this.zone.config.zones) !== '') {
      // Not cached by the (emulated) cache plugin: kept until the zone changes.
      this.cache.store(keyExact, fresh);
    }
    return { entry: fresh, plugin };
  }

  logQuery(req: Buffer, r: QueryLogRequest, out: Buffer, tcp: boolean, remote: string, t0: number, name?: string): void {
    this.opts.log?.(queryLogLine(req, r, out, tcp, remote, t0, name));
  }
}

function listenHostForUdp(host: string): 'udp4' | 'udp6' {
  return net.isIPv6(host) ? 'udp6' : 'udp4';
}

function familyOf(address: string): number {
  if (net.isIPv4(address)) return 1;
  if (address.startsWith('::ffff:') && address.includes('.')) return 1;
  return 2;
}

async function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  const sock = dgram.createSocket({ type: listenHostForUdp(host) });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return sock;
}

async function listenTcp(server: net.Server, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * One TCP connection: 2-byte length framing (miekg's readTCP), any number
 * of messages per connection, partial reads buffered until a message is
 * whole (at most 2 + 65535 bytes are ever held). A connection that closes
 * mid-message just ends; each message is contained by onPacket.
 */
function serveTcp(engine: Engine, sock: net.Socket, open: Set<net.Socket>, log: ((line: string) => void) | undefined): void {
  open.add(sock);
  sock.on('close', () => open.delete(sock));
  let buf: Buffer = EMPTY;
  const remote = `${sock.remoteAddress ?? ''}:${sock.remotePort ?? 0}`;
  const family = familyOf(sock.remoteAddress ?? '');
  sock.setNoDelay(true);
  // miekg/dns: 8 s idle between queries on a connection.
  sock.setTimeout(8000, () => sock.destroy());
  sock.on('error', () => sock.destroy());
  const reply = (out: Buffer): void => {
    if (sock.destroyed || !sock.writable) return;
    const frame = Buffer.allocUnsafe(2 + out.length);
    frame.writeUInt16BE(out.length, 0);
    out.copy(frame, 2);
    sock.write(frame);
  };
  sock.on('data', (chunk: Buffer) => {
    try {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = Buffer.from(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        engine.onPacket(msg, true, family, remote, reply);
      }
    } catch (e) {
      // Only the framing runs here (onPacket contains its own failures): drop this connection, not the server.
      log?.(`[ERROR] tcp ${remote}: ${e instanceof Error ? e.message : String(e)}`);
      sock.destroy();
    }
  });
}

function serverLabelFor(l: ListenAddress, port: number): string {
  const host = l.host === '0.0.0.0' || l.host === '::' || l.host === '' ? '' : l.host;
  return `dns://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

interface HttpRoutes {
  [path: string]: () => { status: number; body: string; type?: string };
}

async function startHttp(addr: ListenAddress, routes: HttpRoutes, log: ((line: string) => void) | undefined): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path];
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
      return;
    }
    let r: ReturnType<HttpRoutes[string]>;
    try {
      r = route();
    } catch (e) {
      r = { status: 500, body: `${e instanceof Error ? e.message : String(e)}\n` };
    }
    res.writeHead(r.status, { 'Content-Type': r.type ?? 'text/plain; charset=utf-8' });
    res.end(r.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      server.on('error', (e) => log?.(`[ERROR] http ${addr.host}:${addr.port}: ${e.message}`));
      resolve();
    });
  });
  return server;
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const host = opts.listen.host || '0.0.0.0';
  // UDP first, then TCP on the same port (retrying when a random port is taken for TCP).
  let udp: dgram.Socket | undefined;
  const tcp = net.createServer();
  let port = opts.listen.port;
  for (let attempt = 0; ; attempt++) {
    udp = await bindUdp(host, opts.listen.port);
    port = (udp.address() as AddressInfo).port;
    try {
      await listenTcp(tcp, host, port);
      break;
    } catch (e) {
      udp.close();
      if (opts.listen.port !== 0 || attempt >= 20) throw e;
    }
  }
  const label = opts.serverLabel ?? serverLabelFor(opts.listen, port);
  const engine = new Engine(opts, label);
  const udpSock = udp;
  try {
    udpSock.setRecvBufferSize(4 << 20);
    udpSock.setSendBufferSize(4 << 20);
  } catch {
    // capped by net.core.rmem_max: fine
  }
  udpSock.on('message', (msg, rinfo) => {
    engine.onPacket(msg, false, rinfo.family === 'IPv6' ? familyOf(rinfo.address) : 1, `${rinfo.address}:${rinfo.port}`, (out) => {
      // Failed sends come back as the socket's 'error' event (logged below).
      udpSock.send(out, rinfo.port, rinfo.address);
    });
  });
  udpSock.on('error', (e) => opts.log?.(`[ERROR] udp ${host}:${port}: ${e.message}`));
  const tcpConns = new Set<net.Socket>();
  tcp.on('connection', (s) => serveTcp(engine, s, tcpConns, opts.log));
  // A failed accept (EMFILE under a connection flood) must not become an uncaught 'error' event.
  tcp.on('error', (e) => opts.log?.(`[ERROR] tcp ${host}:${port}: ${e.message}`));

  // HTTP endpoints; listeners on the same address share one server.
  const httpServers: http.Server[] = [];
  const byAddr = new Map<string, HttpRoutes>();
  const want: Array<[ListenAddress | undefined, string, HttpRoutes[string]]> = [
    [opts.metrics, '/metrics', () => ({ status: 200, body: engine.metrics.render(), type: 'text/plain; version=0.0.4; charset=utf-8' })],
    [opts.health, '/health', () => ({ status: 200, body: 'OK' })],
    [opts.ready, '/ready', () => (engine.zone.synced ? { status: 200, body: 'OK' } : { status: 503, body: 'kubernetes' })],
  ];
  const ports: Record<string, number | undefined> = {};
  for (const [addr, path, route] of want) {
    if (!addr) continue;
    const k = addr.port === 0 ? `${addr.host}:0:${path}` : `${addr.host}:${addr.port}`;
    const routes = byAddr.get(k) ?? {};
    routes[path] = route;
    byAddr.set(k, routes);
  }
  try {
    for (const [k, routes] of byAddr) {
      const [h = '', p = '0'] = k.split(':');
      const s = await startHttp({ host: h, port: Number(p) }, routes, opts.log);
      httpServers.push(s);
      for (const path of Object.keys(routes)) ports[path] = (s.address() as AddressInfo).port;
    }
  } catch (e) {
    udpSock.close();
    tcp.close();
    for (const s of httpServers) s.close();
    throw e;
  }

  // The loop plugin's start-up probe.
  const probe = opts.loopCheck ? startLoopProbe(engine.loop, host, port) : undefined;

  return {
    host,
    port,
    metricsPort: ports['/metrics'],
    healthPort: ports['/health'],
    readyPort: ports['/ready'],
    get zone() {
      return engine.zone;
    },
    setZone(z: ZoneIndex) {
      engine.setZone(z);
    },
    metricsText: () => engine.metrics.render(),
    async close() {
      probe?.stop();
      await Promise.all([
        new Promise<void>((resolve) => udpSock.close(() => resolve())),
        new Promise<void>((resolve) => {
          tcp.close(() => resolve());
          for (const c of tcpConns) c.destroy();
        }),
        ...httpServers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      ]);
    },
  };
}
