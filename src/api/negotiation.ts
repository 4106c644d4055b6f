// Content negotiation as kube-apiserver does it: the Accept header picks
// plain JSON (or YAML), a meta.k8s.io Table (what `kubectl get` asks for) or
// PartialObjectMetadata; request bodies are JSON, YAML or protobuf (typed
// clients). Responses are never protobuf: clients that ask for it also
// accept JSON.

import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { badRequest, notAcceptable, requestEntityTooLarge, unsupportedMediaType } from './errors.js';
import { PROTOBUF_CONTENT_TYPE, decodeProtobufObject } from './protobuf.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

/** "application/json;as=Table;v=v1;g=meta.k8s.io, application/json" -> parts in order. */
export function parseMediaTypes(header: string | undefined): MediaType[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part) => {
      const [type = '', ...rest] = part.split(';').map((s) => s.trim());
      const params: Record<string, string> = {};
      for (const p of rest) {
        const eq = p.indexOf('=');
        if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      }
      return { type: type.toLowerCase(), params };
    })
    .filter((m) => m.type !== '');
}

export type Output =
  | { as: 'json' }
  | { as: 'yaml' }
  | { as: 'table'; version: 'v1' | 'v1beta1' }
  | { as: 'partial'; version: 'v1' | 'v1beta1' };

const ACCEPTED = 'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf';

/** The first acceptable representation in the client's order; 406 if none. */
export function negotiateOutput(accept: string | undefined): Output {
  const types = parseMediaTypes(accept);
  if (types.length === 0) return { as: 'json' };
  for (const m of types) {
    const as = m.params['as'];
    if (as !== undefined) {
      if (m.type !== 'application/json' || m.params['g'] !== 'meta.k8s.io') continue;
      const v = m.params['v'];
      if (v !== 'v1' && v !== 'v1beta1') continue;
      if (as === 'Table') return { as: 'table', version: v };
      if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { as: 'partial', version: v };
      continue;
    }
    if (m.type === 'application/json' || m.type === '*/*' || m.type === 'application/*') return { as: 'json' };
    if (m.type === 'application/yaml') return { as: 'yaml' };
  }
  throw notAcceptable(ACCEPTED);
}

/** Writes a JSON (or YAML) document with a trailing newline, as Go's encoder does. */
export function send(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = contentType === 'application/yaml' ? toYaml(body) : `${JSON.stringify(body)}\n`;
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

export const DEFAULT_MAX_BODY = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw requestEntityTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw requestEntityTooLarge(limit);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** A JSON, YAML or Kubernetes-protobuf request body as a value; 400 when it does not parse, 415 for other types. */
export function decodeBody(buf: Buffer, contentType: string | undefined): unknown {
  const type = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = buf.toString('utf8');
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    try {
      return parseYaml(text) as unknown;
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (type === PROTOBUF_CONTENT_TYPE) return decodeProtobufObject(buf);
  if (type === 'application/json' || type.endsWith('+json') || type === '') {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw badRequest(`json parse error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
}
