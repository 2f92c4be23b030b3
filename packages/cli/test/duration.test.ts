// Durations as Kubernetes components spell them on the command line.

import { describe, expect, test } from 'vitest';
import { formatDurationMs, parseDurationMs } from '../src/index.js';

describe('durations', () => {
  test.each([
    ['15s', 15_000],
    ['1500ms', 1_500],
    ['0.3s', 300],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    [' 2s ', 2_000],
  ])('%s is %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  test.each(['', '15', 's', '1.s', '-1s', '1d', '1s2', '1 s', 'ms'])('%j is not a duration', (text) => expect(parseDurationMs(text)).toBeNull());

  test('defaults print in the unit they are written in', () => {
    expect(formatDurationMs(15_000)).toBe('15s');
    expect(formatDurationMs(1_500)).toBe('1500ms');
  });
});
