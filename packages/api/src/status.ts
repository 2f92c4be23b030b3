// API errors as metav1.Status (DESIGN rule 7): one constructor per reason, in the code and wording
// of apimachinery pkg/api/errors/errors.go, so that kubectl prints what it prints for Kubernetes.

import { qualifiedKind, qualifiedResource } from './kinds.js';
import type { Status, StatusDetails, StatusReason } from './types/meta.js';
import { aggregateText, type FieldCause } from './validation-errors.js';

/** The message Kubernetes uses when a resourceVersion precondition fails. */
export const objectModifiedMessage =
  'the object has been modified; please apply your changes to the latest version and try again';

/** A group and plural resource, as in a request path: `{ group: 'apps', resource: 'deployments' }`. */
export interface GroupResource {
  group: string;
  resource: string;
}

/** A group and kind: `{ group: 'apps', kind: 'Deployment' }`. */
export interface GroupKind {
  group: string;
  kind: string;
}

function failure(code: number, reason: StatusReason, message: string, details?: StatusDetails): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details !== undefined) status.details = details;
  return status;
}

/** An error that carries the Status to send. Code branches on `reason`, never on the message. */
export class StatusError extends Error {
  override readonly name = 'StatusError';
  constructor(readonly status: Status) {
    super(status.message ?? `${status.code} ${status.reason ?? 'Failure'}`);
  }
  get reason(): StatusReason | undefined {
    return this.status.reason;
  }
  get code(): number {
    return this.status.code;
  }
}

export function isStatusError(error: unknown): error is StatusError {
  return error instanceof StatusError;
}

/** Whether `error` is a StatusError with this reason: how callers test for NotFound, Conflict, ... */
export function hasStatusReason(error: unknown, reason: StatusReason): boolean {
  return isStatusError(error) && error.reason === reason;
}

/** The 422 Status for failed validation: `Pod "x" is invalid: spec.containers[0].image: Required value`. */
export function invalidStatus(kind: GroupKind, name: string, causes: readonly FieldCause[]): Status {
  const subject = `${qualifiedKind(kind)} ${JSON.stringify(name)} is invalid`;
  const message = causes.length === 0 ? subject : `${subject}: ${aggregateText(causes)}`;
  const details: StatusDetails = {
    name,
    group: kind.group,
    kind: kind.kind,
    causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })),
  };
  return failure(422, 'Invalid', message, details);
}

export function invalidError(kind: GroupKind, name: string, causes: readonly FieldCause[]): StatusError {
  return new StatusError(invalidStatus(kind, name, causes));
}

export function badRequestError(message: string): StatusError {
  return new StatusError(failure(400, 'BadRequest', message));
}

export function unauthorizedError(message = 'Unauthorized'): StatusError {
  return new StatusError(failure(401, 'Unauthorized', message));
}

/** `pods "x" is forbidden: <why>` */
export function forbiddenError(target: GroupResource, name: string, why: string): StatusError {
  const message = `${qualifiedResource(target)} ${JSON.stringify(name)} is forbidden: ${why}`;
  return new StatusError(failure(403, 'Forbidden', message, { name, group: target.group, kind: target.resource }));
}

/** `pods "x" not found`; details.kind is the resource, as Kubernetes sends it. */
export function notFoundError(target: GroupResource, name: string): StatusError {
  const message = `${qualifiedResource(target)} ${JSON.stringify(name)} not found`;
  return new StatusError(failure(404, 'NotFound', message, { name, group: target.group, kind: target.resource }));
}

export function alreadyExistsError(target: GroupResource, name: string): StatusError {
  const message = `${qualifiedResource(target)} ${JSON.stringify(name)} already exists`;
  return new StatusError(failure(409, 'AlreadyExists', message, { name, group: target.group, kind: target.resource }));
}

/** `Operation cannot be fulfilled on pods "x": <why>`; `why` is objectModifiedMessage for a stale resourceVersion. */
export function conflictError(target: GroupResource, name: string, why: string = objectModifiedMessage): StatusError {
  const message = `Operation cannot be fulfilled on ${qualifiedResource(target)} ${JSON.stringify(name)}: ${why}`;
  return new StatusError(failure(409, 'Conflict', message, { name, group: target.group, kind: target.resource }));
}

/** 410 Gone. */
export function goneError(message: string): StatusError {
  return new StatusError(failure(410, 'Gone', message));
}

/** 410 Expired: a watch or list from a compacted resourceVersion (`too old resource version: 5 (10)`). */
export function expiredError(message: string): StatusError {
  return new StatusError(failure(410, 'Expired', message));
}

export function tooOldResourceVersionMessage(requested: number, oldest: number): string {
  return `too old resource version: ${requested} (${oldest})`;
}

export function requestEntityTooLargeError(message: string): StatusError {
  return new StatusError(failure(413, 'RequestEntityTooLarge', `Request entity too large: ${message}`));
}

export function tooManyRequestsError(message: string, retryAfterSeconds: number): StatusError {
  return new StatusError(failure(429, 'TooManyRequests', message, { retryAfterSeconds }));
}

export function serviceUnavailableError(message: string): StatusError {
  return new StatusError(failure(503, 'ServiceUnavailable', message));
}

export function methodNotAllowedError(message: string): StatusError {
  return new StatusError(failure(405, 'MethodNotAllowed', message));
}

export function unsupportedMediaTypeError(contentType: string): StatusError {
  return new StatusError(failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json (got ${contentType})`));
}

/** `Internal error occurred: <message>`, with the message also as the one cause, as Kubernetes sends it. */
export function internalError(message: string): StatusError {
  return new StatusError(
    failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  );
}

/** Rebuilds the error from a Status body the server sent (what `client` does on a non-2xx). */
export function statusErrorFromBody(body: Status): StatusError {
  return new StatusError(body);
}

/** The Status kubectl accepts for a successful DELETE that returns no object. */
export function successStatus(details?: StatusDetails): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details !== undefined) status.details = details;
  return status;
}
