// The loop plugin's detector and the log plugin's line, each in its own file now.
import { describe, expect, it } from 'vitest';
import { LoopDetector } from '../../../src/dns/loop.js';
import { flagText, queryLogLine } from '../../../src/dns/query-log.js';
import { encodeMessage, TYPE, type Message } from '../../../src/dns/wire.js';

describe('loop detector', () => {
  const listen = { host: '10.244.1.5', port: 53 };

  it('reports the probe the third time it would be forwarded, once, then stops looking', () => {
    const d = new LoopDetector();
    d.begin();
    expect(d.name).toMatch(/^\d+\.\d+\.$/);
    expect(d.seen(TYPE.HINFO, d.name, listen)).toBeUndefined();
    expect(d.seen(TYPE.HINFO, d.name, listen)).toBeUndefined();
    expect(d.seen(TYPE.HINFO, d.name, listen)).toBe(
      `[FATAL] plugin/loop: Loop (127.0.0.1 -> 10.244.1.5:53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${d.name}"`,
    );
    expect(d.active).toBe(false);
    expect(d.seen(TYPE.HINFO, d.name, listen)).toBeUndefined();
  });

  it('ignores other names and types, and everything before it begins', () => {
    const d = new LoopDetector();
    for (let i = 0; i < 5; i++) expect(d.seen(TYPE.HINFO, '', listen)).toBeUndefined();
    d.begin();
    for (let i = 0; i < 5; i++) {
      expect(d.seen(TYPE.A, d.name, listen)).toBeUndefined();
      expect(d.seen(TYPE.HINFO, `x${d.name}`, listen)).toBeUndefined();
    }
    expect(d.active).toBe(true);
  });
});

describe('query log line', () => {
  const reply: Message = {
    id: 4711, qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, ad: false, cd: false, rcode: 0,
    question: [{ name: 'web.default.svc.cluster.local.', type: TYPE.A, class: 1 }],
    answers: [], authority: [], additional: [],
  };
  const query = encodeMessage({ ...reply, qr: false, aa: false }).buf;
  const out = encodeMessage(reply).buf;

  it('prints the flags as dig does', () => {
    expect(flagText(out)).toBe('qr,aa,rd');
  });

  it("is CoreDNS's common log format, decoding the question when not given it", () => {
    const line = queryLogLine(query, { qtype: TYPE.A, id: 4711, do: false, edns: false, udpSize: 0, qnameEnd: 0 }, out, false, '10.244.1.7:40123', performance.now());
    expect(line).toMatch(new RegExp(`^\\[INFO\\] 10\\.244\\.1\\.7:40123 - 4711 "A IN web\\.default\\.svc\\.cluster\\.local\\. udp ${query.length} false 512" NOERROR qr,aa,rd ${out.length} [0-9.]+s$`));
    expect(queryLogLine(query, { qtype: TYPE.A, id: 1, do: true, edns: true, udpSize: 1232, qnameEnd: 0 }, out, true, 'c', performance.now(), 'given.')).toContain('"A IN given. tcp');
  });
});
