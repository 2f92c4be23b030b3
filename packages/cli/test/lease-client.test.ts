// The Lease election's client: each Lease call gives up after its bound (so a cut-off leader
// steps down within its renew deadline); other resources and a caller's own abort pass through.

import type { Client } from '@raftplane/client';
import { describe, expect, test } from 'vitest';
import { boundedLeaseClient, leaseCallMsMax } from '../src/lease-client.js';

/** A client whose every call hangs until its signal aborts, recording what it was given. */
function hangingClient(): { client: Client; calls: { resource: string; signal: AbortSignal | undefined }[] } {
  const calls: { resource: string; signal: AbortSignal | undefined }[] = [];
  const hang = (resource: string) => (_arg: unknown, options?: { signal?: AbortSignal }) => {
    calls.push({ resource, signal: options?.signal });
    return new Promise((_resolve, reject) => options?.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true }));
  };
  const client = {
    resource: (resource: string) => ({ get: hang(resource), create: hang(resource), update: hang(resource) }),
  } as unknown as Client;
  return { client, calls };
}

describe('bounded Lease calls', () => {
  test('a hanging get, create or update on a Lease fails after the bound', async () => {
    const { client } = hangingClient();
    const leases = boundedLeaseClient(client, { callMsMax: 50 }).resource('leases', 'kube-system');
    for (const call of [() => leases.get('x'), () => leases.create({} as never), () => leases.update({} as never)]) {
      const started = Date.now();
      await expect(call()).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(Date.now() - started).toBeLessThan(1_000);
    }
  });

  test("the caller's signal still aborts the call; other resources are not bounded", async () => {
    const { client, calls } = hangingClient();
    const bounded = boundedLeaseClient(client, { callMsMax: 60_000 });
    const stop = new AbortController();
    const pending = bounded.resource('leases', 'kube-system').get('x', { signal: stop.signal });
    stop.abort(new Error('stopped'));
    await expect(pending).rejects.toThrow('stopped');
    void bounded.resource('pods', 'default').get('p').catch(() => undefined);
    expect(calls.at(-1)).toEqual({ resource: 'pods', signal: undefined });
  });

  test('a renewal (a get and an update) fits in the renew deadline after the retry period', () => {
    expect(leaseCallMsMax(10_000, 2_000)).toBe(4_000);
    expect(leaseCallMsMax(1_500, 300)).toBe(600);
    expect(leaseCallMsMax(200, 150)).toBe(100);
  });
});
