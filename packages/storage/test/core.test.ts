// The Raft core on RaftStorage: a single-voter core campaigns and commits proposals, each Ready
// persisted with persist(ready) (a Ready is a PersistUpdate, mustSync included), then restarts
// from the directory alone with its term, vote, log and commit, and goes on.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawNode, raftDefaults, seededRandom } from '@raftplane/raft';
import type { RaftStorage } from '../src/index.js';
import { DataDir, recordBatches } from './support/data-dir.js';

let dir: DataDir;
beforeEach(async () => {
  dir = await DataDir.create();
});
afterEach(async () => {
  await dir.remove();
});

const voters = { voters: [1] };

function startNode(storage: RaftStorage, applied: number): RawNode {
  return new RawNode({ ...raftDefaults, id: 1, storage, random: seededRandom(7), applied });
}

/** Runs Ready -> persist -> advance until the core has nothing more to hand out (a bounded loop). */
async function settle(node: RawNode, storage: RaftStorage): Promise<number> {
  let readies = 0;
  for (; readies < 100 && node.hasReady(); readies++) {
    const ready = node.ready();
    await storage.persist(ready);
    node.advance();
  }
  expect(node.hasReady()).toBe(false);
  return readies;
}

describe('the Raft core on RaftStorage', () => {
  it('commits proposals, restarts from the directory with the same state, and goes on in a new term', async () => {
    const first = await dir.openStorage(voters);
    const node = startNode(first.storage, 0);
    node.campaign();
    await settle(node, first.storage);
    expect(node.status().role).toBe('leader');
    const batches = recordBatches(first.db);
    for (let i = 0; i < 20; i++) node.propose(new TextEncoder().encode(`p${i}`));
    const readies = await settle(node, first.storage);
    expect(batches.length).toBeLessThanOrEqual(readies);
    // A single voter commits its own entries once they are durable: the commit follows in a Ready of its own, held in memory (no batch).
    expect(first.storage.stats.commitOnlyUpdates).toBeGreaterThan(0);
    const before = node.status();
    expect(before.commit).toBe(before.lastIndex);
    await first.storage.createSnapshot(before.commit - 5, voters, new Uint8Array([1]), 2);

    const second = await dir.reopen(first.db, { voters: [9] });
    const restarted = startNode(second.storage, second.storage.snapshot().metadata.index);
    const after = restarted.status();
    expect([after.term, after.vote, after.commit, after.lastIndex, after.firstIndex]).toEqual([
      before.term,
      before.vote,
      before.commit,
      before.lastIndex,
      before.commit - 5 - 2 + 1,
    ]);
    expect(after.voters).toEqual([1]);
    restarted.campaign();
    await settle(restarted, second.storage);
    restarted.propose(new TextEncoder().encode('after restart'));
    await settle(restarted, second.storage);
    const final = restarted.status();
    expect([final.role, final.term, final.commit]).toEqual(['leader', before.term + 1, before.lastIndex + 2]);
    expect(new TextDecoder().decode(second.storage.entries(final.commit, final.commit + 1, Infinity)[0]?.data)).toBe('after restart');
  });
});
