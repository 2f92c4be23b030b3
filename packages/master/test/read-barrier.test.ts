// Linearizable reads: all reads of a turn share one ReadIndex; they run only once its read state
// came back and the store applied that index; a leader change, a deadline or a refusal fails them
// with etcd's error instead of leaving them waiting.

import { describe, expect, test } from 'vitest';
import { ReadBarrier } from '../src/read-barrier.js';

function settled(promise: Promise<unknown>): () => string {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    (error: { code?: string }) => (state = `rejected ${error.code ?? ''}`),
  );
  return () => state;
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ReadBarrier', () => {
  test('reads of one turn share one ReadIndex and run once its index is applied', async () => {
    const barrier = new ReadBarrier(100, 1_000, 7);
    const a = settled(barrier.wait(0));
    const b = settled(barrier.wait(0));
    const asked: Uint8Array[] = [];
    barrier.ask((context) => asked.push(context));
    expect(asked.length).toBe(1);
    barrier.ask(() => asked.push(new Uint8Array()));
    expect(asked.length).toBe(1); // nothing new arrived: nothing asked
    barrier.confirmed(asked[0] as Uint8Array, 10);
    barrier.applied(9);
    await flush();
    expect([a(), b()]).toEqual(['pending', 'pending']);
    barrier.applied(10);
    await flush();
    expect([a(), b()]).toEqual(['resolved', 'resolved']);
    expect(barrier.size).toBe(0);
  });

  test('a refused ReadIndex (no leader) fails the reads at once', async () => {
    const barrier = new ReadBarrier(100, 1_000, 7);
    const read = barrier.wait(0);
    const refusal = Object.assign(new Error('no leader'), { code: 'RAFT_READ_INDEX_DROPPED' });
    barrier.ask(() => {
      throw refusal;
    });
    await expect(read).rejects.toBe(refusal);
  });

  test('a leader change fails reads whose index never came back, and keeps those confirmed', async () => {
    const barrier = new ReadBarrier(100, 1_000, 7);
    const contexts: Uint8Array[] = [];
    const confirmed = settled(barrier.wait(0));
    barrier.ask((c) => contexts.push(c));
    barrier.confirmed(contexts[0] as Uint8Array, 5);
    const lost = settled(barrier.wait(0));
    barrier.ask((c) => contexts.push(c));
    barrier.leaderChanged();
    barrier.applied(5);
    await flush();
    expect([confirmed(), lost()]).toEqual(['resolved', 'rejected KV_LEADER_CHANGED']);
  });

  test('reads past their deadline time out; a bound refuses new reads', async () => {
    const barrier = new ReadBarrier(2, 100, 7);
    const a = settled(barrier.wait(0));
    barrier.ask(() => undefined);
    const b = settled(barrier.wait(50));
    await expect(barrier.wait(50)).rejects.toMatchObject({ code: 'KV_TOO_MANY_REQUESTS' });
    barrier.expire(120);
    await flush();
    expect([a(), b()]).toEqual(['rejected KV_TIMEOUT', 'pending']);
    expect(barrier.size).toBe(1);
  });
});
