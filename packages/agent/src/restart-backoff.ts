// CrashLoopBackOff, as the kubelet keeps it: per container of a pod, the first restart after a
// crash is immediate, each further one waits twice as long as the last (10 s, 20 s, ... up to
// 5 min), and a container that stayed up for twice the maximum starts over at the initial delay.

export interface RestartBackoffSettings {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const kubeletRestartBackoff: RestartBackoffSettings = { initialMs: 10_000, maxMs: 300_000 };

interface Entry {
  delayMs: number;
  /** When the last restart was allowed (ms). */
  at: number;
}

export class RestartBackoff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly settings: RestartBackoffSettings) {}

  /**
   * Whether the container may restart at `nowMs`: 0 when it may (and the restart is counted),
   * else the ms left to wait.
   */
  tryRestart(key: string, nowMs: number): number {
    const entry = this.entries.get(key);
    if (entry !== undefined && nowMs - entry.at > 2 * this.settings.maxMs) this.entries.delete(key);
    const current = this.entries.get(key);
    if (current === undefined) {
      this.entries.set(key, { delayMs: this.settings.initialMs, at: nowMs });
      return 0;
    }
    const wait = current.at + current.delayMs - nowMs;
    if (wait > 0) return wait;
    this.entries.set(key, { delayMs: Math.min(current.delayMs * 2, this.settings.maxMs), at: nowMs });
    return 0;
  }

  /** The delay the next restart of `key` waits for, for the back-off message. */
  currentDelayMs(key: string): number {
    return this.entries.get(key)?.delayMs ?? this.settings.initialMs;
  }

  /** Forgets every container of a pod (the pod is gone). */
  forgetPod(podUid: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${podUid}/`)) this.entries.delete(key);
  }
}
