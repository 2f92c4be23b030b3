// Real master processes: a restart of all three keeps every key, the revision and every lease
// (its TTL counted again from the restart); a lease nobody keeps alive expires and takes its keys
// with it, decided by the leader alone; one kept alive does not.

import type { MasterClient } from '@raftplane/master';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';
import { awaitConverged, awaitLeader } from '../support/cluster-checks.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

async function call(client: MasterClient, id: number, path: string, body: unknown): Promise<Record<string, unknown>> {
  const answer = await client.call(id, path, body);
  if (answer.status !== 200) throw new Error(`${path} on master ${id}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

describe('leases and restarts', () => {
  let cluster: TempCluster;
  beforeEach(async () => {
    cluster = await tempCluster({ masters: 3 });
    await cluster.startAll();
  });
  afterEach(async () => cluster.cleanup());

  test('SIGKILL of all three and a restart keep every key, the revision and every lease, TTLs counted from the restart', async () => {
    const { control } = cluster;
    const { client } = control;
    let leader = await awaitLeader(control);
    const grant = await call(client, leader, '/v3/lease/grant', { TTL: 30 });
    const leaseId = grant['ID'] as string;
    for (let i = 0; i < 50; i++) await call(client, leader, '/v3/kv/put', { key: b64(`r/${i}`), value: b64(`v${i}`), ...(i % 5 === 0 ? { lease: leaseId } : {}) });
    await awaitConverged(control);
    const before = await call(client, leader, '/v3/kv/range', { key: b64('r/'), range_end: b64('r0') });
    const revisionBefore = (before['header'] as { revision: string }).revision;
    await Promise.all(control.ids().map((id) => control.kill(id)));
    // Long enough that a TTL still counted from before the restart would be visibly short.
    await new Promise((r) => setTimeout(r, 3_000));
    for (const id of control.ids()) await control.start(id);
    leader = await awaitLeader(control, 10_000);
    await awaitConverged(control);
    for (const id of control.ids()) {
      const after = await call(client, id, '/v3/kv/range', { key: b64('r/'), range_end: b64('r0'), serializable: true });
      expect(after['kvs'], `keys on master ${id}`).toEqual(before['kvs']);
      expect((after['header'] as { revision: string }).revision).toBe(revisionBefore);
    }
    const ttl = await call(client, leader, '/v3/lease/timetolive', { ID: leaseId, keys: true });
    expect(ttl['grantedTTL']).toBe('30');
    // Counted from the restart (plus one election timeout of grace), not from the grant 3 s earlier.
    expect(Number(ttl['TTL'])).toBeGreaterThanOrEqual(29);
    expect((ttl['keys'] as string[]).map((k) => Buffer.from(k, 'base64').toString()).sort()).toEqual(['r/0', 'r/10', 'r/15', 'r/20', 'r/25', 'r/30', 'r/35', 'r/40', 'r/45', 'r/5']);
    const leases = await call(client, leader, '/v3/lease/leases', {});
    expect(leases['leases']).toEqual([{ ID: leaseId }]);
  });

  test('a lease not kept alive expires and its keys are deleted in one revision; one kept alive stays', async () => {
    const { control } = cluster;
    const { client } = control;
    const leader = await awaitLeader(control);
    const idle = (await call(client, leader, '/v3/lease/grant', { TTL: 3 }))['ID'] as string;
    const kept = (await call(client, leader, '/v3/lease/grant', { TTL: 3 }))['ID'] as string;
    await call(client, leader, '/v3/kv/put', { key: b64('idle/a'), value: b64('1'), lease: idle });
    await call(client, leader, '/v3/kv/put', { key: b64('idle/b'), value: b64('1'), lease: idle });
    await call(client, leader, '/v3/kv/put', { key: b64('kept/a'), value: b64('1'), lease: kept });
    const grantedAt = Date.now();
    let expiredAfterMs = 0;
    for (let waited = 0; waited < 10_000; waited += 250) {
      await call(client, leader, '/v3/lease/keepalive', { ID: kept });
      const idleKeys = await call(client, leader, '/v3/kv/range', { key: b64('idle/'), range_end: b64('idle0') });
      if (idleKeys['kvs'] === undefined) {
        expiredAfterMs = Date.now() - grantedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(expiredAfterMs, 'the idle lease expired').toBeGreaterThanOrEqual(3_000);
    expect(expiredAfterMs).toBeLessThan(6_000);
    const keptKeys = await call(client, leader, '/v3/kv/range', { key: b64('kept/'), range_end: b64('kept0') });
    expect((keptKeys['kvs'] as unknown[]).length).toBe(1);
    const gone = await call(client, leader, '/v3/lease/timetolive', { ID: idle });
    expect(gone['TTL']).toBe('-1');
    console.log(`lease expiry: a 3 s lease was revoked by the leader after ${expiredAfterMs} ms`);
  });
});
