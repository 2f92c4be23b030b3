// The lazy half of compaction. A compaction command only moves the compacted revision (reads
// below it fail from then on, in O(1)); the history it frees is swept from the key index, the
// revision-time map and the disk a bounded slice per apply, in the batches of later applies. The
// sweep only ever frees what the compacted revision of the state last written allows, so a
// reader that checked its revision against that state and took a LevelDB snapshot at the same
// moment never misses a record it needs.

import { droppable } from './load.js';
import type { Revision } from './records.js';
import type { KeyIndex, MvccState } from './state.js';

/** Keys visited per apply: bounds the sweep's CPU in one Raft turn (a few hundred µs). */
export const SWEEP_KEYS_PER_APPLY_MAX = 1024;
/** Records deleted per apply (at least one key's worth): bounds the sweep's share of one batch. */
export const SWEEP_RECORDS_PER_APPLY_MAX = 4096;
/** Revision-time entries dropped per apply. */
export const SWEEP_TIMES_PER_APPLY_MAX = 4096;

/** A pass over every key for compactions up to `passRevision`, at `from` (undefined: the first key). */
export interface SweepCursor {
  readonly passRevision: number;
  readonly from: string | undefined;
}

function compacted(index: KeyIndex, drop: number): KeyIndex | null {
  if (drop === index.count) return null;
  return { key: index.key, revs: index.revs.slice(drop, index.count), count: index.count - drop, current: index.current };
}

/**
 * Drops, from the keys at and after `from`, the entries a compaction at `revision` frees (see
 * droppable), and keys left with none. Returns the revisions whose records to delete and the key
 * to go on from, or null when the last key was swept.
 */
export function sweepKeys(state: MvccState, revision: number, from: string | undefined): { deletes: Revision[]; next: string | null } {
  const deletes: Revision[] = [];
  const updates: [string, KeyIndex | null][] = [];
  let next: string | null = null;
  let visited = 0;
  for (const [key, index] of state.keys.entries(from)) {
    const drop = droppable(index, revision);
    if (visited >= SWEEP_KEYS_PER_APPLY_MAX || (visited > 0 && deletes.length + drop > SWEEP_RECORDS_PER_APPLY_MAX)) {
      next = key;
      break;
    }
    visited++;
    if (drop === 0) continue;
    for (let i = 0; i < drop; i++) {
      const entry = index.revs[i] as Revision;
      deletes.push({ main: entry.main, sub: entry.sub });
    }
    updates.push([key, compacted(index, drop)]);
  }
  // The tree is edited after the walk: a B+ tree iterator does not survive edits.
  for (const [key, index] of updates) {
    if (index === null) state.keys.delete(key);
    else state.keys.set(key, index);
  }
  return { deletes, next };
}

/** Drops revision-time entries of compacted revisions, oldest first, a bounded number. */
export function trimTimes(state: MvccState, revision: number): void {
  for (let i = 0; i < SWEEP_TIMES_PER_APPLY_MAX; i++) {
    const timeMs = state.times.minKey();
    if (timeMs === undefined || (state.times.get(timeMs) as number) > revision) return;
    state.times.delete(timeMs);
  }
}
