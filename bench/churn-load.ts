// A steady, bounded HTTP load for churn measurements, made of one curl:
// `count` requests at most `rate` per second, each on a new connection
// (Connection: close, so every request goes through kube-proxy's rules
// afresh, as ab without -k does), each bounded by `timeoutSeconds`. curl
// prints one line per request; this module builds its argv and tells the
// outcomes apart the way a user reads curl's errors. Shared by
// bench/churn.ts and test/integration/churn.test.ts, with the workload both
// roll. Needs curl >= 7.84 (--rate; Debian 12 has 7.88). Pure.

export interface LoadSpec {
  url: string;
  count: number;
  ratePerSecond: number;
  timeoutSeconds: number;
}

/** curl's own argv (run it inside a lab namespace: nslab exec, kubectl exec). */
export function curlLoadArgv(s: LoadSpec): string[] {
  if (!Number.isInteger(s.count) || s.count < 1 || s.count > 100_000) throw new Error(`load count must be 1..100000, not ${s.count}`);
  const sep = s.url.includes('?') ? '&' : '?';
  return [
    'curl', '-s', '-o', '/dev/null',
    '-H', 'Connection: close',
    '--rate', `${Math.max(1, Math.round(s.ratePerSecond))}/s`,
    '--connect-timeout', String(s.timeoutSeconds),
    '-m', String(s.timeoutSeconds),
    '-w', '%{http_code} %{exitcode} %{errormsg}\\n',
    // URL globbing: one request per number, so the count bounds the load.
    `${s.url}${sep}n=[1-${s.count}]`,
  ];
}

export type Outcome = 'ok' | 'refused' | 'reset' | 'empty-reply' | 'no-route' | 'timeout' | string;

/** One line of curl's -w output: what happened to that request. */
export function outcomeOf(line: string): Outcome {
  const m = /^(\d{3}) (\d+) ?(.*)$/.exec(line.trim());
  if (!m) return `unparsed: ${line.trim()}`;
  const [, http = '000', exit = '0', message = ''] = m;
  if (exit === '0') return /^[23]/.test(http) ? 'ok' : `http-${http}`;
  // curl 7.8x words a refused connection "Couldn't connect to server" (exit 7, at once).
  if (exit === '7') return /no route|unreachable/i.test(message) ? 'no-route' : 'refused';
  if (exit === '56') return 'reset';
  if (exit === '52') return 'empty-reply';
  if (exit === '28') return 'timeout';
  return `curl-exit-${exit}`;
}

export interface LoadResult {
  requests: number;
  ok: number;
  failures: number;
  /** Failures per outcome. */
  failed: Record<string, number>;
  /** A few of curl's own messages for failures, as a user would see them. */
  messages: string[];
}

export function parseLoad(stdout: string): LoadResult {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const failed: Record<string, number> = {};
  const messages: string[] = [];
  let ok = 0;
  for (const line of lines) {
    const o = outcomeOf(line);
    if (o === 'ok') {
      ok++;
      continue;
    }
    failed[o] = (failed[o] ?? 0) + 1;
    if (messages.length < 5) messages.push(line.trim());
  }
  return { requests: lines.length, ok, failures: lines.length - ok, failed, messages };
}

/** Two results as one (several clients of the same run). */
export function addLoads(a: LoadResult, b: LoadResult): LoadResult {
  const failed = { ...a.failed };
  for (const [k, v] of Object.entries(b.failed)) failed[k] = (failed[k] ?? 0) + v;
  return { requests: a.requests + b.requests, ok: a.ok + b.ok, failures: a.failures + b.failures, failed, messages: [...a.messages, ...b.messages].slice(0, 5) };
}

/** The outcomes a real cluster shows for connections sent to a pod that stopped listening or is gone. */
export const CONNECTION_FAILURES: readonly Outcome[] = ['refused', 'reset', 'empty-reply', 'no-route', 'timeout'];

/**
 * The rolled workload: an nginx Deployment with a readinessProbe behind a
 * NodePort Service; `preStopSleepSeconds` adds a preStop sleep hook.
 */
export function churnWorkload(name: string, nodePort: number, replicas: number, preStopSleepSeconds?: number): string {
  const lifecycle = preStopSleepSeconds === undefined ? '' : `        lifecycle: {preStop: {sleep: {seconds: ${preStopSleepSeconds}}}}\n`;
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: nginx
        image: nginx:alpine
        ports: [{containerPort: 80}]
        readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
${lifecycle}---
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  type: NodePort
  selector: {app: ${name}}
  ports: [{port: 80, targetPort: 80, nodePort: ${nodePort}}]
---
`;
}
