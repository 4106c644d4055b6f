// Prometheus metrics as CoreDNS 1.11 exports them on :9153/metrics (the
// prometheus plugin's coredns_dns_* families with their `view` label, plus
// the cache and forward ones nslab's server has). Counting is array
// arithmetic so the per-query cost stays small; rendering is text format
// 0.0.4 with label pairs sorted by name, as client_golang writes them.

import { typeName, rcodeName } from './wire.js';

/** Types CoreDNS reports by name (vars/monitor.go); everything else is "other". */
const MONITORED = [1, 28, 5, 48, 43, 15, 50, 47, 2, 12, 46, 6, 33, 16, 65, 64, 251, 252, 255];
const TYPE_INDEX = new Uint8Array(65536);
MONITORED.forEach((t, i) => (TYPE_INDEX[t] = i + 1));
const N_TYPES = MONITORED.length + 1;

export const PLUGINS = ['', 'kubernetes', 'cache', 'forward', 'loop'] as const;
export type PluginLabel = (typeof PLUGINS)[number];
export const PLUGIN_ID: Readonly<Record<PluginLabel, number>> = { '': 0, kubernetes: 1, cache: 2, forward: 3, loop: 4 };

/** zone label: "." (the server block) or "dropped" (refused before the plugins). */
export const ZONE_ROOT = 0;
export const ZONE_DROPPED = 1;
const ZONES = ['.', 'dropped'];

/** 0.25 ms .. 8.192 s, CoreDNS's plugin.TimeBuckets. */
const TIME_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);
const SIZE_BUCKETS = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];
const N_RCODES = 24;

class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

function labels(pairs: Array<[string, string]>): string {
  const sorted = [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `{${sorted.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

export interface BuildInfo {
  version: string;
  revision: string;
  goversion: string;
}

export class DnsMetrics {
  /** [zone][proto][family][type] */
  private readonly requests = new Float64Array(2 * 2 * 2 * N_TYPES);
  /** [zone][rcode][plugin] */
  private readonly responses = new Float64Array(2 * N_RCODES * PLUGINS.length);
  private readonly doRequests = new Float64Array(2);
  private readonly duration = [new Histogram(TIME_BUCKETS), new Histogram(TIME_BUCKETS)];
  /** [zone][proto] */
  private readonly requestSize = [0, 1, 2, 3].map(() => new Histogram(SIZE_BUCKETS));
  private readonly responseSize = [0, 1, 2, 3].map(() => new Histogram(SIZE_BUCKETS));
  cacheRequests = 0;
  cacheMisses = 0;
  readonly cacheHits = { success: 0, denial: 0 };
  private readonly proxy = new Map<string, Histogram>();
  private readonly forwardFailures = new Map<string, number>();
  /** Messages whose handling failed and was recovered (CoreDNS's vars.Panic). */
  panics = 0;

  constructor(
    readonly server: string,
    readonly build: BuildInfo,
    private readonly cacheEntries: () => { success: number; denial: number } = () => ({ success: 0, denial: 0 }),
    readonly plugins: readonly string[] = ['cache', 'errors', 'forward', 'kubernetes', 'loadbalance', 'loop', 'prometheus'],
  ) {}

  /** One reply written: what vars.Report records. proto 0 udp / 1 tcp; family 1 (IPv4) / 2. */
  report(zone: number, proto: number, family: number, qtype: number, rcode: number, plugin: number, seconds: number, reqSize: number, respSize: number, dnssecOk: boolean): void {
    this.requests[((zone * 2 + proto) * 2 + (family - 1)) * N_TYPES + TYPE_INDEX[qtype]!]!++;
    this.responses[(zone * N_RCODES + (rcode < N_RCODES ? rcode : N_RCODES - 1)) * PLUGINS.length + plugin]!++;
    if (dnssecOk) this.doRequests[zone]!++;
    this.duration[zone]!.observe(seconds);
    this.requestSize[zone * 2 + proto]!.observe(reqSize);
    this.responseSize[zone * 2 + proto]!.observe(respSize);
  }

  proxyRequest(to: string, rcode: string, seconds: number): void {
    const key = `${to}\n${rcode}`;
    let h = this.proxy.get(key);
    if (!h) {
      h = new Histogram(TIME_BUCKETS);
      this.proxy.set(key, h);
    }
    h.observe(seconds);
  }

  forwardFailure(to: string): void {
    this.forwardFailures.set(to, (this.forwardFailures.get(to) ?? 0) + 1);
  }

  private histogram(out: string[], name: string, h: Histogram, base: Array<[string, string]>): void {
    let cum = 0;
    const sortedBase = labels(base).slice(1, -1);
    const sep = sortedBase === '' ? '' : ',';
    h.bounds.forEach((b, i) => {
      cum += h.counts[i]!;
      out.push(`${name}_bucket{${sortedBase}${sep}le="${String(b)}"} ${cum}`);
    });
    out.push(`${name}_bucket{${sortedBase}${sep}le="+Inf"} ${h.count}`);
    out.push(`${name}_sum${labels(base)} ${h.sum}`);
    out.push(`${name}_count${labels(base)} ${h.count}`);
  }

  render(): string {
    const out: string[] = [];
    const s: [string, string] = ['server', this.server];
    const view: [string, string] = ['view', ''];
    out.push('# HELP coredns_build_info A metric with a constant \'1\' value labeled by version, revision, and goversion from which CoreDNS was built.');
    out.push('# TYPE coredns_build_info gauge');
    out.push(`coredns_build_info${labels([['version', this.build.version], ['revision', this.build.revision], ['goversion', this.build.goversion]])} 1`);

    const entries = this.cacheEntries();
    out.push('# HELP coredns_cache_entries The number of elements in the cache.');
    out.push('# TYPE coredns_cache_entries gauge');
    for (const t of ['denial', 'success'] as const) out.push(`coredns_cache_entries${labels([s, ['type', t], ['view', ''], ['zones', '.']])} ${entries[t]}`);
    out.push('# HELP coredns_cache_hits_total The count of cache hits.');
    out.push('# TYPE coredns_cache_hits_total counter');
    for (const t of ['denial', 'success'] as const) {
      if (this.cacheHits[t] > 0) out.push(`coredns_cache_hits_total${labels([s, ['type', t], ['view', ''], ['zones', '.']])} ${this.cacheHits[t]}`);
    }
    out.push('# HELP coredns_cache_misses_total The count of cache misses. Deprecated, derive misses from cache hits/requests counters.');
    out.push('# TYPE coredns_cache_misses_total counter');
    out.push(`coredns_cache_misses_total${labels([s, ['view', ''], ['zones', '.']])} ${this.cacheMisses}`);
    out.push('# HELP coredns_cache_requests_total The count of cache requests.');
    out.push('# TYPE coredns_cache_requests_total counter');
    out.push(`coredns_cache_requests_total${labels([s, ['view', ''], ['zones', '.']])} ${this.cacheRequests}`);

    out.push('# HELP coredns_dns_do_requests_total Counter of DNS requests with DO bit set per zone.');
    out.push('# TYPE coredns_dns_do_requests_total counter');
    this.doRequests.forEach((v, z) => {
      if (v > 0) out.push(`coredns_dns_do_requests_total${labels([s, view, ['zone', ZONES[z]!]])} ${v}`);
    });

    out.push('# HELP coredns_dns_request_duration_seconds Histogram of the time (in seconds) each request took per zone.');
    out.push('# TYPE coredns_dns_request_duration_seconds histogram');
    this.duration.forEach((h, z) => {
      if (h.count > 0) this.histogram(out, 'coredns_dns_request_duration_seconds', h, [s, view, ['zone', ZONES[z]!]]);
    });

    out.push('# HELP coredns_dns_request_size_bytes Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.');
    out.push('# TYPE coredns_dns_request_size_bytes histogram');
    this.requestSize.forEach((h, i) => {
      if (h.count > 0) this.histogram(out, 'coredns_dns_request_size_bytes', h, [s, view, ['zone', ZONES[i >> 1]!], ['proto', i & 1 ? 'tcp' : 'udp']]);
    });

    out.push('# HELP coredns_dns_requests_total Counter of DNS requests made per zone, protocol and family.');
    out.push('# TYPE coredns_dns_requests_total counter');
    for (let z = 0; z < 2; z++)
      for (let p = 0; p < 2; p++)
        for (let f = 0; f < 2; f++)
          for (let t = 0; t < N_TYPES; t++) {
            const v = this.requests[((z * 2 + p) * 2 + f) * N_TYPES + t]!;
            if (v === 0) continue;
            const type = t === 0 ? 'other' : typeName(MONITORED[t - 1]!);
            out.push(
              `coredns_dns_requests_total${labels([s, view, ['zone', ZONES[z]!], ['proto', p ? 'tcp' : 'udp'], ['family', String(f + 1)], ['type', type]])} ${v}`,
            );
          }

    out.push('# HELP coredns_dns_response_size_bytes Size of the returned response in bytes.');
    out.push('# TYPE coredns_dns_response_size_bytes histogram');
    this.responseSize.forEach((h, i) => {
      if (h.count > 0) this.histogram(out, 'coredns_dns_response_size_bytes', h, [s, view, ['zone', ZONES[i >> 1]!], ['proto', i & 1 ? 'tcp' : 'udp']]);
    });

    out.push('# HELP coredns_dns_responses_total Counter of response status codes.');
    out.push('# TYPE coredns_dns_responses_total counter');
    for (let z = 0; z < 2; z++)
      for (let r = 0; r < N_RCODES; r++)
        for (let p = 0; p < PLUGINS.length; p++) {
          const v = this.responses[(z * N_RCODES + r) * PLUGINS.length + p]!;
          if (v === 0) continue;
          out.push(`coredns_dns_responses_total${labels([s, view, ['zone', ZONES[z]!], ['rcode', rcodeName(r)], ['plugin', PLUGINS[p]!]])} ${v}`);
        }

    out.push('# HELP coredns_forward_healthcheck_broken_total Counter of the number of complete failures of the healthchecks.');
    out.push('# TYPE coredns_forward_healthcheck_broken_total counter');
    out.push('coredns_forward_healthcheck_broken_total 0');

    out.push('# HELP coredns_panics_total A metrics that counts the number of panics.');
    out.push('# TYPE coredns_panics_total counter');
    out.push(`coredns_panics_total ${this.panics}`);

    out.push('# HELP coredns_plugin_enabled A metric that indicates whether a plugin is enabled on per server and zone basis.');
    out.push('# TYPE coredns_plugin_enabled gauge');
    for (const name of this.plugins) out.push(`coredns_plugin_enabled${labels([['name', name], s, view, ['zone', '.']])} 1`);

    out.push('# HELP coredns_proxy_request_duration_seconds Histogram of the time each request took.');
    out.push('# TYPE coredns_proxy_request_duration_seconds histogram');
    for (const [key, h] of [...this.proxy].sort((a, b) => a[0].localeCompare(b[0]))) {
      const [to = '', rcode = ''] = key.split('\n');
      this.histogram(out, 'coredns_proxy_request_duration_seconds', h, [['proxy_name', 'forward'], ['to', to], ['rcode', rcode]]);
    }
    out.push('# HELP coredns_proxy_healthcheck_failures_total Counter of the number of failed healthchecks.');
    out.push('# TYPE coredns_proxy_healthcheck_failures_total counter');
    for (const [to, v] of [...this.forwardFailures].sort()) out.push(`coredns_proxy_healthcheck_failures_total${labels([['proxy_name', 'forward'], ['to', to]])} ${v}`);
    return `${out.join('\n')}\n`;
  }
}
