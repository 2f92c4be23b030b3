// RaftStorage with a journal (journalDir), as the masters run it: a persist is one journal record
// and no synced LevelDB batch; the journal holds the log, and only the batches' raft-meta writes
// reach LevelDB in groups, behind the writes; a snapshot (or a close) folds the log into LevelDB
// with one synced batch, and then full segments go; open() replays what LevelDB lacks (a crash
// between the two), drops a torn last write, refuses a gap; a clean close leaves no segment.

import { cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeJournalSeq, encodeJournalSeq, MetaKey } from '../src/codec.js';
import { RaftStorage, StorageErrorCode, type RaftStorageOptions } from '../src/index.js';
import { WAL_HEADER_BYTES, walRecordBytes } from '../src/wal.js';
import type { Db } from '../src/load.js';
import { DataDir, entries, entry, raw, recordBatches, storedIndexes, threeVoters } from './support/data-dir.js';

const SEGMENT_BYTES = 8 * 1024;

let dir: DataDir;
const others: DataDir[] = [];
const opened: RaftStorage[] = [];
const holds: { release: () => void }[] = [];
beforeEach(async () => {
  dir = await DataDir.create();
});
afterEach(async () => {
  for (const hold of holds.splice(0)) hold.release();
  for (const storage of opened.splice(0)) await storage.close();
  await dir.remove();
  for (const other of others.splice(0)) await other.remove();
});

function journaled(at: DataDir, db: Db): RaftStorageOptions {
  return { db, dataDir: at.path, bootstrapConfState: threeVoters, journalDir: join(at.path, 'raft-journal'), journalSegmentBytes: SEGMENT_BYTES };
}

async function open(at: DataDir): Promise<{ db: Db; storage: RaftStorage }> {
  const db = await at.openDb();
  const storage = await RaftStorage.open(journaled(at, db));
  opened.push(storage);
  return { db, storage };
}

/** Closes the storage and its database and opens the directory again, as a restarted master. */
async function reopen(at: DataDir, db: Db, storage: RaftStorage): Promise<{ db: Db; storage: RaftStorage }> {
  await storage.close();
  await at.closeDb(db);
  return open(at);
}

/**
 * Makes LevelDB hold every unsynced batch (the journal copies), or with `synced` every batch,
 * until released: a crash before the copies.
 */
function holdCopies(db: Db, options: { synced?: boolean } = {}): { held: number; release: () => void } {
  const native = db as unknown as { _batch: (operations: unknown[], options?: { sync?: unknown }) => Promise<void> };
  const batch = native._batch.bind(db);
  const options_ = options;
  const waiting: (() => void)[] = [];
  let released = false;
  const state = {
    held: 0,
    /** Lets the held batches go, and every later one through. */
    release: () => {
      released = true;
      for (const go of waiting.splice(0)) go();
    },
  };
  Object.defineProperty(db, '_batch', {
    configurable: true,
    value: (operations: unknown[], options?: { sync?: unknown }) => {
      if (released || (options?.sync === true && options_.synced !== true)) return batch(operations, options);
      state.held++;
      return new Promise<void>((resolve, reject) => waiting.push(() => batch(operations, options).then(resolve, reject)));
    },
  });
  holds.push(state);
  return state;
}

/** A copy of the directory as it is on disk now, as a crash would leave it (the process's writes are all in the page cache). */
async function crashCopy(): Promise<DataDir> {
  const copy = await DataDir.create();
  others.push(copy);
  await cp(dir.path, copy.path, { recursive: true, filter: (source) => !source.endsWith('LOCK') });
  return copy;
}

async function journalFiles(at: DataDir): Promise<string[]> {
  return (await readdir(join(at.path, 'raft-journal'))).sort();
}

describe('journal: a persist is one journal record', () => {
  it('writes no LevelDB batch for a persist; raft-meta copies go in unsynced groups, with the journal-seq record; the log only at close', async () => {
    const { db, storage } = await open(dir);
    const batches = recordBatches(db);
    await storage.persist({ snapshot: null, entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 0 } });
    expect(batches).toEqual([]);
    expect(storage.stats).toMatchObject({ journaledBatches: 1, entriesWritten: 3 });
    // 64 records make a group; the copy is one unsynced batch behind the writes.
    for (let index = 4; index < 4 + 63; index++) await storage.persist({ snapshot: null, entries: [entry(index, 1)], hardState: null });
    expect(storage.stats.journaledBatches).toBe(64);
    await storage.close();
    // One group: of the 64 last-entry writes and one hard state write only the last of each, plus
    // the journal-seq record. No log record: the journal holds the log.
    expect(batches.filter((b) => b.sync === false)).toEqual([{ operations: 1 + 1 + 1, sync: false }]);
    expect(batches[0]).toMatchObject({ sync: false });
    // close() writes the log (66 entries) and the journal-log-seq record, synced, and deletes every segment.
    expect(batches.slice(1)).toEqual([{ operations: 66 + 1, sync: true }]);
    expect(await journalFiles(dir)).toEqual([]);
    expect(await storedIndexes(db)).toHaveLength(66);
    expect(decodeJournalSeq((await raw(db).meta.get(MetaKey.JournalSeq)) as Uint8Array)).toBe(64);
    expect(decodeJournalSeq((await raw(db).meta.get(MetaKey.JournalLogSeq)) as Uint8Array, MetaKey.JournalLogSeq)).toBe(64);
  });

  it('shows a persist to readers once its journal record is written', async () => {
    const { storage } = await open(dir);
    const persisted = storage.persist({ snapshot: null, entries: entries(1, 2, 1), hardState: { term: 1, vote: 1, commit: 1 } });
    expect(storage.lastIndex()).toBe(0);
    await persisted;
    expect([storage.lastIndex(), storage.initialState().hardState.commit]).toEqual([2, 1]);
  });
});

describe('journal: a crash before the copies', () => {
  it('open() copies into LevelDB the records it lacks, in order, truncations included', async () => {
    const { db, storage } = await open(dir);
    const hold = holdCopies(db);
    await storage.persist({ snapshot: null, entries: entries(1, 10, 1), hardState: { term: 1, vote: 1, commit: 4 } });
    // A conflicting append from a newer leader replaces 6..10 with 6..7.
    await storage.persist({ snapshot: null, entries: entries(6, 7, 2), hardState: { term: 2, vote: 2, commit: 5 } });
    for (let i = 0; i < 70; i++) await storage.persist({ snapshot: null, entries: [entry(8 + i, 2)], hardState: null });
    expect(hold.held).toBeGreaterThan(0); // a group was due, and never reached LevelDB
    const copy = await crashCopy();
    const before = await copy.openDb();
    expect(await storedIndexes(before)).toEqual([]);
    await copy.closeDb(before);
    const reopened = await open(copy);
    expect(reopened.storage.journalRecovery).toEqual({ recordsCopied: 72, tornTail: null });
    expect(reopened.storage.lastIndex()).toBe(77);
    expect(reopened.storage.term(5)).toBe(1);
    expect(reopened.storage.term(6)).toBe(2);
    expect(reopened.storage.initialState().hardState).toEqual({ term: 2, vote: 2, commit: 5 });
    expect(await storedIndexes(reopened.db)).toEqual(Array.from({ length: 77 }, (_, i) => i + 1));
    // The copies are synced and the segments deleted: the next open copies nothing.
    const again = await reopen(copy, reopened.db, reopened.storage);
    expect(again.storage.journalRecovery).toEqual({ recordsCopied: 0, tornTail: null });
    expect(again.storage.lastIndex()).toBe(77);
  });

  it('replays the log that only the journal holds, and syncs LevelDB before deleting segments (its copies may be unsynced)', async () => {
    const { storage } = await open(dir);
    await storage.persist({ snapshot: null, entries: [entry(1, 1)], hardState: { term: 1, vote: 1, commit: 0 } });
    for (let i = 2; i <= 64; i++) await storage.persist({ snapshot: null, entries: [entry(i, 1)], hardState: null });
    await storage.journalCopies(); // the group of 64 is in LevelDB, unsynced
    const copy = await crashCopy();
    const db = await copy.openDb();
    const batches = recordBatches(db);
    const reopened = await RaftStorage.open(journaled(copy, db));
    opened.push(reopened);
    // The raft-meta writes of all 64 are in LevelDB already; their log writes are not.
    expect(reopened.journalRecovery).toEqual({ recordsCopied: 64, tornTail: null });
    expect(batches).toEqual([{ operations: 64 + 2, sync: true }]);
    expect((await journalFiles(copy)).filter((name) => name.endsWith('.wal')).length).toBeLessThanOrEqual(1); // only the one prepared since
    expect(reopened.lastIndex()).toBe(64);
  });

  it('drops a torn last write (never acknowledged) and keeps every record before it', async () => {
    const { db, storage } = await open(dir);
    holdCopies(db);
    await storage.persist({ snapshot: null, entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    await storage.persist({ snapshot: null, entries: entries(4, 6, 1, 300), hardState: null });
    const copy = await crashCopy();
    // Tear the second record: zero its last 200 bytes, as a crash in the middle of its write leaves it.
    const [segment] = await journalFiles(copy);
    const path = join(copy.path, 'raft-journal', segment as string);
    const bytes = await readFile(path);
    const second = walRecordBytes(bytes.readUInt32LE(0));
    const secondEnd = second + WAL_HEADER_BYTES + bytes.readUInt32LE(second);
    bytes.fill(0, secondEnd - 200, secondEnd);
    await writeFile(path, bytes);
    const reopened = await open(copy);
    expect(reopened.storage.journalRecovery).toEqual({ recordsCopied: 1, tornTail: { segment, offset: second } });
    expect(reopened.storage.lastIndex()).toBe(3);
    expect(reopened.storage.initialState().hardState.commit).toBe(2);
  });

  it('refuses a journal that starts after the records LevelDB holds: a gap', async () => {
    const { db, storage } = await open(dir);
    holdCopies(db);
    await storage.persist({ snapshot: null, entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    await storage.persist({ snapshot: null, entries: entries(4, 5, 1), hardState: null });
    const copy = await crashCopy();
    // LevelDB claims nothing copied, yet the journal's first record is 2: record 1 is missing.
    const [segment] = await journalFiles(copy);
    const path = join(copy.path, 'raft-journal', segment as string);
    const bytes = await readFile(path);
    const second = walRecordBytes(bytes.readUInt32LE(0));
    const shifted = Buffer.alloc(bytes.byteLength);
    bytes.copy(shifted, 0, second);
    await writeFile(path, shifted);
    const copyDb = await copy.openDb();
    await expect(RaftStorage.open(journaled(copy, copyDb))).rejects.toMatchObject({
      code: StorageErrorCode.Corrupt,
      message: expect.stringMatching(/journal record 1: LevelDB holds the log as of record 0, but its next record is 2: records 1 to 1 are missing$/),
    });
  });

  it('refuses a gap among the records LevelDB lacks, between segments', async () => {
    const { db, storage } = await open(dir);
    holdCopies(db, { synced: true }); // no segment is deleted either
    // ~650 bytes a record, 8 KiB segments: records 1..12 in the first, 13.. in the second.
    let index = 0;
    for (let i = 0; i < 20; i++) {
      await storage.persist({ snapshot: null, entries: entries(index + 1, index + 3, 1, 200), hardState: i === 0 ? { term: 1, vote: 1, commit: 0 } : null });
      index += 3;
    }
    const copy = await crashCopy();
    const files = (await journalFiles(copy)).filter((name) => name.endsWith('.wal'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    // Drop the second segment's first record: the journal jumps from the first segment's last record.
    const path = join(copy.path, 'raft-journal', files[1] as string);
    const bytes = await readFile(path);
    const firstBytes = walRecordBytes(bytes.readUInt32LE(0));
    const missingSeq = bytes.readDoubleLE(8);
    const shifted = Buffer.alloc(bytes.byteLength);
    bytes.copy(shifted, 0, firstBytes);
    await writeFile(path, shifted);
    const copyDb = await copy.openDb();
    await expect(RaftStorage.open(journaled(copy, copyDb))).rejects.toMatchObject({
      code: StorageErrorCode.Corrupt,
      message: expect.stringMatching(new RegExp(`journal record ${missingSeq}: the journal holds record ${missingSeq - 1}, but its next record is ${missingSeq + 1}: records ${missingSeq} to ${missingSeq} are missing$`)),
    });
  });

  it('refuses a damaged record that is not the last write', async () => {
    const { db, storage } = await open(dir);
    holdCopies(db);
    await storage.persist({ snapshot: null, entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    await storage.persist({ snapshot: null, entries: entries(4, 5, 1), hardState: null });
    const copy = await crashCopy();
    const [segment] = await journalFiles(copy);
    const path = join(copy.path, 'raft-journal', segment as string);
    const bytes = await readFile(path);
    bytes[WAL_HEADER_BYTES + 3] = (bytes[WAL_HEADER_BYTES + 3] as number) ^ 0x10; // inside the first record
    await writeFile(path, bytes);
    const copyDb = await copy.openDb();
    await expect(RaftStorage.open(journaled(copy, copyDb))).rejects.toMatchObject({
      code: StorageErrorCode.Corrupt,
      message: expect.stringMatching(/checksum mismatch in the record at byte 0 .* not zero: damage, not a torn last write$/),
    });
  });
});

describe('journal: the log folded into LevelDB, then a crash', () => {
  const terms = (storage: RaftStorage) => storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER).map((e) => [e.index, e.term]);

  it('open() replays the records after a snapshot over the log it folded in, truncations below its end included', async () => {
    const { db, storage } = await open(dir);
    await storage.persist({ snapshot: null, entries: entries(1, 10, 1), hardState: { term: 1, vote: 1, commit: 6 } });
    await storage.createSnapshot(5, threeVoters, new Uint8Array(1), 2); // LevelDB: entries 4..10 and journal-log-seq 1
    expect(await storedIndexes(db)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    // A newer leader replaces 8..10 with its own 8: the journal holds this, LevelDB still 8..10 of term 1.
    await storage.persist({ snapshot: null, entries: [entry(8, 2)], hardState: { term: 2, vote: 2, commit: 7 } });
    await storage.persist({ snapshot: null, entries: [entry(9, 2)], hardState: null });
    await storage.journalCopies();
    const copy = await crashCopy();
    const reopened = await open(copy);
    expect(reopened.storage.journalRecovery?.recordsCopied).toBe(2);
    expect(terms(reopened.storage)).toEqual([[4, 1], [5, 1], [6, 1], [7, 1], [8, 2], [9, 2]]);
    expect(reopened.storage.initialState().hardState).toEqual({ term: 2, vote: 2, commit: 7 });
    expect(await storedIndexes(reopened.db)).toEqual([4, 5, 6, 7, 8, 9]);
    // The original closes cleanly: its fold deletes what LevelDB held past the log's end (10).
    const again = await reopen(dir, db, storage);
    expect(terms(again.storage)).toEqual([[4, 1], [5, 1], [6, 1], [7, 1], [8, 2], [9, 2]]);
    expect(await storedIndexes(again.db)).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it('open() never brings back entries that an installed snapshot replaced, from records before it', async () => {
    const { storage } = await open(dir);
    await storage.persist({ snapshot: null, entries: entries(1, 10, 1), hardState: { term: 1, vote: 1, commit: 3 } });
    // The leader of term 2 sends a snapshot at 5 whose term differs from the entry there: the whole log goes.
    await storage.persist({ snapshot: { metadata: { index: 5, term: 2, confState: threeVoters }, data: new Uint8Array([5]) }, entries: [], hardState: { term: 2, vote: 0, commit: 5 } });
    await storage.persist({ snapshot: null, entries: entries(6, 7, 2), hardState: null });
    await storage.journalCopies();
    const copy = await crashCopy();
    const reopened = await open(copy);
    expect(reopened.storage.snapshotMetadata()).toEqual({ index: 5, term: 2, confState: threeVoters });
    expect(terms(reopened.storage)).toEqual([[6, 2], [7, 2]]);
    expect(await storedIndexes(reopened.db)).toEqual([6, 7]);
  });

  it('opens a directory written before the log stayed in the journal (no journal-log-seq record: LevelDB held the log through journal-seq)', async () => {
    const { db, storage } = await open(dir);
    await storage.persist({ snapshot: null, entries: entries(1, 4, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    await storage.close();
    await raw(db).meta.del(MetaKey.JournalLogSeq);
    await dir.closeDb(db);
    const reopened = await open(dir);
    expect(terms(reopened.storage)).toEqual([[1, 1], [2, 1], [3, 1], [4, 1]]);
    // Recorded before any journaled write, as journal-seq's: 1.
    expect(decodeJournalSeq((await raw(reopened.db).meta.get(MetaKey.JournalLogSeq)) as Uint8Array, MetaKey.JournalLogSeq)).toBe(1);
  });

  it('refuses a journal-log-seq record past the journal-seq record: LevelDB writes its batches in order', async () => {
    const { db, storage } = await open(dir);
    await storage.persist({ snapshot: null, entries: entries(1, 4, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    await storage.close();
    await raw(db).meta.put(MetaKey.JournalLogSeq, encodeJournalSeq(2, MetaKey.JournalLogSeq));
    await dir.closeDb(db);
    const again = await dir.openDb();
    await expect(RaftStorage.open(journaled(dir, again))).rejects.toMatchObject({
      code: StorageErrorCode.Corrupt,
      message: expect.stringMatching(/journal-log-seq record: LevelDB's log is as of journal record 2, past its raft-meta writes \(through record 1\)$/),
    });
    await dir.closeDb(again);
  });
});

describe('journal: segments', () => {
  it('moves to a new segment when one is full, keeps full ones while they hold the log, and deletes them once a snapshot folds it into LevelDB', async () => {
    const { db, storage } = await open(dir);
    const batches = recordBatches(db);
    let index = 0;
    for (let i = 0; i < 60; i++) {
      await storage.persist({ snapshot: null, entries: entries(index + 1, index + 3, 1, 200), hardState: { term: 1, vote: 1, commit: i === 59 ? 180 : 0 } });
      index += 3;
    }
    await storage.journalCopies();
    // ~650 bytes a record, 8 KiB segments: several rotations, and no synced LevelDB write.
    expect(batches.filter((b) => b.sync === true)).toEqual([]);
    const walFiles = async () => (await journalFiles(dir)).filter((name) => name.endsWith('.wal'));
    expect((await walFiles()).length).toBeGreaterThanOrEqual(4);
    // A snapshot at 170 keeping 5 entries: the log is 166..180, folded into its synced batch.
    await storage.createSnapshot(170, threeVoters, new Uint8Array(1), 5);
    await storage.logCleared();
    expect(batches.filter((b) => b.sync === true)).toHaveLength(1);
    expect(await storedIndexes(db)).toEqual(entries(166, 180, 1).map((e) => e.index));
    // Segments only: the next one may be in preparation under a temporary name.
    const files = await walFiles();
    expect(files.length).toBeLessThanOrEqual(2); // the one written and the one prepared
    for (const file of files) expect((await stat(join(dir.path, 'raft-journal', file))).size).toBe(SEGMENT_BYTES);
    await storage.persist({ snapshot: null, entries: entries(181, 182, 1, 200), hardState: null });
    const reopened = await reopen(dir, db, storage);
    expect([reopened.storage.firstIndex(), reopened.storage.lastIndex()]).toEqual([166, 182]);
    expect(reopened.storage.entries(166, 183, Number.MAX_SAFE_INTEGER).map((e) => e.index)).toEqual(entries(166, 182, 1).map((e) => e.index));
  });

  it('writes a batch larger than a segment as one synced LevelDB batch, after the copies queued before it', async () => {
    const { db, storage } = await open(dir);
    await storage.persist({ snapshot: null, entries: entries(1, 2, 1), hardState: { term: 1, vote: 1, commit: 0 } });
    const batches = recordBatches(db);
    await storage.persist({ snapshot: null, entries: entries(3, 4, 1, SEGMENT_BYTES), hardState: null });
    expect(batches.map((b) => b.sync)).toEqual([false, true]);
    expect(storage.stats.journaledBatches).toBe(1);
    expect(await storedIndexes(db)).toEqual([1, 2, 3, 4]);
  });
});

describe('journal: failures', () => {
  it('a copy LevelDB refuses fails every later write; the journal keeps the records for the next open', async () => {
    const { db, storage } = await open(dir);
    await storage.persist({ snapshot: null, entries: entries(1, 2, 1), hardState: { term: 1, vote: 1, commit: 1 } });
    await dir.closeDb(db);
    // Durable in the journal, so acknowledged; the copies behind it fail.
    for (let i = 3; i < 3 + 64; i++) await storage.persist({ snapshot: null, entries: [entry(i, 1)], hardState: null });
    await storage.journalCopies();
    await expect(storage.createSnapshot(1, threeVoters, new Uint8Array(1), 0)).rejects.toMatchObject({ code: StorageErrorCode.WriteFailed });
    await expect(storage.persist({ snapshot: null, entries: [entry(67, 1)], hardState: null })).rejects.toMatchObject({
      code: StorageErrorCode.WriteFailed,
      message: expect.stringMatching(/persist refused: an earlier write failed \(.*copying the raft-meta writes of journal records through 64 into LevelDB failed/),
    });
    await storage.close();
    expect((await journalFiles(dir)).length).toBeGreaterThan(0);
    const reopened = await open(dir);
    expect(reopened.storage.journalRecovery?.recordsCopied).toBe(65);
    expect(reopened.storage.lastIndex()).toBe(66);
  });
});
