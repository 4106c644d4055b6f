// YAML request bodies, converted to JSON text off the event loop.
//
//   const json = await yamlToJson(text);   // then JSON.parse, as for a JSON body
//
// The yaml package needs about a second of CPU for 1.5 MB of plain YAML, and
// far more for adversarial shapes (thousands of anchors and aliases), while
// the same daemon serves kubelets and proxies. So each YAML body is parsed
// in a worker thread: the event loop stays free, and the worker gets a time
// budget and a heap limit and is terminated past either. Few bodies are YAML
// (kubectl sends JSON), so a worker per body is cheap enough, and at most
// `concurrency` run at once.
//
// The result is JSON text, as sigs.k8s.io/yaml's YAMLToJSON makes it for the
// apiserver: the caller then decodes it exactly as a JSON body.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ApiError, badRequest, entityTooLarge, internalError, tooManyRequests } from './errors.js';

export interface YamlLimits {
  /** Wall-clock budget of one conversion. */
  timeoutMs: number;
  /** Old-generation heap of one worker. */
  heapMb: number;
  /** JSON text longer than this (aliases expand) is refused as excessive aliasing. */
  maxJsonChars: number;
  /** Conversions running at once; more wait in line... */
  concurrency: number;
  /** ...up to this many, then 429 Too Many Requests. */
  queue: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = {
  timeoutMs: 10_000,
  heapMb: 256,
  maxJsonChars: 16 * 1024 * 1024,
  concurrency: 2,
  queue: 32,
};

const YAML_ERROR = 'error converting YAML to JSON: yaml:';

/** What the worker posts back. */
type Reply = { json: string } | { error: 'syntax' | 'depth' | 'aliases'; message: string };

// Runs as CommonJS in the worker (eval), so it needs no file of its own next
// to the compiled or the TypeScript module. Uniqueness of keys is not checked:
// the yaml package compares each key with every earlier one (quadratic: 18 s
// for a 1.5 MB ConfigMap), and the apiserver's YAML decoding keeps the last
// value of a repeated key as well.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { parse } = require(workerData.yamlPath);
const text = workerData.text;
let reply;
try {
  const value = parse(text, { uniqueKeys: false, maxAliasCount: 100, logLevel: 'error', prettyErrors: false });
  const json = JSON.stringify(value === undefined ? null : value);
  reply = json.length > workerData.maxJsonChars ? { error: 'aliases', message: 'expanded beyond the limit' } : { json };
} catch (e) {
  let message = e instanceof Error ? e.message : String(e);
  const at = e && Array.isArray(e.pos) ? e.pos[0] : undefined;
  if (typeof at === 'number') {
    let line = 1;
    for (let i = text.indexOf('\\n'); i >= 0 && i < at; i = text.indexOf('\\n', i + 1)) line++;
    message = 'line ' + line + ': ' + message;
  }
  const error = /Maximum call stack size exceeded/.test(message) ? 'depth'
    : /Excessive alias count|Invalid string length/.test(message) ? 'aliases' : 'syntax';
  reply = { error, message };
}
parentPort.postMessage(reply);
`;

const yamlPath = createRequire(import.meta.url).resolve('yaml');

// Per process: all API servers of the process share these workers.
let running = 0;
const waiting: Array<() => void> = [];

async function slot(limits: YamlLimits): Promise<() => void> {
  if (running >= limits.concurrency) {
    if (waiting.length >= limits.queue) throw tooManyRequests('too many YAML request bodies are being decoded, please try again later', 1);
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running++;
  }
  // The slot passes directly to the next in line, so `running` stays counted.
  return () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
}

function runWorker(text: string, limits: YamlLimits): Promise<Reply | ApiError> {
  return new Promise((resolve) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { yamlPath, text, maxJsonChars: limits.maxJsonChars },
      resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    let settled = false;
    const finish = (r: Reply | ApiError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish(entityTooLarge(`the YAML body could not be decoded within ${limits.timeoutMs / 1000}s; send it as JSON`)),
      limits.timeoutMs,
    );
    worker.once('message', (m: Reply) => finish(m));
    worker.once('error', (e: Error & { code?: string }) =>
      finish(
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? entityTooLarge(`the YAML body needs more than ${limits.heapMb} MiB to decode; send it as JSON`)
          : internalError(e),
      ),
    );
    worker.once('exit', () => finish(internalError(new Error('the YAML decoder stopped without an answer'))));
  });
}

/** The YAML document as JSON text; 400 for YAML that does not convert, 413 when too costly, 429 when too many wait. */
export async function yamlToJson(text: string, maxDepth: number, limits: YamlLimits = DEFAULT_YAML_LIMITS): Promise<string> {
  const release = await slot(limits);
  let reply: Reply | ApiError;
  try {
    reply = await runWorker(text, limits);
  } finally {
    release();
  }
  if (reply instanceof ApiError) throw reply;
  if ('json' in reply) return reply.json;
  switch (reply.error) {
    case 'depth':
      throw badRequest(`${YAML_ERROR} exceeded max depth of ${maxDepth}`);
    case 'aliases':
      throw badRequest(`${YAML_ERROR} document contains excessive aliasing`);
    case 'syntax':
      throw badRequest(`${YAML_ERROR} ${reply.message}`);
  }
}
