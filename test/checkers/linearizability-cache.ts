// Lowe's cache of the configurations the search visited (placed operations and state), where a
// configuration that placed fewer unknown operations subsumes one that placed more.

import type { Model } from './linearizability-models.js';

/** The unknown operations placed, newest first: a persistent list, so cached configurations share it. */
export interface PlacedUnknown {
  readonly index: number;
  readonly parent: PlacedUnknown | null;
  readonly count: number;
}

/** Where a search stands: which operations it placed, and the state they leave. */
export interface Configuration<State> {
  /** The answered operations placed: all of those before the frontier but the holes (ascending). */
  readonly frontier: number;
  /** The search's live array: copied when kept. */
  readonly holes: readonly number[];
  readonly unknowns: PlacedUnknown | null;
  readonly state: State;
  /** The search's live bitset of placed operations: read during add, never stored. */
  readonly placed: Uint32Array;
}

type CacheEntry<State> = Omit<Configuration<State>, 'placed'>;

/** Keyed by a hash of the placed answered operations and of the state; unknowns compare by subset. */
export class VisitedConfigurations<State> {
  private readonly buckets = new Map<number, CacheEntry<State>[]>();
  size = 0;

  constructor(private readonly model: Model<State>) {}

  /** Records the configuration unless a visited one subsumes it; returns whether it was new. */
  add(key: number, configuration: Configuration<State>): boolean {
    const bucket = this.buckets.get(key);
    if (bucket !== undefined) for (const visited of bucket) if (this.subsumes(visited, configuration)) return false;
    const entry: CacheEntry<State> = { frontier: configuration.frontier, holes: configuration.holes.slice(), unknowns: configuration.unknowns, state: configuration.state };
    if (bucket === undefined) this.buckets.set(key, [entry]);
    else bucket.push(entry);
    this.size++;
    return true;
  }

  /** Same answered operations and state, and the visited one placed only unknowns the current one placed too. */
  private subsumes(visited: CacheEntry<State>, current: Configuration<State>): boolean {
    if (visited.frontier !== current.frontier || !sameNumbers(visited.holes, current.holes)) return false;
    if (!this.model.equal(visited.state, current.state)) return false;
    if (visited.unknowns === current.unknowns) return true;
    if ((visited.unknowns?.count ?? 0) > (current.unknowns?.count ?? 0)) return false;
    for (let node = visited.unknowns; node !== null; node = node.parent) {
      if ((current.placed[node.index >>> 5]! & (1 << (node.index & 31))) === 0) return false;
    }
    return true;
  }
}

export function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
