// Typed API errors that carry what kube-apiserver puts in a failure Status:
// HTTP code, reason, message and details. Messages follow
// k8s.io/apimachinery/pkg/api/errors word for word, because kubectl prints
// them as they come ("Error from server (NotFound): namespaces "x" not found").
//
//   throw notFound({group: '', resource: 'namespaces'}, 'x')
//   err.toStatus() -> {kind: 'Status', ..., reason: 'NotFound', code: 404}

import type { Status, StatusDetails } from './types.js';

export interface GroupResource {
  group: string;
  resource: string;
}

/** "namespaces", "deployments.apps": schema.GroupResource.String(). */
export function groupResourceString(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Status {
    const s: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
    };
    if (this.details) s.details = this.details;
    s.code = this.code;
    return s;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

function grDetails(gr: GroupResource, name: string): StatusDetails {
  const d: StatusDetails = { name };
  if (gr.group) d.group = gr.group;
  d.kind = gr.resource;
  return d;
}

export function notFound(gr: GroupResource, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${groupResourceString(gr)} "${name}" not found`, grDetails(gr, name));
}

export function alreadyExists(gr: GroupResource, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${groupResourceString(gr)} "${name}" already exists`, grDetails(gr, name));
}

export const MODIFIED_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(gr: GroupResource, name: string, why: string = MODIFIED_MESSAGE): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${groupResourceString(gr)} "${name}": ${why}`,
    grDetails(gr, name),
  );
}

export interface FieldError {
  /** "Required value", "Invalid value", "Unsupported value", "Forbidden", "Duplicate value". */
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueDuplicate';
  field: string;
  /** ErrorBody: e.g. `Required value` or `Invalid value: "Bad": a lowercase RFC 1123 ...`. */
  body: string;
}

/** field.Error.Error(): "<field>: <body>". */
function fieldErrorString(e: FieldError): string {
  return `${e.field}: ${e.body}`;
}

/**
 * 422 Invalid: `<Kind>.<group> "<name>" is invalid: <errors>`, where several
 * errors are aggregated as "[a, b]" like utilerrors.Aggregate.
 */
export function invalid(kind: string, group: string, name: string, errs: FieldError[]): ApiError {
  const qk = group ? `${kind}.${group}` : kind;
  let message = `${qk} "${name}" is invalid`;
  if (errs.length === 1 && errs[0]) message += `: ${fieldErrorString(errs[0])}`;
  else if (errs.length > 1) message += `: [${errs.map(fieldErrorString).join(', ')}]`;
  const details: StatusDetails = { name };
  if (group) details.group = group;
  details.kind = kind;
  details.causes = errs.map((e) => ({ reason: e.type, message: e.body, field: e.field }));
  return new ApiError(422, 'Invalid', message, details);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(gr: GroupResource, name: string, why: string): ApiError {
  const msg = name ? `${groupResourceString(gr)} "${name}" is forbidden: ${why}` : `${groupResourceString(gr)} is forbidden: ${why}`;
  return new ApiError(403, 'Forbidden', msg, grDetails(gr, name));
}

/** A watch from a resourceVersion older than the retained history (etcd compaction). */
export function resourceExpired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function methodNotSupported(gr: GroupResource, action: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${groupResourceString(gr)}"`, {
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });
}

export function notAcceptable(message: string): ApiError {
  return new ApiError(406, 'NotAcceptable', message);
}

export function unsupportedMediaType(message: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', message);
}

/** NewRequestEntityTooLargeError: "Request entity too large: <why>". */
export function entityTooLarge(why: string): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: ${why}`);
}

export function requestEntityTooLarge(limit: number): ApiError {
  return entityTooLarge(`limit is ${limit}`);
}

/** NewTooManyRequestsError: "Too many requests: <why>", with a hint when to retry. */
export function tooManyRequests(why: string, retryAfterSeconds: number): ApiError {
  return new ApiError(429, 'TooManyRequests', `Too many requests: ${why}`, { retryAfterSeconds });
}

/**
 * A patch that cannot be applied: the apiserver answers 422 Invalid with this
 * generic message (NewGenericServerResponse). The why, which the apiserver
 * only logs, goes in a cause, which kubectl prints under the message.
 */
export function patchRejected(why: string, field?: string, reason: FieldError['type'] = 'FieldValueInvalid'): ApiError {
  return new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason, message: why, ...(field !== undefined ? { field } : {}) }],
  });
}

/** The generic 404 for a path nothing serves. */
export function pathNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function internalError(err: unknown): ApiError {
  const m = err instanceof Error ? err.message : String(err);
  return new ApiError(500, 'InternalError', `Internal error occurred: ${m}`, { causes: [{ message: m }] });
}
