// Real master processes: 60 s of proposals at full speed on this 2-core machine cause no leader
// change. Loaded masters must keep their heartbeats on time.

import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { awaitConverged, awaitLeader } from '../support/cluster-checks.js';
import { WriteLoad } from '../support/load.js';
import { tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';

const STEADY_MS = Number(process.env['RAFTPLANE_STEADY_MS'] ?? 60_000);

describe('no spurious elections', () => {
  let cluster: TempCluster;
  beforeEach(async () => {
    cluster = await tempCluster({ masters: 3 });
    await cluster.startAll();
  });
  afterEach(async () => cluster.cleanup());

  test(`${STEADY_MS / 1000} s of steady proposals at full speed cause no leader change`, async () => {
    const { control } = cluster;
    const leader = await awaitLeader(control);
    await awaitConverged(control);
    const before = await control.client.statusAll();
    const load = new WriteLoad(control.client, 32).start();
    await new Promise((r) => setTimeout(r, STEADY_MS));
    await load.stop();
    const after = await control.client.statusAll();
    for (const id of control.ids()) {
      expect(after.get(id)?.term, `term of master ${id}`).toBe(before.get(id)?.term);
      expect(after.get(id)?.leader, `leader seen by master ${id}`).toBe(leader);
    }
    expect(load.failed + load.unknown).toBe(0);
    expect(load.acknowledged.length).toBeGreaterThan(STEADY_MS / 10);
    console.log(`steady: ${load.acknowledged.length} writes in ${STEADY_MS / 1000} s, longest gap ${load.longestGapMs()} ms`);
  }, STEADY_MS + 60_000);
});
