// Paper tests for leader election: the term rules (Raft §5.1), elections (§5.2) with randomized
// timeouts, pre-vote (thesis §9.6), check-quorum (thesis §6.2) and the leader lease (thesis §4.2.3).

import { describe, expect, it } from 'vitest';
import {
  CAMPAIGN_TRANSFER,
  EntryType,
  MemoryStorage,
  MessageType,
  NONE,
  RawNode,
  makeMessage,
  raftDefaults,
  seededRandom,
  type Message,
  type NodeId,
} from '../src/index.js';
import { TestCluster } from './support/cluster.js';
import { preload } from './support/fixtures.js';

const noPreVote = { preVote: false, checkQuorum: false } as const;

function ofType(messages: readonly Message[], type: MessageType): Message[] {
  return messages.filter((m) => m.type === type);
}

describe('Raft §5.1: terms', () => {
  it('a follower that sees a higher term adopts it and follows the sender', () => {
    // init: 1 leads term 1.
    const cluster = TestCluster.ofSize(3, noPreVote);
    cluster.elect(1);
    const follower = cluster.node(2);
    expect(follower.node.status().term).toBe(1);
    // act: an append from 3 in term 2 arrives.
    follower.node.step(makeMessage({ type: MessageType.App, from: 3, to: 2, term: 2, index: 1, logTerm: 1 }));
    // check
    const status = follower.node.status();
    expect(status.term).toBe(2);
    expect(status.role).toBe('follower');
    expect(status.lead).toBe(3);
    expect(status.vote).toBe(NONE);
    // Reference: section 5.1
  });

  it('a candidate that sees a higher term becomes a follower in that term', () => {
    // init: 1 campaigns into term 1.
    const cluster = TestCluster.ofSize(3, noPreVote);
    const candidate = cluster.node(1);
    candidate.node.campaign();
    expect(candidate.node.status().role).toBe('candidate');
    // act
    candidate.node.step(makeMessage({ type: MessageType.Heartbeat, from: 2, to: 1, term: 3 }));
    // check
    expect(candidate.node.status()).toMatchObject({ term: 3, role: 'follower', lead: 2 });
    // Reference: section 5.1
  });

  it('a leader that sees a higher term steps down to follower', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    cluster.elect(1);
    const leader = cluster.node(1);
    // act: a vote request from term 2 (no lease without check-quorum).
    leader.node.step(makeMessage({ type: MessageType.Vote, from: 2, to: 1, term: 2, index: 1, logTerm: 1 }));
    // check: the vote carries no leader, so none is known.
    expect(leader.node.status()).toMatchObject({ term: 2, role: 'follower', lead: NONE });
    // Reference: section 5.1
  });

  it('an append from a stale term changes nothing and is answered with the current term', () => {
    // init: 2 is in term 3 and holds one entry.
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    const follower = cluster.node(2);
    follower.node.step(makeMessage({ type: MessageType.Heartbeat, from: 3, to: 2, term: 3, commit: 0 }));
    follower.drainReadies();
    const lastIndex = follower.node.status().lastIndex;
    // act: the old leader of term 1 sends an entry.
    const stale = { term: 1, index: lastIndex + 1, type: EntryType.Normal, data: new Uint8Array([1]) };
    follower.node.step(makeMessage({ type: MessageType.App, from: 1, to: 2, term: 1, index: lastIndex, logTerm: 1, entries: [stale] }));
    const sent = follower.drainReadies().messages;
    // check: nothing appended, and the sender learns term 3 (it could not otherwise, with pre-vote on).
    expect(follower.node.status().lastIndex).toBe(lastIndex);
    expect(follower.node.status().term).toBe(3);
    const answers = ofType(sent, MessageType.AppResp);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ to: 1, term: 3 });
    // Reference: section 5.1
  });

  it('a stale leader that hears of a later term steps down', () => {
    // init: as above; 2 answers the old leader with term 3.
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    cluster.node(2).node.step(makeMessage({ type: MessageType.Heartbeat, from: 3, to: 2, term: 3, commit: 0 }));
    cluster.node(2).drainReadies();
    // act: the leader's next heartbeat draws the answer.
    cluster.node(1).node.tick();
    cluster.processReadies();
    cluster.queue = cluster.queue.filter((m) => m.to === 2);
    cluster.deliverQueued();
    cluster.processReadies();
    cluster.queue = cluster.queue.filter((m) => m.to === 1);
    cluster.deliverQueued();
    // check
    expect(cluster.node(1).node.status()).toMatchObject({ role: 'follower', term: 3 });
    // Reference: section 5.1
  });

  it('without pre-vote or check-quorum a stale message is dropped without an answer', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    cluster.elect(1);
    const follower = cluster.node(2);
    follower.node.step(makeMessage({ type: MessageType.Heartbeat, from: 3, to: 2, term: 3, commit: 0 }));
    follower.drainReadies();
    // act
    follower.node.step(makeMessage({ type: MessageType.App, from: 1, to: 2, term: 1, index: 1, logTerm: 1 }));
    follower.node.step(makeMessage({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1 }));
    // check
    expect(follower.drainReadies().messages).toEqual([]);
    expect(follower.node.status()).toMatchObject({ term: 3, lead: 3 });
    // Reference: section 5.1
  });

  it('a vote request from a stale term is ignored', () => {
    // init: 2 is in term 3.
    const cluster = TestCluster.ofSize(3, noPreVote);
    const voter = cluster.node(2);
    preload(voter, [1], 3);
    // act
    voter.node.step(makeMessage({ type: MessageType.Vote, from: 3, to: 2, term: 2, index: 5, logTerm: 2 }));
    // check
    expect(voter.drainReadies().messages).toEqual([]);
    expect(voter.node.status()).toMatchObject({ term: 3, vote: NONE });
    // Reference: section 5.1
  });
});

describe('Raft §5.2: leader election', () => {
  it('nodes start as followers in term 0 with no leader', () => {
    // init / act
    const cluster = TestCluster.ofSize(3);
    // check
    for (const id of cluster.ids) {
      expect(cluster.node(id).node.status()).toMatchObject({ role: 'follower', term: 0, vote: NONE, lead: NONE });
    }
    // Reference: section 5.2
  });

  it('a follower whose election timeout elapses becomes a candidate, votes for itself and asks every other node', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    const node = cluster.node(1);
    const timeout = node.node.raft.randomizedElectionTimeout;
    // act: one tick short of the timeout, then the last tick.
    for (let i = 0; i < timeout - 1; i++) node.node.tick();
    expect(node.node.status().role).toBe('follower');
    node.node.tick();
    // check
    expect(node.node.status()).toMatchObject({ role: 'candidate', term: 1, vote: 1 });
    const votes = ofType(node.drainReadies().messages, MessageType.Vote);
    expect(votes.map((m) => m.to).sort()).toEqual([2, 3]);
    for (const m of votes) expect(m).toMatchObject({ term: 1, index: 0, logTerm: 0 });
    // Reference: section 5.2
  });

  it('a candidate counts its own vote only once it is persisted', () => {
    // init: 1 campaigns; its Ready (holding its vote) is taken but not yet persisted.
    const cluster = TestCluster.ofSize(3, noPreVote);
    const candidate = cluster.node(1);
    candidate.node.campaign();
    const requests = candidate.beginReady() ?? [];
    const toTwo = requests.find((m) => m.type === MessageType.Vote && m.to === 2);
    expect(toTwo).toBeDefined();
    cluster.node(2).node.step(toTwo as Message);
    const grant = cluster.node(2).drainReadies().messages.find((m) => m.type === MessageType.VoteResp);
    expect(grant).toMatchObject({ reject: false, to: 1 });
    // act: 2's grant arrives before 1's own vote is durable.
    candidate.node.step(grant as Message);
    // check: one grant of three is no majority yet.
    expect(candidate.node.status().role).toBe('candidate');
    // act: persist and advance: now the own vote counts.
    candidate.persist();
    candidate.applyAndAdvance();
    // check
    expect(candidate.node.status().role).toBe('leader');
    // Reference: section 5.2 (and thesis §3.8: vote only on durable state)
  });

  it('a single node elects itself once its vote is durable', () => {
    // init / act
    const cluster = TestCluster.ofSize(1, noPreVote);
    cluster.node(1).node.campaign();
    expect(cluster.node(1).node.status().role).toBe('candidate');
    cluster.stabilize();
    // check
    expect(cluster.node(1).node.status()).toMatchObject({ role: 'leader', term: 1, lead: 1 });
    // Reference: section 5.2
  });

  const oneRound: ReadonlyArray<{ size: number; votes: Record<number, boolean>; role: string }> = [
    { size: 1, votes: {}, role: 'leader' },
    { size: 3, votes: { 2: true, 3: true }, role: 'leader' },
    { size: 3, votes: { 2: true }, role: 'leader' },
    { size: 5, votes: { 2: true, 3: true, 4: true, 5: true }, role: 'leader' },
    { size: 5, votes: { 2: true, 3: true, 4: true }, role: 'leader' },
    { size: 5, votes: { 2: true, 3: true }, role: 'leader' },
    { size: 3, votes: {}, role: 'candidate' },
    { size: 3, votes: { 2: false }, role: 'candidate' },
    { size: 5, votes: { 2: true }, role: 'candidate' },
    { size: 5, votes: { 2: false, 3: false }, role: 'candidate' },
    { size: 5, votes: { 2: true, 3: false, 4: false }, role: 'candidate' },
    { size: 3, votes: { 2: false, 3: false }, role: 'follower' },
    { size: 5, votes: { 2: false, 3: false, 4: false }, role: 'follower' },
    { size: 5, votes: { 2: true, 3: false, 4: false, 5: false }, role: 'follower' },
  ];
  it.each(oneRound)('a candidate of $size nodes with votes $votes ends the round as $role', ({ size, votes, role }) => {
    // init: 1 campaigns and persists its own vote.
    const cluster = TestCluster.ofSize(size, noPreVote);
    const candidate = cluster.node(1);
    candidate.node.campaign();
    candidate.drainReadies();
    // act
    for (const [from, granted] of Object.entries(votes)) {
      candidate.node.step(makeMessage({ type: MessageType.VoteResp, from: Number(from), to: 1, term: 1, reject: !granted }));
    }
    // check: a majority wins, a majority against loses, anything else waits.
    expect(candidate.node.status().role).toBe(role);
    expect(candidate.node.status().term).toBe(1);
    // Reference: section 5.2
  });

  it('a follower grants at most one vote per term, first come first served', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    const voter = cluster.node(1);
    const request = (from: NodeId): Message => makeMessage({ type: MessageType.Vote, from, to: 1, term: 1, index: 0, logTerm: 0 });
    // act: 2 asks first, then 3, then 2 again (a retry).
    voter.node.step(request(2));
    voter.node.step(request(3));
    voter.node.step(request(2));
    const answers = ofType(voter.drainReadies().messages, MessageType.VoteResp);
    // check
    expect(answers.map((m) => [m.to, m.reject])).toEqual([
      [2, false],
      [3, true],
      [2, false],
    ]);
    expect(voter.storage.initialState().hardState).toMatchObject({ term: 1, vote: 2 });
    // Reference: section 5.2
  });

  it('a vote is granted only after the vote itself is persisted', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    const voter = cluster.node(2);
    // act
    voter.node.step(makeMessage({ type: MessageType.Vote, from: 1, to: 2, term: 1, index: 0, logTerm: 0 }));
    const immediate = voter.beginReady() ?? [];
    const afterPersist = voter.persist();
    // check: the grant leaves only with the persisted vote (DESIGN rule 2).
    expect(immediate.some((m) => m.type === MessageType.VoteResp)).toBe(false);
    expect(afterPersist).toEqual([expect.objectContaining({ type: MessageType.VoteResp, to: 1, reject: false })]);
    expect(voter.storage.initialState().hardState).toMatchObject({ term: 1, vote: 1 });
    voter.applyAndAdvance();
    // Reference: section 5.2 and thesis §3.8
  });

  it.each([
    { vote: NONE, from: 2, reject: false },
    { vote: NONE, from: 3, reject: false },
    { vote: 2, from: 2, reject: false },
    { vote: 3, from: 3, reject: false },
    { vote: 2, from: 3, reject: true },
    { vote: 3, from: 2, reject: true },
  ])('a follower that voted for $vote in term 1 answers $from with reject=$reject', ({ vote, from, reject }) => {
    // init: the vote is durable from before a restart.
    const cluster = TestCluster.ofSize(3, noPreVote);
    const voter = cluster.node(1);
    preload(voter, [], 1, { vote });
    // act
    voter.node.step(makeMessage({ type: MessageType.Vote, from, to: 1, term: 1, index: 0, logTerm: 0 }));
    // check
    const answers = ofType(voter.drainReadies().messages, MessageType.VoteResp);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ to: from, term: 1, reject });
    // Reference: section 5.2
  });

  it('a candidate that hears from a leader of its own term becomes its follower', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    const candidate = cluster.node(1);
    candidate.node.campaign();
    candidate.drainReadies();
    // act: 2 won term 1 and sends an append.
    candidate.node.step(makeMessage({ type: MessageType.App, from: 2, to: 1, term: 1, index: 0, logTerm: 0 }));
    // check
    expect(candidate.node.status()).toMatchObject({ role: 'follower', term: 1, lead: 2 });
    // Reference: section 5.2
  });

  it('a candidate whose election times out without a winner starts a new election in a new term', () => {
    // init: 1 campaigns but every message is lost.
    const cluster = TestCluster.ofSize(3, noPreVote);
    const candidate = cluster.node(1);
    candidate.node.campaign();
    candidate.drainReadies();
    expect(candidate.node.status()).toMatchObject({ role: 'candidate', term: 1 });
    // act
    const timeout = candidate.node.raft.randomizedElectionTimeout;
    for (let i = 0; i < timeout; i++) candidate.node.tick();
    // check
    expect(candidate.node.status()).toMatchObject({ role: 'candidate', term: 2, vote: 1 });
    const votes = ofType(candidate.drainReadies().messages, MessageType.Vote);
    expect(votes.map((m) => [m.to, m.term])).toEqual([
      [2, 2],
      [3, 2],
    ]);
    // Reference: section 5.2
  });

  it('a leader sends a heartbeat to every follower once per heartbeat interval', () => {
    // init
    const cluster = TestCluster.ofSize(3, { ...noPreVote, heartbeatIntervalTicks: 2 });
    cluster.elect(1);
    const leader = cluster.node(1);
    // act / check: nothing after one tick, a heartbeat to each after the second.
    leader.node.tick();
    expect(ofType(leader.drainReadies().messages, MessageType.Heartbeat)).toEqual([]);
    leader.node.tick();
    const beats = ofType(leader.drainReadies().messages, MessageType.Heartbeat);
    expect(beats.map((m) => [m.to, m.term])).toEqual([
      [2, 1],
      [3, 1],
    ]);
    // Reference: section 5.2
  });

  it('random timeouts elect exactly one leader per term through partitions', () => {
    // init: five nodes; a seeded schedule isolates one node at a time.
    const cluster = TestCluster.ofSize(5, noPreVote);
    const random = seededRandom(52);
    const leaders = new Map<number, NodeId>();
    let isolated: NodeId = NONE;
    // act
    for (let tick = 0; tick < 400; tick++) {
      if (tick % 40 === 0) {
        cluster.heal();
        const current = cluster.leader();
        isolated = current !== null && random.int(2) === 0 ? current.id : random.int(5) + 1;
        cluster.isolate(isolated);
      }
      cluster.tickAll();
      // check: no term ever has two leaders (election safety).
      for (const id of cluster.ids) {
        const status = cluster.node(id).node.status();
        if (status.role !== 'leader') continue;
        const known = leaders.get(status.term);
        expect(known === undefined || known === id).toBe(true);
        leaders.set(status.term, id);
      }
    }
    expect(leaders.size).toBeGreaterThan(1);
    // Reference: section 5.2 (election safety, Figure 3)
  });
});

describe('Raft §5.2: randomized election timeouts', () => {
  it('every timeout drawn lies in [t, 2t) and the draws spread over the range', () => {
    // init: a node alone among absent peers, so every timeout makes it campaign again.
    const node = new RawNode({
      ...raftDefaults,
      ...noPreVote,
      electionTimeoutTicks: 10,
      id: 1,
      storage: new MemoryStorage({ voters: [1, 2, 3] }),
      random: seededRandom(7),
    });
    const drawn = new Set<number>();
    // act: 300 elections, each drawing a fresh timeout.
    for (let election = 0; election < 300; election++) {
      const timeout = node.raft.randomizedElectionTimeout;
      // check
      expect(timeout).toBeGreaterThanOrEqual(10);
      expect(timeout).toBeLessThan(20);
      drawn.add(timeout);
      const term = node.status().term;
      for (let i = 0; i < timeout; i++) node.tick();
      expect(node.status().term).toBe(term + 1);
    }
    expect(drawn.size).toBe(10);
    // Reference: section 5.2 ("election timeouts are chosen randomly from a fixed interval")
  });

  it('nodes of one cluster draw different timeouts, so the minimum is rarely shared', () => {
    // init: 1000 five-node clusters, each node with its own seed.
    let shared = 0;
    const rounds = 1000;
    for (let round = 0; round < rounds; round++) {
      const timeouts: number[] = [];
      for (let id = 1; id <= 5; id++) {
        const node = new RawNode({
          ...raftDefaults,
          id,
          storage: new MemoryStorage({ voters: [1, 2, 3, 4, 5] }),
          random: seededRandom(round * 5 + id),
        });
        timeouts.push(node.raft.randomizedElectionTimeout);
      }
      // act
      const min = Math.min(...timeouts);
      if (timeouts.filter((t) => t === min).length > 1) shared++;
    }
    // check: usually one node times out alone and wins before others start (etcd's bound).
    expect(shared / rounds).toBeLessThan(0.3);
    // Reference: section 5.2
  });

  it('the node with the shortest timeout campaigns first and wins', () => {
    // init
    const cluster = TestCluster.ofSize(5, noPreVote);
    const timeouts = cluster.ids.map((id) => cluster.node(id).node.raft.randomizedElectionTimeout);
    expect(new Set(timeouts).size).toBeGreaterThan(1);
    const first = cluster.ids[timeouts.indexOf(Math.min(...timeouts))] as NodeId;
    // act
    for (let tick = 0; tick < 20 && cluster.leader() === null; tick++) cluster.tickAll();
    // check
    expect(cluster.leader()?.id).toBe(first);
    expect(cluster.node(first).node.status().term).toBe(1);
    // Reference: section 5.2
  });
});

describe('thesis §9.6: pre-vote', () => {
  it('a pre-candidate asks for the next term without taking it or voting', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    const node = cluster.node(1);
    // act
    node.node.campaign();
    // check
    expect(node.node.status()).toMatchObject({ role: 'pre-candidate', term: 0, vote: NONE });
    const sent = node.drainReadies().messages;
    expect(ofType(sent, MessageType.Vote)).toEqual([]);
    expect(ofType(sent, MessageType.PreVote).map((m) => [m.to, m.term])).toEqual([
      [2, 1],
      [3, 1],
    ]);
    expect(node.storage.initialState().hardState).toMatchObject({ term: 0, vote: NONE });
    // Reference: thesis §9.6
  });

  it('a pre-candidate that wins the pre-vote campaigns for real and leads the next term', () => {
    // init / act
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    // check: a pre-vote round preceded the vote round.
    expect(cluster.leader()?.id).toBe(1);
    expect(cluster.node(1).node.status().term).toBe(1);
    const firstPreVote = cluster.delivered.findIndex((m) => m.type === MessageType.PreVote);
    const firstVote = cluster.delivered.findIndex((m) => m.type === MessageType.Vote);
    expect(firstPreVote).toBeGreaterThanOrEqual(0);
    expect(firstVote).toBeGreaterThan(firstPreVote);
    // Reference: thesis §9.6
  });

  it('a partitioned node does not raise its term, so its return does not disrupt the leader', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    cluster.isolate(3);
    // act: 3 times out again and again while cut off, then comes back.
    cluster.tickAll(100);
    expect(cluster.node(3).node.status().term).toBe(1);
    cluster.heal();
    cluster.tickAll(5);
    // check
    expect(cluster.leader()?.id).toBe(1);
    for (const id of cluster.ids) expect(cluster.node(id).node.status()).toMatchObject({ term: 1, lead: 1 });
    // Reference: thesis §9.6
  });

  it('without pre-vote the same partition forces a new term on the cluster', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    cluster.elect(1);
    cluster.isolate(3);
    // act
    cluster.tickAll(100);
    const inflated = cluster.node(3).node.status().term;
    cluster.heal();
    cluster.tickAll(30);
    // check: the contrast that motivates pre-vote.
    expect(inflated).toBeGreaterThan(1);
    expect(cluster.node(1).node.status().term).toBeGreaterThanOrEqual(inflated);
    // Reference: thesis §9.6
  });

  it('a node that voted in its term still grants a pre-vote for a later term, changing nothing', () => {
    // init: 2 voted for 1 in term 1 (no lease: check-quorum off).
    const cluster = TestCluster.ofSize(3, { preVote: true, checkQuorum: false });
    cluster.elect(1);
    const voter = cluster.node(2);
    const last = voter.node.status().lastIndex;
    // act
    voter.node.step(makeMessage({ type: MessageType.PreVote, from: 3, to: 2, term: 2, index: last, logTerm: 1 }));
    // check
    const answers = ofType(voter.drainReadies().messages, MessageType.PreVoteResp);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ to: 3, term: 2, reject: false });
    expect(voter.node.status()).toMatchObject({ term: 1, vote: 1, lead: 1 });
    // Reference: thesis §9.6
  });

  it('a pre-vote is refused to a node whose log is behind, with the voter term unchanged', () => {
    // init: 2 holds entries of term 2; 3 holds an older log.
    const cluster = TestCluster.ofSize(3);
    const voter = cluster.node(2);
    preload(voter, [1, 2, 2], 2);
    // act
    voter.node.step(makeMessage({ type: MessageType.PreVote, from: 3, to: 2, term: 3, index: 5, logTerm: 1 }));
    // check
    const answers = ofType(voter.drainReadies().messages, MessageType.PreVoteResp);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ to: 3, term: 2, reject: true });
    expect(voter.node.status()).toMatchObject({ term: 2, vote: NONE });
    // Reference: thesis §9.6 and section 5.4.1
  });

  it('a pre-candidate refused by a majority returns to follower in its old term', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    preload(cluster.node(1), [1], 1);
    const node = cluster.node(1);
    node.node.campaign();
    node.drainReadies();
    // act
    for (const from of [2, 3]) node.node.step(makeMessage({ type: MessageType.PreVoteResp, from, to: 1, term: 1, reject: true }));
    // check
    expect(node.node.status()).toMatchObject({ role: 'follower', term: 1, vote: NONE });
    // Reference: thesis §9.6
  });

  it('a pre-candidate that learns of a later term from a refusal adopts it', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    const node = cluster.node(1);
    node.node.campaign();
    node.drainReadies();
    // act
    node.node.step(makeMessage({ type: MessageType.PreVoteResp, from: 2, to: 1, term: 4, reject: true }));
    // check
    expect(node.node.status()).toMatchObject({ role: 'follower', term: 4 });
    // Reference: thesis §9.6
  });
});

describe('thesis §6.2: check-quorum', () => {
  it('a leader cut off from a quorum steps down within two election timeouts', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    cluster.isolate(1);
    const leader = cluster.node(1);
    // act / check: the followers' answers at election still count for the first round.
    for (let i = 0; i < 10; i++) leader.node.tick();
    expect(leader.node.status().role).toBe('leader');
    for (let i = 0; i < 10; i++) leader.node.tick();
    expect(leader.node.status()).toMatchObject({ role: 'follower', term: 1, lead: NONE });
    // Reference: thesis §6.2
  });

  it('a leader that hears from a quorum keeps leading, even with one follower gone', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    // act
    cluster.tickAll(30);
    cluster.isolate(3);
    cluster.tickAll(60);
    // check
    expect(cluster.leader()?.id).toBe(1);
    expect(cluster.node(1).node.status().term).toBe(1);
    // Reference: thesis §6.2
  });

  it('without check-quorum an isolated leader never steps down', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    cluster.elect(1);
    cluster.isolate(1);
    // act
    for (let i = 0; i < 100; i++) cluster.node(1).node.tick();
    // check
    expect(cluster.node(1).node.status().role).toBe('leader');
    // Reference: thesis §6.2
  });
});

describe('thesis §6.2 / §4.2.3: the leader lease', () => {
  const voteFrom3 = (term: number, lastIndex: number): Message =>
    makeMessage({ type: MessageType.Vote, from: 3, to: 2, term, index: lastIndex, logTerm: 1 });

  it('a follower that heard from the leader within the election timeout ignores a later-term vote request', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    cluster.tickAll(3);
    const follower = cluster.node(2);
    const last = follower.node.status().lastIndex;
    // act
    follower.node.step(voteFrom3(5, last));
    follower.node.step(makeMessage({ type: MessageType.PreVote, from: 3, to: 2, term: 5, index: last, logTerm: 1 }));
    // check: no answer, no new term, the old vote stands.
    const sent = follower.drainReadies().messages;
    expect(ofType(sent, MessageType.VoteResp)).toEqual([]);
    expect(ofType(sent, MessageType.PreVoteResp)).toEqual([]);
    expect(follower.node.status()).toMatchObject({ term: 1, vote: 1, lead: 1 });
    // Reference: thesis §6.2 and §4.2.3
  });

  it('the leader itself ignores a later-term vote request within its lease', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    const leader = cluster.node(1);
    // act
    leader.node.step(makeMessage({ type: MessageType.Vote, from: 3, to: 1, term: 7, index: 99, logTerm: 1 }));
    // check
    expect(leader.node.status()).toMatchObject({ role: 'leader', term: 1 });
    expect(ofType(leader.drainReadies().messages, MessageType.VoteResp)).toEqual([]);
    // Reference: thesis §6.2 and §4.2.3
  });

  it('once an election timeout passes without the leader, the request is granted', () => {
    // init: 2 stops hearing from 1.
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    cluster.isolate(2);
    const follower = cluster.node(2);
    for (let i = 0; i < 10; i++) follower.node.tick();
    follower.drainReadies();
    // act
    follower.node.step(voteFrom3(5, follower.node.status().lastIndex));
    // check
    const answers = ofType(follower.drainReadies().messages, MessageType.VoteResp);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ to: 3, term: 5, reject: false });
    expect(follower.node.status()).toMatchObject({ term: 5, vote: 3 });
    // Reference: thesis §6.2 and §4.2.3
  });

  it('a vote request sent for a leadership transfer is granted even within the lease', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    cluster.elect(1);
    const follower = cluster.node(2);
    // act
    follower.node.step(
      makeMessage({ ...voteFrom3(2, follower.node.status().lastIndex), context: CAMPAIGN_TRANSFER }),
    );
    // check
    expect(ofType(follower.drainReadies().messages, MessageType.VoteResp)[0]).toMatchObject({ to: 3, term: 2, reject: false });
    expect(follower.node.status()).toMatchObject({ term: 2, vote: 3 });
    // Reference: thesis §3.10 and §4.2.3
  });

  it('without check-quorum there is no lease: the request is considered at once', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    cluster.elect(1);
    const follower = cluster.node(2);
    // act
    follower.node.step(voteFrom3(5, follower.node.status().lastIndex));
    // check
    expect(follower.node.status()).toMatchObject({ term: 5, vote: 3 });
    // Reference: thesis §4.2.3
  });
});
