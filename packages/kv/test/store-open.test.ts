// Opening a store: an empty directory is an empty store; every record is checked and a damaged,
// missing or foreign one refuses the directory with KV_CORRUPT naming it. Compacted history is
// swept lazily, a bounded slice per apply, restarted by a newer compaction and resumed after a
// restart. Options are checked one by one.

import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { Snapshot } from '@raftplane/raft';
import { KvStore, type HistorySource, type KvOperation } from '../src/index.js';
import { SWEEP_KEYS_PER_APPLY_MAX } from '../src/sweep.js';
import { Applier, StoreDir, allKeys, putRequest, rangeRequest, storeLimits, type Db } from './support/store-fixture.js';

let dir: StoreDir;
beforeEach(async () => {
  dir = await StoreDir.create();
});
afterEach(async () => {
  await dir.remove();
});

function raw(db: Db) {
  return {
    kv: db.sublevel<Uint8Array, Uint8Array>('kv', { keyEncoding: 'view', valueEncoding: 'view' }),
    meta: db.sublevel<string, Uint8Array>('kv-meta', { keyEncoding: 'utf8', valueEncoding: 'view' }),
  };
}

function revisionKey(main: number, sub: number): Uint8Array {
  const key = Buffer.alloc(12);
  key.writeUIntBE(main, 2, 6);
  key.writeUInt32BE(sub, 8);
  return key;
}

/** The code and message open() refuses the directory with. */
async function openError(db: Db): Promise<{ code: string; message: string }> {
  const reopened = await dir.reopen(db).catch((error: { code: string; message: string }) => error);
  if ('store' in reopened) throw new Error('open() succeeded');
  return { code: reopened.code, message: reopened.message };
}

describe('open', () => {
  it('makes an empty store of an empty directory, at revision 1 like etcd', async () => {
    const { store } = await dir.openStore();
    expect([store.appliedIndex, store.currentRevision(), store.compactedRevision(), store.revisionAt(Date.now())]).toEqual([0, 1, 0, 0]);
    expect(await store.range(allKeys())).toEqual({ header: { revision: 1 }, kvs: [], more: false, count: 0 });
  });

  it('is what the master replicates into and what the watch hub reads', async () => {
    interface StateMachineShape {
      readonly appliedIndex: number;
      apply(commands: readonly { readonly index: number; readonly term: number; readonly payload: Uint8Array | null }[]): Promise<unknown[]>;
      beginSnapshot(): { readonly index: number; readonly data: Promise<Uint8Array> };
      restore(snapshot: Snapshot): Promise<void>;
    }
    expectTypeOf<KvStore>().toExtend<StateMachineShape>();
    expectTypeOf<KvStore>().toExtend<HistorySource>();
  });

  describe('refuses a damaged directory', () => {
    let db: Db;
    beforeEach(async () => {
      let store: KvStore;
      ({ db, store } = await dir.openStore());
      const applier = new Applier(store);
      await applier.apply([{ leaseGrant: { id: 5n, ttl: 9 } }, { put: putRequest('a', '1', { lease: 5n }) }, { put: putRequest('b', '1') }, { put: putRequest('a', '2', { lease: 5n }) }]);
    });

    it.each([
      ['a flipped bit', async (d: Db) => flip(d, revisionKey(3, 0)), /kv record 3\.0: checksum mismatch/],
      ['a record moved under another key', async (d: Db) => raw(d).kv.put(revisionKey(3, 0), (await raw(d).kv.get(revisionKey(2, 0))) as Uint8Array), /kv record 3\.0: checksum mismatch/],
      ['a lost revision', async (d: Db) => raw(d).kv.del(revisionKey(3, 0)), /kv record 4\.0: revision 3\.0 is missing/],
      ['a lost newest revision', async (d: Db) => raw(d).kv.del(revisionKey(4, 0)), /kv record 4\.0: missing: the store is at revision 4/],
      ['a lost state record', async (d: Db) => raw(d).meta.del('state'), /"state": missing \(no applied index\)/],
      ['a record of someone else', async (d: Db) => raw(d).meta.put('stranger', new Uint8Array([1])), /"stranger": not a record of the kv store/],
      ['a lost lease with keys attached', async (d: Db) => raw(d).meta.del('lease/5'), /lease 5: missing, yet key "a" is attached to it/],
    ])('with %s', async (_, damage, message) => {
      await damage(db);
      const error = await openError(db);
      expect(error.code).toBe('KV_CORRUPT');
      expect(error.message).toMatch(/^etcdserver: corrupt cluster: data directory: /);
      expect(error.message).toMatch(message);
    });
  });

  it('stops an apply, rather than answering, when a record it reads was damaged after open', async () => {
    const { db, store } = await dir.openStore();
    const applier = new Applier(store);
    await applier.apply([{ put: putRequest('a', '1') }, { put: putRequest('a', '2') }]);
    await flip(db, revisionKey(2, 0));
    const pastRead: KvOperation = { txn: { compare: [], success: [{ range: rangeRequest('a', '', { revision: 2 }) }], failure: [] } };
    await expect(applier.apply([pastRead])).rejects.toMatchObject({ code: 'KV_CORRUPT', message: expect.stringMatching(/kv record 2\.0: checksum mismatch/) });
    expect(store.appliedIndex).toBe(2);
    await expect(store.range(rangeRequest('a', '', { revision: 2 }))).rejects.toMatchObject({ code: 'KV_CORRUPT' });
  });

  it.each([
    ['sessionTtlMs', 0],
    ['sessionsMax', 1.5],
    ['txnOpsMax', -1],
    ['leaseTtlMaxSeconds', Number.NaN],
    ['db', {}],
  ])('refuses option %s = %s', async (option, value) => {
    const db = await dir.openDb();
    const error = await KvStore.open({ ...storeLimits, db, [option]: value }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KV_INVALID_ARGUMENT', details: { option } });
  });
});

async function flip(db: Db, key: Uint8Array): Promise<void> {
  const record = Uint8Array.from((await raw(db).kv.get(key)) as Uint8Array);
  record[record.length - 1] = (record[record.length - 1] as number) ^ 0x01;
  await raw(db).kv.put(key, record);
}

describe('compaction sweeps history lazily', () => {
  const keyCount = SWEEP_KEYS_PER_APPLY_MAX * 2 + 400;
  const keys = Array.from({ length: keyCount }, (_, i) => `key/${String(i).padStart(5, '0')}`);
  const putAll = (value: string): KvOperation[] => keys.map((key) => ({ put: putRequest(key, value) }));
  const records = async (db: Db) => (await raw(db).kv.keys().all()).length;

  it('a bounded slice per apply, again from the start after a newer compaction, and on after a restart', async () => {
    let { db, store } = await dir.openStore();
    let applier = new Applier(store);
    await applier.apply(putAll('1'));
    await applier.apply(putAll('2'));
    await applier.one({ compaction: { revision: store.currentRevision(), physical: false } });
    expect(await records(db)).toBe(2 * keyCount);
    // The first slice: one garbage record per key, SWEEP_KEYS_PER_APPLY_MAX keys.
    await applier.apply([null]);
    expect(await records(db)).toBe(2 * keyCount - SWEEP_KEYS_PER_APPLY_MAX);
    // A newer compaction while the pass is under way (its second slice runs first): the keys
    // already swept need another pass, which starts when this one reaches the last key.
    await applier.apply([...putAll('3'), { compaction: { revision: store.currentRevision() + keyCount, physical: false } }]);
    const sweepAll = async () => {
      for (let i = 0; i < 10 && store.stats().sweeping; i++) await applier.apply([null]);
      expect(store.stats().sweeping).toBe(false);
      expect(await records(db)).toBe(keyCount);
    };
    await sweepAll();
    // Stopped in the middle of a pass, a restarted store finds what is left and sweeps on.
    await applier.apply([...putAll('4'), { compaction: { revision: store.currentRevision() + keyCount, physical: false } }]);
    await applier.apply([null]);
    ({ db, store } = await dir.reopen(db));
    applier = new Applier(store);
    expect(store.stats().sweeping).toBe(true);
    await sweepAll();
    const all = await store.range(allKeys({ revision: store.compactedRevision() }));
    expect(all.count).toBe(keyCount);
    expect(all.kvs.every((kv) => kv.version === 4)).toBe(true);
  });
});
