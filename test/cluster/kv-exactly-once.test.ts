// Real master processes: clients that retry every write (same client id and sequence number)
// through a leader SIGKILL never get a write applied twice (Raft dissertation §6.3).

import { randomUUID } from 'node:crypto';
import type { MasterClient } from '@raftplane/master';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';
import { awaitConverged, awaitLeader } from '../support/cluster-checks.js';

interface Retrier {
  readonly clientId: string;
  written: number;
  /** Attempts answered with anything but success (connection cut, timeout, no leader): each was retried. */
  retries: number;
}

/** Writes eo/<client>/<n> = n for n = 1, 2, ..., each retried with the same sequence until it succeeds. */
function retryingWriter(client: MasterClient, stopAt: () => boolean): { retrier: Retrier; done: Promise<void> } {
  const retrier: Retrier = { clientId: randomUUID(), written: 0, retries: 0 };
  const done = (async () => {
    for (let sequence = 1; !stopAt(); sequence++) {
      const key = `eo/${retrier.clientId}/${sequence}`;
      for (;;) {
        const outcome = await client.put(key, String(sequence), { deadlineMs: 2_000, session: { clientId: retrier.clientId, sequence } });
        retrier.retries += outcome.attempts - 1;
        if (outcome.ok) break;
        retrier.retries++;
      }
      retrier.written = sequence;
    }
  })();
  return { retrier, done };
}

describe('exactly-once writes', () => {
  let cluster: TempCluster;
  beforeEach(async () => {
    cluster = await tempCluster({ masters: 3 });
    await cluster.startAll();
  });
  afterEach(async () => cluster.cleanup());

  test('writes retried through a leader SIGKILL are each applied once', async () => {
    const { control } = cluster;
    const leader = await awaitLeader(control);
    let stopping = false;
    const writers = Array.from({ length: 6 }, () => retryingWriter(control.client, () => stopping));
    await new Promise((r) => setTimeout(r, 1_000));
    await control.kill(leader);
    await awaitLeader(control, 5_000);
    await new Promise((r) => setTimeout(r, 1_500));
    await control.start(leader);
    stopping = true;
    await Promise.all(writers.map((w) => w.done));
    await awaitConverged(control);
    const next = await awaitLeader(control);
    let checked = 0;
    for (const { retrier } of writers) {
      for (let sequence = 1; sequence <= retrier.written; sequence++) {
        const stored = await control.client.get(next, `eo/${retrier.clientId}/${sequence}`);
        // Version 1: put once. A write applied twice would show version 2.
        expect(stored, `eo/${retrier.clientId}/${sequence}`).toMatchObject({ value: String(sequence), version: 1 });
        checked++;
      }
    }
    const retries = writers.reduce((sum, w) => sum + w.retrier.retries, 0);
    console.log(`exactly-once: ${checked} writes from ${writers.length} clients, ${retries} attempts retried across the failover, none applied twice`);
    expect(checked).toBeGreaterThan(100);
    // The leader kill cut some writes off mid-flight: they were retried.
    expect(retries).toBeGreaterThan(0);
  });
});
