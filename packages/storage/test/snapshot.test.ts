// Snapshots: a follower installing the leader's snapshot through persist() (the log replaced in the
// same batch), createSnapshot() with log compaction that keeps term(firstIndex() - 1), snapshot data
// split into 1 MiB chunks, and both surviving a reopen.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RaftErrorCode, isRaftError, type Snapshot } from '@raftplane/raft';
import { encodeEntry, logKey } from '../src/codec.js';
import { SNAPSHOT_CHUNK_BYTES_MAX, StorageErrorCode, type RaftStorage } from '../src/index.js';
import type { Db } from '../src/load.js';
import { DataDir, JOURNALED, LEVELDB_ONLY, bytesOf, entries, entry, raw, recordBatches, storedIndexes, threeVoters } from './support/data-dir.js';
import { sealRecordForTest } from './support/records.js';

let dir: DataDir;
beforeEach(async () => {
  dir = await DataDir.create();
});
afterEach(async () => {
  await dir.remove();
});

function termOrCode(storage: RaftStorage, index: number): number | string {
  try {
    return storage.term(index);
  } catch (error) {
    if (isRaftError(error)) return error.code;
    throw error;
  }
}

/** Byte equality without vitest's element-by-element diff, which takes seconds on megabytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

async function chunkKeys(db: Db): Promise<string[]> {
  return (await raw(db).meta.keys().all()).filter((key) => key.startsWith('snapshot-data/'));
}

/** A directory holding entries 1..10 (term 1 for 1..5, term 2 for 6..10), committed to 8. */
async function tenEntries(journal = JOURNALED): Promise<{ db: Db; storage: RaftStorage }> {
  const opened = await dir.openStorage(threeVoters, journal);
  await opened.storage.persist({ snapshot: null, entries: [...entries(1, 5, 1), ...entries(6, 10, 2)], hardState: { term: 2, vote: 1, commit: 8 } });
  return opened;
}

describe('persist with a snapshot: installing the leader’s snapshot', () => {
  it('replaces the whole log and the snapshot records in one synced batch, and survives a reopen', async () => {
    const { db, storage } = await tenEntries(LEVELDB_ONLY);
    const batches = recordBatches(db);
    const snapshot: Snapshot = { metadata: { index: 20, term: 3, confState: { voters: [1, 2, 4] } }, data: bytesOf(5000, 20) };
    await storage.persist({ snapshot, entries: entries(21, 22, 3), hardState: { term: 3, vote: 0, commit: 20 } });
    expect(batches).toEqual([{ operations: expect.any(Number), sync: true }]);
    const check = async (s: RaftStorage, d: Db) => {
      expect([s.firstIndex(), s.lastIndex(), s.term(20), s.term(22)]).toEqual([21, 22, 3, 3]);
      expect(termOrCode(s, 19)).toBe(RaftErrorCode.Compacted);
      expect(s.snapshot()).toEqual(snapshot);
      expect(s.initialState()).toEqual({ hardState: { term: 3, vote: 0, commit: 20 }, confState: { voters: [1, 2, 4] } });
      expect(await storedIndexes(d)).toEqual([21, 22]);
    };
    await check(storage, db);
    const reopened = await dir.reopen(db, threeVoters, LEVELDB_ONLY);
    await check(reopened.storage, reopened.db);
  });

  it('installs a snapshot behind the stored last index too, dropping the entries after it', async () => {
    const { db, storage } = await tenEntries();
    const snapshot: Snapshot = { metadata: { index: 9, term: 2, confState: threeVoters }, data: bytesOf(10, 9) };
    await storage.persist({ snapshot, entries: [], hardState: { term: 2, vote: 1, commit: 9 } });
    const reopened = await dir.reopen(db);
    expect([reopened.storage.firstIndex(), reopened.storage.lastIndex(), reopened.storage.term(9)]).toEqual([10, 9, 2]);
    expect(await storedIndexes(reopened.db)).toEqual([]);
  });
});

describe('createSnapshot: recording a snapshot and compacting the log', () => {
  it('keeps `keepEntries` entries up to the snapshot, deletes the rest below, and keeps the term before the first index', async () => {
    const { db, storage } = await tenEntries(LEVELDB_ONLY);
    const batches = recordBatches(db);
    const snapshot = await storage.createSnapshot(8, threeVoters, bytesOf(100, 8), 3);
    await storage.logCleared(); // the records below go behind the batch
    expect(batches).toEqual([{ operations: expect.any(Number), sync: true }]);
    expect(snapshot.metadata).toEqual({ index: 8, term: 2, confState: threeVoters });
    const check = async (s: RaftStorage, d: Db) => {
      expect([s.firstIndex(), s.lastIndex()]).toEqual([6, 10]);
      expect([termOrCode(s, 4), s.term(5), s.term(6), s.term(8)]).toEqual([RaftErrorCode.Compacted, 1, 2, 2]);
      expect(s.snapshot()).toEqual(snapshot);
      expect(s.entries(6, 11, Infinity)).toHaveLength(5);
      expect(await storedIndexes(d)).toEqual([6, 7, 8, 9, 10]);
    };
    await check(storage, db);
    const reopened = await dir.reopen(db, threeVoters, LEVELDB_ONLY);
    await check(reopened.storage, reopened.db);
  });

  it('records a compaction interrupted between its batch and its range delete left behind are never served, and the next open clears them', async () => {
    const { db, storage } = await tenEntries();
    await storage.createSnapshot(8, threeVoters, bytesOf(100, 8), 3);
    await storage.logCleared();
    // As if the process died after the synced batch moved the compacted record, before the range delete.
    const { log } = raw(db);
    for (let index = 1; index <= 5; index++) await log.put(logKey(index), encodeEntry(entry(index, 1)));
    expect(await storedIndexes(db)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const reopened = await dir.reopen(db);
    expect([reopened.storage.firstIndex(), reopened.storage.lastIndex(), reopened.storage.term(5)]).toEqual([6, 10, 1]);
    expect(termOrCode(reopened.storage, 4)).toBe(RaftErrorCode.Compacted);
    expect(await storedIndexes(reopened.db)).toEqual([6, 7, 8, 9, 10]);
  });

  it('with keepEntries 0 the log starts right after the snapshot, and the snapshot answers its own term', async () => {
    const { db, storage } = await tenEntries();
    await storage.persist({ snapshot: null, entries: [], hardState: { term: 2, vote: 1, commit: 10 } });
    await storage.createSnapshot(10, threeVoters, bytesOf(10, 1), 0);
    let reopened = await dir.reopen(db);
    expect([reopened.storage.firstIndex(), reopened.storage.lastIndex(), reopened.storage.term(10)]).toEqual([11, 10, 2]);
    await reopened.storage.persist({ snapshot: null, entries: entries(11, 12, 3), hardState: { term: 3, vote: 1, commit: 10 } });
    reopened = await dir.reopen(reopened.db);
    expect([reopened.storage.firstIndex(), reopened.storage.lastIndex(), reopened.storage.term(12)]).toEqual([11, 12, 3]);
  });

  it('never moves the first index back: a later snapshot with more entries to keep compacts nothing more', async () => {
    const { db, storage } = await tenEntries();
    await storage.createSnapshot(6, threeVoters, bytesOf(10, 6), 0);
    await storage.createSnapshot(8, threeVoters, bytesOf(10, 8), 5);
    const reopened = await dir.reopen(db);
    expect([reopened.storage.firstIndex(), reopened.storage.snapshot().metadata.index]).toEqual([7, 8]);
  });

  it('keeps the whole log when keepEntries reaches back past its start', async () => {
    const { db, storage } = await tenEntries();
    await storage.createSnapshot(5, threeVoters, bytesOf(10, 5), 100);
    const reopened = await dir.reopen(db);
    expect([reopened.storage.firstIndex(), reopened.storage.snapshot().metadata.index, reopened.storage.term(0)]).toEqual([1, 5, 0]);
  });

  it('skips appended entries that are already compacted away, writing only those after the compacted prefix', async () => {
    const { db, storage } = await tenEntries();
    await storage.createSnapshot(8, threeVoters, bytesOf(10, 8), 3);
    await storage.persist({ snapshot: null, entries: [...entries(4, 5, 1), ...entries(6, 12, 2)], hardState: null });
    const reopened = await dir.reopen(db);
    expect([reopened.storage.firstIndex(), reopened.storage.lastIndex(), reopened.storage.term(5)]).toEqual([6, 12, 1]);
    expect(await storedIndexes(reopened.db)).toEqual([6, 7, 8, 9, 10, 11, 12]);
  });

  it('splits data into 1 MiB chunks, and a smaller successor deletes the chunks it does not overwrite', async () => {
    const { db, storage } = await tenEntries();
    const big = bytesOf(2 * SNAPSHOT_CHUNK_BYTES_MAX + 12345, 3);
    await storage.createSnapshot(3, threeVoters, big, 0);
    expect(await chunkKeys(db)).toEqual(['snapshot-data/00000000', 'snapshot-data/00000001', 'snapshot-data/00000002']);
    let reopened = await dir.reopen(db);
    expect(sameBytes(reopened.storage.snapshot().data, big)).toBe(true);
    const small = bytesOf(SNAPSHOT_CHUNK_BYTES_MAX, 7);
    await reopened.storage.createSnapshot(7, threeVoters, small, 0);
    expect(await chunkKeys(reopened.db)).toEqual(['snapshot-data/00000000']);
    reopened = await dir.reopen(reopened.db);
    expect(sameBytes(reopened.storage.snapshot().data, small)).toBe(true);
  });

  it('rejects a snapshot not past the one held with STORAGE_SNAPSHOT_OUT_OF_DATE, writing nothing', async () => {
    const { db, storage } = await tenEntries();
    await storage.createSnapshot(6, threeVoters, bytesOf(10, 6), 0);
    const batches = recordBatches(db);
    for (const index of [6, 4]) {
      await expect(storage.createSnapshot(index, threeVoters, bytesOf(10, index), 0)).rejects.toMatchObject({
        code: StorageErrorCode.SnapshotOutOfDate,
        index,
        message: `data directory ${dir.path}: createSnapshot at ${index}: the snapshot held is already at 6`,
      });
    }
    expect(batches).toEqual([]);
  });

  it('asserts that only applied (so committed) entries are in a snapshot', async () => {
    const { storage } = await tenEntries();
    await expect(storage.createSnapshot(9, threeVoters, bytesOf(10, 9), 0)).rejects.toMatchObject({
      name: 'AssertionError',
      message: expect.stringMatching(/index 9 > commit 8/),
    });
  });
});

describe('createSnapshot with dataInStateMachine: the data is the state machine’s own store', () => {
  const temporarilyUnavailable = (storage: RaftStorage): unknown => {
    try {
      storage.snapshot();
    } catch (error) {
      return isRaftError(error) ? error.code : error;
    }
    return 'no error';
  };

  it('writes no data and deletes the chunks of the snapshot before, in one small synced batch', async () => {
    const { db, storage } = await tenEntries();
    await storage.createSnapshot(3, threeVoters, bytesOf(2 * SNAPSHOT_CHUNK_BYTES_MAX, 3), 0);
    expect(await chunkKeys(db)).toHaveLength(2);
    const batches = recordBatches(db);
    await storage.createSnapshot(8, threeVoters, new Uint8Array(0), 2, { dataInStateMachine: true });
    // The record, the compacted position and the two old chunks' deletes; with a journal, the log
    // it holds too (entries 7 to 10, and the journal-log-seq record).
    expect(batches).toEqual([{ operations: JOURNALED ? 4 + 4 + 1 : 4, sync: true }]);
    expect(await chunkKeys(db)).toEqual([]);
    expect(storage.snapshotMetadata()).toEqual({ index: 8, term: 2, confState: threeVoters });
    expect([storage.firstIndex(), storage.lastIndex()]).toEqual([7, 10]);
    const reopened = await dir.reopen(db);
    expect(reopened.storage.snapshotMetadata()).toEqual({ index: 8, term: 2, confState: threeVoters });
    expect([reopened.storage.firstIndex(), reopened.storage.lastIndex()]).toEqual([7, 10]);
    expect(reopened.storage.needsSnapshotData()).toBe(true);
  });

  it('answers snapshot() with SnapshotTemporarilyUnavailable until the data is handed over, and says it is wanted', async () => {
    const { db, storage } = await tenEntries();
    await storage.createSnapshot(6, threeVoters, new Uint8Array(0), 0, { dataInStateMachine: true });
    expect(storage.snapshotDataWanted()).toBe(false);
    expect(temporarilyUnavailable(storage)).toBe(RaftErrorCode.SnapshotTemporarilyUnavailable);
    expect(storage.snapshotDataWanted()).toBe(true);
    const batches = recordBatches(db);
    // The state machine's snapshot is at its applied index, 8: past the recorded one.
    expect(storage.adoptSnapshotData(8, threeVoters, bytesOf(20, 8))).toBe(true);
    expect(storage.snapshot().metadata).toEqual({ index: 8, term: 2, confState: threeVoters });
    expect(sameBytes(storage.snapshot().data, bytesOf(20, 8))).toBe(true);
    expect([storage.needsSnapshotData(), storage.snapshotDataWanted()]).toEqual([false, false]);
    expect(batches).toEqual([]); // in memory only
    // Taken already: a second one is not.
    expect(storage.adoptSnapshotData(9, threeVoters, bytesOf(20, 9))).toBe(false);
  });

  it('takes data at the recorded index itself, and refuses data built before a newer snapshot was recorded', async () => {
    const { db, storage } = await tenEntries();
    await storage.createSnapshot(6, threeVoters, new Uint8Array(0), 0, { dataInStateMachine: true });
    expect(storage.adoptSnapshotData(6, threeVoters, bytesOf(20, 6))).toBe(true);
    expect(storage.snapshot().metadata.index).toBe(6);
    await storage.createSnapshot(8, threeVoters, new Uint8Array(0), 0, { dataInStateMachine: true });
    expect(storage.adoptSnapshotData(7, threeVoters, bytesOf(20, 7))).toBe(false);
    expect(storage.needsSnapshotData()).toBe(true);
    const reopened = await dir.reopen(db);
    expect(temporarilyUnavailable(reopened.storage)).toBe(RaftErrorCode.SnapshotTemporarilyUnavailable);
  });

  it('keeps data it is given in memory', async () => {
    const { storage } = await tenEntries();
    await storage.createSnapshot(6, threeVoters, bytesOf(30, 6), 0, { dataInStateMachine: true });
    expect(storage.needsSnapshotData()).toBe(false);
    expect(sameBytes(storage.snapshot().data, bytesOf(30, 6))).toBe(true);
  });

  it('a snapshot installed from the leader afterwards carries its data again', async () => {
    const { db, storage } = await tenEntries();
    await storage.createSnapshot(6, threeVoters, new Uint8Array(0), 0, { dataInStateMachine: true });
    const leader: Snapshot = { metadata: { index: 20, term: 3, confState: threeVoters }, data: bytesOf(5000, 20) };
    await storage.persist({ snapshot: leader, entries: [], hardState: { term: 3, vote: 0, commit: 20 } });
    expect(storage.snapshot()).toEqual(leader);
    const reopened = await dir.reopen(db);
    expect(reopened.storage.needsSnapshotData()).toBe(false);
    expect(reopened.storage.snapshot()).toEqual(leader);
  });

  it('a record that says so must claim no data here: anything else is STORAGE_CORRUPT', async () => {
    const { db, storage } = await tenEntries();
    await storage.createSnapshot(6, threeVoters, new Uint8Array(0), 0, { dataInStateMachine: true });
    await dir.closeDb(db);
    const opened = await dir.openDb();
    // A 7-field payload with a data size, sealed properly: only its shape is wrong.
    await raw(opened).meta.put('snapshot', sealRecordForTest('snapshot', [6, 2, [1, 2, 3], 10, 1, 0, 1]));
    await dir.closeDb(opened);
    await expect(dir.openError()).resolves.toMatchObject({ code: StorageErrorCode.Corrupt, message: expect.stringMatching(/data is in the state machine/) });
  });
});
