// The retry rules of the HTTP transport, in one loop: which endpoint each attempt goes to, which
// failures are retried, and how long to wait. A request is sent again only when it provably never
// reached a server (no connection), when the server said 503 (nothing was proposed) or 429, or,
// for a read, after any failure: a repeated GET has no effect.

import { backoffDelayMs } from './backoff.js';
import { sleep, type Clock } from './clock.js';
import type { EndpointSet } from './endpoints.js';
import { ClientError, ClientErrorCode } from './errors.js';
import { describeError, failureKind, isRetryableStatus, retryAfterMs } from './http-wire.js';
import type { ClientLogger } from './logger.js';
import type { TransportResponse } from './transport.js';

export interface RetryPolicy {
  /** Attempts per call, the first included; 1 disables retries. */
  readonly attemptsMax: number;
  /** Backoff between attempts: doubling from min to max, jittered. */
  readonly delayMsMin: number;
  readonly delayMsMax: number;
}

export interface RetryContext {
  readonly endpoints: EndpointSet;
  readonly policy: RetryPolicy;
  /** A server's Retry-After is honoured up to this; a longer one is cut to it. */
  readonly retryAfterMsMax: number;
  readonly random: () => number;
  readonly clock: Clock;
  readonly logger: ClientLogger;
}

/** What one attempt gave: an HTTP answer (any status), or an established stream with the answer's headers. */
export type AttemptOutcome<S> =
  | { readonly kind: 'answer'; readonly response: TransportResponse }
  | { readonly kind: 'opened'; readonly stream: S; readonly headers: Readonly<Record<string, string>> };

export interface CallDescription {
  readonly method: string;
  readonly path: string;
  /** Whether sending it twice is harmless: then an ambiguous failure is retried too. */
  readonly idempotent: boolean;
}

/**
 * Runs `attempt` until it returns an answer that is not 503/429, a stream, or the budget is spent
 * (then the last 503/429 answer is returned). Network failures that may have reached the server
 * end a non-idempotent call at once with CLIENT_OUTCOME_UNKNOWN.
 */
export async function runWithRetries<S>(
  context: RetryContext,
  call: CallDescription,
  signal: AbortSignal,
  attempt: (endpoint: string, signal: AbortSignal) => Promise<AttemptOutcome<S>>,
): Promise<AttemptOutcome<S>> {
  const { endpoints, policy, logger } = context;
  let backoffFailures = 0;
  let refusedInRow = 0;
  for (let attempts = 1; ; attempts++) {
    const endpoint = endpoints.pick();
    const where = { endpoint, method: call.method, path: call.path, attempts };
    let outcome: AttemptOutcome<S>;
    try {
      outcome = await attempt(endpoint, signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof ClientError) throw error;
      const kind = failureKind(error);
      endpoints.markFailed(endpoint);
      if (kind === 'ambiguous' && !call.idempotent) {
        throw new ClientError(ClientErrorCode.OutcomeUnknown, `${call.method} ${call.path} on ${endpoint} failed after it was sent (${describeError(error)}); it may or may not have taken effect`, where, { cause: error });
      }
      if (attempts >= policy.attemptsMax) {
        throw new ClientError(ClientErrorCode.Unreachable, `${call.method} ${call.path}: no answer after ${attempts} attempts, last from ${endpoint}: ${describeError(error)}`, where, { cause: error });
      }
      refusedInRow = kind === 'not-sent' ? refusedInRow + 1 : 0;
      // A refused connection says nothing of the other masters: try each of them once at once.
      const delayMs = kind === 'not-sent' && refusedInRow < endpoints.count() ? 0 : backoffDelayMs(backoffFailures++, policy.delayMsMin, policy.delayMsMax, context.random);
      logger.debug({ ...where, kind, delayMs, error: describeError(error) }, 'request failed; retrying');
      if (delayMs > 0) await sleep(context.clock, delayMs, signal);
      continue;
    }
    const headers = outcome.kind === 'answer' ? outcome.response.headers : outcome.headers;
    endpoints.noteLeader(headers['x-raftplane-leader']);
    if (outcome.kind === 'opened') return outcome;
    const { response } = outcome;
    if (!isRetryableStatus(response.status) || attempts >= policy.attemptsMax) return outcome;
    // 503: this master has no leader to forward to (an election); another may already know one.
    if (response.status === 503) endpoints.markFailed(endpoint);
    refusedInRow = 0;
    const askedMs = retryAfterMs(response);
    const delayMs = askedMs !== undefined ? Math.min(askedMs, context.retryAfterMsMax) : backoffDelayMs(backoffFailures++, policy.delayMsMin, policy.delayMsMax, context.random);
    logger.debug({ ...where, status: response.status, delayMs }, 'server asked to retry');
    if (delayMs > 0) await sleep(context.clock, delayMs, signal);
  }
}
