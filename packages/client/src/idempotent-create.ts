// Creates that survive a lost answer. A POST whose connection broke after it was sent may or may
// not have created the object, and the transport will not repeat it blindly. So the client names
// the object itself before the first attempt (generateName becomes a concrete name, as the
// apiserver would have made it), which turns a repeat into a safe question: a second create of
// the same name either succeeds (the first never landed) or meets 409 AlreadyExists, and then a
// GET decides whether the stored object is ours.

import { generateName, type KubeObject, type StatusError } from '@raftplane/api';
import { backoffDelayMs } from './backoff.js';
import { sleep, type Clock } from './clock.js';
import { isClientError, ClientErrorCode } from './errors.js';
import type { ClientLogger } from './logger.js';
import { storedMatchesSent } from './object-match.js';
import type { RetryPolicy } from './retry-loop.js';
import type { TransportRequest, TransportResponse } from './transport.js';

export interface CreateContext {
  readonly random: () => number;
  readonly clock: Clock;
  /** attemptsMax bounds the repeats after lost answers, the first attempt included. */
  readonly retry: RetryPolicy;
  readonly logger: ClientLogger;
  /** Sends one create (the transport does its own safe retries beneath). */
  send(request: TransportRequest): Promise<TransportResponse>;
  /** Reads the object now stored under `name`, or throws its StatusError. */
  getStored(name: string, signal: AbortSignal | undefined): Promise<KubeObject>;
  /** The StatusError for a non-2xx answer. */
  errorOf(response: TransportResponse): StatusError;
}

/** A copy of `obj` with a concrete name: the given one, or one made from generateName now. */
export function withConcreteName<T extends KubeObject>(obj: T, random: () => number): T {
  const meta = obj.metadata ?? {};
  if (meta.name !== undefined && meta.name !== '') return obj;
  if (meta.generateName === undefined || meta.generateName === '') return obj;
  const copy = structuredClone(obj);
  copy.metadata.name = generateName(meta.generateName, random);
  return copy;
}

/**
 * POSTs `request` (whose body is the named object) until it is answered; after an answer was
 * lost, a 409 AlreadyExists counts as success only if the stored object matches what was sent.
 * Returns the answer to the attempt that counted.
 */
export async function createIdempotently(context: CreateContext, request: TransportRequest & { body: KubeObject }): Promise<TransportResponse | { stored: KubeObject }> {
  const name = request.body.metadata?.name;
  let lostAnswers = 0;
  for (;;) {
    let response: TransportResponse;
    try {
      response = await context.send(request);
    } catch (error) {
      // Only a lost answer is worth a repeat, and only when the object has a name to find it by.
      if (!isClientError(error, ClientErrorCode.OutcomeUnknown) || name === undefined || lostAnswers + 1 >= context.retry.attemptsMax) throw error;
      lostAnswers++;
      const delayMs = backoffDelayMs(lostAnswers - 1, context.retry.delayMsMin, context.retry.delayMsMax, context.random);
      context.logger.info({ path: request.path, name, lostAnswers, delayMs }, 'create answer lost; repeating it under the same name');
      await sleep(context.clock, delayMs, request.signal);
      continue;
    }
    if (response.status >= 200 && response.status < 300) return response;
    const error = context.errorOf(response);
    if (lostAnswers === 0 || error.reason !== 'AlreadyExists' || name === undefined) throw error;
    const stored = await storedOrUndefined(context, name, request.signal);
    if (stored !== undefined && storedMatchesSent(stored, request.body)) {
      context.logger.info({ path: request.path, name }, 'create answer was lost but the object is stored as sent');
      return { stored };
    }
    throw error;
  }
}

async function storedOrUndefined(context: CreateContext, name: string, signal: AbortSignal | undefined): Promise<KubeObject | undefined> {
  try {
    return await context.getStored(name, signal);
  } catch (error) {
    // Gone again since the 409: nothing to compare with, so the AlreadyExists stands.
    if ((error as StatusError).reason === 'NotFound') return undefined;
    throw error;
  }
}
