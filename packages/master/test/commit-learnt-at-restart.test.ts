// A change of the commit index alone is held in memory, not written (storage: PersistUpdate
// .mustSync), so a master's store can be ahead of the commit index on its disk when it stops. At
// the next start the commit index is learnt from the store's applied index (only committed
// entries are applied): Raft must start from there, with every key and revision kept.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import pino from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { rangeRequest } from '@raftplane/apiserver';
import { RaftStorage } from '@raftplane/storage';
import { KvStore } from '@raftplane/kv';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import { Master, createKvService, parseClusterConfig, settingsDefaults } from '../src/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array): string => new TextDecoder().decode(value);
const put = (key: string, value: string) => ({ key: bytes(key), value: bytes(value), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false });

async function startMaster(dataDir: string): Promise<Master> {
  const [peerPort, apiPort] = await freePorts(2);
  const config = parseClusterConfig({
    name: 'commit-learnt-test',
    secret: 'commit-learnt-test-shared-secret',
    masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir }],
  });
  const master = await Master.start({ config, id: 1, logger: pino({ level: 'silent' }) }, (error) => {
    throw error;
  });
  for (let i = 0; i < 300 && !master.isReady(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(master.isReady()).toBe(true);
  return master;
}

/** The commit index on disk and the store's applied index, read from the stopped master's directory. */
async function onDisk(dataDir: string): Promise<{ commit: number; applied: number; lastIndex: number }> {
  const db = new Level<Uint8Array, Uint8Array>(dataDir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    const storage = await RaftStorage.open({ db: db as never, dataDir, bootstrapConfState: { voters: [1] } });
    const { kv } = settingsDefaults;
    const store = await KvStore.open({ db: db as never, sessionTtlMs: kv.sessionTtlMs, sessionsMax: kv.sessionsMax, txnOpsMax: kv.txnOpsMax, leaseTtlMaxSeconds: kv.leaseTtlMaxSeconds });
    return { commit: storage.initialState().hardState.commit, applied: store.appliedIndex, lastIndex: storage.lastIndex() };
  } finally {
    await db.close();
  }
}

describe('a master whose store is ahead of the commit index on its disk', () => {
  test('learns the commit index from the store at start, keeps every key and revision, and goes on', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'raftplane-commit-learnt-')), 'm1');
    dirs.push(dataDir);
    const first = await startMaster(dataDir);
    const service = createKvService(first);
    let revision = 0;
    for (let i = 0; i < 20; i++) revision = (await service.put(put(`key-${i}`, `value-${i}`), null)).header.revision;
    await first.stop();

    // A lone master commits each entry in a Ready of its own, after the entry's synced batch:
    // that commit index is held in memory only, so the disk's is behind what the store applied.
    const stored = await onDisk(dataDir);
    expect(stored.applied).toBeGreaterThan(stored.commit);
    expect(stored.applied).toBeLessThanOrEqual(stored.lastIndex);

    const second = await startMaster(dataDir);
    try {
      expect(second.status().commit).toBeGreaterThanOrEqual(stored.applied);
      expect(second.kv.currentRevision()).toBe(revision);
      const again = createKvService(second);
      const found = await again.range(rangeRequest({ key: bytes('key-'), rangeEnd: bytes('key.') }));
      expect(found.kvs.map((kv) => `${text(kv.key)}=${text(kv.value)}`).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `key-${i}=value-${i}`).sort());
      const answer = await again.put(put('key-after', 'value-after'), null);
      expect(answer.header.revision).toBe(revision + 1);
    } finally {
      await second.stop();
    }
  });
});
