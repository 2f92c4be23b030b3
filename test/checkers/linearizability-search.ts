// Wing & Gong's search for a linearization of one key's operations, with Lowe's cache of visited
// configurations, run iteratively over a linked list of call and return entries as Porcupine
// (anishathalye/porcupine, checker.go) does.
//
// Unknown outcomes get no return entry: they never have to be placed, and a configuration is
// (answered operations placed, unknown operations placed, state). Hundreds of unknowns would
// multiply the configurations; these rules keep them from it, each losing no linearization:
// - a visited configuration with the same answered operations and state and a subset of the
//   unknown ones subsumes a new one (an unknown left unplaced can always go last); the search
//   places answered operations before it tries unknown ones, so smaller sets tend to come first;
// - an unknown operation is placed only right before an operation that needs its effect (it can
//   always wait until then): SearchOperation.need, or the partition's unknownCandidates;
// - in a run of unknown operations placed one after another, a blind one (a write) comes first
//   (it would hide the ones before it), and of interchangeable ones (a class) only the earliest
//   pending is tried.
// linearizability-search.test.ts holds the search to a brute force over every order.

import { sameNumbers, VisitedConfigurations, type Configuration, type PlacedUnknown } from './linearizability-cache.js';
import type { Model, PreparedPartition, SearchOperation } from './linearizability-models.js';

export interface SearchLimits {
  /** performance.now() after which the search gives up. */
  readonly deadlineMs: number;
  /** Bound on visited configurations kept (memory: about 200 bytes each). */
  readonly cacheEntriesMax: number;
}

export interface DeadEnd<State> {
  /** Indices into the operations, in order: the longest linearizable prefix found. */
  readonly order: readonly number[];
  /** Distinct states in which the same answered operations were left stuck (a few at most). */
  readonly states: readonly State[];
  /** The operation whose return could not be passed: it, or one called before it, cannot come next. */
  readonly blockingIndex: number;
  /** Operations not in the prefix and called before the blocking one returned: all candidates for next. */
  readonly pendingIndices: readonly number[];
}

export type SearchResult<State> =
  | { readonly kind: 'linearizable'; readonly order: readonly number[]; readonly configurationsCount: number }
  | {
      readonly kind: 'not-linearizable';
      readonly deadEnd: DeadEnd<State>;
      /** The latest return time any branch of the search got stuck at. */
      readonly furthestReturnMs: number;
      readonly configurationsCount: number;
    }
  | { readonly kind: 'gave-up'; readonly reason: string; readonly configurationsCount: number };

const deadEndStatesMax = 4;
/** Iterations between two looks at the clock. */
const clockCheckIterations = 4096;

interface Entry {
  /** Operation index; -1 for the list head. */
  readonly index: number;
  readonly call: boolean;
  readonly timeMs: number;
  /** A call's return; a return's call. */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

/** Where the search is: the state, and the scan for the next operation to place from it. */
interface Cursor<State> {
  state: State;
  /** 1: answered operations called before the first return; 2: unknown ones called before it. */
  pass: 1 | 2;
  /** Pass 1: the next entry to look at. */
  entry: Entry | null;
  /** Pass 2: the first return entry, up to which unknown operations are available. */
  boundary: Entry;
  /** Pass 2: the unknown operations to try, ascending, and the next one. */
  candidates: readonly number[];
  candidateAt: number;
  /** Pass 2: whether the candidates were chosen by need already (unknownCandidates). */
  needChecked: boolean;
  /** Pass 2: the operations that could come next and observe the state (see SearchOperation.need). */
  pending: readonly SearchOperation<State>[];
  /** Pass 2: whether an unknown operation of a class could come next. */
  classPending: boolean;
  /** Pass 2: classes already tried in this scan. */
  triedClasses: number;
}

/** A placement, with the scan it interrupted (resumed after it once its subtree fails). */
interface Frame<State> extends Readonly<Cursor<State>> {
  readonly index: number;
  /** The frontier before this placement, to undo it. */
  readonly frontierBefore: number;
}

/** Searches for a linearization; gives up past the deadline or the cache bound. */
export function searchLinearization<State>(partition: PreparedPartition<State>, limits: SearchLimits): SearchResult<State> {
  return new Search(partition, limits).run();
}

class Search<State> {
  private readonly model: Model<State>;
  private readonly ops: readonly SearchOperation<State>[];
  private readonly unknownCandidates: PreparedPartition<State>['unknownCandidates'];
  /** Calls and returns of answered operations, in time order. */
  private readonly head: Entry;
  private readonly entryOf: readonly (Entry | null)[];
  /** Unknown operations, ascending (so by call time); those that observe the state; each class's members. */
  private readonly unknownIndices: readonly number[];
  private readonly observingUnknownIndices: readonly number[];
  private readonly classMembers: readonly (readonly number[])[];
  /** Members of each class placed: always its first ones (the earliest pending is the one tried). */
  private readonly classPlacedCounts: number[];
  private readonly cache: VisitedConfigurations<State>;
  private readonly answeredCount: number;
  private readonly zobrist: Int32Array;
  /** Every placed operation, by index. */
  private readonly placed: Uint32Array;
  // The placed answered operations, compactly: every one before the frontier but the holes. An
  // operation can be placed only once everything that returned before its call is, so the holes
  // are at most one per client (a slow operation is one hole, however many others pass it).
  private frontier = 0;
  /** Unplaced answered operations before the frontier, ascending. */
  private holes: number[] = [];
  private answeredPlacedCount = 0;
  /** Zobrist hash of the placed answered operations. */
  private answeredHash = 0;
  private unknownPlaced: PlacedUnknown | null = null;
  private best: {
    deadEnd: DeadEnd<State>;
    states: State[];
    frontier: number;
    holes: readonly number[];
    answeredPlacedCount: number;
    unknownPlacedCount: number;
  } | null = null;
  private furthestReturnMs = -Infinity;

  constructor(
    partition: PreparedPartition<State>,
    private readonly limits: SearchLimits,
  ) {
    this.model = partition.model;
    this.ops = partition.operations;
    this.unknownCandidates = partition.unknownCandidates;
    for (let i = 1; i < this.ops.length; i++) {
      if (this.ops[i]!.invokeMs < this.ops[i - 1]!.invokeMs) throw new Error('operations must be sorted by invocation');
    }
    this.placed = new Uint32Array(Math.max(1, Math.ceil(this.ops.length / 32)));
    this.zobrist = new Int32Array(this.ops.length);
    let seed = 0x9e3779b9;
    for (let index = 0; index < this.ops.length; index++) {
      seed = (seed + 0x6d2b79f5) | 0;
      this.zobrist[index] = mix32(seed);
    }
    const indices = this.ops.map((_, index) => index);
    this.answeredCount = indices.filter((i) => !this.ops[i]!.unknown).length;
    this.unknownIndices = indices.filter((i) => this.ops[i]!.unknown);
    this.observingUnknownIndices = this.unknownIndices.filter((i) => this.ops[i]!.observes);
    const classCount = Math.max(0, ...this.ops.map((op) => op.classId + 1));
    this.classMembers = Array.from({ length: classCount }, (_, c) => this.unknownIndices.filter((i) => this.ops[i]!.classId === c));
    this.classPlacedCounts = this.classMembers.map(() => 0);
    const { head, entryOf } = linkEntries(this.ops);
    this.head = head;
    this.entryOf = entryOf;
    this.cache = new VisitedConfigurations(this.model);
  }

  run(): SearchResult<State> {
    const frames: Frame<State>[] = [];
    const initial = this.model.initial;
    this.cache.add(this.cacheKey(initial), this.snapshot(initial));
    const cursor: Cursor<State> = {
      state: initial,
      pass: 1,
      entry: this.head.next,
      boundary: this.head,
      candidates: [],
      candidateAt: 0,
      needChecked: false,
      pending: [],
      classPending: false,
      triedClasses: 0,
    };
    for (let iterations = 1; ; iterations++) {
      if (this.answeredPlacedCount === this.answeredCount) {
        return { kind: 'linearizable', order: frames.map((frame) => frame.index), configurationsCount: this.cache.size };
      }
      if (iterations % clockCheckIterations === 0 && performance.now() > this.limits.deadlineMs) {
        return { kind: 'gave-up', reason: 'timed out', configurationsCount: this.cache.size };
      }
      if (this.cache.size > this.limits.cacheEntriesMax) {
        return { kind: 'gave-up', reason: `visited more than ${this.limits.cacheEntriesMax} configurations`, configurationsCount: this.cache.size };
      }
      const entry = cursor.entry;
      if (cursor.pass === 1) {
        if (entry === null) throw new Error('entry list ended before every answered operation was placed');
        if (!entry.call) this.startUnknownScan(cursor, entry);
        else if (!this.tryAdvance(cursor, frames, entry.index)) cursor.entry = entry.next;
      } else if (cursor.candidateAt < cursor.candidates.length) {
        this.scanUnknown(cursor, frames, cursor.candidates[cursor.candidateAt]!);
      } else {
        // Nothing can come next here: undo the last placement and go on with what follows it.
        this.recordDeadEnd(frames, cursor.state, cursor.boundary);
        if (!this.backtrack(cursor, frames)) {
          const deadEnd = this.best?.deadEnd;
          if (deadEnd === undefined) throw new Error('no dead end recorded for a failed search');
          return { kind: 'not-linearizable', deadEnd, furthestReturnMs: this.furthestReturnMs, configurationsCount: this.cache.size };
        }
      }
    }
  }

  /** Pass 1 reached a return: the unknown operations called before it get their turn. */
  private startUnknownScan(cursor: Cursor<State>, boundary: Entry): void {
    cursor.pass = 2;
    cursor.boundary = boundary;
    cursor.triedClasses = 0;
    cursor.candidateAt = 0;
    const available = (index: number): boolean => !this.isPlaced(index) && this.ops[index]!.invokeMs <= boundary.timeMs;
    const answered: SearchOperation<State>[] = [];
    for (let entry = this.head.next; entry !== null && entry !== boundary; entry = entry.next) {
      if (entry.call && this.ops[entry.index]!.observes) answered.push(this.ops[entry.index]!);
    }
    cursor.classPending = this.classMembers.some((members, c) => {
      const first = members[this.classPlacedCounts[c]!];
      return first !== undefined && this.ops[first]!.invokeMs <= boundary.timeMs;
    });
    const proposed = this.unknownCandidates?.(cursor.state, answered, cursor.classPending) ?? null;
    if (proposed !== null) {
      cursor.candidates = proposed.filter(available);
      cursor.needChecked = true;
      cursor.pending = answered;
      return;
    }
    cursor.candidates = upTo(this.unknownIndices, this.ops, boundary.timeMs).filter(available);
    cursor.needChecked = false;
    cursor.pending = [...answered, ...upTo(this.observingUnknownIndices, this.ops, boundary.timeMs).filter(available).map((i) => this.ops[i]!)];
  }

  private scanUnknown(cursor: Cursor<State>, frames: Frame<State>[], index: number): void {
    const op = this.ops[index]!;
    let eligible = !(op.blind && lastPlacedUnknown(frames, this.ops)) && (cursor.needChecked || this.worthPlacing(op, cursor));
    if (eligible && op.classId >= 0) {
      const bit = 1 << op.classId;
      eligible = (cursor.triedClasses & bit) === 0;
      cursor.triedClasses |= bit;
    }
    if (!eligible || !this.tryAdvance(cursor, frames, index)) cursor.candidateAt++;
  }

  /**
   * Whether an unknown operation can help now. When all that helps is a change of state, a blind
   * one (a write) leaves it to a pending class operation: that one changes the state as well, and
   * the write can still follow to set its own value. (A cas cannot: it compares.)
   */
  private worthPlacing(op: SearchOperation<State>, cursor: Cursor<State>): boolean {
    const need = op.need(cursor.state, cursor.pending);
    if (need === 'none') return false;
    return need === 'its-effect' || !op.blind || op.classId >= 0 || !cursor.classPending;
  }

  /** Places the operation if it can take effect and leads somewhere new; then scans afresh. */
  private tryAdvance(cursor: Cursor<State>, frames: Frame<State>[], index: number): boolean {
    const op = this.ops[index]!;
    const next = op.step(cursor.state);
    if (next === undefined) return false;
    const frontierBefore = this.tryPlace(index, op, next);
    if (frontierBefore < 0) return false;
    const { state, pass, entry, boundary, candidates, candidateAt, needChecked, pending, classPending, triedClasses } = cursor;
    frames.push({ state, pass, entry, boundary, candidates, candidateAt, needChecked, pending, classPending, triedClasses, index, frontierBefore });
    cursor.state = next;
    cursor.pass = 1;
    cursor.entry = this.head.next;
    return true;
  }

  /** Undoes the last placement and resumes its scan after it; false when there is none. */
  private backtrack(cursor: Cursor<State>, frames: Frame<State>[]): boolean {
    const frame = frames.pop();
    if (frame === undefined) return false;
    this.unplace(frame.index, this.ops[frame.index]!, frame.frontierBefore);
    cursor.state = frame.state;
    cursor.pass = frame.pass;
    cursor.entry = frame.pass === 1 ? this.entryOf[frame.index]!.next : frame.entry;
    cursor.boundary = frame.boundary;
    cursor.candidates = frame.candidates;
    cursor.candidateAt = frame.pass === 2 ? frame.candidateAt + 1 : frame.candidateAt;
    cursor.needChecked = frame.needChecked;
    cursor.pending = frame.pending;
    cursor.classPending = frame.classPending;
    cursor.triedClasses = frame.triedClasses;
    return true;
  }

  /** Places the operation unless a visited configuration subsumes the result; returns the frontier before, or -1. */
  private tryPlace(index: number, op: SearchOperation<State>, next: State): number {
    const frontierBefore = this.place(index, op);
    if (this.cache.add(this.cacheKey(next), this.snapshot(next))) return frontierBefore;
    this.unplace(index, op, frontierBefore);
    return -1;
  }

  /** Returns the frontier before. */
  private place(index: number, op: SearchOperation<State>): number {
    const frontierBefore = this.frontier;
    this.placed[index >>> 5]! |= 1 << (index & 31);
    if (op.unknown) {
      this.unknownPlaced = { index, parent: this.unknownPlaced, count: (this.unknownPlaced?.count ?? 0) + 1 };
      if (op.classId >= 0) {
        const placedCount = this.classPlacedCounts[op.classId]!;
        if (this.classMembers[op.classId]![placedCount] !== index) throw new Error(`class ${op.classId} member ${index} placed before earlier members`);
        this.classPlacedCounts[op.classId] = placedCount + 1;
      }
      return frontierBefore;
    }
    lift(this.entryOf[index]!);
    this.answeredHash ^= this.zobrist[index]!;
    this.answeredPlacedCount++;
    if (index < this.frontier) {
      const at = this.holes.indexOf(index);
      if (at < 0) throw new Error(`operation ${index} placed twice`);
      this.holes.splice(at, 1);
      return frontierBefore;
    }
    for (let i = this.frontier; i < index; i++) if (!this.ops[i]!.unknown) this.holes.push(i);
    this.frontier = index + 1;
    return frontierBefore;
  }

  private unplace(index: number, op: SearchOperation<State>, frontierBefore: number): void {
    this.placed[index >>> 5]! &= ~(1 << (index & 31));
    if (op.unknown) {
      if (this.unknownPlaced?.index !== index) throw new Error(`unknown operation ${index} unplaced out of order`);
      this.unknownPlaced = this.unknownPlaced.parent;
      if (op.classId >= 0) this.classPlacedCounts[op.classId]!--;
      return;
    }
    unlift(this.entryOf[index]!);
    this.answeredHash ^= this.zobrist[index]!;
    this.answeredPlacedCount--;
    if (index < frontierBefore) {
      insertSorted(this.holes, index);
      return;
    }
    // Placing it moved the frontier: the holes it opened are the last ones.
    while (this.holes.length > 0 && this.holes[this.holes.length - 1]! >= frontierBefore) this.holes.pop();
    this.frontier = frontierBefore;
  }

  private isPlaced(index: number): boolean {
    return (this.placed[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  private cacheKey(state: State): number {
    return (this.answeredHash + Math.imul(this.model.hash(state), 0x85ebca6b)) | 0;
  }

  private snapshot(state: State): Configuration<State> {
    return { frontier: this.frontier, holes: this.holes, unknowns: this.unknownPlaced, state, placed: this.placed };
  }

  /**
   * Keeps the dead end with the most answered operations placed (Porcupine's "longest"), and of
   * those with the same ones, the one with the fewest unknown operations placed: simpler to read.
   */
  private recordDeadEnd(frames: readonly Frame<State>[], state: State, boundary: Entry): void {
    this.furthestReturnMs = Math.max(this.furthestReturnMs, boundary.timeMs);
    const best = this.best;
    if (best !== null && this.answeredPlacedCount < best.answeredPlacedCount) return;
    const sameAnswered = best !== null && best.frontier === this.frontier && sameNumbers(best.holes, this.holes);
    if (best !== null && this.answeredPlacedCount === best.answeredPlacedCount && !sameAnswered) return;
    const unknownPlacedCount = this.unknownPlaced?.count ?? 0;
    if (best === null || !sameAnswered || unknownPlacedCount < best.unknownPlacedCount) {
      const others = best !== null && sameAnswered ? best.states.filter((known) => !this.model.equal(known, state)) : [];
      const states = [state, ...others].slice(0, deadEndStatesMax);
      const deadEnd = { order: frames.map((frame) => frame.index), states, blockingIndex: boundary.index, pendingIndices: this.pendingBefore(boundary) };
      this.best = { deadEnd, states, frontier: this.frontier, holes: this.holes.slice(), answeredPlacedCount: this.answeredPlacedCount, unknownPlacedCount };
      return;
    }
    if (best.states.length < deadEndStatesMax && !best.states.some((known) => this.model.equal(known, state))) best.states.push(state);
  }

  private pendingBefore(boundary: Entry): number[] {
    const pending: number[] = [];
    for (let entry = this.head.next; entry !== null && entry !== boundary; entry = entry.next) if (entry.call) pending.push(entry.index);
    for (const index of upTo(this.unknownIndices, this.ops, boundary.timeMs)) if (!this.isPlaced(index)) pending.push(index);
    return pending;
  }
}

/** The indices (ascending, so by call time) of operations called at or before `timeMs`. */
function upTo<State>(indices: readonly number[], ops: readonly SearchOperation<State>[], timeMs: number): readonly number[] {
  let low = 0;
  let high = indices.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ops[indices[middle]!]!.invokeMs <= timeMs) low = middle + 1;
    else high = middle;
  }
  return indices.slice(0, low);
}

function insertSorted(numbers: number[], value: number): void {
  let i = numbers.length;
  while (i > 0 && numbers[i - 1]! > value) i--;
  numbers.splice(i, 0, value);
}

function lastPlacedUnknown<State>(frames: readonly Frame<State>[], ops: readonly SearchOperation<State>[]): boolean {
  const last = frames[frames.length - 1];
  return last !== undefined && ops[last.index]!.unknown;
}

/** splitmix32's finaliser: distinct, well-spread numbers for the Zobrist hash. */
function mix32(seed: number): number {
  let z = seed;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return z ^ (z >>> 16);
}

/**
 * The calls and returns of answered operations in time order behind a head; at equal times calls
 * come first (such operations overlap). And each operation's call entry (null when unknown).
 */
function linkEntries<State>(ops: readonly SearchOperation<State>[]): { head: Entry; entryOf: (Entry | null)[] } {
  const entries: Entry[] = [];
  const entryOf = ops.map((op, index): Entry | null => {
    if (op.unknown) return null;
    const call: Entry = { index, call: true, timeMs: op.invokeMs, match: null, prev: null, next: null };
    const ret: Entry = { index, call: false, timeMs: op.completeMs, match: call, prev: null, next: null };
    call.match = ret;
    entries.push(call, ret);
    return call;
  });
  entries.sort((a, b) => a.timeMs - b.timeMs || Number(b.call) - Number(a.call) || a.index - b.index);
  const head: Entry = { index: -1, call: false, timeMs: -Infinity, match: null, prev: null, next: null };
  let previous = head;
  for (const entry of entries) {
    previous.next = entry;
    entry.prev = previous;
    previous = entry;
  }
  return { head, entryOf };
}

/** Takes a call and its return out of the list (dancing links: they keep their own pointers). */
function lift(call: Entry): void {
  call.prev!.next = call.next;
  if (call.next !== null) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

/** Puts back what lift took out; lifts are undone in reverse order. */
function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next !== null) call.next.prev = call;
}
