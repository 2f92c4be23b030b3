// Watches over both transports, WebSocket (primary) and chunked HTTP (fallback), against a fake
// master: events after a resourceVersion exactly once and in order, synthetic ADDED from "0",
// bookmarks, 410 as an ERROR event, a normal end, a broken connection, abort and close leaving no
// socket behind, retries of the open, and the leader hint taken from the watch's answer.

import { resourceByName, type Pod, type StatusError } from '@raftplane/api';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientErrorCode, isClientError, ManualClock, type WatchEvent, type WatchStream } from '../src/index.js';
import { until } from './support/clocks.js';
import { pod } from './support/objects.js';
import { startHarness, type Harness } from './support/harness.js';

const pods = resourceByName('', 'pods')!;

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** Pulls `count` events (or fewer if the stream ends). */
async function take<T>(stream: WatchStream<WatchEvent<T>>, count: number): Promise<WatchEvent<T>[]> {
  const events: WatchEvent<T>[] = [];
  const iterator = stream[Symbol.asyncIterator]();
  while (events.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    events.push(next.value);
  }
  return events;
}

function describeEvent(event: WatchEvent<Pod>): string {
  return `${event.type} ${event.type === 'ERROR' ? event.object.code : `${(event.object.metadata as { name?: string }).name ?? ''}@${event.object.metadata.resourceVersion}`}`;
}

describe.each(['websocket', 'http'] as const)('watch over %s', (watchTransport) => {
  async function start(masters = 1, options: { token?: string } = {}): Promise<Harness> {
    return startHarness(masters, { ...options, client: { watchTransport } });
  }

  it('delivers every event after the resourceVersion once, in order', async () => {
    harness = await start();
    const { store } = harness.cluster;
    store.create(pods, pod('a'));
    const from = String(store.revision);
    store.create(pods, pod('b'));
    const stream = await harness.client.resource('pods', 'default').watch({ resourceVersion: from });
    store.modify(pods, 'default', 'a', (p) => (p.metadata.labels = { x: '1' }));
    store.delete(pods, 'default', 'b');
    const events = await take(stream, 3);
    expect(events.map(describeEvent)).toEqual(['ADDED b@102', 'MODIFIED a@103', 'DELETED b@104']);
    expect(harness.cluster.masters[0]!.watchRequests()[0]!.watch).toBe(watchTransport);
    await stream.close();
  });

  it('starts with synthetic ADDED events for the current state from resourceVersion 0', async () => {
    harness = await start();
    harness.cluster.store.create(pods, pod('a'));
    harness.cluster.store.create(pods, pod('b'));
    const stream = await harness.client.resource('pods', 'default').watch({ resourceVersion: '0' });
    expect((await take(stream, 2)).map(describeEvent)).toEqual(['ADDED a@101', 'ADDED b@102']);
    await stream.close();
  });

  it('passes BOOKMARKs through with their resourceVersion', async () => {
    harness = await start();
    const stream = await harness.client.resource('pods', 'default').watch({ resourceVersion: '100', allowWatchBookmarks: true });
    harness.cluster.store.create(pods, pod('a', { namespace: 'other' }));
    harness.cluster.bookmark();
    const [bookmark] = await take(stream, 1);
    expect(bookmark).toEqual({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '101' } } });
    await stream.close();
  });

  it('yields a compacted resourceVersion\'s 410 as an ERROR event, then ends', async () => {
    harness = await start();
    harness.cluster.store.create(pods, pod('a'));
    harness.cluster.store.compact();
    const stream = await harness.client.resource('pods', 'default').watch({ resourceVersion: '100' });
    const events = await take(stream, 5);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
  });

  it('ends normally when the server ends the watch (timeoutSeconds)', async () => {
    harness = await start();
    const stream = await harness.client.resource('pods', 'default').watch({ resourceVersion: '100', timeoutSeconds: 1 });
    expect(harness.cluster.masters[0]!.watchRequests()[0]!.query.get('timeoutSeconds')).toBe('1');
    harness.cluster.masters[0]!.endWatches();
    expect(await take(stream, 1)).toEqual([]);
  });

  it('throws CLIENT_WATCH_BROKEN when the connection is cut', async () => {
    harness = await start();
    const stream = await harness.client.resource('pods', 'default').watch({ resourceVersion: '100' });
    harness.cluster.store.create(pods, pod('a'));
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'ADDED' });
    harness.cluster.masters[0]!.dropWatches();
    const error = await iterator.next().catch((e: unknown) => e);
    expect(isClientError(error, ClientErrorCode.WatchBroken)).toBe(true);
  });

  it('stops on abort with the signal\'s reason and leaves no connection open', async () => {
    harness = await start();
    const controller = new AbortController();
    const stream = await harness.client.resource('pods', 'default').watch({ resourceVersion: '100', signal: controller.signal });
    await until(() => harness!.cluster.masters[0]!.openWatchCount() === 1, 'the watch registered');
    const pending = stream[Symbol.asyncIterator]().next();
    const reason = new Error('stop watching');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await until(() => harness!.cluster.masters[0]!.openWatchCount() === 0, 'the server saw the watch go');
  });

  it('close() ends the stream and settles once the socket is gone', async () => {
    harness = await start();
    const stream = await harness.client.resource('pods', 'default').watch({ resourceVersion: '100' });
    await until(() => harness!.cluster.masters[0]!.openWatchCount() === 1, 'the watch registered');
    await stream.close();
    expect(await take(stream, 1)).toEqual([]);
    await until(() => harness!.cluster.masters[0]!.openWatchCount() === 0, 'the server saw the watch go');
  });

  it('the end of the client\'s lifetime closes its watches', async () => {
    harness = await start();
    const stream = await harness.client.resource('pods', 'default').watch({ resourceVersion: '100' });
    const pending = stream[Symbol.asyncIterator]().next();
    harness.controller.abort(new Error('client closed'));
    await expect(pending).rejects.toThrow('client closed');
    await harness.client.closed;
    await until(() => harness!.cluster.masters[0]!.openWatchCount() === 0, 'the server saw the watch go');
  });

  it('retries an open answered 503 after Retry-After, and follows the leader the answer names', async () => {
    harness = await start(2);
    const [first, second] = harness.cluster.masters;
    harness.cluster.leaderUrl = second!.url;
    first!.inject((r) => r.watch !== undefined, { kind: 'status', status: 503, retryAfterSeconds: 1 }, 1);
    const stream = await harness.client.resource('pods', 'default').watch({ resourceVersion: '100' });
    expect(harness.clock.requestedDelaysMs).toEqual([1000]);
    expect(first!.watchRequests()).toHaveLength(1);
    expect(second!.watchRequests()).toHaveLength(1);
    expect(harness.client.transport.endpoints.leaderHint()).toBe(second!.url);
    await stream.close();
  });

  it('rejects the open with the server\'s StatusError (401 without the token)', async () => {
    harness = await start(1, { token: 'secret' });
    const anonymous = harness.newClient({ token: undefined, watchTransport });
    const error = (await anonymous.resource('pods', 'default').watch({ resourceVersion: '100' }).catch((e: unknown) => e)) as StatusError;
    expect(error.reason).toBe('Unauthorized');
    const stream = await harness.client.resource('pods', 'default').watch({ resourceVersion: '100' });
    expect(harness.cluster.masters[0]!.watchRequests()[1]!.headers.authorization).toBe('Bearer secret');
    await stream.close();
  });
});

describe('watch over websocket: liveness', () => {
  it('breaks a watch whose master stopped answering pings', async () => {
    harness = await startHarness(1);
    const clock = new ManualClock();
    const client = harness.newClient({ clock, watchPingIntervalMs: 1_000 });
    const stream = await client.resource('pods', 'default').watch({ resourceVersion: '100' });
    await until(() => harness!.cluster.masters[0]!.openWatchCount() === 1, 'the watch registered');
    harness.cluster.masters[0]!.freezeWatches();
    const pending = stream[Symbol.asyncIterator]().next();
    clock.advance(1_000); // ping
    clock.advance(1_000); // no pong: broken
    const error = await pending.catch((e: unknown) => e);
    expect(isClientError(error, ClientErrorCode.WatchBroken)).toBe(true);
    expect((error as Error).message).toContain('no pong');
    expect(clock.pendingCount()).toBe(0);
  });
});
