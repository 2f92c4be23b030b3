// Real master processes: watchers on every master follow writes while the leader is SIGKILLed.
// Those on the dead master resume on another from the last revision they saw. Afterwards every
// watcher's history is the same, event for event, and it is the store's: ordered, each revision
// once, no gap, each transaction's events in one message, and every acknowledged write in it.

import type { MasterClient } from '@raftplane/master';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';
import { awaitConverged, awaitLeader, awaitStartupWrites } from '../support/cluster-checks.js';
import { ResumingWatcher, type SeenEvent } from '../support/etcd-watch.js';
import { WriteLoad } from '../support/load.js';

/** Writes three keys per transaction, one transaction at a time, until stopped; returns the acknowledged revisions. */
function transactions(client: MasterClient, ids: readonly number[]): { stop(): Promise<number[]> } {
  const revisions: number[] = [];
  let stopped = false;
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const run = (async () => {
    for (let i = 0, target = 0; !stopped; i++) {
      const success = ['a', 'b', 'c'].map((part) => ({ request_put: { key: b64(`wtxn/${i}/${part}`), value: b64(part) } }));
      try {
        const answer = await client.call(ids[target % ids.length] as number, '/v3/kv/txn', { success });
        const header = answer.body['header'] as { revision?: string } | undefined;
        if (answer.status === 200 && answer.body['succeeded'] === true) revisions.push(Number(header?.revision));
        else target++;
      } catch {
        target++;
      }
      await new Promise((r) => setTimeout(r, 30));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await run;
      return revisions;
    },
  };
}

describe('watches across a leader SIGKILL', () => {
  let cluster: TempCluster;
  beforeEach(async () => {
    cluster = await tempCluster({ masters: 3 });
    await cluster.startAll();
  });
  afterEach(async () => cluster.cleanup());

  test('watchers resume on another master from their last revision, and all histories agree event for event', async () => {
    const { control } = cluster;
    const leader = await awaitLeader(control);
    await awaitStartupWrites(control, leader);
    const endpoints = control.config.masters.map((m) => `http://${m.api.host}:${m.api.port}`);
    const startRevision = ((await control.client.status(leader))?.revision ?? 1) + 1;
    // Two watchers per master, each starting at the same revision.
    const watchers = control.ids().flatMap((_, i) => [new ResumingWatcher(endpoints, 'w', startRevision, i), new ResumingWatcher(endpoints, 'w', startRevision, i)]);
    const load = new WriteLoad(control.client, 4).start();
    const txns = transactions(control.client, control.ids());
    await new Promise((r) => setTimeout(r, 1_500));
    await control.kill(leader);
    await awaitLeader(control, 5_000);
    await new Promise((r) => setTimeout(r, 1_500));
    await load.stop();
    const txnRevisions = await txns.stop();
    expect(txnRevisions.length).toBeGreaterThan(5);
    await control.start(leader);
    await awaitConverged(control);
    const finalRevision = (await control.client.status(await awaitLeader(control)))?.revision ?? 0;
    await Promise.all(watchers.map((w) => w.stopAt(finalRevision, 15_000)));

    const reference = watchers[0]?.events as SeenEvent[];
    for (const watcher of watchers) {
      // Ordered and unique: revisions never go back, and a revision never comes twice.
      const revisions = watcher.events.map((e) => e.revision);
      for (let i = 1; i < revisions.length; i++) expect(revisions[i], 'revisions never go back').toBeGreaterThanOrEqual(revisions[i - 1] as number);
      // Atomic: all events of one revision arrive in one response.
      const batchOf = new Map<number, number>();
      watcher.batches.forEach((batch, b) =>
        batch.forEach((e) => {
          expect(batchOf.get(e.revision) ?? b, `revision ${e.revision} split across responses`).toBe(b);
          batchOf.set(e.revision, b);
        }),
      );
      // Everything agrees with the first watcher, event for event.
      expect(watcher.events).toEqual(reference);
    }
    // Reliable: every revision from the start to the end, with no gap (all writes are under "w").
    const distinct = [...new Set(reference.map((e) => e.revision))];
    expect(distinct[0]).toBe(startRevision);
    expect(distinct.at(-1)).toBe(finalRevision);
    expect(distinct.length).toBe(finalRevision - startRevision + 1);
    // Each acknowledged transaction is one revision holding its three puts.
    for (const revision of txnRevisions) expect(reference.filter((e) => e.revision === revision).length).toBe(3);
    // Every acknowledged write is there, at the revision it was acknowledged with.
    const byRevision = new Map(reference.map((e) => [e.revision, e]));
    for (const ack of load.acknowledged) expect(byRevision.get(ack.revision)).toEqual({ revision: ack.revision, type: 'PUT', key: ack.key, value: ack.key });
    // The watchers that were on the killed master did resume elsewhere.
    const moved = watchers.filter((w) => w.resumes > 0);
    expect(moved.length).toBeGreaterThanOrEqual(2);
    console.log(
      `watch failover: ${watchers.length} watchers, ${reference.length} events from revision ${startRevision} to ${finalRevision}, ${moved.length} resumed on another master`,
    );
  });
});
