import { describe, expect, it } from 'vitest';
import { RestartBackoff } from '../src/restart-backoff.js';

describe('restart back-off', () => {
  it('restarts at once the first time, then waits 10 s doubling up to 5 min, and starts over after a long quiet', () => {
    const backoff = new RestartBackoff({ initialMs: 10_000, maxMs: 300_000 });
    let now = 0;
    expect(backoff.tryRestart('u/app', now)).toBe(0);
    now += 1_000;
    expect(backoff.tryRestart('u/app', now)).toBe(9_000);
    now += 9_000;
    expect(backoff.tryRestart('u/app', now)).toBe(0);
    expect(backoff.currentDelayMs('u/app')).toBe(20_000);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const wait = backoff.tryRestart('u/app', now);
      waits.push(wait);
      now += wait;
      expect(backoff.tryRestart('u/app', now)).toBe(0);
    }
    expect(waits).toEqual([20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000, 300_000]);
    now += 600_001;
    expect(backoff.tryRestart('u/app', now)).toBe(0);
    expect(backoff.currentDelayMs('u/app')).toBe(10_000);
    backoff.forgetPod('u');
    expect(backoff.tryRestart('u/app', now + 1)).toBe(0);
  });
});
