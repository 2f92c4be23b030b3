// The store's state in memory: the ordered key index (every retained revision of every key, and
// the current value of each live key), the lease table, the client session table and the
// revision-time map. Every part is persistent: fork() is O(1) (B+ trees cloned copy-on-write,
// per-key revision lists shared append-only), so apply works on a fork while reads go on against
// the state last written, and a command that fails is dropped with its fork.

import assert from 'node:assert/strict';
import sortedBtree from 'sorted-btree';
import type { KeyValue, LeaseId } from './types.js';

export type BTree<K, V> = import('sorted-btree').default<K, V>;
type BTreeConstructor = typeof import('sorted-btree').default;
// Node's ESM loader hands out the CommonJS exports object (the class is its `default`); bundlers
// such as vitest's unwrap it to the class itself.
const BTreeClass: BTreeConstructor = (sortedBtree as unknown as { default?: BTreeConstructor }).default ?? (sortedBtree as unknown as BTreeConstructor);

export function newTree<K, V>(): BTree<K, V> {
  return new BTreeClass<K, V>();
}

/** One revision of one key. Its value is on disk (and in `KeyIndex.current` while it is the live one). */
export interface RevEntry {
  readonly main: number;
  readonly sub: number;
  /** 0 for a tombstone. */
  readonly createRevision: number;
  readonly version: number;
  readonly lease: LeaseId;
  readonly tombstone: boolean;
}

/**
 * A key's retained history. Invariants: `revs[0, count)` rise strictly by (main, sub); the last
 * one is live iff `current` is non-null, and then `current` holds its value; entries beyond
 * `count` belong to other versions of this index (the array is shared, append-only).
 */
export interface KeyIndex {
  readonly key: Uint8Array;
  readonly revs: RevEntry[];
  readonly count: number;
  readonly current: KeyValue | null;
}

export interface LeaseEntry {
  readonly id: LeaseId;
  /** The granted TTL in seconds. */
  readonly ttl: number;
  /** Key strings of the live keys attached. */
  readonly keys: BTree<string, undefined>;
}

export interface SessionEntry {
  readonly sequence: number;
  readonly lastUsedMs: number;
  /** Position in use order (from MvccState.touchNext): sessions age and are evicted in this order. */
  readonly touch: number;
}

export function lastEntry(index: KeyIndex): RevEntry {
  assert.ok(index.count >= 1, 'key index without revisions');
  return index.revs[index.count - 1] as RevEntry;
}

/** A new version of `index` (or a new index) with `entry` appended; O(1) unless the shared array moved on. */
export function appendEntry(index: KeyIndex | undefined, key: Uint8Array, entry: RevEntry, current: KeyValue | null): KeyIndex {
  assert.equal(entry.tombstone, current === null, `key revision ${entry.main}.${entry.sub}: tombstone ${entry.tombstone} with current ${current === null ? 'null' : 'set'}`);
  if (index === undefined) return { key, revs: [entry], count: 1, current };
  const last = lastEntry(index);
  assert.ok(entry.main > last.main || (entry.main === last.main && entry.sub > last.sub), `key revision ${entry.main}.${entry.sub} is not after ${last.main}.${last.sub}`);
  // Another version appended here already (a fork that was dropped): copy our prefix first.
  const revs = index.revs.length === index.count ? index.revs : index.revs.slice(0, index.count);
  revs.push(entry);
  return { key: index.key, revs, count: index.count + 1, current };
}

/** Position of the newest entry with main revision <= `revision`, or -1. O(log revisions of the key). */
export function positionAt(index: KeyIndex, revision: number): number {
  let low = 0;
  let high = index.count - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if ((index.revs[middle] as RevEntry).main <= revision) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** The scalars of a state, as the `state` record holds them. */
export interface StatePosition {
  readonly appliedIndex: number;
  readonly currentRevision: number;
  readonly compactedRevision: number;
  readonly clockMs: number;
  readonly touchNext: number;
}

export class MvccState implements StatePosition {
  /** Raft index of the last command applied. */
  appliedIndex = 0;
  /** etcd's store revision: 1 for an empty store, +1 per write txn that changes something. */
  currentRevision = 1;
  /** Reads below it fail (KV_COMPACTED); each key keeps its newest revision at or below it. */
  compactedRevision = 0;
  /** The highest proposedAtMs applied: the only clock apply knows (rule 3). Never goes back. */
  clockMs = 0;
  touchNext = 0;
  keys: BTree<string, KeyIndex>;
  leases: BTree<LeaseId, LeaseEntry>;
  sessions: BTree<string, SessionEntry>;
  /** touch -> clientId: the oldest session first. */
  sessionsByTouch: BTree<number, string>;
  /** clockMs -> the newest revision written at that time; times and revisions rise together. */
  times: BTree<number, number>;
  /** Lease key sets created by this fork, mutated in place; any other is cloned before a change. Made on the first. */
  private ownLeaseKeys: Set<BTree<string, undefined>> | null = null;

  /** Empty trees, or `from`'s cloned (copy-on-write): a fork builds no trees it would throw away. */
  constructor(from?: MvccState) {
    this.keys = from === undefined ? newTree() : from.keys.clone();
    this.leases = from === undefined ? newTree() : from.leases.clone();
    this.sessions = from === undefined ? newTree() : from.sessions.clone();
    this.sessionsByTouch = from === undefined ? newTree() : from.sessionsByTouch.clone();
    this.times = from === undefined ? newTree() : from.times.clone();
  }

  /** An empty state at `position`: the scalars of a state record, or of another state. */
  static at(position: StatePosition): MvccState {
    return new MvccState().moveTo(position);
  }

  fork(): MvccState {
    return new MvccState(this).moveTo(this);
  }

  private moveTo(position: StatePosition): this {
    this.appliedIndex = position.appliedIndex;
    this.currentRevision = position.currentRevision;
    this.compactedRevision = position.compactedRevision;
    this.clockMs = position.clockMs;
    this.touchNext = position.touchNext;
    return this;
  }

  attachKey(leaseId: LeaseId, key: string): void {
    this.editLeaseKeys(leaseId, (keys) => keys.set(key, undefined));
  }

  detachKey(leaseId: LeaseId, key: string): void {
    this.editLeaseKeys(leaseId, (keys) => {
      const had = keys.delete(key);
      assert.ok(had, `lease ${leaseId}: detaching key ${JSON.stringify(key)} that is not attached`);
    });
  }

  private editLeaseKeys(leaseId: LeaseId, edit: (keys: BTree<string, undefined>) => void): void {
    const lease = this.leases.get(leaseId);
    assert.ok(lease !== undefined, `lease ${leaseId} is not in the lease table`);
    let keys = lease.keys;
    if (this.ownLeaseKeys?.has(keys) !== true) {
      keys = keys.clone();
      (this.ownLeaseKeys ??= new Set()).add(keys);
      this.leases.set(leaseId, { id: lease.id, ttl: lease.ttl, keys });
    }
    edit(keys);
  }

  setSession(clientId: string, sequence: number): SessionEntry {
    const old = this.sessions.get(clientId);
    if (old !== undefined) this.sessionsByTouch.delete(old.touch);
    const entry: SessionEntry = { sequence, lastUsedMs: this.clockMs, touch: this.touchNext++ };
    this.sessions.set(clientId, entry);
    this.sessionsByTouch.set(entry.touch, clientId);
    return entry;
  }

  deleteSession(clientId: string): void {
    const old = this.sessions.get(clientId);
    assert.ok(old !== undefined, `session ${JSON.stringify(clientId)} is not in the table`);
    this.sessions.delete(clientId);
    this.sessionsByTouch.delete(old.touch);
  }

  /** The oldest session (least recently used), or undefined. */
  oldestSession(): { touch: number; clientId: string } | undefined {
    const touch = this.sessionsByTouch.minKey();
    if (touch === undefined) return undefined;
    const clientId = this.sessionsByTouch.get(touch);
    assert.ok(clientId !== undefined, `session touch ${touch} has no client`);
    return { touch, clientId };
  }

  /** Checks the invariants tying the tables together: O(n), for tests and open. */
  checkTables(): void {
    assert.equal(this.sessions.size, this.sessionsByTouch.size, `${this.sessions.size} sessions, ${this.sessionsByTouch.size} in use order`);
    for (const [touch, clientId] of this.sessionsByTouch.entries()) {
      assert.equal(this.sessions.get(clientId)?.touch, touch, `session ${JSON.stringify(clientId)} is not at touch ${touch}`);
      assert.ok(touch < this.touchNext, `session touch ${touch} >= touchNext ${this.touchNext}`);
    }
    assert.ok(this.compactedRevision <= this.currentRevision, `compacted ${this.compactedRevision} > current ${this.currentRevision}`);
  }
}
