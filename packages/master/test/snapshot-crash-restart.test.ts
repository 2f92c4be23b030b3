// A follower persists a snapshot from the leader, then restores its store from it; a crash in
// between leaves a data directory whose Raft log starts after the snapshot while the store is
// still behind it. Found by the Raft simulator (seed 429756381): the state machine was handed the
// entries after the snapshot without the snapshot. A master started on such a directory must
// restore the store from the persisted snapshot first.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import pino from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { rangeRequest } from '@raftplane/apiserver';
import { RaftStorage } from '@raftplane/storage';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import { KvStore } from '@raftplane/kv';
import { Master, createKvService, parseClusterConfig, settingsDefaults } from '../src/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array): string => new TextDecoder().decode(value);

async function startMaster(dataDir: string, snapshotEntriesMax: number): Promise<Master> {
  const [peerPort, apiPort] = await freePorts(2);
  const config = parseClusterConfig({
    name: 'snapshot-crash-test',
    secret: 'snapshot-crash-test-shared-secret',
    masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir }],
    snapshot: { entriesMax: snapshotEntriesMax, catchUpEntries: 0 },
  });
  const master = await Master.start({ config, id: 1, logger: pino({ level: 'silent' }) }, (error) => {
    throw error;
  });
  for (let i = 0; i < 300 && !master.isReady(); i++) await new Promise((r) => setTimeout(r, 50));
  return master;
}

/** The master's snapshot as a leader would send it: its own snapshots keep their data in its store, rebuilt here as at a start. */
async function storedSnapshot(dataDir: string): Promise<ReturnType<RaftStorage['snapshot']>> {
  const db = new Level<Uint8Array, Uint8Array>(dataDir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    const storage = await RaftStorage.open({ db: db as never, dataDir, bootstrapConfState: { voters: [1] } });
    if (!storage.needsSnapshotData()) return storage.snapshot();
    const { kv } = settingsDefaults;
    const store = await KvStore.open({ db: db as never, sessionTtlMs: kv.sessionTtlMs, sessionsMax: kv.sessionsMax, txnOpsMax: kv.txnOpsMax, leaseTtlMaxSeconds: kv.leaseTtlMaxSeconds });
    const job = store.beginSnapshot();
    expect(storage.adoptSnapshotData(job.index, storage.snapshotMetadata().confState, await job.data)).toBe(true);
    return storage.snapshot();
  } finally {
    await db.close();
  }
}

describe('a master restarted between persisting a snapshot and restoring its store', () => {
  test('restores the store from the persisted snapshot before applying what follows it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'raftplane-snapshot-crash-'));
    dirs.push(root);
    // A master that compacts its log often, so that its storage holds a snapshot with data.
    const source = await startMaster(join(root, 'source'), 20);
    const service = createKvService(source);
    for (let i = 0; i < 60; i++) {
      await service.put({ key: bytes(`key-${i}`), value: bytes(`value-${i}`), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false }, null);
    }
    await source.stop();
    const snapshot = await storedSnapshot(join(root, 'source'));
    expect(snapshot.metadata.index).toBeGreaterThan(20);

    // The crashed follower: the snapshot persisted in Raft's storage, its store still empty.
    const crashedDir = join(root, 'crashed');
    const db = new Level<Uint8Array, Uint8Array>(crashedDir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const storage = await RaftStorage.open({ db: db as never, dataDir: crashedDir, bootstrapConfState: { voters: [1] } });
    await storage.persist({ snapshot, entries: [], hardState: { term: snapshot.metadata.term, vote: 1, commit: snapshot.metadata.index }, mustSync: true });
    await db.close();

    const restarted = await startMaster(crashedDir, 100_000);
    try {
      const found = await createKvService(restarted).range(rangeRequest({ key: bytes('key-'), rangeEnd: bytes('key.'), serializable: true }));
      // Everything the snapshot covers is there (keys written after it were never sent to this master).
      const keys = found.kvs.map((kv) => text(kv.key));
      expect(keys.length).toBeGreaterThan(0);
      for (const kv of found.kvs) expect(text(kv.value)).toBe(text(kv.key).replace('key-', 'value-'));
      expect(restarted.status().applied).toBeGreaterThanOrEqual(snapshot.metadata.index);
    } finally {
      await restarted.stop();
    }
  });
});
