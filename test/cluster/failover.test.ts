// Real master processes: SIGKILL of the leader, SIGKILL of all three under load, and a paused
// (SIGSTOP) leader. Nothing acknowledged may be lost, and failover must be quick.

import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { agreedLeader } from '../../scripts/lib/cluster-control.js';
import { awaitConverged, awaitLeader, expectAllApplied } from '../support/cluster-checks.js';
import { WriteLoad } from '../support/load.js';
import { tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';

describe('failures of real masters', () => {
  let cluster: TempCluster;
  beforeEach(async () => {
    cluster = await tempCluster({ masters: 3 });
    await cluster.startAll();
  });
  afterEach(async () => cluster.cleanup());

  test('SIGKILL of the leader: a new leader within 3 s, writes go on, the killed master catches up', async () => {
    const { control } = cluster;
    const leader = await awaitLeader(control);
    const load = new WriteLoad(control.client, 4).start();
    await new Promise((r) => setTimeout(r, 1_000));
    const killedAt = Date.now();
    await control.kill(leader);
    const others = control.ids().filter((id) => id !== leader);
    const next = await awaitLeader(control, 3_000);
    const failoverMs = Date.now() - killedAt;
    console.log(`failover after SIGKILL of leader ${leader}: ${failoverMs} ms to an agreed new leader`);
    expect(next).not.toBe(leader);
    expect(failoverMs).toBeLessThan(3_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(load.acknowledged.some((a) => a.at > killedAt + failoverMs)).toBe(true);
    await control.start(leader);
    await new Promise((r) => setTimeout(r, 1_000));
    await load.stop();
    await awaitConverged(control, [...others, leader]);
    await expectAllApplied(control, load.acknowledged);
  });

  test('SIGKILL of all three mid-load, then restart: every acknowledged write is applied everywhere, in order', async () => {
    const { control } = cluster;
    await awaitLeader(control);
    const load = new WriteLoad(control.client, 8).start();
    await new Promise((r) => setTimeout(r, 2_000));
    await Promise.all(control.ids().map((id) => control.kill(id)));
    await load.stop();
    const acknowledged = load.acknowledged.length;
    expect(acknowledged).toBeGreaterThan(100);
    for (const id of control.ids()) await control.start(id);
    await awaitLeader(control, 10_000);
    await awaitConverged(control);
    await expectAllApplied(control, load.acknowledged);
  });

  test('a paused leader is replaced; resumed, it steps down and catches up without disturbing the new leader', async () => {
    const { control } = cluster;
    const old = await awaitLeader(control);
    const load = new WriteLoad(control.client, 2).start();
    await control.signal(old, 'SIGSTOP');
    const next = await control
      .waitFor('a new leader among the other two', (s) => {
        const id = agreedLeader(new Map([...s].filter(([k]) => k !== old)), false);
        return id !== 0 && id !== old;
      }, 5_000)
      .then((s) => agreedLeader(new Map([...s].filter(([k]) => k !== old)), false));
    const termBefore = (await control.client.status(next))?.term;
    await new Promise((r) => setTimeout(r, 1_000));
    await control.signal(old, 'SIGCONT');
    await control.waitFor('the old leader to follow the new one', (s) => s.get(old)?.leader === next && s.get(old)?.role === 'follower', 10_000);
    await new Promise((r) => setTimeout(r, 1_500));
    await load.stop();
    const after = await control.client.status(next);
    expect(after?.role).toBe('leader');
    expect(after?.term).toBe(termBefore);
    await awaitConverged(control);
    await expectAllApplied(control, load.acknowledged);
  });
});
