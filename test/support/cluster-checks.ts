// Checks that process tests make of a running cluster: one agreed leader, everyone caught up,
// and every acknowledged write applied everywhere, in the same order.

import { expect } from 'vitest';
import { agreedLeader, type ClusterControl } from '../../scripts/lib/cluster-control.js';
import type { Acknowledged } from './load.js';

/** Waits for a leader that a majority follows; returns its id. */
export async function awaitLeader(control: ClusterControl, timeoutMs = 10_000): Promise<number> {
  const statuses = await control.waitFor('a leader', (s) => agreedLeader(s) !== 0, timeoutMs);
  return agreedLeader(statuses);
}

/** Waits until every listed master has applied exactly what the leader committed, with equal digests. */
export async function awaitConverged(control: ClusterControl, ids: readonly number[] = control.ids(), timeoutMs = 20_000): Promise<void> {
  await control.waitFor(
    `masters ${ids.join(', ')} to apply the same entries`,
    (statuses) => {
      const chosen = ids.map((id) => statuses.get(id) ?? null);
      if (chosen.some((s) => s === null)) return false;
      const leader = [...statuses.values()].find((s) => s?.role === 'leader');
      if (leader === undefined || leader === null) return false;
      return chosen.every((s) => s !== null && s.applied === leader.commit && s.digest === leader.digest && s.applied === leader.applied);
    },
    timeoutMs,
  );
}

/** Every acknowledged payload is what each master applied at its index. */
export async function expectAllApplied(control: ClusterControl, acknowledged: readonly Acknowledged[], ids: readonly number[] = control.ids()): Promise<void> {
  const decoder = new TextDecoder();
  const indexes = new Set<number>();
  for (const ack of acknowledged) {
    expect(indexes.has(ack.index), `two acknowledged writes at index ${ack.index}`).toBe(false);
    indexes.add(ack.index);
  }
  for (const id of ids) {
    for (const ack of acknowledged) {
      const payload = await control.client.entry(id, ack.index);
      expect(payload === null ? null : decoder.decode(payload), `master ${id}, index ${ack.index}`).toBe(ack.payload);
    }
  }
}
