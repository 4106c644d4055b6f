// pods/exec and pods/log: the streaming subresources kubectl uses for
// `kubectl exec` and `kubectl logs`. Exec speaks the WebSocket remote-command
// protocol (v5.channel.k8s.io, and v4 without the close signal): binary
// frames whose first byte is the stream (0 stdin, 1 stdout, 2 stderr,
// 3 error/status, 4 resize, 255 close), ending with a Status on stream 3
// that carries the exit code.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, badRequest, notFound } from './errors.js';
import type { SubresourceHandler, SubresourceRequest } from './server.js';
import type { KubeObject } from './types.js';

export interface ExecOptions {
  stdin: boolean;
  tty: boolean;
}

export interface ExecSession {
  stdin?: Writable;
  stdout: Readable;
  stderr?: Readable;
  resize(cols: number, rows: number): void;
  exited: Promise<{ exitCode: number }>;
  kill(): void;
}

export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  limitBytes?: number;
}

/** What the node agents offer the API for running pods. */
export interface PodRuntime {
  exec(pod: KubeObject, container: string, command: string[], opts: ExecOptions): Promise<ExecSession>;
  logs(pod: KubeObject, container: string, opts: LogOptions): Promise<Readable>;
}

const STREAM = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

interface Container {
  name: string;
}

/** The container a request names, defaulted as the apiserver does when the pod has exactly one. */
export function pickContainer(pod: KubeObject, requested: string | null): string {
  const spec = (pod['spec'] ?? {}) as { containers?: Container[] };
  const names = (spec.containers ?? []).map((c) => c.name);
  const podName = pod.metadata.name ?? '';
  if (requested) {
    if (!names.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${podName}`);
    return requested;
  }
  if (names.length === 1 && names[0]) return names[0];
  throw badRequest(`a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`);
}

function findRunningPod(ctx: SubresourceRequest): KubeObject {
  const pod = ctx.store.find('pods', ctx.namespace, ctx.name);
  if (!pod) throw notFound({ group: '', resource: 'pods' }, ctx.name);
  const spec = (pod['spec'] ?? {}) as { nodeName?: string };
  if (!spec.nodeName) throw badRequest(`pod ${ctx.name} does not have a host assigned`);
  return pod;
}

/** The Status that ends an exec, as the kubelet's remote-command server writes it. */
export function execStatus(command: string[], exitCode: number): object {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

function rejectUpgrade(socket: Duplex, err: ApiError): void {
  const body = JSON.stringify(err.toStatus());
  socket.end(
    `HTTP/1.1 ${err.code} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function frame(stream: number, data: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from([stream]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);
}

function bridge(ws: WebSocket, session: ExecSession, command: string[]): void {
  const send = (stream: number, data: Buffer | string) => {
    if (ws.readyState === ws.OPEN) ws.send(frame(stream, data));
  };
  session.stdout.on('data', (d: Buffer | string) => send(STREAM.stdout, d));
  session.stderr?.on('data', (d: Buffer | string) => send(STREAM.stderr, d));
  ws.on('message', (raw: Buffer) => {
    const stream = raw[0];
    const data = raw.subarray(1);
    if (stream === STREAM.stdin) session.stdin?.write(data);
    else if (stream === STREAM.resize) {
      try {
        const size = JSON.parse(data.toString()) as { Width?: number; Height?: number };
        if (size.Width && size.Height) session.resize(size.Width, size.Height);
      } catch {
        // a malformed resize is ignored, as the kubelet does
      }
    } else if (stream === STREAM.close && data[0] === STREAM.stdin) session.stdin?.end();
  });
  ws.on('close', () => session.kill());
  const ended = (s: Readable | undefined) =>
    s ? new Promise<void>((resolve) => (s.readableEnded || s.destroyed ? resolve() : s.once('close', resolve).once('end', resolve))) : Promise.resolve();
  void session.exited.then(async ({ exitCode }) => {
    // Let buffered output through before the status; bounded, a grandchild may hold the pipe.
    await Promise.race([Promise.all([ended(session.stdout), ended(session.stderr)]), new Promise((r) => setTimeout(r, 200))]);
    send(STREAM.error, JSON.stringify(execStatus(command, exitCode)));
    ws.close(1000);
  });
}

function execHandler(runtime: PodRuntime): SubresourceHandler {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  return {
    verbs: ['create', 'get'],
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: SubresourceRequest) {
      let pod: KubeObject;
      let container: string;
      const command = ctx.query.getAll('command');
      try {
        pod = findRunningPod(ctx);
        container = pickContainer(pod, ctx.query.get('container'));
        if (command.length === 0) throw badRequest('you must specify at least 1 command');
      } catch (e) {
        return rejectUpgrade(socket, e instanceof ApiError ? e : badRequest(String(e)));
      }
      const opts: ExecOptions = { stdin: ctx.query.get('stdin') === 'true' || ctx.query.get('stdin') === '1', tty: ctx.query.get('tty') === 'true' || ctx.query.get('tty') === '1' };
      wss.handleUpgrade(req, socket, head, (ws) => {
        runtime.exec(pod, container, command, opts).then(
          (session) => bridge(ws, session, command),
          (e: unknown) => {
            const message = e instanceof Error ? e.message : String(e);
            ws.send(frame(STREAM.error, JSON.stringify({ metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 })));
            ws.close(1000);
          },
        );
      });
    },
  };
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`${name}: must be a non-negative integer`);
  return n;
}

function logHandler(runtime: PodRuntime): SubresourceHandler {
  return {
    verbs: ['get'],
    async handle(req: IncomingMessage, res: ServerResponse, ctx: SubresourceRequest) {
      const pod = findRunningPod(ctx);
      const container = pickContainer(pod, ctx.query.get('container'));
      const q = ctx.query;
      const tailLines = intParam(q, 'tailLines');
      const sinceSeconds = intParam(q, 'sinceSeconds');
      const limitBytes = intParam(q, 'limitBytes');
      const stream = await runtime.logs(pod, container, {
        follow: q.get('follow') === 'true',
        previous: q.get('previous') === 'true',
        timestamps: q.get('timestamps') === 'true',
        ...(tailLines !== undefined ? { tailLines } : {}),
        ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
        ...(limitBytes !== undefined ? { limitBytes } : {}),
      });
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
      req.on('close', () => stream.destroy());
      stream.pipe(res);
    },
  };
}

export function podStreamHandlers(runtime: PodRuntime): Record<string, SubresourceHandler> {
  return { 'pods/exec': execHandler(runtime), 'pods/log': logHandler(runtime) };
}
