// Unit tests for the core's view of the log: UnstableLog (the not-yet-persisted tail) and RaftLog
// (storage plus that tail, with commit and applied). Both are internal, so they are imported from
// their modules rather than from the package index.

import { describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD_BYTES, MemoryStorage, type Entry } from '../src/index.js';
import { UnstableLog } from '../src/log-unstable.js';
import { RaftLog } from '../src/log.js';
import { entriesWithTerms, entry, pairs, snapshot, threeVoters, thrownName } from './support/fixtures.js';

const ALL = Number.MAX_SAFE_INTEGER;

/** A RaftLog over storage holding `storedTerms` from index 1, then `unstableTerms` after them. */
function raftLog(storedTerms: readonly number[], unstableTerms: readonly number[] = [], bytes = 0, perReadyMax = ALL): RaftLog {
  const storage = new MemoryStorage(threeVoters);
  storage.append(entriesWithTerms(storedTerms, 1, bytes));
  const log = new RaftLog(storage, perReadyMax);
  log.append(entriesWithTerms(unstableTerms, storedTerms.length + 1, bytes));
  return log;
}

/** A RaftLog over storage compacted to a snapshot at (snapIndex, snapTerm), holding `terms` after it. */
function compactedLog(snapIndex: number, snapTerm: number, terms: readonly number[]): RaftLog {
  const storage = new MemoryStorage(threeVoters);
  storage.applySnapshot(snapshot(snapIndex, snapTerm));
  storage.append(entriesWithTerms(terms, snapIndex + 1));
  return new RaftLog(storage, ALL);
}

describe('UnstableLog', () => {
  it.each([
    { name: 'nothing', snap: null, entries: [] as Entry[], offset: 5, first: -1, last: -1 },
    { name: 'entries only', snap: null, entries: entriesWithTerms([1], 5), offset: 5, first: -1, last: 5 },
    { name: 'a snapshot only', snap: snapshot(4, 1), entries: [], offset: 5, first: 5, last: 4 },
    { name: 'a snapshot and entries', snap: snapshot(4, 1), entries: entriesWithTerms([1], 5), offset: 5, first: 5, last: 5 },
  ])('holding $name: first index $first, last index $last', ({ snap, entries, offset, first, last }) => {
    const u = new UnstableLog(offset);
    u.snapshot = snap;
    u.entries = entries;
    expect(u.maybeFirstIndex()).toBe(first);
    expect(u.maybeLastIndex()).toBe(last);
  });

  it.each([
    { name: 'an entry', snap: null, index: 5, term: 1 },
    { name: 'below the offset, no snapshot', snap: null, index: 4, term: -1 },
    { name: 'beyond the last entry', snap: null, index: 6, term: -1 },
    { name: 'the snapshot index', snap: snapshot(4, 3), index: 4, term: 3 },
    { name: 'below the snapshot', snap: snapshot(4, 3), index: 3, term: -1 },
  ])('maybeTerm of $name', ({ snap, index, term }) => {
    const u = new UnstableLog(5);
    u.snapshot = snap;
    u.entries = entriesWithTerms([1], 5);
    expect(u.maybeTerm(index)).toBe(term);
  });

  it.each([
    { name: 'through a matching entry', index: 6, term: 1, offset: 7, left: [[7, 2]] },
    { name: 'through the last entry', index: 7, term: 2, offset: 8, left: [] },
    { name: 'with a term that no longer matches (replaced meanwhile)', index: 6, term: 2, offset: 5, left: [[5, 1], [6, 1], [7, 2]] },
    { name: 'below the offset', index: 4, term: 1, offset: 5, left: [[5, 1], [6, 1], [7, 2]] },
    { name: 'beyond the last entry', index: 8, term: 2, offset: 5, left: [[5, 1], [6, 1], [7, 2]] },
  ])('stableTo $name', ({ index, term, offset, left }) => {
    const u = new UnstableLog(5);
    u.entries = entriesWithTerms([1, 1, 2], 5);
    u.stableTo(index, term);
    expect(u.offset).toBe(offset);
    expect(pairs(u.entries)).toEqual(left);
  });

  it('stableTo at the unstable snapshot index leaves the entries alone', () => {
    const u = new UnstableLog(0);
    u.restore(snapshot(4, 3));
    u.entries = entriesWithTerms([3], 5);
    u.stableTo(4, 3);
    expect(u.offset).toBe(5);
    expect(pairs(u.entries)).toEqual([[5, 3]]);
  });

  it('stableSnapTo drops the snapshot only at its own index', () => {
    const u = new UnstableLog(0);
    u.restore(snapshot(4, 3));
    u.stableSnapTo(3);
    expect(u.snapshot).not.toBeNull();
    u.stableSnapTo(4);
    expect(u.snapshot).toBeNull();
  });

  it('restore replaces everything with the snapshot', () => {
    const u = new UnstableLog(5);
    u.entries = entriesWithTerms([1, 1], 5);
    u.restore(snapshot(9, 2));
    expect(u.offset).toBe(10);
    expect(u.entries).toEqual([]);
    expect(u.maybeLastIndex()).toBe(9);
    expect(u.maybeTerm(9)).toBe(2);
  });

  it.each([
    { name: 'right after the last entry', add: entriesWithTerms([2], 8), offset: 5, held: [[5, 1], [6, 1], [7, 1], [8, 2]] },
    { name: 'from the offset, replacing all', add: entriesWithTerms([2, 2], 5), offset: 5, held: [[5, 2], [6, 2]] },
    { name: 'before the offset', add: entriesWithTerms([2, 2, 2], 4), offset: 4, held: [[4, 2], [5, 2], [6, 2]] },
    { name: 'in the middle, truncating', add: entriesWithTerms([2, 2, 2], 6), offset: 5, held: [[5, 1], [6, 2], [7, 2], [8, 2]] },
    { name: 'nothing', add: [] as Entry[], offset: 5, held: [[5, 1], [6, 1], [7, 1]] },
  ])('truncateAndAppend $name', ({ add, offset, held }) => {
    const u = new UnstableLog(5);
    u.entries = entriesWithTerms([1, 1, 1], 5);
    u.truncateAndAppend(add);
    expect(u.offset).toBe(offset);
    expect(pairs(u.entries)).toEqual(held);
  });

  it('slice returns [lo, hi) and fails an assertion outside what it holds', () => {
    const u = new UnstableLog(5);
    u.entries = entriesWithTerms([1, 1, 2], 5);
    expect(pairs(u.slice(6, 8))).toEqual([
      [6, 1],
      [7, 2],
    ]);
    expect(u.slice(8, 8)).toEqual([]);
    expect(thrownName(() => u.slice(4, 6))).toBe('AssertionError');
    expect(thrownName(() => u.slice(6, 9))).toBe('AssertionError');
    expect(thrownName(() => u.slice(7, 6))).toBe('AssertionError');
  });
});

describe('RaftLog: indexes and terms', () => {
  it('starts at the storage snapshot: committed and applied are its index', () => {
    const log = compactedLog(5, 2, [2, 3]);
    expect(log.firstIndex()).toBe(6);
    expect(log.lastIndex()).toBe(7);
    expect(log.lastTerm()).toBe(3);
    expect(log.committed).toBe(5);
    expect(log.applied).toBe(5);
  });

  it.each([
    { index: 3, term: -1 },
    { index: 4, term: -1 },
    { index: 5, term: 2 },
    { index: 6, term: 2 },
    { index: 7, term: 3 },
    { index: 8, term: 4 },
    { index: 9, term: -1 },
  ])('term at $index across a snapshot at 5 and an unstable entry at 8 is $term', ({ index, term }) => {
    const log = compactedLog(5, 2, [2, 3]);
    log.append([entry(8, 4)]);
    expect(log.maybeTerm(index)).toBe(term);
    expect(log.termOrZero(index)).toBe(Math.max(term, 0));
    expect(log.matchTerm(index, term)).toBe(term !== -1);
  });

  it('an unstable snapshot answers for its own index until persisted', () => {
    const log = raftLog([1, 1]);
    log.restore(snapshot(10, 3));
    expect(log.firstIndex()).toBe(11);
    expect(log.lastIndex()).toBe(10);
    expect(log.maybeTerm(10)).toBe(3);
    expect(log.maybeTerm(9)).toBe(-1);
    expect(log.committed).toBe(10);
    expect(log.nextCommittedEntries()).toEqual([]);
    expect(log.hasNextCommittedEntries()).toBe(false);
  });

  it('isCompacted is true only below the snapshot index', () => {
    const log = compactedLog(5, 2, [2]);
    expect(log.isCompacted(4)).toBe(true);
    expect(log.isCompacted(5)).toBe(false);
  });

  it.each([
    { lastIndex: 2, lastTerm: 4, upToDate: true },
    { lastIndex: 3, lastTerm: 4, upToDate: true },
    { lastIndex: 4, lastTerm: 4, upToDate: true },
    { lastIndex: 2, lastTerm: 2, upToDate: false },
    { lastIndex: 3, lastTerm: 2, upToDate: false },
    { lastIndex: 4, lastTerm: 2, upToDate: false },
    { lastIndex: 2, lastTerm: 3, upToDate: false },
    { lastIndex: 3, lastTerm: 3, upToDate: true },
    { lastIndex: 4, lastTerm: 3, upToDate: true },
  ])('a log ending at ($lastIndex, $lastTerm) is as up to date as [1, 2, 3]: $upToDate', ({ lastIndex, lastTerm, upToDate }) => {
    expect(raftLog([1, 2, 3]).isUpToDate(lastIndex, lastTerm)).toBe(upToDate);
  });
});

describe('RaftLog: conflicts and appends', () => {
  const held = [1, 2, 3];
  it.each([
    { add: [] as Entry[], conflict: 0 },
    { add: entriesWithTerms([1, 2, 3], 1), conflict: 0 },
    { add: entriesWithTerms([2, 3], 2), conflict: 0 },
    { add: entriesWithTerms([3], 3), conflict: 0 },
    { add: entriesWithTerms([1, 2, 3, 4, 4], 1), conflict: 4 },
    { add: entriesWithTerms([4, 4], 4), conflict: 4 },
    { add: entriesWithTerms([4, 4], 1), conflict: 1 },
    { add: entriesWithTerms([1, 4, 4], 2), conflict: 2 },
    { add: entriesWithTerms([1, 2, 4, 4], 3), conflict: 3 },
  ])('findConflict of $add.length entries against [1, 2, 3] is $conflict', ({ add, conflict }) => {
    expect(raftLog(held).findConflict(add)).toBe(conflict);
  });

  it.each([
    { index: 10, term: 9, hint: [10, 4] },
    { index: 10, term: 4, hint: [10, 4] },
    { index: 10, term: 3, hint: [7, 3] },
    { index: 10, term: 2, hint: [3, 2] },
    { index: 5, term: 2, hint: [3, 2] },
    { index: 10, term: 1, hint: [1, 1] },
    { index: 10, term: 0, hint: [0, 0] },
  ])('findConflictByTerm($index, $term) over [1, 2, 2, 3, 3, 3, 3, 4, 4, 4] is $hint', ({ index, term, hint }) => {
    const found = raftLog([1, 2, 2, 3, 3, 3, 3, 4, 4, 4]).findConflictByTerm(index, term);
    expect([found.index, found.term]).toEqual(hint);
  });

  it('findConflictByTerm stops with term 0 where the log is compacted', () => {
    const log = compactedLog(5, 2, [3, 3]);
    expect(log.findConflictByTerm(7, 1)).toEqual({ index: 4, term: 0 });
    expect(log.findConflictByTerm(7, 2)).toEqual({ index: 5, term: 2 });
  });

  // Log [1, 2, 3] with commit 1, as in etcd's TestLogMaybeAppend.
  it.each([
    { name: 'a mismatched term', index: 3, logTerm: 2, commit: 3, add: entriesWithTerms([4], 4), last: -1, committed: 1, terms: [1, 2, 3] },
    { name: 'an index beyond the log', index: 4, logTerm: 3, commit: 3, add: entriesWithTerms([4], 5), last: -1, committed: 1, terms: [1, 2, 3] },
    { name: 'no entries, commit within', index: 3, logTerm: 3, commit: 2, add: [] as Entry[], last: 3, committed: 2, terms: [1, 2, 3] },
    { name: 'no entries, commit beyond', index: 3, logTerm: 3, commit: 4, add: [] as Entry[], last: 3, committed: 3, terms: [1, 2, 3] },
    { name: 'new entries, commit to the new last', index: 3, logTerm: 3, commit: 5, add: entriesWithTerms([4, 4], 4), last: 5, committed: 5, terms: [1, 2, 3, 4, 4] },
    { name: 'new entries, commit within', index: 3, logTerm: 3, commit: 4, add: entriesWithTerms([4, 4], 4), last: 5, committed: 4, terms: [1, 2, 3, 4, 4] },
    { name: 'a prefix, commit not past it', index: 1, logTerm: 1, commit: 3, add: entriesWithTerms([2], 2), last: 2, committed: 2, terms: [1, 2, 3] },
    { name: 'a conflict after commit', index: 1, logTerm: 1, commit: 3, add: entriesWithTerms([4], 2), last: 2, committed: 2, terms: [1, 4] },
    { name: 'a conflict at the end', index: 2, logTerm: 2, commit: 3, add: entriesWithTerms([4, 4], 3), last: 4, committed: 3, terms: [1, 2, 4, 4] },
  ])('maybeAppend with $name', ({ index, logTerm, commit, add, last, committed, terms }) => {
    const log = raftLog([1, 2, 3]);
    log.commitTo(1);
    expect(log.maybeAppend(index, logTerm, commit, add)).toBe(last);
    expect(log.committed).toBe(committed);
    expect(pairs(log.slice(1, log.lastIndex() + 1, ALL)).map(([, t]) => t)).toEqual(terms);
  });

  it('an entry that conflicts with a committed one fails an assertion', () => {
    const log = raftLog([1, 2, 3]);
    log.commitTo(2);
    expect(thrownName(() => log.maybeAppend(0, 0, 3, entriesWithTerms([4], 1)))).toBe('AssertionError');
    expect(log.lastTerm()).toBe(3);
  });

  it('append truncates the unstable tail and refuses to go below the commit index', () => {
    const log = raftLog([1], [1, 1, 1]);
    expect(log.append(entriesWithTerms([2], 3))).toBe(3);
    expect(pairs(log.unstableEntries())).toEqual([
      [2, 1],
      [3, 2],
    ]);
    log.commitTo(2);
    expect(thrownName(() => log.append(entriesWithTerms([3], 2)))).toBe('AssertionError');
    expect(log.append([])).toBe(3);
  });
});

describe('RaftLog: commit and applied', () => {
  it('commitTo only moves forward and never past the last index', () => {
    const log = raftLog([1, 1, 1]);
    log.commitTo(2);
    log.commitTo(1);
    expect(log.committed).toBe(2);
    expect(thrownName(() => log.commitTo(4))).toBe('AssertionError');
    expect(log.committed).toBe(2);
  });

  it('maybeCommit commits only an entry of the given term (Raft §5.4.2)', () => {
    const log = raftLog([1, 1, 2]);
    expect(log.maybeCommit(2, 2)).toBe(false);
    expect(log.committed).toBe(0);
    expect(log.maybeCommit(3, 2)).toBe(true);
    expect(log.committed).toBe(3);
    expect(log.maybeCommit(2, 1)).toBe(false);
  });

  it('appliedTo stays within [applied, committed]', () => {
    const log = raftLog([1, 1, 1]);
    log.commitTo(2);
    log.appliedTo(1);
    expect(thrownName(() => log.appliedTo(3))).toBe('AssertionError');
    log.appliedTo(2);
    expect(thrownName(() => log.appliedTo(1))).toBe('AssertionError');
    expect(log.applied).toBe(2);
  });

  it('nextCommittedEntries hands out what is committed and not applied, within the per-Ready byte cap', () => {
    const size = 10 + ENTRY_OVERHEAD_BYTES;
    const log = raftLog([1, 1, 1], [1, 1], 10, 2 * size);
    log.commitTo(5);
    expect(log.hasNextCommittedEntries()).toBe(true);
    expect(log.nextCommittedEntries().map((e) => e.index)).toEqual([1, 2]);
    log.appliedTo(2);
    // Across the storage / unstable boundary.
    expect(log.nextCommittedEntries().map((e) => e.index)).toEqual([3, 4]);
    log.appliedTo(4);
    expect(log.nextCommittedEntries().map((e) => e.index)).toEqual([5]);
    log.appliedTo(5);
    expect(log.hasNextCommittedEntries()).toBe(false);
    expect(log.nextCommittedEntries()).toEqual([]);
  });

  it('an entry larger than the per-Ready cap is still handed out alone', () => {
    const log = raftLog([1, 1], [], 100, 10);
    log.commitTo(2);
    expect(log.nextCommittedEntries().map((e) => e.index)).toEqual([1]);
  });
});

describe('RaftLog: slices with byte caps', () => {
  const size = 10 + ENTRY_OVERHEAD_BYTES;
  // Storage holds 1-5, the unstable tail 6-8, every entry 10 bytes of data.
  it.each([
    { lo: 2, hi: 9, bytesMax: ALL, expected: [2, 3, 4, 5, 6, 7, 8] },
    { lo: 2, hi: 9, bytesMax: 0, expected: [2] },
    { lo: 2, hi: 9, bytesMax: size, expected: [2] },
    { lo: 2, hi: 9, bytesMax: 3 * size, expected: [2, 3, 4] },
    { lo: 2, hi: 9, bytesMax: 5 * size, expected: [2, 3, 4, 5, 6] },
    { lo: 2, hi: 9, bytesMax: 5 * size - 1, expected: [2, 3, 4, 5] },
    { lo: 6, hi: 9, bytesMax: 2 * size, expected: [6, 7] },
    { lo: 4, hi: 7, bytesMax: ALL, expected: [4, 5, 6] },
    { lo: 5, hi: 5, bytesMax: ALL, expected: [] },
  ])('slice($lo, $hi, $bytesMax) is $expected', ({ lo, hi, bytesMax, expected }) => {
    const log = raftLog([1, 1, 1, 1, 1], [1, 1, 1], 10);
    expect(log.slice(lo, hi, bytesMax).map((e) => e.index)).toEqual(expected);
  });

  it('entriesFrom reads to the end within the cap, and is empty past the last index', () => {
    const log = raftLog([1, 1, 1, 1, 1], [1, 1, 1], 10);
    expect(log.entriesFrom(7, ALL).map((e) => e.index)).toEqual([7, 8]);
    expect(log.entriesFrom(3, 2 * size).map((e) => e.index)).toEqual([3, 4]);
    expect(log.entriesFrom(9, ALL)).toEqual([]);
  });

  it('a slice from the compacted prefix or past the end fails an assertion', () => {
    const log = compactedLog(5, 2, [2, 3]);
    expect(thrownName(() => log.slice(5, 7, ALL))).toBe('AssertionError');
    expect(thrownName(() => log.slice(6, 9, ALL))).toBe('AssertionError');
    expect(log.slice(6, 8, ALL).map((e) => e.index)).toEqual([6, 7]);
  });
});
