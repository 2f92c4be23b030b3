// The scheduling queue: priority then age, per-pod exponential backoff on a ManualClock,
// unschedulable pods retried when the cluster changes or after 60 s, and a clean close.

import { ManualClock } from '@raftplane/client';
import { describe, expect, test } from 'vitest';
import { SchedulerErrorCode, SchedulingQueue, isSchedulerError, type QueuedPod } from '../src/index.js';
import { makePod } from './fixtures.js';

function newQueue(clock = new ManualClock()): { queue: SchedulingQueue; clock: ManualClock } {
  return { queue: new SchedulingQueue({ clock }), clock };
}

async function popName(queue: SchedulingQueue): Promise<string | undefined> {
  return (await queue.pop())?.pod.metadata.name;
}

/** Whether pop() would hand a pod out right now (without waiting). */
function readyNow(queue: SchedulingQueue): number {
  return queue.counts().active;
}

describe('SchedulingQueue', () => {
  test('active pods come out by priority, then creation time, then arrival', async () => {
    const { queue } = newQueue();
    queue.add(makePod('late', { creationTimestamp: '2024-01-01T00:00:05Z' }));
    queue.add(makePod('early', { creationTimestamp: '2024-01-01T00:00:01Z' }));
    queue.add(makePod('important', { priority: 1000, creationTimestamp: '2024-01-01T00:00:09Z' }));
    queue.add(makePod('same-as-late', { creationTimestamp: '2024-01-01T00:00:05Z' }));
    expect([await popName(queue), await popName(queue), await popName(queue), await popName(queue)]).toEqual(['important', 'early', 'late', 'same-as-late']);
  });

  test('a pop waiting on an empty queue gets the next pod added; close hands undefined to waiters', async () => {
    const { queue } = newQueue();
    const waiting = popName(queue);
    queue.add(makePod('p'));
    expect(await waiting).toBe('p');
    const blocked = queue.pop();
    queue.close();
    expect(await blocked).toBeUndefined();
    queue.add(makePod('q'));
    expect(await queue.pop()).toBeUndefined();
  });

  test('backoff is 1 s after the first attempt, doubling to at most 10 s', async () => {
    const { queue, clock } = newQueue();
    queue.add(makePod('p'));
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const pod = (await queue.pop()) as QueuedPod;
      expect(pod.attempts).toBe(attempt);
      queue.addBackoff(pod);
      expect(queue.counts()).toEqual({ active: 0, backoff: 1, unschedulable: 0 });
      const startMs = clock.now();
      while (readyNow(queue) === 0) clock.advance(100);
      waits.push(clock.now() - startMs);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    expect(clock.pendingCount()).toBe(0);
  });

  test('an unschedulable pod waits until a node is added (moveAllToActiveOrBackoff), after its backoff', async () => {
    const { queue, clock } = newQueue();
    queue.add(makePod('p'));
    const pod = (await queue.pop()) as QueuedPod;
    queue.addUnschedulable(pod, queue.schedulingCycle());
    expect(queue.counts()).toEqual({ active: 0, backoff: 0, unschedulable: 1 });
    clock.advance(30_000);
    expect(queue.counts().unschedulable).toBe(1);
    queue.moveAllToActiveOrBackoff();
    expect(queue.counts()).toEqual({ active: 1, backoff: 0, unschedulable: 0 });
    expect(await popName(queue)).toBe('p');
  });

  test('moved while still backing off, it goes to backoff first', async () => {
    const { queue, clock } = newQueue();
    queue.add(makePod('p'));
    queue.addUnschedulable((await queue.pop()) as QueuedPod, queue.schedulingCycle());
    clock.advance(400);
    queue.moveAllToActiveOrBackoff();
    expect(queue.counts()).toEqual({ active: 0, backoff: 1, unschedulable: 0 });
    clock.advance(599);
    expect(readyNow(queue)).toBe(0);
    clock.advance(1);
    expect(readyNow(queue)).toBe(1);
  });

  test('a move request during the attempt sends the failed pod to backoff, not unschedulable', async () => {
    const { queue, clock } = newQueue();
    queue.add(makePod('p'));
    const pod = (await queue.pop()) as QueuedPod;
    const cycle = queue.schedulingCycle();
    queue.moveAllToActiveOrBackoff(); // e.g. a node was added while the pod was being filtered
    queue.addUnschedulable(pod, cycle);
    expect(queue.counts()).toEqual({ active: 0, backoff: 1, unschedulable: 0 });
    clock.advance(1_000);
    expect(readyNow(queue)).toBe(1);
  });

  test('unschedulable pods are retried after 60 s even when nothing changed', async () => {
    const { queue, clock } = newQueue();
    queue.add(makePod('p'));
    queue.addUnschedulable((await queue.pop()) as QueuedPod, queue.schedulingCycle());
    clock.advance(59_999);
    expect(queue.counts().unschedulable).toBe(1);
    clock.advance(1);
    expect(queue.counts()).toEqual({ active: 1, backoff: 0, unschedulable: 0 });
    expect(clock.pendingCount()).toBe(0);
  });

  test('an update of an unschedulable pod spec retries it; a deleted pod leaves every queue', async () => {
    const { queue, clock } = newQueue();
    const pod = makePod('p', { nodeSelector: { zone: 'x' } });
    queue.add(pod);
    queue.addUnschedulable((await queue.pop()) as QueuedPod, queue.schedulingCycle());
    clock.advance(5_000);
    queue.update({ ...pod, metadata: { ...pod.metadata, resourceVersion: '9' } });
    expect(queue.counts().unschedulable).toBe(1);
    queue.update({ ...pod, spec: { ...pod.spec!, nodeSelector: {} } });
    expect(queue.counts()).toEqual({ active: 1, backoff: 0, unschedulable: 0 });
    queue.delete('default/p');
    expect(queue.counts()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
  });

  test('a pod added twice is queued once; past queuedPodsMax adding fails with a code', () => {
    const clock = new ManualClock();
    const queue = new SchedulingQueue({ clock, queuedPodsMax: 2 });
    queue.add(makePod('a'));
    queue.add(makePod('a'));
    queue.add(makePod('b'));
    expect(queue.counts().active).toBe(2);
    let error: unknown;
    try {
      queue.add(makePod('c'));
    } catch (e) {
      error = e;
    }
    expect(isSchedulerError(error, SchedulerErrorCode.QueueFull)).toBe(true);
  });

  test('close cancels the backoff and flush timers', async () => {
    const { queue, clock } = newQueue();
    queue.add(makePod('a'));
    queue.add(makePod('b'));
    queue.addBackoff((await queue.pop()) as QueuedPod);
    queue.addUnschedulable((await queue.pop()) as QueuedPod, queue.schedulingCycle());
    expect(clock.pendingCount()).toBe(2);
    queue.close();
    expect(clock.pendingCount()).toBe(0);
  });

  test('invalid options are rejected by name', () => {
    expect(() => new SchedulingQueue({ clock: new ManualClock(), backoffMsInitial: 5_000, backoffMsMax: 1_000 })).toThrow(/backoffMsMax/);
    expect(() => new SchedulingQueue({ clock: new ManualClock(), unschedulableMsMax: 0 })).toThrow(/SCHEDULER_INVALID_OPTION/);
  });
});
