// client-go's rate-limited work queue (util/workqueue doc.go, queue.go, delaying_queue.go), the
// queue every controller, the scheduler and the agent share. Its contract:
//   - Fair: keys are handed out in the order they were added.
//   - Stingy: a key added many times before it is processed is processed once (`dirty`), and a
//     key is never handed to two workers at once (`processing`).
//   - A key added while it is being processed is processed again after `done` (it waits in
//     `dirty` until then).
//   - Always `done(key)` after `get()`; `forget(key)` on success; `addRateLimited(key)` on error.
// Time is the injected Clock, so tests of delays advance a ManualClock.

import assert from 'node:assert/strict';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { DelayHeap } from './delay-heap.js';
import { ClientError, ClientErrorCode, invalidOption } from './errors.js';
import { Fifo } from './fifo.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

export interface WorkQueueOptions<K> {
  readonly clock?: Clock;
  /** Default: max(5 ms → 1000 s per key, 10 qps burst 100). */
  readonly rateLimiter?: RateLimiter<K>;
  /** Aborting it shuts the queue down. */
  readonly signal?: AbortSignal;
  /** Keys held at once, ready plus waiting for their time; one more is CLIENT_QUEUE_FULL. Default 100,000. */
  readonly keysMax?: number;
  /** Named in errors. */
  readonly name?: string;
}

export class WorkQueue<K = string> {
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter<K>;
  private readonly keysMax: number;
  private readonly name: string;
  /** Keys ready to hand out, in order; none of them is processing, each is in `dirty`. */
  private readonly ready = new Fifo<K>();
  /** Keys that need processing: in `ready`, or re-added while processing. */
  private readonly dirty = new Set<K>();
  /** Keys handed out by get() and not yet done(). */
  private readonly processing = new Set<K>();
  /** Workers blocked in get(), first come first served. */
  private readonly getters = new Fifo<(key: K | undefined) => void>();
  /** Keys waiting for their time, with the earliest time asked for; the heap may hold stale later entries. */
  private readonly waitingDueMs = new Map<K, number>();
  private readonly delayed = new DelayHeap<K>();
  private delayTimer: { handle: TimerHandle; dueMs: number } | undefined;
  private shuttingDown = false;
  private readonly drainWaiters: (() => void)[] = [];
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => this.shutDown();

  constructor(options: WorkQueueOptions<K> = {}) {
    this.clock = options.clock ?? systemClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<K>(this.clock);
    this.keysMax = options.keysMax ?? 100_000;
    if (!Number.isSafeInteger(this.keysMax) || this.keysMax < 1) throw invalidOption('keysMax', `${this.keysMax} must be an integer >= 1`);
    this.name = options.name ?? 'work queue';
    this.signal = options.signal;
    if (this.signal?.aborted) this.shuttingDown = true;
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Queues `key` unless it is already queued; ignored once shut down. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.checkRoom(key);
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.ready.push(key);
    this.handOut();
  }

  /** Queues `key` after `ms`; a key already waiting keeps the earlier of its two times. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const dueMs = this.clock.now() + ms;
    const waitingMs = this.waitingDueMs.get(key);
    if (waitingMs !== undefined && waitingMs <= dueMs) return;
    if (waitingMs === undefined) this.checkRoom(key);
    this.waitingDueMs.set(key, dueMs);
    this.delayed.push(key, dueMs);
    this.armDelayTimer();
  }

  /** Queues `key` after the rate limiter's delay for it: how a failed sync is retried. */
  addRateLimited(key: K): void {
    this.addAfter(key, this.rateLimiter.whenMs(key));
  }

  /** The key succeeded: its backoff starts again from the minimum. */
  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** Keys ready to hand out now. */
  len(): number {
    return this.ready.length;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * The next key, once there is one; the caller owns it until `done(key)`. Undefined once the
   * queue is shut down and has nothing ready left.
   */
  get(): Promise<K | undefined> {
    const key = this.ready.shift();
    if (key !== undefined) return Promise.resolve(this.startProcessing(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Processing of `key` ended; if it was added again meanwhile, it is queued now. */
  done(key: K): void {
    assert.ok(this.processing.has(key), `${this.name}: done(${String(key)}) for a key that is not processing`);
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.ready.push(key);
      this.handOut();
    }
    if (this.processing.size === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** Stops taking keys: waiting workers get undefined, delayed keys are dropped, ready keys are still handed out. */
  shutDown(): void {
    this.shuttingDown = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.delayTimer?.handle.cancel();
    this.delayTimer = undefined;
    this.delayed.clear();
    this.waitingDueMs.clear();
    for (const resolve of this.getters.drain()) resolve(undefined);
  }

  /** Shuts down, then settles once no key is processing (client-go's ShutDownWithDrain). */
  async shutDownAndDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private checkRoom(key: K): void {
    if (this.dirty.size + this.waitingDueMs.size < this.keysMax) return;
    throw new ClientError(ClientErrorCode.QueueFull, `${this.name} holds ${this.keysMax} keys (keysMax); ${String(key)} was not added`);
  }

  private startProcessing(key: K): K {
    this.processing.add(key);
    this.dirty.delete(key);
    return key;
  }

  /** Gives ready keys to blocked workers, oldest worker first. */
  private handOut(): void {
    while (this.getters.length > 0 && this.ready.length > 0) {
      const resolve = this.getters.shift() as (key: K | undefined) => void;
      resolve(this.startProcessing(this.ready.shift() as K));
    }
  }

  /** One timer, for the earliest waiting key. */
  private armDelayTimer(): void {
    const next = this.nextLiveDelayed();
    if (next === undefined) return;
    if (this.delayTimer !== undefined && this.delayTimer.dueMs <= next.dueMs) return;
    this.delayTimer?.handle.cancel();
    const handle = this.clock.setTimer(() => this.onDelayTimer(), next.dueMs - this.clock.now());
    this.delayTimer = { handle, dueMs: next.dueMs };
  }

  private onDelayTimer(): void {
    this.delayTimer = undefined;
    const nowMs = this.clock.now();
    for (let next = this.nextLiveDelayed(); next !== undefined && next.dueMs <= nowMs; next = this.nextLiveDelayed()) {
      this.delayed.pop();
      this.waitingDueMs.delete(next.key);
      this.add(next.key);
    }
    this.armDelayTimer();
  }

  /** The earliest heap entry that is still the key's current time; stale entries are dropped. */
  private nextLiveDelayed(): { key: K; dueMs: number } | undefined {
    for (let top = this.delayed.peek(); top !== undefined; top = this.delayed.peek()) {
      if (this.waitingDueMs.get(top.key) === top.dueMs) return top;
      this.delayed.pop();
    }
    return undefined;
  }
}
