// RaftStorage with a journal (journalDir), as the masters run it: a persist is one journal record
// and no synced LevelDB batch; journaled batches reach LevelDB in groups, behind the writes; open()
// copies in what LevelDB lacks (a crash between the two), drops a torn last write, refuses a gap;
// full segments go once a synced LevelDB write covers them; a clean close leaves no segment.

import { cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeJournalSeq, MetaKey } from '../src/codec.js';
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
  it('writes no LevelDB batch for a persist; copies go in unsynced groups, with the journal-seq record', async () => {
    const { db, storage } = await open(dir);
    const batches = recordBatches(db);
    await storage.persist({ snapshot: null, entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 0 } });
    expect(batches).toEqual([]);
    expect(storage.stats).toMatchObject({ journaledBatches: 1, entriesWritten: 3 });
    // 64 records make a group; the copy is one unsynced batch behind the writes.
    for (let index = 4; index < 4 + 63; index++) await storage.persist({ snapshot: null, entries: [entry(index, 1)], hardState: null });
    expect(storage.stats.journaledBatches).toBe(64);
    await storage.close();
    // One group: 66 log records, and of the 64 last-entry writes and one hard state write only the
    // last of each, plus the journal-seq record.
    expect(batches.filter((b) => b.sync === false)).toEqual([{ operations: 66 + 1 + 1 + 1, sync: false }]);
    expect(batches[0]).toMatchObject({ sync: false });
    // close() copies what is left, synced, and deletes every segment.
    expect(batches[batches.length - 1]).toMatchObject({ sync: true });
    expect(await journalFiles(dir)).toEqual([]);
    expect(await storedIndexes(db)).toHaveLength(66);
    expect(Buffer.from((await raw(db).meta.get(MetaKey.JournalSeq)) as Uint8Array)).toEqual(Buffer.from(encodeJournalSeq(64)));
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

  it('syncs LevelDB before deleting segments whose records it already holds (its copies may be unsynced)', async () => {
    const { storage } = await open(dir);
    await storage.persist({ snapshot: null, entries: [entry(1, 1)], hardState: { term: 1, vote: 1, commit: 0 } });
    for (let i = 2; i <= 64; i++) await storage.persist({ snapshot: null, entries: [entry(i, 1)], hardState: null });
    await storage.journalCopies(); // the group of 64 is in LevelDB, unsynced
    const copy = await crashCopy();
    const db = await copy.openDb();
    const batches = recordBatches(db);
    const reopened = await RaftStorage.open(journaled(copy, db));
    opened.push(reopened);
    expect(reopened.journalRecovery).toEqual({ recordsCopied: 0, tornTail: null });
    expect(batches).toEqual([{ operations: 1, sync: true }]);
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
      message: expect.stringMatching(/journal record 1: LevelDB holds the batches through record 0, but its next record is 2: records 1 to 1 are missing$/),
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

describe('journal: segments', () => {
  it('moves to a new segment when one is full and deletes full ones once a synced copy covers them', async () => {
    const { db, storage } = await open(dir);
    const batches = recordBatches(db);
    let index = 0;
    for (let i = 0; i < 60; i++) {
      await storage.persist({ snapshot: null, entries: entries(index + 1, index + 3, 1, 200), hardState: i === 0 ? { term: 1, vote: 1, commit: 0 } : null });
      index += 3;
    }
    await storage.journalCopies();
    // ~650 bytes a record, 8 KiB segments: several rotations, each followed by a synced copy.
    expect(batches.filter((b) => b.sync === true).length).toBeGreaterThanOrEqual(3);
    // Segments only: the next one may be in preparation under a temporary name.
    const files = (await journalFiles(dir)).filter((name) => name.endsWith('.wal'));
    expect(files.length).toBeLessThanOrEqual(3); // the one written, the one prepared, perhaps one waiting for its copy
    for (const file of files) expect((await stat(join(dir.path, 'raft-journal', file))).size).toBe(SEGMENT_BYTES);
    const reopened = await reopen(dir, db, storage);
    expect(reopened.storage.lastIndex()).toBe(180);
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
      message: expect.stringMatching(/persist refused: an earlier write failed \(.*copying journaled batches through record 64 into LevelDB failed/),
    });
    await storage.close();
    expect((await journalFiles(dir)).length).toBeGreaterThan(0);
    const reopened = await open(dir);
    expect(reopened.storage.journalRecovery?.recordsCopied).toBe(65);
    expect(reopened.storage.lastIndex()).toBe(66);
  });
});
