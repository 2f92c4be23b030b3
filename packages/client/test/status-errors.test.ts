// Non-2xx answers come back as the server's StatusError, with the reason, code and details it
// sent, so callers branch on the reason and never on the message; answers that are not a Status
// get the reason their code implies.

import { hasStatusReason, isStatusError, resourceByName, type ConfigMap, type StatusError } from '@raftplane/api';
import { afterEach, describe, expect, it } from 'vitest';
import { configMap, pod } from './support/objects.js';
import { startHarness, type Harness } from './support/harness.js';

const pods = resourceByName('', 'pods')!;
const configmaps = resourceByName('', 'configmaps')!;

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function statusErrorOf(promise: Promise<unknown>): Promise<StatusError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isStatusError(error)) throw new Error(`expected a StatusError, got ${String(error)}`);
  return error;
}

describe('Status errors rebuilt from the body', () => {
  it('NotFound with the name and resource in details', async () => {
    harness = await startHarness(1);
    const error = await statusErrorOf(harness.client.resource('pods', 'default').get('missing'));
    expect(error.reason).toBe('NotFound');
    expect(error.code).toBe(404);
    expect(error.status.details).toEqual({ name: 'missing', group: '', kind: 'pods' });
  });

  it('Conflict for an update from a stale resourceVersion', async () => {
    harness = await startHarness(1);
    harness.cluster.store.create(configmaps, configMap('settings', { a: '1' }));
    const stale = harness.cluster.store.get(configmaps, 'default', 'settings') as ConfigMap;
    harness.cluster.store.modify(configmaps, 'default', 'settings', (c) => ((c as ConfigMap).data = { a: '2' }));
    const error = await statusErrorOf(harness.client.resource('configmaps', 'default').update(stale));
    expect(hasStatusReason(error, 'Conflict')).toBe(true);
    expect(error.code).toBe(409);
  });

  it('AlreadyExists for a duplicate create', async () => {
    harness = await startHarness(1);
    harness.cluster.store.create(pods, pod('web'));
    const error = await statusErrorOf(harness.client.resource('pods', 'default').create(pod('web')));
    expect(error.reason).toBe('AlreadyExists');
  });

  it('Invalid with its field causes', async () => {
    harness = await startHarness(1);
    const error = await statusErrorOf(harness.client.resource('pods', 'default').create(pod('')));
    expect(error.reason).toBe('Invalid');
    expect(error.code).toBe(422);
    expect(error.status.details?.causes?.[0]?.field).toBe('metadata.name');
  });

  it('Expired for a list continue token the server no longer has', async () => {
    harness = await startHarness(1);
    for (const name of ['a', 'b', 'c']) harness.cluster.store.create(pods, pod(name));
    const client = harness.client.resource('pods', 'default');
    const first = await client.list({ limit: 1 });
    expect(first.metadata.continue).toBeDefined();
    harness.cluster.store.compact();
    const error = await statusErrorOf(client.list({ limit: 1, continue: first.metadata.continue! }));
    expect(error.reason).toBe('Expired');
    expect(error.code).toBe(410);
  });

  it('Unauthorized without the bearer token, and success with it', async () => {
    harness = await startHarness(1, { token: 'secret-token' });
    harness.cluster.store.create(pods, pod('web'));
    await expect(harness.client.resource('pods', 'default').get('web')).resolves.toMatchObject({ metadata: { name: 'web' } });
    const anonymous = harness.newClient({ token: undefined });
    const error = await statusErrorOf(anonymous.resource('pods', 'default').get('web'));
    expect(error.reason).toBe('Unauthorized');
    expect(harness.cluster.masters[0]!.requests[0]!.headers.authorization).toBe('Bearer secret-token');
  });

  it('TooManyRequests with retryAfterSeconds once retries are spent', async () => {
    harness = await startHarness(1, { client: { retry: { attemptsMax: 2, delayMsMin: 1, delayMsMax: 10 } } });
    harness.cluster.masters[0]!.inject(() => true, { kind: 'status', status: 429, retryAfterSeconds: 7, body: '' }, 5);
    const error = await statusErrorOf(harness.client.resource('pods', 'default').get('web'));
    expect(error.reason).toBe('TooManyRequests');
    expect(error.status.details?.retryAfterSeconds).toBe(7);
  });

  it('the reason its code implies when the body is not a Status', async () => {
    harness = await startHarness(1);
    // The fake answers a path it does not serve with a text 404, as a proxy would.
    const widgets = harness.client.resourceFor({ ...pods, group: 'nothing.example', resource: 'widgets' }, 'default');
    const error = await statusErrorOf(widgets.get('x'));
    expect(error.reason).toBe('NotFound');
    expect(error.code).toBe(404);
    expect(error.message).toContain('HTTP 404');
  });
});
