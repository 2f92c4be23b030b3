// The agent's loops wait on the client's clock and stop waiting when their signal aborts.

import { sleep, systemClock } from '@raftplane/client';

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export function wait(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(systemClock, ms, signal).catch(() => undefined);
}
