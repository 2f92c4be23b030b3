// How long a failed key waits before it is retried (client-go util/workqueue
// default_rate_limiters.go): the longer of a per-key exponential backoff (5 ms doubling to
// 1000 s) and an overall token bucket (10 per second, burst 100), so that one broken object backs
// off alone while a storm of failures cannot retry faster than the bucket allows.

import assert from 'node:assert/strict';
import type { Clock } from './clock.js';

export interface RateLimiter<K> {
  /** The delay before `key` may be retried; counts a failure of it. */
  whenMs(key: K): number;
  /** The key succeeded: its failure count starts again from zero. */
  forget(key: K): void;
  /** Failures counted for `key` since it was last forgotten. */
  numRequeues(key: K): number;
}

/** Per key: baseMs * 2^failures, capped at maxMs (ItemExponentialFailureRateLimiter). */
export class ExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {
    assert.ok(baseMs > 0 && baseMs <= maxMs, `exponential limiter range [${baseMs}, ${maxMs}]`);
  }

  whenMs(key: K): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    // 2^60 times any base is past every max; stop doubling there so the number stays finite.
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(failures, 60));
  }

  forget(key: K): void {
    this.failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * A token bucket over all keys (BucketRateLimiter on golang.org/x/time/rate): `burst` tokens,
 * refilled at `perSecond`; each retry reserves one, and a reservation the bucket cannot cover yet
 * waits until it can (tokens may go negative: later reservations queue behind earlier ones).
 */
export class TokenBucketRateLimiter<K> implements RateLimiter<K> {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    assert.ok(perSecond > 0 && burst >= 1, `token bucket ${perSecond}/s burst ${burst}`);
    this.tokens = burst;
    this.lastMs = clock.now();
  }

  whenMs(_key: K): number {
    const nowMs = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.perSecond) / 1000);
    this.lastMs = nowMs;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.perSecond);
  }

  forget(_key: K): void {}

  numRequeues(_key: K): number {
    return 0;
  }
}

/** The longest delay any of the limiters asks for (MaxOfRateLimiter). */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  private readonly limiters: readonly RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    assert.ok(limiters.length > 0, 'MaxOfRateLimiter needs a limiter');
    this.limiters = limiters;
  }

  whenMs(key: K): number {
    let delayMs = 0;
    for (const limiter of this.limiters) delayMs = Math.max(delayMs, limiter.whenMs(key));
    return delayMs;
  }

  forget(key: K): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: K): number {
    let count = 0;
    for (const limiter of this.limiters) count = Math.max(count, limiter.numRequeues(key));
    return count;
  }
}

/** client-go's DefaultControllerRateLimiter: max(5 ms → 1000 s per key, 10 qps burst 100 overall). */
export function defaultControllerRateLimiter<K>(clock: Clock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(new ExponentialFailureRateLimiter<K>(5, 1_000_000), new TokenBucketRateLimiter<K>(10, 100, clock));
}
