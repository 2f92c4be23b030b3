// Reconnect backoff: exponential in the number of failures since the last open connection,
// bounded by the options, with jitter so that masters restarted together do not redial in step.

import assert from 'node:assert/strict';

/** Doubling stops here: 2^30 times any minimum is past every maximum. */
const DOUBLINGS_MAX = 30;

/**
 * The wait before redial number `failures` + 1: a ceiling of min * 2^failures capped at max, and
 * "equal jitter" under it (half fixed, half random), never below min. `random` is in [0, 1).
 */
export function reconnectDelayMs(failures: number, delayMsMin: number, delayMsMax: number, random: () => number): number {
  assert.ok(Number.isSafeInteger(failures) && failures >= 0, `failures ${failures} must be an integer >= 0`);
  assert.ok(delayMsMin >= 1 && delayMsMin <= delayMsMax, `reconnect delay range [${delayMsMin}, ${delayMsMax}]`);
  const r = random();
  assert.ok(r >= 0 && r < 1, `random() returned ${r}, outside [0, 1)`);
  const ceilingMs = Math.min(delayMsMax, delayMsMin * 2 ** Math.min(failures, DOUBLINGS_MAX));
  const delayMs = Math.max(delayMsMin, Math.round(ceilingMs / 2 + (r * ceilingMs) / 2));
  assert.ok(delayMs >= delayMsMin && delayMs <= delayMsMax, `reconnect delay ${delayMs} outside [${delayMsMin}, ${delayMsMax}]`);
  return delayMs;
}
