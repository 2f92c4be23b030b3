// KV failures as the Status a Kubernetes client expects (DESIGN rule 7). A refusal before anything
// was proposed (no leader, not leader, overloaded) is safe to retry: 503 or 429 with Retry-After.
// A proposal whose fate is unknown (leader changed, timed out) is 504: it may have been applied.

import { StatusError, expiredError, internalError, isStatusError, tooManyRequestsError, tooOldResourceVersionMessage, type Status } from '@raftplane/api';
import { isKvError } from '@raftplane/kv';

export function serviceUnavailable(message: string, retryAfterSeconds: number): StatusError {
  const status: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'ServiceUnavailable',
    details: { retryAfterSeconds },
    code: 503,
  };
  return new StatusError(status);
}

export function timeoutError(message: string, retryAfterSeconds = 1): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Timeout',
    details: { retryAfterSeconds },
    code: 504,
  });
}

/** `Too large resource version`: a client asked for a revision the store has not reached (apiserver's 504). */
export function tooLargeResourceVersionError(requested: number, current: number): StatusError {
  return timeoutError(`Timeout: Too large resource version: ${requested}, current: ${current}`);
}

/**
 * The Status for a failure of the store. `revisions` are the revision the request named and the
 * oldest one still readable, for the 410 message; `context` says what was being done (`create pods default/x`).
 */
export function asStatusError(error: unknown, context: string, revisions: { requested: number; oldest: number } = { requested: 0, oldest: 0 }): StatusError {
  if (isStatusError(error)) return error;
  if (!isKvError(error)) throw error;
  switch (error.code) {
    case 'KV_COMPACTED':
      return expiredError(tooOldResourceVersionMessage(revisions.requested, revisions.oldest));
    case 'KV_FUTURE_REVISION':
      return timeoutError(`Timeout: Too large resource version: ${revisions.requested}`);
    case 'KV_NO_LEADER':
    case 'KV_NOT_LEADER':
    case 'KV_STOPPING':
      return serviceUnavailable(`${context}: no leader is available to serve it now (${error.message}); retry shortly`, 1);
    case 'KV_TOO_MANY_REQUESTS':
      return tooManyRequestsError(`${context}: the store is overloaded (${error.message}); retry shortly`, 1);
    case 'KV_LEADER_CHANGED':
    case 'KV_TIMEOUT':
      return timeoutError(`Timeout: ${context}: the request did not complete (${error.message}); it may or may not have been applied`);
    default:
      return internalError(`${context}: ${error.code}: ${error.message}`);
  }
}
