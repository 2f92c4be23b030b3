// A node's view of the whole log: what storage holds durably plus the unstable tail, with the
// commit and applied indexes. Invariant: firstIndex() - 1 <= applied <= committed <= lastIndex().

import { RaftErrorCode, invariant, isRaftError } from './errors.js';
import { UnstableLog } from './log-unstable.js';
import type { Storage } from './storage.js';
import type { Entry, Snapshot } from './types.js';
import { limitBytes } from './util.js';

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: UnstableLog;
  /** Highest index known to be stored on a quorum. Never decreases. */
  committed: number;
  /** Highest index the state machine has applied. applied <= committed. */
  applied: number;
  /** Cap on the bytes of committed entries handed out in one Ready. */
  private readonly committedBytesPerReadyMax: number;

  constructor(storage: Storage, committedBytesPerReadyMax: number) {
    this.storage = storage;
    this.committedBytesPerReadyMax = committedBytesPerReadyMax;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    invariant(last >= first - 1, () => `storage: last index ${last} < first index ${first} - 1`);
    this.unstable = new UnstableLog(last + 1);
    // The snapshot's index is committed and applied by definition.
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    const index = this.unstable.maybeFirstIndex();
    return index !== -1 ? index : this.storage.firstIndex();
  }

  lastIndex(): number {
    const index = this.unstable.maybeLastIndex();
    return index !== -1 ? index : this.storage.lastIndex();
  }

  lastTerm(): number {
    const term = this.maybeTerm(this.lastIndex());
    invariant(term !== -1, () => `log: no term for last index ${this.lastIndex()}`);
    return term;
  }

  /** The term at `index`, or -1 when it was compacted away or does not exist yet. */
  maybeTerm(index: number): number {
    const dummy = this.firstIndex() - 1;
    if (index < dummy || index > this.lastIndex()) return -1;
    const unstableTerm = this.unstable.maybeTerm(index);
    if (unstableTerm !== -1) return unstableTerm;
    try {
      return this.storage.term(index);
    } catch (error) {
      if (isRaftError(error, RaftErrorCode.Compacted) || isRaftError(error, RaftErrorCode.Unavailable)) return -1;
      throw error;
    }
  }

  /** The term at `index`, or 0 when unknown (what a rejection hint or a heartbeat can use). */
  termOrZero(index: number): number {
    const term = this.maybeTerm(index);
    return term === -1 ? 0 : term;
  }

  matchTerm(index: number, term: number): boolean {
    const held = this.maybeTerm(index);
    return held !== -1 && held === term;
  }

  isCompacted(index: number): boolean {
    return index < this.firstIndex() - 1;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The follower's half of AppendEntries (Raft Figure 2, receiver rules 2-5): if our log has
   * (index, logTerm), append `entries` after it, dropping any conflicting suffix, and advance
   * commit. Returns the last index of the new entries, or -1 when (index, logTerm) does not match.
   */
  maybeAppend(index: number, logTerm: number, commit: number, entries: readonly Entry[]): number {
    if (!this.matchTerm(index, logTerm)) return -1;
    const lastNewIndex = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      invariant(
        conflict > this.committed,
        () => `entry ${conflict} conflicts with committed entry (committed ${this.committed})`,
      );
      this.append(entries.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(commit, lastNewIndex));
    return lastNewIndex;
  }

  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    invariant(
      first.index - 1 >= this.committed,
      () => `append after ${first.index - 1} is below committed ${this.committed}`,
    );
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * The index of the first entry that is not in our log with the same term (either a different
   * term or beyond our last index), or 0 when every entry is already present.
   */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * Fast backtracking (Raft §5.3, "the follower can include the term of the conflicting entry"):
   * the largest index <= `index` whose term is <= `term`, with that term. Entries after it cannot
   * match a log whose entry at `index` has term `term`, so the leader may skip them all.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const held = this.maybeTerm(index);
      if (held === -1) return { index, term: 0 };
      if (held <= term) return { index, term: held };
    }
    return { index: 0, term: 0 };
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.length === 0 ? [] : this.unstable.entries.slice();
  }

  /** Committed entries not yet handed out for applying, up to the per-Ready byte cap. */
  nextCommittedEntries(): Entry[] {
    // A pending snapshot must be applied before any entry after it.
    if (this.unstable.snapshot !== null) return [];
    const lo = Math.max(this.applied + 1, this.firstIndex());
    const hi = this.committed + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, this.committedBytesPerReadyMax);
  }

  hasNextCommittedEntries(): boolean {
    if (this.unstable.snapshot !== null) return false;
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** Entries from `lo` to the end, within `bytesMax` (at least one). lo must be above the compacted prefix. */
  entriesFrom(lo: number, bytesMax: number): Entry[] {
    const last = this.lastIndex();
    if (lo > last) return [];
    return this.slice(lo, last + 1, bytesMax);
  }

  /** Entries in [lo, hi) within `bytesMax`. The caller checks !isCompacted(lo - 1) first. */
  slice(lo: number, hi: number, bytesMax: number): Entry[] {
    invariant(lo <= hi, () => `log.slice: lo ${lo} > hi ${hi}`);
    const first = this.firstIndex();
    invariant(lo >= first, () => `log.slice: lo ${lo} below first index ${first} (compacted)`);
    invariant(hi <= this.lastIndex() + 1, () => `log.slice: hi ${hi} beyond last index ${this.lastIndex()} + 1`);
    if (lo === hi) return [];
    const unstableOffset = this.unstable.offset;
    let stored: Entry[] = [];
    if (lo < unstableOffset) {
      stored = this.storage.entries(lo, Math.min(hi, unstableOffset), bytesMax);
      // Storage stopped early because of the byte cap: the unstable part would not fit either.
      if (stored.length < Math.min(hi, unstableOffset) - lo) return stored;
    }
    if (hi > unstableOffset) {
      const fresh = this.unstable.slice(Math.max(lo, unstableOffset), hi);
      stored = stored.length === 0 ? fresh : stored.concat(fresh);
    }
    return limitBytes(stored, bytesMax);
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    invariant(
      index <= this.lastIndex(),
      () => `commit ${index} out of range [${this.committed}, ${this.lastIndex()}]: was the log truncated or lost?`,
    );
    this.committed = index;
  }

  /** Advances commit to `index` if it is a quorum index from the leader's own term (Raft §5.4.2). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOrZero(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    invariant(
      index >= this.applied && index <= this.committed,
      () => `appliedIndex ${index} outside [${this.applied}, ${this.committed}]`,
    );
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** The snapshot to send a lagging follower: an unstable one if held, else storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Replace the whole log with a snapshot (a follower installing the leader's snapshot). */
  restore(snapshot: Snapshot): void {
    invariant(
      snapshot.metadata.index > this.committed,
      () => `restore: snapshot at ${snapshot.metadata.index} is not past committed ${this.committed}`,
    );
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }
}
