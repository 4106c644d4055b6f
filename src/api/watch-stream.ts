// GET ...?watch=true: a chunked stream of {"type":...,"object":...} lines,
// as kube-apiserver writes it. With a Table Accept header (`kubectl get -w`)
// each object is a one-row Table, column definitions on the first event
// only. A resourceVersion older than the store's history yields one ERROR
// event with a 410 Expired Status in a 200 stream, as the watch cache does.
// The stream ends at timeoutSeconds (default: a random 30-60 min, as
// --min-request-timeout), when the client goes away, or on server close.

import { isApiError } from './errors.js';
import { negotiateOutput } from './negotiation.js';
import { resourceKey } from './resources.js';
import type { RestContext, ResourceTarget } from './rest.js';
import type { WatchHandle, WatchOptions } from './store.js';
import { buildTable, partialObjectMetadata, type IncludeObject } from './tables.js';
import type { KubeObject, WatchEvent } from './types.js';

export interface WatchStreams {
  /** Ends every open stream (server shutdown). */
  closeAll(): void;
  readonly size: number;
}

export class WatchRegistry implements WatchStreams {
  private readonly enders = new Set<() => void>();

  add(end: () => void): () => void {
    this.enders.add(end);
    return () => this.enders.delete(end);
  }

  closeAll(): void {
    for (const end of [...this.enders]) end();
  }

  get size(): number {
    return this.enders.size;
  }
}

const BOOKMARK_INTERVAL_MS = 60_000;

function parseBool(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  return v === 'true' || v === '1';
}

export function handleWatch(ctx: RestContext, t: ResourceTarget, streams: WatchRegistry): Promise<void> {
  const output = negotiateOutput(ctx.req.headers.accept);
  const q = ctx.query;
  const opts: WatchOptions = { namespace: t.namespace };
  const ls = q.get('labelSelector');
  const fs = q.get('fieldSelector');
  if (ls) opts.labelSelector = ls;
  // A watch on one object (kubectl get x -w, kubectl wait) arrives as a metadata.name field selector.
  if (fs) opts.fieldSelector = fs;
  const rv = q.get('resourceVersion');
  if (rv !== null) opts.resourceVersion = rv;
  const initial = parseBool(q.get('sendInitialEvents'));
  if (initial !== undefined) opts.sendInitialEvents = initial;
  const bookmarks = parseBool(q.get('allowWatchBookmarks')) === true || initial === true;
  const include: IncludeObject =
    q.get('includeObject') === 'Object' ? 'Object' : q.get('includeObject') === 'None' ? 'None' : 'Metadata';
  const timeoutParam = q.get('timeoutSeconds');
  const timeoutMs =
    timeoutParam !== null && /^\d+$/.test(timeoutParam) && Number(timeoutParam) > 0
      ? Number(timeoutParam) * 1000
      : (1800 + Math.random() * 1800) * 1000;

  const res = ctx.res;
  let headersSent = false;
  let tableHeadersSent = false;

  const encode = (ev: { type: string; object: unknown }): string => `${JSON.stringify(ev)}\n`;
  const objectFor = (obj: KubeObject): unknown => {
    if (output.as === 'table') {
      const table = buildTable(t.rt.printer, [obj], {
        now: ctx.now(),
        includeObject: include,
        noHeaders: tableHeadersSent,
        resourceVersion: obj.metadata.resourceVersion ?? '',
        apiVersion: `meta.k8s.io/${output.version}`,
      });
      tableHeadersSent = true;
      return table;
    }
    if (output.as === 'partial') return partialObjectMetadata(obj, `meta.k8s.io/${output.version}`);
    return obj;
  };

  const startStream = (): void => {
    if (headersSent) return;
    headersSent = true;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
  };

  return new Promise<void>((resolve, reject) => {
    let handle: WatchHandle | undefined;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let bookmarkTimer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (done) return;
      done = true;
      handle?.stop();
      if (timer) clearTimeout(timer);
      if (bookmarkTimer) clearInterval(bookmarkTimer);
      unregister();
      if (!res.writableEnded) {
        startStream();
        res.end();
      }
      resolve();
    };
    const unregister = streams.add(finish);
    const write = (ev: WatchEvent): void => {
      if (done) return;
      if (ev.type === 'BOOKMARK') {
        if (!bookmarks) return;
        startStream();
        res.write(encode({ type: 'BOOKMARK', object: ev.object }));
        return;
      }
      startStream();
      res.write(encode({ type: ev.type, object: objectFor(ev.object) }));
    };

    try {
      handle = ctx.store.watch(resourceKey(t.rt), opts, write);
    } catch (e) {
      if (!isApiError(e) || e.code >= 500 || e.code === 400) {
        unregister();
        done = true;
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      // Too old a resourceVersion: one ERROR event, then the stream ends.
      startStream();
      res.write(encode({ type: 'ERROR', object: e.toStatus() }));
      finish();
      return;
    }
    startStream();
    timer = setTimeout(finish, timeoutMs);
    if (bookmarks) {
      bookmarkTimer = setInterval(() => write({ type: 'BOOKMARK', object: ctx.store.bookmark(t.rt) }), BOOKMARK_INTERVAL_MS);
    }
    // 'close' on the response: finished by us, or the connection went away.
    res.on('close', finish);
  });
}
