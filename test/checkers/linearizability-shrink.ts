// Shrinks a key's non-linearizable history to a small one that still fails, using only changes
// that cannot make a linearizable history non-linearizable; so the small history's failure
// proves the big one's, and is no artefact of dropping a write some read depended on:
// - cut at a time T (where the search got stuck): drop what was invoked after T, and weaken to
//   'unknown' what completed after;
// - drop an operation that changes no state (a read, a readList, a cas that failed) — also what
//   `localize` does, in bulk;
// - weaken an answered write, cas or append to 'unknown' (it may then apply late or never);
//   one whose value nothing observes is then left out entirely (linearizability-register.ts,
//   linearizability-list.ts).

import type { Operation } from './history.js';
import { splitList, type ModelName } from './linearizability-models.js';
import { preparePartition } from './linearizability-partition.js';
import { searchLinearization, type SearchLimits } from './linearizability-search.js';

export interface ShrinkResult {
  /** The operations kept, as recorded, by invocation. Not linearizable. */
  readonly operations: readonly Operation[];
  /** False when the time budget ran out first (the result still fails, but may not be minimal). */
  readonly complete: boolean;
  /** Searches run. */
  readonly checksCount: number;
}

type Check = 'fails' | 'passes' | 'gave-up';

/** Shrinks `ops` (one key, known not to be linearizable); `hintReturnMs` is where its search got stuck last. */
export function shrinkFailure(ops: readonly Operation[], model: ModelName, hintReturnMs: number, limits: SearchLimits): ShrinkResult {
  const shrinker = new Shrinker(model, limits);
  let working = shrinker.localizedCut(ops, hintReturnMs);
  working = shrinker.reduce(working, stateless(working), () => null);
  working = shrinker.reduce(working, answeredChanges(working), weakened);
  const dropped = new Set(preparePartition([...working.values()], model).droppedIds);
  const kept = ops.filter((op) => working.has(op.id) && !dropped.has(op.id));
  return { operations: kept.sort((a, b) => a.invokeMs - b.invokeMs || a.id - b.id), complete: !shrinker.outOfTime(), checksCount: shrinker.checksCount };
}

/** The operation as if its answer had been lost: it may take effect at any time after invocation, or never. */
export function weakened(op: Operation): Operation {
  return op.outcome === 'unknown' ? op : { ...op, outcome: 'unknown', output: undefined };
}

const localizeRecentCountMin = 16;

/** Answered, and changed nothing: a read, a readList, a cas that failed. */
function isStateless(op: Operation): boolean {
  if (op.outcome !== 'ok') return false;
  return op.kind === 'read' || op.kind === 'readList' || (op.kind === 'cas' && op.output?.succeeded === false);
}

function stateless(working: ReadonlyMap<number, Operation>): number[] {
  return [...working.values()].filter(isStateless).map((op) => op.id);
}

/** The value a write or cas sets, or the element an append adds. */
function writtenValue(op: Operation): string | null {
  return (op.kind === 'cas' ? op.input.to : op.input.value) ?? null;
}

/** Values the answered operations saw: read values, compared values, listed elements. */
function observedValues(ops: readonly Operation[]): Set<string | null> {
  const observed = new Set<string | null>();
  for (const op of ops) {
    if (op.kind === 'cas') observed.add(op.input.from ?? null);
    if (op.outcome !== 'ok') continue;
    if (op.kind === 'read') observed.add(op.output?.value ?? null);
    if (op.kind === 'readList' || op.kind === 'append') for (const element of splitList(op.output?.value)) observed.add(element);
  }
  return observed;
}

function answeredChanges(working: ReadonlyMap<number, Operation>): number[] {
  const ids: number[] = [];
  for (const op of working.values()) if (op.outcome === 'ok' && (op.kind === 'write' || op.kind === 'cas' || op.kind === 'append')) ids.push(op.id);
  return ids;
}

class Shrinker {
  checksCount = 0;

  constructor(
    private readonly model: ModelName,
    private readonly limits: SearchLimits,
  ) {}

  outOfTime(): boolean {
    return performance.now() > this.limits.deadlineMs;
  }

  check(ops: Iterable<Operation>): Check {
    this.checksCount++;
    const result = searchLinearization(preparePartition([...ops], this.model), this.limits);
    return result.kind === 'not-linearizable' ? 'fails' : result.kind === 'linearizable' ? 'passes' : 'gave-up';
  }

  /**
   * The history cut where its search got stuck last, then localized. A failing localized history
   * proves its cut fails too (each step keeps linearizable histories linearizable), so the cut,
   * whose own check would be a full search, is checked only when localizing finds nothing.
   */
  localizedCut(ops: readonly Operation[], hintReturnMs: number): Map<number, Operation> {
    const whole = new Map(ops.map((op) => [op.id, op]));
    const cutAtHint = Number.isFinite(hintReturnMs) ? cut(ops, hintReturnMs) : whole;
    const localized = this.localize(cutAtHint);
    if (localized !== null) return localized;
    if (cutAtHint !== whole && this.check(cutAtHint.values()) === 'fails') return cutAtHint;
    return this.localize(whole) ?? whole;
  }

  /**
   * A first, coarse step for long histories: keep the last `recentCount` operations as they are,
   * and the writes of any value they observe; drop the other reads and weaken the other writes.
   * Growing `recentCount` until that fails usually leaves a few dozen operations for `reduce`.
   */
  localize(working: Map<number, Operation>): Map<number, Operation> | null {
    const ordered = [...working.values()].sort((a, b) => a.invokeMs - b.invokeMs || a.id - b.id);
    for (let recentCount = localizeRecentCountMin; recentCount < ordered.length; recentCount *= 8) {
      if (this.outOfTime()) break;
      const recent = ordered.slice(-recentCount);
      const observed = observedValues(recent);
      const candidate = new Map<number, Operation>();
      for (const op of ordered.slice(0, -recentCount)) {
        if (isStateless(op)) continue;
        candidate.set(op.id, observed.has(writtenValue(op)) ? op : weakened(op));
      }
      for (const op of recent) candidate.set(op.id, op);
      if (this.check(candidate.values()) === 'fails') return candidate;
    }
    return null;
  }

  /**
   * Applies `change` (null: drop) to as many of `ids` as it can while the history still fails,
   * trying halves, then quarters, and so on down to single operations (as delta debugging does).
   */
  reduce(working: Map<number, Operation>, ids: readonly number[], change: (op: Operation) => Operation | null): Map<number, Operation> {
    let current = working;
    let remaining = [...ids];
    for (let chunkSize = Math.ceil(remaining.length / 2); chunkSize >= 1; chunkSize = chunkSize === 1 ? 0 : Math.ceil(chunkSize / 2)) {
      for (let start = 0; start < remaining.length; ) {
        if (this.outOfTime()) return current;
        const chunk = remaining.slice(start, start + chunkSize);
        const candidate = new Map(current);
        for (const id of chunk) {
          const changed = change(candidate.get(id)!);
          if (changed === null) candidate.delete(id);
          else candidate.set(id, changed);
        }
        if (this.check(candidate.values()) === 'fails') {
          current = candidate;
          remaining = [...remaining.slice(0, start), ...remaining.slice(start + chunk.length)];
        } else {
          start += chunkSize;
        }
      }
    }
    return current;
  }
}

/** The history cut at `cutMs`: nothing invoked after it, and nothing answered after it either. */
function cut(ops: readonly Operation[], cutMs: number): Map<number, Operation> {
  const kept = new Map<number, Operation>();
  for (const op of ops) {
    if (op.invokeMs > cutMs) continue;
    kept.set(op.id, op.outcome === 'ok' && op.completeMs > cutMs ? weakened(op) : op);
  }
  return kept;
}
