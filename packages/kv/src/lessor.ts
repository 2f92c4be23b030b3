// The lessor: when each lease expires, decided by the leader alone and never replicated (DESIGN
// rule 5: it runs only while leading). The leases themselves (ids, TTLs, attached keys) are
// replicated state in the store; the leader proposes a revoke for each lease the lessor lists as
// expired, and every master applies it.

import assert from 'node:assert/strict';
import { KvError } from './errors.js';
import type { LeaseId } from './types.js';

/**
 * etcd's minimum lease TTL: one and a half election timeouts, rounded up to whole seconds
 * (etcd server.go: `minTTL := time.Duration((3*cfg.ElectionTicks)/2) * heartbeat`, where
 * `heartbeat` is the tick, and `MinLeaseTTL: int64(math.Ceil(minTTL.Seconds()))`). A shorter lease
 * could expire during an ordinary leader election. Defaults (100 ms ticks, 10): 2 s.
 */
export function minLeaseTtlSeconds(raft: { readonly tickMs: number; readonly electionTimeoutTicks: number }): number {
  assert.ok(Number.isSafeInteger(raft.tickMs) && raft.tickMs >= 1, `tickMs ${raft.tickMs} must be an integer >= 1`);
  assert.ok(Number.isSafeInteger(raft.electionTimeoutTicks) && raft.electionTimeoutTicks >= 1, `electionTimeoutTicks ${raft.electionTimeoutTicks} must be an integer >= 1`);
  const minTtlMs = Math.floor((3 * raft.electionTimeoutTicks) / 2) * raft.tickMs;
  return Math.ceil(minTtlMs / 1000);
}

/**
 * The TTL a grant gets, decided by the leader before it proposes the grant (so that apply uses
 * only the entry, rule 3): below the minimum it is raised to it, as etcd's lessor does; above the
 * maximum the grant is refused with etcd's "too large lease TTL".
 */
export function grantTtlSeconds(requestedSeconds: number, limits: { readonly minTtlSeconds: number; readonly maxTtlSeconds: number }): number {
  assert.ok(Number.isSafeInteger(requestedSeconds), `requested TTL ${requestedSeconds} must be an integer`);
  if (requestedSeconds > limits.maxTtlSeconds) {
    throw new KvError('KV_LEASE_TTL_TOO_LARGE', undefined, { ttl: requestedSeconds, maxTtlSeconds: limits.maxTtlSeconds });
  }
  return Math.max(requestedSeconds, limits.minTtlSeconds);
}

export interface LessorOptions {
  /** Injected clock (ms). */
  readonly now: () => number;
  /** A lease is never given less than this (leases granted under an older, smaller minimum included). */
  readonly minTtlSeconds: number;
}

interface Lease {
  readonly id: LeaseId;
  readonly ttlSeconds: number;
  expiryMs: number;
  /** Position in the expiry heap. Invariant: heap[heapIndex] === this. */
  heapIndex: number;
}

export class Lessor {
  private readonly now: () => number;
  private readonly minTtlSeconds: number;
  /** Empty unless primary: a follower forgets every expiry time (etcd's demote). */
  private readonly leases = new Map<LeaseId, Lease>();
  private readonly heap = new ExpiryHeap();
  private primary = false;

  constructor(options: LessorOptions) {
    if (typeof options.now !== 'function') throw invalidOption('now', options.now, 'a function');
    if (!Number.isSafeInteger(options.minTtlSeconds) || options.minTtlSeconds < 1) {
      throw invalidOption('minTtlSeconds', options.minTtlSeconds, 'an integer >= 1');
    }
    this.now = options.now;
    this.minTtlSeconds = options.minTtlSeconds;
  }

  /**
   * This master became leader: `leases` is every lease in the store at the applied index (read in
   * the same turn, before any later grant or revoke is applied). No lease expires sooner than
   * now + ttl + extendMs: the old leader may have renewed it just before it fell, so the new one
   * waits out at least an election timeout before expiring anything (etcd's Promote).
   */
  promote(leases: readonly { readonly id: LeaseId; readonly ttl: number }[], extendMs: number): void {
    assert.ok(!this.primary, 'promote() while already primary: demote() first');
    assert.ok(Number.isSafeInteger(extendMs) && extendMs >= 0, `extendMs ${extendMs} must be an integer >= 0`);
    assert.equal(this.leases.size, 0, `${this.leases.size} leases tracked before promote()`);
    this.primary = true;
    const nowMs = this.now();
    for (const lease of leases) this.add(lease.id, lease.ttl, nowMs + extendMs);
    assert.equal(this.leases.size, leases.length, `promote(): ${leases.length} leases given, ${this.leases.size} distinct`);
  }

  /** Leadership lost: forget every expiry time; nothing is listed as expired until the next promote(). */
  demote(): void {
    this.primary = false;
    this.leases.clear();
    this.heap.clear();
  }

  isPrimary(): boolean {
    return this.primary;
  }

  /** A grant was applied. On the leader the lease expires ttl from now; on a follower nothing is kept. */
  granted(id: LeaseId, ttl: number): void {
    if (!this.primary) return;
    assert.ok(!this.leases.has(id), `lease ${id} granted twice`);
    this.add(id, ttl, this.now());
  }

  /** A revoke was applied (by expiry or by a client): the lease is no longer listed. */
  revoked(id: LeaseId): void {
    const lease = this.leases.get(id);
    if (lease === undefined) return;
    this.leases.delete(id);
    this.heap.remove(lease);
  }

  /**
   * Renews the lease for its whole TTL and returns the TTL (seconds). A lease already past its
   * expiry is not renewed: its revoke may be on its way through the log, and a client told "renewed"
   * must be able to count on its keys (etcd waits for the revoke and then answers "not found").
   */
  keepAlive(id: LeaseId): number {
    const lease = this.primaryLease(id);
    const nowMs = this.now();
    if (lease.expiryMs <= nowMs) throw new KvError('KV_LEASE_NOT_FOUND', undefined, { id, expired: true });
    lease.expiryMs = nowMs + lease.ttlSeconds * 1000;
    this.heap.update(lease);
    return lease.ttlSeconds;
  }

  /**
   * Seconds until the lease expires, truncated as etcd's TimeToLive does (`int64(Remaining().Seconds())`),
   * and 0 for a lease past its expiry whose revoke has not been applied yet.
   */
  remainingSeconds(id: LeaseId): number {
    const lease = this.primaryLease(id);
    return Math.max(0, Math.trunc((lease.expiryMs - this.now()) / 1000));
  }

  /**
   * Leases past their expiry, the longest expired first (then by id), at most `limit`. A lease stays
   * listed until revoked() or renewed, so the caller must remember which revokes it has in flight.
   * Nothing when not primary.
   */
  expired(limit: number): LeaseId[] {
    assert.ok(Number.isSafeInteger(limit) && limit >= 1, `limit ${limit} must be an integer >= 1`);
    if (!this.primary) return [];
    return this.heap.expiredIds(this.now(), limit);
  }

  /** Leases tracked (0 when not primary). */
  size(): number {
    return this.leases.size;
  }

  private add(id: LeaseId, ttl: number, fromMs: number): void {
    assert.ok(typeof id === 'bigint' && id !== 0n, `lease id ${id} must be a non-zero int64`);
    assert.ok(Number.isSafeInteger(ttl), `lease ${id}: ttl ${ttl} must be an integer`);
    const ttlSeconds = Math.max(ttl, this.minTtlSeconds);
    const lease: Lease = { id, ttlSeconds, expiryMs: fromMs + ttlSeconds * 1000, heapIndex: -1 };
    this.leases.set(id, lease);
    this.heap.push(lease);
  }

  private primaryLease(id: LeaseId): Lease {
    if (!this.primary) throw new KvError('KV_NOT_LEADER', undefined, { id });
    const lease = this.leases.get(id);
    if (lease === undefined) throw new KvError('KV_LEASE_NOT_FOUND', undefined, { id });
    return lease;
  }
}

/** A binary min-heap of leases by (expiryMs, id), each lease knowing its index: O(log n) renew and revoke. */
class ExpiryHeap {
  private items: Lease[] = [];

  clear(): void {
    this.items = [];
  }

  push(lease: Lease): void {
    lease.heapIndex = this.items.length;
    this.items.push(lease);
    this.up(lease.heapIndex);
  }

  update(lease: Lease): void {
    assert.equal(this.items[lease.heapIndex], lease, `lease ${lease.id} not at heap index ${lease.heapIndex}`);
    this.down(this.up(lease.heapIndex));
  }

  remove(lease: Lease): void {
    const index = lease.heapIndex;
    assert.equal(this.items[index], lease, `lease ${lease.id} not at heap index ${index}`);
    const last = this.items.pop()!;
    lease.heapIndex = -1;
    if (last === lease) return;
    this.items[index] = last;
    last.heapIndex = index;
    this.down(this.up(index));
  }

  /** Ids with expiryMs <= nowMs in heap order, at most `limit`; the heap is left as it was. */
  expiredIds(nowMs: number, limit: number): LeaseId[] {
    const taken: Lease[] = [];
    while (taken.length < limit && this.items.length > 0 && this.items[0]!.expiryMs <= nowMs) {
      const top = this.items[0]!;
      this.remove(top);
      taken.push(top);
    }
    for (const lease of taken) this.push(lease);
    return taken.map((lease) => lease.id);
  }

  private less(a: Lease, b: Lease): boolean {
    return a.expiryMs < b.expiryMs || (a.expiryMs === b.expiryMs && a.id < b.id);
  }

  private up(index: number): number {
    const items = this.items;
    const lease = items[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex]!;
      if (!this.less(lease, parent)) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = lease;
    lease.heapIndex = index;
    return index;
  }

  private down(index: number): void {
    const items = this.items;
    const lease = items[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && this.less(items[right]!, items[left]!) ? right : left;
      if (!this.less(items[child]!, lease)) break;
      items[index] = items[child]!;
      items[index]!.heapIndex = index;
      index = child;
    }
    items[index] = lease;
    lease.heapIndex = index;
  }
}

function invalidOption(name: string, value: unknown, expected: string): KvError {
  return new KvError('KV_INVALID_ARGUMENT', `etcdserver: invalid argument: LessorOptions.${name} (${String(value)}) must be ${expected}`, { option: name });
}
