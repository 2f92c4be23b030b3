// The rules that tie the records of a data directory together. Each rule is checked twice
// (TigerBeetle "pair assertions across a boundary"): as an assertion before a write, so that
// the storage never writes a state it would refuse, and as STORAGE_CORRUPT when open() reads
// the state back.

import type { HardState } from '@raftplane/raft';
import type { LogPosition } from './codec.js';

/** What is wrong, and with which record (`hard state record`, `raft log entry 1042`, ...). */
export interface Problem {
  readonly record: string;
  readonly index?: number;
  readonly problem: string;
}

export function logEntryRecord(index: number): string {
  return `raft log entry ${index}`;
}

/**
 * What is wrong with the entry at (`index`, `term`) following the one at `previous` in the log,
 * or null. The log is contiguous (no gap, no repeat) and its terms never go down (Raft §5.3:
 * a leader appends entries of its own term after those of earlier terms).
 */
export function entryProblem(previous: LogPosition, index: number, term: number): string | null {
  if (index > previous.index + 1) {
    const missing = index - 1 === previous.index + 1 ? `entry ${index - 1} is` : `entries ${previous.index + 1}..${index - 1} are`;
    return `gap in the log: ${missing} missing after entry ${previous.index}`;
  }
  if (index <= previous.index) return `index does not follow entry ${previous.index}`;
  if (term < previous.term) return `term ${term} is below the term ${previous.term} of entry ${previous.index}`;
  return null;
}

/** The facts about a whole data directory that its records must agree on. */
export interface DurableBounds {
  /** The last entry removed from the log: firstIndex() - 1, and its term. */
  readonly compacted: LogPosition;
  readonly snapshot: LogPosition;
  readonly last: LogPosition;
  /** The log's term at the snapshot's index when the log still holds that entry, else -1. */
  readonly termAtSnapshot: number;
  readonly hardState: HardState;
}

/** What is wrong with `bounds`, or null. Checks in a fixed order, so the first problem is always named. */
export function boundsProblem(bounds: DurableBounds): Problem | null {
  const { compacted, snapshot, last, termAtSnapshot, hardState } = bounds;
  if (compacted.index > snapshot.index) {
    const lost = `entries ${snapshot.index + 1}..${compacted.index} are lost`;
    return {
      record: 'compacted record',
      index: compacted.index,
      problem: `the log is compacted to ${compacted.index}, past the snapshot at ${snapshot.index}: ${lost}`,
    };
  }
  if (compacted.index === snapshot.index && compacted.term !== snapshot.term) {
    return {
      record: 'compacted record',
      index: compacted.index,
      problem: `term ${compacted.term} differs from the term ${snapshot.term} of the snapshot at that index`,
    };
  }
  if (snapshot.index > last.index) {
    return { record: 'snapshot record', index: snapshot.index, problem: `the snapshot is past the last log index ${last.index}` };
  }
  if (snapshot.index > compacted.index && termAtSnapshot !== snapshot.term) {
    return {
      record: 'snapshot record',
      index: snapshot.index,
      problem: `the snapshot's term ${snapshot.term} differs from the term ${termAtSnapshot} of ${logEntryRecord(snapshot.index)}`,
    };
  }
  return hardStateProblem(snapshot, last, hardState);
}

function hardStateProblem(snapshot: LogPosition, last: LogPosition, hardState: HardState): Problem | null {
  const record = 'hard state record';
  if (hardState.commit > last.index) {
    return { record, index: hardState.commit, problem: `commit ${hardState.commit} is ahead of the last log index ${last.index}` };
  }
  if (hardState.commit < snapshot.index) {
    return { record, index: hardState.commit, problem: `commit ${hardState.commit} is below the snapshot index ${snapshot.index}` };
  }
  if (hardState.term < last.term) {
    const problem = `term ${hardState.term} is below the term ${last.term} of the last ${logEntryRecord(last.index)}`;
    return { record, index: last.index, problem };
  }
  return null;
}

export function describeProblem(problem: Problem): string {
  return `${problem.record}: ${problem.problem}`;
}
