// Parsing `nft -a monitor trace` output recorded on this machine (kernel
// 6.18, nft 1.0.6), rule listings and iptables-save text, the trace table
// script, and the words for where a probe ended.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHeader, parseTrace, parseTraceLine, splitPackets } from '../../../src/trace/nft-trace.js';
import { describeOutcome, probeEnd, routeNextHop } from '../../../src/trace/outcome.js';
import { buildPath, type NetnsCapture } from '../../../src/trace/path.js';
import { isIptablesNftTable, parseRuleListing, withIptablesText } from '../../../src/trace/rule-listing.js';
import { matchText, traceTableName, traceTableScript } from '../../../src/trace/trace-rules.js';
import { ruleAction } from '../../../src/trace/format.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

describe('nft monitor trace parsing', () => {
  it('reads packet, rule (with handle and verdict) and policy lines of a recorded ping', () => {
    const events = parseTrace(fixture('loopback-ping.monitor.txt'));
    expect(events.map((e) => `${e.kind} ${e.table} ${e.chain}`)).toEqual([
      'packet nslab-trace-t1 trace-out',
      'rule nslab-trace-t1 trace-out',
      'policy nslab-trace-t1 trace-out',
      'packet nslab-trace-t1 seen-postrouting',
      'policy nslab-trace-t1 seen-postrouting',
      'packet nslab-trace-t1 trace-pre',
      'rule nslab-trace-t1 trace-pre',
      'policy nslab-trace-t1 trace-pre',
      'packet nslab-trace-t1 seen-input',
      'policy nslab-trace-t1 seen-input',
      'packet filt input',
      'rule filt input',
      'policy filt input',
    ]);
    const rule = events[11];
    expect(rule).toEqual({
      kind: 'rule',
      id: 'cac19810',
      family: 'ip',
      table: 'filt',
      chain: 'input',
      rule: 'icmp type echo-request counter packets 0 bytes 0 comment "hello there"',
      handle: 2,
      verdict: 'continue',
    });
    const first = events[0];
    expect(first?.kind === 'packet' ? first.header : undefined).toEqual({
      oif: 'lo',
      saddr: '127.0.0.1',
      daddr: '127.0.0.1',
      icmpType: 'echo-request',
      icmpId: 7148,
      ipId: 57448,
      ttl: 64,
    });
  });

  it('reads a jump verdict, a goto through a verdict map, and a TCP header', () => {
    const jump = parseTraceLine('trace id ac6396d1 ip nat KUBE-SERVICES rule meta l4proto tcp ip daddr 10.96.0.5  tcp dport 80 counter packets 1 bytes 60 jump KUBE-SVC-TEST # handle 17 (verdict jump KUBE-SVC-TEST)');
    expect(jump).toMatchObject({ kind: 'rule', chain: 'KUBE-SERVICES', handle: 17, verdict: 'jump KUBE-SVC-TEST' });
    const vmap = parseTraceLine(
      'trace id 015c32ed ip kube-proxy service-ULMVA6XW-default/web/tcp/http rule numgen random mod 2 vmap { 0 : goto endpoint-5OJB2KTY-default/web/tcp/http__10.10.1.2/80, 1 : goto endpoint-GQVB3WPM-default/web/tcp/http__10.10.1.3/80 } (verdict goto endpoint-5OJB2KTY-default/web/tcp/http__10.10.1.2/80)',
    );
    expect(vmap).toMatchObject({ kind: 'rule', chain: 'service-ULMVA6XW-default/web/tcp/http', verdict: 'goto endpoint-5OJB2KTY-default/web/tcp/http__10.10.1.2/80' });
    expect(parseHeader('iif "eth0" ip saddr 192.168.50.2 ip daddr 10.96.0.5 ip ttl 63 ip id 30403 tcp sport 54842 tcp dport 80 tcp flags == syn')).toEqual({
      iif: 'eth0',
      saddr: '192.168.50.2',
      daddr: '10.96.0.5',
      ttl: 63,
      ipId: 30403,
      sport: 54842,
      dport: 80,
      tcpFlags: 'syn',
    });
    expect(parseTraceLine('listening for trace events')).toBeUndefined();
  });

  it('starts a new packet when a reused trace id enters a chain it already went through', () => {
    const line = (ipId: number) => `trace id aaaa ip t c packet: iif "eth0" ip saddr 1.1.1.1 ip daddr 2.2.2.2 ip id ${ipId}`;
    const packets = splitPackets(parseTrace([line(1), 'trace id aaaa ip t c policy accept', line(2), 'trace id aaaa ip t c policy accept'].join('\n')));
    expect(packets).toHaveLength(2);
  });
});

describe('rule text for handles', () => {
  const listing = `table ip nat { # handle 3
\tchain KUBE-SERVICES { # handle 1
\t\tmeta l4proto tcp ip daddr 10.96.0.5  tcp dport 80 counter packets 0 bytes 0 jump KUBE-SVC-TEST # handle 17
\t\t counter packets 0 bytes 0 jump KUBE-NODEPORTS # handle 18
\t}
\tchain PREROUTING { # handle 2
\t\ttype nat hook prerouting priority -100; policy accept;
\t\t counter packets 0 bytes 0 jump KUBE-SERVICES # handle 10
\t}
}
# Warning: table ip nat is managed by iptables-nft, do not touch!
`;
  const save = `*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.5/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-TEST
-A KUBE-SERVICES -m comment --comment kubernetes-nodeports -j KUBE-NODEPORTS
COMMIT
`;

  it("gives iptables-nft rules their iptables-save text and comment, by position in the chain", () => {
    expect(isIptablesNftTable(listing)).toBe(true);
    const rules = withIptablesText(parseRuleListing(listing), save);
    expect(rules.map((r) => [r.chain, r.handle, r.comment])).toEqual([
      ['KUBE-SERVICES', 17, 'default/web:http cluster IP'],
      ['KUBE-SERVICES', 18, 'kubernetes-nodeports'],
      ['PREROUTING', 10, 'kubernetes service portals'],
    ]);
    expect(rules[0]?.text).toBe('-A KUBE-SERVICES -d 10.96.0.5/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-TEST');
  });

  it('keeps native nft comments', () => {
    const rules = parseRuleListing(`table ip kube-proxy { # handle 9
\tchain filter-forward { # handle 4
\t\ttype filter hook forward priority -110; policy accept;
\t\tct state new jump service-endpoints-check # handle 12
\t\tip daddr 10.96.0.9 tcp dport 8080 reject with icmp port-unreachable comment "default/empty has no endpoints" # handle 30
\t}
}`);
    expect(rules.map((r) => [r.handle, r.comment])).toEqual([
      [12, undefined],
      [30, 'default/empty has no endpoints'],
    ]);
  });
});

describe('the trace table', () => {
  it('traces only the probe: its SYN to its destination from its source port', () => {
    expect(matchText({ proto: 'tcp', daddr: '10.96.0.5', dports: [80], sport: 40123 })).toBe('ip daddr 10.96.0.5 meta l4proto tcp tcp sport 40123 tcp dport 80 tcp flags & (syn | ack) == syn');
    expect(matchText({ proto: 'tcp', dports: [30080, 80, 80] })).toBe('meta l4proto tcp tcp dport { 80, 30080 } tcp flags & (syn | ack) == syn');
    expect(matchText({ proto: 'icmp', daddr: '10.96.0.5' })).toBe('ip daddr 10.96.0.5 icmp type echo-request');
    expect(() => matchText({ proto: 'tcp', daddr: '10.96.0.5; flush ruleset' })).toThrow(/invalid address/);
    expect(() => traceTableName('../x')).toThrow();
  });

  it('sets the trace flag before everything else and adds sentinel chains per hook', () => {
    const s = traceTableScript('nslab-trace-ab12', [{ proto: 'icmp' }]);
    expect(s).toContain('chain trace-pre {\n    type filter hook prerouting priority -350; policy accept;\n    icmp type echo-request meta nftrace set 1\n  }');
    expect(s).toContain('chain trace-out {\n    type filter hook output priority -350;');
    expect(s).toContain('chain seen-postrouting {\n    type filter hook postrouting priority 500; policy accept;\n  }');
  });
});

describe('the path and where it ended', () => {
  it('the recorded loopback ping is two visits of one namespace: sent, then delivered back to it', () => {
    const capture: NetnsCapture = { netns: 'probe', label: 'host probe', monitor: fixture('loopback-ping.monitor.txt'), rules: [] };
    const hops = buildPath([capture]);
    expect(hops.map((h) => [h.hooks, h.end])).toEqual([
      [['output', 'postrouting'], 'sent'],
      [['prerouting', 'input'], 'delivered'],
    ]);
    expect(hops[1]?.steps.map((s) => s.chain)).toEqual(['input']);
  });

  it('follows the probe by IP id across namespaces, ordered by TTL, ignoring other packets', () => {
    const pkt = (ns: string, id: string, chain: string, hdr: string) => `trace id ${id} ip ${ns} ${chain} packet: ${hdr}`;
    const src = [pkt('nslab-trace-x', '1', 'trace-out', 'oif "eth0" ip saddr 10.10.0.2 ip daddr 10.96.0.5 ip ttl 64 ip id 777 tcp sport 40000 tcp dport 80'), pkt('nslab-trace-x', '1', 'seen-postrouting', 'oif "eth0" ip saddr 10.10.0.2 ip daddr 10.96.0.5 ip ttl 64 ip id 777 tcp sport 40000 tcp dport 80')].join('\n');
    const node = [
      pkt('nslab-trace-x', '9', 'trace-pre', 'iif "cni0" ip saddr 10.10.0.1 ip daddr 10.10.0.2 ip ttl 64 ip id 5 tcp sport 5555 tcp dport 80'),
      pkt('nslab-trace-x', '2', 'trace-pre', 'iif "cni0" ip saddr 10.10.0.2 ip daddr 10.96.0.5 ip ttl 64 ip id 777 tcp sport 40000 tcp dport 80'),
      'trace id 2 ip nat KUBE-SEP-A rule meta l4proto tcp   counter packets 0 bytes 0 dnat to 10.10.1.2:80 # handle 21 (verdict accept)',
      pkt('nslab-trace-x', '2', 'seen-forward', 'iif "cni0" oif "eth0" ip saddr 10.10.0.2 ip daddr 10.10.1.2 ip ttl 63 ip id 777 tcp sport 40000 tcp dport 80'),
      pkt('nslab-trace-x', '2', 'seen-postrouting', 'iif "cni0" oif "eth0" ip saddr 10.10.0.2 ip daddr 10.10.1.2 ip ttl 63 ip id 777 tcp sport 40000 tcp dport 80'),
    ].join('\n');
    const pod = [pkt('nslab-trace-x', '3', 'trace-pre', 'iif "eth0" ip saddr 10.10.0.2 ip daddr 10.10.1.2 ip ttl 62 ip id 777 tcp sport 40000 tcp dport 80'), pkt('nslab-trace-x', '3', 'seen-input', 'iif "eth0" ip saddr 10.10.0.2 ip daddr 10.10.1.2 ip ttl 62 ip id 777 tcp sport 40000 tcp dport 80')].join('\n');
    const hops = buildPath([
      { netns: 'a', label: 'pod default/client', monitor: src, rules: [] },
      { netns: 'c', label: 'pod default/web', monitor: pod, rules: [] },
      { netns: 'b', label: 'node master', monitor: node, rules: [] },
    ]);
    expect(hops.map((h) => [h.label, h.end])).toEqual([
      ['pod default/client', 'sent'],
      ['node master', 'forwarded'],
      ['pod default/web', 'delivered'],
    ]);
    expect(hops[1]?.in?.daddr).toBe('10.96.0.5');
    expect(hops[1]?.out?.daddr).toBe('10.10.1.2');
    expect(hops[1]?.steps.map((s) => s.verdict)).toEqual(['accept']);
  });

  it('says a ping of a ClusterIP with no rule went to the default gateway and died there', () => {
    const hop = { netns: 'n', label: 'node master', hooks: ['prerouting', 'forward', 'postrouting'], steps: [], end: 'forwarded' as const, out: { oif: 'eth0' } };
    const ctx = new Map([['n', { route: '10.96.0.5 from 10.10.0.2 via 192.168.10.1 dev eth0\n    cache iif cni0', gateway: '192.168.10.1' }]]);
    expect(describeOutcome('no answer', [hop], ctx, 'pod x', undefined).summary).toBe(
      "no answer: no rule matched; routed to node master's default gateway 192.168.10.1 (dev eth0); dropped there",
    );
    expect(routeNextHop('10.10.1.2 via 192.168.10.220 dev eth0 src 192.168.10.210')).toEqual({ via: '192.168.10.220', dev: 'eth0' });
  });

  it('names the rule that rejected, the pod that refused, and a probe that never reached a hook', () => {
    const rejectStep = { table: 'ip filter', chain: 'KUBE-SERVICES', rule: '-A KUBE-SERVICES ... -j REJECT --reject-with icmp-port-unreachable', comment: 'default/empty has no endpoints', verdict: 'drop' };
    const rejected = { netns: 'n', label: 'node master', hooks: ['prerouting', 'forward'], steps: [rejectStep], end: 'rejected' as const, endStep: rejectStep };
    expect(describeOutcome('refused', [rejected], new Map(), 'pod x', undefined).summary).toBe('refused: rejected by rule "default/empty has no endpoints" in node master');
    const pod = { netns: 'p', label: 'pod default/web', hooks: ['prerouting', 'input'], steps: [], end: 'delivered' as const, in: { daddr: '10.10.1.2', dport: 81 } };
    expect(describeOutcome('refused', [pod], new Map(), 'pod x', undefined).summary).toMatch(/^refused by pod default\/web \(10\.10\.1\.2:81\): nothing listens there/);
    expect(describeOutcome('unreachable', [], new Map(), 'node master', 'RTNETLINK answers: Network is unreachable').summary).toBe(
      'unreachable; the packet never reached a netfilter hook in node master (it failed before any hook: RTNETLINK answers: Network is unreachable)',
    );
  });

  it('reads how the probe command ended', () => {
    expect(probeEnd('tcp', 0, '200')).toBe('answered');
    expect(probeEnd('tcp', 7, 'curl: (7) Failed to connect to 10.10.1.2 port 81 after 0 ms: Couldn\'t connect to server\nConnection refused')).toBe('refused');
    expect(probeEnd('tcp', 28, 'curl: (28) Connection timed out after 2001 milliseconds')).toBe('no answer');
    expect(probeEnd('icmp', 1, '1 packets transmitted, 0 received, 100% packet loss')).toBe('no answer');
    expect(probeEnd('icmp', 1, 'From 10.10.0.1 icmp_seq=1 Destination Port Unreachable')).toBe('refused');
  });
});

describe('recorded traces of the course lab (iptables mode)', () => {
  interface Recorded {
    captures: NetnsCapture[];
  }
  const recorded = (name: string) => JSON.parse(fixture(`${name}.json`)) as Recorded;

  it('pod -> ClusterIP with a remote endpoint: pod, its node (DNAT), the other node, the endpoint pod', () => {
    const hops = buildPath(recorded('iptables-pod-to-clusterip-remote').captures);
    expect(hops.map((h) => `${h.label} ${h.end}`)).toEqual([
      'pod default/ngx-dep-57f9dfb686-6llc9 sent',
      'node master forwarded',
      'node worker forwarded',
      'pod default/ngx-dep-57f9dfb686-z2ddc delivered',
    ]);
    const master = hops[1];
    // nft's trace lost the iptables comments; the handle -> iptables-save mapping brings them back.
    expect(master?.steps.slice(0, 4).map((s) => s.comment)).toEqual([
      'kubernetes service portals',
      'default/ngx-svc cluster IP',
      'default/ngx-svc -> 10.10.1.3:80',
      'default/ngx-svc',
    ]);
    expect(ruleAction(master?.steps[3]?.rule)).toBe('DNAT --to-destination 10.10.1.3:80');
    expect(master?.in?.daddr).toBe('10.105.181.181');
    expect(master?.out?.daddr).toBe('10.10.1.3');
  });

  it('ping of the ClusterIP: no DNAT on the node, out of its default route', () => {
    const hops = buildPath(recorded('iptables-ping-clusterip').captures);
    expect(hops.map((h) => `${h.label} ${h.end}`)).toEqual(['pod default/ngx-dep-57f9dfb686-6llc9 sent', 'node master forwarded']);
    expect(hops[1]?.steps.some((s) => ruleAction(s.rule)?.startsWith('DNAT'))).toBe(false);
    expect(hops[1]?.out?.oif).toBe('eth0');
  });

  it('a Service with no endpoints: the filter rule that rejects it, with its comment', () => {
    const hops = buildPath(recorded('iptables-no-endpoints').captures);
    expect(hops[1]?.end).toBe('rejected');
    expect(hops[1]?.endStep?.comment).toBe('default/empty-svc has no endpoints');
    expect(ruleAction(hops[1]?.endStep?.rule)).toBe('REJECT --reject-with icmp-port-unreachable');
  });
});

describe('a recorded trace of the course lab (nftables mode)', () => {
  it('a pod to its own Service: the verdict map element, the numgen branch, DNAT back to itself, masquerade', () => {
    const { captures } = JSON.parse(fixture('nftables-pod-to-own-service.json')) as { captures: NetnsCapture[] };
    const hops = buildPath(captures);
    expect(hops.map((h) => `${h.label} ${h.end}`)).toEqual(['pod default/ngx-dep-57f9dfb686-mcb8l sent', 'node master forwarded', 'pod default/ngx-dep-57f9dfb686-mcb8l delivered']);
    const verdicts = hops[1]?.steps.map((s) => s.verdict) ?? [];
    expect(verdicts).toContain('goto service-FQ4DLQQ3-default/ngx-svc/tcp/');
    expect(verdicts).toContain('goto endpoint-XNFVWPTX-default/ngx-svc/tcp/__10.10.0.3/80');
    expect(hops[1]?.steps.map((s) => ruleAction(s.rule)).filter(Boolean)).toEqual(['dnat to 10.10.0.3:80', 'masquerade fully-random']);
    // Hairpin: the pod sees its own connection come back from the node's address.
    expect(hops[2]?.in).toMatchObject({ saddr: '10.10.0.1', daddr: '10.10.0.3', dport: 80 });
  });
});
