// Write-behind apply (KvStore.applyAhead): results are final before the batch reaches the disk;
// readers see only what is on disk; batches land in order, each after its writeAfter; sessions,
// txn reads and the lease table see batches still in flight; a compaction in flight deletes
// nothing a reader of the visible state may still ask for; a failed batch stops the store.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KvError, type KvOperation, type KvStore } from '../src/index.js';
import { Applier, StoreDir, allKeys, putRequest, rangeRequest, text, type Db } from './support/store-fixture.js';

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
  for (const g of gates.splice(0)) g.open(); // a failed test must not leave a batch waiting
  await store.settled().catch(() => undefined);
  await dir.remove();
});

const put = (key: string, value: string, lease = 0n): KvOperation => ({ put: putRequest(key, value, { lease }) });

type Gate = { promise: Promise<void>; open: () => void };
const gates: Gate[] = [];
/** A promise the test resolves by hand. */
function gate(): Gate {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  const made = { promise, open };
  gates.push(made);
  return made;
}

describe('applyAhead', () => {
  it('answers before the batch is written; reads see the batch only once it is on disk', async () => {
    await applier.apply([put('a', '1')]);
    const disk = gate();
    const { results, written } = await applier.applyAhead([put('a', '2'), put('b', '1')], 1, disk.promise);
    expect(results).toMatchObject([
      { ok: true, response: { header: { revision: 3 } } },
      { ok: true, response: { header: { revision: 4 } } },
    ]);
    // Not on disk yet: the visible state is the one before.
    expect(store.batchesInFlight()).toBe(1);
    expect(store.appliedIndex).toBe(1);
    expect(store.currentRevision()).toBe(2);
    expect((await store.range(allKeys())).kvs.map((kv) => `${text(kv.key)}=${text(kv.value)}`)).toEqual(['a=1']);
    disk.open();
    await written;
    expect(store.batchesInFlight()).toBe(0);
    expect(store.appliedIndex).toBe(3);
    expect(store.currentRevision()).toBe(4);
    expect((await store.range(allKeys())).kvs.map((kv) => `${text(kv.key)}=${text(kv.value)}`)).toEqual(['a=2', 'b=1']);
  });

  it('writes batches in order, each after its writeAfter, and publishes their revisions in order', async () => {
    const batch = vi.spyOn(db as unknown as { _batch: (ops: unknown[], options: unknown) => Promise<void> }, '_batch');
    const published: number[] = [];
    store.subscribe((revision) => published.push(revision.revision));
    const first = gate();
    const a = await applier.applyAhead([put('a', '1')], 0, first.promise);
    const b = await applier.applyAhead([put('b', '1')], 1); // no writeAfter of its own: still behind a
    const c = await applier.applyAhead([put('c', '1')], 2);
    expect(store.batchesInFlight()).toBe(3);
    await new Promise((r) => setTimeout(r, 20));
    expect(batch).not.toHaveBeenCalled();
    expect(published).toEqual([]);
    first.open();
    await Promise.all([a.written, b.written, c.written]);
    expect(batch).toHaveBeenCalledTimes(3);
    expect(published).toEqual([2, 3, 4]);
    expect(store.appliedIndex).toBe(3);
  });

  it('sees batches in flight: a retried session write, a txn reading a value, a lease granted', async () => {
    const disk = gate();
    const session = { clientId: 'c', sequence: 1 };
    const first = await applier.applyAhead([{ leaseGrant: { id: 7n, ttl: 5 } }, { operation: put('k', 'v1'), session }], 0, disk.promise);
    // The retry comes in a later batch while the first is still in flight: answered from it, not applied again.
    const retry = await applier.applyAhead([{ operation: put('k', 'v1'), session }], 2);
    expect(retry.results[0]).toEqual(first.results[1]);
    // A txn reading k while its value is only in a batch in flight.
    const txn = await applier.applyAhead([{ txn: { compare: [], success: [{ range: rangeRequest('k') }], failure: [] } }], 3);
    expect(txn.results[0]).toMatchObject({ ok: true, response: { responses: [{ range: { count: 1, kvs: [{ version: 1, value: new TextEncoder().encode('v1') }] } }] } });
    // The lessor's table is the newest applied one.
    expect(store.leases()).toEqual([{ id: 7n, ttl: 5 }]);
    disk.open();
    await store.settled();
    expect(store.currentRevision()).toBe(2);
    expect((await store.range(allKeys())).kvs.map((kv) => kv.version)).toEqual([1]);
  });

  it('deletes compacted history only once the compaction is visible', async () => {
    await applier.apply([put('a', '1'), put('a', '2'), put('a', '3')]); // revisions 2, 3, 4
    const disk = gate();
    const { written } = await applier.applyAhead([{ compaction: { revision: 4, physical: false } }, put('b', '1'), put('b', '2')], 3, disk.promise);
    // The compaction is in flight: a read of the visible state at revision 2 still works.
    expect((await store.range(rangeRequest('a', '', { revision: 2 }))).kvs.map((kv) => text(kv.value))).toEqual(['1']);
    disk.open();
    await written;
    await expect(store.range(rangeRequest('a', '', { revision: 2 }))).rejects.toSatisfy((e) => e instanceof KvError && e.code === 'KV_COMPACTED');
    // Later batches sweep it; the current value stays.
    await applier.apply([put('c', '1'), put('c', '2')]);
    expect((await store.range(rangeRequest('a'))).kvs.map((kv) => text(kv.value))).toEqual(['3']);
  });

  it('stops after a batch fails to reach the disk: its written and every later call reject', async () => {
    vi.spyOn(db as unknown as { _batch: (ops: unknown[], options: unknown) => Promise<void> }, '_batch').mockImplementationOnce((() => Promise.reject(new Error('disk full'))) as never);
    const { written } = await applier.applyAhead([put('a', '1')], 0);
    await expect(written).rejects.toThrow('disk full');
    await expect(applier.applyAhead([put('b', '1')], 1)).rejects.toThrow('disk full');
    await expect(store.settled()).rejects.toThrow('disk full');
    expect(store.currentRevision()).toBe(1);
  });

  it('refuses a snapshot while batches are in flight, and restores only after them', async () => {
    const disk = gate();
    await applier.applyAhead([put('a', '1')], 0, disk.promise);
    expect(() => store.beginSnapshot()).toThrow(/in flight/);
    disk.open();
    await store.settled();
    const job = store.beginSnapshot();
    expect(job.index).toBe(1);
    await job.data;
  });
});
