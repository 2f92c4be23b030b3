// What the search orders: one key's operations under a sequential model (a register, in
// linearizability-register.ts, or an append-only list, in linearizability-list.ts).

import type { Operation } from './history.js';

export type ModelName = 'register' | 'list';

/** One operation as the search sees it: where it sits in real time and what it may do to a state. */
export interface SearchOperation<State> {
  readonly op: Operation;
  /**
   * An 'unknown' outcome (or an answer that was weakened to one): it may take effect at any time
   * after invocation or never, and has no output to match.
   */
  readonly unknown: boolean;
  readonly invokeMs: number;
  /** +Infinity when unknown: nothing has to happen before it returns. */
  readonly completeMs: number;
  /** Its effect ignores the state (a write): a run of unknown operations needs at most one, first. */
  readonly blind: boolean;
  /** Its legality or effect depends on the state: what `need` of other operations looks at. */
  readonly observes: boolean;
  /** Unknown operations with identical effects share a class (>= 0); the search tries one per class. */
  readonly classId: number;
  /** The state after it, or undefined when it cannot take effect from `state` with what it answered. */
  step(state: State): State | undefined;
  /** Why step(state) is undefined, for reports. */
  whyIllegal(state: State): string;
  /**
   * For an unknown operation: what placing it now could do for the operations that could come
   * next (those of them that observe the state). An unknown operation can always wait until
   * right before the one that needs its effect, so the search places it only then ('none': do
   * not), and useless placements do not multiply. 'any-change': what helps is only that the
   * state changes (a failed cas needs the register not to hold what it holds), which an
   * operation of a class (an unseen write) does as well.
   */
  need(state: State, pending: readonly SearchOperation<State>[]): PlacementNeed;
}

export type PlacementNeed = 'none' | 'its-effect' | 'any-change';

// Method syntax on purpose: a Model<string> is then usable where a Model<unknown> is expected.
export interface Model<State> {
  readonly name: ModelName;
  readonly initial: State;
  hash(state: State): number;
  equal(a: State, b: State): boolean;
  describe(state: State): string;
}

export interface PreparedPartition<State> {
  readonly model: Model<State>;
  /** Sorted by invocation. */
  readonly operations: readonly SearchOperation<State>[];
  /** Left out: failed operations, unknown reads, unknown writes no answer could have seen. */
  readonly droppedIds: readonly number[];
  /**
   * Optional, for speed: the unknown operations (indices, ascending) that could help now, given
   * the state, the answered operations that could come next and observe it, and whether a class
   * operation is pending; each must be one that `need` would allow. null: ask `need` of each.
   */
  unknownCandidates?(state: State, answeredPending: readonly SearchOperation<State>[], classPending: boolean): readonly number[] | null;
}

export const registerKinds: ReadonlySet<Operation['kind']> = new Set(['read', 'write', 'cas']);
export const listKinds: ReadonlySet<Operation['kind']> = new Set(['append', 'readList']);

/** FNV-1a over UTF-16 code units. */
export function stringHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** The list as recorded: elements joined by ','; '' is the empty list. */
export function splitList(joined: string | null | undefined): string[] {
  return joined === null || joined === undefined || joined === '' ? [] : joined.split(',');
}

export function leftOut(ops: readonly Operation[], kept: readonly Operation[]): number[] {
  const keptSet = new Set(kept);
  return ops.filter((op) => !keptSet.has(op)).map((op) => op.id);
}

export function byInvocation<T extends { readonly invokeMs: number; readonly op: Operation }>(a: T, b: T): number {
  return a.invokeMs - b.invokeMs || a.op.id - b.op.id;
}
