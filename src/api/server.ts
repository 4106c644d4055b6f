// The lab's Kubernetes API server: HTTPS on 127.0.0.1 for kubectl, and
// optionally a unix socket (plain HTTP, trusted by its 0600 mode) for lab
// components.
//
//   const api = await startApiServer({store, pki, host: '127.0.0.1', port: 0,
//                                     version: {major: '1', minor: '32', gitVersion: 'v1.32.4'},
//                                     log: (line) => ...});
//   api.url  // https://127.0.0.1:43567
//   await api.close();
//
// Authentication is by client certificate only: a certificate signed by the
// lab CA authenticates as its CN (groups from O), and every authenticated
// user may do everything (there is no RBAC). Anything else gets 401
// Unauthorized, as kube-apiserver with --anonymous-auth=false answers,
// except /healthz, /livez and /readyz, which stay anonymous as the
// apiserver's AnonymousAuthConfigurableEndpoints lets them be: they reveal
// nothing but "ok". /version needs credentials.
//
// Served: /version, /healthz, /livez, /readyz; discovery (/api, /apis,
// /api/v1, /apis/<g>[/<v>], legacy and aggregated v2/v2beta1); /openapi/v3
// (paths only, see discovery.ts); /openapi/v2 answers 404, which kubectl
// tolerates for everything but `kubectl explain`; every registered
// resource with get, list, watch, create, update, patch, delete,
// deletecollection and its status/scale subresources. Other subresources
// (pods/log, pods/exec...) are served by handlers passed in `subresources`.

import { chmod, unlink } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import {
  aggregatedDiscovery,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  openApiV3Document,
  openApiV3Lookup,
  openApiV3Root,
  type AggregatedVersion,
  type ExtraSubresources,
} from './discovery.js';
import { ApiError, badRequest, internalError, isApiError, notFound, pathNotFound, unauthorized } from './errors.js';
import { DEFAULT_MAX_BODY, parseMediaTypes, send } from './negotiation.js';
import type { LabPki } from './pki.js';
import { resourceKey, type ResourceType } from './resources.js';
import {
  handleCreate,
  handleDelete,
  handleDeleteCollection,
  handleGet,
  handleList,
  handlePatch,
  handleUpdate,
  notAllowed,
  type RestContext,
  type ResourceTarget,
} from './rest.js';
import type { ObjectStore } from './store.js';
import { WatchRegistry, handleWatch } from './watch-stream.js';
import type { YamlLimits } from './yaml-body.js';

export interface KubeVersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
}

export interface UserInfo {
  name: string;
  groups: string[];
}

export interface SubresourceRequest {
  resource: ResourceType;
  namespace: string;
  name: string;
  subresource: string;
  query: URLSearchParams;
  user: UserInfo;
  store: ObjectStore;
}

/** A subresource served outside the store, e.g. "pods/log" or "pods/exec". */
export interface SubresourceHandler {
  /** Advertised in discovery. */
  verbs: string[];
  kind?: { group: string; version: string; kind: string };
  /** Plain requests; write the response (errors thrown as ApiError become Status replies). */
  handle?(req: IncomingMessage, res: ServerResponse, ctx: SubresourceRequest): void | Promise<void>;
  /** Connection upgrades (WebSocket/SPDY for exec, attach, port-forward). */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: SubresourceRequest): void;
}

export interface ApiServerOptions {
  store: ObjectStore;
  pki: Pick<LabPki, 'caCert' | 'serverCert' | 'serverKey'>;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** The Kubernetes release reported by /version ("v1.32.4" or its parts). */
  version: string | KubeVersionInfo;
  /** One line per request: "GET /api/v1/nodes?limit=500 200 3ms kubernetes-admin". */
  log?: (line: string) => void;
  /** Also serve plain HTTP on this unix socket (made 0600) for in-lab components. */
  socketPath?: string;
  /** Keyed "<resource>/<subresource>", resource as a GroupResource string ("pods/log"). */
  subresources?: Record<string, SubresourceHandler>;
  /** Request body limit in bytes (default 3 MiB, as the apiserver). */
  maxBodyBytes?: number;
  /** Bounds on decoding YAML request bodies (defaults: yaml-body.ts). */
  yamlLimits?: YamlLimits;
  now?: () => Date;
}

export interface ApiServer {
  port: number;
  url: string;
  socketPath?: string;
  close(): Promise<void>;
}

const ANONYMOUS_PATHS = ['/healthz', '/livez', '/readyz'];
/** What the unix socket's peers are: the lab's own components. */
const SOCKET_USER: UserInfo = { name: 'system:nslab', groups: ['system:masters', 'system:authenticated'] };

function versionInfo(v: string | KubeVersionInfo): Record<string, string> {
  const info: KubeVersionInfo =
    typeof v === 'string'
      ? (() => {
          const m = /^v?(\d+)\.(\d+)/.exec(v);
          return { major: m?.[1] ?? '', minor: m?.[2] ?? '', gitVersion: v };
        })()
      : v;
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' } as Record<string, string>)[process.arch] ?? process.arch;
  return {
    major: info.major,
    minor: info.minor,
    gitVersion: info.gitVersion,
    gitCommit: 'nslab',
    gitTreeState: 'clean',
    buildDate: '1970-01-01T00:00:00Z',
    goVersion: 'go1.23.8',
    compiler: 'gc',
    platform: `linux/${arch}`,
  };
}

function authenticate(req: IncomingMessage): UserInfo | undefined {
  const sock = req.socket;
  if (!(sock instanceof TLSSocket)) return SOCKET_USER;
  if (!sock.authorized) return undefined;
  const cert = sock.getPeerCertificate();
  const subject = cert.subject as Record<string, string | string[] | undefined> | undefined;
  const cn = subject?.['CN'];
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = subject?.['O'];
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name, groups: [...groups, 'system:authenticated'] };
}

// ---- routing -------------------------------------------------------------------

type Route =
  | { kind: 'apiVersions' }
  | { kind: 'groupList' }
  | { kind: 'group'; group: string }
  | { kind: 'resourceList'; group: string; version: string }
  | { kind: 'resource'; target: ResourceTarget }
  | { kind: 'notFound' };

function routeResource(store: ObjectStore, group: string, version: string, rest: string[], extra: ExtraSubresources): Route {
  const registry = store.registry;
  const known = (rt: ResourceType, sub: string | undefined): boolean =>
    sub === undefined || rt.subresources.some((s) => s.name === sub) || (extra[resourceKey(rt)] ?? []).some((s) => s.name === sub);

  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const nsType = registry.byPath(group, version, 'namespaces');
    if (rest.length === 3 && nsType && (rest[2] === 'status' || rest[2] === 'finalize')) {
      return { kind: 'resource', target: { rt: nsType, namespace: '', name: rest[1] ?? '', subresource: rest[2] } };
    }
    const rt = registry.byPath(group, version, rest[2] ?? '');
    if (!rt || !rt.namespaced || rest.length > 5 || !known(rt, rest[4])) return { kind: 'notFound' };
    const target: ResourceTarget = { rt, namespace: rest[1] ?? '' };
    if (rest[3] !== undefined) target.name = rest[3];
    if (rest[4] !== undefined) target.subresource = rest[4];
    return { kind: 'resource', target };
  }
  const rt = registry.byPath(group, version, rest[0] ?? '');
  if (!rt || rest.length > 3 || !known(rt, rest[2])) return { kind: 'notFound' };
  // Namespaced objects are addressed inside their namespace.
  if (rt.namespaced && rest.length > 1) return { kind: 'notFound' };
  const target: ResourceTarget = { rt, namespace: '' };
  if (rest[1] !== undefined) target.name = rest[1];
  if (rest[2] !== undefined) target.subresource = rest[2];
  return { kind: 'resource', target };
}

function route(store: ObjectStore, segments: string[], extra: ExtraSubresources): Route {
  const [root, a, b] = segments;
  if (root === 'api') {
    if (segments.length === 1) return { kind: 'apiVersions' };
    if (a !== 'v1') return { kind: 'notFound' };
    if (segments.length === 2) return { kind: 'resourceList', group: '', version: 'v1' };
    return routeResource(store, '', 'v1', segments.slice(2), extra);
  }
  if (root === 'apis') {
    if (segments.length === 1) return { kind: 'groupList' };
    if (segments.length === 2) return { kind: 'group', group: a ?? '' };
    const gvs = store.registry.groupVersions();
    if (!gvs.some((gv) => gv.group === a && gv.version === b)) return { kind: 'notFound' };
    if (segments.length === 3) return { kind: 'resourceList', group: a ?? '', version: b ?? '' };
    return routeResource(store, a ?? '', b ?? '', segments.slice(3), extra);
  }
  return { kind: 'notFound' };
}

function parseUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'https://localhost');
  } catch {
    throw badRequest(`invalid request URL: ${JSON.stringify(req.url ?? '')}`);
  }
}

function pathSegments(url: URL): string[] {
  try {
    return url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    throw badRequest(`invalid request path: ${JSON.stringify(url.pathname)}`);
  }
}

/** Which discovery format the Accept header asks for first. */
function discoveryFormat(accept: string | undefined): AggregatedVersion | 'legacy' {
  for (const m of parseMediaTypes(accept)) {
    if (m.type === 'application/json' && m.params['g'] === 'apidiscovery.k8s.io' && m.params['as'] === 'APIGroupDiscoveryList') {
      const v = m.params['v'];
      if (v === 'v2' || v === 'v2beta1') return v;
      continue;
    }
    if (m.params['as'] === undefined) return 'legacy';
  }
  return 'legacy';
}

// ---- the server ----------------------------------------------------------------

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { store } = opts;
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? ((): void => {});
  const now = opts.now ?? ((): Date => new Date());
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const handlers = opts.subresources ?? {};
  const extra: ExtraSubresources = {};
  for (const [key, h] of Object.entries(handlers)) {
    const slash = key.lastIndexOf('/');
    const sub = { name: key.slice(slash + 1), verbs: h.verbs, ...(h.kind ? { kind: h.kind } : {}) };
    (extra[key.slice(0, slash)] ??= []).push(sub);
  }
  const version = versionInfo(opts.version);
  const streams = new WatchRegistry();
  let address = `${host}:0`;

  async function serve(req: IncomingMessage, res: ServerResponse, user: UserInfo | undefined, url: URL): Promise<void> {
    const path = url.pathname;
    const segments = pathSegments(url);
    const method = req.method ?? 'GET';

    if (ANONYMOUS_PATHS.some((p) => path === p || path.startsWith(`${p}/`))) {
      const check = segments[0] ?? 'healthz';
      const body = url.searchParams.has('verbose') ? `[+]ping ok\n[+]log ok\n[+]etcd ok\n${check} check passed\n` : 'ok';
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(body);
      return;
    }
    if (!user) throw unauthorized();
    if (path === '/version' || path === '/version/') return send(res, 200, version);
    if (segments[0] === 'openapi') {
      if (segments[1] === 'v3') {
        if (segments.length === 2) return send(res, 200, openApiV3Root(store.registry, version['gitVersion'] ?? ''));
        const gv = openApiV3Lookup(store.registry, segments.slice(2).join('/'));
        if (gv) return send(res, 200, openApiV3Document(store.registry, gv, version['gitVersion'] ?? ''));
      }
      throw pathNotFound();
    }

    const r = route(store, segments, extra);
    switch (r.kind) {
      case 'notFound':
        throw pathNotFound();
      case 'apiVersions':
      case 'groupList': {
        const format = discoveryFormat(req.headers.accept);
        res.setHeader('Vary', 'Accept');
        if (format !== 'legacy') {
          const doc = aggregatedDiscovery(store.registry, r.kind === 'apiVersions', format, extra);
          return send(res, 200, doc, `application/json;g=apidiscovery.k8s.io;v=${format};as=APIGroupDiscoveryList`);
        }
        return send(res, 200, r.kind === 'apiVersions' ? apiVersions(address) : apiGroupList(store.registry));
      }
      case 'group': {
        const doc = apiGroupDocument(store.registry, r.group);
        if (!doc) throw pathNotFound();
        return send(res, 200, doc);
      }
      case 'resourceList':
        return send(res, 200, apiResourceList(store.registry, { group: r.group, version: r.version }, extra));
      case 'resource':
        return serveResource(req, res, user, url, r.target, method);
    }
  }

  async function serveResource(
    req: IncomingMessage,
    res: ServerResponse,
    user: UserInfo,
    url: URL,
    t: ResourceTarget,
    method: string,
  ): Promise<void> {
    const ctx: RestContext = { req, res, query: url.searchParams, store, now, maxBody, ...(opts.yamlLimits ? { yamlLimits: opts.yamlLimits } : {}) };
    const sub = t.subresource;
    if (sub !== undefined && sub !== 'status' && sub !== 'scale' && sub !== 'finalize') {
      const h = handlers[`${resourceKey(t.rt)}/${sub}`];
      if (!h?.handle) throw notAllowed(t);
      store.get(resourceKey(t.rt), t.namespace, t.name ?? '');
      await h.handle(req, res, subresourceRequest(t, url, user));
      return;
    }
    const watch = url.searchParams.get('watch');
    if (t.name === undefined) {
      if (method === 'GET' && (watch === 'true' || watch === '1')) return handleWatch(ctx, t, streams);
      if (method === 'GET') return handleList(ctx, t);
      if (method === 'POST') return handleCreate(ctx, t);
      if (method === 'DELETE') return handleDeleteCollection(ctx, t);
      throw notAllowed(t);
    }
    if (sub === 'finalize' && method !== 'PUT') throw notAllowed(t);
    switch (method) {
      case 'GET':
        return handleGet(ctx, t);
      case 'PUT':
        return handleUpdate(ctx, sub === 'finalize' ? { rt: t.rt, namespace: t.namespace, name: t.name } : t);
      case 'PATCH':
        return handlePatch(ctx, t);
      case 'DELETE':
        if (sub !== undefined) throw notAllowed(t);
        return handleDelete(ctx, t);
      default:
        throw notAllowed(t);
    }
  }

  function subresourceRequest(t: ResourceTarget, url: URL, user: UserInfo): SubresourceRequest {
    return {
      resource: t.rt,
      namespace: t.namespace,
      name: t.name ?? '',
      subresource: t.subresource ?? '',
      query: url.searchParams,
      user,
      store,
    };
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const user = authenticate(req);
    let logged = false;
    const done = (): void => {
      if (logged) return;
      logged = true;
      const ms = Math.round(performance.now() - started);
      log(`${req.method ?? '?'} ${req.url ?? ''} ${res.statusCode} ${ms}ms ${user?.name ?? 'anonymous'}`);
    };
    res.on('finish', done);
    res.on('close', done);
    Promise.resolve()
      .then(() => serve(req, res, user, parseUrl(req)))
      .catch((e: unknown) => {
        const err = isApiError(e) ? e : internalError(e);
        if (!isApiError(e)) log(`error serving ${req.method ?? ''} ${req.url ?? ''}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        if (res.headersSent) {
          res.end();
          return;
        }
        send(res, err.code, err.toStatus());
      });
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      upgrade(req, socket, head);
    } catch (e) {
      log(`error upgrading ${req.url ?? ''}: ${e instanceof Error ? e.message : String(e)}`);
      socket.destroy();
    }
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const reject = (err: ApiError): void => {
      const body = `${JSON.stringify(err.toStatus())}\n`;
      socket.end(
        `HTTP/1.1 ${err.code} ${http.STATUS_CODES[err.code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      log(`${req.method ?? '?'} ${req.url ?? ''} ${err.code} upgrade`);
    };
    const user = authenticate(req);
    if (!user) return reject(unauthorized());
    const url = parseUrl(req);
    const r = route(store, pathSegments(url), extra);
    if (r.kind !== 'resource' || r.target.subresource === undefined) return reject(pathNotFound());
    const h = handlers[`${resourceKey(r.target.rt)}/${r.target.subresource}`];
    if (!h?.upgrade) return reject(notAllowed(r.target));
    if (!store.find(resourceKey(r.target.rt), r.target.namespace, r.target.name ?? '')) {
      return reject(notFound(r.target.rt, r.target.name ?? ''));
    }
    log(`${req.method ?? '?'} ${req.url ?? ''} 101 upgrade ${user.name}`);
    h.upgrade(req, socket, head, subresourceRequest(r.target, url, user));
  }

  const tls = https.createServer(
    {
      key: opts.pki.serverKey,
      cert: opts.pki.serverCert,
      ca: opts.pki.caCert,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    onRequest,
  );
  tls.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    tls.once('error', reject);
    tls.listen(opts.port ?? 0, host, () => {
      tls.off('error', reject);
      resolve();
    });
  });
  const port = (tls.address() as AddressInfo).port;
  address = `${host}:${port}`;

  let unix: http.Server | undefined;
  if (opts.socketPath) {
    const socketPath = opts.socketPath;
    await unlink(socketPath).catch(() => undefined);
    unix = http.createServer(onRequest);
    unix.on('upgrade', onUpgrade);
    const server = unix;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket file is created during listen(): a 0177 umask makes it
      // 0600 from the start, so no one else can connect in between.
      const previous = process.umask(0o177);
      try {
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(previous);
      }
    });
    await chmod(socketPath, 0o600);
  }

  const closeServer = (s: http.Server | https.Server): Promise<void> =>
    new Promise((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });

  const api: ApiServer = {
    port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      streams.closeAll();
      await Promise.all([closeServer(tls), ...(unix ? [closeServer(unix)] : [])]);
      if (opts.socketPath) await unlink(opts.socketPath).catch(() => undefined);
    },
  };
  if (opts.socketPath) api.socketPath = opts.socketPath;
  return api;
}
