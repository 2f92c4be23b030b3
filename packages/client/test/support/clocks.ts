// Clocks for tests over real sockets: the RecordingClock keeps every delay asked of it (so tests
// assert backoff and Retry-After) but fires at once, so no test sleeps for a backoff.

import type { Clock, TimerHandle } from '../../src/index.js';

export class RecordingClock implements Clock {
  readonly requestedDelaysMs: number[] = [];
  private readonly pending = new Set<NodeJS.Timeout>();

  now(): number {
    return performance.now();
  }

  setTimer(callback: () => void, ms: number): TimerHandle {
    this.requestedDelaysMs.push(ms);
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      callback();
    }, 0);
    this.pending.add(timer);
    return {
      cancel: () => {
        clearTimeout(timer);
        this.pending.delete(timer);
      },
    };
  }

  pendingCount(): number {
    return this.pending.size;
  }
}

/** A source of [0, 1) that repeats `values`: deterministic jitter and generated names. */
export function sequenceRandom(values: readonly number[] = [0.5]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}

/** Waits until `predicate` holds, checking after each turn of I/O; fails after `timeoutMs`. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
