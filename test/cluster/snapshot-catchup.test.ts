// Real master processes: a master stopped while the others write past log compaction comes back
// and catches up through a snapshot streamed by the leader.

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
});
