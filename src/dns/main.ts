// The cluster DNS process the coredns pods run:
//
//   node dist/src/dns/main.js --api-socket /run/nslab/LAB/api.sock --listen 0.0.0.0:53 \
//        --domain cluster.local --upstream-resolv /etc/resolv.conf
//
// It lists and watches Namespaces, Services and EndpointSlices over the lab
// API's unix socket, rebuilds the zone on every change and serves it (see
// server.ts). Like CoreDNS it waits up to --startup-timeout for the first
// sync before it starts serving, answers SERVFAIL for cluster names until
// then, and reports ready (/ready 200) only once synced. `--objects FILE`
// serves a fixed set of objects (JSON or YAML, a List or an array) without an
// API, for benchmarks and tests. SIGTERM/SIGINT stop it cleanly. No query
// stops it: failures are contained per message (server.ts), and errors that
// escape anyway are logged by last-resort.ts, which exits only when they
// keep coming (then the kubelet restarts the container).

import { readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isRecord, type KubeObject } from '../api/types.js';
import { parseResolvConf, parseUpstream, type Upstream } from './forward.js';
import { installLastResort } from './last-resort.js';
import { BUILD_INFO, startDnsServer, type DnsServer, type ListenAddress } from './server.js';
import { Reflector, type WatchEventType } from './watch.js';
import { buildZone, type PodMode, type ZoneConfig } from './zone.js';
import { canonicalIP } from './wire.js';
import { UsageError } from '../labfile/errors.js';

export const USAGE = `Usage: node dist/src/dns/main.js (--api-socket PATH | --objects FILE) [options]

Cluster DNS for an nslab lab: CoreDNS's kubernetes, cache, forward, loop,
loadbalance, prometheus, health and ready plugins as kubeadm configures them.

  --api-socket PATH        the lab API's unix socket (watch Namespaces, Services, EndpointSlices)
  --objects FILE           serve these objects instead (JSON/YAML: a List, an array or documents)
  --listen HOST:PORT       UDP and TCP (default 0.0.0.0:53)
  --domain ZONE            cluster domain (default cluster.local)
  --reverse-zones Z,Z      reverse zones served (default in-addr.arpa,ip6.arpa; "" none)
  --ttl SECONDS            record TTL (default 30)
  --pods MODE              insecure | disabled (default insecure)
  --upstream-resolv FILE   forward to this file's nameservers (default /etc/resolv.conf; "" none)
  --upstream HOST[:PORT]   forward to this nameserver too (repeatable)
  --forward-timeout MS     per try (default 2000)
  --forward-deadline MS    per query (default 5000)
  --cache SECONDS          cache plugin maximum TTL (default 30; 0 disables)
  --cache-cluster-names    also cache cluster-domain names (kubeadm < 1.32 \`cache 30\`)
  --metrics HOST:PORT|off  prometheus /metrics (default :9153)
  --health HOST:PORT|off   /health (default :8080)
  --ready HOST:PORT|off    /ready (default :8181)
  --startup-timeout MS     wait this long for the first sync before serving (default 5000)
  --lameduck MS            after SIGTERM keep answering this long, then stop (default 5000)
  --local-ip IP            this server's address for NS records (repeatable; default the
                           non-loopback interface addresses when listening on all)
  --no-loop-check          skip the loop plugin's start-up probe
  --log-queries            log every query (the log plugin)
  -h, --help
`;

export interface DnsMainOptions {
  apiSocket?: string;
  objectsFile?: string;
  listen: ListenAddress;
  zone: ZoneConfig;
  upstreams: Upstream[];
  forwardTimeoutMs: number;
  forwardDeadlineMs: number;
  cacheTtl: number;
  cacheClusterNames: boolean;
  metrics?: ListenAddress;
  health?: ListenAddress;
  ready?: ListenAddress;
  startupTimeoutMs: number;
  /** After SIGTERM, keep serving this long before closing (CoreDNS health's lameduck). */
  lameduckMs: number;
  loopCheck: boolean;
  logQueries: boolean;
}


/** "HOST:PORT", ":PORT", "[v6]:PORT"; "off" → undefined. */
export function parseListen(s: string, what: string): ListenAddress | undefined {
  if (s === 'off' || s === '') return undefined;
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(s);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${what}: expected HOST:PORT, got ${JSON.stringify(s)}`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function num(v: string | undefined, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new UsageError(`${what}: expected a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Non-loopback addresses of this network namespace's interfaces (CoreDNS's boundIPs). */
function interfaceIPs(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && !(a.family === 'IPv6' && a.address.startsWith('fe80:'))) out.push(a.address);
  }
  return out;
}

export function parseDnsArgs(argv: string[], readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): DnsMainOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'api-socket': { type: 'string' },
      objects: { type: 'string' },
      listen: { type: 'string', default: '0.0.0.0:53' },
      domain: { type: 'string', default: 'cluster.local' },
      'reverse-zones': { type: 'string', default: 'in-addr.arpa,ip6.arpa' },
      ttl: { type: 'string' },
      pods: { type: 'string', default: 'insecure' },
      'upstream-resolv': { type: 'string', default: '/etc/resolv.conf' },
      upstream: { type: 'string', multiple: true, default: [] },
      'forward-timeout': { type: 'string' },
      'forward-deadline': { type: 'string' },
      cache: { type: 'string' },
      'cache-cluster-names': { type: 'boolean', default: false },
      metrics: { type: 'string', default: ':9153' },
      health: { type: 'string', default: ':8080' },
      ready: { type: 'string', default: ':8181' },
      'startup-timeout': { type: 'string' },
      lameduck: { type: 'string' },
      'local-ip': { type: 'string', multiple: true, default: [] },
      'no-loop-check': { type: 'boolean', default: false },
      'log-queries': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (!values['api-socket'] === !values.objects) throw new UsageError('exactly one of --api-socket and --objects is required');
  const listen = parseListen(values.listen, '--listen');
  if (!listen) throw new UsageError('--listen: an address is required');
  const pods = values.pods;
  if (pods !== 'insecure' && pods !== 'disabled') throw new UsageError(`--pods: insecure or disabled, got ${JSON.stringify(pods)}`);
  const ttl = num(values.ttl, '--ttl', 30);
  if (ttl > 3600) throw new UsageError('--ttl: at most 3600');
  const upstreams: Upstream[] = [];
  const resolv = values['upstream-resolv'];
  if (resolv) {
    let text = '';
    try {
      text = readFile(resolv);
    } catch (e) {
      throw new UsageError(`--upstream-resolv: cannot read ${resolv}: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const ns of parseResolvConf(text).nameservers) {
      try {
        upstreams.push(parseUpstream(ns));
      } catch {
        // not an address (a hostname): forward ignores it too
      }
    }
  }
  for (const u of values.upstream) {
    try {
      upstreams.push(parseUpstream(u));
    } catch (e) {
      throw new UsageError(`--upstream: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const localIPs = values['local-ip'].map((ip) => {
    const c = canonicalIP(ip);
    if (!c) throw new UsageError(`--local-ip: not an IP address: ${JSON.stringify(ip)}`);
    return c;
  });
  const allHosts = listen.host === '0.0.0.0' || listen.host === '::';
  const zone: ZoneConfig = {
    domain: values.domain,
    reverseZones: values['reverse-zones'] === '' ? [] : values['reverse-zones'].split(',').map((z) => z.trim()).filter((z) => z),
    ttl,
    pods: pods as PodMode,
    localIPs: localIPs.length > 0 ? localIPs : allHosts ? interfaceIPs() : canonicalIP(listen.host) && !listen.host.startsWith('127.') && listen.host !== '::1' ? [listen.host] : [],
  };
  zone.fallthrough = zone.reverseZones;
  const opts: DnsMainOptions = {
    listen,
    zone,
    upstreams,
    forwardTimeoutMs: num(values['forward-timeout'], '--forward-timeout', 2000),
    forwardDeadlineMs: num(values['forward-deadline'], '--forward-deadline', 5000),
    cacheTtl: num(values.cache, '--cache', 30),
    cacheClusterNames: values['cache-cluster-names'],
    startupTimeoutMs: num(values['startup-timeout'], '--startup-timeout', 5000),
    lameduckMs: num(values.lameduck, '--lameduck', 5000),
    loopCheck: !values['no-loop-check'],
    logQueries: values['log-queries'],
  };
  if (values['api-socket']) opts.apiSocket = values['api-socket'];
  if (values.objects) opts.objectsFile = values.objects;
  const metrics = parseListen(values.metrics, '--metrics');
  const health = parseListen(values.health, '--health');
  const ready = parseListen(values.ready, '--ready');
  if (metrics) opts.metrics = metrics;
  if (health) opts.health = health;
  if (ready) opts.ready = ready;
  return opts;
}

/** Objects of a --objects file: a List, an array, or YAML documents. (yaml loads only here: the pods' start-up skips it.) */
export async function parseObjectsFile(text: string): Promise<KubeObject[]> {
  const { parseAllDocuments } = await import('yaml');
  const out: KubeObject[] = [];
  const add = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(add);
    else if (isRecord(v) && Array.isArray(v['items'])) v['items'].forEach(add);
    else if (isRecord(v) && isRecord(v['metadata']) && typeof v['kind'] === 'string') out.push(v as KubeObject);
  };
  for (const doc of parseAllDocuments(text)) add(doc.toJSON());
  return out;
}

export interface RunningDns {
  server: DnsServer;
  /** Resolves once every resource has been listed (at once for --objects). */
  synced: Promise<void>;
  close(): Promise<void>;
}

const RESOURCES = [
  { kind: 'Namespace', path: '/api/v1/namespaces' },
  { kind: 'Service', path: '/api/v1/services' },
  { kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices' },
] as const;

type Kind = (typeof RESOURCES)[number]['kind'];

function key(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

/** Starts the server for parsed options; log gets CoreDNS-style lines. */
export async function runDns(opts: DnsMainOptions, log: (line: string) => void, onFatal: (line: string) => void = log): Promise<RunningDns> {
  const objects: Record<Kind, Map<string, KubeObject>> = { Namespace: new Map(), Service: new Map(), EndpointSlice: new Map() };
  let serial = Math.floor(Date.now() / 1000);
  let synced = false;
  const reflectors: Reflector[] = [];
  let server: DnsServer | undefined;
  let pending = false;

  const zoneNow = () =>
    buildZone(
      {
        namespaces: [...objects.Namespace.values()],
        services: [...objects.Service.values()],
        endpointSlices: [...objects.EndpointSlice.values()],
        serial,
        synced,
      },
      opts.zone,
    );
  const changed = (kind: Kind): void => {
    if (kind !== 'Namespace') serial = Math.floor(Date.now() / 1000);
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      server?.setZone(zoneNow());
    });
  };

  let syncedPromise: Promise<void>;
  if (opts.objectsFile) {
    for (const o of await parseObjectsFile(readFileSync(opts.objectsFile, 'utf8'))) {
      const kind = RESOURCES.find((r) => r.kind === o.kind)?.kind;
      if (kind) objects[kind].set(key(o), o);
    }
    for (const ns of objects.Service.values()) {
      const name = ns.metadata.namespace ?? '';
      if (name && ![...objects.Namespace.values()].some((n) => n.metadata.name === name)) {
        objects.Namespace.set(`/${name}`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      }
    }
    synced = true;
    syncedPromise = Promise.resolve();
  } else {
    const socketPath = opts.apiSocket ?? '';
    for (const r of RESOURCES) {
      reflectors.push(
        new Reflector({
          socketPath,
          path: r.path,
          log,
          onReplace: (items) => {
            objects[r.kind] = new Map(items.map((o) => [key(o), o]));
            changed(r.kind);
          },
          onEvent: (type: WatchEventType, o) => {
            if (type === 'DELETED') objects[r.kind].delete(key(o));
            else objects[r.kind].set(key(o), o);
            changed(r.kind);
          },
        }),
      );
    }
    for (const r of reflectors) r.start();
    syncedPromise = Promise.all(reflectors.map((r) => r.synced)).then(() => {
      synced = true;
      changed('Service');
    });
    // CoreDNS: wait for the API (up to startup_timeout) before serving.
    let waited = false;
    const logTimer = setInterval(() => log('[INFO] plugin/kubernetes: waiting for Kubernetes API before starting server'), 500);
    await Promise.race([
      syncedPromise,
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          waited = true;
          resolve();
        }, opts.startupTimeoutMs);
        void syncedPromise.then(() => clearTimeout(t));
      }),
    ]);
    clearInterval(logTimer);
    if (waited && !synced) log('[WARNING] plugin/kubernetes: starting server with unsynced Kubernetes API');
  }

  try {
    server = await startDnsServer({
      listen: opts.listen,
      zoneConfig: opts.zone,
      zone: zoneNow(),
      upstreams: opts.upstreams,
      forwardTimeoutMs: opts.forwardTimeoutMs,
      forwardDeadlineMs: opts.forwardDeadlineMs,
      cacheTtl: opts.cacheTtl,
      cacheClusterNames: opts.cacheClusterNames,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      ...(opts.health ? { health: opts.health } : {}),
      ...(opts.ready ? { ready: opts.ready } : {}),
      log,
      logQueries: opts.logQueries,
      loopCheck: opts.loopCheck,
      onLoop: onFatal,
    });
  } catch (e) {
    for (const r of reflectors) r.stop();
    throw e;
  }
  const s = server;
  const block = opts.listen.host === '0.0.0.0' || opts.listen.host === '::' ? '' : opts.listen.host;
  log(`.:${s.port}${block ? ` on ${block}` : ''}`);
  log(`CoreDNS-${BUILD_INFO.version} (nslab)`);
  log(`${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}, node${process.versions.node}, nslab`);
  return {
    server: s,
    synced: syncedPromise,
    async close() {
      for (const r of reflectors) r.stop();
      await s.close();
    },
  };
}

async function main(argv: string[]): Promise<void> {
  let opts: DnsMainOptions | 'help';
  try {
    opts = parseDnsArgs(argv);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  // Last resort only: the server answers every message itself (SERVFAIL on
  // failure); what still escapes is logged, and a process that keeps failing exits.
  installLastResort(process, log, (code) => process.exit(code));
  const running = await runDns(opts, log, (line) => {
    process.stdout.write(`${line}\n`);
    process.exit(1);
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // kubeadm's Corefile: `health { lameduck 5s }`: keep answering while the endpoints move on.
    if (opts.lameduckMs > 0) log(`[INFO] Going into lameduck mode for ${opts.lameduckMs / 1000}s`);
    setTimeout(() => {
      const force = setTimeout(() => process.exit(0), 3000);
      force.unref();
      void running.close().then(() => process.exit(0));
    }, opts.lameduckMs);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`[FATAL] ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
