// Time, injected: every delay the client waits (retry backoff, relist backoff, resync, delayed
// queue adds, watch pings) is a timer on a `Clock`, so tests drive it with a ManualClock.

/** A pending timer; cancelling one that has fired or was cancelled does nothing. */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale; only differences mean anything. */
  now(): number;
  /** Calls `callback` once, `ms` from now (0 or less: on a later turn, never synchronously). */
  setTimer(callback: () => void, ms: number): TimerHandle;
}

/** The real clock: performance.now() and the event loop's timers. */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimer(callback: () => void, ms: number): TimerHandle {
    const timer = setTimeout(callback, Math.max(0, ms));
    return { cancel: () => clearTimeout(timer) };
  },
});

/**
 * Resolves after `ms` on `clock`, or rejects with `signal.reason` as soon as the signal aborts; the
 * timer and the abort listener are both gone when it settles (AbortSignal discipline, STYLE §4).
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
