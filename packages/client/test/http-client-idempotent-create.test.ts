// No blind retry after an ambiguous failure: a write whose connection broke after it was sent is
// reported as CLIENT_OUTCOME_UNKNOWN and sent once, except a create, which the client names
// itself so that a repeat is safe: 409 AlreadyExists then counts as success only when a GET shows
// the stored object is the one it sent.

import { generateName, hasStatusReason, resourceByName } from '@raftplane/api';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientErrorCode, isClientError } from '../src/index.js';
import { sequenceRandom } from './support/clocks.js';
import { configMap, pod } from './support/objects.js';
import { startHarness, type Harness } from './support/harness.js';
import type { RecordedRequest } from './support/fake-apiserver.js';

const pods = resourceByName('', 'pods')!;
const configmaps = resourceByName('', 'configmaps')!;
const isPost = (r: RecordedRequest): boolean => r.method === 'POST';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('writes whose answer was lost', () => {
  const cases = [
    { verb: 'update', method: 'PUT', run: (h: Harness) => h.client.resource('configmaps', 'default').update(configMap('settings', { a: '2' })) },
    { verb: 'patch', method: 'PATCH', run: (h: Harness) => h.client.resource('configmaps', 'default').patch('settings', 'merge', { data: { a: '3' } }) },
    { verb: 'delete', method: 'DELETE', run: (h: Harness) => h.client.resource('configmaps', 'default').delete('settings') },
  ] as const;

  for (const { verb, method, run } of cases) {
    it(`surfaces CLIENT_OUTCOME_UNKNOWN for a ${verb} and never sends it twice`, async () => {
      harness = await startHarness(2);
      harness.cluster.store.create(configmaps, configMap('settings', { a: '1' }));
      harness.cluster.masters[0]!.inject((r) => r.method === method, { kind: 'drop-after' }, 1);
      const error = await run(harness).catch((e: unknown) => e);
      expect(isClientError(error, ClientErrorCode.OutcomeUnknown)).toBe(true);
      if (!isClientError(error)) throw error;
      expect(error.details.endpoint).toBe(harness.cluster.masters[0]!.url);
      expect(error.details.path).toBe('/api/v1/namespaces/default/configmaps/settings');
      expect(harness.cluster.requests().filter((r) => r.method === method)).toHaveLength(1);
    });
  }
});

describe('idempotent create', () => {
  it('names a generateName object before the first attempt, from the injected random', async () => {
    harness = await startHarness(1);
    const random = sequenceRandom([0.1, 0.2, 0.3, 0.4, 0.5]);
    const client = harness.newClient({ random });
    const created = await client.resource('pods', 'default').create({ ...pod(''), metadata: { namespace: 'default', generateName: 'web-' } });
    const expected = generateName('web-', sequenceRandom([0.1, 0.2, 0.3, 0.4, 0.5]));
    expect(created.metadata.name).toBe(expected);
    const posted = harness.cluster.requests().filter(isPost)[0]!.body as { metadata: { name: string } };
    expect(posted.metadata.name).toBe(expected);
  });

  it('repeats a create whose answer was lost under the same name and takes AlreadyExists as success when the stored object matches', async () => {
    harness = await startHarness(1);
    harness.cluster.masters[0]!.inject(isPost, { kind: 'drop-after' }, 1);
    const sent = { ...pod('', { labels: { app: 'web' } }), metadata: { namespace: 'default', generateName: 'web-', labels: { app: 'web' }, annotations: { note: 'x' } } };
    const created = await harness.client.resource('pods', 'default').create(sent);
    const posts = harness.cluster.requests().filter(isPost);
    expect(posts).toHaveLength(2);
    const names = posts.map((p) => (p.body as { metadata: { name: string } }).metadata.name);
    expect(names[0]).toBe(names[1]);
    expect(created.metadata.name).toBe(names[0]);
    expect(created.metadata.uid).toBe('uid-1');
    expect(harness.cluster.store.count('pods')).toBe(1);
    // The GET that proved it ours.
    expect(harness.cluster.requests().filter((r) => r.method === 'GET').map((r) => r.path)).toEqual([`/api/v1/namespaces/default/pods/${names[0]}`]);
  });

  it('surfaces AlreadyExists when the object stored under that name is not the one it sent', async () => {
    harness = await startHarness(1);
    const store = harness.cluster.store;
    // The first attempt never lands; meanwhile another writer creates the same name with another spec.
    harness.cluster.masters[0]!.inject(isPost, { kind: 'drop-before', before: () => store.create(pods, pod('web', { image: 'redis:7' })) }, 1);
    const error = await harness.client.resource('pods', 'default').create(pod('web', { image: 'nginx:1.27' })).catch((e: unknown) => e);
    expect(hasStatusReason(error, 'AlreadyExists')).toBe(true);
    expect(harness.cluster.requests().filter(isPost)).toHaveLength(2);
    expect((store.get(pods, 'default', 'web').spec as { containers: { image: string }[] }).containers[0]!.image).toBe('redis:7');
  });

  it('creates on the repeat when the lost first attempt never landed', async () => {
    harness = await startHarness(1);
    harness.cluster.masters[0]!.inject(isPost, { kind: 'drop-before' }, 1);
    const created = await harness.client.resource('pods', 'default').create(pod('web'));
    expect(created.metadata.resourceVersion).toBeDefined();
    expect(harness.cluster.requests().filter(isPost)).toHaveLength(2);
    expect(harness.cluster.store.count('pods')).toBe(1);
  });

  it('surfaces AlreadyExists on a first attempt: only a repeat may read it as success', async () => {
    harness = await startHarness(1);
    harness.cluster.store.create(pods, pod('web'));
    const error = await harness.client.resource('pods', 'default').create(pod('web')).catch((e: unknown) => e);
    expect(hasStatusReason(error, 'AlreadyExists')).toBe(true);
    expect(harness.cluster.requests().filter((r) => r.method === 'GET')).toHaveLength(0);
  });

  it('gives up with CLIENT_OUTCOME_UNKNOWN after attemptsMax lost answers', async () => {
    harness = await startHarness(1, { client: { retry: { attemptsMax: 3, delayMsMin: 1, delayMsMax: 10 } } });
    harness.cluster.masters[0]!.inject(isPost, { kind: 'drop-before' }, 10);
    const error = await harness.client.resource('pods', 'default').create(pod('web')).catch((e: unknown) => e);
    expect(isClientError(error, ClientErrorCode.OutcomeUnknown)).toBe(true);
    expect(harness.cluster.requests().filter(isPost)).toHaveLength(3);
  });
});
