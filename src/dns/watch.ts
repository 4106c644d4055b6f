// A reflector, as client-go's: list a resource, then watch from the list's
// resourceVersion; follow the watch across its timeouts; re-list when the
// API says the version is too old (410 Gone / Expired); back off on errors.
// Speaks plain HTTP over the lab API's unix socket (no TLS: the socket's
// 0600 mode is the credential).
//
//   const r = new Reflector({socketPath, path: '/api/v1/services',
//                            onReplace: (items) => ..., onEvent: (type, obj) => ...});
//   r.start(); await r.synced; ... r.stop();

import http from 'node:http';
import { isRecord, type KubeObject } from '../api/types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ReflectorOptions {
  socketPath: string;
  /** The collection: "/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices". */
  path: string;
  /** A full list: replaces everything known of this resource. */
  onReplace(items: KubeObject[]): void;
  onEvent(type: WatchEventType, obj: KubeObject): void;
  log?: (line: string) => void;
  /** Backoff bounds after errors; default 200 ms doubling to 5 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Server-side watch timeout; default random 300-600 s, as client-go's minWatchTimeout. */
  watchTimeoutSeconds?: () => number;
  /** A request that gets no response headers in this time fails; default 10 s. */
  requestTimeoutMs?: number;
}

interface WatchResult {
  rv: string;
  expired: boolean;
  error?: Error;
}

function isKubeObject(v: unknown): v is KubeObject {
  return isRecord(v) && isRecord(v['metadata']);
}

export class Reflector {
  private stopped = false;
  private current: http.ClientRequest | undefined;
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private resolveSynced!: () => void;
  /** Resolves after the first full list. */
  readonly synced: Promise<void>;
  hasSynced = false;
  /** Lists done so far (the first one included). */
  lists = 0;

  constructor(private readonly opts: ReflectorOptions) {
    this.synced = new Promise((resolve) => (this.resolveSynced = resolve));
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.current?.destroy();
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping = undefined;
        resolve();
      }, ms);
      this.sleeping = { timer, wake: resolve };
    });
  }

  private async run(): Promise<void> {
    const min = this.opts.minBackoffMs ?? 200;
    const max = this.opts.maxBackoffMs ?? 5000;
    let backoff = min;
    while (!this.stopped) {
      let rv: string;
      try {
        rv = await this.list();
        backoff = min;
      } catch (e) {
        if (this.stopped) return;
        this.opts.log?.(`[ERROR] plugin/kubernetes: Failed to list ${this.opts.path}: ${e instanceof Error ? e.message : String(e)}`);
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, max);
        continue;
      }
      while (!this.stopped) {
        const r = await this.watch(rv);
        rv = r.rv;
        if (this.stopped) return;
        if (r.expired) break;
        if (r.error) {
          this.opts.log?.(`[WARNING] plugin/kubernetes: watch of ${this.opts.path} ended: ${r.error.message}`);
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, max);
        } else backoff = min;
      }
    }
  }

  private request(path: string): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.opts.socketPath, path, method: 'GET', agent: false, headers: { Accept: 'application/json' } }, resolve);
      this.current = req;
      const timer = setTimeout(() => req.destroy(new Error(`no response to GET ${path} in ${this.opts.requestTimeoutMs ?? 10_000} ms`)), this.opts.requestTimeoutMs ?? 10_000);
      req.on('response', () => clearTimeout(timer));
      req.on('close', () => clearTimeout(timer));
      req.on('error', reject);
      req.end();
    });
  }

  private async list(): Promise<string> {
    const res = await this.request(this.opts.path);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (res.statusCode !== 200) throw new Error(`GET ${this.opts.path}: ${res.statusCode ?? '?'} ${text.slice(0, 200)}`);
    const body: unknown = JSON.parse(text);
    if (!isRecord(body) || !Array.isArray(body['items'])) throw new Error(`GET ${this.opts.path}: not a list`);
    const meta = isRecord(body['metadata']) ? body['metadata'] : {};
    const rv = typeof meta['resourceVersion'] === 'string' ? meta['resourceVersion'] : '';
    this.opts.onReplace(body['items'].filter(isKubeObject));
    this.lists++;
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.resolveSynced();
    }
    return rv;
  }

  private watch(rv: string): Promise<WatchResult> {
    const timeout = this.opts.watchTimeoutSeconds?.() ?? 300 + Math.floor(Math.random() * 300);
    const q = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: String(timeout) });
    if (rv) q.set('resourceVersion', rv);
    const path = `${this.opts.path}?${q.toString()}`;
    return new Promise((resolve) => {
      let last = rv;
      let settled = false;
      const done = (r: Omit<WatchResult, 'rv'>): void => {
        if (settled) return;
        settled = true;
        resolve({ rv: last, ...r });
      };
      this.request(path).then(
        (res) => {
          if (res.statusCode === 410) {
            res.resume();
            return done({ expired: true });
          }
          if (res.statusCode !== 200) {
            res.resume();
            return done({ expired: false, error: new Error(`GET ${path}: ${res.statusCode ?? '?'}`) });
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (!line) continue;
              let ev: unknown;
              try {
                ev = JSON.parse(line);
              } catch {
                res.destroy();
                return done({ expired: false, error: new Error('unparsable watch event') });
              }
              if (!isRecord(ev)) continue;
              const type = ev['type'];
              const obj = ev['object'];
              if (type === 'ERROR') {
                const code = isRecord(obj) ? obj['code'] : undefined;
                res.destroy();
                return done(code === 410 ? { expired: true } : { expired: false, error: new Error(`watch error: ${JSON.stringify(obj).slice(0, 200)}`) });
              }
              if (!isKubeObject(obj)) continue;
              const objRv = obj.metadata.resourceVersion;
              if (objRv) last = objRv;
              if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.opts.onEvent(type, obj);
            }
          });
          res.on('end', () => done({ expired: false }));
          res.on('error', (e) => done({ expired: false, error: e }));
          res.on('close', () => done({ expired: false }));
        },
        (e: unknown) => done({ expired: false, error: e instanceof Error ? e : new Error(String(e)) }),
      );
    });
  }
}
