// Content negotiation as kube-apiserver does it: the Accept header picks
// plain JSON (or YAML), a meta.k8s.io Table (what `kubectl get` asks for) or
// PartialObjectMetadata; request bodies are JSON, YAML or protobuf (typed
// clients). Responses are never protobuf: clients that ask for it also
// accept JSON.

import { stringify as toYaml } from 'yaml';
import { badRequest, notAcceptable, requestEntityTooLarge, unsupportedMediaType } from './errors.js';
import { PROTOBUF_CONTENT_TYPE, decodeProtobufObject } from './protobuf.js';
import { yamlToJson, type YamlLimits } from './yaml-body.js';
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

/**
 * The request body, at most `limit` bytes; 413 beyond, as the apiserver.
 *
 * After a 413 the rest of the body is still read and thrown away, up to
 * another `limit` bytes, so that the answer reaches the client and the
 * connection can carry its next request; a client that sends more than that
 * has its connection closed. (Breaking out of the stream instead left the
 * connection stuck: the next request on it was never read.)
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const refuse = (): void => {
      refused = true;
      chunks.length = 0;
      reject(requestEntityTooLarge(limit));
    };
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) refuse();
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (refused) {
        if (size > 2 * limit) req.socket.destroy();
      } else if (size > limit) {
        refuse();
      } else {
        chunks.push(b);
      }
    });
    req.once('end', () => {
      if (!refused) resolve(Buffer.concat(chunks));
    });
    // A client that goes away mid-body: nothing to answer, but the handler must not wait forever.
    req.once('close', () => {
      if (!refused && !req.complete) reject(badRequest('the request body ended early'));
    });
    req.once('error', (e) => {
      if (!refused) reject(badRequest(`reading the request body: ${e.message}`));
    });
  });
}

/**
 * How deeply objects and arrays of a request body may nest. The apiserver's
 * decoders stop at 10000 (Go stacks grow); Node's do not, and this daemon
 * handles objects recursively in many places (structuredClone gives up near
 * 1900 levels, the YAML printer of responses near 600). Objects of the kinds
 * served here nest about 15 deep, so 100 refuses nothing real.
 */
export const MAX_NESTING_DEPTH = 100;

/** Whether JSON text nests objects and arrays deeper than `limit`: one pass, nothing built. */
export function jsonNestsDeeper(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

function parseJson(text: string, errorPrefix: string): unknown {
  if (jsonNestsDeeper(text, MAX_NESTING_DEPTH)) throw badRequest(`${errorPrefix}exceeded max depth of ${MAX_NESTING_DEPTH}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest(`${errorPrefix}${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A JSON, YAML or Kubernetes-protobuf request body as a value; 400 when it does not parse, 415 for other types. */
export async function decodeBody(buf: Buffer, contentType: string | undefined, yamlLimits?: YamlLimits): Promise<unknown> {
  const type = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    const json = await yamlToJson(buf.toString('utf8'), MAX_NESTING_DEPTH, yamlLimits);
    return parseJson(json, 'error converting YAML to JSON: yaml: ');
  }
  if (type === PROTOBUF_CONTENT_TYPE) return decodeProtobufObject(buf);
  if (type === 'application/json' || type.endsWith('+json') || type === '') {
    return parseJson(buf.toString('utf8'), 'json parse error: ');
  }
  throw unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
}
