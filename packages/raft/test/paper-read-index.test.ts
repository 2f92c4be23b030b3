// Paper tests for linearizable reads through ReadIndex (thesis §6.4): the leader's commit index,
// confirmed by a heartbeat round, once an entry of its own term has committed.

import { describe, expect, it } from 'vitest';
import {
  MessageType,
  RaftErrorCode,
  type Message,
  type NodeId,
  type RaftError,
} from '../src/index.js';
import { TestCluster } from './support/cluster.js';
import { preload, refusal } from './support/fixtures.js';
import type { TestNode } from './support/test-node.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const noPreVote = { preVote: false, checkQuorum: false } as const;

const ctx = (name: string): Uint8Array => encoder.encode(name);

/** The contexts and indexes `node` was handed as ReadStates, in order. */
function readsOf(node: TestNode): Array<[string, number]> {
  return node.readStates.map((rs) => [decoder.decode(rs.context), rs.index]);
}

function readError(node: TestNode, context: string): RaftError {
  return refusal(() => node.node.readIndex(ctx(context)));
}

describe('thesis §6.4: ReadIndex on the leader', () => {
  it('the leader answers with its commit index once a heartbeat round confirms it still leads', () => {
    // init
    const cluster = TestCluster.elected(3);
    cluster.propose(1, 'a');
    cluster.stabilize();
    const commit = cluster.node(1).node.status().commit;
    const before = cluster.delivered.length;
    // act
    cluster.node(1).node.readIndex(ctx('r1'));
    cluster.stabilize();
    // check
    expect(readsOf(cluster.node(1))).toEqual([['r1', commit]]);
    const beats = cluster.delivered.slice(before).filter((m) => m.type === MessageType.Heartbeat);
    expect(beats.map((m) => m.to)).toEqual([2, 3]);
    for (const m of beats) expect(decoder.decode(m.context ?? new Uint8Array())).toBe('r1');
    // Reference: thesis §6.4 (steps 2 and 3)
  });

  it('without the heartbeat round there is no answer; the next heartbeat confirms it', () => {
    // init
    const cluster = TestCluster.elected(3);
    // act: the read's heartbeats are lost.
    cluster.node(1).node.readIndex(ctx('r1'));
    cluster.stabilize((m) => m.type === MessageType.Heartbeat);
    // check
    expect(readsOf(cluster.node(1))).toEqual([]);
    // act: the periodic heartbeat carries the pending read's context.
    cluster.tickAll(1);
    // check
    expect(readsOf(cluster.node(1))).toEqual([['r1', 1]]);
    // Reference: thesis §6.4 (step 3)
  });

  it('one follower echoing the context is enough in a cluster of three (a majority with the leader)', () => {
    // init
    const cluster = TestCluster.elected(3);
    // act: 3 never hears the heartbeat.
    cluster.node(1).node.readIndex(ctx('r1'));
    cluster.stabilize((m) => m.type === MessageType.Heartbeat && m.to === 3);
    // check
    expect(readsOf(cluster.node(1))).toEqual([['r1', 1]]);
    // Reference: thesis §6.4
  });

  it('all reads of one turn share one heartbeat round and are answered in order', () => {
    // init
    const cluster = TestCluster.elected(3);
    const leader = cluster.node(1);
    // act
    for (const name of ['r1', 'r2', 'r3']) leader.node.readIndex(ctx(name));
    const messages = leader.beginReady() ?? [];
    // check: one heartbeat per follower, carrying the newest context.
    const beats = messages.filter((m) => m.type === MessageType.Heartbeat);
    expect(beats.map((m) => [m.to, decoder.decode(m.context ?? new Uint8Array())])).toEqual([
      [2, 'r3'],
      [3, 'r3'],
    ]);
    leader.persist();
    leader.applyAndAdvance();
    for (const m of messages) cluster.send(m);
    cluster.stabilize();
    expect(readsOf(cluster.node(1))).toEqual([
      ['r1', 1],
      ['r2', 1],
      ['r3', 1],
    ]);
    // Reference: thesis §6.4 (batching reads, §6.4.1 and STYLE "drain, then act")
  });

  it('a new leader holds reads until an entry of its own term has committed', () => {
    // init: two entries of term 1, never committed.
    const cluster = TestCluster.ofSize(3, noPreVote);
    for (const id of cluster.ids) preload(cluster.node(id), [1, 1], 1);
    // act: 1 wins term 2; a read arrives before its empty entry commits.
    cluster.node(1).node.campaign();
    for (let round = 0; round < 100 && cluster.node(1).node.status().role !== 'leader'; round++) {
      cluster.processReadies();
      cluster.deliverQueued();
    }
    expect(cluster.node(1).node.status()).toMatchObject({ role: 'leader', term: 2, commit: 0 });
    cluster.node(1).node.readIndex(ctx('early'));
    cluster.stabilize();
    // check: answered with the commit index that includes the new term's entry, never 0.
    expect(readsOf(cluster.node(1))).toEqual([['early', 3]]);
    // Reference: thesis §6.4 (step 1)
  });

  it('a single-node leader answers at once, with no heartbeat round', () => {
    // init
    const cluster = TestCluster.elected(1);
    cluster.propose(1, 'a');
    cluster.stabilize();
    // act
    cluster.node(1).node.readIndex(ctx('solo'));
    cluster.stabilize();
    // check
    expect(readsOf(cluster.node(1))).toEqual([['solo', 2]]);
    expect(cluster.delivered).toEqual([]);
    // Reference: thesis §6.4
  });
});

describe('thesis §6.4: reads on followers', () => {
  it('a follower forwards a read to the leader and is answered with the leader commit index', () => {
    // init
    const cluster = TestCluster.elected(3);
    for (const data of ['a', 'b']) cluster.propose(1, data);
    cluster.stabilize();
    const commit = cluster.node(1).node.status().commit;
    // act
    cluster.node(2).node.readIndex(ctx('f1'));
    cluster.stabilize();
    // check
    expect(cluster.delivered.some((m) => m.type === MessageType.ReadIndex && m.from === 2 && m.to === 1)).toBe(true);
    expect(cluster.delivered.some((m) => m.type === MessageType.ReadIndexResp && m.from === 1 && m.to === 2)).toBe(true);
    expect(readsOf(cluster.node(2))).toEqual([['f1', commit]]);
    expect(readsOf(cluster.node(1))).toEqual([]);
    expect(cluster.node(2).app.appliedIndex).toBeGreaterThanOrEqual(commit);
    // Reference: thesis §6.4 ("followers ... request the current commit index from the leader")
  });

  it('a node that knows no leader refuses a read with RAFT_READ_INDEX_DROPPED', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    // act
    const asFollower = readError(cluster.node(2), 'x');
    cluster.node(1).node.campaign();
    const asCandidate = readError(cluster.node(1), 'y');
    // check
    expect(asFollower.code).toBe(RaftErrorCode.ReadIndexDropped);
    expect(asFollower.details.leader).toBe(0);
    expect(asCandidate.code).toBe(RaftErrorCode.ReadIndexDropped);
    // Reference: thesis §6.4
  });
});

describe('thesis §6.4: safety of reads', () => {
  it('a deposed leader never answers a read it could not confirm', () => {
    // init: 1 leads, then is cut off with a read pending.
    const cluster = TestCluster.elected(3);
    cluster.partition([1]);
    cluster.node(1).node.readIndex(ctx('stale'));
    cluster.stabilize();
    // act: 2 and 3 elect a new leader and commit a write; then the partition heals.
    for (let tick = 0; tick < 100; tick++) {
      cluster.tickAll(1);
      const leader = cluster.leader();
      if (leader !== null && leader.id !== 1 && leader.node.status().term > 1) break;
    }
    const newLeader = [2, 3].find((id) => cluster.node(id).node.status().role === 'leader');
    expect(newLeader).toBeDefined();
    cluster.propose(newLeader as NodeId, 'w');
    cluster.stabilize();
    cluster.heal();
    cluster.tickAll(5);
    // check
    expect(readsOf(cluster.node(1))).toEqual([]);
    expect(cluster.node(1).node.status().role).toBe('follower');
    expect(cluster.node(1).node.status().term).toBeGreaterThan(1);
    // Reference: thesis §6.4 ("the leader ... could have been deposed")
  });

  it('a leader without check-quorum, cut off for many rounds, still never answers', () => {
    // init
    const cluster = TestCluster.elected(3, noPreVote);
    cluster.partition([1]);
    // act
    cluster.node(1).node.readIndex(ctx('stale'));
    cluster.tickAll(50);
    // check
    expect(cluster.node(1).node.status().role).toBe('leader');
    expect(readsOf(cluster.node(1))).toEqual([]);
    // Reference: thesis §6.4
  });
});

describe('thesis §6.4: bounded read queue', () => {
  it('at most readIndexRequestsMax reads wait on the leader; more are refused until some are answered', () => {
    // init: heartbeats are lost, so reads pile up.
    const cluster = TestCluster.elected(3, { readIndexRequestsMax: 2 });
    const leader = cluster.node(1);
    const lostBeats = (m: Message): boolean => m.type === MessageType.Heartbeat;
    // act
    leader.node.readIndex(ctx('r1'));
    leader.node.readIndex(ctx('r2'));
    const error = readError(leader, 'r3');
    cluster.stabilize(lostBeats);
    // check
    expect(error.code).toBe(RaftErrorCode.ReadIndexDropped);
    expect(error.details.leader).toBe(1);
    // act: the queue drains; there is room again.
    cluster.tickAll(1);
    expect(readsOf(cluster.node(1)).map(([name]) => name)).toEqual(['r1', 'r2']);
    leader.node.readIndex(ctx('r4'));
    cluster.stabilize();
    // check
    expect(readsOf(cluster.node(1)).map(([name]) => name)).toEqual(['r1', 'r2', 'r4']);
    // Reference: STYLE §3 ("put a limit on everything")
  });

  it('a forwarded read the full leader cannot take is dropped quietly, to be retried', () => {
    // init
    const cluster = TestCluster.elected(3, { readIndexRequestsMax: 1 });
    cluster.node(1).node.readIndex(ctx('r1'));
    cluster.stabilize((m) => m.type === MessageType.Heartbeat);
    // act
    cluster.node(2).node.readIndex(ctx('f1'));
    cluster.stabilize((m) => m.type === MessageType.Heartbeat);
    // check
    expect(cluster.delivered.some((m) => m.type === MessageType.ReadIndex && m.from === 2)).toBe(true);
    expect(cluster.delivered.some((m) => m.type === MessageType.ReadIndexResp)).toBe(false);
    cluster.tickAll(1);
    expect(readsOf(cluster.node(1)).map(([name]) => name)).toEqual(['r1']);
    expect(readsOf(cluster.node(2))).toEqual([]);
    // Reference: STYLE §3 ("put a limit on everything")
  });
});
