// Paper tests for linearizable reads through ReadIndex (thesis §6.4): the leader's commit index,
// confirmed by a heartbeat round, once an entry of its own term has committed.

import { describe, expect, it } from 'vitest';
import {
  EntryType,
  MessageType,
  RaftErrorCode,
  isRaftError,
  type Message,
  type NodeId,
  type ReadState,
  type RaftError,
} from '../src/index.js';
import { TestCluster, type ClusterOptions } from './support/cluster.js';
import type { TestNode } from './support/test-node.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const noPreVote = { preVote: false, checkQuorum: false } as const;

const ctx = (name: string): Uint8Array => encoder.encode(name);

/** Runs Readies and deliveries like TestCluster.stabilize, keeping the ReadStates each node is handed. */
class ReadWatcher {
  readonly reads = new Map<NodeId, ReadState[]>();

  constructor(readonly cluster: TestCluster) {
    for (const id of cluster.ids) this.reads.set(id, []);
  }

  /** The contexts and indexes `id` was handed, in order. */
  of(id: NodeId): Array<[string, number]> {
    return (this.reads.get(id) ?? []).map((rs) => [decoder.decode(rs.context), rs.index]);
  }

  stabilize(drop: (m: Message) => boolean = () => false): void {
    for (let round = 0; round < 10_000; round++) {
      const readied = this.processReadies();
      this.cluster.queue = this.cluster.queue.filter((m) => !drop(m));
      const delivered = this.cluster.deliverQueued();
      if (!readied && delivered === 0) return;
    }
    throw new Error('cluster did not stabilize');
  }

  tick(ticks = 1, drop?: (m: Message) => boolean): void {
    for (let t = 0; t < ticks; t++) {
      for (const id of this.cluster.ids) if (!this.cluster.isDown(id)) this.cluster.node(id).node.tick();
      this.stabilize(drop);
    }
  }

  private processReadies(): boolean {
    let any = false;
    for (const id of this.cluster.ids) {
      if (this.cluster.isDown(id)) continue;
      const out = this.cluster.node(id).handleReady();
      if (out === null) continue;
      any = true;
      this.reads.get(id)?.push(...out.ready.readStates);
      for (const m of out.messages) this.cluster.send(m);
    }
    return any;
  }
}

function elected(size: number, options: ClusterOptions = {}): { cluster: TestCluster; watcher: ReadWatcher } {
  const cluster = TestCluster.ofSize(size, options);
  const watcher = new ReadWatcher(cluster);
  cluster.node(1).node.campaign();
  watcher.stabilize();
  expect(cluster.leader()?.id).toBe(1);
  return { cluster, watcher };
}

function readError(node: TestNode, context: string): RaftError {
  try {
    node.node.readIndex(ctx(context));
  } catch (error) {
    if (isRaftError(error)) return error;
    throw error;
  }
  throw new Error('read was not refused');
}

describe('thesis §6.4: ReadIndex on the leader', () => {
  it('the leader answers with its commit index once a heartbeat round confirms it still leads', () => {
    // init
    const { cluster, watcher } = elected(3);
    cluster.propose(1, 'a');
    watcher.stabilize();
    const commit = cluster.node(1).node.status().commit;
    const before = cluster.delivered.length;
    // act
    cluster.node(1).node.readIndex(ctx('r1'));
    watcher.stabilize();
    // check
    expect(watcher.of(1)).toEqual([['r1', commit]]);
    const beats = cluster.delivered.slice(before).filter((m) => m.type === MessageType.Heartbeat);
    expect(beats.map((m) => m.to)).toEqual([2, 3]);
    for (const m of beats) expect(decoder.decode(m.context ?? new Uint8Array())).toBe('r1');
    // Reference: thesis §6.4 (steps 2 and 3)
  });

  it('without the heartbeat round there is no answer; the next heartbeat confirms it', () => {
    // init
    const { cluster, watcher } = elected(3);
    // act: the read's heartbeats are lost.
    cluster.node(1).node.readIndex(ctx('r1'));
    watcher.stabilize((m) => m.type === MessageType.Heartbeat);
    // check
    expect(watcher.of(1)).toEqual([]);
    // act: the periodic heartbeat carries the pending read's context.
    watcher.tick(1);
    // check
    expect(watcher.of(1)).toEqual([['r1', 1]]);
    // Reference: thesis §6.4 (step 3)
  });

  it('one follower echoing the context is enough in a cluster of three (a majority with the leader)', () => {
    // init
    const { cluster, watcher } = elected(3);
    // act: 3 never hears the heartbeat.
    cluster.node(1).node.readIndex(ctx('r1'));
    watcher.stabilize((m) => m.type === MessageType.Heartbeat && m.to === 3);
    // check
    expect(watcher.of(1)).toEqual([['r1', 1]]);
    // Reference: thesis §6.4
  });

  it('all reads of one turn share one heartbeat round and are answered in order', () => {
    // init
    const { cluster, watcher } = elected(3);
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
    watcher.stabilize();
    expect(watcher.of(1)).toEqual([
      ['r1', 1],
      ['r2', 1],
      ['r3', 1],
    ]);
    // Reference: thesis §6.4 (batching reads, §6.4.1 and STYLE "drain, then act")
  });

  it('a new leader holds reads until an entry of its own term has committed', () => {
    // init: two entries of term 1, never committed.
    const cluster = TestCluster.ofSize(3, noPreVote);
    for (const id of cluster.ids) {
      const node = cluster.node(id);
      node.storage.append([1, 2].map((index) => ({ index, term: 1, type: EntryType.Normal, data: ctx(`e${index}`) })));
      node.storage.setHardState({ term: 1, vote: 0, commit: 0 });
      node.restart();
    }
    const watcher = new ReadWatcher(cluster);
    // act: 1 wins term 2; a read arrives before its empty entry commits.
    cluster.node(1).node.campaign();
    for (let round = 0; round < 100 && cluster.node(1).node.status().role !== 'leader'; round++) {
      cluster.processReadies();
      cluster.deliverQueued();
    }
    expect(cluster.node(1).node.status()).toMatchObject({ role: 'leader', term: 2, commit: 0 });
    cluster.node(1).node.readIndex(ctx('early'));
    watcher.stabilize();
    // check: answered with the commit index that includes the new term's entry, never 0.
    expect(watcher.of(1)).toEqual([['early', 3]]);
    // Reference: thesis §6.4 (step 1)
  });

  it('a single-node leader answers at once, with no heartbeat round', () => {
    // init
    const { cluster, watcher } = elected(1);
    cluster.propose(1, 'a');
    watcher.stabilize();
    // act
    cluster.node(1).node.readIndex(ctx('solo'));
    watcher.stabilize();
    // check
    expect(watcher.of(1)).toEqual([['solo', 2]]);
    expect(cluster.delivered).toEqual([]);
    // Reference: thesis §6.4
  });
});

describe('thesis §6.4: reads on followers', () => {
  it('a follower forwards a read to the leader and is answered with the leader commit index', () => {
    // init
    const { cluster, watcher } = elected(3);
    for (const data of ['a', 'b']) cluster.propose(1, data);
    watcher.stabilize();
    const commit = cluster.node(1).node.status().commit;
    // act
    cluster.node(2).node.readIndex(ctx('f1'));
    watcher.stabilize();
    // check
    expect(cluster.delivered.some((m) => m.type === MessageType.ReadIndex && m.from === 2 && m.to === 1)).toBe(true);
    expect(cluster.delivered.some((m) => m.type === MessageType.ReadIndexResp && m.from === 1 && m.to === 2)).toBe(true);
    expect(watcher.of(2)).toEqual([['f1', commit]]);
    expect(watcher.of(1)).toEqual([]);
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
    const { cluster, watcher } = elected(3);
    cluster.partition([1]);
    cluster.node(1).node.readIndex(ctx('stale'));
    watcher.stabilize();
    // act: 2 and 3 elect a new leader and commit a write; then the partition heals.
    for (let tick = 0; tick < 100; tick++) {
      watcher.tick(1);
      const leader = cluster.leader();
      if (leader !== null && leader.id !== 1 && leader.node.status().term > 1) break;
    }
    const newLeader = [2, 3].find((id) => cluster.node(id).node.status().role === 'leader');
    expect(newLeader).toBeDefined();
    cluster.propose(newLeader as NodeId, 'w');
    watcher.stabilize();
    cluster.heal();
    watcher.tick(5);
    // check
    expect(watcher.of(1)).toEqual([]);
    expect(cluster.node(1).node.status().role).toBe('follower');
    expect(cluster.node(1).node.status().term).toBeGreaterThan(1);
    // Reference: thesis §6.4 ("the leader ... could have been deposed")
  });

  it('a leader without check-quorum, cut off for many rounds, still never answers', () => {
    // init
    const { cluster, watcher } = elected(3, noPreVote);
    cluster.partition([1]);
    // act
    cluster.node(1).node.readIndex(ctx('stale'));
    watcher.tick(50);
    // check
    expect(cluster.node(1).node.status().role).toBe('leader');
    expect(watcher.of(1)).toEqual([]);
    // Reference: thesis §6.4
  });
});

describe('thesis §6.4: bounded read queue', () => {
  it('at most readIndexRequestsMax reads wait on the leader; more are refused until some are answered', () => {
    // init: heartbeats are lost, so reads pile up.
    const { cluster, watcher } = elected(3, { readIndexRequestsMax: 2 });
    const leader = cluster.node(1);
    const lostBeats = (m: Message): boolean => m.type === MessageType.Heartbeat;
    // act
    leader.node.readIndex(ctx('r1'));
    leader.node.readIndex(ctx('r2'));
    const error = readError(leader, 'r3');
    watcher.stabilize(lostBeats);
    // check
    expect(error.code).toBe(RaftErrorCode.ReadIndexDropped);
    expect(error.details.leader).toBe(1);
    // act: the queue drains; there is room again.
    watcher.tick(1);
    expect(watcher.of(1).map(([name]) => name)).toEqual(['r1', 'r2']);
    leader.node.readIndex(ctx('r4'));
    watcher.stabilize();
    // check
    expect(watcher.of(1).map(([name]) => name)).toEqual(['r1', 'r2', 'r4']);
    // Reference: STYLE §3 ("put a limit on everything")
  });

  it('a forwarded read the full leader cannot take is dropped quietly, to be retried', () => {
    // init
    const { cluster, watcher } = elected(3, { readIndexRequestsMax: 1 });
    cluster.node(1).node.readIndex(ctx('r1'));
    watcher.stabilize((m) => m.type === MessageType.Heartbeat);
    // act
    cluster.node(2).node.readIndex(ctx('f1'));
    watcher.stabilize((m) => m.type === MessageType.Heartbeat);
    // check
    expect(cluster.delivered.some((m) => m.type === MessageType.ReadIndex && m.from === 2)).toBe(true);
    expect(cluster.delivered.some((m) => m.type === MessageType.ReadIndexResp)).toBe(false);
    watcher.tick(1);
    expect(watcher.of(1).map(([name]) => name)).toEqual(['r1']);
    expect(watcher.of(2)).toEqual([]);
    // Reference: STYLE §3 ("put a limit on everything")
  });
});
