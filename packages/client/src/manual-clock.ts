// A Clock that moves only when told: tests of backoff, resync and delayed queue adds advance it
// and see exactly which timers fire, with no sleeps (house rule 12).

import assert from 'node:assert/strict';
import type { Clock, TimerHandle } from './clock.js';

interface PendingTimer {
  readonly dueMs: number;
  /** Creation order: timers due at the same time fire in the order they were set. */
  readonly sequence: number;
  readonly callback: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  private nowMs: number;
  private sequence = 0;
  private readonly timers: PendingTimer[] = [];
  /** Every delay asked of setTimer, in order: what tests assert backoff against. */
  readonly requestedDelaysMs: number[] = [];

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimer(callback: () => void, ms: number): TimerHandle {
    this.requestedDelaysMs.push(ms);
    const timer: PendingTimer = { dueMs: this.nowMs + Math.max(0, ms), sequence: this.sequence++, callback, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers set and neither fired nor cancelled: a component that stopped cleanly leaves none. */
  pendingCount(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in due order (timers they set included). */
  advance(ms: number): void {
    assert.ok(ms >= 0, `advance(${ms}): time only moves forward`);
    const targetMs = this.nowMs + ms;
    for (;;) {
      const next = this.nextDue(targetMs);
      if (next === undefined) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.nowMs = next.dueMs;
      next.callback();
    }
    this.nowMs = targetMs;
  }

  /**
   * Advances by `ms`, letting promise continuations run between the timers: what a test needs when
   * fired timers resolve promises whose continuations set the next timer.
   */
  async advanceAsync(ms: number): Promise<void> {
    assert.ok(ms >= 0, `advanceAsync(${ms}): time only moves forward`);
    const targetMs = this.nowMs + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.nextDue(targetMs);
      if (next === undefined) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.nowMs = next.dueMs;
      next.callback();
      await flushMicrotasks();
    }
    this.nowMs = targetMs;
  }

  private nextDue(targetMs: number): PendingTimer | undefined {
    for (let i = this.timers.length - 1; i >= 0; i--) if (this.timers[i]?.cancelled) this.timers.splice(i, 1);
    let next: PendingTimer | undefined;
    for (const timer of this.timers) {
      if (timer.dueMs > targetMs) continue;
      if (next === undefined || timer.dueMs < next.dueMs || (timer.dueMs === next.dueMs && timer.sequence < next.sequence)) next = timer;
    }
    return next;
  }
}

/** Lets pending promise continuations run: a few macrotask-free turns of the microtask queue. */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
