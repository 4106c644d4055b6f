// `kubectl exec` for nslab's own commands: the WebSocket remote-command
// protocol (v5.channel.k8s.io) against the lab API's unix socket.
import type { Readable, Writable } from 'node:stream';
import WebSocket from 'ws';

export interface PodExec {
  namespace: string;
  pod: string;
  container?: string;
  command: string[];
  tty: boolean;
}

export interface ExecIO {
  stdout: Writable;
  stderr: Writable;
  stdin?: Readable;
  /** Terminal size now, and a way to hear about changes (TTY only). */
  size?: () => { cols: number; rows: number };
  onResize?: (listener: () => void) => void;
}

const STREAM = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

export function execPath(req: PodExec, withStdin: boolean): string {
  const q = new URLSearchParams();
  for (const c of req.command) q.append('command', c);
  if (req.container) q.set('container', req.container);
  q.set('stdout', 'true');
  q.set('stderr', String(!req.tty));
  q.set('stdin', String(withStdin));
  q.set('tty', String(req.tty));
  return `/api/v1/namespaces/${encodeURIComponent(req.namespace)}/pods/${encodeURIComponent(req.pod)}/exec?${q.toString()}`;
}

/** The exit code a final Status carries (0 for Success). */
export function exitCodeOf(status: { status?: string; message?: string; details?: { causes?: Array<{ reason?: string; message?: string }> } }): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 1;
}

/** Run a command in a pod; resolves with its exit code. */
export function execInPod(socketPath: string, req: PodExec, io: ExecIO): Promise<number> {
  const ws = new WebSocket(`ws+unix://${socketPath}:${execPath(req, io.stdin !== undefined)}`, ['v5.channel.k8s.io']);
  const send = (stream: number, data: Buffer | string) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.concat([Buffer.from([stream]), Buffer.from(data)]));
  };
  return new Promise((resolve, reject) => {
    let exitCode: number | undefined;
    ws.on('open', () => {
      if (req.tty && io.size) {
        const sendSize = () => {
          const s = io.size?.();
          if (s) send(STREAM.resize, JSON.stringify({ Width: s.cols, Height: s.rows }));
        };
        sendSize();
        io.onResize?.(sendSize);
      }
      io.stdin?.on('data', (d: Buffer) => send(STREAM.stdin, d));
      io.stdin?.on('end', () => send(STREAM.close, Buffer.from([STREAM.stdin])));
    });
    ws.on('message', (raw: Buffer) => {
      const data = raw.subarray(1);
      switch (raw[0]) {
        case STREAM.stdout:
          io.stdout.write(data);
          break;
        case STREAM.stderr:
          io.stderr.write(data);
          break;
        case STREAM.error: {
          const status = JSON.parse(data.toString()) as Parameters<typeof exitCodeOf>[0];
          exitCode = exitCodeOf(status);
          // A failure that is not the command's exit code (no causes at all, or none of reason ExitCode) is shown, as kubectl does.
          if (exitCode !== 0 && (status.details?.causes ?? []).every((c) => c.reason !== 'ExitCode')) {
            io.stderr.write(`error: ${status.message ?? 'exec failed'}\n`);
          }
          break;
        }
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let message = Buffer.concat(chunks).toString();
        try {
          message = (JSON.parse(message) as { message?: string }).message ?? message;
        } catch {
          // plain text
        }
        reject(new Error(message));
      });
    });
    ws.on('error', reject);
    ws.on('close', () => {
      io.stdin?.removeAllListeners('data');
      resolve(exitCode ?? 1);
    });
  });
}
