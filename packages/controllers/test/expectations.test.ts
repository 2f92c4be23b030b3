// ControllerExpectations: no action until the informer has seen what was asked, or the record expired.
import { ManualClock } from '@raftplane/client';
import { describe, expect, test } from 'vitest';
import { ControllerExpectations, isControllerError } from '../src/index.js';

describe('expectations', () => {
  test('creations: satisfied once every create was observed', () => {
    const e = new ControllerExpectations(new ManualClock(), 1000);
    expect(e.satisfied('ns/rs')).toBe(true);
    e.expectCreations('ns/rs', 2);
    expect(e.satisfied('ns/rs')).toBe(false);
    e.creationObserved('ns/rs');
    expect(e.pending('ns/rs')).toEqual({ creations: 1, deletions: 0 });
    e.creationObserved('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(true);
    e.creationObserved('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(true);
  });
  test('deletions are tracked by key: the same pod seen twice counts once', () => {
    const e = new ControllerExpectations(new ManualClock(), 1000);
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a');
    expect(e.satisfied('ns/rs')).toBe(false);
    e.deletionObserved('ns/rs', 'ns/other');
    expect(e.satisfied('ns/rs')).toBe(false);
    e.deletionObserved('ns/rs', 'ns/b');
    expect(e.satisfied('ns/rs')).toBe(true);
  });
  test('an unsatisfied record expires after the timeout; delete forgets it', () => {
    const clock = new ManualClock();
    const e = new ControllerExpectations(clock, 1000);
    e.expectCreations('ns/rs', 5);
    clock.advance(1000);
    expect(e.satisfied('ns/rs')).toBe(false);
    clock.advance(1);
    expect(e.satisfied('ns/rs')).toBe(true);
    e.delete('ns/rs');
    expect(e.size()).toBe(0);
  });
  test('a bad timeout is refused with a code', () => {
    expect(() => new ControllerExpectations(new ManualClock(), 0)).toThrow();
    try {
      new ControllerExpectations(new ManualClock(), -1);
    } catch (error) {
      expect(isControllerError(error, 'CONTROLLER_INVALID_OPTION')).toBe(true);
    }
  });
});
