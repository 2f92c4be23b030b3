// Unit tests for MemoryStorage: the durable log as the core reads it back, with its snapshot
// placeholder, byte-capped reads and the Compacted / Unavailable / SnapshotOutOfDate codes.

import { describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD_BYTES, MemoryStorage, RaftErrorCode, isRaftError } from '../src/index.js';
import { entry, pairs, snapshot, threeVoters, thrownCode } from './support/fixtures.js';

/** Storage whose snapshot is at (3, 3) and which holds entries 4 and 5 (terms 4 and 5), as in etcd's tests. */
function storage345(bytes = 0): MemoryStorage {
  const s = new MemoryStorage(threeVoters);
  s.applySnapshot(snapshot(3, 3));
  s.append([entry(4, 4, bytes), entry(5, 5, bytes)]);
  return s;
}

describe('MemoryStorage: a new storage', () => {
  it('is empty, with the zero snapshot as its placeholder and the given voters', () => {
    const s = new MemoryStorage(threeVoters);
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.term(0)).toBe(0);
    expect(s.initialState()).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, confState: threeVoters });
    expect(s.snapshot().metadata).toEqual({ index: 0, term: 0, confState: threeVoters });
    expect(thrownCode(() => s.term(1))).toBe(RaftErrorCode.Unavailable);
  });

  it('returns the hard state it was last given', () => {
    const s = new MemoryStorage(threeVoters);
    s.setHardState({ term: 4, vote: 2, commit: 0 });
    expect(s.initialState().hardState).toEqual({ term: 4, vote: 2, commit: 0 });
  });
});

describe('MemoryStorage: term lookups across the snapshot boundary', () => {
  it.each([
    { index: 2, expected: RaftErrorCode.Compacted },
    { index: 3, expected: 3 },
    { index: 4, expected: 4 },
    { index: 5, expected: 5 },
    { index: 6, expected: RaftErrorCode.Unavailable },
  ])('term($index) answers $expected', ({ index, expected }) => {
    const s = storage345();
    if (typeof expected === 'number') expect(s.term(index)).toBe(expected);
    else expect(thrownCode(() => s.term(index))).toBe(expected);
  });

  it('first and last index exclude the placeholder', () => {
    const s = storage345();
    expect(s.firstIndex()).toBe(4);
    expect(s.lastIndex()).toBe(5);
  });
});

describe('MemoryStorage: entries and byte caps', () => {
  const size = 10 + ENTRY_OVERHEAD_BYTES;
  it.each([
    { lo: 2, hi: 6, bytesMax: Number.MAX_SAFE_INTEGER, expected: RaftErrorCode.Compacted },
    { lo: 3, hi: 4, bytesMax: Number.MAX_SAFE_INTEGER, expected: RaftErrorCode.Compacted },
    { lo: 4, hi: 7, bytesMax: Number.MAX_SAFE_INTEGER, expected: RaftErrorCode.Unavailable },
    { lo: 4, hi: 5, bytesMax: Number.MAX_SAFE_INTEGER, expected: [[4, 4]] },
    { lo: 4, hi: 6, bytesMax: Number.MAX_SAFE_INTEGER, expected: [[4, 4], [5, 5]] },
    { lo: 4, hi: 6, bytesMax: 0, expected: [[4, 4]] },
    { lo: 4, hi: 6, bytesMax: size, expected: [[4, 4]] },
    { lo: 4, hi: 6, bytesMax: 2 * size - 1, expected: [[4, 4]] },
    { lo: 4, hi: 6, bytesMax: 2 * size, expected: [[4, 4], [5, 5]] },
    { lo: 6, hi: 6, bytesMax: Number.MAX_SAFE_INTEGER, expected: [] },
  ])('entries($lo, $hi, bytesMax $bytesMax) answers $expected', ({ lo, hi, bytesMax, expected }) => {
    const s = storage345(10);
    if (typeof expected === 'string') expect(thrownCode(() => s.entries(lo, hi, bytesMax))).toBe(expected);
    else expect(pairs(s.entries(lo, hi, bytesMax))).toEqual(expected);
  });

  it('a Compacted or Unavailable error carries the index asked for', () => {
    const s = storage345();
    let index: number | undefined;
    try {
      s.entries(1, 5, 100);
    } catch (error) {
      if (isRaftError(error, RaftErrorCode.Compacted)) index = error.details.index;
    }
    expect(index).toBe(1);
  });
});

describe('MemoryStorage: append', () => {
  it.each([
    { name: 'the same entries again', add: [entry(4, 4), entry(5, 5)], expected: [[3, 3], [4, 4], [5, 5]] },
    { name: 'a conflicting suffix', add: [entry(4, 6), entry(5, 6)], expected: [[3, 3], [4, 6], [5, 6]] },
    { name: 'a longer log', add: [entry(4, 4), entry(5, 5), entry(6, 5)], expected: [[3, 3], [4, 4], [5, 5], [6, 5]] },
    { name: 'entries starting in the compacted prefix', add: [entry(2, 3), entry(3, 3), entry(4, 5)], expected: [[3, 3], [4, 5]] },
    { name: 'entries wholly compacted', add: [entry(2, 3), entry(3, 3)], expected: [[3, 3], [4, 4], [5, 5]] },
    { name: 'a conflict in the middle', add: [entry(5, 6)], expected: [[3, 3], [4, 4], [5, 6]] },
    { name: 'the next entry', add: [entry(6, 5)], expected: [[3, 3], [4, 4], [5, 5], [6, 5]] },
  ])('appending $name truncates and extends the log', ({ add, expected }) => {
    const s = storage345();
    s.append(add);
    const held = [[s.firstIndex() - 1, s.term(s.firstIndex() - 1)], ...pairs(s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER))];
    expect(held).toEqual(expected);
  });

  it('appending nothing changes nothing', () => {
    const s = storage345();
    s.append([]);
    expect(s.lastIndex()).toBe(5);
  });

  it('a gap after the last index fails an assertion', () => {
    const s = storage345();
    expect(thrownCode(() => s.append([entry(7, 5)]))).toBe('AssertionError');
    expect(s.lastIndex()).toBe(5);
  });
});

describe('MemoryStorage: compaction and snapshots', () => {
  it.each([
    { compactTo: 2, expected: RaftErrorCode.Compacted, first: 4 },
    { compactTo: 3, expected: RaftErrorCode.Compacted, first: 4 },
    { compactTo: 4, expected: null, first: 5 },
    { compactTo: 5, expected: null, first: 6 },
  ])('compact($compactTo) answers $expected and leaves first index $first', ({ compactTo, expected, first }) => {
    const s = storage345(10);
    expect(thrownCode(() => s.compact(compactTo))).toBe(expected);
    expect(s.firstIndex()).toBe(first);
    // The placeholder keeps the term of the entry it replaced.
    expect(s.term(first - 1)).toBe(first - 1);
    expect(s.lastIndex()).toBe(5);
  });

  it('compacting beyond the last index fails an assertion', () => {
    const s = storage345();
    expect(thrownCode(() => s.compact(6))).toBe('AssertionError');
  });

  it('createSnapshot records the term at its index and refuses an older index with RAFT_SNAPSHOT_OUT_OF_DATE', () => {
    const s = storage345();
    const data = new Uint8Array([9]);
    const snap = s.createSnapshot(4, threeVoters, data);
    expect(snap.metadata).toEqual({ index: 4, term: 4, confState: threeVoters });
    expect(s.snapshot()).toBe(snap);
    // Recording a snapshot keeps the entries; compaction is a separate step.
    expect(s.firstIndex()).toBe(4);
    expect(thrownCode(() => s.createSnapshot(4, threeVoters, data))).toBe(RaftErrorCode.SnapshotOutOfDate);
    expect(thrownCode(() => s.createSnapshot(3, threeVoters, data))).toBe(RaftErrorCode.SnapshotOutOfDate);
    expect(thrownCode(() => s.createSnapshot(6, threeVoters, data))).toBe('AssertionError');
  });

  it('applySnapshot replaces the whole log and refuses one not newer with RAFT_SNAPSHOT_OUT_OF_DATE', () => {
    const s = storage345();
    s.applySnapshot(snapshot(10, 7));
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(10);
    expect(s.term(10)).toBe(7);
    expect(thrownCode(() => s.term(5))).toBe(RaftErrorCode.Compacted);
    expect(thrownCode(() => s.applySnapshot(snapshot(10, 7)))).toBe(RaftErrorCode.SnapshotOutOfDate);
    expect(thrownCode(() => s.applySnapshot(snapshot(8, 7)))).toBe(RaftErrorCode.SnapshotOutOfDate);
    expect(s.snapshot().metadata.index).toBe(10);
    s.append([entry(11, 7)]);
    expect(s.lastIndex()).toBe(11);
  });
});
