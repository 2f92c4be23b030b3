// Real master processes: a master stopped while the others write past log compaction comes back
// and catches up through a snapshot streamed by the leader.

import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { awaitConverged, awaitLeader, expectAllApplied } from '../support/cluster-checks.js';
import { WriteLoad } from '../support/load.js';
import { tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';

describe('catching up through a snapshot', () => {
  let cluster: TempCluster;
  beforeEach(async () => {
    // Small snapshots in small chunks, so that a short run compacts the log several times.
    cluster = await tempCluster({ masters: 3, snapshot: { entriesMax: 300, catchUpEntries: 50 }, raft: { snapshotChunkBytesMax: 4_096 } });
    await cluster.startAll();
  });
  afterEach(async () => cluster.cleanup());

  test('a master stopped while the others write past compaction catches up by snapshot', async () => {
    const { control } = cluster;
    const leader = await awaitLeader(control);
    const lagging = control.ids().find((id) => id !== leader) as number;
    await control.stop(lagging);
    const load = new WriteLoad(control.client, 8).start();
    await control.waitFor('the log to be compacted past what the stopped master holds', (s) => {
      const l = s.get(leader);
      return l !== null && l !== undefined && l.firstIndex > 400;
    }, 30_000);
    await load.stop();
    await control.start(lagging);
    await awaitConverged(control, control.ids(), 30_000);
    const status = await control.client.status(lagging);
    expect(status?.snapshotIndex).toBeGreaterThan(0);
    // Its log starts after a snapshot: the entries it missed were never sent to it one by one.
    expect(status?.firstIndex).toBeGreaterThan(1);
    await expectAllApplied(control, load.acknowledged);
  });

  test('after the others restart (their snapshots rebuilt from their stores), a lagging master still catches up by snapshot', async () => {
    const { control } = cluster;
    const leader = await awaitLeader(control);
    const lagging = control.ids().find((id) => id !== leader) as number;
    const others = control.ids().filter((id) => id !== lagging);
    await control.stop(lagging);
    const load = new WriteLoad(control.client, 8).start();
    await control.waitFor('the log to be compacted past what the stopped master holds', (s) => {
      const l = s.get(leader);
      return l !== null && l !== undefined && l.firstIndex > 400;
    }, 30_000);
    await load.stop();
    // A master's own snapshots keep their data in its store: a restart rebuilds it.
    for (const id of others) await control.stop(id);
    for (const id of others) await control.start(id);
    await awaitLeader(control);
    await control.start(lagging);
    await awaitConverged(control, control.ids(), 30_000);
    const status = await control.client.status(lagging);
    expect(status?.snapshotIndex).toBeGreaterThan(400);
    expect(status?.firstIndex).toBeGreaterThan(1);
    await expectAllApplied(control, load.acknowledged);
  });

  test('a follower that stops answering in the middle of a snapshot holds the leader\'s compaction off for a while, not for ever', async () => {
    const { control } = cluster;
    const leader = await awaitLeader(control);
    const lagging = control.ids().find((id) => id !== leader) as number;
    await control.stop(lagging);
    // A store of several MB: in 4 KiB chunks, one in flight at a time, its snapshot streams for a while.
    const value = 'v'.repeat(4_000);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        // With a session, a write cut off at the stopped master is retried elsewhere, applied once.
        const clientId = randomUUID();
        for (let i = next++, sequence = 1; i < 1_500; i = next++, sequence++) {
          expect(await control.client.put(`big-${i}`, value, { session: { clientId, sequence } })).toMatchObject({ ok: true });
        }
      }),
    );
    await control.start(lagging);
    await control.waitFor('the leader to stream a snapshot to the restarted master', (s) => s.get(leader)?.peers.some((p) => p.id === lagging && p.state === 'snapshot') === true, 30_000);
    await control.signal(lagging, 'SIGSTOP');
    const before = (await control.client.status(leader))?.snapshotIndex ?? 0;
    const load = new WriteLoad(control.client, 8, 'after').start();
    try {
      // Held off while the stream is live, then not: at most two snapshot intervals (2 x 300 entries) later.
      await control.waitFor('the leader to compact again', (s) => (s.get(leader)?.snapshotIndex ?? 0) > before, 30_000);
    } finally {
      await load.stop();
      await control.signal(lagging, 'SIGCONT');
    }
    await awaitConverged(control, control.ids(), 60_000);
    await expectAllApplied(control, load.acknowledged);
  });
});
