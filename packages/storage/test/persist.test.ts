// persist(): one Ready's entries and hard state in one synced LevelDB batch, read back from memory
// and after a reopen; a conflicting tail truncated in the same batch; byte-capped reads; writes
// the storage refuses (bugs are assertions, the world's failures are coded errors).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD_BYTES, RaftErrorCode, isRaftError, type Entry } from '@raftplane/raft';
import { StorageErrorCode } from '../src/index.js';
import { DataDir, LEVELDB_ONLY, entries, entry, recordBatches, storedIndexes, threeVoters } from './support/data-dir.js';

let dir: DataDir;
beforeEach(async () => {
  dir = await DataDir.create();
});
afterEach(async () => {
  await dir.remove();
});

function pairs(list: readonly Entry[]): number[][] {
  return list.map((e) => [e.index, e.term]);
}

function texts(list: readonly Entry[]): string[] {
  return list.map((e) => new TextDecoder().decode(e.data));
}

function raftCode(fn: () => unknown): string | null {
  try {
    fn();
  } catch (error) {
    if (isRaftError(error)) return error.code;
    throw error;
  }
  return null;
}

describe('persist: round trip', () => {
  it('serves persisted entries and hard state from memory, and the same after a reopen', async () => {
    const first = await dir.openStorage();
    await first.storage.persist({ snapshot: null, entries: [...entries(1, 3, 1), ...entries(4, 5, 2)], hardState: { term: 2, vote: 3, commit: 4 } });
    const check = (storage: typeof first.storage) => {
      expect(storage.firstIndex()).toBe(1);
      expect(storage.lastIndex()).toBe(5);
      expect(pairs(storage.entries(1, 6, Infinity))).toEqual([[1, 1], [2, 1], [3, 1], [4, 2], [5, 2]]);
      expect(texts(storage.entries(2, 4, Infinity))).toEqual(['e2.1', 'e3.1']);
      expect(storage.term(0)).toBe(0);
      expect(storage.term(5)).toBe(2);
      expect(storage.initialState()).toEqual({ hardState: { term: 2, vote: 3, commit: 4 }, confState: { voters: [1, 2, 3] } });
    };
    check(first.storage);
    check((await dir.reopen(first.db)).storage);
  });

  it('keeps appending across persists and reopens', async () => {
    let { db, storage } = await dir.openStorage();
    for (let round = 0; round < 4; round++) {
      const base = round * 10;
      await storage.persist({ snapshot: null, entries: entries(base + 1, base + 10, round + 1), hardState: { term: round + 1, vote: 1, commit: base + 5 } });
      ({ db, storage } = await dir.reopen(db));
    }
    expect(storage.lastIndex()).toBe(40);
    expect(storage.term(31)).toBe(4);
    expect(storage.initialState().hardState.commit).toBe(35);
    expect(await storedIndexes(db)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('answers Compacted and Unavailable outside the log, as the core expects', async () => {
    const { storage } = await dir.openStorage();
    await storage.persist({ snapshot: null, entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 0 } });
    expect(raftCode(() => storage.term(4))).toBe(RaftErrorCode.Unavailable);
    expect(raftCode(() => storage.entries(0, 2, Infinity))).toBe(RaftErrorCode.Compacted);
    expect(raftCode(() => storage.entries(2, 5, Infinity))).toBe(RaftErrorCode.Unavailable);
  });
});

describe('persist: byte caps on entries()', () => {
  const size = 100 + ENTRY_OVERHEAD_BYTES;
  it.each([
    { bytesMax: Infinity, expected: 10 },
    { bytesMax: size * 3, expected: 3 },
    { bytesMax: size * 3 + size - 1, expected: 3 },
    { bytesMax: size, expected: 1 },
    { bytesMax: 0, expected: 1 },
  ])('entries(1, 11, $bytesMax) returns $expected entries, before and after a reopen', async ({ bytesMax, expected }) => {
    const first = await dir.openStorage();
    await first.storage.persist({ snapshot: null, entries: entries(1, 10, 1, 100), hardState: { term: 1, vote: 1, commit: 0 } });
    expect(first.storage.entries(1, 11, bytesMax)).toHaveLength(expected);
    const second = await dir.reopen(first.db);
    expect(second.storage.entries(1, 11, bytesMax)).toHaveLength(expected);
    expect(second.storage.entries(1, 11, bytesMax)[0]?.data).toEqual(new Uint8Array(100).fill(1));
  });
});

describe('persist: truncating a conflicting tail', () => {
  it('replaces entries at and after the first new one, and deletes the stored ones past the new last index, in the same batch', async () => {
    const first = await dir.openStorage(threeVoters, LEVELDB_ONLY);
    await first.storage.persist({ snapshot: null, entries: entries(1, 10, 1), hardState: { term: 1, vote: 1, commit: 3 } });
    const batches = recordBatches(first.db);
    await first.storage.persist({ snapshot: null, entries: entries(6, 7, 2), hardState: { term: 2, vote: 2, commit: 3 } });
    expect(batches).toHaveLength(1);
    const check = async ({ db, storage }: typeof first) => {
      expect(storage.lastIndex()).toBe(7);
      expect(pairs(storage.entries(4, 8, Infinity))).toEqual([[4, 1], [5, 1], [6, 2], [7, 2]]);
      expect(texts(storage.entries(6, 8, Infinity))).toEqual(['e6.2', 'e7.2']);
      expect(await storedIndexes(db)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    };
    await check(first);
    await check(await dir.reopen(first.db, threeVoters, LEVELDB_ONLY));
  });

  it('truncates to a longer tail of a newer term as well', async () => {
    const first = await dir.openStorage();
    await first.storage.persist({ snapshot: null, entries: entries(1, 5, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    await first.storage.persist({ snapshot: null, entries: entries(3, 9, 3), hardState: { term: 3, vote: 1, commit: 2 } });
    const { db, storage } = await dir.reopen(first.db);
    expect(pairs(storage.entries(1, 10, Infinity)).map(([, term]) => term)).toEqual([1, 1, 3, 3, 3, 3, 3, 3, 3]);
    expect(await storedIndexes(db)).toHaveLength(9);
  });
});

describe('persist: group commit', () => {
  it('writes snapshot-less entries, the last-entry record and the hard state as ONE batch with sync: true', async () => {
    const { db, storage } = await dir.openStorage(threeVoters, LEVELDB_ONLY);
    const batches = recordBatches(db);
    await storage.persist({ snapshot: null, entries: entries(1, 50, 1), hardState: { term: 1, vote: 1, commit: 0 } });
    expect(batches).toEqual([{ operations: 52, sync: true }]);
    expect(storage.stats).toMatchObject({ syncedBatches: 2, commitOnlyUpdates: 0, entriesWritten: 50 });
  });

  it('writes no batch when there is nothing new: no entries, no hard state, or the hard state already held', async () => {
    const { db, storage } = await dir.openStorage(threeVoters, LEVELDB_ONLY);
    await storage.persist({ snapshot: null, entries: [entry(1, 1)], hardState: { term: 1, vote: 1, commit: 0 } });
    const batches = recordBatches(db);
    await storage.persist({ snapshot: null, entries: [], hardState: null });
    await storage.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 1, commit: 0 } });
    expect(batches).toEqual([]);
  });

  it('holds a commit-only change (mustSync false) in memory: no batch, and the next synced batch writes it', async () => {
    const { db, storage } = await dir.openStorage(threeVoters, LEVELDB_ONLY);
    await storage.persist({ snapshot: null, entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 0 } });
    const batches = recordBatches(db);
    await storage.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 1, commit: 2 }, mustSync: false });
    expect(batches).toEqual([]);
    expect(storage.stats.commitOnlyUpdates).toBe(1);
    expect(storage.initialState().hardState.commit).toBe(2);
    // The next synced batch carries it, although its Ready's hard state is unchanged (null).
    await storage.persist({ snapshot: null, entries: [entry(4, 1)], hardState: null });
    expect(batches).toEqual([{ operations: 3, sync: true }]);
    const second = await dir.reopen(db, threeVoters, LEVELDB_ONLY);
    expect(second.storage.initialState().hardState).toEqual({ term: 1, vote: 1, commit: 2 });
    // A crash loses a commit index held in memory only: it is learnt again (learnCommit, the leader).
    await second.storage.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 1, commit: 4 }, mustSync: false });
    expect((await dir.reopen(second.db, threeVoters, LEVELDB_ONLY)).storage.initialState().hardState.commit).toBe(2);
  });

  it('writes a commit index held in memory with the snapshot taken under it', async () => {
    const { db, storage } = await dir.openStorage();
    await storage.persist({ snapshot: null, entries: entries(1, 5, 1), hardState: { term: 1, vote: 1, commit: 0 } });
    await storage.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 1, commit: 4 }, mustSync: false });
    await storage.createSnapshot(3, { voters: [1] }, new Uint8Array([7]), 0);
    // Reopened, the commit index is not below the snapshot (the directory would not verify).
    const reopened = (await dir.reopen(db)).storage;
    expect(reopened.initialState().hardState.commit).toBe(4);
    expect(reopened.snapshotMetadata().index).toBe(3);
  });

  it('learnCommit raises the commit index to the applied index at startup, and refuses one past the log', async () => {
    const { db, storage } = await dir.openStorage();
    await storage.persist({ snapshot: null, entries: entries(1, 5, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    const reopened = (await dir.reopen(db)).storage;
    reopened.learnCommit(1); // below the commit index: nothing to learn
    expect(reopened.initialState().hardState).toEqual({ term: 1, vote: 1, commit: 2 });
    reopened.learnCommit(4);
    expect(reopened.initialState().hardState).toEqual({ term: 1, vote: 1, commit: 4 });
    expect(() => reopened.learnCommit(6)).toThrow(/applied index 6, past the last log index 5/);
    expect(reopened.initialState().hardState.commit).toBe(4);
  });

  it('refuses mustSync false for anything but a commit-only change', async () => {
    const { storage } = await dir.openStorage();
    await expect(storage.persist({ snapshot: null, entries: [entry(1, 1)], hardState: null, mustSync: false })).rejects.toThrow(/mustSync false with entries/);
    await expect(storage.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 0, commit: 0 }, mustSync: false })).rejects.toThrow(
      /mustSync false while term or vote changes/,
    );
  });

  it('shows a write to readers only once it is durable', async () => {
    const { storage } = await dir.openStorage();
    const persisted = storage.persist({ snapshot: null, entries: entries(1, 4, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    expect(storage.lastIndex()).toBe(0);
    expect(storage.initialState().hardState.commit).toBe(0);
    await persisted;
    expect(storage.lastIndex()).toBe(4);
    expect(storage.initialState().hardState.commit).toBe(2);
  });

  it('counts batches, entries and bytes written', async () => {
    const { storage } = await dir.openStorage();
    const before = { ...storage.stats };
    await storage.persist({ snapshot: null, entries: entries(1, 10, 1, 1000), hardState: { term: 1, vote: 1, commit: 0 } });
    expect(storage.stats.syncedBatches - before.syncedBatches).toBe(1);
    expect(storage.stats.entriesWritten - before.entriesWritten).toBe(10);
    expect(storage.stats.bytesWritten - before.bytesWritten).toBeGreaterThan(10_000);
    expect(storage.stats.bytesWritten - before.bytesWritten).toBeLessThan(10_300);
  });
});

describe('persist: writes it refuses', () => {
  it('asserts that entries follow the log without a gap, and writes nothing', async () => {
    const { db, storage } = await dir.openStorage();
    await storage.persist({ snapshot: null, entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 0 } });
    const batches = recordBatches(db);
    await expect(storage.persist({ snapshot: null, entries: [entry(5, 1)], hardState: null })).rejects.toMatchObject({
      name: 'AssertionError',
      message: expect.stringMatching(/entries start at 5, leaving a gap after last index 3/),
    });
    await expect(storage.persist({ snapshot: null, entries: [entry(4, 1), entry(6, 1)], hardState: null })).rejects.toThrow(
      /raft log entry 6: gap in the log: entry 5 is missing after entry 4/,
    );
    expect(batches).toEqual([]);
    expect(storage.lastIndex()).toBe(3);
  });

  it('asserts that terms never go down', async () => {
    const { storage } = await dir.openStorage();
    await storage.persist({ snapshot: null, entries: entries(1, 3, 2), hardState: { term: 2, vote: 1, commit: 0 } });
    await expect(storage.persist({ snapshot: null, entries: [entry(4, 1)], hardState: null })).rejects.toThrow(
      /raft log entry 4: term 1 is below the term 2 of entry 3/,
    );
  });

  it('asserts that it never writes a state open() would refuse: commit ahead of the log, hard state term below the last entry', async () => {
    const { storage } = await dir.openStorage();
    await expect(storage.persist({ snapshot: null, entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 4 } })).rejects.toThrow(
      /persist would write a state that open\(\) refuses: hard state record: commit 4 is ahead of the last log index 3/,
    );
    await expect(storage.persist({ snapshot: null, entries: entries(1, 3, 2), hardState: { term: 1, vote: 1, commit: 0 } })).rejects.toThrow(
      /hard state record: term 1 is below the term 2 of the last raft log entry 3/,
    );
    expect(storage.lastIndex()).toBe(0);
  });

  it('asserts that writes do not overlap', async () => {
    const { storage } = await dir.openStorage();
    const first = storage.persist({ snapshot: null, entries: [entry(1, 1)], hardState: { term: 1, vote: 1, commit: 0 } });
    await expect(storage.persist({ snapshot: null, entries: [entry(2, 1)], hardState: null })).rejects.toThrow(
      /persist: persist is still in flight; writes must not overlap/,
    );
    await first;
    expect(storage.lastIndex()).toBe(1);
  });

  it('fails a write LevelDB refuses with STORAGE_WRITE_FAILED, and refuses every later write, keeping the last durable view', async () => {
    const { db, storage } = await dir.openStorage(threeVoters, LEVELDB_ONLY);
    await storage.persist({ snapshot: null, entries: [entry(1, 1)], hardState: { term: 1, vote: 1, commit: 0 } });
    await dir.closeDb(db);
    const update = { snapshot: null, entries: [entry(2, 1)], hardState: null };
    await expect(storage.persist(update)).rejects.toMatchObject({ code: StorageErrorCode.WriteFailed, dataDir: dir.path });
    await expect(storage.persist(update)).rejects.toMatchObject({
      code: StorageErrorCode.WriteFailed,
      message: expect.stringMatching(/persist refused: an earlier write failed/),
    });
    await expect(storage.createSnapshot(1, { voters: [1] }, new Uint8Array(1), 0)).rejects.toMatchObject({ code: StorageErrorCode.WriteFailed });
    expect(storage.lastIndex()).toBe(1);
  });

  it('close() waits for the write in flight and refuses later writes with STORAGE_CLOSED; reads still answer', async () => {
    const { storage } = await dir.openStorage();
    const persisted = storage.persist({ snapshot: null, entries: [entry(1, 1)], hardState: { term: 1, vote: 1, commit: 0 } });
    await storage.close();
    expect(storage.lastIndex()).toBe(1);
    await persisted;
    await expect(storage.persist({ snapshot: null, entries: [entry(2, 1)], hardState: null })).rejects.toMatchObject({ code: StorageErrorCode.Closed });
    expect(storage.term(1)).toBe(1);
  });
});
