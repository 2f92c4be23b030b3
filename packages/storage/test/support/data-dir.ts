// A fresh data directory per test: real LevelDB in a temporary directory that is closed and
// removed afterwards, the raw sublevel handles tests corrupt records through, and small builders.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { EntryType, type ConfState, type Entry } from '@raftplane/raft';
import { RaftStorage, type RaftStorageOptions } from '../../src/index.js';
import { logSublevel, metaSublevel, type Db } from '../../src/load.js';

export { bytesOf } from './bytes.js';

export const threeVoters: ConfState = { voters: [1, 2, 3] };

/**
 * The storage suite runs twice (vitest projects 'unit' and 'unit-journal'): without a journal, and
 * with one (RAFTPLANE_STORAGE_JOURNAL=1) in small segments, so that rotation happens often.
 */
export const JOURNALED = process.env['RAFTPLANE_STORAGE_JOURNAL'] === '1';
export const TEST_JOURNAL_SEGMENT_BYTES = 64 * 1024;
/** openStorage()'s `journal` argument for a test of the LevelDB-only mode's batches, whichever mode the suite runs in. */
export const LEVELDB_ONLY = false;

/** A normal entry at (`index`, `term`) whose data is `e<index>.<term>`, or `bytes` bytes when given. */
export function entry(index: number, term: number, bytes?: number): Entry {
  const data = bytes === undefined ? new TextEncoder().encode(`e${index}.${term}`) : new Uint8Array(bytes).fill(index & 0xff);
  return { index, term, type: EntryType.Normal, data };
}

/** Entries `first`..`last`, all of `term`. */
export function entries(first: number, last: number, term: number, bytes?: number): Entry[] {
  const result: Entry[] = [];
  for (let index = first; index <= last; index++) result.push(entry(index, term, bytes));
  return result;
}

export class DataDir {
  readonly path: string;
  private readonly open: Db[] = [];
  /** Storages opened through openStorage(), by database: reopen() and remove() close them, as a stopping master does. */
  private readonly storages = new Map<Db, RaftStorage>();

  private constructor(path: string) {
    this.path = path;
  }

  static async create(): Promise<DataDir> {
    return new DataDir(await mkdtemp(join(tmpdir(), 'raftplane-storage-')));
  }

  /** Opens the directory's LevelDB, with a value encoding of its own (json) as the master's would have. */
  async openDb(): Promise<Db> {
    const db = new Level<string, any>(this.path, { valueEncoding: 'json' });
    await db.open();
    this.open.push(db);
    return db;
  }

  async closeDb(db: Db): Promise<void> {
    await db.close();
    this.open.splice(this.open.indexOf(db), 1);
  }

  /** The storage options for this directory: a journal inside it when the suite runs JOURNALED (or `journal` says so). */
  storageOptions(db: Db, bootstrapConfState: ConfState = threeVoters, journal = JOURNALED): RaftStorageOptions {
    if (!journal) return { db, dataDir: this.path, bootstrapConfState };
    return { db, dataDir: this.path, bootstrapConfState, journalDir: this.journalPath, journalSegmentBytes: TEST_JOURNAL_SEGMENT_BYTES };
  }

  get journalPath(): string {
    return join(this.path, 'raft-journal');
  }

  /**
   * A new database handle and RaftStorage over the directory; `journal` overrides the suite's
   * mode for tests of one mode's own behaviour (which LevelDB batches a write makes).
   */
  async openStorage(bootstrapConfState: ConfState = threeVoters, journal = JOURNALED): Promise<{ db: Db; storage: RaftStorage }> {
    const db = await this.openDb();
    const storage = await RaftStorage.open(this.storageOptions(db, bootstrapConfState, journal));
    this.storages.set(db, storage);
    return { db, storage };
  }

  /** Closes the storage over `db` and `db`, and opens the directory afresh, as a restarted master would. */
  async reopen(db: Db, bootstrapConfState: ConfState = threeVoters, journal = JOURNALED): Promise<{ db: Db; storage: RaftStorage }> {
    await this.closeStorage(db);
    await this.closeDb(db);
    return this.openStorage(bootstrapConfState, journal);
  }

  /** Closes the storage openStorage() opened over `db`, if any (its database stays open). */
  async closeStorage(db: Db): Promise<void> {
    const storage = this.storages.get(db);
    this.storages.delete(db);
    await storage?.close();
  }

  /** What open() of the directory rejects with (closing the handle it opened). */
  async openError(): Promise<unknown> {
    const db = await this.openDb();
    try {
      await RaftStorage.open(this.storageOptions(db));
    } catch (error) {
      return error;
    } finally {
      await this.closeDb(db);
    }
    throw new Error(`open() of ${this.path} succeeded`);
  }

  async remove(): Promise<void> {
    for (const db of [...this.storages.keys()]) await this.closeStorage(db);
    for (const db of this.open.splice(0)) await db.close();
    await rm(this.path, { recursive: true, force: true });
  }
}

/** The raw raft-log and raft-meta sublevels of `db`, for reading and corrupting records. */
export function raw(db: Db) {
  return { log: logSublevel(db), meta: metaSublevel(db) };
}

/** Every key in raft-log, as indexes. */
export async function storedIndexes(db: Db): Promise<number[]> {
  const keys = await raw(db).log.keys().all();
  return keys.map((key) => Number(Buffer.from(key).readBigUInt64BE(0)));
}

export interface BatchCall {
  readonly operations: number;
  readonly sync: unknown;
}

/**
 * Records every batch written to `db` from now on: how many operations, and the `sync` option.
 * It watches classic-level's _batch(), which both db.batch() and the storage's writeBatch() end in.
 */
export function recordBatches(db: Db): BatchCall[] {
  const calls: BatchCall[] = [];
  const native = db as unknown as { _batch: (operations: unknown[], options?: { sync?: unknown }) => Promise<void> };
  const batch = native._batch.bind(db);
  Object.defineProperty(db, '_batch', {
    configurable: true,
    value: (operations: unknown[], options?: { sync?: unknown }) => {
      calls.push({ operations: operations.length, sync: options?.sync });
      return batch(operations, options);
    },
  });
  return calls;
}
