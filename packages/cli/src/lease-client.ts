// The client the Lease election uses: every Lease call bounded in time, so that a leader cut off
// from the masters steps down within its renew deadline, before the others may take over after
// the lease duration. Without a bound, one renewal through the HTTP client's retries (8 attempts,
// up to 5 s apart, 30 s per request) could outlast the lease, and two replicas would lead at once.
// client-go bounds its renew loop by the renew deadline the same way. (A stop-gap: the bound
// belongs in the client's LeaseLeadership; see the issue 7 notes.)

import type { Client, ResourceClient } from '@raftplane/client';

export interface LeaseCallBound {
  /** Longest single Lease call (get, create, update). */
  readonly callMsMax: number;
}

/**
 * The bound for one call: a renewal is a get and an update, and must fit in the renew deadline
 * after the retry period's sleep: (renewDeadline - retryPeriod) / 2, at least 100 ms.
 */
export function leaseCallMsMax(renewDeadlineMs: number, retryPeriodMs: number): number {
  return Math.max(100, Math.floor((renewDeadlineMs - retryPeriodMs) / 2));
}

/**
 * Runs `call` with a signal that aborts after `ms` or when the caller's does. A timer and a
 * listener, both removed when the call settles (not AbortSignal.any with AbortSignal.timeout: on
 * node 20 the combined signal holds the timeout one weakly, and after a GC it never fires).
 */
async function withDeadline<O extends { readonly signal?: AbortSignal }, T>(options: O | undefined, ms: number, call: (options: O) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const caller = options?.signal;
  const onAbort = (): void => controller.abort(caller?.reason);
  if (caller?.aborted === true) controller.abort(caller.reason);
  else caller?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DOMException(`the Lease call took longer than ${ms} ms (--log-level debug shows each failed attempt)`, 'TimeoutError')), ms);
  try {
    return await call({ ...(options ?? ({} as O)), signal: controller.signal });
  } finally {
    clearTimeout(timer);
    caller?.removeEventListener('abort', onAbort);
  }
}

/** `client`, with get, create and update on Leases bounded by `callMsMax` each. Other calls pass through. */
export function boundedLeaseClient(client: Client, bound: LeaseCallBound): Client {
  const { callMsMax } = bound;
  return {
    ...client,
    resource: ((resource, namespace) => {
      const inner = client.resource(resource, namespace);
      if (resource !== 'leases') return inner;
      const bounded: ResourceClient<(typeof inner) extends ResourceClient<infer T> ? T : never> = Object.create(inner);
      Object.assign(bounded, {
        get: (name: string, options?: Parameters<typeof inner.get>[1]) => withDeadline(options, callMsMax, (o) => inner.get(name, o)),
        create: (obj: Parameters<typeof inner.create>[0], options?: Parameters<typeof inner.create>[1]) => withDeadline(options, callMsMax, (o) => inner.create(obj, o)),
        update: (obj: Parameters<typeof inner.update>[0], options?: Parameters<typeof inner.update>[1]) => withDeadline(options, callMsMax, (o) => inner.update(obj, o)),
      });
      return bounded;
    }) as Client['resource'],
  };
}
