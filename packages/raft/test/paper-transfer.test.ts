// Paper tests for leadership transfer (thesis §3.10): the leader catches the target up, sends it
// TimeoutNow, and the target's election is honoured even within the leader lease.

import { describe, expect, it } from 'vitest';
import {
  CAMPAIGN_TRANSFER,
  MessageType,
  NONE,
  RaftErrorCode,
  bytesEqual,
  type Message,
  type NodeId,
  type RaftError,
} from '../src/index.js';
import { TestCluster } from './support/cluster.js';
import { refusal } from './support/fixtures.js';

function indexOf(cluster: TestCluster, predicate: (m: Message) => boolean): number {
  return cluster.delivered.findIndex(predicate);
}

function transferError(cluster: TestCluster, on: NodeId, to: NodeId): RaftError {
  return refusal(() => cluster.node(on).node.transferLeadership(to));
}

describe('thesis §3.10: leadership transfer', () => {
  it('the leader asked directly hands over to an up-to-date follower', () => {
    // init
    const cluster = TestCluster.elected(3);
    // act
    cluster.node(1).node.transferLeadership(2);
    cluster.stabilize();
    // check
    expect(cluster.delivered.some((m) => m.type === MessageType.TimeoutNow && m.from === 1 && m.to === 2)).toBe(true);
    expect(cluster.leader()?.id).toBe(2);
    expect(cluster.node(1).node.status()).toMatchObject({ role: 'follower', term: 2, lead: 2 });
    // Reference: thesis §3.10
  });

  it('the leader asked directly refuses a target that is not a voter with RAFT_TRANSFER_DROPPED', () => {
    // init
    const cluster = TestCluster.elected(3);
    // act
    const error = transferError(cluster, 1, 9);
    // check
    expect(error.code).toBe(RaftErrorCode.TransferDropped);
    expect(error.details.leader).toBe(1);
    // Reference: thesis §3.10
  });

  it('a target that is up to date is sent TimeoutNow at once and wins the next term', () => {
    // init
    const cluster = TestCluster.elected(3);
    cluster.propose(1, 'a');
    cluster.stabilize();
    const from = cluster.delivered.length;
    // act: 2 asks for leadership.
    cluster.node(2).node.transferLeadership(2);
    cluster.stabilize();
    // check: no append to 2 was needed before TimeoutNow.
    const after = cluster.delivered.slice(from);
    const timeoutNow = after.findIndex((m) => m.type === MessageType.TimeoutNow && m.to === 2);
    expect(timeoutNow).toBeGreaterThan(0);
    expect(after.slice(0, timeoutNow).some((m) => m.type === MessageType.App && m.to === 2)).toBe(false);
    expect(cluster.leader()?.id).toBe(2);
    expect(cluster.node(2).node.status().term).toBe(2);
    cluster.propose(2, 'b');
    cluster.stabilize();
    for (const id of cluster.ids) expect(cluster.applied(id)).toEqual(['a', 'b']);
    // Reference: thesis §3.10 (step 1 is empty for an up-to-date target)
  });

  it('a lagging target is first caught up, and only then sent TimeoutNow', () => {
    // init: 3 misses five entries.
    const cluster = TestCluster.elected(3);
    cluster.isolate(3);
    for (let i = 0; i < 5; i++) cluster.propose(1, `p${i}`);
    cluster.stabilize();
    cluster.heal();
    const from = cluster.delivered.length;
    // act
    cluster.node(3).node.transferLeadership(3);
    cluster.stabilize();
    // check: the entries reached 3, then its acknowledgement, then TimeoutNow.
    const after = cluster.delivered.slice(from);
    const timeoutNow = after.findIndex((m) => m.type === MessageType.TimeoutNow && m.to === 3);
    const lastApp = after.findLastIndex((m, i) => i < timeoutNow && m.type === MessageType.App && m.to === 3 && m.entries.length > 0);
    const caughtUp = after.findIndex((m) => m.type === MessageType.AppResp && m.from === 3 && !m.reject && m.index === 6);
    expect(lastApp).toBeGreaterThanOrEqual(0);
    expect(caughtUp).toBeGreaterThan(lastApp);
    expect(timeoutNow).toBeGreaterThan(caughtUp);
    expect(cluster.leader()?.id).toBe(3);
    expect(cluster.applied(3)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    // Reference: thesis §3.10 (step 2: "the prior leader ... catches up the target server's log")
  });

  it('the target campaigns at once, skipping pre-vote, with a vote marked as a transfer', () => {
    // init
    const cluster = TestCluster.elected(3, { preVote: true });
    const from = cluster.delivered.length;
    // act
    cluster.node(2).node.transferLeadership(2);
    cluster.stabilize();
    // check
    const after = cluster.delivered.slice(from);
    expect(after.some((m) => m.type === MessageType.PreVote)).toBe(false);
    const votes = after.filter((m) => m.type === MessageType.Vote && m.from === 2);
    expect(votes.map((m) => m.to)).toEqual([1, 3]);
    for (const m of votes) expect(bytesEqual(m.context, CAMPAIGN_TRANSFER)).toBe(true);
    // Reference: thesis §3.10 (step 3: "a TimeoutNow request ... begins a new election")
  });

  it('the target wins even while the other nodes are inside the leader lease', () => {
    // init: check-quorum on; every follower heard from the leader a tick ago.
    const cluster = TestCluster.elected(3, { checkQuorum: true, preVote: true });
    cluster.tickAll(3);
    const follower = cluster.node(3).node.raft;
    expect(follower.lead).toBe(1);
    expect(follower.electionElapsed).toBeLessThan(10);
    // act
    cluster.node(2).node.transferLeadership(2);
    cluster.stabilize();
    // check: 3 granted the transfer vote in spite of its lease; the old leader did too.
    const grants = cluster.delivered.filter((m) => m.type === MessageType.VoteResp && m.to === 2 && !m.reject);
    expect(grants.map((m) => m.from).sort()).toEqual([1, 3]);
    expect(cluster.leader()?.id).toBe(2);
    for (const id of cluster.ids) expect(cluster.node(id).node.status()).toMatchObject({ term: 2, lead: 2 });
    // Reference: thesis §3.10 and §4.2.3
  });

  it('a transfer request made on a follower is forwarded to the leader', () => {
    // init
    const cluster = TestCluster.elected(3);
    // act: 3 asks that 2 lead.
    cluster.node(3).node.transferLeadership(2);
    cluster.stabilize();
    // check
    const forwarded = indexOf(cluster, (m) => m.type === MessageType.TransferLeader && m.from === 3 && m.to === 1 && m.index === 2);
    const timeoutNow = indexOf(cluster, (m) => m.type === MessageType.TimeoutNow && m.to === 2);
    expect(forwarded).toBeGreaterThanOrEqual(0);
    expect(timeoutNow).toBeGreaterThan(forwarded);
    expect(cluster.leader()?.id).toBe(2);
    // Reference: thesis §3.10
  });

  it('a transfer that does not finish within an election timeout is abandoned', () => {
    // init: the target 3 is unreachable.
    const cluster = TestCluster.elected(3);
    cluster.isolate(3);
    cluster.node(2).node.transferLeadership(3);
    cluster.stabilize();
    const leader = cluster.node(1);
    expect(leader.node.status().leadTransferee).toBe(3);
    // act / check: still transferring one tick before the timeout, abandoned at it.
    cluster.tickAll(9);
    expect(leader.node.status().leadTransferee).toBe(3);
    expect(() => leader.node.propose(new TextEncoder().encode('x'))).toThrow(
      expect.objectContaining({ code: RaftErrorCode.ProposalDropped }),
    );
    cluster.tickAll(1);
    expect(leader.node.status()).toMatchObject({ role: 'leader', term: 1, leadTransferee: NONE });
    expect(leader.node.propose(new TextEncoder().encode('y'))).not.toBeNull();
    cluster.stabilize();
    expect(cluster.applied(2)).toEqual(['y']);
    // Reference: thesis §3.10 ("if the transfer does not complete within about one election timeout, ... abort")
  });

  it('a request naming the leader itself changes nothing', () => {
    // init
    const cluster = TestCluster.elected(3);
    // act
    cluster.node(2).node.transferLeadership(1);
    cluster.stabilize();
    // check
    expect(cluster.node(1).node.status()).toMatchObject({ role: 'leader', term: 1, leadTransferee: NONE });
    expect(cluster.delivered.some((m) => m.type === MessageType.TimeoutNow)).toBe(false);
    // Reference: thesis §3.10
  });

  it('a request for a new target replaces a transfer under way', () => {
    // init: a transfer to the unreachable 3 is under way.
    const cluster = TestCluster.elected(3);
    cluster.isolate(3);
    cluster.node(2).node.transferLeadership(3);
    cluster.stabilize();
    // act
    cluster.node(2).node.transferLeadership(2);
    cluster.stabilize();
    // check
    expect(cluster.leader()?.id).toBe(2);
    // Reference: thesis §3.10
  });

  it('a node that knows no leader, or a candidate, refuses a transfer with RAFT_TRANSFER_DROPPED', () => {
    // init
    const cluster = TestCluster.ofSize(3, { preVote: false });
    // act
    const noLeader = transferError(cluster, 2, 3);
    cluster.node(1).node.campaign();
    const candidate = transferError(cluster, 1, 3);
    // check
    expect(noLeader.code).toBe(RaftErrorCode.TransferDropped);
    expect(noLeader.details.leader).toBe(NONE);
    expect(candidate.code).toBe(RaftErrorCode.TransferDropped);
    // Reference: thesis §3.10
  });
});
