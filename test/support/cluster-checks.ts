// Checks that process tests make of a running cluster: one agreed leader, everyone caught up,
// and every acknowledged write applied everywhere, in the same order.

import { expect } from 'vitest';
import { agreedLeader, type ClusterControl } from '../../scripts/lib/cluster-control.js';
import type { Acknowledged } from './load.js';

/**
 * Polls `probe` until it returns something other than null (a throw counts as null), every
 * `everyMs`; throws naming `what` after `timeoutMs`.
 */
export async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits for a leader that a majority follows; returns its id. */
export async function awaitLeader(control: ClusterControl, timeoutMs = 10_000): Promise<number> {
  const statuses = await control.waitFor('a leader', (s) => agreedLeader(s) !== 0, timeoutMs);
  return agreedLeader(statuses);
}

/**
 * Waits until the leader has made its own start-up writes (the Kubernetes API's system namespaces,
 * `kube-node-lease` last), so that a test that counts revisions sees only its own writes.
 */
export async function awaitStartupWrites(control: ClusterControl, leader: number, timeoutMs = 10_000): Promise<void> {
  const key = Buffer.from('/registry/namespaces/kube-node-lease').toString('base64');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await control.client.call(leader, '/v3/kv/range', { key }).catch(() => null);
    if (answer !== null && answer.status === 200 && Array.isArray(answer.body['kvs']) && answer.body['kvs'].length === 1) return;
    if (Date.now() > deadline) throw new Error(`master ${leader} did not create the system namespaces within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until every listed master has applied exactly what the leader committed, at the same revision. */
export async function awaitConverged(control: ClusterControl, ids: readonly number[] = control.ids(), timeoutMs = 20_000): Promise<void> {
  await control.waitFor(
    `masters ${ids.join(', ')} to apply the same entries`,
    (statuses) => {
      const chosen = ids.map((id) => statuses.get(id) ?? null);
      if (chosen.some((s) => s === null)) return false;
      const leader = [...statuses.values()].find((s) => s?.role === 'leader');
      if (leader === undefined || leader === null || leader.applied !== leader.commit) return false;
      return chosen.every((s) => s !== null && s.applied === leader.applied && s.revision === leader.revision);
    },
    timeoutMs,
  );
}

/**
 * Every acknowledged write is on each master, last modified at the revision it was acknowledged
 * at, written once (version 1): nothing acknowledged was lost, moved or applied twice.
 */
export async function expectAllApplied(control: ClusterControl, acknowledged: readonly Acknowledged[], ids: readonly number[] = control.ids()): Promise<void> {
  const revisions = new Set<number>();
  for (const ack of acknowledged) {
    expect(revisions.has(ack.revision), `two acknowledged writes at revision ${ack.revision}`).toBe(false);
    revisions.add(ack.revision);
  }
  for (const id of ids) {
    for (const ack of acknowledged) {
      const stored = await control.client.get(id, ack.key);
      expect(stored, `master ${id}, key ${ack.key}`).toEqual({ value: ack.key, modRevision: ack.revision, version: 1 });
    }
  }
}
