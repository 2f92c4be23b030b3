// Unit tests for Progress, the leader's view of one follower: match and next, and the probe,
// replicate and snapshot states that decide how much may be sent.

import { describe, expect, it } from 'vitest';
import { Progress } from '../src/progress.js';
import { thrownName } from './support/fixtures.js';

function progress(match: number, next: number, state: 'probe' | 'replicate' | 'snapshot' = 'probe', countMax = 4): Progress {
  const pr = new Progress(next, countMax, 0);
  pr.match = match;
  if (state === 'replicate') {
    pr.becomeReplicate();
    pr.next = next;
  } else if (state === 'snapshot') {
    pr.becomeSnapshot(next);
  }
  return pr;
}

describe('Progress', () => {
  it('starts in probe with nothing matched', () => {
    const pr = new Progress(7, 4, 0);
    expect(pr).toMatchObject({ state: 'probe', match: 0, next: 7, probeSent: false, recentActive: false });
    expect(pr.isPaused()).toBe(false);
  });

  it.each([
    { update: 4, updated: false, match: 5, next: 6 },
    { update: 5, updated: false, match: 5, next: 6 },
    { update: 6, updated: true, match: 6, next: 7 },
    { update: 9, updated: true, match: 9, next: 10 },
  ])('maybeUpdate($update) from match 5, next 6: updated=$updated', ({ update, updated, match, next }) => {
    const pr = progress(5, 6);
    pr.probeSent = true;
    expect(pr.maybeUpdate(update)).toBe(updated);
    expect(pr.match).toBe(match);
    expect(pr.next).toBe(next);
    // A real acknowledgement unpauses a probe; a stale one does not.
    expect(pr.probeSent).toBe(!updated);
  });

  it('maybeUpdate never moves next backwards', () => {
    const pr = progress(5, 10, 'replicate');
    expect(pr.maybeUpdate(7)).toBe(true);
    expect(pr.next).toBe(10);
  });

  it.each([
    { name: 'a stale rejection at the match', rejected: 5, hint: 0, decreased: false, next: 10 },
    { name: 'a stale rejection below the match', rejected: 4, hint: 0, decreased: false, next: 10 },
    { name: 'a rejection above the match', rejected: 9, hint: 9, decreased: true, next: 6 },
  ])('in replicate state, $name', ({ rejected, hint, decreased, next }) => {
    const pr = progress(5, 10, 'replicate');
    expect(pr.maybeDecrTo(rejected, hint)).toBe(decreased);
    expect(pr.next).toBe(next);
  });

  it.each([
    { name: 'a rejection of something not last sent', next: 10, rejected: 5, hint: 5, decreased: false, after: 10 },
    { name: 'a rejection of the last probe, with a far hint', next: 10, rejected: 9, hint: 3, decreased: true, after: 4 },
    { name: 'a rejection with a hint past the rejected index', next: 10, rejected: 9, hint: 12, decreased: true, after: 9 },
    { name: 'a rejection hinting nothing matches', next: 2, rejected: 1, hint: 0, decreased: true, after: 1 },
    { name: 'a rejection at index 0', next: 1, rejected: 0, hint: 0, decreased: true, after: 1 },
  ])('in probe state, $name', ({ next, rejected, hint, decreased, after }) => {
    const pr = progress(0, next);
    pr.probeSent = true;
    expect(pr.maybeDecrTo(rejected, hint)).toBe(decreased);
    expect(pr.next).toBe(after);
    expect(pr.probeSent).toBe(!decreased);
  });

  it('optimisticUpdate moves next past what was sent', () => {
    const pr = progress(3, 4, 'replicate');
    pr.optimisticUpdate(8);
    expect(pr.next).toBe(9);
    expect(pr.match).toBe(3);
  });

  it('becomeProbe from replicate restarts after the match', () => {
    const pr = progress(5, 10, 'replicate');
    pr.inflights.add(9, 1);
    pr.becomeProbe();
    expect(pr).toMatchObject({ state: 'probe', next: 6, probeSent: false });
    expect(pr.inflights.count).toBe(0);
  });

  it.each([
    { match: 1, pending: 10, next: 11 },
    { match: 12, pending: 10, next: 13 },
  ])('becomeProbe from snapshot (match $match, snapshot $pending) resumes at $next', ({ match, pending, next }) => {
    const pr = progress(match, 2);
    pr.becomeSnapshot(pending);
    pr.becomeProbe();
    expect(pr).toMatchObject({ state: 'probe', next, pendingSnapshot: 0 });
  });

  it('becomeReplicate pipelines from just after the match with an empty window', () => {
    const pr = progress(5, 6);
    pr.becomeReplicate();
    expect(pr).toMatchObject({ state: 'replicate', next: 6 });
    expect(pr.inflights.count).toBe(0);
  });

  it('becomeSnapshot records the snapshot and clears its transfer state', () => {
    const pr = progress(5, 6);
    pr.snapshotBytesAcked = 9;
    pr.snapshotChunkInFlight = true;
    pr.becomeSnapshot(20);
    expect(pr).toMatchObject({ state: 'snapshot', pendingSnapshot: 20, snapshotBytesAcked: 0, snapshotChunkInFlight: false, snapshotHeartbeatsWaited: 0 });
  });

  it('isPaused: probe while a probe is unanswered, replicate while the window is full, snapshot always', () => {
    const probe = progress(0, 1);
    expect(probe.isPaused()).toBe(false);
    probe.probeSent = true;
    expect(probe.isPaused()).toBe(true);

    const replicate = progress(0, 1, 'replicate', 2);
    replicate.inflights.add(1, 1);
    expect(replicate.isPaused()).toBe(false);
    replicate.inflights.add(2, 1);
    expect(replicate.isPaused()).toBe(true);

    expect(progress(0, 1, 'snapshot').isPaused()).toBe(true);
  });

  it('reset forgets everything learned about the follower', () => {
    const pr = progress(5, 9, 'replicate');
    pr.recentActive = true;
    pr.inflights.add(8, 1);
    pr.reset(20);
    expect(pr).toMatchObject({ state: 'probe', match: 0, next: 20, recentActive: false });
    expect(pr.inflights.count).toBe(0);
  });

  it('assertValid fails an assertion when match is not below next', () => {
    const pr = progress(5, 6);
    expect(() => pr.assertValid(2)).not.toThrow();
    pr.next = 5;
    expect(thrownName(() => pr.assertValid(2))).toBe('AssertionError');
  });
});
