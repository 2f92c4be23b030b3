// Raft's durable state in LevelDB behind the core's synchronous Storage interface: every write
// is one batch made durable with one sync (group commit, DESIGN rule 2), and every read is served
// from an in-memory mirror that changes only once a batch is durable.
//
// With a journal (`journalDir`, as the masters run), a Ready's batch is made durable by one
// record in the journal (wal.ts: preallocated segments, O_DSYNC, written on this thread), and the
// journal holds the log from then on. Only the batch's raft-meta writes (hard state, last entry)
// are copied into LevelDB, unsynced, in groups, behind the writes; LevelDB's `journal-seq` record
// says how far those copies got. Log entries reach LevelDB only with the synced writes that need
// them there (a snapshot, a snapshot installed, a batch too large for a segment, a close): each
// such write folds in the whole log (what the mirror holds above the new compacted index), and
// its `journal-log-seq` record says which journal record the log in LevelDB is as of. A journal
// segment is deleted only once a synced write covers every record in it that way; open() first
// replays into LevelDB the log writes past `journal-log-seq` and the raft-meta writes past
// `journal-seq`, so LevelDB alone holds the whole durable state when loadDurableState() reads it.
// Why: copying every entry into LevelDB cost each master a LevelDB write and its compactions per
// entry, for entries deleted again a snapshot later (64 clients' puts: 11% more without).
//
// Memory: the mirror holds every entry from firstIndex() to lastIndex() and the snapshot's data,
// so it is bounded by compaction: call createSnapshot() regularly (every N applied entries);
// each call drops from memory and disk the entries up to its index minus `keepEntries`.

import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import {
  EMPTY_BYTES,
  EMPTY_HARD_STATE,
  MemoryStorage,
  RaftError,
  RaftErrorCode,
  hardStateEqual,
  type ConfState,
  type Entry,
  type HardState,
  type InitialState,
  type Snapshot,
  type SnapshotMetadata,
  type Storage,
} from '@raftplane/raft';
import {
  MetaKey,
  RecordProblem,
  SNAPSHOT_DATA_BYTES_MAX,
  confStateProblem,
  decodeJournalSeq,
  encodeJournalSeq,
  encodePosition,
  encodeEntry,
  encodeHardState,
  encodeSnapshotRecord,
  logKey,
  snapshotChunkKey,
  snapshotChunks,
  type JournalSeqKey,
  type LogPosition,
  type PositionKey,
} from './codec.js';
import { writeBatch, type BatchWrite } from './batch-writer.js';
import { decodeWalBatch, encodeWalBatch, type WalBatchSublevels } from './wal-batch.js';
import { WAL_SEGMENT_BYTES_DEFAULT, Wal, type WalRecovery } from './wal.js';
import { StorageError, StorageErrorCode } from './errors.js';
import { loadDurableState, logSublevel, metaSublevel, type Db, type DurableState, type LogSublevel, type MetaSublevel } from './load.js';
import { boundsProblem, describeProblem, entryProblem, logEntryRecord, type DurableBounds } from './verify.js';

export interface RaftStorageOptions {
  /**
   * The master's LevelDB, opened (or opening) by the caller, who also closes it; its own
   * encodings do not matter. The storage uses only the sublevels 'raft-log' and 'raft-meta'.
   */
  readonly db: Db;
  /** Named in every error, so that an operator knows which directory is broken. */
  readonly dataDir: string;
  /** The voter set for a data directory that holds no Raft state yet (bootstrap); ignored otherwise. */
  readonly bootstrapConfState: ConfState;
  /**
   * The directory of the journal that makes each persist() durable (see the top of this file);
   * absent, every batch is a synced LevelDB batch. A directory whose batches were journaled must
   * be opened with its journal, or the log and the raft-meta writes LevelDB lacks are missing.
   */
  readonly journalDir?: string;
  /** Bytes per journal segment (default WAL_SEGMENT_BYTES_DEFAULT, 16 MiB). */
  readonly journalSegmentBytes?: number;
}

/** What open() found in the journal: records replayed into LevelDB, and a torn last write dropped. */
export interface JournalRecovery {
  /** Records whose writes LevelDB lacked, in part (the log) or whole. */
  readonly recordsCopied: number;
  readonly tornTail: WalRecovery['tornTail'];
}

/** What one Ready asks to persist; a `Ready` itself fits this shape. */
export interface PersistUpdate {
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
  readonly hardState: HardState | null;
  /**
   * Ready.mustSync. Absent or true: the batch is written with `sync: true`. False is allowed only
   * for a change of the commit index alone, which is not written at all: the storage holds it in
   * memory and the next synced batch (or snapshot) writes it. The commit index is volatile state
   * in Raft (Figure 2 of the paper): after a crash it is learnt again, from the state machine's
   * applied index at open (learnCommit) and from the leader.
   */
  readonly mustSync?: boolean;
}

export interface StorageStats {
  /** Batches written with `sync: true`: one fsync each. */
  readonly syncedBatches: number;
  /** Commit-only updates (mustSync false): held in memory, written with the next synced batch. */
  readonly commitOnlyUpdates: number;
  readonly entriesWritten: number;
  /** Bytes of keys and values handed to LevelDB. */
  readonly bytesWritten: number;
  /** Of syncedBatches, those made durable by a journal record (their raft-meta writes copied into LevelDB later, the log at the next fold). */
  readonly journaledBatches: number;
}

type Op = BatchWrite;

const OPTION_NAMES: ReadonlySet<string> = new Set(['db', 'dataDir', 'bootstrapConfState', 'journalDir', 'journalSegmentBytes']);
/** Journaled raft-meta writes are copied into LevelDB in groups of at most this many records or bytes. */
const COPY_GROUP_RECORDS = 64;
const COPY_GROUP_BYTES = 1024 * 1024;
const ZERO_POSITION: LogPosition = Object.freeze({ index: 0, term: 0 });

/**
 * The log a synced LevelDB write leaves, for the fold of a journaled log into it: the entries the
 * mirror holds from `keepFrom` through `last` stay (unless the write's own operations replace
 * them), and nothing is above `last`.
 */
interface LogAfterWrite {
  readonly keepFrom: number;
  readonly last: number;
}

export class RaftStorage implements Storage {
  private readonly db: Db;
  private readonly dataDir: string;
  private readonly log: LogSublevel;
  private readonly meta: MetaSublevel;
  /** The mirror of what is durable; changed only after the batch that made it durable resolves. */
  private readonly memory: MemoryStorage;
  /** Mirrors the 'compacted' record. Invariant: compacted.index === firstIndex() - 1 <= snapshot index. */
  private compacted: LogPosition;
  /** Chunks the stored snapshot's data occupies, so that a smaller successor deletes the rest. */
  private snapshotChunkCount: number;
  /**
   * The snapshot held says its data is the state machine's own store, and none has been handed
   * over (adoptSnapshotData): snapshot() answers SnapshotTemporarilyUnavailable until then.
   */
  private snapshotDataMissing: boolean;
  /** snapshot() was asked (Raft has a follower to send it to) while the data was missing. */
  private snapshotDataAsked = false;
  /** Log records below the compacted index being deleted behind the writes (see createSnapshot). */
  private logClearing: Promise<void> = Promise.resolve();
  /** Settles once the write in flight (if any) is done, mirror included. Writes never overlap: each plans from the durable state. */
  private writing: Promise<void> | null = null;
  private writingWhat = '';
  /** Set by the first failed write; every later write is refused, since what reached the disk is unknown. */
  private failure: StorageError | null = null;
  private closed = false;
  private readonly counters = { syncedBatches: 0, commitOnlyUpdates: 0, entriesWritten: 0, bytesWritten: 0, journaledBatches: 0 };
  /** The journal, if any, and its last record's sequence number. */
  private journal: Wal | null = null;
  private journalSeq = 0;
  /** What open() found in the journal (null without one). */
  journalRecovery: JournalRecovery | null = null;
  /** Journaled raft-meta writes not handed to LevelDB yet: those of the last pendingRecords records, through journalSeq. */
  private pending: Op[] = [];
  private pendingRecords = 0;
  private pendingBytes = 0;
  /** Settles once every group of journaled raft-meta writes queued so far is in LevelDB (failures set `failure`). */
  private copying: Promise<void> = Promise.resolve();
  /** The last journal record whose raft-meta writes LevelDB holds (unsynced, perhaps). */
  private copiedSeq = 0;
  /** The journal record the log in LevelDB is as of (its `journal-log-seq` record, synced): segments through it may go. */
  private logSeq = 0;
  /** The highest log index LevelDB may hold a record for (from open or the last fold): a fold deletes those above the log's end. */
  private levelLogLast = 0;
  /** The hard state as on disk; the mirror's may be ahead by its commit index alone (see PersistUpdate.mustSync). */
  private writtenHardState: HardState;

  private constructor(db: Db, dataDir: string, log: LogSublevel, meta: MetaSublevel, state: DurableState) {
    this.db = db;
    this.dataDir = dataDir;
    this.log = log;
    this.meta = meta;
    this.memory = mirror(state);
    this.compacted = state.compacted;
    this.snapshotChunkCount = state.snapshotChunkCount;
    this.snapshotDataMissing = state.snapshotDataInStateMachine;
    this.writtenHardState = state.hardState;
    assert.equal(this.memory.firstIndex(), state.compacted.index + 1, 'open: first index does not follow the compacted record');
    assert.equal(this.memory.lastIndex(), state.compacted.index + state.entries.length, 'open: last index does not match the entries read');
    assert.equal(this.memory.snapshot().metadata.term, state.snapshot.metadata.term, 'open: snapshot term does not match the log');
  }

  /**
   * Opens the Raft state in `options.db`, reading and verifying every record; rejects with
   * STORAGE_CORRUPT (naming the directory, the record and what is wrong) rather than serve a
   * damaged log. A directory with no Raft records is bootstrapped: an empty snapshot at index 0
   * holding `bootstrapConfState`, written in one synced batch before open() resolves.
   */
  static async open(options: RaftStorageOptions): Promise<RaftStorage> {
    validateOptions(options);
    const { db, dataDir, bootstrapConfState } = options;
    const log = logSublevel(db);
    const meta = metaSublevel(db);
    const journaled = options.journalDir === undefined ? null : await openJournal(db, log, meta, dataDir, options.journalDir, options.journalSegmentBytes ?? WAL_SEGMENT_BYTES_DEFAULT);
    try {
      const storage = await RaftStorage.load(db, dataDir, log, meta, bootstrapConfState);
      if (journaled !== null && !journaled.logSeqRecorded) {
        // Before the first journaled write: from now on, LevelDB's log stays as of this record
        // while the journal holds the rest (absent, open() would take the journal-seq record's).
        const record = { type: 'put' as const, sublevel: meta, key: MetaKey.JournalLogSeq, value: encodeJournalSeq(journaled.lastSeq, MetaKey.JournalLogSeq) };
        await writeBatch(db, [record], true);
      }
      if (journaled !== null) {
        storage.journal = journaled.wal;
        storage.journalSeq = journaled.lastSeq;
        storage.copiedSeq = journaled.lastSeq;
        storage.logSeq = journaled.lastSeq;
        storage.journalRecovery = journaled.recovery;
      }
      storage.levelLogLast = storage.memory.lastIndex();
      return storage;
    } catch (error) {
      await journaled?.wal.close();
      throw error;
    }
  }

  private static async load(db: Db, dataDir: string, log: LogSublevel, meta: MetaSublevel, bootstrapConfState: ConfState): Promise<RaftStorage> {
    const loaded = await loadDurableState(log, meta, dataDir);
    if (loaded !== null) {
      const storage = new RaftStorage(db, dataDir, log, meta, loaded);
      // Finish a compaction that a crash interrupted after its batch: those records are unreachable.
      if (loaded.leftoverBelowCompacted > 0) await storage.clearLogThrough(loaded.compacted.index, 'open');
      return storage;
    }
    const storage = new RaftStorage(db, dataDir, log, meta, {
      hardState: EMPTY_HARD_STATE,
      compacted: ZERO_POSITION,
      snapshot: { metadata: { index: 0, term: 0, confState: bootstrapConfState }, data: EMPTY_BYTES },
      snapshotChunkCount: 0,
      snapshotDataInStateMachine: false,
      entries: [],
      leftoverBelowCompacted: 0,
    });
    await storage.writeBootstrap();
    return storage;
  }

  // ---- Storage: the core's synchronous reads, all from memory ----

  initialState(): InitialState {
    return this.memory.initialState();
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    return this.memory.entries(lo, hi, bytesMax);
  }

  term(index: number): number {
    return this.memory.term(index);
  }

  firstIndex(): number {
    return this.memory.firstIndex();
  }

  lastIndex(): number {
    return this.memory.lastIndex();
  }

  /**
   * The snapshot held, data included. When its data is the state machine's own store and has not
   * been handed over (needsSnapshotData), throws SnapshotTemporarilyUnavailable, as etcd-raft's
   * storage may: Raft then sends the follower nothing this time, and snapshotDataWanted() says
   * that the data is wanted.
   */
  snapshot(): Snapshot {
    if (this.snapshotDataMissing) {
      this.snapshotDataAsked = true;
      const { index } = this.memory.snapshot().metadata;
      throw new RaftError(RaftErrorCode.SnapshotTemporarilyUnavailable, `the data of the snapshot at ${index} is the state machine's store; it is being built`, { index });
    }
    return this.memory.snapshot();
  }

  /**
   * At startup, before Raft reads initialState(): the state machine has applied the entries
   * through `appliedIndex`, and only committed entries are applied, so the commit index is at
   * least that. The commit index on disk may be behind it (only synced batches write it; see
   * PersistUpdate.mustSync): it is raised here, in memory. The log must hold that entry: a state
   * machine ahead of the log is a damaged directory (STORAGE_CORRUPT).
   */
  learnCommit(appliedIndex: number): void {
    assert(this.writing === null, 'learnCommit: a write is in flight (call it at startup)');
    const { hardState } = this.memory.initialState();
    if (appliedIndex <= hardState.commit) return;
    const last = this.memory.lastIndex();
    if (appliedIndex > last) {
      const what = `the state machine has applied index ${appliedIndex}, past the last log index ${last}`;
      throw new StorageError(StorageErrorCode.Corrupt, this.dataDir, what, { record: 'hard state', index: appliedIndex });
    }
    this.memory.setHardState({ ...hardState, commit: appliedIndex });
  }

  /** The metadata of the snapshot held, whether or not its data is at hand. */
  snapshotMetadata(): SnapshotMetadata {
    return this.memory.snapshot().metadata;
  }

  /**
   * True when the snapshot held keeps its data in the state machine's store (createSnapshot with
   * dataInStateMachine, or such a record found at open) and none has been handed over since.
   */
  needsSnapshotData(): boolean {
    return this.snapshotDataMissing;
  }

  /** needsSnapshotData(), and Raft has asked for the snapshot: the caller should build and adopt the data. */
  snapshotDataWanted(): boolean {
    return this.snapshotDataMissing && this.snapshotDataAsked;
  }

  /**
   * Hands over, in memory only, the data of a snapshot whose data is the state machine's own
   * store: the state machine's snapshot at `index` (its applied index then: at or past the held
   * snapshot's and at most the last index). Nothing is written. Returns false, taking nothing,
   * when the held snapshot moved past `index` meanwhile or has its data already.
   */
  adoptSnapshotData(index: number, confState: ConfState, data: Uint8Array): boolean {
    const held = this.memory.snapshot().metadata;
    if (!this.snapshotDataMissing || index < held.index) return false;
    assert.equal(confStateProblem(confState), null, 'adoptSnapshotData: confState');
    this.checkSnapshotBytes(data, index);
    if (index > held.index) {
      this.memory.createSnapshot(index, confState, data);
    } else {
      this.memory.replaceSnapshotData(data);
    }
    this.snapshotDataMissing = false;
    this.snapshotDataAsked = false;
    return true;
  }

  /** Counters for /status and benchmarks; a live view, not a copy. */
  get stats(): StorageStats {
    return this.counters;
  }

  // ---- writes ----

  /**
   * Persists one Ready: its snapshot (replacing the whole log), its entries (first truncating
   * any stored entries at or after entries[0].index; entries at or below firstIndex() - 1 are
   * skipped) and its hard state, in ONE LevelDB batch with `sync: true`. Resolves once durable,
   * and only then do reads show it. Nothing new to write means no batch. Writes must not
   * overlap: await each persist() and createSnapshot() before the next.
   */
  persist(update: PersistUpdate): Promise<void> {
    return this.exclusive('persist', () => this.persistNow(update));
  }

  private async persistNow(update: PersistUpdate): Promise<void> {
    const { snapshot } = update;
    const held = this.memory.initialState().hardState;
    const ops: Op[] = [];
    let compacted = this.compacted;
    let last = this.lastPosition();
    let chunkCount = this.snapshotChunkCount;
    if (snapshot !== null) {
      // A follower installing the leader's snapshot (Raft §7): the snapshot replaces the log.
      const { index, term } = snapshot.metadata;
      const heldIndex = this.memory.snapshot().metadata.index;
      assert(index > heldIndex, `persist: snapshot at ${index} is not past the snapshot held at ${heldIndex}`);
      this.checkSnapshotBytes(snapshot.data, index);
      this.deleteLog(ops, compacted.index + 1, last.index);
      chunkCount = this.putSnapshot(ops, snapshot.metadata, snapshot.data, false);
      compacted = last = { index, term };
      this.putPosition(ops, MetaKey.Compacted, compacted);
    }
    const skip = update.entries.findIndex((entry) => entry.index > compacted.index);
    const entries = skip <= 0 ? (skip === 0 ? update.entries : []) : update.entries.slice(skip);
    if (entries.length > 0) last = this.putEntries(ops, entries, compacted, last);
    if (snapshot !== null || entries.length > 0) this.putPosition(ops, MetaKey.LastEntry, last);
    const hardState = update.hardState !== null && !hardStateEqual(update.hardState, held) ? update.hardState : null;
    if (hardState !== null) assertHardStateMoves(held, hardState);
    const mustSync = update.mustSync ?? true;
    if (!mustSync) assertCommitOnly(update, held);
    // A synced batch also carries a commit index held in memory so far.
    const hardStateAfter = hardState ?? held;
    const writesHardState = mustSync && !hardStateEqual(hardStateAfter, this.writtenHardState);
    if (writesHardState) this.putHardState(ops, hardStateAfter);
    if (ops.length === 0 && hardState === null) return;
    const heldSnapshot = this.memory.snapshot().metadata;
    const snapshotAfter = snapshot === null ? heldSnapshot : snapshot.metadata;
    this.assertBounds('persist', {
      compacted,
      snapshot: snapshotAfter,
      last,
      termAtSnapshot: snapshotAfter.index > compacted.index ? this.termAfterAppend(entries, snapshotAfter.index) : -1,
      hardState: hardState ?? held,
    });
    // Written to LevelDB directly (a snapshot installed, or a batch too large for the journal), the log after it is the snapshot alone, or the mirror's with the entries appended.
    const logAfter: LogAfterWrite = { keepFrom: compacted.index + 1, last: last.index };
    if (mustSync) await this.write('persist', ops, entries.length, snapshot === null, logAfter);
    else this.counters.commitOnlyUpdates++;
    if (writesHardState) this.writtenHardState = hardStateAfter;
    if (snapshot !== null) this.memory.applySnapshot(snapshot);
    this.memory.append(entries);
    if (hardState !== null) this.memory.setHardState(hardState);
    this.compacted = compacted;
    this.snapshotChunkCount = chunkCount;
    if (snapshot !== null) {
      this.snapshotDataMissing = false;
      this.snapshotDataAsked = false;
    }
    assert.equal(this.memory.lastIndex(), last.index, 'persist: last index after the write');
    assert.equal(this.memory.firstIndex(), compacted.index + 1, 'persist: first index after the write');
  }

  /**
   * Records a snapshot of the state machine as of `index` (applied, so at most the commit index,
   * and past the snapshot held), and compacts the log: entries up to index - keepEntries leave
   * disk and memory, so firstIndex() becomes index - keepEntries + 1 (never lower than before),
   * and term(firstIndex() - 1) still answers from the 'compacted' record. Keeping entries lets
   * slightly lagging followers catch up from the log instead of a snapshot. One synced batch.
   * The storage keeps `data` (do not modify it). Rejects with STORAGE_SNAPSHOT_OUT_OF_DATE when a
   * snapshot at or past `index` is already held (e.g. one just installed from the leader).
   *
   * With `dataInStateMachine`, the record says the data is the state machine's own durable store
   * (as etcd's is its bbolt file): the batch stays small however large the state, and nothing need
   * be built. `data`, if not empty, is kept in memory; otherwise it is built only when Raft wants
   * to send the snapshot (snapshotDataWanted, adoptSnapshotData). The caller must have written its
   * state up to `index` to the same database before: this synced batch makes it durable too
   * (LevelDB syncs its one log in order).
   *
   * The records below the new compacted index are deleted behind the batch (logCleared() settles
   * once they are); they are unreachable already, and a crash before leaves them for open() to clear.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array, keepEntries: number, options: { dataInStateMachine?: boolean } = {}): Promise<Snapshot> {
    return this.exclusive('createSnapshot', () => this.createSnapshotNow(index, confState, data, keepEntries, options.dataInStateMachine === true));
  }

  /** Settles once the log records that compactions left below the compacted index are deleted. */
  logCleared(): Promise<void> {
    return this.logClearing;
  }

  private async createSnapshotNow(index: number, confState: ConfState, data: Uint8Array, keepEntries: number, dataInStateMachine: boolean): Promise<Snapshot> {
    assert(Number.isSafeInteger(index) && index >= 1, `createSnapshot: index ${index} is not a safe integer >= 1`);
    assert(Number.isSafeInteger(keepEntries) && keepEntries >= 0, `createSnapshot: keepEntries ${keepEntries} is not an integer >= 0`);
    assert.equal(confStateProblem(confState), null, 'createSnapshot: confState');
    const heldIndex = this.memory.snapshot().metadata.index;
    if (index <= heldIndex) {
      const what = `createSnapshot at ${index}: the snapshot held is already at ${heldIndex}`;
      throw new StorageError(StorageErrorCode.SnapshotOutOfDate, this.dataDir, what, { index });
    }
    const { hardState } = this.memory.initialState();
    assert(index <= hardState.commit, `createSnapshot: index ${index} > commit ${hardState.commit}: a snapshot holds applied entries only`);
    assert(index <= this.memory.lastIndex(), `createSnapshot: index ${index} > last index ${this.memory.lastIndex()}`);
    this.checkSnapshotBytes(data, index);
    const metadata: SnapshotMetadata = { index, term: this.memory.term(index), confState };
    const ops: Op[] = [];
    // The commit index it was applied under goes with it, if held in memory only so far.
    const writesHardState = !hardStateEqual(hardState, this.writtenHardState);
    if (writesHardState) this.putHardState(ops, hardState);
    const chunkCount = this.putSnapshot(ops, metadata, data, dataInStateMachine);
    let compacted = this.compacted;
    const compactIndex = Math.max(compacted.index, index - keepEntries);
    if (compactIndex > compacted.index) {
      // The compacted record moves in the synced batch; the records below it are deleted after,
      // by one range delete (a batch of 10,000 single deletes costs ~40 ms of JavaScript, a range
      // delete ~4 ms). A crash in between leaves unreachable records, cleared on the next open.
      compacted = { index: compactIndex, term: this.memory.term(compactIndex) };
      this.putPosition(ops, MetaKey.Compacted, compacted);
    }
    const last = this.lastPosition();
    const termAtSnapshot = index > compacted.index ? metadata.term : -1;
    this.assertBounds('createSnapshot', { compacted, snapshot: metadata, last, termAtSnapshot, hardState });
    await this.write('createSnapshot', ops, 0, false, { keepFrom: compacted.index + 1, last: last.index });
    if (writesHardState) this.writtenHardState = hardState;
    if (compacted.index > this.compacted.index) {
      const through = compacted.index;
      // Behind the writes: nothing reads below the compacted record, and no write goes there.
      this.logClearing = this.logClearing.then(() => this.clearLogThrough(through, 'createSnapshot')).catch(() => undefined);
    }
    const snapshot = this.memory.createSnapshot(index, confState, data);
    if (compacted.index > this.compacted.index) this.memory.compact(compacted.index);
    this.compacted = compacted;
    this.snapshotChunkCount = chunkCount;
    this.snapshotDataMissing = dataInStateMachine && data.byteLength === 0;
    this.snapshotDataAsked = false;
    assert.equal(this.memory.firstIndex(), compacted.index + 1, 'createSnapshot: first index after the write');
    return snapshot;
  }

  /**
   * Refuses every later write (STORAGE_CLOSED) and resolves once the write in flight, if any,
   * has settled. Reads still answer. The caller closes the database afterwards.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.writing !== null) await this.writing;
    await this.logClearing;
    const journal = this.journal;
    if (journal === null) return;
    // Everything journaled goes into LevelDB, synced (the log folded in), so that the next open has
    // nothing to replay; nothing, when no record came after the last fold (an open folds too).
    if (this.failure === null && this.journalSeq > this.logSeq) {
      try {
        await this.write('close', [], 0, false, { keepFrom: this.compacted.index + 1, last: this.memory.lastIndex() });
      } catch {
        // Recorded in `failure`: the journal stays for the next open.
      }
    }
    this.journal = null;
    // Every record is in LevelDB, synced, unless a write failed: then the journal stays for the next open.
    await journal.close({ removeAll: this.failure === null });
  }

  // ---- helpers ----

  /**
   * Runs `operation` (plan, write, then update the mirror) as the one write in flight, so that
   * each plans from the durable state and close() waits for the mirror to be updated too.
   */
  private exclusive<T>(what: string, operation: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StorageError(StorageErrorCode.Closed, this.dataDir, `${what} after close()`));
    if (this.failure !== null) {
      const why = `${what} refused: an earlier write failed (${this.failure.message}); restart to re-open and verify the directory`;
      return Promise.reject(new StorageError(StorageErrorCode.WriteFailed, this.dataDir, why, { cause: this.failure }));
    }
    if (this.writing !== null) {
      const message = `${what}: ${this.writingWhat} is still in flight; writes must not overlap (await each one)`;
      return Promise.reject(new assert.AssertionError({ message }));
    }
    const running = operation();
    const settled = (): void => {
      this.writing = null;
    };
    this.writing = running.then(settled, settled);
    this.writingWhat = what;
    return running;
  }

  private checkSnapshotBytes(data: Uint8Array, index: number): void {
    if (data.byteLength <= SNAPSHOT_DATA_BYTES_MAX) return;
    const what = `snapshot at ${index}: ${data.byteLength} bytes of data > SNAPSHOT_DATA_BYTES_MAX ${SNAPSHOT_DATA_BYTES_MAX}`;
    throw new StorageError(StorageErrorCode.SnapshotTooLarge, this.dataDir, what, { index });
  }

  private lastPosition(): LogPosition {
    const index = this.memory.lastIndex();
    return { index, term: this.memory.term(index) };
  }

  /** The term at `index` once `entries` (contiguous, truncating the stored tail) are appended. */
  private termAfterAppend(entries: readonly Entry[], index: number): number {
    const first = entries[0];
    if (first !== undefined && index >= first.index) return entries[index - first.index]?.term ?? -1;
    return index <= this.memory.lastIndex() ? this.memory.term(index) : -1;
  }

  private assertBounds(what: string, bounds: DurableBounds): void {
    const problem = boundsProblem(bounds);
    if (problem !== null) assert.fail(`${what} would write a state that open() refuses: ${describeProblem(problem)}`);
  }

  /** Deletes the log records in [from, to]; all of them are held, so each is named. */
  private deleteLog(ops: Op[], from: number, to: number): void {
    if (from > to) return;
    assert(from > this.compacted.index, `deleteLog: from ${from} <= compacted index ${this.compacted.index}`);
    assert(to <= this.memory.lastIndex(), `deleteLog: to ${to} > last index ${this.memory.lastIndex()}`);
    for (let index = from; index <= to; index++) ops.push({ type: 'del', sublevel: this.log, key: logKey(index) });
  }

  /**
   * Puts `entries`, checking that they follow the log without a gap and with terms that never go
   * down, and deletes the stored tail past them (a conflicting append, Raft §5.3).
   */
  private putEntries(ops: Op[], entries: readonly Entry[], compacted: LogPosition, last: LogPosition): LogPosition {
    const first = entries[0] as Entry;
    assert(first.index <= last.index + 1, `persist: entries start at ${first.index}, leaving a gap after last index ${last.index}`);
    const before = first.index - 1;
    let previous: LogPosition = { index: before, term: before === compacted.index ? compacted.term : this.memory.term(before) };
    for (const entry of entries) {
      const problem = entryProblem(previous, entry.index, entry.term);
      if (problem !== null) assert.fail(`persist: ${logEntryRecord(entry.index)}: ${problem}`);
      if (entry.term < 1) assert.fail(`persist: ${logEntryRecord(entry.index)}: term ${entry.term} < 1`);
      ops.push({ type: 'put', sublevel: this.log, key: logKey(entry.index), value: encodeEntry(entry) });
      previous = entry;
    }
    this.deleteLog(ops, previous.index + 1, last.index);
    return { index: previous.index, term: previous.term };
  }

  /**
   * The start of a synced LevelDB batch that holds the journaled log: puts of the entries the
   * mirror holds from `logAfter.keepFrom` through `logAfter.last` (the batch's own operations,
   * after these, replace or delete some of them), deletes of any record LevelDB may hold above
   * `logAfter.last`, and the `journal-log-seq` record: LevelDB's log is as of journal record `seq`.
   */
  private foldLog(logAfter: LogAfterWrite, seq: number): Op[] {
    const ops: Op[] = [];
    const from = Math.max(logAfter.keepFrom, this.memory.firstIndex());
    const to = Math.min(logAfter.last, this.memory.lastIndex());
    if (from <= to) {
      for (const entry of this.memory.entries(from, to + 1, Number.MAX_SAFE_INTEGER)) ops.push({ type: 'put', sublevel: this.log, key: logKey(entry.index), value: encodeEntry(entry) });
    }
    for (let index = logAfter.last + 1; index <= this.levelLogLast; index++) ops.push({ type: 'del', sublevel: this.log, key: logKey(index) });
    ops.push({ type: 'put', sublevel: this.meta, key: MetaKey.JournalLogSeq, value: encodeJournalSeq(seq, MetaKey.JournalLogSeq) });
    return ops;
  }

  private putPosition(ops: Op[], key: PositionKey, position: LogPosition): void {
    ops.push({ type: 'put', sublevel: this.meta, key, value: encodePosition(key, position) });
  }

  /** Puts the snapshot record and its data chunks, deleting chunks of the held snapshot past the new count. */
  private putSnapshot(ops: Op[], metadata: SnapshotMetadata, data: Uint8Array, dataInStateMachine: boolean): number {
    const chunks = dataInStateMachine ? [] : snapshotChunks(data);
    const record = dataInStateMachine
      ? { ...metadata, dataBytes: 0, chunkCount: 0, dataChecksum: 0, dataInStateMachine: true }
      : { ...metadata, dataBytes: data.byteLength, chunkCount: chunks.length, dataChecksum: crc32(data) };
    ops.push({ type: 'put', sublevel: this.meta, key: MetaKey.Snapshot, value: encodeSnapshotRecord(record) });
    for (let chunk = 0; chunk < chunks.length; chunk++) {
      ops.push({ type: 'put', sublevel: this.meta, key: snapshotChunkKey(chunk), value: chunks[chunk] as Uint8Array });
    }
    for (let chunk = chunks.length; chunk < this.snapshotChunkCount; chunk++) {
      ops.push({ type: 'del', sublevel: this.meta, key: snapshotChunkKey(chunk) });
    }
    return chunks.length;
  }

  private async writeBootstrap(): Promise<void> {
    const ops: Op[] = [];
    this.putSnapshot(ops, this.memory.snapshot().metadata, EMPTY_BYTES, false);
    this.putPosition(ops, MetaKey.Compacted, ZERO_POSITION);
    this.putPosition(ops, MetaKey.LastEntry, ZERO_POSITION);
    ops.push({ type: 'put', sublevel: this.meta, key: MetaKey.HardState, value: encodeHardState(EMPTY_HARD_STATE) });
    await this.write('bootstrap', ops, 0, false, { keepFrom: 1, last: 0 });
  }

  /** Deletes every log record at or below `index` with one range delete; they are below the compacted record already. */
  private async clearLogThrough(index: number, what: string): Promise<void> {
    try {
      await this.copied(); // the raft-meta copies queued before go first (LevelDB's order is the writes')
      await this.log.clear({ lte: logKey(index) });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.failure = new StorageError(StorageErrorCode.WriteFailed, this.dataDir, `${what}: deleting the log through ${index} failed: ${message}`, { cause: error });
      throw this.failure;
    }
  }

  private sublevels(): WalBatchSublevels {
    return { log: this.log, meta: this.meta };
  }

  /**
   * Hands the pending journaled raft-meta writes to LevelDB as one unsynced batch (after the
   * groups queued before), with the `journal-seq` record saying how far they go. The next synced
   * write makes it durable too (LevelDB syncs its one log in order).
   */
  private queueCopy(): void {
    if (this.pendingRecords === 0) return;
    const ops = lastMetaWrites(this.pending, this.meta);
    // Every record so far is in this group or an earlier one: the group goes through journalSeq.
    const seq = this.journalSeq;
    this.pending = [];
    this.pendingRecords = 0;
    this.pendingBytes = 0;
    ops.push({ type: 'put', sublevel: this.meta, key: MetaKey.JournalSeq, value: encodeJournalSeq(seq) });
    this.copying = this.copying
      .then(async () => {
        if (this.failure !== null) return;
        await writeBatch(this.db, ops, false);
        this.copiedSeq = seq;
      })
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        const why = `copying the raft-meta writes of journal records through ${seq} into LevelDB failed: ${message}`;
        this.failure ??= new StorageError(StorageErrorCode.WriteFailed, this.dataDir, why, { cause: error });
      });
  }

  /** Settles once the copies of journaled batches queued so far are done (or failed: see the next write). For tests and benchmarks. */
  journalCopies(): Promise<void> {
    return this.copying;
  }

  /** Settles once every journaled raft-meta write so far is in LevelDB (unsynced); rejects if a copy failed. */
  private async copied(): Promise<void> {
    if (this.journal !== null) this.queueCopy();
    await this.copying;
    if (this.failure !== null) throw this.failure;
  }

  private putHardState(ops: Op[], hardState: HardState): void {
    ops.push({ type: 'put', sublevel: this.meta, key: MetaKey.HardState, value: encodeHardState(hardState) });
  }

  /**
   * Makes `ops` durable as one batch with one sync (DESIGN rule 2): a journal record when
   * `journaled` and the storage has a journal (its raft-meta writes copied into LevelDB later),
   * else a LevelDB batch with `sync: true`, written after every copy queued before it; with a
   * journal, that batch first folds in the log as `logAfter` says it is after the write.
   */
  private async write(what: string, ops: Op[], entryCount: number, journaled: boolean, logAfter: LogAfterWrite): Promise<void> {
    assert(ops.length > 0 || (this.journal !== null && what === 'close'), `${what}: an empty batch`);
    let bytes = 0;
    for (const op of ops) {
      bytes += typeof op.key === 'string' ? op.key.length : op.key.byteLength;
      if (op.type === 'put') bytes += op.value.byteLength;
    }
    const journal = this.journal;
    const payload = journaled && journal !== null ? encodeWalBatch(ops, this.sublevels()) : null;
    try {
      if (journal !== null && payload !== null && payload.byteLength <= journal.payloadBytesMax) {
        const seq = this.journalSeq + 1;
        await journal.append(seq, payload);
        this.journalSeq = seq;
        this.counters.journaledBatches++;
        // The log stays in the journal; its raft-meta writes go to LevelDB in groups.
        for (const op of ops) {
          if (op.sublevel !== this.meta) continue;
          this.pending.push(op);
          this.pendingBytes += (op.key as string).length + (op.type === 'put' ? op.value.byteLength : 0);
        }
        this.pendingRecords++;
        if (this.pendingRecords >= COPY_GROUP_RECORDS || this.pendingBytes >= COPY_GROUP_BYTES) this.queueCopy();
      } else if (journal === null) {
        await writeBatch(this.db, ops, true);
      } else {
        await this.copied();
        const seq = this.journalSeq;
        const folded = this.foldLog(logAfter, seq);
        for (const op of ops) folded.push(op);
        await writeBatch(this.db, folded, true);
        // Synced: so is every copy before it, and LevelDB holds the log as of record seq: the segments through it can go.
        this.logSeq = seq;
        this.levelLogLast = logAfter.last;
        if (journal.hasFullSegments) await journal.removeThrough(seq);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const why = payload !== null ? `${what}: journal record ${this.journalSeq + 1} (${ops.length} operations) failed: ${message}` : `${what}: LevelDB batch of ${ops.length} operations failed: ${message}`;
      this.failure ??= new StorageError(StorageErrorCode.WriteFailed, this.dataDir, why, { cause: error });
      throw this.failure;
    }
    this.counters.syncedBatches++;
    this.counters.entriesWritten += entryCount;
    this.counters.bytesWritten += bytes;
  }
}

/**
 * `ops` without the raft-meta writes a later one to the same key replaces (each Ready rewrites
 * the last-entry and hard state records): one batch applies them in order, so only the last
 * counts. Log records are kept as they are.
 */
function lastMetaWrites(ops: Op[], meta: MetaSublevel): Op[] {
  const seen = new Set<string>();
  const kept: Op[] = [];
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i] as Op;
    if (op.sublevel === meta) {
      const key = op.key as string;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    kept.push(op);
  }
  return kept.reverse();
}

/**
 * Opens the journal and replays into LevelDB, synced, in one batch, the log writes of the records
 * past its `journal-log-seq` record and the raft-meta writes of those past its `journal-seq`
 * record; then deletes every segment found (LevelDB holds them all now). Refuses a gap: a record
 * missing between what LevelDB holds and the journal's first record.
 */
async function openJournal(
  db: Db,
  log: LogSublevel,
  meta: MetaSublevel,
  dataDir: string,
  journalDir: string,
  segmentBytes: number,
): Promise<{ wal: Wal; lastSeq: number; logSeqRecorded: boolean; recovery: JournalRecovery }> {
  const { wal, recovery } = await Wal.open(journalDir, segmentBytes, dataDir);
  try {
    const copiedSeq = await readJournalSeq(meta, dataDir, MetaKey.JournalSeq);
    const storedLogSeq = await readJournalSeq(meta, dataDir, MetaKey.JournalLogSeq);
    // A directory written before the log stayed in the journal copied both kinds of writes alike
    // (open() records journal-log-seq before any journaled write, so a newer one always has it).
    const logSeq = storedLogSeq ?? copiedSeq ?? 0;
    const metaSeq = copiedSeq ?? 0;
    if (logSeq > metaSeq) {
      // LevelDB writes its batches in order: the log's record comes after the raft-meta copies it follows.
      const problem = `LevelDB's log is as of journal record ${logSeq}, past its raft-meta writes (through record ${metaSeq})`;
      throw new StorageError(StorageErrorCode.Corrupt, dataDir, `journal-log-seq record: ${problem}`, { record: 'journal-log-seq record' });
    }
    const missing = recovery.records.filter((record) => record.seq > logSeq);
    for (let i = 0; i < missing.length; i++) {
      const expected = logSeq + 1 + i;
      const found = (missing[i] as (typeof missing)[number]).seq;
      if (found === expected) continue;
      const after = i === 0 ? `LevelDB holds the log as of record ${logSeq}` : `the journal holds record ${expected - 1}`;
      const problem = `${after}, but its next record is ${found}: records ${expected} to ${found - 1} are missing`;
      throw new StorageError(StorageErrorCode.Corrupt, dataDir, `journal record ${expected}: ${problem}`, { record: `journal record ${expected}` });
    }
    const ops: BatchWrite[] = [];
    const sublevels = { log, meta };
    for (const record of missing) {
      try {
        // Records through journal-seq have their raft-meta writes in LevelDB already, and later ones replace them.
        for (const op of decodeWalBatch(record.payload, sublevels)) if (op.sublevel === log || record.seq > metaSeq) ops.push(op);
      } catch (error) {
        if (error instanceof RecordProblem) throw new StorageError(StorageErrorCode.Corrupt, dataDir, `journal record ${record.seq}: ${error.message}`, { record: `journal record ${record.seq}` });
        throw error;
      }
    }
    const lastSeq = Math.max(metaSeq, recovery.records[recovery.records.length - 1]?.seq ?? 0);
    // Synced even with nothing to copy: LevelDB's copies may be unsynced (a process crash keeps
    // them in the page cache), and the segments go next.
    if (recovery.records.length > 0) {
      ops.push({ type: 'put', sublevel: meta, key: MetaKey.JournalSeq, value: encodeJournalSeq(lastSeq) });
      ops.push({ type: 'put', sublevel: meta, key: MetaKey.JournalLogSeq, value: encodeJournalSeq(lastSeq, MetaKey.JournalLogSeq) });
      try {
        await writeBatch(db, ops, true);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new StorageError(StorageErrorCode.WriteFailed, dataDir, `copying ${missing.length} journal records into LevelDB failed: ${message}`, { cause: error });
      }
    }
    await wal.removeThrough(Number.MAX_SAFE_INTEGER);
    const logSeqRecorded = storedLogSeq !== undefined || recovery.records.length > 0;
    return { wal, lastSeq, logSeqRecorded, recovery: { recordsCopied: missing.length, tornTail: recovery.tornTail } };
  } catch (error) {
    await wal.close();
    throw error;
  }
}

/** A journal sequence number record of LevelDB, or undefined when it has none. */
async function readJournalSeq(meta: MetaSublevel, dataDir: string, key: JournalSeqKey): Promise<number | undefined> {
  let stored: Uint8Array | undefined;
  try {
    stored = await meta.get(key);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new StorageError(StorageErrorCode.ReadFailed, dataDir, `reading the ${key} record failed: ${message}`, { record: `${key} record`, cause: error });
  }
  if (stored === undefined) return undefined;
  try {
    return decodeJournalSeq(stored, key);
  } catch (error) {
    if (error instanceof RecordProblem) throw new StorageError(StorageErrorCode.Corrupt, dataDir, `${key} record: ${error.message}`, { record: `${key} record` });
    throw error;
  }
}

/** The in-memory mirror of a verified durable state: the placeholder at the compacted position, the entries, then the snapshot. */
function mirror(state: DurableState): MemoryStorage {
  const { compacted, snapshot, entries, hardState } = state;
  const { index, confState } = snapshot.metadata;
  const memory = new MemoryStorage(confState);
  if (compacted.index > 0) {
    const placeholder: Snapshot = { metadata: { index: compacted.index, term: compacted.term, confState }, data: EMPTY_BYTES };
    memory.applySnapshot(compacted.index === index ? snapshot : placeholder);
  }
  memory.append(entries);
  if (index > compacted.index) memory.createSnapshot(index, confState, snapshot.data);
  memory.setHardState(hardState);
  return memory;
}

/** Term and commit never go down, and a node votes at most once per term (Raft §5.2). */
function assertHardStateMoves(held: HardState, next: HardState): void {
  assert(next.term >= held.term, `persist: hard state term ${next.term} < term ${held.term} held`);
  if (next.term === held.term && held.vote !== 0) {
    assert.equal(next.vote, held.vote, `persist: vote changed from ${held.vote} to ${next.vote} within term ${held.term}`);
  }
  assert(next.commit >= held.commit, `persist: hard state commit ${next.commit} < commit ${held.commit} held`);
}

/** mustSync false is for a commit-only change (Ready.mustSync): anything else must reach the disk first. */
function assertCommitOnly(update: PersistUpdate, held: HardState): void {
  assert(update.snapshot === null, 'persist: mustSync false with a snapshot');
  assert.equal(update.entries.length, 0, 'persist: mustSync false with entries');
  const hardState = update.hardState ?? held;
  const change = `${held.term}/${held.vote} -> ${hardState.term}/${hardState.vote}`;
  assert(hardState.term === held.term && hardState.vote === held.vote, `persist: mustSync false while term or vote changes (${change})`);
}

function validateOptions(options: RaftStorageOptions): void {
  const dataDir = typeof options?.dataDir === 'string' && options.dataDir !== '' ? options.dataDir : '(not given)';
  const invalid = (option: string, problem: string) =>
    new StorageError(StorageErrorCode.InvalidOption, dataDir, `option ${option}: ${problem}`, { option });
  if (options === null || typeof options !== 'object') throw invalid('options', 'must be an object');
  for (const key of Object.keys(options)) if (!OPTION_NAMES.has(key)) throw invalid(key, 'unknown option');
  if (typeof options.dataDir !== 'string' || options.dataDir === '') throw invalid('dataDir', 'must be a non-empty string');
  const db: unknown = options.db;
  const isDb = db !== null && typeof db === 'object' && typeof (db as Db).sublevel === 'function' && typeof (db as Db).batch === 'function';
  if (!isDb) throw invalid('db', 'must be a Level database');
  const status = (db as Db).status;
  if (status === 'closing' || status === 'closed') throw invalid('db', `is ${status}; open it before the storage`);
  const problem = confStateProblem(options.bootstrapConfState);
  if (problem !== null) throw invalid('bootstrapConfState', problem);
}
