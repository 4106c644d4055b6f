// `nslab trace FROM TO`: one real probe, followed by the kernel's own nf_tables
// trace in every namespace it may cross. A private trace table goes into each
// namespace, a monitor listens there, the probe goes out, and then every trace
// table is removed again, whatever happened (and checked).
import { randomBytes, randomInt } from 'node:crypto';
import type { LabApiClient } from '../client/api-client.js';
import { UsageError } from '../labfile/errors.js';
import type { LabRecord } from '../plan/lab-record.js';
import type { ProcessLauncher } from '../sys/launcher.js';
import type { CommandRunner } from '../sys/runner.js';
import {
  conntrackList,
  iptablesSave,
  nftApply,
  nftDeleteTable,
  nftListTable,
  nftTables,
  routeGet,
  sendProbe,
  startTraceMonitor,
  type TraceMonitor,
} from '../sys/trace-tools.js';
import { resolveDestination } from './destination.js';
import { parseTrace } from './nft-trace.js';
import { describeOutcome, probeEnd, type HopContext, type Outcome, type ProbeEnd } from './outcome.js';
import { buildPath, TRACE_TABLE_PREFIX, type Hop, type NetnsCapture } from './path.js';
import { isIptablesNftTable, parseRuleListing, withIptablesText, type ListedRule } from './rule-listing.js';
import { resolveNetnsTarget } from './targets.js';
import { traceTableName, traceTableScript, type TraceMatch, type TraceProto } from './trace-rules.js';

export interface TraceRequest {
  lab: string;
  record: LabRecord;
  api: LabApiClient;
  from: string;
  to: string;
  proto: TraceProto;
  namespace?: string;
}

export interface TracedHop extends Hop {
  route?: string;
  conntrack?: string[];
}

export interface TraceReport {
  lab: string;
  proxyMode: string;
  from: { target: string; netns: string; ip?: string };
  to: { target: string; ip: string; port?: number };
  proto: TraceProto;
  /** The probe's source port (tcp, udp). */
  sport?: number;
  probe: { command: ProbeEnd; exitCode: number; output: string };
  hops: TracedHop[];
  outcome: Outcome;
  /** Namespaces traced, and trace tables found left in them after cleanup (always empty unless cleanup failed). */
  traced: string[];
  leftover: string[];
  /** What each namespace's monitor printed and the rules it named: the evidence, for tools and for tests. */
  captures: NetnsCapture[];
}

interface Place {
  netns: string;
  label: string;
  gateway?: string;
}

const IPTABLES_TABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rules of every table the events went through, with iptables-save text where nft lost the comments. */
async function rulesOf(runner: CommandRunner, netns: string, monitor: string): Promise<ListedRule[]> {
  const tables = new Set(parseTrace(monitor).flatMap((e) => (e.table.startsWith(TRACE_TABLE_PREFIX) ? [] : [`${e.family} ${e.table}`])));
  const out: ListedRule[] = [];
  for (const t of tables) {
    const [family = '', table = ''] = t.split(' ');
    const listing = await nftListTable(runner, netns, family, table);
    const rules = parseRuleListing(listing);
    // nft warns that iptables-nft manages a table on stderr, so go by the table's name.
    const iptables = family === 'ip' && (IPTABLES_TABLES.has(table) || isIptablesNftTable(listing));
    out.push(...(iptables ? withIptablesText(rules, await iptablesSave(runner, netns, table)) : rules));
  }
  return out;
}

export async function runTrace(req: TraceRequest, runner: CommandRunner, launcher: ProcessLauncher): Promise<TraceReport> {
  const { lab, record } = req;
  const from = await resolveNetnsTarget(lab, record, req.api, req.from, req.namespace);
  if (from.kind === 'segment') throw new UsageError('trace from a pod, node or host, not a segment');
  const dst = await resolveDestination(lab, record, req.api, req.to, req.namespace);
  if (req.proto !== 'icmp' && dst.port === undefined) throw new UsageError(`"${req.to}": name a port for ${req.proto} (e.g. ${req.to}:80), or use --proto icmp`);
  const sport = req.proto === 'icmp' ? undefined : randomInt(40000, 60000);

  const gatewayOf = (name: string, kind: 'node' | 'host') => (kind === 'node' ? record.plan.nodes : record.plan.hosts).find((m) => m.name === name)?.defaultRoute?.via;
  const source: Place = {
    netns: from.netns,
    label: `${from.kind} ${from.name}`,
    ...(from.kind !== 'pod' && gatewayOf(from.name, from.kind) ? { gateway: gatewayOf(from.name, from.kind) } : {}),
  };
  const places: Place[] = [source];
  for (const n of record.plan.nodes) {
    if (n.netns !== source.netns) places.push({ netns: n.netns, label: `node ${n.name}`, ...(n.defaultRoute ? { gateway: n.defaultRoute.via } : {}) });
  }
  for (const p of dst.pods) if (!places.some((x) => x.netns === p.netns)) places.push({ netns: p.netns, label: `pod ${p.namespace}/${p.name}` });

  const table = traceTableName(randomBytes(4).toString('hex'));
  const sourceMatch: TraceMatch = { proto: req.proto, daddr: dst.ip, ...(dst.port ? { dports: [dst.port] } : {}), ...(sport ? { sport } : {}) };
  const otherMatch: TraceMatch = { proto: req.proto, dports: dst.dports };
  const monitors: Array<{ place: Place; monitor: TraceMonitor }> = [];
  const texts = new Map<string, string>();
  let probe = { exitCode: -1, stdout: '', stderr: '' };
  try {
    for (const place of places) {
      await nftApply(runner, place.netns, traceTableScript(table, place === source ? [sourceMatch, otherMatch] : [otherMatch]));
      monitors.push({ place, monitor: await startTraceMonitor(lab, launcher, place.netns) });
    }
    // Measured: a monitor started less than ~100 ms before the packet can miss it.
    await sleep(250);
    probe = await sendProbe(runner, source.netns, { proto: req.proto, dst: dst.ip, ...(dst.port ? { port: dst.port } : {}), ...(sport ? { sport } : {}) });
    await sleep(300);
  } finally {
    for (const m of monitors) texts.set(m.place.netns, await m.monitor.stop());
    for (const place of places) await nftDeleteTable(runner, place.netns, 'ip', table);
  }
  const leftover: string[] = [];
  for (const place of places) {
    for (const t of await nftTables(runner, place.netns)) if (t.includes(TRACE_TABLE_PREFIX)) leftover.push(`${place.netns}: ${t}`);
  }

  const captures: NetnsCapture[] = [];
  for (const place of places) {
    const monitor = texts.get(place.netns) ?? '';
    captures.push({ netns: place.netns, label: place.label, monitor, rules: await rulesOf(runner, place.netns, monitor) });
  }
  const hops: TracedHop[] = buildPath(captures);
  const ctx = new Map<string, HopContext>();
  for (const hop of hops) {
    const place = places.find((p) => p.netns === hop.netns);
    const daddr = hop.out?.daddr ?? hop.in?.daddr;
    if (daddr) {
      const arrived = hop.in?.iif !== undefined && hop.in.saddr !== undefined;
      hop.route = await routeGet(runner, hop.netns, { dst: daddr, ...(arrived ? { from: hop.in?.saddr, iif: hop.in?.iif } : {}) });
    }
    if (hop.in?.saddr && place && !place.label.startsWith('pod ')) {
      const ct = await conntrackList(runner, hop.netns, req.proto, hop.in.saddr, hop.in.sport);
      if (ct.length) hop.conntrack = ct;
    }
    ctx.set(hop.netns, { ...(hop.route ? { route: hop.route } : {}), ...(place?.gateway ? { gateway: place.gateway } : {}) });
  }
  const output = `${probe.stdout}${probe.stderr}`.trim();
  const end = probeEnd(req.proto, probe.exitCode, output);
  const sourceRoute = hops.length === 0 ? await routeGet(runner, source.netns, { dst: dst.ip }) : undefined;
  return {
    lab,
    proxyMode: record.spec.cluster.proxyMode,
    from: { target: req.from, netns: from.netns, ...(from.ip ? { ip: from.ip } : {}) },
    to: { target: dst.text, ip: dst.ip, ...(dst.port ? { port: dst.port } : {}) },
    proto: req.proto,
    ...(sport ? { sport } : {}),
    probe: { command: end, exitCode: probe.exitCode, output },
    hops,
    outcome: describeOutcome(end, hops, ctx, source.label, sourceRoute),
    traced: places.map((p) => p.netns),
    leftover,
    captures,
  };
}
