// Only 410 makes the informer list again: when the revision it would resume from was compacted
// (an ERROR event, or a refused watch), it waits a jittered backoff (0.8 s doubling to 30 s) and
// relists; objects that vanished meanwhile reach onDelete as tombstones with their last state.

import { expiredError, resourceByName, type Pod } from '@raftplane/api';
import { afterEach, describe, expect, it } from 'vitest';
import { isTombstone, type DeletedFinalStateUnknown } from '../src/index.js';
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

describe('relist on 410', () => {
  it('relists after a backoff when the resume point was compacted, with tombstones for what vanished', async () => {
    harness = await startHarness(1);
    const { store } = harness.cluster;
    const master = harness.cluster.masters[0]!;
    store.create(pods, pod('a', { labels: { app: 'web' } }));
    store.create(pods, pod('b'));
    const clock = new RecordingClock();
    running = startInformer(harness, 'pods', { namespace: 'default', clock });
    const tombstones: DeletedFinalStateUnknown<Pod>[] = [];
    running.informer.addHandler({ onDelete: (obj) => void (isTombstone(obj) && tombstones.push(obj)) });
    await running.informer.waitForSync(AbortSignal.timeout(10_000));
    await until(() => master.openWatchCount() === 1, 'the watch opened');
    // While no watch is open: a deleted, b changed, c created, and history compacted past the resume point.
    master.dropWatches();
    store.delete(pods, 'default', 'a');
    store.modify(pods, 'default', 'b', (p) => (p.metadata.labels = { v: '2' }));
    store.create(pods, pod('c'));
    store.compact();
    await until(() => running!.informer.stats().relists === 1 && running!.log.length === 5, 'the relist');
    expect(running.log).toEqual(['add default/a@101', 'add default/b@102', 'update default/b@102->104', 'add default/c@105', 'tombstone default/a@101']);
    expect(tombstones).toHaveLength(1);
    expect(tombstones[0]!.key).toBe('default/a');
    expect(tombstones[0]!.lastKnown.metadata.labels).toEqual({ app: 'web' });
    expect(running.informer.stats()).toMatchObject({ lists: 2, relists: 1 });
    expect(running.informer.lastSyncResourceVersion()).toBe('105');
    // 100 ms before the resume that met the 410, then the relist backoff's first step, 0.8 s.
    expect(clock.requestedDelaysMs).toEqual([100, 800]);
    await until(() => master.watchRequests().length === 3, 'the watch after the relist');
    expect(master.watchRequests().map((w) => w.query.get('resourceVersion'))).toEqual(['102', '102', '105']);
  });

  it('relists when the watch itself is refused with 410, backing off further each time in [0.8 s, 30 s]', async () => {
    harness = await startHarness(1);
    const master = harness.cluster.masters[0]!;
    harness.cluster.store.create(pods, pod('a'));
    master.inject((r) => r.watch !== undefined, { kind: 'status', status: 410, body: expiredError('too old resource version: 1 (2)').status }, 3);
    const clock = new RecordingClock();
    running = startInformer(harness, 'pods', { namespace: 'default', clock });
    await until(() => running!.informer.stats().lists === 4 && master.openWatchCount() === 1, 'three relists, then a watch');
    // random() = 0.5: ceilings 800, 1600, 3200 with equal jitter.
    expect(clock.requestedDelaysMs).toEqual([800, 1200, 2400]);
    expect(running.informer.stats()).toMatchObject({ lists: 4, relists: 3 });
    // An object a relist finds unchanged (same resourceVersion) is news to nobody: no update.
    expect(running.log).toEqual(['add default/a@101']);
  });

  it('never relists for a break that is not 410', async () => {
    harness = await startHarness(1);
    const master = harness.cluster.masters[0]!;
    running = startInformer(harness, 'pods', { namespace: 'default' });
    await running.informer.waitForSync(AbortSignal.timeout(10_000));
    for (let i = 0; i < 5; i++) {
      await until(() => master.openWatchCount() === 1, 'the watch opened');
      harness.cluster.store.create(pods, pod(`p${i}`));
      await until(() => running!.log.length === i + 1, `the add of p${i}`);
      if (i % 2 === 0) master.dropWatches();
      else master.endWatches();
    }
    await until(() => running!.informer.stats().watches === 6, 'the last resume');
    expect(master.watchRequests()).toHaveLength(6);
    expect(running.informer.stats()).toMatchObject({ lists: 1, relists: 0, watches: 6, resumes: 5, events: 5 });
  });
});
