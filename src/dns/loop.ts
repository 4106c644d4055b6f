// The loop plugin (plugin/loop): at start the server sends itself an HINFO
// query for a random name; if that query comes back through forward more
// than twice, the upstream forwards to us, and the server says so
// (onLoop: the DNS pod exits, as CoreDNS does with log.Fatal). Detection
// ends once the probe was answered (or after 30 s of trying).
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import net from 'node:net';
import { CLASS_IN, encodeMessage, TYPE, type Message } from './wire.js';

export class LoopDetector {
  name = '';
  active = false;
  private count = 0;

  /** A fresh random probe name; detection on. */
  begin(): void {
    this.name = `${randomInt(2 ** 47)}.${randomInt(2 ** 47)}.`;
    this.active = true;
  }

  /**
   * A query about to be forwarded (lower-case name): the fatal log line when
   * it is the probe seen for the third time, else undefined.
   */
  seen(qtype: number, lowerName: string, listen: { host: string; port: number }): string | undefined {
    if (!this.active || qtype !== TYPE.HINFO || lowerName !== this.name) return undefined;
    this.count++;
    if (this.count <= 2) return undefined;
    this.active = false;
    return `[FATAL] plugin/loop: Loop (${'127.0.0.1'} -> ${listen.host || ''}:${listen.port}) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${this.name}"`;
  }
}

/** Sends the probe to the server at host:port until it is answered (then 2 s more) or 30 s passed. */
export function startLoopProbe(detector: LoopDetector, host: string, port: number): { stop(): void } {
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  detector.begin();
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const deadline = performance.now() + 30_000;
  const probe = (): void => {
    if (closed || !detector.active) return;
    const m: Message = {
      id: randomInt(65536),
      qr: false,
      opcode: 0,
      aa: false,
      tc: false,
      rd: true,
      ra: false,
      ad: false,
      cd: false,
      rcode: 0,
      question: [{ name: detector.name, type: TYPE.HINFO, class: CLASS_IN }],
      answers: [],
      authority: [],
      additional: [],
    };
    const sock = dgram.createSocket(net.isIPv6(target) ? 'udp6' : 'udp4');
    let answered = false;
    const t = setTimeout(() => {
      timers.delete(t);
      sock.close();
      if (!answered && performance.now() < deadline) {
        const again = setTimeout(() => {
          timers.delete(again);
          probe();
        }, 1000);
        timers.add(again);
      } else detector.active = false;
    }, 2000);
    timers.add(t);
    sock.on('error', () => undefined);
    sock.on('message', () => {
      answered = true;
      clearTimeout(t);
      timers.delete(t);
      sock.close();
      const off = setTimeout(() => {
        timers.delete(off);
        detector.active = false;
      }, 2000);
      timers.add(off);
    });
    sock.send(encodeMessage(m).buf, port, target);
  };
  probe();
  return {
    stop() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
