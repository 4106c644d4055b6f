// An in-process API server on loopback with a seeded lab store, and an
// HTTPS client authenticated as the lab admin, for tests that send raw
// bodies (hostile ones included) and read raw answers.
//
//   const t = await startTestApi();
//   const r = await t.request({ method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: '{...}' });
//   await t.close();

import type http from 'node:http';
import https from 'node:https';
import { createLabPki, type LabPki } from '../../../src/api/pki.js';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../../src/api/server.js';
import { ObjectStore } from '../../../src/api/store.js';
import { seedLab } from './fixtures.js';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface RawRequest {
  method?: string;
  path: string;
  /** Sent as is; a string is UTF-8. */
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** Send the body chunked, without Content-Length. */
  chunked?: boolean;
  /** The request fails (rejects) when no answer came by then. */
  timeoutMs?: number;
}

export interface TestApi {
  api: ApiServer;
  pki: LabPki;
  store: ObjectStore;
  request(r: RawRequest): Promise<Reply>;
  close(): Promise<void>;
}

let sharedPki: Promise<LabPki> | undefined;

export async function startTestApi(opts: Partial<Omit<ApiServerOptions, 'store' | 'pki'>> = {}): Promise<TestApi> {
  sharedPki ??= createLabPki('hostile-test');
  const pki = await sharedPki;
  const store = new ObjectStore({ historyLimit: 50 });
  seedLab(store);
  const api = await startApiServer({ version: 'v1.32.4', ...opts, store, pki, port: 0 });
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey });

  function request(r: RawRequest): Promise<Reply> {
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
    const headers: Record<string, string> = { Accept: 'application/json', ...(r.headers ?? {}) };
    if (body !== undefined) {
      headers['Content-Type'] = r.contentType ?? 'application/json';
      // Node frames a body without a length as chunked only for methods that usually have one: say so for all.
      if (r.chunked) headers['Transfer-Encoding'] = 'chunked';
      else headers['Content-Length'] = String(body.length);
    }
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: api.port, path: r.path, method: r.method ?? 'GET', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(r.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer to ${r.method ?? 'GET'} ${r.path} in time`)));
      req.on('error', reject);
      if (body !== undefined && r.chunked) {
        // Several chunks, so that the server sees a body without a declared length.
        for (let i = 0; i < body.length; i += 256 * 1024) req.write(body.subarray(i, i + 256 * 1024));
        req.end();
      } else {
        req.end(body);
      }
    });
  }

  return {
    api,
    pki,
    store,
    request,
    async close() {
      agent.destroy();
      await api.close();
    },
  };
}

/** The reply as a JSON object; throws (failing the test) when it is not one. */
export function json(r: Reply): Record<string, unknown> {
  const v = JSON.parse(r.text) as unknown;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`not a JSON object: ${r.text.slice(0, 200)}`);
  return v as Record<string, unknown>;
}
