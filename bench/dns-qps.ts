// Queries per second of nslab's cluster DNS server against dnsmasq, side by
// side in one run on this machine, measured with dnsperf over loopback.
// Both serve the same names: SERVICES ClusterIP Services
// (svc-NNN.default.svc.cluster.local); dnsmasq gets them as --host-record
// entries with --local=/cluster.local/ so it answers the rest of the domain
// itself (NXDOMAIN), as our server does.
//
// Mixes: "a" = A queries for the Services (what `curl svc` resolves first);
// "pod-lookup" = what glibc sends for `curl svc-NNN.default` from a pod with
// ndots:5: A+AAAA of svc-NNN.default.default.svc.cluster.local (NXDOMAIN), then
// A+AAAA of svc-NNN.default.svc.cluster.local (an answer and a NODATA).
// Each mix runs ROUNDS times per server, alternating which server goes
// first, SECONDS each; the table shows the median.
//
// Bounded: at most 2 mixes x ROUNDS x 2 servers x SECONDS of dnsperf, plus
// start-up; loopback only (127.0.0.2 and 127.0.0.3). Needs dnsperf and
// dnsmasq (Debian: apt-get install dnsperf dnsmasq-base), not root.
// Usage: node dist/bench/dns-qps.js [SECONDS=10] [SERVICES=100] [ROUNDS=3] [CLIENTS=10]

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const mainJs = path.join(root, 'dist', 'src', 'dns', 'main.js');
const seconds = Math.min(60, Number(process.argv[2] ?? 10));
const services = Math.min(5000, Number(process.argv[3] ?? 100));
const rounds = Math.min(5, Number(process.argv[4] ?? 3));
const clients = Math.min(100, Number(process.argv[5] ?? 10));
const OURS = { name: 'nslab dns', host: '127.0.0.2', port: 15353 };
const DNSMASQ = { name: 'dnsmasq', host: '127.0.0.3', port: 15354 };

function which(cmd: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    try {
      execFileSync('test', ['-x', path.join(dir, cmd)]);
      return path.join(dir, cmd);
    } catch {
      // next
    }
  }
  return undefined;
}

const dnsperf = which('dnsperf');
const dnsmasq = which('dnsmasq');
if (!dnsperf || !dnsmasq) {
  console.error('needs dnsperf and dnsmasq: apt-get install -y dnsperf dnsmasq-base');
  process.exit(2);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'nslab-dns-bench-'));
const children: ChildProcess[] = [];

function svcIP(i: number): string {
  return `10.96.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function dig(server: { host: string; port: number }, name: string, type = 'A'): string {
  try {
    return execFileSync('dig', [`@${server.host}`, '-p', String(server.port), '+short', '+tries=1', '+time=1', name, type], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

async function waitAnswer(server: { host: string; port: number }, expect: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${server.host}:${server.port}: the server exited with ${child.exitCode}`);
    if (dig(server, 'svc-000.default.svc.cluster.local') === expect) return;
    await sleep(100);
  }
  throw new Error(`${server.host}:${server.port} did not answer svc-000 with ${expect}`);
}

interface PerfResult {
  qps: number;
  avgLatencyMs: number;
  lost: number;
  completed: number;
}

function runDnsperf(server: { host: string; port: number }, file: string): PerfResult {
  const out = execFileSync(dnsperf!, ['-s', server.host, '-p', String(server.port), '-d', file, '-l', String(seconds), '-c', String(clients), '-t', '2'], {
    encoding: 'utf8',
    timeout: (seconds + 20) * 1000,
  });
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    lost: num(/Queries lost:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  // The zone: namespace default, SERVICES ClusterIP Services.
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } },
    ...Array.from({ length: services }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${String(i).padStart(3, '0')}`, namespace: 'default' },
      spec: { type: 'ClusterIP', clusterIP: svcIP(i), clusterIPs: [svcIP(i)], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    })),
  ];
  const objectsFile = path.join(dir, 'objects.json');
  writeFileSync(objectsFile, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  const names = objects.slice(1).map((o) => `${o.metadata.name}.default.svc.cluster.local`);
  const mixes: Record<string, string> = {
    a: names.map((n) => `${n} A`).join('\n'),
    'pod-lookup': names
      .map((n) => {
        const short = n.replace('.svc.cluster.local', '');
        return [`${short}.default.svc.cluster.local A`, `${short}.default.svc.cluster.local AAAA`, `${n} A`, `${n} AAAA`].join('\n');
      })
      .join('\n'),
  };

  const ours = spawn(
    process.execPath,
    [mainJs, '--objects', objectsFile, '--listen', `${OURS.host}:${OURS.port}`, '--upstream-resolv', '', '--metrics', 'off', '--health', 'off', '--ready', 'off', '--no-loop-check'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.push(ours);
  const mask = spawn(
    dnsmasq!,
    [
      '--no-daemon',
      '--no-resolv',
      '--no-hosts',
      '--conf-file=/dev/null',
      '--pid-file=',
      `--port=${DNSMASQ.port}`,
      `--listen-address=${DNSMASQ.host}`,
      '--bind-interfaces',
      '--local=/cluster.local/',
      ...names.map((n, i) => `--host-record=${n},${svcIP(i)}`),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.push(mask);
  await waitAnswer(OURS, svcIP(0), ours);
  await waitAnswer(DNSMASQ, svcIP(0), mask);
  for (const s of [OURS, DNSMASQ]) {
    const nx = execFileSync('dig', [`@${s.host}`, '-p', String(s.port), '+tries=1', '+time=1', `${names[0]}.default.svc.cluster.local`], { encoding: 'utf8' });
    if (!nx.includes('status: NXDOMAIN')) throw new Error(`${s.name} does not answer NXDOMAIN for a search-path miss`);
  }

  const cpu = os.cpus();
  console.log(`machine: ${cpu.length} cores (${cpu[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, kernel ${os.release()}, node ${process.version}`);
  console.log(`dnsperf: ${execFileSync(dnsperf!, ['-h'], { encoding: 'utf8' }).split('\n')[0] ?? ''}`.trim());
  console.log(`date: ${new Date().toISOString()}; ${services} Services; ${seconds} s per run, ${clients} dnsperf clients, ${rounds} rounds alternating`);
  const rows: string[] = [];
  for (const [mix, text] of Object.entries(mixes)) {
    const file = path.join(dir, `${mix}.txt`);
    writeFileSync(file, `${text}\n`);
    const results = new Map<string, PerfResult[]>([
      [OURS.name, []],
      [DNSMASQ.name, []],
    ]);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [OURS, DNSMASQ] : [DNSMASQ, OURS];
      for (const s of order) {
        const res = runDnsperf(s, file);
        results.get(s.name)!.push(res);
        console.log(`  ${mix} round ${r + 1} ${s.name}: ${res.qps.toFixed(0)} q/s, avg ${res.avgLatencyMs.toFixed(3)} ms, lost ${res.lost}`);
      }
    }
    const ourQps = median(results.get(OURS.name)!.map((x) => x.qps));
    const theirQps = median(results.get(DNSMASQ.name)!.map((x) => x.qps));
    for (const s of [OURS, DNSMASQ]) {
      const rs = results.get(s.name)!;
      rows.push(
        `| ${mix} | ${s.name} | ${median(rs.map((x) => x.qps)).toFixed(0)} | ${median(rs.map((x) => x.avgLatencyMs)).toFixed(3)} ms | ${rs.map((x) => x.qps.toFixed(0)).join(', ')} | ${rs.reduce((a, x) => a + x.lost, 0)} |`,
      );
    }
    rows.push(`| ${mix} | ratio nslab/dnsmasq | ${(ourQps / theirQps).toFixed(2)} | | | |`);
  }
  console.log('| mix | server | median q/s | median avg latency | runs (q/s) | lost |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGTERM');
  await sleep(200);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
