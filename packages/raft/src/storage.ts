// The read-only view of what a node has persisted, as the core sees it, and an in-memory
// implementation for tests and simulations. The `storage` package implements the same view
// over LevelDB.

import { RaftError, RaftErrorCode, invariant } from './errors.js';
import {
  EMPTY_BYTES,
  EMPTY_HARD_STATE,
  EntryType,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
} from './types.js';
import { limitBytes } from './util.js';

export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

/**
 * What the core reads back of the durable state. Every method answers from state that the
 * caller has already made durable; the core never writes through this interface.
 *
 * Indexes in [firstIndex() - 1, lastIndex()] have a term: firstIndex() - 1 is the index of the
 * latest snapshot (or 0), whose term is kept even though its entry is gone.
 */
export interface Storage {
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), at most `bytesMax` of them by `entryBytes()` but always at least one
   * when the range is not empty. Throws Compacted when lo < firstIndex(), Unavailable when
   * hi > lastIndex() + 1.
   */
  entries(lo: number, hi: number, bytesMax: number): Entry[];
  /** Term of the entry at `index`. Throws Compacted or Unavailable outside the range above. */
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot. May throw SnapshotTemporarilyUnavailable. */
  snapshot(): Snapshot;
}

/**
 * Storage held in memory. `entries[0]` is a placeholder for the snapshot's index and term, so
 * that `term(firstIndex() - 1)` always answers.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  /** entries[i].index === entries[0].index + i; entries[0] stands for the snapshot. */
  private entriesHeld: Entry[];

  constructor(confState: ConfState) {
    this.snap = { metadata: { index: 0, term: 0, confState }, data: EMPTY_BYTES };
    this.entriesHeld = [{ index: 0, term: 0, type: EntryType.Normal, data: EMPTY_BYTES }];
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    invariant(lo <= hi, () => `entries: lo ${lo} > hi ${hi}`);
    const offset = this.placeholderIndex();
    if (lo <= offset) {
      throw new RaftError(RaftErrorCode.Compacted, `entries from ${lo}: compacted up to ${offset}`, { index: lo });
    }
    if (hi > this.lastIndex() + 1) {
      throw new RaftError(RaftErrorCode.Unavailable, `entries to ${hi - 1}: last index is ${this.lastIndex()}`, {
        index: hi,
      });
    }
    return limitBytes(this.entriesHeld.slice(lo - offset, hi - offset), bytesMax);
  }

  term(index: number): number {
    const offset = this.placeholderIndex();
    if (index < offset) {
      throw new RaftError(RaftErrorCode.Compacted, `term of ${index}: compacted up to ${offset}`, { index });
    }
    const entry = this.entriesHeld[index - offset];
    if (entry === undefined) {
      throw new RaftError(RaftErrorCode.Unavailable, `term of ${index}: last index is ${this.lastIndex()}`, { index });
    }
    return entry.term;
  }

  firstIndex(): number {
    return this.placeholderIndex() + 1;
  }

  lastIndex(): number {
    return this.placeholderIndex() + this.entriesHeld.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /**
   * Gives the snapshot held new data for the same metadata (a durable storage that recorded only
   * the metadata, the data being the state machine's own store, hands the rebuilt data over).
   */
  replaceSnapshotData(data: Uint8Array): Snapshot {
    this.snap = { metadata: this.snap.metadata, data };
    return this.snap;
  }

  /** Replaces everything with `snapshot` (a follower installing the leader's snapshot). */
  applySnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    if (index <= this.snap.metadata.index) {
      throw new RaftError(
        RaftErrorCode.SnapshotOutOfDate,
        `snapshot at ${index} is not newer than the one held at ${this.snap.metadata.index}`,
        { index },
      );
    }
    this.snap = snapshot;
    this.entriesHeld = [{ index, term: snapshot.metadata.term, type: EntryType.Normal, data: EMPTY_BYTES }];
  }

  /**
   * Records a snapshot of the state machine as of `index` (which must have been applied, so it
   * is at most lastIndex()). Does not discard entries: call `compact()` for that.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new RaftError(
        RaftErrorCode.SnapshotOutOfDate,
        `snapshot at ${index} is not newer than the one held at ${this.snap.metadata.index}`,
        { index },
      );
    }
    invariant(index <= this.lastIndex(), () => `createSnapshot: index ${index} > last index ${this.lastIndex()}`);
    this.snap = { metadata: { index, term: this.term(index), confState }, data };
    return this.snap;
  }

  /** Discards entries before `compactIndex`; the entry at `compactIndex` becomes the placeholder. */
  compact(compactIndex: number): void {
    const offset = this.placeholderIndex();
    if (compactIndex <= offset) {
      throw new RaftError(RaftErrorCode.Compacted, `compact to ${compactIndex}: already compacted to ${offset}`, {
        index: compactIndex,
      });
    }
    invariant(compactIndex <= this.lastIndex(), () => `compact: index ${compactIndex} > last index ${this.lastIndex()}`);
    const kept = this.entriesHeld.slice(compactIndex - offset);
    const placeholder = kept[0];
    invariant(placeholder !== undefined, 'compact: placeholder missing');
    kept[0] = { index: placeholder.index, term: placeholder.term, type: EntryType.Normal, data: EMPTY_BYTES };
    this.entriesHeld = kept;
  }

  /**
   * Appends `entries`, first discarding any held entries at or after `entries[0].index`
   * (the caller persists a Ready's entries with this). Entries already compacted are skipped.
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const offset = this.placeholderIndex();
    const last = entries[entries.length - 1] as Entry;
    if (last.index <= offset) return;
    invariant(
      first.index <= this.lastIndex() + 1,
      () => `append: entries start at ${first.index}, leaving a gap after last index ${this.lastIndex()}`,
    );
    const skip = Math.max(0, offset + 1 - first.index);
    const keep = first.index + skip - offset;
    this.entriesHeld.length = keep;
    for (let i = skip; i < entries.length; i++) this.entriesHeld.push(entries[i] as Entry);
  }

  private placeholderIndex(): number {
    return (this.entriesHeld[0] as Entry).index;
  }
}
