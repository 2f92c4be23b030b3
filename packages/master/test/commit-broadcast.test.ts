import { describe, expect, test } from 'vitest';
import { CommitBroadcastClock } from '../src/commit-broadcast.js';

describe('CommitBroadcastClock', () => {
  test('an idle commit index is due the delay after the loop first went idle with it', () => {
    const clock = new CommitBroadcastClock(1);
    clock.idle(7, 100);
    expect(clock.remainingMs(100)).toBe(1);
    expect(clock.remainingMs(100.4)).toBeCloseTo(0.6);
    // Going idle again with the same commit index does not push its moment back.
    clock.idle(7, 100.5);
    expect(clock.remainingMs(101)).toBe(0);
    expect(clock.remainingMs(105)).toBe(0);
  });

  test('a newer commit index starts its own delay: an older deadline does not send it early', () => {
    const clock = new CommitBroadcastClock(1);
    clock.idle(7, 100);
    // The next append carried 7; 8 was committed and the loop went idle with it at 100.6.
    clock.idle(8, 100.6);
    expect(clock.remainingMs(101)).toBeCloseTo(0.6);
    expect(clock.remainingMs(101.6)).toBe(0);
  });
});
