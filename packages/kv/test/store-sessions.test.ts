// Exactly-once writes (Raft dissertation §6.3): a client's retried write returns its first result
// and is not applied again — in the same batch, in a later one, after a restart and after a
// snapshot restore; an older write is refused; sessions age out by the proposal clock inside the
// commands, and the table stays under its bound by dropping the least recently used.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KvOperation } from '../src/index.js';
import { Applier, StoreDir, allKeys, putRequest, type Db } from './support/store-fixture.js';

let dir: StoreDir;
beforeEach(async () => {
  dir = await StoreDir.create();
});
afterEach(async () => {
  await dir.remove();
});

const put = (key: string, value: string): KvOperation => ({ put: putRequest(key, value, { prevKv: true }) });
const as = (clientId: string, sequence: number, operation: KvOperation, atMs?: number) => ({ operation, session: { clientId, sequence }, ...(atMs === undefined ? {} : { atMs }) });

async function sessionRecords(db: Db): Promise<string[]> {
  const meta = db.sublevel<string, Uint8Array>('kv-meta', { keyEncoding: 'utf8', valueEncoding: 'view' });
  return (await meta.keys().all()).filter((key) => key.startsWith('session/'));
}

describe('exactly-once writes', () => {
  it('applies a retried write once and answers it with the first result, in one batch or later', async () => {
    const { store } = await dir.openStore();
    const applier = new Applier(store);
    const [first, retry] = await applier.apply([as('c', 1, put('k', 'v1')), as('c', 1, put('k', 'v1'))]);
    expect(retry).toEqual(first);
    expect(store.currentRevision()).toBe(2);
    const [later] = await applier.apply([as('c', 1, put('k', 'v1'))]);
    expect(later).toEqual(first);
    expect(store.currentRevision()).toBe(2);
    const next = await applier.one(as('c', 2, put('k', 'v2')));
    expect(next).toMatchObject({ ok: true, response: { header: { revision: 3 }, prevKv: { version: 1 } } });
  });

  it('keeps the first result across a restart and a snapshot restore', async () => {
    const { db, store } = await dir.openStore();
    const first = await new Applier(store).one(as('c', 7, put('k', 'v')));
    const reopened = await dir.reopen(db);
    const applier = new Applier(reopened.store);
    expect(await applier.one(as('c', 7, put('k', 'v')))).toEqual(first);
    const job = reopened.store.beginSnapshot();
    const fresh = await dir.openStore({}, await dir.sibling());
    await fresh.store.restore({ metadata: { index: job.index, term: 1, confState: { voters: [1] } }, data: await job.data });
    expect(await new Applier(fresh.store).one(as('c', 7, put('k', 'v')))).toEqual(first);
    expect((await fresh.store.range(allKeys())).kvs.map((kv) => kv.version)).toEqual([1]);
  });

  it('answers a retried refusal with the same refusal, even once the write could succeed', async () => {
    const { store } = await dir.openStore();
    const applier = new Applier(store);
    const refused = await applier.one(as('c', 1, { put: putRequest('k', 'v', { lease: 3n }) }));
    expect(refused).toMatchObject({ ok: false, error: { code: 'KV_LEASE_NOT_FOUND' } });
    await applier.one({ leaseGrant: { id: 3n, ttl: 10 } });
    expect(await applier.one(as('c', 1, { put: putRequest('k', 'v', { lease: 3n }) }))).toEqual(refused);
    expect(store.currentRevision()).toBe(1);
  });

  it('refuses a write older than the last one applied for its client, and changes nothing', async () => {
    const { store } = await dir.openStore();
    const applier = new Applier(store);
    await applier.apply([as('c', 4, put('k', 'v4')), as('c', 5, put('k', 'v5'))]);
    const before = await store.range(allKeys());
    expect(await applier.one(as('c', 4, put('k', 'v4')))).toMatchObject({ ok: false, error: { code: 'KV_SESSION_SUPERSEDED' } });
    expect(await store.range(allKeys())).toEqual(before);
    // Another client's numbers are its own.
    expect(await applier.one(as('d', 1, put('j', 'v')))).toMatchObject({ ok: true });
  });
});

describe('the session table', () => {
  it('drops a session unused for sessionTtlMs by the proposal clock, which never goes back', async () => {
    const { db, store } = await dir.openStore({ sessionTtlMs: 1_000 });
    const applier = new Applier(store, 0);
    await applier.one(as('old', 1, put('a', '1'), 10_000));
    await applier.one(as('kept', 1, put('b', '1'), 10_500));
    // A leader whose clock lags does not bring the store's clock back.
    await applier.one(as('x', 1, put('c', '1'), 5_000));
    expect(await sessionRecords(db)).toEqual(['session/kept', 'session/old', 'session/x']);
    await applier.one({ operation: put('d', '1'), atMs: 11_000 });
    expect(await sessionRecords(db)).toEqual(['session/kept', 'session/x']);
    // Forgotten, the old client's retry is a new write: the bound on how long retries are safe.
    await applier.one(as('old', 1, put('a', '1'), 11_000));
    expect((await store.range(allKeys())).kvs.find((kv) => kv.key[0] === 97)?.version).toBe(2);
    expect(store.stats().sessions).toBe(3);
  });

  it('drops the least recently used session past sessionsMax', async () => {
    const { db, store } = await dir.openStore({ sessionsMax: 2 });
    const applier = new Applier(store);
    await applier.apply([as('a', 1, put('a', '1')), as('b', 1, put('b', '1')), as('a', 2, put('a', '2')), as('c', 1, put('c', '1'))]);
    expect(await sessionRecords(db)).toEqual(['session/a', 'session/c']);
    expect(store.stats().sessions).toBe(2);
    const reopened = await dir.reopen(db, { sessionsMax: 2 });
    const retried = await new Applier(reopened.store).one(as('a', 2, put('a', '2')));
    expect(retried).toMatchObject({ ok: true, response: { header: { revision: 4 } } });
    expect(reopened.store.currentRevision()).toBe(5);
  });
});
