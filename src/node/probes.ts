// Readiness probes as the kubelet runs them (httpGet only): the URL it asks
// and when it asks next. Pure; the kubelet runs curl in the node's netns,
// where a real kubelet's probe comes from.

export interface HttpGetProbe {
  httpGet?: { path?: string; port?: number | string; scheme?: string; host?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
}

/** The URL of an httpGet probe; undefined when the probe has no httpGet or names a port the container lacks. */
export function probeUrl(probe: HttpGetProbe, podIP: string, ports: readonly ContainerPort[] = []): string | undefined {
  const get = probe.httpGet;
  if (!get) return undefined;
  const port = typeof get.port === 'number' ? get.port : /^\d+$/.test(get.port ?? '') ? Number(get.port) : ports.find((p) => p.name === get.port)?.containerPort;
  if (port === undefined) return undefined;
  const scheme = (get.scheme ?? 'HTTP').toLowerCase();
  const p = get.path ?? '/';
  return `${scheme}://${get.host ?? podIP}:${port}${p.startsWith('/') ? p : `/${p}`}`;
}

/** What curl's status code means to the kubelet: 200-399 succeed. */
export function probeSucceeded(httpCode: string): boolean {
  const code = Number(httpCode);
  return code >= 200 && code < 400;
}

export interface ProbeState {
  ready: boolean;
  /** Consecutive results of the same kind. */
  failures: number;
  successes: number;
  /** Whether the container has passed once since it started. */
  everReady: boolean;
}

export const INITIAL_PROBE_STATE: ProbeState = { ready: false, failures: 0, successes: 0, everReady: false };

/** The state after one result, per failureThreshold (3) and successThreshold (1). */
export function afterProbe(s: ProbeState, ok: boolean, probe: HttpGetProbe): ProbeState {
  const failures = ok ? 0 : s.failures + 1;
  const successes = ok ? s.successes + 1 : 0;
  let ready = s.ready;
  if (ok && successes >= (probe.successThreshold ?? 1)) ready = true;
  if (!ok && failures >= (probe.failureThreshold ?? 3)) ready = false;
  return { ready, failures, successes, everReady: s.everReady || ready };
}

/**
 * Milliseconds until the next probe. Until the container has passed once the
 * lab asks every 50 ms instead of every periodSeconds: a real kubelet would
 * leave a freshly started CoreDNS unready for up to 10 s, which is faithful
 * but makes every lab wait for nothing.
 */
export function nextProbeDelay(s: ProbeState, probe: HttpGetProbe): number {
  return s.everReady ? (probe.periodSeconds ?? 10) * 1000 : 50;
}
