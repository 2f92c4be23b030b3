// Backoff: doubling from the minimum to the maximum with equal jitter from the injected random,
// never outside [min, max]; and sleep on an injected clock that leaves nothing behind on abort.

import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelayMs, ManualClock, sleep } from '../src/index.js';

describe('backoff', () => {
  it('doubles a ceiling from min to max, with half of it jittered', () => {
    expect([0, 1, 2, 3].map((n) => backoffDelayMs(n, 800, 30_000, () => 0))).toEqual([800, 800, 1600, 3200]);
    expect([0, 1, 2, 3].map((n) => backoffDelayMs(n, 800, 30_000, () => 0.999999))).toEqual([800, 1600, 3200, 6400]);
    expect(backoffDelayMs(40, 800, 30_000, () => 0.5)).toBe(22_500);
  });

  it('stays in [min, max] for any failure count and random value', () => {
    for (let failures = 0; failures < 64; failures++) {
      for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
        const delayMs = backoffDelayMs(failures, 800, 30_000, () => r);
        expect(delayMs).toBeGreaterThanOrEqual(800);
        expect(delayMs).toBeLessThanOrEqual(30_000);
      }
    }
  });

  it('rejects a random source outside [0, 1) loudly', () => {
    expect(() => backoffDelayMs(0, 1, 2, () => 1)).toThrow(/outside \[0, 1\)/);
  });

  it('Backoff remembers failures until reset', () => {
    const backoff = new Backoff(100, 1_000, () => 0.999999);
    expect([backoff.nextDelayMs(), backoff.nextDelayMs(), backoff.nextDelayMs(), backoff.nextDelayMs(), backoff.nextDelayMs()]).toEqual([100, 200, 400, 800, 1000]);
    backoff.reset();
    expect(backoff.nextDelayMs()).toBe(100);
  });
});

describe('sleep', () => {
  it('resolves when the clock reaches the time', async () => {
    const clock = new ManualClock();
    let woke = false;
    const sleeping = sleep(clock, 50).then(() => (woke = true));
    clock.advance(49);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(1);
    await sleeping;
    expect(woke).toBe(true);
  });

  it('rejects with the reason on abort and cancels its timer', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const sleeping = sleep(clock, 50, controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
    expect(clock.pendingCount()).toBe(0);
    await expect(sleep(clock, 5, controller.signal)).rejects.toBe(reason);
  });
});
