// The core sends no more messages than Raft needs: elections, idle leadership and replication
// each have a message budget, counted on a perfect network.

import { describe, expect, test } from 'vitest';
import { MessageType, type Message } from '../src/index.js';
import { TestCluster } from './support/cluster.js';

const sentBy = (id: number) => (m: Message) => m.from === id;

describe('message economy', () => {
  test('electing a leader among 3 by timeout, its empty entry committed and applied everywhere, takes at most 30 messages', () => {
    for (const preVote of [true, false]) {
      const cluster = TestCluster.ofSize(3, { preVote });
      let ticks = 0;
      while (cluster.leader() === null || cluster.ids.some((id) => cluster.node(id).app.appliedIndex < 1)) {
        cluster.tickAll();
        if (++ticks > 100) throw new Error('no leader within 100 ticks');
      }
      const total = cluster.countDelivered();
      // Pre-vote: 2 requests + 2 grants; vote: 2 + 2; the empty entry: 2 appends + 2 acks;
      // the commit: 2 appends + 2 acks; heartbeats in the same ticks add a few more.
      expect(total, `preVote=${preVote}`).toBeLessThanOrEqual(30);
      expect(cluster.countDelivered((m) => m.type === MessageType.PreVote)).toBe(preVote ? 2 : 0);
      expect(cluster.countDelivered((m) => m.type === MessageType.Vote)).toBe(2);
    }
  });

  test('an idle leader sends only heartbeats, one round per heartbeat interval', () => {
    for (const heartbeatIntervalTicks of [1, 3]) {
      const cluster = TestCluster.ofSize(3, { heartbeatIntervalTicks });
      cluster.elect(1);
      cluster.tickAll(5);
      const before = cluster.delivered.length;
      const ticks = 120;
      cluster.tickAll(ticks);
      const idle = cluster.delivered.slice(before);
      const fromLeader = idle.filter(sentBy(1));
      expect(new Set(fromLeader.map((m) => m.type))).toEqual(new Set([MessageType.Heartbeat]));
      expect(fromLeader.length).toBeLessThanOrEqual((ticks / heartbeatIntervalTicks) * 2);
      expect(fromLeader.length).toBeGreaterThanOrEqual((ticks / heartbeatIntervalTicks - 1) * 2);
      const fromFollowers = idle.filter((m) => m.from !== 1);
      expect(new Set(fromFollowers.map((m) => m.type))).toEqual(new Set([MessageType.HeartbeatResp]));
      expect(cluster.leader()?.id).toBe(1);
    }
  });

  test('10 entries proposed together replicate to 3 nodes in at most (10+3)x3 messages', () => {
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    const before = cluster.delivered.length;
    for (let i = 0; i < 10; i++) cluster.propose(1, `e${i}`);
    cluster.stabilize();
    for (const id of cluster.ids) expect(cluster.applied(id)).toEqual(Array.from({ length: 10 }, (_, i) => `e${i}`));
    const used = cluster.delivered.length - before;
    expect(used).toBeLessThanOrEqual((10 + 3) * 3);
    // One append and one acknowledgement per follower carry the entries; one more of each the commit.
    expect(used).toBe(8);
  });

  test('10 entries proposed one per turn, each committed before the next, cost 8 messages each', () => {
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    const before = cluster.delivered.length;
    for (let i = 0; i < 10; i++) {
      cluster.propose(1, `e${i}`);
      cluster.stabilize();
    }
    expect(cluster.delivered.length - before).toBe(80);
  });

  describe('deferCommitBroadcast', () => {
    test('one per turn: the next append carries the commit, so each entry costs 4 messages, not 8', () => {
      const cluster = TestCluster.ofSize(3, { deferCommitBroadcast: true });
      cluster.elect(1);
      cluster.node(1).node.broadcastCommit();
      cluster.stabilize();
      const before = cluster.delivered.length;
      for (let i = 0; i < 10; i++) {
        cluster.propose(1, `e${i}`);
        cluster.stabilize();
      }
      expect(cluster.delivered.length - before).toBe(40);
      // The leader applied all ten; the followers know the commit of all but the last.
      expect(cluster.applied(1)).toHaveLength(10);
      expect(cluster.applied(2)).toHaveLength(9);
      expect(cluster.node(1).node.hasUnsentCommit()).toBe(true);
      // The host's broadcast sends it: one empty append and one ack per follower.
      const beforeBroadcast = cluster.delivered.length;
      cluster.node(1).node.broadcastCommit();
      cluster.stabilize();
      expect(cluster.delivered.length - beforeBroadcast).toBe(4);
      for (const id of cluster.ids) expect(cluster.applied(id)).toEqual(Array.from({ length: 10 }, (_, i) => `e${i}`));
      expect(cluster.node(1).node.hasUnsentCommit()).toBe(false);
      // Nothing left to send: a second broadcast sends nothing.
      const idle = cluster.delivered.length;
      cluster.node(1).node.broadcastCommit();
      cluster.stabilize();
      expect(cluster.delivered.length).toBe(idle);
    });

    test('without the host, a heartbeat carries the commit: followers apply within a heartbeat interval', () => {
      const cluster = TestCluster.ofSize(3, { deferCommitBroadcast: true });
      cluster.elect(1);
      cluster.propose(1, 'x');
      cluster.stabilize();
      expect(cluster.applied(1)).toEqual(['x']);
      expect(cluster.applied(2)).toEqual([]);
      cluster.tickAll(1);
      cluster.stabilize();
      for (const id of cluster.ids) expect(cluster.applied(id)).toEqual(['x']);
      expect(cluster.node(1).node.hasUnsentCommit()).toBe(false);
    });

    test('a follower only tells the commit it is known to hold: never past its match', () => {
      const cluster = TestCluster.ofSize(3, { deferCommitBroadcast: true });
      cluster.elect(1);
      cluster.isolate(3);
      cluster.propose(1, 'y');
      cluster.stabilize();
      // 3 holds nothing new: it is not behind on a commit it could apply, so nothing is owed to it.
      cluster.tickAll(1);
      cluster.stabilize();
      expect(cluster.node(1).node.hasUnsentCommit()).toBe(false);
      expect(cluster.applied(2)).toEqual(['y']);
    });
  });
});
