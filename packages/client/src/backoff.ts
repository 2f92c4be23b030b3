// Exponential backoff with jitter, from an injected random source: request retries, watch
// resumes and relists (client-go's reflector: 0.8 s doubling to 30 s, jittered).

import assert from 'node:assert/strict';

/** Doubling stops here: 2^30 times any minimum is past every maximum. */
const DOUBLINGS_MAX = 30;

/**
 * The wait before retry number `failures` + 1: a ceiling of min * 2^failures capped at max, and
 * "equal jitter" under it (half fixed, half random), never below min, so that clients failing
 * together do not retry in step. `random` is in [0, 1).
 */
export function backoffDelayMs(failures: number, delayMsMin: number, delayMsMax: number, random: () => number): number {
  assert.ok(Number.isSafeInteger(failures) && failures >= 0, `failures ${failures} must be an integer >= 0`);
  assert.ok(delayMsMin >= 0 && delayMsMin <= delayMsMax, `backoff range [${delayMsMin}, ${delayMsMax}]`);
  const r = random();
  assert.ok(r >= 0 && r < 1, `random() returned ${r}, outside [0, 1)`);
  const ceilingMs = Math.min(delayMsMax, delayMsMin * 2 ** Math.min(failures, DOUBLINGS_MAX));
  const delayMs = Math.max(delayMsMin, Math.round(ceilingMs / 2 + (r * ceilingMs) / 2));
  assert.ok(delayMs >= delayMsMin && delayMs <= delayMsMax, `backoff delay ${delayMs} outside [${delayMsMin}, ${delayMsMax}]`);
  return delayMs;
}

/** A backoff that remembers its failures: `nextDelayMs()` grows, `reset()` starts again from the minimum. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly delayMsMin: number,
    private readonly delayMsMax: number,
    private readonly random: () => number,
  ) {
    assert.ok(delayMsMin >= 0 && delayMsMin <= delayMsMax, `backoff range [${delayMsMin}, ${delayMsMax}]`);
  }

  nextDelayMs(): number {
    const delayMs = backoffDelayMs(this.failures, this.delayMsMin, this.delayMsMax, this.random);
    this.failures = Math.min(this.failures + 1, DOUBLINGS_MAX);
    return delayMs;
  }

  reset(): void {
    this.failures = 0;
  }
}
