// After any break — a dropped socket, the server's timeout, a dead leader — the informer resumes
// its watch from the last resourceVersion it saw (an event's or a BOOKMARK's) without listing
// again, and the server's replay gives it every change it missed exactly once.

import { resourceByName, type Pod } from '@raftplane/api';
import { afterEach, describe, expect, it } from 'vitest';
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

describe.each(['websocket', 'http'] as const)('resume over %s', (watchTransport) => {
  async function synced(masters = 1): Promise<{ harness: Harness; running: RunningInformer<Pod> }> {
    harness = await startHarness(masters, { client: { watchTransport } });
    harness.cluster.store.create(pods, pod('a'));
    harness.cluster.store.create(pods, pod('b'));
    running = startInformer(harness, 'pods', { namespace: 'default' });
    await running.informer.waitForSync(AbortSignal.timeout(10_000));
    await until(() => harness!.cluster.masters.some((m) => m.openWatchCount() === 1), 'the watch opened');
    return { harness, running };
  }

  it('resumes after a dropped connection from the last event, missing nothing and repeating nothing', async () => {
    const { harness: h, running: r } = await synced();
    const { store } = h.cluster;
    const master = h.cluster.masters[0]!;
    store.create(pods, pod('c'));
    await until(() => r.log.length === 3, 'the add of c');
    const lastSeen = String(store.revision);
    // Cut the watch, then change things while no watch is open.
    master.dropWatches();
    store.modify(pods, 'default', 'a', (p) => (p.metadata.labels = { v: '2' }));
    store.delete(pods, 'default', 'b');
    store.create(pods, pod('d'));
    await until(() => r.log.length === 6, 'the three missed changes');
    expect(r.log).toEqual([
      'add default/a@101',
      'add default/b@102',
      'add default/c@103',
      'update default/a@101->104',
      'delete default/b@105',
      'add default/d@106',
    ]);
    expect(master.watchRequests().map((w) => w.query.get('resourceVersion'))).toEqual(['102', lastSeen]);
    expect(r.informer.stats()).toMatchObject({ lists: 1, relists: 0, watches: 2, resumes: 1, events: 4 });
    expect(r.informer.cache.keys().sort()).toEqual(['default/a', 'default/c', 'default/d']);
  });

  it('resumes at once when the server ends the watch (its timeoutSeconds)', async () => {
    const { harness: h, running: r } = await synced();
    const master = h.cluster.masters[0]!;
    h.cluster.store.create(pods, pod('c'));
    await until(() => r.log.length === 3, 'the add of c');
    master.endWatches();
    h.cluster.store.create(pods, pod('d'));
    await until(() => r.log.length === 4, 'the add of d');
    expect(master.watchRequests().map((w) => w.query.get('resourceVersion'))).toEqual(['102', '103']);
    expect(r.informer.stats()).toMatchObject({ relists: 0, resumes: 1 });
  });

  it('resumes from a BOOKMARK\'s resourceVersion', async () => {
    const { harness: h, running: r } = await synced();
    const master = h.cluster.masters[0]!;
    // Changes the informer does not watch (another namespace) move the revision on; a bookmark tells it.
    h.cluster.store.create(pods, pod('x', { namespace: 'elsewhere' }));
    h.cluster.store.create(pods, pod('y', { namespace: 'elsewhere' }));
    h.cluster.bookmark();
    await until(() => r.informer.lastSyncResourceVersion() === '104', 'the bookmark');
    master.dropWatches();
    await until(() => master.watchRequests().length === 2, 'the resumed watch');
    expect(master.watchRequests()[1]!.query.get('resourceVersion')).toBe('104');
    expect(r.informer.stats()).toMatchObject({ bookmarks: 1, relists: 0, events: 0 });
  });

  it('follows a failover: the leader dies, the watch resumes on the new leader from the same resourceVersion', async () => {
    const { harness: h, running: r } = await synced(2);
    const [m1, m2] = h.cluster.masters;
    expect(m1!.openWatchCount()).toBe(1);
    h.cluster.store.create(pods, pod('c'));
    await until(() => r.log.length === 3, 'the add of c');
    h.cluster.leaderUrl = m2!.url;
    await m1!.stop();
    h.cluster.store.create(pods, pod('d'));
    h.cluster.store.delete(pods, 'default', 'a');
    await until(() => r.log.length === 5, 'the changes made during the failover');
    expect(r.log.slice(3)).toEqual(['add default/d@104', 'delete default/a@105']);
    expect(m2!.watchRequests().map((w) => w.query.get('resourceVersion'))).toEqual(['103']);
    expect(r.informer.stats()).toMatchObject({ lists: 1, relists: 0, resumes: 1 });
  });
});

describe('resume pacing', () => {
  it('waits before resuming a watch that ended empty at once, and resumes at once after one that delivered', async () => {
    harness = await startHarness(1);
    const master = harness.cluster.masters[0]!;
    const clock = new RecordingClock();
    running = startInformer(harness, 'pods', { namespace: 'default', clock });
    await running.informer.waitForSync(AbortSignal.timeout(10_000));
    await until(() => running!.informer.stats().watches === 1, 'the watch opened');
    master.endWatches();
    await until(() => running!.informer.stats().watches === 2, 'the second watch');
    expect(clock.requestedDelaysMs).toEqual([100]);
    harness.cluster.store.create(pods, pod('a'));
    await until(() => running!.log.length === 1, 'the add of a');
    master.endWatches();
    await until(() => running!.informer.stats().watches === 3, 'the third watch');
    expect(clock.requestedDelaysMs).toEqual([100]);
  });
});
