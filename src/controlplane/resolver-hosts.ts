// Hosts that play the outside world's DNS resolver (`dnsRecords:` in the lab
// file): dnsmasq in the host's netns answering only those names, and the
// resolv.conf the lab's nodes get pointing at it, so the cluster DNS has an
// upstream without any network leaving the lab.
import type { LaunchedProcess, ProcessLauncher } from '../sys/launcher.js';
import type { LabRecord } from '../plan/lab-record.js';

export interface ResolverHost {
  name: string;
  netns: string;
  address: string;
  records: Record<string, string>;
}

/** The hosts with records, each with the address of its first NIC. Pure. */
export function resolverHosts(record: Pick<LabRecord, 'spec' | 'plan'>): ResolverHost[] {
  const out: ResolverHost[] = [];
  for (const h of record.spec.hosts) {
    if (Object.keys(h.dnsRecords).length === 0) continue;
    const planned = record.plan.hosts.find((p) => p.name === h.name);
    const address = planned?.nics[0]?.address;
    if (planned && address) out.push({ name: h.name, netns: planned.netns, address, records: h.dnsRecords });
  }
  return out;
}

/** The nodes' resolv.conf: the first resolver host, or no nameserver at all (names outside the cluster then fail at once). Pure. */
export function nodeResolvConf(record: Pick<LabRecord, 'spec' | 'plan'>): string {
  const first = resolverHosts(record)[0];
  return first ? `nameserver ${first.address}\n` : '';
}

/** dnsmasq answering exactly these names and refusing the rest; no files read or written. Pure. */
export function dnsmasqArgv(h: ResolverHost): string[] {
  return [
    'ip', 'netns', 'exec', h.netns,
    'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll', '--pid-file=',
    '--user=root', '--bind-interfaces', `--listen-address=${h.address}`, '--port=53', '--local-ttl=60', '--log-facility=-',
    ...Object.entries(h.records).map(([name, ip]) => `--host-record=${name},${ip}`),
  ];
}

export interface RunningResolvers {
  stop(): void;
}

export function startResolverHosts(record: LabRecord, launcher: ProcessLauncher, log: (line: string) => void): RunningResolvers {
  const procs: LaunchedProcess[] = [];
  for (const h of resolverHosts(record)) {
    const p = launcher.spawn(dnsmasqArgv(h), { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stderr?.on('data', (d: Buffer) => log(`resolver ${h.name}: ${d.toString().trimEnd()}`));
    p.onError((e) => log(`resolver ${h.name}: ${e.message}`));
    p.onExit(({ code, signal }) => {
      if (signal !== 'SIGTERM') log(`resolver ${h.name}: dnsmasq exited (${signal ?? code})`);
    });
    procs.push(p);
  }
  return {
    stop() {
      for (const p of procs) p.kill('SIGTERM');
    },
  };
}
