// The work queue's contract (client-go util/workqueue doc.go): fair, stingy (a key added twice
// runs once, never on two workers at once), a key re-added while processing runs again after
// done; delayed and rate-limited adds on a fake clock; shutdown, by call or by AbortSignal.

import { describe, expect, it } from 'vitest';
import {
  ClientErrorCode,
  defaultControllerRateLimiter,
  ExponentialFailureRateLimiter,
  isClientError,
  ManualClock,
  MaxOfRateLimiter,
  TokenBucketRateLimiter,
  WorkQueue,
} from '../src/index.js';

/** Whether the promise has settled after pending continuations ran. */
async function settled<T>(promise: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let result: { done: boolean; value?: T } = { done: false };
  void promise.then((value) => (result = { done: true, value }));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return result;
}

function queueWithClock(): { queue: WorkQueue<string>; clock: ManualClock } {
  const clock = new ManualClock();
  return { queue: new WorkQueue<string>({ clock }), clock };
}

describe('fair and stingy', () => {
  it('hands keys out in the order they were added', async () => {
    const { queue } = queueWithClock();
    for (const key of ['a', 'b', 'c']) queue.add(key);
    expect([await queue.get(), await queue.get(), await queue.get()]).toEqual(['a', 'b', 'c']);
  });

  it('runs a key added twice once', async () => {
    const { queue } = queueWithClock();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(await settled(queue.get())).toEqual({ done: false });
    queue.shutDown();
  });

  it('never hands a key to two workers at once; a key re-added while processing runs again after done', async () => {
    const { queue } = queueWithClock();
    queue.add('a');
    const first = await queue.get();
    expect(first).toBe('a');
    queue.add('a');
    queue.add('a');
    const second = queue.get();
    expect(await settled(second)).toEqual({ done: false });
    queue.done('a');
    expect(await settled(second)).toEqual({ done: true, value: 'a' });
    queue.done('a');
    expect(queue.len()).toBe(0);
    expect(await settled(queue.get())).toEqual({ done: false });
    queue.shutDown();
  });

  it('serves blocked workers first come, first served', async () => {
    const { queue } = queueWithClock();
    const workers = [queue.get(), queue.get()];
    queue.add('x');
    queue.add('y');
    expect(await Promise.all(workers)).toEqual(['x', 'y']);
  });

  it('asserts on done for a key that is not processing (a bug in the caller)', () => {
    const { queue } = queueWithClock();
    expect(() => queue.done('never')).toThrow(/not processing/);
  });

  it('refuses a key past keysMax with CLIENT_QUEUE_FULL', () => {
    const queue = new WorkQueue<string>({ clock: new ManualClock(), keysMax: 2 });
    queue.add('a');
    queue.add('b');
    queue.add('a');
    let error: unknown;
    try {
      queue.add('c');
    } catch (e) {
      error = e;
    }
    expect(isClientError(error, ClientErrorCode.QueueFull)).toBe(true);
    expect(queue.len()).toBe(2);
  });
});

describe('delayed adds', () => {
  it('addAfter makes a key ready only when its time comes, and an earlier time wins', async () => {
    const { queue, clock } = queueWithClock();
    queue.addAfter('a', 100);
    queue.addAfter('b', 50);
    queue.addAfter('a', 30);
    queue.addAfter('b', 500);
    clock.advance(29);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('a');
    clock.advance(20);
    expect(await queue.get()).toBe('b');
    clock.advance(1_000);
    expect(queue.len()).toBe(0);
    expect(clock.pendingCount()).toBe(0);
  });

  it('addAfter with no delay adds at once', async () => {
    const { queue } = queueWithClock();
    queue.addAfter('a', 0);
    expect(await queue.get()).toBe('a');
  });

  it('addRateLimited backs a failing key off 5 ms, 10 ms, 20 ms ...; forget starts it again', async () => {
    const { queue, clock } = queueWithClock();
    const readyAfterMs: number[] = [];
    for (let failure = 0; failure < 4; failure++) {
      queue.addRateLimited('a');
      const startMs = clock.now();
      while (queue.len() === 0) clock.advance(1);
      readyAfterMs.push(clock.now() - startMs);
      expect(await queue.get()).toBe('a');
      queue.done('a');
    }
    expect(readyAfterMs).toEqual([5, 10, 20, 40]);
    expect(queue.numRequeues('a')).toBe(4);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
    queue.addRateLimited('a');
    clock.advance(4);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
  });
});

describe('rate limiters', () => {
  it('per key: 5 ms doubling to 1000 s, each key on its own', () => {
    const limiter = new ExponentialFailureRateLimiter<string>(5, 1_000_000);
    const delays = Array.from({ length: 20 }, () => limiter.whenMs('a'));
    expect(delays.slice(0, 4)).toEqual([5, 10, 20, 40]);
    expect(delays.at(-1)).toBe(1_000_000);
    expect(limiter.whenMs('b')).toBe(5);
  });

  it('overall: a bucket of 100, refilled 10 per second', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucketRateLimiter<string>(10, 100, clock);
    const burst = Array.from({ length: 100 }, (_, i) => bucket.whenMs(`k${i}`));
    expect(burst.every((ms) => ms === 0)).toBe(true);
    expect([bucket.whenMs('x'), bucket.whenMs('y'), bucket.whenMs('z')]).toEqual([100, 200, 300]);
    clock.advance(10_000);
    expect(bucket.whenMs('w')).toBe(0);
  });

  it('the default is the larger of the two', () => {
    const clock = new ManualClock();
    const limiter = defaultControllerRateLimiter<string>(clock);
    for (let i = 0; i < 100; i++) expect(limiter.whenMs(`k${i}`)).toBe(5);
    // The bucket is empty now: a fresh key waits for a token, not its own 5 ms.
    expect(limiter.whenMs('fresh')).toBe(100);
    expect(new MaxOfRateLimiter<string>(new ExponentialFailureRateLimiter(5, 1_000_000)).numRequeues('k1')).toBe(0);
    expect(limiter.numRequeues('k1')).toBe(1);
  });
});

describe('shutdown', () => {
  it('wakes blocked workers with undefined, ignores new keys, still hands out ready ones, drops delayed ones', async () => {
    const { queue, clock } = queueWithClock();
    const blocked = queue.get();
    queue.shutDown();
    expect(await blocked).toBeUndefined();
    queue.add('late');
    expect(queue.len()).toBe(0);

    const other = queueWithClock();
    other.queue.add('ready');
    other.queue.addAfter('later', 100);
    other.queue.shutDown();
    expect(await other.queue.get()).toBe('ready');
    expect(await other.queue.get()).toBeUndefined();
    expect(other.clock.pendingCount()).toBe(0);
    expect(clock.pendingCount()).toBe(0);
  });

  it('shuts down when its AbortSignal aborts', async () => {
    const controller = new AbortController();
    const queue = new WorkQueue<string>({ clock: new ManualClock(), signal: controller.signal });
    const blocked = queue.get();
    controller.abort();
    expect(await blocked).toBeUndefined();
    expect(queue.isShuttingDown()).toBe(true);
  });

  it('shutDownAndDrain settles once the keys being processed are done', async () => {
    const { queue } = queueWithClock();
    queue.add('a');
    const key = await queue.get();
    const drained = queue.shutDownAndDrain();
    expect(await settled(drained)).toEqual({ done: false });
    queue.done(key!);
    expect(await settled(drained)).toMatchObject({ done: true });
  });
});

describe('workers', () => {
  it('a pool of workers processes each key once at a time, retries failures and forgets successes', async () => {
    const { queue, clock } = queueWithClock();
    const running = new Set<string>();
    const processed: string[] = [];
    let overlaps = 0;
    let failOnce = true;
    const worker = async (): Promise<void> => {
      for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
        if (running.has(key)) overlaps++;
        running.add(key);
        await Promise.resolve();
        if (key === 'flaky' && failOnce) {
          failOnce = false;
          queue.addRateLimited(key);
        } else {
          processed.push(key);
          queue.forget(key);
        }
        running.delete(key);
        queue.done(key);
      }
    };
    // Added before any worker runs: the duplicates fold into one.
    for (const key of ['a', 'b', 'flaky', 'a', 'c', 'b']) queue.add(key);
    expect(queue.len()).toBe(4);
    const workers = [worker(), worker(), worker()];
    await clock.advanceAsync(10);
    queue.add('a');
    await clock.advanceAsync(10);
    queue.shutDown();
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    expect(processed.filter((k) => k === 'flaky')).toHaveLength(1);
    expect(processed.filter((k) => k === 'a')).toHaveLength(2);
    expect(new Set(processed)).toEqual(new Set(['a', 'b', 'c', 'flaky']));
    expect(queue.numRequeues('flaky')).toBe(0);
  });
});
