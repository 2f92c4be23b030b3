// A master applies a Ready's committed entries while the Raft write of that same Ready runs
// (handleReady), even entries that this very Ready appends: a follower whose disk is slow is sent
// entries and a commit index that covers them before it has written them. Committed means durable
// on a quorum, so nothing waits for this master's own fsync to apply them in memory. The store's
// batch must wait for it: the applied index the store has on disk never passes the log on disk.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { rangeRequest } from '@raftplane/apiserver';
import type { PersistUpdate, RaftStorage } from '@raftplane/storage';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import { Master, createKvService, parseClusterConfig } from '../src/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const put = (key: string, value: string) => ({ key: bytes(key), value: bytes(value), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false });

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

async function startCluster(): Promise<Master[]> {
  const dir = await mkdtemp(join(tmpdir(), 'raftplane-apply-during-persist-'));
  dirs.push(dir);
  const ports = await freePorts(6);
  const config = parseClusterConfig({
    name: 'apply-during-persist',
    secret: 'apply-during-persist-shared-secret',
    masters: [1, 2, 3].map((id) => ({ id, peer: `127.0.0.1:${ports[2 * id - 2]}`, api: `127.0.0.1:${ports[2 * id - 1]}`, dataDir: join(dir, `m${id}`) })),
  });
  const logger = pino({ level: 'silent' });
  return Promise.all(
    [1, 2, 3].map((id) =>
      Master.start({ config, id, logger }, (error) => {
        throw error;
      }),
    ),
  );
}

describe('applying committed entries while the Raft write runs', () => {
  test('a follower with a slow disk applies entries before its own log has them, and its store never gets ahead of its log on disk', async () => {
    const masters = await startCluster();
    try {
      await until(() => masters.every((m) => m.isReady()), 'every master ready');
      const leader = masters.find((m) => m.leaderId() === m.id) as Master;
      const follower = masters.find((m) => m !== leader) as Master;
      const storage = (follower as unknown as { storage: RaftStorage }).storage;

      // The follower's Raft writes start 15 ms late, as on a slow disk. storage.lastIndex() moves
      // only once a write is done, so it is the last index this follower has on disk.
      const persist = storage.persist.bind(storage);
      storage.persist = async (update: PersistUpdate): Promise<void> => {
        if (update.entries.length > 0) await sleep(15);
        return persist(update);
      };
      let appliedAheadOfLog = 0;
      const storeAheadOfLog: string[] = [];
      const check = (when: string): void => {
        // kv.appliedIndex is what the store has written (its visible state moves with its batch).
        if (follower.kv.appliedIndex > storage.lastIndex()) storeAheadOfLog.push(`${when}: store at ${follower.kv.appliedIndex}, log on disk at ${storage.lastIndex()}`);
      };
      const applyAhead = follower.kv.applyAhead.bind(follower.kv);
      follower.kv.applyAhead = async (commands, writeAfter) => {
        const last = commands[commands.length - 1]?.index ?? 0;
        if (last > storage.lastIndex()) appliedAheadOfLog++;
        const applied = await applyAhead(commands, writeAfter);
        applied.written.then(
          () => check(`batch up to ${last} written`),
          () => undefined,
        );
        return applied;
      };
      const sampler = setInterval(() => check('sampled'), 1);

      // Writers in parallel keep several appends in flight to the follower while it writes.
      const service = createKvService(leader);
      const writers = 16;
      const putsEach = 15;
      const revisions = await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          const seen: number[] = [];
          for (let i = 0; i < putsEach; i++) seen.push((await service.put(put(`key-${w}-${i}`, `value-${w}-${i}`), null)).header.revision);
          return seen;
        }),
      );
      const last = Math.max(...revisions.flat());
      expect(new Set(revisions.flat()).size).toBe(writers * putsEach);

      await until(() => follower.kv.currentRevision() === last, `the follower applies up to revision ${last}`);
      clearInterval(sampler);
      check('at the end');

      // The new behaviour happened: committed entries were applied before this follower's own
      // log had them on disk...
      expect(appliedAheadOfLog).toBeGreaterThan(0);
      // ...and its store's batch never reached the disk before the log did.
      expect(storeAheadOfLog).toEqual([]);

      // Every master holds every write.
      for (const m of masters) {
        await until(() => m.kv.currentRevision() === last, `master ${m.id} applies up to revision ${last}`);
        const found = await createKvService(m).range(rangeRequest({ key: bytes('key-'), rangeEnd: bytes('key.'), serializable: true }));
        expect(found.kvs.length).toBe(writers * putsEach);
      }
    } finally {
      await Promise.all(masters.map((m) => m.stop()));
    }
  }, 60_000);
});
