// Linearizable reads (thesis §6.4): every read that arrives during one loop turn shares one
// ReadIndex request; when its read state comes back, the reads wait until this master has applied
// that index, then run against the local store. On leader and follower alike.

import { KvError } from '@raftplane/kv';

interface Waiter {
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface Batch {
  readonly waiters: Waiter[];
  /** The read index, once the read state arrived. */
  index: number;
}

export class ReadBarrier {
  /** Reads that arrived since the last ReadIndex was asked for. */
  private arriving: Waiter[] = [];
  /** ReadIndex requests asked and not yet answered or applied, by context. */
  private readonly batches = new Map<string, Batch>();
  private nextContext = 1;

  constructor(
    /** Bound on reads waiting; past it new ones are refused. */
    private readonly pendingMax: number,
    private readonly timeoutMs: number,
    /** Distinguishes this process's contexts from an earlier incarnation's. */
    private readonly incarnation: number,
  ) {}

  get size(): number {
    let size = this.arriving.length;
    for (const batch of this.batches.values()) size += batch.waiters.length;
    return size;
  }

  hasArriving(): boolean {
    return this.arriving.length > 0;
  }

  /** Resolves when a read may run: this master has applied everything committed when it arrived. */
  wait(now: number): Promise<void> {
    if (this.size >= this.pendingMax) return Promise.reject(new KvError('KV_TOO_MANY_REQUESTS'));
    return new Promise<void>((resolve, reject) => this.arriving.push({ deadline: now + this.timeoutMs, resolve, reject }));
  }

  /**
   * The reads that arrived this turn become one batch, for which `ask` requests one ReadIndex with
   * a fresh context; nothing is asked when none arrived. When `ask` throws (no leader to confirm
   * with), the batch fails with that error.
   */
  ask(ask: (context: Uint8Array) => void): void {
    if (this.arriving.length === 0) return;
    const waiters = this.arriving;
    this.arriving = [];
    const key = `${this.incarnation}:${this.nextContext++}`;
    try {
      ask(new TextEncoder().encode(key));
    } catch (error) {
      for (const w of waiters) w.reject(error as Error);
      return;
    }
    this.batches.set(key, { waiters, index: -1 });
  }

  /** A read state arrived: its batch may run once `index` is applied. */
  confirmed(context: Uint8Array, index: number): void {
    const batch = this.batches.get(new TextDecoder().decode(context));
    if (batch !== undefined && batch.index === -1) batch.index = index;
  }

  /** Releases every confirmed batch whose index is applied. */
  applied(appliedIndex: number): void {
    for (const [key, batch] of this.batches) {
      if (batch.index === -1 || batch.index > appliedIndex) continue;
      this.batches.delete(key);
      for (const w of batch.waiters) w.resolve();
    }
  }

  /**
   * The leader changed: requests asked of the old one may never be answered. Fail them now
   * (retryable) rather than let them wait out their deadline.
   */
  leaderChanged(): void {
    for (const [key, batch] of this.batches) {
      if (batch.index !== -1) continue;
      this.batches.delete(key);
      for (const w of batch.waiters) w.reject(new KvError('KV_LEADER_CHANGED'));
    }
  }

  /** Fails reads past their deadline. */
  expire(now: number): void {
    const timedOut = (w: Waiter): boolean => {
      if (w.deadline > now) return false;
      w.reject(new KvError('KV_TIMEOUT'));
      return true;
    };
    this.arriving = this.arriving.filter((w) => !timedOut(w));
    for (const [key, batch] of this.batches) {
      const left = batch.waiters.filter((w) => !timedOut(w));
      if (left.length === 0) this.batches.delete(key);
      else if (left.length !== batch.waiters.length) this.batches.set(key, { waiters: left, index: batch.index });
    }
  }

  rejectAll(error: Error): void {
    for (const w of this.arriving) w.reject(error);
    for (const batch of this.batches.values()) for (const w of batch.waiters) w.reject(error);
    this.arriving = [];
    this.batches.clear();
  }
}
