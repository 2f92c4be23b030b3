// Paper tests for log compaction and InstallSnapshot (Raft §7, thesis §5): snapshots streamed to a
// lagging follower in chunks, resumed after a loss, restarted after a follower restart.

import { describe, expect, it } from 'vitest';
import {
  MessageType,
  RaftErrorCode,
  makeMessage,
  type Message,
  type NodeId,
  type SnapshotChunk,
} from '../src/index.js';
import { TestCluster, type ClusterOptions } from './support/cluster.js';
import { preload, snapshot, thrownCode } from './support/fixtures.js';

const chunkBytes = 16;

/** Leader 1's snapshot at (`index`, 1), holding `text`, sent to 2 in a single chunk. */
function oneChunkSnapshotTo2(index: number, text: string): Message {
  const data = new TextEncoder().encode(text);
  const chunk: SnapshotChunk = { ...snapshot(index, 1, data), offset: 0, totalBytes: data.byteLength };
  return makeMessage({ type: MessageType.Snap, from: 1, to: 2, term: 1, snapshot: chunk });
}

function snapsTo(cluster: TestCluster, to: NodeId): SnapshotChunk[] {
  return cluster.delivered.filter((m) => m.type === MessageType.Snap && m.to === to).map((m) => m.snapshot as SnapshotChunk);
}

/**
 * 1 leads; ten proposals commit while 3 is cut off; 1 compacts its whole log; the link heals.
 * 3 can now only catch up through a snapshot.
 */
function laggingFollower(options: ClusterOptions = {}): TestCluster {
  const cluster = TestCluster.ofSize(3, { snapshotChunkBytesMax: chunkBytes, ...options });
  cluster.elect(1);
  cluster.isolate(3);
  for (let i = 0; i < 10; i++) cluster.propose(1, `payload-${i}`);
  cluster.stabilize();
  expect(cluster.node(1).compact()).toBe(true);
  expect(cluster.node(1).storage.firstIndex()).toBe(12);
  cluster.heal();
  return cluster;
}

describe('Raft §7: log compaction', () => {
  it('a node drops the entries its snapshot covers and keeps replicating after it', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    for (let i = 0; i < 5; i++) cluster.propose(1, `p${i}`);
    cluster.stabilize();
    const storage = cluster.node(1).storage;
    // act
    cluster.node(1).compact();
    // check: the compacted range answers Compacted; its last index keeps its term.
    expect(storage.firstIndex()).toBe(7);
    expect(storage.snapshot().metadata).toMatchObject({ index: 6, term: 1 });
    expect(storage.term(6)).toBe(1);
    expect(() => storage.entries(1, 3, 1000)).toThrow(expect.objectContaining({ code: RaftErrorCode.Compacted }));
    cluster.propose(1, 'after');
    cluster.stabilize();
    for (const id of cluster.ids) expect(cluster.applied(id).at(-1)).toBe('after');
    // Reference: section 7
  });

  it('a node restarted after compacting resumes from its snapshot and applied index without re-applying', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    for (let i = 0; i < 5; i++) cluster.propose(1, `p${i}`);
    cluster.stabilize();
    cluster.node(2).compact();
    // act
    cluster.crash(2);
    cluster.restart(2);
    cluster.propose(1, 'after');
    cluster.stabilize();
    // check: the state machine throws if an entry is applied twice or out of order.
    const status = cluster.node(2).node.status();
    expect(status.firstIndex).toBe(7);
    expect(status.applied).toBe(7);
    expect(cluster.node(2).app.appliedIndex).toBe(7);
    expect(cluster.node(2).app.payloads.has('after')).toBe(true);
    // Reference: section 7
  });
});

describe('thesis §5: InstallSnapshot in chunks', () => {
  it('a follower behind the compacted log receives the snapshot in chunks of at most snapshotChunkBytesMax', () => {
    // init
    const cluster = laggingFollower();
    const snapshot = cluster.node(1).storage.snapshot();
    const total = snapshot.data.byteLength;
    expect(total).toBeGreaterThan(3 * chunkBytes);
    // act
    cluster.tickAll(1);
    // check: consecutive chunks cover the data exactly once, all with the same metadata.
    const chunks = snapsTo(cluster, 3);
    expect(chunks).toHaveLength(Math.ceil(total / chunkBytes));
    let offset = 0;
    for (const chunk of chunks) {
      expect(chunk.offset).toBe(offset);
      expect(chunk.totalBytes).toBe(total);
      expect(chunk.data.byteLength).toBeLessThanOrEqual(chunkBytes);
      expect(chunk.metadata).toEqual(snapshot.metadata);
      offset += chunk.data.byteLength;
    }
    expect(offset).toBe(total);
    // check: 3 holds the snapshot and is back to ordinary replication.
    const follower = cluster.node(3);
    expect(follower.storage.snapshot().metadata.index).toBe(11);
    expect(follower.app.appliedIndex).toBe(11);
    expect([...follower.app.payloads]).toEqual([...cluster.node(1).app.payloads]);
    expect(cluster.node(1).node.status().progress?.get(3)).toMatchObject({ state: 'replicate', match: 11 });
    cluster.propose(1, 'after');
    cluster.stabilize();
    expect(cluster.applied(3)).toEqual(['after']);
    // Reference: thesis §5.2 (Figure 5.3: InstallSnapshot with offset and done)
  });

  it('only one chunk is in flight at a time: each waits for the acknowledgement of the one before', () => {
    // init
    const cluster = laggingFollower();
    // act
    cluster.tickAll(1);
    // check
    const transfer = cluster.delivered.filter(
      (m) => (m.type === MessageType.Snap && m.to === 3) || (m.type === MessageType.SnapResp && m.from === 3),
    );
    expect(transfer.length).toBeGreaterThan(2);
    transfer.forEach((m, i) => expect(m.type).toBe(i % 2 === 0 ? MessageType.Snap : MessageType.SnapResp));
    const acks = transfer.filter((m) => m.type === MessageType.SnapResp).map((m) => (m.snapshot as SnapshotChunk).offset);
    expect(acks).toEqual(acks.map((_, i) => (i + 1) * chunkBytes));
    // Reference: thesis §5.2
  });

  it('the follower applies the snapshot only when the last chunk arrives, and its applied index never goes back', () => {
    // init
    const cluster = laggingFollower();
    const follower = cluster.node(3);
    const total = cluster.node(1).storage.snapshot().data.byteLength;
    const seen: Array<{ bytesDelivered: number; applied: number }> = [];
    // act: one tick, then stabilize by hand so every Ready of 3 can be watched.
    for (const id of cluster.ids) cluster.node(id).node.tick();
    for (let round = 0; round < 1000; round++) {
      const readied = cluster.processReadies();
      const bytesDelivered = snapsTo(cluster, 3).reduce((sum, c) => sum + c.data.byteLength, 0);
      seen.push({ bytesDelivered, applied: follower.app.appliedIndex });
      const delivered = cluster.deliverQueued();
      if (!readied && delivered === 0) break;
    }
    // check
    expect(seen.some((s) => s.bytesDelivered > 0 && s.bytesDelivered < total)).toBe(true);
    for (const s of seen) if (s.bytesDelivered < total) expect(s.applied).toBe(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]?.applied).toBeGreaterThanOrEqual(seen[i - 1]?.applied as number);
    expect(seen.at(-1)?.applied).toBe(11);
    // Reference: thesis §5.2 ("done: true if this is the last chunk")
  });

  it('a lost chunk is sent again from where the follower stands, not from the start', () => {
    // init
    const cluster = laggingFollower();
    let lost = false;
    const loseThird = (m: Message): boolean => {
      if (lost || m.type !== MessageType.Snap || m.snapshot?.offset !== 2 * chunkBytes) return false;
      lost = true;
      return true;
    };
    // act: the third chunk is lost.
    for (const id of cluster.ids) cluster.node(id).node.tick();
    cluster.stabilize(loseThird);
    // check: the transfer waits; the follower did not install a partial snapshot.
    expect(lost).toBe(true);
    expect(cluster.node(3).storage.snapshot().metadata.index).toBe(0);
    expect(snapsTo(cluster, 3).map((c) => c.offset)).toEqual([0, chunkBytes]);
    // act: heartbeat rounds reveal the loss.
    cluster.tickAll(3);
    // check
    const offsets = snapsTo(cluster, 3).map((c) => c.offset);
    expect(offsets.filter((o) => o === 0)).toHaveLength(1);
    expect(offsets.slice(0, 3)).toEqual([0, chunkBytes, 2 * chunkBytes]);
    expect(cluster.node(3).storage.snapshot().metadata.index).toBe(11);
    expect(cluster.node(3).app.appliedIndex).toBe(11);
    // Reference: thesis §5.2
  });

  it('a follower that restarts mid-transfer makes the leader start again from the first chunk', () => {
    // init
    const cluster = laggingFollower();
    for (const id of cluster.ids) cluster.node(id).node.tick();
    // act: run until the third chunk is on its way, then restart 3 (losing the chunks it holds).
    let restarted = false;
    for (let round = 0; round < 1000 && !restarted; round++) {
      cluster.processReadies();
      if (cluster.queue.some((m) => m.type === MessageType.Snap && m.snapshot?.offset === 2 * chunkBytes)) {
        cluster.crash(3);
        cluster.restart(3);
        restarted = true;
      }
      cluster.deliverQueued();
    }
    cluster.stabilize();
    cluster.tickAll(2);
    // check: 3 answered the orphan chunk with offset 0, and the stream began anew.
    expect(restarted).toBe(true);
    const resets = cluster.delivered.filter((m) => m.type === MessageType.SnapResp && m.from === 3 && m.snapshot?.offset === 0);
    expect(resets.length).toBeGreaterThanOrEqual(1);
    expect(snapsTo(cluster, 3).filter((c) => c.offset === 0)).toHaveLength(2);
    expect(cluster.node(3).storage.snapshot().metadata.index).toBe(11);
    expect([...cluster.node(3).app.payloads]).toEqual([...cluster.node(1).app.payloads]);
    // Reference: thesis §5.2
  });

  it('a leader that takes a newer snapshot mid-transfer starts over with the newer one', () => {
    // init: the transfer of the snapshot at 11 is under way.
    const cluster = laggingFollower();
    for (const id of cluster.ids) cluster.node(id).node.tick();
    let compacted = false;
    for (let round = 0; round < 1000 && !compacted; round++) {
      cluster.processReadies();
      if (cluster.queue.some((m) => m.type === MessageType.Snap && m.snapshot?.offset === 2 * chunkBytes)) {
        // act: more entries commit and the leader snapshots and compacts again.
        for (let i = 0; i < 3; i++) cluster.propose(1, `later-${i}`);
        cluster.stabilize((m) => m.to === 3 || m.from === 3);
        expect(cluster.node(1).compact()).toBe(true);
        compacted = true;
      }
      cluster.deliverQueued();
    }
    cluster.stabilize();
    cluster.tickAll(3);
    // check: 3 ends with the newer snapshot, sent from its first byte.
    expect(compacted).toBe(true);
    const newer = snapsTo(cluster, 3).filter((c) => c.metadata.index === 14);
    expect(newer[0]?.offset).toBe(0);
    expect(cluster.node(3).storage.snapshot().metadata.index).toBe(14);
    expect([...cluster.node(3).app.payloads]).toEqual([...cluster.node(1).app.payloads]);
    // Reference: thesis §5.2
  });

  it('a snapshot the follower has already passed is acknowledged without being installed', () => {
    // init: every node applied 11 entries.
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    for (let i = 0; i < 10; i++) cluster.propose(1, `payload-${i}`);
    cluster.stabilize();
    const follower = cluster.node(2);
    // act: a delayed snapshot at index 5 arrives.
    follower.node.step(oneChunkSnapshotTo2(5, 'old'));
    const { readies, messages } = follower.drainReadies();
    // check
    expect(readies.every((rd) => rd.snapshot === null)).toBe(true);
    expect(follower.app.appliedIndex).toBe(11);
    expect(follower.node.status()).toMatchObject({ applied: 11, commit: 11 });
    expect(messages.find((m) => m.type === MessageType.AppResp)).toMatchObject({ to: 1, index: 11, reject: false });
    // Reference: section 7 ("if the follower receives a snapshot describing a prefix of its log ...")
  });

  it('a follower whose log already holds the snapshot entry fast-forwards its commit and keeps its log', () => {
    // init: 2 holds entries 1-5 of term 1 but knows only entry 2 is committed.
    const cluster = TestCluster.ofSize(3);
    const follower = cluster.node(2);
    preload(follower, [1, 1, 1, 1, 1], 1, { commit: 2, vote: 1 });
    follower.drainReadies();
    expect(follower.app.appliedIndex).toBe(2);
    // act: the leader sends a snapshot at (4, 1) in one chunk.
    follower.node.step(oneChunkSnapshotTo2(4, 'state at 4'));
    const { readies, messages } = follower.drainReadies();
    // check: no restore; entries 3 and 4 are applied from its own log; entry 5 is kept.
    expect(readies.every((rd) => rd.snapshot === null)).toBe(true);
    expect(follower.node.status()).toMatchObject({ commit: 4, applied: 4, lastIndex: 5, firstIndex: 1 });
    expect(follower.app.log.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(messages.find((m) => m.type === MessageType.AppResp)).toMatchObject({ to: 1, index: 4, reject: false });
    // Reference: section 7 ("the follower retains entries following it")
  });

  it('in a cluster, a follower holding the entries but not the commit skips the restore', () => {
    // init: 3 receives the ten entries but its acknowledgements and later commit news are lost.
    const cluster = TestCluster.ofSize(3, { snapshotChunkBytesMax: chunkBytes });
    cluster.elect(1);
    for (let i = 0; i < 10; i++) cluster.propose(1, `payload-${i}`);
    cluster.stabilize((m) => (m.type === MessageType.AppResp && m.from === 3) || (m.type === MessageType.App && m.to === 3 && m.entries.length === 0));
    const follower = cluster.node(3);
    expect(follower.node.status()).toMatchObject({ lastIndex: 11, commit: 1 });
    cluster.node(1).compact();
    // act: the leader loses track of 3 and must send the snapshot.
    cluster.node(1).node.reportUnreachable(3);
    cluster.tickAll(2);
    // check: 3 got the snapshot but committed its own entries instead of restoring.
    expect(snapsTo(cluster, 3).length).toBeGreaterThan(0);
    expect(follower.storage.snapshot().metadata.index).toBe(0);
    expect(follower.app.log.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(cluster.node(1).node.status().progress?.get(3)).toMatchObject({ state: 'replicate', match: 11 });
    // Reference: section 7
  });

  it('MemoryStorage refuses a snapshot older than the one it holds', () => {
    // init
    const cluster = laggingFollower();
    cluster.tickAll(1);
    const storage = cluster.node(3).storage;
    // act
    const code = thrownCode(() => storage.applySnapshot(snapshot(5, 1, new Uint8Array())));
    // check
    expect(code).toBe(RaftErrorCode.SnapshotOutOfDate);
    expect(storage.snapshot().metadata.index).toBe(11);
    // Reference: section 7
  });
});
