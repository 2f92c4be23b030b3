// The informer's first sync and its steady state: a paged list (500 at a time, following
// continue), a watch from the list's resourceVersion, handlers told of every change in order, a
// frozen cache, and a clean stop on abort.

import { resourceByName, type Pod } from '@raftplane/api';
import { afterEach, describe, expect, it } from 'vitest';
import { createInformer, isUnchanged, ManualClock } from '../src/index.js';
import { RecordingClock, until } from './support/clocks.js';
import { pod } from './support/objects.js';
import { startHarness, type Harness } from './support/harness.js';
import { startInformer, type RunningInformer } from './support/informers.js';

const pods = resourceByName('', 'pods')!;

let harness: Harness | undefined;
let running: RunningInformer<Pod> | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
  await harness?.stop();
  harness = undefined;
});

describe('first sync', () => {
  it('lists 500 at a time following continue, then watches from the list\'s resourceVersion', async () => {
    harness = await startHarness(1);
    for (let i = 0; i < 1201; i++) harness.cluster.store.create(pods, pod(`p${String(i).padStart(4, '0')}`));
    const listedAt = String(harness.cluster.store.revision);
    running = startInformer(harness, 'pods', { namespace: 'default' });
    const { informer } = running;
    expect(informer.hasSynced()).toBe(false);
    await informer.waitForSync(AbortSignal.timeout(10_000));
    expect(informer.hasSynced()).toBe(true);
    expect(informer.cache.size()).toBe(1201);
    expect(informer.lastSyncResourceVersion()).toBe(listedAt);
    const master = harness.cluster.masters[0]!;
    const lists = master.requests.filter((r) => r.method === 'GET' && r.watch === undefined);
    expect(lists.map((r) => [r.query.get('limit'), r.query.get('continue') === null])).toEqual([
      ['500', true],
      ['500', false],
      ['500', false],
    ]);
    await until(() => informer.stats().watches === 1, 'the watch opened');
    const watch = master.watchRequests()[0]!;
    expect(watch.watch).toBe('websocket');
    expect(watch.query.get('resourceVersion')).toBe(listedAt);
    expect(watch.query.get('allowWatchBookmarks')).toBe('true');
    // client-go's jitter: [300, 600) seconds; random() = 0.5 here.
    expect(watch.query.get('timeoutSeconds')).toBe('450');
    expect(running.log).toHaveLength(1201);
    expect(informer.stats()).toMatchObject({ lists: 1, pages: 3, relists: 0, watches: 1, resumes: 0, events: 0 });
  });
});

describe('steady state', () => {
  it('tells every handler of each add, update and delete, in order', async () => {
    harness = await startHarness(1);
    const { store } = harness.cluster;
    store.create(pods, pod('a'));
    running = startInformer(harness, 'pods', { namespace: 'default' });
    await running.informer.waitForSync(AbortSignal.timeout(10_000));
    await until(() => harness!.cluster.masters[0]!.openWatchCount() === 1, 'the watch opened');
    store.create(pods, pod('b'));
    store.modify(pods, 'default', 'a', (p) => (p.metadata.labels = { app: 'web' }));
    store.delete(pods, 'default', 'b');
    store.create(pods, pod('other', { namespace: 'elsewhere' }));
    await until(() => running!.log.length === 4, 'four notifications');
    expect(running.log).toEqual(['add default/a@101', 'add default/b@102', 'update default/a@101->103', 'delete default/b@104']);
    expect(running.informer.cache.keys()).toEqual(['default/a']);
    expect(running.informer.lastSyncResourceVersion()).toBe('104');
    expect(running.informer.stats()).toMatchObject({ events: 3, relists: 0 });
  });

  it('gives a handler added after the sync an add for every cached object', async () => {
    harness = await startHarness(1);
    harness.cluster.store.create(pods, pod('a'));
    harness.cluster.store.create(pods, pod('b'));
    running = startInformer(harness, 'pods', { namespace: 'default' });
    await running.informer.waitForSync(AbortSignal.timeout(10_000));
    const late: string[] = [];
    const remove = running.informer.addHandler({ onAdd: (obj) => late.push(obj.metadata.name!) });
    expect(late.sort()).toEqual(['a', 'b']);
    remove();
    harness.cluster.store.create(pods, pod('c'));
    await until(() => running!.log.length === 3, 'the add of c');
    expect(late).toHaveLength(2);
  });

  it('keeps frozen objects: changing a cached one throws, and handlers get the cached instance', async () => {
    harness = await startHarness(1);
    harness.cluster.store.create(pods, pod('a', { labels: { app: 'web' } }));
    running = startInformer(harness, 'pods', { namespace: 'default' });
    let delivered: Pod | undefined;
    running.informer.addHandler({ onAdd: (obj) => (delivered = obj) });
    await running.informer.waitForSync(AbortSignal.timeout(10_000));
    const cached = running.informer.cache.get('default/a')!;
    expect(delivered).toBe(cached);
    expect(Object.isFrozen(cached.metadata.labels)).toBe(true);
    expect(() => {
      cached.metadata.labels!.app = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      cached.spec!.containers.push({ name: 'x', image: 'y' });
    }).toThrow(TypeError);
    const copy = structuredClone(cached);
    copy.metadata.labels!.app = 'changed';
    expect(running.informer.cache.get('default/a')!.metadata.labels!.app).toBe('web');
  });

  it('counts a handler that throws and goes on', async () => {
    harness = await startHarness(1);
    harness.cluster.store.create(pods, pod('a'));
    running = startInformer(harness, 'pods', { namespace: 'default' });
    running.informer.addHandler({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    await running.informer.waitForSync(AbortSignal.timeout(10_000));
    harness.cluster.store.create(pods, pod('b'));
    await until(() => running!.log.length === 2, 'the add of b');
    expect(running.informer.stats().handlerErrors).toBe(2);
  });
});

describe('resync', () => {
  it('delivers every cached object as an unchanged update each resync period, and stops with the informer', async () => {
    harness = await startHarness(1);
    harness.cluster.store.create(pods, pod('a'));
    harness.cluster.store.create(pods, pod('b'));
    const clock = new ManualClock();
    running = startInformer(harness, 'pods', { namespace: 'default', resyncMs: 30_000, clock });
    const updates: [Pod, Pod][] = [];
    running.informer.addHandler({ onUpdate: (old, obj) => updates.push([old, obj]) });
    await running.informer.waitForSync(AbortSignal.timeout(10_000));
    clock.advance(29_999);
    expect(updates).toHaveLength(0);
    clock.advance(1);
    expect(updates.map(([, obj]) => obj.metadata.name).sort()).toEqual(['a', 'b']);
    expect(updates.every(([old, obj]) => old === obj && isUnchanged(old, obj))).toBe(true);
    clock.advance(30_000);
    expect(updates).toHaveLength(4);
    expect(running.informer.stats().resyncs).toBe(2);
    await running.stop();
    running = undefined;
    expect(clock.pendingCount()).toBe(0);
  });
});

describe('stop', () => {
  it('settles after abort with no watch connection and no timer left', async () => {
    harness = await startHarness(1);
    harness.cluster.store.create(pods, pod('a'));
    const clock = new RecordingClock();
    const informer = createInformer(harness.client, 'pods', { namespace: 'default', clock, resyncMs: 60_000 });
    const controller = new AbortController();
    const done = informer.run(controller.signal);
    await informer.waitForSync(AbortSignal.timeout(10_000));
    await until(() => harness!.cluster.masters[0]!.openWatchCount() === 1, 'the watch opened');
    expect(clock.pendingCount()).toBe(1); // the resync timer
    let calls = 0;
    informer.addHandler({ onAdd: () => calls++ });
    calls = 0;
    controller.abort();
    await done;
    expect(clock.pendingCount()).toBe(0);
    await until(() => harness!.cluster.masters[0]!.openWatchCount() === 0, 'the server saw the watch go');
    harness.cluster.store.create(pods, pod('b'));
    expect(calls).toBe(0);
  });

  it('stops before the first sync too; waitForSync rejects with the signal\'s reason', async () => {
    harness = await startHarness(1);
    harness.cluster.masters[0]!.inject(() => true, { kind: 'status', status: 503 }, 1000);
    const informer = createInformer(harness.client, 'pods', { namespace: 'default', clock: new RecordingClock() });
    const controller = new AbortController();
    const done = informer.run(controller.signal);
    const reason = new Error('leadership lost');
    const waiting = informer.waitForSync(controller.signal);
    await until(() => harness!.cluster.masters[0]!.requests.length >= 3, 'a few list attempts');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await done;
    expect(informer.hasSynced()).toBe(false);
  });
});
