// kube-scheduler's PriorityQueue (internal/queue/scheduling_queue.go): three places a pod waits.
//   - active: ready to schedule, highest priority first, then oldest (creation time);
//   - backoff: failed recently, waits 1 s doubling per attempt up to 10 s (per pod);
//   - unschedulable: fit nowhere; waits until something that could help happens
//     (moveAllToActiveOrBackoff: a node added or made ready, labels/taints changed, a pod deleted)
//     or, at the latest, `unschedulableMsMax` (60 s) after it got there.
// A pod that fails while a move request happened during its own attempt goes to backoff instead
// of unschedulable (moveRequestCycle), so the node that appeared meanwhile is not missed.
// Time is the injected Clock; one timer for backoff, one for the unschedulable flush.

import assert from 'node:assert/strict';
import { parseTime, type Pod } from '@raftplane/api';
import { objectKey, type Clock, type TimerHandle } from '@raftplane/client';
import { SchedulerError, SchedulerErrorCode, invalidOption } from './errors.js';
import { KeyedHeap } from './keyed-heap.js';

export interface QueuedPod {
  readonly key: string;
  pod: Pod;
  readonly priority: number;
  readonly creationMs: number;
  /** Insertion order: the last tie-breaker, so equal pods come out first-in first-out. */
  readonly sequence: number;
  /** Scheduling attempts so far (counted when popped): the exponent of the backoff. */
  attempts: number;
  /** When the pod last entered the queue or last failed: where its backoff starts. */
  timestampMs: number;
}

export interface SchedulingQueueOptions {
  readonly clock: Clock;
  /** Backoff after the first failed attempt; doubles per attempt. Default 1,000 (podInitialBackoffSeconds). */
  readonly backoffMsInitial?: number;
  /** Default 10,000 (podMaxBackoffSeconds). */
  readonly backoffMsMax?: number;
  /** The longest a pod stays unschedulable without a retry. Default 60,000. */
  readonly unschedulableMsMax?: number;
  /** Pods held at once in all three places; one more is SCHEDULER_QUEUE_FULL. Default 100,000. */
  readonly queuedPodsMax?: number;
}

export interface QueueCounts {
  active: number;
  backoff: number;
  unschedulable: number;
}

function positive(value: number | undefined, fallback: number, option: string): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved <= 0) throw invalidOption(option, `${resolved} must be a number > 0`);
  return resolved;
}

function creationMsOf(pod: Pod): number {
  const t = pod.metadata.creationTimestamp;
  const ms = t === undefined ? NaN : parseTime(t);
  return Number.isFinite(ms) ? ms : 0;
}

export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly backoffMsInitial: number;
  private readonly backoffMsMax: number;
  private readonly unschedulableMsMax: number;
  private readonly queuedPodsMax: number;
  private readonly active = new KeyedHeap<QueuedPod>(
    (a, b) => a.priority > b.priority || (a.priority === b.priority && (a.creationMs < b.creationMs || (a.creationMs === b.creationMs && a.sequence < b.sequence))),
  );
  private readonly backoff = new KeyedHeap<QueuedPod>((a, b) => this.backoffExpiryMs(a) < this.backoffExpiryMs(b) || (this.backoffExpiryMs(a) === this.backoffExpiryMs(b) && a.sequence < b.sequence));
  private readonly unschedulable = new Map<string, QueuedPod>();
  /** Callers of pop() waiting for a pod, first come first served. */
  private readonly waiters: ((pod: QueuedPod | undefined) => void)[] = [];
  private sequence = 0;
  private cycle = 0;
  private moveRequestCycle = -1;
  private backoffTimer: { handle: TimerHandle; dueMs: number } | undefined;
  private flushTimer: { handle: TimerHandle; dueMs: number } | undefined;
  private closed = false;

  constructor(options: SchedulingQueueOptions) {
    this.clock = options.clock;
    this.backoffMsInitial = positive(options.backoffMsInitial, 1_000, 'backoffMsInitial');
    this.backoffMsMax = positive(options.backoffMsMax, 10_000, 'backoffMsMax');
    if (this.backoffMsMax < this.backoffMsInitial) throw invalidOption('backoffMsMax', `${this.backoffMsMax} must be >= backoffMsInitial ${this.backoffMsInitial}`);
    this.unschedulableMsMax = positive(options.unschedulableMsMax, 60_000, 'unschedulableMsMax');
    this.queuedPodsMax = positive(options.queuedPodsMax, 100_000, 'queuedPodsMax');
  }

  counts(): QueueCounts {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size };
  }

  /** The number of pods popped so far: each attempt runs in its own cycle. */
  schedulingCycle(): number {
    return this.cycle;
  }

  has(key: string): boolean {
    return this.active.has(key) || this.backoff.has(key) || this.unschedulable.has(key);
  }

  /** A new pending pod: straight to active. One already queued is updated where it waits. */
  add(pod: Pod): void {
    if (this.closed) return;
    const key = objectKey(pod);
    if (this.has(key)) {
      this.update(pod);
      return;
    }
    this.checkRoom(key);
    this.active.upsert(key, this.newQueuedPod(key, pod));
    this.handOut();
  }

  /**
   * A pending pod changed. Waiting in active or backoff, it is updated in place; unschedulable, a
   * change of its spec or labels may make it fit, so it is retried (after any backoff left);
   * not queued (being scheduled right now, or new to us), it is added.
   */
  update(pod: Pod): void {
    if (this.closed) return;
    const key = objectKey(pod);
    const inActive = this.active.get(key) ?? this.backoff.get(key);
    if (inActive !== undefined) {
      inActive.pod = pod;
      if (this.active.has(key)) this.active.upsert(key, inActive);
      else this.backoff.upsert(key, inActive);
      return;
    }
    const waiting = this.unschedulable.get(key);
    if (waiting === undefined) {
      this.add(pod);
      return;
    }
    const changed = JSON.stringify(waiting.pod.spec) !== JSON.stringify(pod.spec) || JSON.stringify(waiting.pod.metadata.labels) !== JSON.stringify(pod.metadata.labels);
    waiting.pod = pod;
    if (changed) {
      this.unschedulable.delete(key);
      this.toActiveOrBackoff(waiting);
      this.handOut();
    }
  }

  /** The pod was deleted or bound: it leaves the queue. */
  delete(key: string): void {
    this.active.remove(key);
    this.backoff.remove(key);
    this.unschedulable.delete(key);
  }

  /** The next pod to schedule, waiting for one if need be; undefined once the queue is closed. */
  pop(): Promise<QueuedPod | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const next = this.active.pop();
    if (next !== undefined) return Promise.resolve(this.startAttempt(next));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * The attempt that began in `podCycle` found no node. The pod waits unschedulable — unless a
   * move request came since that cycle began, in which case the change it announced was not seen
   * by the attempt, and the pod only backs off.
   */
  addUnschedulable(pod: QueuedPod, podCycle: number): void {
    if (this.closed || this.has(pod.key)) return;
    this.checkRoom(pod.key);
    pod.timestampMs = this.clock.now();
    if (this.moveRequestCycle >= podCycle) this.toBackoff(pod);
    else {
      this.unschedulable.set(pod.key, pod);
      this.armFlushTimer();
    }
  }

  /** The attempt failed for another reason (an API error): retry after the pod's backoff. */
  addBackoff(pod: QueuedPod): void {
    if (this.closed || this.has(pod.key)) return;
    this.checkRoom(pod.key);
    pod.timestampMs = this.clock.now();
    this.toBackoff(pod);
  }

  /** Something that could make unschedulable pods fit happened: every one of them is retried. */
  moveAllToActiveOrBackoff(): void {
    if (this.closed) return;
    const pods = [...this.unschedulable.values()];
    this.unschedulable.clear();
    for (const pod of pods) this.toActiveOrBackoff(pod);
    this.moveRequestCycle = this.cycle;
    this.handOut();
  }

  /** The pod's backoff for its attempts so far: initial * 2^(attempts - 1), at most the max. */
  backoffDurationMs(pod: QueuedPod): number {
    if (pod.attempts <= 0) return 0;
    return Math.min(this.backoffMsMax, this.backoffMsInitial * 2 ** Math.min(pod.attempts - 1, 52));
  }

  /** Stops: waiting pops get undefined, timers are cancelled, later adds are ignored. */
  close(): void {
    this.closed = true;
    this.backoffTimer?.handle.cancel();
    this.backoffTimer = undefined;
    this.flushTimer?.handle.cancel();
    this.flushTimer = undefined;
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
  }

  private newQueuedPod(key: string, pod: Pod): QueuedPod {
    return { key, pod, priority: pod.spec?.priority ?? 0, creationMs: creationMsOf(pod), sequence: this.sequence++, attempts: 0, timestampMs: this.clock.now() };
  }

  private startAttempt(pod: QueuedPod): QueuedPod {
    this.cycle++;
    pod.attempts++;
    return pod;
  }

  private backoffExpiryMs(pod: QueuedPod): number {
    return pod.timestampMs + this.backoffDurationMs(pod);
  }

  private toActiveOrBackoff(pod: QueuedPod): void {
    if (this.backoffExpiryMs(pod) > this.clock.now()) this.toBackoff(pod);
    else this.active.upsert(pod.key, pod);
  }

  private toBackoff(pod: QueuedPod): void {
    this.backoff.upsert(pod.key, pod);
    this.armBackoffTimer();
  }

  private checkRoom(key: string): void {
    const held = this.active.size + this.backoff.size + this.unschedulable.size;
    if (held < this.queuedPodsMax) return;
    throw new SchedulerError(SchedulerErrorCode.QueueFull, `the scheduling queue holds ${held} pods (queuedPodsMax ${this.queuedPodsMax}); ${key} was not added`);
  }

  private handOut(): void {
    while (this.waiters.length > 0 && this.active.size > 0) {
      const resolve = this.waiters.shift() as (pod: QueuedPod | undefined) => void;
      resolve(this.startAttempt(this.active.pop() as QueuedPod));
    }
  }

  /** One timer, for the earliest backoff to end; it moves every pod whose backoff ended to active. */
  private armBackoffTimer(): void {
    const next = this.backoff.peek();
    if (next === undefined || this.closed) return;
    const dueMs = this.backoffExpiryMs(next);
    if (this.backoffTimer !== undefined && this.backoffTimer.dueMs <= dueMs) return;
    this.backoffTimer?.handle.cancel();
    this.backoffTimer = { handle: this.clock.setTimer(() => this.flushBackoff(), dueMs - this.clock.now()), dueMs };
  }

  private flushBackoff(): void {
    this.backoffTimer = undefined;
    const nowMs = this.clock.now();
    for (let next = this.backoff.peek(); next !== undefined && this.backoffExpiryMs(next) <= nowMs; next = this.backoff.peek()) {
      this.backoff.pop();
      this.active.upsert(next.key, next);
    }
    this.armBackoffTimer();
    this.handOut();
  }

  /** One timer, for the pod that has been unschedulable longest to reach `unschedulableMsMax`. */
  private armFlushTimer(): void {
    if (this.closed || this.flushTimer !== undefined) return;
    let oldestMs = Infinity;
    for (const pod of this.unschedulable.values()) oldestMs = Math.min(oldestMs, pod.timestampMs);
    if (oldestMs === Infinity) return;
    const dueMs = oldestMs + this.unschedulableMsMax;
    this.flushTimer = { handle: this.clock.setTimer(() => this.flushUnschedulable(), dueMs - this.clock.now()), dueMs };
  }

  private flushUnschedulable(): void {
    this.flushTimer = undefined;
    const nowMs = this.clock.now();
    for (const [key, pod] of this.unschedulable) {
      if (nowMs - pod.timestampMs < this.unschedulableMsMax) continue;
      this.unschedulable.delete(key);
      this.toActiveOrBackoff(pod);
    }
    assert.ok(!this.closed, 'flushUnschedulable ran after close');
    this.armFlushTimer();
    this.handOut();
  }
}
