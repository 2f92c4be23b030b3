// What the watch hub and the master rely on: revisions published after their batch is on disk,
// in order, each once, whole, with prevKv, and equal to what history() reads back; history paged
// and refused below the compacted revision; one LevelDB batch per apply; revision times for
// compaction by age; snapshots as of the index they were begun at; the lease table.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KeyValue, KvOperation, KvStore, RevisionEvents } from '../src/index.js';
import { Applier, StoreDir, allKeys, bytes, deleteRequest, putRequest, rangeRequest, text, type Db } from './support/store-fixture.js';

let dir: StoreDir;
let db: Db;
let store: KvStore;
let applier: Applier;
beforeEach(async () => {
  dir = await StoreDir.create();
  ({ db, store } = await dir.openStore());
  applier = new Applier(store);
});
afterEach(async () => {
  await dir.remove();
});

const put = (key: string, value: string, lease = 0n): KvOperation => ({ put: putRequest(key, value, { lease }) });

/** Events as `TYPE key=value@mod (prev=value@mod)`, for reading at a glance. */
function describeRevision(revision: RevisionEvents): string[] {
  const kv = (k: KeyValue | null) => (k === null ? 'none' : `${text(k.value)}@${k.modRevision}`);
  return revision.events.map((e) => `${revision.revision} ${e.type} ${text(e.kv.key)}=${kv(e.kv)} prev=${kv(e.prevKv)}`);
}

describe('subscribe and history', () => {
  it('publishes each revision once, in order, whole, after its batch — and history reads the same back', async () => {
    const published: RevisionEvents[] = [];
    const batch = vi.spyOn(db as unknown as { _batch: (ops: unknown[], options: unknown) => Promise<void> }, '_batch');
    store.subscribe((revision) => {
      // The batch is written and the state moved before anyone hears of it.
      expect(batch).toHaveBeenCalledTimes(1);
      expect(store.currentRevision()).toBeGreaterThanOrEqual(revision.revision);
      published.push(revision);
    });
    await applier.apply([
      { leaseGrant: { id: 9n, ttl: 5 } },
      put('a', '1'),
      { txn: { compare: [], success: [{ put: putRequest('a', '2') }, { put: putRequest('b', '1', { lease: 9n }) }, { put: putRequest('c', '1', { lease: 9n }) }], failure: [] } },
      { deleteRange: deleteRequest('x') },
      { txn: { compare: [], success: [{ range: rangeRequest('a') }], failure: [] } },
      { put: putRequest('zz', 'v', { lease: 4n }) },
      null,
      { deleteRange: deleteRequest('a') },
      { leaseRevoke: { id: 9n } },
    ]);
    expect(published.flatMap(describeRevision)).toEqual([
      '2 PUT a=1@2 prev=none',
      '3 PUT a=2@3 prev=1@2',
      '3 PUT b=1@3 prev=none',
      '3 PUT c=1@3 prev=none',
      '4 DELETE a=@4 prev=2@3',
      '5 DELETE b=@5 prev=1@3',
      '5 DELETE c=@5 prev=1@3',
    ]);
    // A delete carries etcd's tombstone: the key and the delete's revision, nothing else.
    expect(published[2]?.events[0]?.kv).toEqual({ key: bytes('a'), createRevision: 0, modRevision: 4, version: 0, value: new Uint8Array(0), lease: 0n });
    expect(await store.history(1, 5, 100)).toEqual(published);
    expect(await store.history(3, 5, 2)).toEqual(published.slice(1, 3));
    expect(await store.history(4, 3, 10)).toEqual([]);
  });

  it('refuses history at or below the compacted revision, and keeps prevKv of values kept there', async () => {
    await applier.apply([put('a', '1'), put('b', '1'), put('a', '2'), put('b', '2'), { compaction: { revision: 4, physical: false } }]);
    await expect(store.history(4, 5, 10)).rejects.toMatchObject({ code: 'KV_COMPACTED' });
    // b@3 and a@4, the newest values at the compacted revision, are kept: later changes name them as prevKv.
    await applier.apply([put('a', '3'), null, null]);
    expect((await store.history(5, 6, 10)).flatMap(describeRevision)).toEqual(['5 PUT b=2@5 prev=1@3', '6 PUT a=3@6 prev=2@4']);
  });

  it('stops calling a listener once unsubscribed', async () => {
    const heard: number[] = [];
    const unsubscribe = store.subscribe((revision) => heard.push(revision.revision));
    await applier.one(put('a', '1'));
    unsubscribe();
    await applier.one(put('a', '2'));
    expect(heard).toEqual([2]);
  });
});

describe('one batch per apply', () => {
  it('writes the data, the applied index and the revision of any number of commands in one unsynced batch; nothing for no commands', async () => {
    const batch = vi.spyOn(db as unknown as { _batch: (ops: unknown[], options: unknown) => Promise<void> }, '_batch');
    await applier.apply([put('a', '1'), put('b', '1'), null, { leaseGrant: { id: 1n, ttl: 5 } }, { deleteRange: deleteRequest('a') }]);
    expect(batch).toHaveBeenCalledTimes(1);
    expect((batch.mock.calls[0] as unknown[] | undefined)?.[1]).toEqual({ sync: false });
    await store.apply([]);
    expect(batch).toHaveBeenCalledTimes(1);
    const reopened = await dir.reopen(db);
    expect([reopened.store.appliedIndex, reopened.store.currentRevision()]).toEqual([5, 4]);
  });

  it('refuses an index that does not follow the applied one', async () => {
    await expect(store.apply([{ index: 2, term: 1, payload: null }])).rejects.toMatchObject({ code: 'ERR_ASSERTION' });
    expect(store.appliedIndex).toBe(0);
  });

  it('lets a txn read a past revision written earlier in the same batch', async () => {
    const [, , read] = await applier.apply([put('k', 'v1'), put('k', 'v2'), { txn: { compare: [], success: [{ range: rangeRequest('k', '', { revision: 2 }) }], failure: [] } }]);
    expect(read).toMatchObject({ ok: true, response: { responses: [{ range: { header: { revision: 3 }, kvs: [{ value: bytes('v1'), modRevision: 2 }] } }] } });
  });
});

describe('revisionAt', () => {
  it('answers the newest revision proposed at or before a time, by the commands clock, clamped at the compacted revision', async () => {
    applier = new Applier(store, 0);
    await applier.apply([
      { operation: put('a', '1'), atMs: 1_000 },
      { operation: put('a', '2'), atMs: 2_000 },
      // A lagging leader: the store's clock stays at 2,000.
      { operation: put('a', '3'), atMs: 1_500 },
      { operation: put('a', '4'), atMs: 3_000 },
    ]);
    expect([999, 1_000, 1_999, 2_000, 2_999, 3_000, 10_000].map((t) => store.revisionAt(t))).toEqual([0, 2, 2, 4, 4, 5, 5]);
    await applier.one({ operation: { compaction: { revision: 3, physical: false } }, atMs: 3_000 });
    expect([1_000, 2_000, 3_000].map((t) => store.revisionAt(t))).toEqual([3, 4, 5]);
    const reopened = await dir.reopen(db);
    expect([1_000, 2_000, 3_000].map((t) => reopened.store.revisionAt(t))).toEqual([3, 4, 5]);
  });
});

describe('snapshots', () => {
  it('hold the store as of the index they were begun at while applies go on, and restore whole', async () => {
    await applier.apply([{ leaseGrant: { id: 2n, ttl: 7 } }, put('a', '1', 2n), put('b', '1'), { compaction: { revision: 2, physical: false } }]);
    const job = store.beginSnapshot();
    await applier.apply([put('a', '2'), { deleteRange: deleteRequest('b') }, { leaseRevoke: { id: 2n } }]);
    const data = await job.data;
    expect(job.index).toBe(4);
    const fresh = await dir.openStore({}, await dir.sibling());
    const batch = vi.spyOn(fresh.db as unknown as { _batch: (ops: unknown[], options: unknown) => Promise<void> }, '_batch');
    await fresh.store.restore({ metadata: { index: 4, term: 3, confState: { voters: [1] } }, data });
    expect(batch).toHaveBeenCalledTimes(1);
    expect((batch.mock.calls[0] as unknown[] | undefined)?.[1]).toEqual({ sync: true });
    expect([fresh.store.appliedIndex, fresh.store.currentRevision(), fresh.store.compactedRevision()]).toEqual([4, 3, 2]);
    expect((await fresh.store.range(allKeys())).kvs.map((kv) => `${text(kv.key)}=${text(kv.value)}`)).toEqual(['a=1', 'b=1']);
    expect(fresh.store.lease(2n)).toEqual({ id: 2n, ttl: 7, keys: [bytes('a')] });
    expect(await fresh.store.history(3, 3, 10)).toEqual(await store.history(3, 3, 10));
  });

  it('refuse to move the applied index back', async () => {
    await applier.apply([put('a', '1'), put('a', '2')]);
    const job = store.beginSnapshot();
    const data = await job.data;
    await expect(store.restore({ metadata: { index: 2, term: 1, confState: { voters: [1] } }, data })).rejects.toMatchObject({ code: 'ERR_ASSERTION' });
  });
});

describe('the lease table', () => {
  it('tracks the live keys attached to each lease as puts move and drop them', async () => {
    await applier.apply([{ leaseGrant: { id: 1n, ttl: 10 } }, { leaseGrant: { id: 2n, ttl: 20 } }, put('a', 'v', 1n), put('b', 'v', 1n), put('c', 'v', 1n)]);
    await applier.apply([put('a', 'v', 2n), put('b', 'v'), { put: putRequest('c', 'w', { ignoreLease: true }) }, { deleteRange: deleteRequest('x') }]);
    expect(store.lease(1n)).toEqual({ id: 1n, ttl: 10, keys: [bytes('c')] });
    expect(store.lease(2n)).toEqual({ id: 2n, ttl: 20, keys: [bytes('a')] });
    expect(store.leases()).toEqual([{ id: 1n, ttl: 10 }, { id: 2n, ttl: 20 }]);
    await applier.one({ deleteRange: deleteRequest('c') });
    expect(store.lease(1n)?.keys).toEqual([]);
    expect(store.lease(3n)).toBeNull();
  });
});
