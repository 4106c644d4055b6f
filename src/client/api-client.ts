// A small client of a lab's API over its unix socket (root-only, 0600), for
// nslab's own commands: no certificates needed, same API kubectl sees.
import http from 'node:http';
import type { KubeObject } from '../api/types.js';
import { files, statePath } from '../sys/state-dir.js';

export class ApiRequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

export function apiSocketPath(lab: string): string {
  return statePath(lab, files.socket);
}

export class LabApiClient {
  constructor(readonly socketPath: string) {}

  static forLab(lab: string): LabApiClient {
    return new LabApiClient(apiSocketPath(lab));
  }

  request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          path,
          method,
          headers: { Accept: 'application/json', ...(payload ? { 'Content-Type': 'application/json' } : {}) },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            const code = res.statusCode ?? 0;
            if (code >= 400) {
              let message = text;
              try {
                message = (JSON.parse(text) as { message?: string }).message ?? text;
              } catch {
                // not a Status
              }
              reject(new ApiRequestError(code, message));
            } else resolve(JSON.parse(text) as T);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`the lab API did not answer ${method} ${path} in time`)));
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? new Error('the lab control plane is not running: is the lab up?') : e),
      );
      if (payload) req.write(payload);
      req.end();
    });
  }

  get(path: string): Promise<KubeObject> {
    return this.request<KubeObject>('GET', path);
  }

  async list(path: string): Promise<KubeObject[]> {
    return (await this.request<{ items: KubeObject[] }>('GET', path)).items;
  }
}
