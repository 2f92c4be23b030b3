// The HTTP client's endpoint and retry rules against fake masters on loopback: 503 and 429 are
// retried with the server's Retry-After (or jittered backoff), refused connections move to the
// next master at once, the leader named in x-raftplane-leader is preferred, and a dead leader is
// left for one that answers.

import { hasStatusReason, resourceByName } from '@raftplane/api';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientErrorCode, createHttpClient, isClientError } from '../src/index.js';
import { pod } from './support/objects.js';
import { startHarness, type Harness } from './support/harness.js';
import type { RecordedRequest } from './support/fake-apiserver.js';

const pods = resourceByName('', 'pods')!;
const isGet = (r: RecordedRequest): boolean => r.method === 'GET';
const isPost = (r: RecordedRequest): boolean => r.method === 'POST';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** A URL where nothing listens: a master started and stopped. */
async function deadEndpoint(h: Harness): Promise<string> {
  const dead = h.cluster.masters.at(-1)!;
  await dead.stop();
  return dead.url;
}

describe('retries on 503 and 429', () => {
  it('retries a 503 after the Retry-After the server sent', async () => {
    harness = await startHarness(1);
    harness.cluster.store.create(pods, pod('web'));
    harness.cluster.masters[0]!.inject(isGet, { kind: 'status', status: 503, retryAfterSeconds: 2 }, 2);
    const got = await harness.client.resource('pods', 'default').get('web');
    expect(got.metadata.name).toBe('web');
    expect(harness.cluster.masters[0]!.requests.filter(isGet)).toHaveLength(3);
    expect(harness.clock.requestedDelaysMs).toEqual([2000, 2000]);
  });

  it('backs off exponentially with jitter from the injected random when a 503 says nothing', async () => {
    harness = await startHarness(1);
    harness.cluster.store.create(pods, pod('web'));
    harness.cluster.masters[0]!.inject(isGet, { kind: 'status', status: 503 }, 3);
    await harness.client.resource('pods', 'default').get('web');
    // random() = 0.5, range [10, 1000]: ceilings 10, 20, 40 with equal jitter, never below 10.
    expect(harness.clock.requestedDelaysMs).toEqual([10, 15, 30]);
  });

  it('retries a create answered 503 (nothing was proposed) and creates it once', async () => {
    harness = await startHarness(1);
    harness.cluster.masters[0]!.inject(isPost, { kind: 'status', status: 503, retryAfterSeconds: 1 }, 1);
    const created = await harness.client.resource('pods', 'default').create(pod('web'));
    expect(created.metadata.uid).toBeDefined();
    expect(harness.cluster.masters[0]!.requests.filter(isPost)).toHaveLength(2);
    expect(harness.cluster.store.count('pods')).toBe(1);
  });

  it('retries a 429 on the same master after Retry-After', async () => {
    harness = await startHarness(2);
    harness.cluster.store.create(pods, pod('web'));
    const [first, second] = harness.cluster.masters;
    first!.inject(isGet, { kind: 'status', status: 429, retryAfterSeconds: 1 }, 1);
    await harness.client.resource('pods', 'default').get('web');
    expect(first!.requests.filter(isGet)).toHaveLength(2);
    expect(second!.requests).toHaveLength(0);
    expect(harness.clock.requestedDelaysMs).toEqual([1000]);
  });

  it('moves to the next master after a 503 (it may be the one without a leader)', async () => {
    harness = await startHarness(2);
    harness.cluster.store.create(pods, pod('web'));
    const [first, second] = harness.cluster.masters;
    first!.inject(isGet, { kind: 'status', status: 503 }, 1);
    await harness.client.resource('pods', 'default').get('web');
    expect(first!.requests).toHaveLength(1);
    expect(second!.requests).toHaveLength(1);
  });

  it('gives up after attemptsMax with the server\'s ServiceUnavailable', async () => {
    harness = await startHarness(1, { client: { retry: { attemptsMax: 3, delayMsMin: 1, delayMsMax: 10 } } });
    harness.cluster.masters[0]!.inject(isGet, { kind: 'status', status: 503, retryAfterSeconds: 1 }, 10);
    const error = await harness.client.resource('pods', 'default').get('web').catch((e: unknown) => e);
    expect(hasStatusReason(error, 'ServiceUnavailable')).toBe(true);
    expect(harness.cluster.masters[0]!.requests).toHaveLength(3);
  });

  it('caps a long Retry-After at retryAfterMsMax', async () => {
    harness = await startHarness(1, { client: { retryAfterMsMax: 5_000 } });
    harness.cluster.store.create(pods, pod('web'));
    harness.cluster.masters[0]!.inject(isGet, { kind: 'status', status: 503, retryAfterSeconds: 3600 }, 1);
    await harness.client.resource('pods', 'default').get('web');
    expect(harness.clock.requestedDelaysMs).toEqual([5000]);
  });
});

describe('connection refused', () => {
  it('goes on to the next master at once, and stays there', async () => {
    harness = await startHarness(2);
    const dead = await deadEndpoint(harness);
    const live = harness.cluster.masters[0]!;
    harness.cluster.store.create(pods, pod('web'));
    const client = harness.newClient({ endpoints: [dead, live.url] });
    await client.resource('pods', 'default').get('web');
    await client.resource('pods', 'default').get('web');
    expect(live.requests).toHaveLength(2);
    expect(harness.clock.requestedDelaysMs).toEqual([]);
  });

  it('fails with CLIENT_UNREACHABLE naming the endpoint once every master refused attemptsMax times', async () => {
    harness = await startHarness(2);
    const deadA = await deadEndpoint(harness);
    await harness.cluster.masters[0]!.stop();
    const deadB = harness.cluster.masters[0]!.url;
    const client = harness.newClient({ endpoints: [deadA, deadB], retry: { attemptsMax: 4, delayMsMin: 10, delayMsMax: 1000 } });
    const error = await client.resource('pods', 'default').create(pod('web')).catch((e: unknown) => e);
    expect(isClientError(error, ClientErrorCode.Unreachable)).toBe(true);
    if (!isClientError(error)) throw error;
    expect(error.details.attempts).toBe(4);
    expect([deadA, deadB]).toContain(error.details.endpoint);
    expect(error.details.path).toBe('/api/v1/namespaces/default/pods');
    // Each master once at once, then backoff: 10, then 15 (random 0.5).
    expect(harness.clock.requestedDelaysMs).toEqual([10, 15]);
  });
});

describe('leader following', () => {
  it('sends requests to the leader named in x-raftplane-leader', async () => {
    harness = await startHarness(3);
    const [m1, m2, m3] = harness.cluster.masters;
    harness.cluster.leaderUrl = m3!.url;
    harness.cluster.store.create(pods, pod('web'));
    const client = harness.client.resource('pods', 'default');
    await client.get('web');
    expect(harness.client.transport.endpoints.leaderHint()).toBe(m3!.url);
    await client.get('web');
    await client.create(pod('api'));
    expect(m1!.requests).toHaveLength(1);
    expect(m2!.requests).toHaveLength(0);
    expect(m3!.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
  });

  it('leaves a dead leader for the next master, and follows the new leader it names', async () => {
    harness = await startHarness(3);
    const [m1, m2, m3] = harness.cluster.masters;
    harness.cluster.leaderUrl = m3!.url;
    harness.cluster.store.create(pods, pod('web'));
    const client = harness.client.resource('pods', 'default');
    await client.get('web');
    await m3!.stop();
    harness.cluster.leaderUrl = m2!.url;
    await client.get('web');
    expect(harness.client.transport.endpoints.leaderHint()).toBe(m2!.url);
    await client.get('web');
    expect(m1!.requests).toHaveLength(2);
    expect(m2!.requests).toHaveLength(1);
    expect(harness.clock.requestedDelaysMs).toEqual([]);
  });

  it('ignores a leader that is not one of the configured endpoints (the token must not go there)', async () => {
    harness = await startHarness(2);
    harness.cluster.leaderUrl = 'http://127.0.0.1:1';
    harness.cluster.store.create(pods, pod('web'));
    await harness.client.resource('pods', 'default').get('web');
    await harness.client.resource('pods', 'default').get('web');
    expect(harness.client.transport.endpoints.leaderHint()).toBeUndefined();
    expect(harness.cluster.masters[0]!.requests).toHaveLength(2);
  });
});

describe('reads after an ambiguous failure', () => {
  it('retries a GET whose connection dropped after it was sent (a read has no effect)', async () => {
    harness = await startHarness(1);
    harness.cluster.store.create(pods, pod('web'));
    harness.cluster.masters[0]!.inject(isGet, { kind: 'drop-after' }, 1);
    const got = await harness.client.resource('pods', 'default').get('web');
    expect(got.metadata.name).toBe('web');
    expect(harness.cluster.masters[0]!.requests).toHaveLength(2);
  });
});

describe('options', () => {
  it('rejects each bad option by name', () => {
    const signal = new AbortController().signal;
    const optionOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (error) {
        if (isClientError(error, ClientErrorCode.InvalidOption)) return error.details.option;
        throw error;
      }
      return undefined;
    };
    expect(optionOf(() => createHttpClient({ endpoints: [], signal }))).toBe('endpoints');
    expect(optionOf(() => createHttpClient({ endpoints: ['http://127.0.0.1:6441/api'], signal }))).toBe('endpoints[0]');
    expect(optionOf(() => createHttpClient({ endpoints: ['ftp://127.0.0.1:6441'], signal }))).toBe('endpoints[0]');
    expect(optionOf(() => createHttpClient({ endpoints: ['http://127.0.0.1:6441'], signal, retry: { attemptsMax: 0, delayMsMin: 1, delayMsMax: 2 } }))).toBe('retry.attemptsMax');
    expect(optionOf(() => createHttpClient({ endpoints: ['http://127.0.0.1:6441'], signal, retry: { attemptsMax: 2, delayMsMin: 5, delayMsMax: 2 } }))).toBe('retry.delayMsMax');
    expect(optionOf(() => createHttpClient({ endpoints: ['http://127.0.0.1:6441'], signal, token: 'a\nb' }))).toBe('token');
    expect(optionOf(() => createHttpClient({ endpoints: ['http://127.0.0.1:6441'], signal, requestTimeoutMs: 0 }))).toBe('requestTimeoutMs');
    expect(optionOf(() => createHttpClient({ endpoints: ['http://127.0.0.1:6441'], signal: undefined as unknown as AbortSignal }))).toBe('signal');
  });
});
