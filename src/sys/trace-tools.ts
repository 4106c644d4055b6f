// The kernel tools `nslab trace` runs in a lab namespace: nft (a private
// trace table in, and out again), `nft monitor trace`, conntrack listings,
// `ip route get`, iptables-save. Argument arrays only.
import { inNetns } from './netns.js';
import type { LaunchedProcess, ProcessLauncher } from './launcher.js';
import { spawnLabProcess } from './lab-process.js';
import type { CommandRunner } from './runner.js';

const NAME = /^[A-Za-z0-9_-]+$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function checkName(...names: string[]): void {
  for (const n of names) if (!NAME.test(n)) throw new Error(`invalid nft name ${JSON.stringify(n)}`);
}

export async function nftApply(runner: CommandRunner, netns: string, script: string): Promise<void> {
  await runner.run(inNetns(netns, ['nft', '-f', '-']), { input: script, timeoutMs: 10_000 });
}

export async function nftDeleteTable(runner: CommandRunner, netns: string, family: string, table: string): Promise<void> {
  checkName(family, table);
  await runner.run(inNetns(netns, ['nft', 'delete', 'table', family, table]), { allowFailure: true, timeoutMs: 10_000 });
}

/** "FAMILY NAME" of every table in the namespace. */
export async function nftTables(runner: CommandRunner, netns: string): Promise<string[]> {
  const r = await runner.run(inNetns(netns, ['nft', 'list', 'tables']), { allowFailure: true, timeoutMs: 10_000 });
  return r.stdout
    .split('\n')
    .map((l) => /^table (\S+) (\S+)/.exec(l.trim()))
    .flatMap((m) => (m ? [`${m[1]} ${m[2]}`] : []));
}

export async function nftListTable(runner: CommandRunner, netns: string, family: string, table: string): Promise<string> {
  checkName(family, table);
  return (await runner.run(inNetns(netns, ['nft', '-a', 'list', 'table', family, table]), { allowFailure: true, timeoutMs: 10_000 })).stdout;
}

export async function iptablesSave(runner: CommandRunner, netns: string, table: string): Promise<string> {
  checkName(table);
  return (await runner.run(inNetns(netns, ['iptables-save', '-t', table]), { allowFailure: true, timeoutMs: 10_000 })).stdout;
}

export interface RouteQuery {
  dst: string;
  from?: string;
  iif?: string;
}

/** `ip route get` text, or the kernel's refusal ("RTNETLINK answers: Network is unreachable"). */
export async function routeGet(runner: CommandRunner, netns: string, q: RouteQuery): Promise<string> {
  for (const a of [q.dst, q.from].filter((x): x is string => x !== undefined)) if (!IPV4.test(a)) throw new Error(`invalid address ${a}`);
  if (q.iif !== undefined && !/^[A-Za-z0-9_.@-]{1,15}$/.test(q.iif)) throw new Error(`invalid interface ${q.iif}`);
  const argv = ['ip', 'route', 'get', q.dst, ...(q.from ? ['from', q.from] : []), ...(q.iif ? ['iif', q.iif] : [])];
  const r = await runner.run(inNetns(netns, argv), { allowFailure: true, timeoutMs: 10_000 });
  return (r.exitCode === 0 ? r.stdout : r.stderr).trim();
}

/** Conntrack entries whose original tuple has this source port (and address). */
export async function conntrackList(runner: CommandRunner, netns: string, proto: 'tcp' | 'udp' | 'icmp', src?: string, sport?: number): Promise<string[]> {
  if (src !== undefined && !IPV4.test(src)) throw new Error(`invalid address ${src}`);
  const argv = ['conntrack', '-L', '-p', proto, ...(src ? ['--orig-src', src] : []), ...(sport !== undefined ? ['--orig-port-src', String(sport)] : [])];
  const r = await runner.run(inNetns(netns, argv), { allowFailure: true, timeoutMs: 10_000 });
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

export interface TraceMonitor {
  /** Stops the monitor and resolves to everything it printed. */
  stop(): Promise<string>;
}

/** `nft -a monitor trace` in the namespace, as a lab process; reads until stop(). */
export async function startTraceMonitor(lab: string, launcher: ProcessLauncher, netns: string): Promise<TraceMonitor> {
  const child: LaunchedProcess = await spawnLabProcess(lab, launcher, inNetns(netns, ['nft', '-a', 'monitor', 'trace']), { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (text += b.toString()));
  child.onError(() => undefined);
  return {
    async stop() {
      if (!child.exit) {
        const gone = new Promise<void>((r) => child.onExit(() => r()));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))]);
        if (!child.exit) child.kill('SIGKILL');
      }
      return text;
    },
  };
}

export interface ProbeResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** One probe from the namespace: a TCP connect (curl), a UDP datagram, or one ping. */
export async function sendProbe(runner: CommandRunner, netns: string, p: { proto: 'tcp' | 'udp' | 'icmp'; dst: string; port?: number; sport?: number }): Promise<ProbeResult> {
  if (!IPV4.test(p.dst)) throw new Error(`invalid address ${p.dst}`);
  let argv: string[];
  if (p.proto === 'icmp') argv = ['ping', '-n', '-c', '1', '-W', '2', p.dst];
  else if (p.proto === 'tcp')
    // curl's exit says how the connect() ended: 0 answered, 7 refused or unreachable, 28 timed out.
    // -v: only its verbose lines say whether connect() was refused ("Couldn't connect" says neither).
    argv = ['curl', '-v', '-sS', '-o', '/dev/null', '--connect-timeout', '2', '-m', '3', '-w', '%{http_code}', ...(p.sport ? ['--local-port', String(p.sport)] : []), `http://${p.dst}:${p.port ?? 80}/`];
  // One UDP datagram: a DNS query, which any port receives and a DNS server answers.
  else argv = ['dig', '+tries=1', '+time=2', ...(p.sport ? ['-b', `0.0.0.0#${p.sport}`] : []), `@${p.dst}`, '-p', String(p.port ?? 53), 'kubernetes.default.svc.cluster.local'];
  const r = await runner.run(inNetns(netns, argv), { allowFailure: true, timeoutMs: 10_000 });
  // Of curl's verbose talk, only how the connection went.
  const stderr = p.proto === 'tcp' ? r.stderr.split('\n').filter((l) => /connect|refused|unreachable|timed out|Connected|curl: \(/i.test(l)).join('\n') : r.stderr;
  return { exitCode: r.exitCode, stdout: r.stdout, stderr };
}
