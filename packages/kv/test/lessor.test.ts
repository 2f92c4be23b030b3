// The lessor: lease expiry decided by the leader alone (DESIGN rule 5). etcd's minimum TTL, the new
// leader's extension before expiring anything, renewals, TimeToLive's rounding, expired leases
// listed oldest first and bounded, followers that know no expiry; and the whole against a naive
// model under random operations (fast-check). Time is an injected clock.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKvError } from '../src/errors.js';
import { grantTtlSeconds, Lessor, minLeaseTtlSeconds } from '../src/lessor.js';

function clock(startMs = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms) => (nowMs += ms) };
}

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    return isKvError(error) ? error.code : `not a KvError: ${String(error)}`;
  }
}

describe("etcd's minimum lease TTL", () => {
  it('is one and a half election timeouts, rounded up to whole seconds', () => {
    expect(minLeaseTtlSeconds({ tickMs: 100, electionTimeoutTicks: 10 })).toBe(2); // 1.5 s
    expect(minLeaseTtlSeconds({ tickMs: 100, electionTimeoutTicks: 20 })).toBe(3); // 3 s exactly
    expect(minLeaseTtlSeconds({ tickMs: 50, electionTimeoutTicks: 10 })).toBe(1); // 0.75 s
    expect(minLeaseTtlSeconds({ tickMs: 1000, electionTimeoutTicks: 5 })).toBe(7); // (3 * 5) / 2 = 7 ticks, integer division as etcd
  });

  it('raises a shorter grant to it and refuses one above the maximum with etcd\'s error', () => {
    const limits = { minTtlSeconds: 2, maxTtlSeconds: 9_000_000_000 };
    expect(grantTtlSeconds(1, limits)).toBe(2);
    expect(grantTtlSeconds(0, limits)).toBe(2);
    expect(grantTtlSeconds(-5, limits)).toBe(2);
    expect(grantTtlSeconds(60, limits)).toBe(60);
    expect(code(() => grantTtlSeconds(9_000_000_001, limits))).toBe('KV_LEASE_TTL_TOO_LARGE');
  });
});

describe('a follower (not primary)', () => {
  it('keeps no expiry: keepAlive and TimeToLive go to the leader, nothing is listed as expired', () => {
    const time = clock();
    const lessor = new Lessor({ now: time.now, minTtlSeconds: 2 });
    expect(lessor.isPrimary()).toBe(false);
    lessor.granted(1n, 5);
    time.advance(60_000);
    expect(lessor.expired(10)).toEqual([]);
    expect(code(() => lessor.keepAlive(1n))).toBe('KV_NOT_LEADER');
    expect(code(() => lessor.remainingSeconds(1n))).toBe('KV_NOT_LEADER');
    lessor.revoked(1n); // applied on every master: harmless here
    expect(lessor.size()).toBe(0);
  });
});

describe('promote: a new leader extends every lease before expiring any', () => {
  it('no lease expires sooner than now + ttl + extendMs', () => {
    const time = clock();
    const lessor = new Lessor({ now: time.now, minTtlSeconds: 2 });
    lessor.promote(
      [
        { id: 1n, ttl: 10 },
        { id: 2n, ttl: 5 },
      ],
      1_000,
    );
    expect(lessor.isPrimary()).toBe(true);
    time.advance(5_999);
    expect(lessor.expired(10)).toEqual([]);
    time.advance(1);
    expect(lessor.expired(10)).toEqual([2n]);
    time.advance(5_000);
    expect(lessor.expired(10)).toEqual([2n, 1n]);
  });

  it('gives a lease below the minimum TTL the minimum', () => {
    const time = clock();
    const lessor = new Lessor({ now: time.now, minTtlSeconds: 3 });
    lessor.promote([{ id: 1n, ttl: 1 }], 0);
    time.advance(2_999);
    expect(lessor.expired(1)).toEqual([]);
    expect(lessor.keepAlive(1n)).toBe(3);
  });

  it('demote() forgets every expiry time; the next promote() starts afresh', () => {
    const time = clock();
    const lessor = new Lessor({ now: time.now, minTtlSeconds: 2 });
    lessor.promote([{ id: 1n, ttl: 5 }], 0);
    time.advance(10_000);
    expect(lessor.expired(10)).toEqual([1n]);
    lessor.demote();
    expect(lessor.isPrimary()).toBe(false);
    expect(lessor.expired(10)).toEqual([]);
    expect(code(() => lessor.keepAlive(1n))).toBe('KV_NOT_LEADER');
    lessor.promote([{ id: 1n, ttl: 5 }], 2_000);
    time.advance(6_999);
    expect(lessor.expired(10)).toEqual([]);
    expect(lessor.remainingSeconds(1n)).toBe(0);
  });

  it('promoting twice without a demote is a bug and says so', () => {
    const lessor = new Lessor({ now: () => 0, minTtlSeconds: 2 });
    lessor.promote([], 0);
    expect(() => lessor.promote([], 0)).toThrow('already primary');
  });
});

describe('on the leader', () => {
  it('a grant expires ttl from now; keepAlive renews for the whole TTL and returns it', () => {
    const time = clock();
    const lessor = new Lessor({ now: time.now, minTtlSeconds: 2 });
    lessor.promote([], 1_000);
    lessor.granted(7n, 10);
    time.advance(9_000);
    expect(lessor.keepAlive(7n)).toBe(10);
    time.advance(9_999);
    expect(lessor.expired(10)).toEqual([]);
    time.advance(1);
    expect(lessor.expired(10)).toEqual([7n]);
  });

  it("TimeToLive's seconds are truncated as etcd's (int64 of Remaining().Seconds()), 0 once past expiry", () => {
    const time = clock();
    const lessor = new Lessor({ now: time.now, minTtlSeconds: 2 });
    lessor.promote([], 0);
    lessor.granted(1n, 10);
    expect(lessor.remainingSeconds(1n)).toBe(10);
    time.advance(1);
    expect(lessor.remainingSeconds(1n)).toBe(9);
    time.advance(8_998);
    expect(lessor.remainingSeconds(1n)).toBe(1);
    time.advance(1_000);
    expect(lessor.remainingSeconds(1n)).toBe(0);
    time.advance(5_000);
    expect(lessor.remainingSeconds(1n)).toBe(0);
    expect(code(() => lessor.remainingSeconds(2n))).toBe('KV_LEASE_NOT_FOUND');
  });

  it('an unknown lease, or one already past its expiry, is not renewed (its revoke may be on its way)', () => {
    const time = clock();
    const lessor = new Lessor({ now: time.now, minTtlSeconds: 2 });
    lessor.promote([], 0);
    expect(code(() => lessor.keepAlive(3n))).toBe('KV_LEASE_NOT_FOUND');
    lessor.granted(3n, 2);
    time.advance(2_000);
    expect(code(() => lessor.keepAlive(3n))).toBe('KV_LEASE_NOT_FOUND');
    expect(lessor.expired(10)).toEqual([3n]);
  });

  it('expired() lists the longest expired first, at most `limit`, until revoked', () => {
    const time = clock();
    const lessor = new Lessor({ now: time.now, minTtlSeconds: 1 });
    lessor.promote([], 0);
    for (const [id, ttl] of [
      [5, 3],
      [4, 1],
      [9, 2],
      [2, 2],
      [8, 60],
    ] as const) {
      lessor.granted(BigInt(id), ttl);
    }
    time.advance(3_000);
    expect(lessor.expired(10)).toEqual([4n, 2n, 9n, 5n]); // same expiry: by id
    expect(lessor.expired(2)).toEqual([4n, 2n]);
    expect(lessor.expired(2)).toEqual([4n, 2n]); // still listed: the revokes are not applied yet
    lessor.revoked(4n);
    lessor.revoked(2n);
    expect(lessor.expired(2)).toEqual([9n, 5n]);
    lessor.revoked(9n);
    lessor.revoked(5n);
    expect(lessor.expired(10)).toEqual([]);
    expect(lessor.size()).toBe(1);
    expect(code(() => lessor.remainingSeconds(4n))).toBe('KV_LEASE_NOT_FOUND');
  });

  it('rejects bad options and a bad limit', () => {
    expect(code(() => new Lessor({ now: () => 0, minTtlSeconds: 0 }))).toBe('KV_INVALID_ARGUMENT');
    const lessor = new Lessor({ now: () => 0, minTtlSeconds: 1 });
    expect(() => lessor.expired(0)).toThrow('limit 0');
  });
});

describe('against a naive model under random operations (fast-check)', () => {
  type Op =
    | { readonly kind: 'grant'; readonly id: number; readonly ttl: number }
    | { readonly kind: 'revoke'; readonly id: number }
    | { readonly kind: 'keepAlive'; readonly id: number }
    | { readonly kind: 'advance'; readonly ms: number }
    | { readonly kind: 'expired'; readonly limit: number }
    | { readonly kind: 'leadership' };
  const id = fc.integer({ min: 1, max: 12 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('grant' as const), id, ttl: fc.integer({ min: -1, max: 8 }) }),
    fc.record({ kind: fc.constant('revoke' as const), id }),
    fc.record({ kind: fc.constant('keepAlive' as const), id }),
    fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 4_000 }) }),
    fc.record({ kind: fc.constant('expired' as const), limit: fc.integer({ min: 1, max: 5 }) }),
    fc.constant({ kind: 'leadership' as const }),
  );

  it('lists, renews and counts down exactly as a sorted map of expiry times would', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.integer({ min: 0, max: 3_000 }), (ops, extendMs) => {
        const minTtlSeconds = 2;
        const time = clock();
        const lessor = new Lessor({ now: time.now, minTtlSeconds });
        // The replicated lease set (as the store holds it) and the leader's expiry times.
        const store = new Map<number, number>();
        const expiry = new Map<number, number>();
        const ttlOf = (ttl: number): number => Math.max(ttl, minTtlSeconds);
        lessor.promote([], extendMs);
        let primary = true;
        for (const step of ops) {
          switch (step.kind) {
            case 'grant':
              if (store.has(step.id)) break; // the store refuses an existing id
              store.set(step.id, ttlOf(step.ttl));
              lessor.granted(BigInt(step.id), step.ttl);
              if (primary) expiry.set(step.id, time.now() + ttlOf(step.ttl) * 1000);
              break;
            case 'revoke':
              if (!store.delete(step.id)) break;
              expiry.delete(step.id);
              lessor.revoked(BigInt(step.id));
              break;
            case 'keepAlive': {
              const due = expiry.get(step.id);
              const expected = !primary ? 'KV_NOT_LEADER' : due === undefined || due <= time.now() ? 'KV_LEASE_NOT_FOUND' : null;
              expect(code(() => lessor.keepAlive(BigInt(step.id)))).toBe(expected);
              if (expected === null) expiry.set(step.id, time.now() + store.get(step.id)! * 1000);
              break;
            }
            case 'advance':
              time.advance(step.ms);
              break;
            case 'expired': {
              const listed = primary
                ? [...expiry].filter(([, due]) => due <= time.now()).sort(([a, dueA], [b, dueB]) => dueA - dueB || a - b).map(([leaseId]) => leaseId)
                : [];
              expect(lessor.expired(step.limit)).toEqual(listed.slice(0, step.limit).map(BigInt));
              break;
            }
            case 'leadership':
              if (primary) {
                lessor.demote();
                expiry.clear();
              } else {
                lessor.promote([...store].map(([leaseId, ttl]) => ({ id: BigInt(leaseId), ttl })), extendMs);
                for (const [leaseId, ttl] of store) expiry.set(leaseId, time.now() + ttl * 1000 + extendMs);
              }
              primary = !primary;
              break;
          }
          if (primary) {
            for (const [leaseId, due] of expiry) expect(lessor.remainingSeconds(BigInt(leaseId))).toBe(Math.max(0, Math.trunc((due - time.now()) / 1000)));
          }
          expect(lessor.size()).toBe(primary ? store.size : 0);
        }
      }),
      { numRuns: 500 },
    );
  });
});
