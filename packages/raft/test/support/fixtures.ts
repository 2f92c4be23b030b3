// The fixtures Raft tests share: the entries, snapshots and preloaded nodes they start from, and
// what a call throws, turned into a value a test can compare.

import {
  EntryType,
  NONE,
  isRaftError,
  type ConfState,
  type Entry,
  type NodeId,
  type RaftError,
  type Snapshot,
} from '../../src/index.js';
import type { TestNode } from './test-node.js';

const encoder = new TextEncoder();

/** The voters the unit tests' storage and snapshots describe. */
export const threeVoters: ConfState = { voters: [1, 2, 3] };

/**
 * A normal entry at (`index`, `term`). `data` is its text (by default `e<index>`, so entries are
 * told apart in applied logs), or a byte count, for tests of byte caps where only the size counts.
 */
export function entry(index: number, term: number, data: string | number = `e${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: typeof data === 'number' ? new Uint8Array(data) : encoder.encode(data) };
}

/** Entries from index `first` on, one per term in `terms`, with `entry`'s data (`bytes` bytes when given). */
export function entriesWithTerms(terms: readonly number[], first = 1, bytes?: number): Entry[] {
  return terms.map((term, i) => entry(first + i, term, bytes));
}

/** A snapshot at (`index`, `term`) of `confState`; its data is one byte by default, enough to tell two apart. */
export function snapshot(index: number, term: number, data = new Uint8Array([index]), confState = threeVoters): Snapshot {
  return { metadata: { index, term, confState }, data };
}

/** [index, term] of each entry: what log comparisons care about. */
export function pairs(entries: readonly Entry[]): number[][] {
  return entries.map((e) => [e.index, e.term]);
}

/**
 * Gives `node` a durable log (`entriesWithTerms(terms)`) and hard state, then restarts it from
 * them, as if it had written them before a crash.
 */
export function preload(
  node: TestNode,
  terms: readonly number[],
  term: number,
  { commit = 0, vote = NONE }: { readonly commit?: number; readonly vote?: NodeId } = {},
): void {
  node.storage.append(entriesWithTerms(terms));
  node.storage.setHardState({ term, vote, commit });
  node.restart();
}

/** The Error `fn` throws, or null when it returns; anything thrown that is not an Error is rethrown. */
function thrownError(fn: () => unknown): Error | null {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  return null;
}

/** The name of the error `fn` throws (`AssertionError` for a broken invariant), or null. */
export function thrownName(fn: () => unknown): string | null {
  return thrownError(fn)?.name ?? null;
}

/** The code of the RaftError `fn` throws, the name of any other error, or null when nothing is thrown (house rule 7). */
export function thrownCode(fn: () => unknown): string | null {
  const error = thrownError(fn);
  if (error === null) return null;
  return isRaftError(error) ? error.code : error.name;
}

/** The RaftError with which `fn` refuses (a proposal, a read, a transfer); fails if it does not refuse. */
export function refusal(fn: () => unknown): RaftError {
  const error = thrownError(fn);
  if (error === null) throw new Error('the call was not refused');
  if (!isRaftError(error)) throw error;
  return error;
}
