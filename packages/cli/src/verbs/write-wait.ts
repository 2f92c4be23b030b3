// Waiting on one object, as `delete --wait`, `rollout status` and `drain` do: list it (by
// metadata.name) for a resourceVersion, then watch from there, so no change falls between the
// read and the watch; a watch that ends or expires (410) starts over from a list.

import type { KubeObject } from '@raftplane/api';
import type { ResourceClient } from '@raftplane/client';
import { CliError, CliErrorCode } from '../errors.js';

export interface WaitOptions {
  /** io.signal: an interrupted wait returns undefined. */
  readonly signal: AbortSignal;
  /** Gives up with "timed out waiting for the condition"; undefined waits for ever. */
  readonly timeoutMs: number | undefined;
  /** Named in the timeout error: `deployments/web`. */
  readonly what: string;
}

/** How many times a wait starts over from a list: each watch lasts minutes, so this is days. */
const relistsMax = 10_000;

/**
 * Calls `check` with the object (null once it is gone) now and after each change, until it
 * returns something other than undefined, and returns that. Undefined when the signal aborted.
 */
export async function waitForObject<R>(client: ResourceClient<KubeObject>, name: string, check: (object: KubeObject | null) => R | undefined, options: WaitOptions): Promise<R | undefined> {
  if (options.signal.aborted) return undefined;
  const stop = new AbortController();
  const timedOut = new CliError(CliErrorCode.InvalidArgument, `timed out waiting for the condition on ${options.what}`);
  const onAbort = (): void => stop.abort(options.signal.reason);
  options.signal.addEventListener('abort', onAbort, { once: true });
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => stop.abort(timedOut), options.timeoutMs);
  try {
    return await watchUntil(client, name, check, stop.signal);
  } catch (error) {
    if (stop.signal.reason === timedOut) throw timedOut;
    if (options.signal.aborted) return undefined;
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onAbort);
  }
}

async function watchUntil<R>(client: ResourceClient<KubeObject>, name: string, check: (object: KubeObject | null) => R | undefined, signal: AbortSignal): Promise<R> {
  const fieldSelector = `metadata.name=${name}`;
  for (let relist = 0; relist < relistsMax; relist++) {
    const list = await client.list({ fieldSelector, signal });
    const first = check(list.items[0] ?? null);
    if (first !== undefined) return first;
    const stream = await client.watch({ fieldSelector, resourceVersion: list.metadata.resourceVersion, signal });
    try {
      for await (const event of stream) {
        if (event.type === 'ERROR') break; // Expired: list again.
        if (event.type === 'BOOKMARK') continue;
        const result = check(event.type === 'DELETED' ? null : event.object);
        if (result !== undefined) return result;
      }
    } finally {
      await stream.close();
    }
    signal.throwIfAborted();
  }
  throw new Error(`gave up watching ${client.info.resource}/${name} after ${relistsMax} watches ended`);
}
