// Paper tests for log replication (Raft §5.3), flow control, safety (§5.4.1 election restriction,
// §5.4.2 the Figure 8 commitment rule) and how the leader takes, forwards and refuses proposals.

import { describe, expect, it } from 'vitest';
import {
  ENTRY_OVERHEAD_BYTES,
  MessageType,
  NONE,
  RaftErrorCode,
  entryBytes,
  makeMessage,
  type Entry,
  type Message,
  type NodeId,
  type RaftError,
} from '../src/index.js';
import { TestCluster } from './support/cluster.js';
import { entriesWithTerms, entry, preload, refusal } from './support/fixtures.js';
import type { TestNode } from './support/test-node.js';

const encoder = new TextEncoder();
const noPreVote = { preVote: false, checkQuorum: false } as const;

/** The terms of every entry in `node`'s storage, from its first index. */
function storedTerms(node: TestNode): number[] {
  const s = node.storage;
  return s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER).map((e) => e.term);
}

function appsTo(cluster: TestCluster, to: NodeId, withEntries = true): Message[] {
  return cluster.delivered.filter((m) => m.type === MessageType.App && m.to === to && (!withEntries || m.entries.length > 0));
}

function proposeError(node: TestNode, data: string): RaftError {
  return refusal(() => node.node.propose(encoder.encode(data)));
}

describe('Raft §5.3: log replication', () => {
  it('the leader appends a proposal to its log and sends it to every follower', () => {
    // init
    const cluster = TestCluster.elected(3, noPreVote);
    const leader = cluster.node(1);
    // act
    const position = leader.node.propose(encoder.encode('x'));
    const messages = leader.beginReady() ?? [];
    leader.persist();
    const ready = leader.applyAndAdvance();
    // check: appended at the next index in the current term, to be persisted, and sent to both.
    expect(position).toEqual({ index: 2, term: 1 });
    expect(ready.entries.map((e) => [e.index, e.term])).toEqual([[2, 1]]);
    const apps = messages.filter((m) => m.type === MessageType.App);
    expect(apps.map((m) => m.to)).toEqual([2, 3]);
    for (const m of apps) {
      expect(m).toMatchObject({ term: 1, index: 1, logTerm: 1, commit: 1 });
      expect(m.entries.map((e) => [e.index, e.term])).toEqual([[2, 1]]);
    }
    // Reference: section 5.3
  });

  it('an entry stored on a majority commits, is applied, and its commit index reaches the followers', () => {
    // init
    const cluster = TestCluster.elected(3, noPreVote);
    const before = cluster.delivered.length;
    // act
    cluster.propose(1, 'x');
    cluster.stabilize();
    // check
    for (const id of cluster.ids) {
      expect(cluster.node(id).node.status().commit).toBe(2);
      expect(cluster.applied(id)).toEqual(['x']);
    }
    const laterApps = cluster.delivered.slice(before).filter((m) => m.type === MessageType.App && m.from === 1);
    expect(laterApps.some((m) => m.commit === 2)).toBe(true);
    // Reference: section 5.3
  });

  it('a follower acknowledges an append only after persisting it', () => {
    // init
    const cluster = TestCluster.elected(3, noPreVote);
    const follower = cluster.node(2);
    const entries = [entry(2, 1, 'x')];
    // act
    follower.node.step(makeMessage({ type: MessageType.App, from: 1, to: 2, term: 1, index: 1, logTerm: 1, commit: 1, entries }));
    const immediate = follower.beginReady() ?? [];
    const afterPersist = follower.persist();
    follower.applyAndAdvance();
    // check: the acknowledgement is held back until the entry is durable (DESIGN rule 2).
    expect(immediate.some((m) => m.type === MessageType.AppResp)).toBe(false);
    expect(afterPersist.filter((m) => m.type === MessageType.AppResp)).toEqual([
      expect.objectContaining({ to: 1, index: 2, reject: false }),
    ]);
    expect(follower.storage.lastIndex()).toBe(2);
    // Reference: section 5.3 and thesis §3.8 (acknowledge only durable state)
  });

  it('the leader counts its own copy of an entry only once it is persisted', () => {
    // init
    const cluster = TestCluster.elected(3, noPreVote);
    const leader = cluster.node(1);
    // act: the proposal reaches 2 and 2's acknowledgement arrives before the leader persisted.
    leader.node.propose(encoder.encode('x'));
    const messages = leader.beginReady() ?? [];
    const toTwo = messages.find((m) => m.type === MessageType.App && m.to === 2) as Message;
    cluster.node(2).node.step(toTwo);
    const ack = cluster.node(2).drainReadies().messages.find((m) => m.type === MessageType.AppResp) as Message;
    leader.node.step(ack);
    // check: 2 of 3 hold it, but one of them is not yet durable on the leader.
    expect(leader.node.status().commit).toBe(1);
    // act / check: persisting releases the leader's own acknowledgement.
    leader.persist();
    leader.applyAndAdvance();
    expect(leader.node.status().commit).toBe(2);
    // Reference: section 5.3 and thesis §10.2.1
  });

  it.each([
    { acceptors: [] as NodeId[], committed: false },
    { acceptors: [2], committed: false },
    { acceptors: [2, 3], committed: true },
    { acceptors: [2, 3, 4], committed: true },
  ])('with acknowledgements from $acceptors of five the entry commits: $committed', ({ acceptors, committed }) => {
    // init
    const cluster = TestCluster.elected(5, noPreVote);
    const leader = cluster.node(1);
    const commitBefore = leader.node.status().commit;
    // act
    const position = leader.node.propose(encoder.encode('x'));
    cluster.stabilize((m) => m.type === MessageType.AppResp && m.to === 1 && !acceptors.includes(m.from));
    // check
    expect(position?.index).toBe(commitBefore + 1);
    expect(leader.node.status().commit).toBe(committed ? commitBefore + 1 : commitBefore);
    // Reference: section 5.3
  });

  it('committing an entry commits every earlier entry of the leader', () => {
    // init: uncommitted entries of terms 1 and 2 on every node.
    const cluster = TestCluster.ofSize(3, noPreVote);
    for (const id of cluster.ids) preload(cluster.node(id), [1, 2], 2);
    // act
    cluster.elect(1);
    // check
    for (const id of cluster.ids) {
      expect(cluster.node(id).node.status().commit).toBe(3);
      expect(cluster.node(id).app.log.map((e) => [e.index, e.term])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
    }
    // Reference: section 5.3
  });

  it('a follower commits up to min(leader commit, last new entry) and hands those entries out to apply', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    const follower = cluster.node(2);
    // act: three entries, commit index 5 (beyond what this message carries).
    follower.node.step(
      makeMessage({ type: MessageType.App, from: 1, to: 2, term: 1, index: 0, logTerm: 0, commit: 5, entries: entriesWithTerms([1, 1, 1]) }),
    );
    follower.beginReady();
    follower.persist();
    const ready = follower.applyAndAdvance();
    // check
    expect(follower.node.status().commit).toBe(3);
    expect(ready.committedEntries.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(follower.app.appliedIndex).toBe(3);
    // Reference: section 5.3
  });

  it.each([
    { index: 0, logTerm: 0, reject: false, answer: 1, hint: 0, hintTerm: 0 },
    { index: 1, logTerm: 1, reject: false, answer: 1, hint: 0, hintTerm: 0 },
    { index: 2, logTerm: 2, reject: false, answer: 2, hint: 0, hintTerm: 0 },
    { index: 2, logTerm: 1, reject: true, answer: 2, hint: 1, hintTerm: 1 },
    { index: 3, logTerm: 3, reject: true, answer: 3, hint: 2, hintTerm: 2 },
  ])(
    'a follower holding terms [1, 2] answers an append after ($index, $logTerm) with reject=$reject',
    ({ index, logTerm, reject, answer, hint, hintTerm }) => {
      // init: entry 1 is committed.
      const cluster = TestCluster.ofSize(3, noPreVote);
      const follower = cluster.node(2);
      preload(follower, [1, 2], 2, { commit: 1 });
      follower.drainReadies();
      // act
      follower.node.step(makeMessage({ type: MessageType.App, from: 1, to: 2, term: 2, index, logTerm, commit: 1 }));
      // check: the consistency check, and on a miss a hint of where to try next.
      const answers = follower.drainReadies().messages.filter((m) => m.type === MessageType.AppResp);
      expect(answers).toHaveLength(1);
      expect(answers[0]).toMatchObject({ to: 1, term: 2, reject, index: answer, rejectHint: hint, logTerm: hintTerm });
      // Reference: section 5.3
    },
  );

  it.each([
    { index: 2, logTerm: 2, entries: [entry(3, 3)], terms: [1, 2, 3] },
    { index: 1, logTerm: 1, entries: [entry(2, 3), entry(3, 4)], terms: [1, 3, 4] },
    { index: 0, logTerm: 0, entries: [entry(1, 1)], terms: [1, 2] },
    { index: 0, logTerm: 0, entries: [entry(1, 3)], terms: [3] },
  ])(
    'a follower holding terms [1, 2] given entries after ($index, $logTerm) ends with terms $terms',
    ({ index, logTerm, entries, terms }) => {
      // init: nothing committed.
      const cluster = TestCluster.ofSize(3, noPreVote);
      const follower = cluster.node(2);
      preload(follower, [1, 2], 2);
      // act
      follower.node.step(makeMessage({ type: MessageType.App, from: 1, to: 2, term: 4, index, logTerm, entries }));
      follower.drainReadies();
      // check: a conflicting suffix is dropped, matching entries are kept, new ones appended.
      expect(storedTerms(follower)).toEqual(terms);
      // Reference: section 5.3
    },
  );

  // Figure 7: the leader of term 8 and six possible followers.
  const figure7Leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const figure7: ReadonlyArray<{ name: string; terms: number[] }> = [
    { name: 'a (missing one entry)', terms: [1, 1, 1, 4, 4, 5, 5, 6, 6] },
    { name: 'b (missing many)', terms: [1, 1, 1, 4] },
    { name: 'c (one extra entry)', terms: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6] },
    { name: 'd (extra entries of a later term)', terms: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7] },
    { name: 'e (missing and extra)', terms: [1, 1, 1, 4, 4, 4, 4] },
    { name: 'f (a different history since index 4)', terms: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3] },
  ];
  it.each(figure7)('the leader brings follower $name into agreement with its log', ({ terms }) => {
    // init: 1 holds the leader's log; 3 holds it too and votes for 1; 2 is the follower.
    const cluster = TestCluster.ofSize(3, noPreVote);
    preload(cluster.node(1), figure7Leader, 8);
    preload(cluster.node(3), figure7Leader, 7);
    preload(cluster.node(2), terms, 7);
    // act
    cluster.elect(1);
    // check: the follower's log is the leader's, plus the leader's entry of the new term.
    expect(cluster.leader()?.id).toBe(1);
    const leaderTerms = storedTerms(cluster.node(1));
    expect(leaderTerms).toEqual([...figure7Leader, 9]);
    expect(storedTerms(cluster.node(2))).toEqual(leaderTerms);
    expect(cluster.node(2).app.log.map((e) => e.term)).toEqual(leaderTerms);
    // Reference: section 5.3 (Figure 7)
  });
});

describe('Raft §5.3: fast backtracking with term hints', () => {
  it('figure 7 (f): the hints skip whole terms, so a few rejections suffice', () => {
    // init: as in Figure 7, follower f has 11 entries, only 3 of which match.
    const cluster = TestCluster.ofSize(3, noPreVote);
    preload(cluster.node(1), figure7LeaderLog(), 8);
    preload(cluster.node(3), figure7LeaderLog(), 7);
    preload(cluster.node(2), [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], 7);
    // act
    cluster.elect(1);
    // check: one entry at a time would need 7 rejections; hints need at most 2.
    const rejections = cluster.delivered.filter((m) => m.type === MessageType.AppResp && m.from === 2 && m.reject);
    expect(rejections.length).toBeGreaterThanOrEqual(1);
    expect(rejections.length).toBeLessThanOrEqual(2);
    expect(storedTerms(cluster.node(2))).toEqual(storedTerms(cluster.node(1)));
    // Reference: section 5.3 ("the follower can include the term of the conflicting entry")
  });

  it('a follower far behind hints its last index, and the leader jumps straight there', () => {
    // init: 2 holds one entry of the leader's 20.
    const cluster = TestCluster.ofSize(3, noPreVote);
    const long = Array.from({ length: 20 }, () => 1);
    preload(cluster.node(1), long, 1);
    preload(cluster.node(3), long, 1);
    preload(cluster.node(2), [1], 1);
    // act
    cluster.elect(1);
    // check
    const rejections = cluster.delivered.filter((m) => m.type === MessageType.AppResp && m.from === 2 && m.reject);
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ index: 20, rejectHint: 1, logTerm: 1 });
    const next = appsTo(cluster, 2).find((m) => m.index === 1);
    expect(next?.entries[0]?.index).toBe(2);
    expect(storedTerms(cluster.node(2))).toEqual(storedTerms(cluster.node(1)));
    // Reference: section 5.3
  });

  it('the hint names the last entry whose term is at most the rejected term', () => {
    // init: the follower holds terms [1, 1, 3, 3, 3].
    const cluster = TestCluster.ofSize(3, noPreVote);
    const follower = cluster.node(2);
    preload(follower, [1, 1, 3, 3, 3], 3);
    // act: a leader whose entry 5 has term 2.
    follower.node.step(makeMessage({ type: MessageType.App, from: 1, to: 2, term: 4, index: 5, logTerm: 2 }));
    // check: entries 3-5 (term 3) cannot match a log with term 2 at 5; entry 2 (term 1) may.
    const answer = follower.drainReadies().messages.find((m) => m.type === MessageType.AppResp);
    expect(answer).toMatchObject({ reject: true, index: 5, rejectHint: 2, logTerm: 1 });
    // Reference: section 5.3
  });
});

function figure7LeaderLog(): number[] {
  return [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
}

describe('flow control: probe and replicate', () => {
  it('a new leader probes a silent follower with one append at a time', () => {
    // init: 3's answers are lost.
    const cluster = TestCluster.ofSize(3, noPreVote);
    cluster.cutLink(3, 1);
    cluster.elect(1);
    // act: three proposals in three turns.
    for (const data of ['a', 'b', 'c']) {
      cluster.propose(1, data);
      cluster.stabilize();
    }
    // check: only the first probe reached 3; the proposals committed with 2.
    expect(appsTo(cluster, 3, false)).toHaveLength(1);
    expect(cluster.applied(2)).toEqual(['a', 'b', 'c']);
    expect(cluster.node(1).node.status().progress?.get(3)?.state).toBe('probe');
    // Reference: section 5.3 (etcd-io/raft flow control: probe state)
  });

  it('a heartbeat answer releases the next probe, and an accepted probe switches to replicate', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    cluster.cutLink(3, 1);
    cluster.elect(1);
    cluster.propose(1, 'a');
    cluster.stabilize();
    // act
    cluster.heal();
    cluster.tickAll(1);
    // check
    const progress = cluster.node(1).node.status().progress?.get(3);
    expect(progress?.state).toBe('replicate');
    expect(progress?.match).toBe(2);
    expect(cluster.applied(3)).toEqual(['a']);
    // Reference: section 5.3 (etcd-io/raft flow control: probe and replicate states)
  });

  it('in replicate state appends are pipelined without waiting for answers', () => {
    // init: 3 is in replicate state; then its answers are lost.
    const cluster = TestCluster.elected(3, noPreVote);
    expect(cluster.node(1).node.status().progress?.get(3)?.state).toBe('replicate');
    cluster.cutLink(3, 1);
    const before = appsTo(cluster, 3).length;
    // act
    for (const data of ['a', 'b', 'c']) {
      cluster.propose(1, data);
      cluster.stabilize();
    }
    // check
    expect(appsTo(cluster, 3).length - before).toBe(3);
    expect(cluster.node(3).node.status().lastIndex).toBe(cluster.node(1).node.status().lastIndex);
    // Reference: section 5.3 (etcd-io/raft flow control: replicate state)
  });

  it('a rejection in replicate state, or an unreachable report, sends the follower back to probe', () => {
    // init
    const cluster = TestCluster.elected(3, noPreVote);
    const leader = cluster.node(1);
    const last = leader.node.status().lastIndex;
    // act / check: 2 rejects an index above its match.
    leader.node.step(makeMessage({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: last + 1, reject: true, rejectHint: last }));
    expect(leader.node.status().progress?.get(2)?.state).toBe('probe');
    // act / check: 3 is reported unreachable.
    leader.node.reportUnreachable(3);
    expect(leader.node.status().progress?.get(3)).toMatchObject({ state: 'probe', next: last + 1 });
    // Reference: section 5.3 (etcd-io/raft flow control)
  });

  it('a stale rejection (at or below the match) is ignored', () => {
    // init
    const cluster = TestCluster.elected(3, noPreVote);
    cluster.propose(1, 'a');
    cluster.stabilize();
    const leader = cluster.node(1);
    // act
    leader.node.step(makeMessage({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: 1, reject: true, rejectHint: 0 }));
    // check
    expect(leader.node.status().progress?.get(2)).toMatchObject({ state: 'replicate', match: 2, next: 3 });
    // Reference: section 5.3
  });
});

describe('flow control: in-flight caps and the message byte cap', () => {
  const oneEntryPerMessage = 8 + ENTRY_OVERHEAD_BYTES; // 8-byte payloads

  it('at most inflightMsgsMax appends are in flight to one follower', () => {
    // init: one 8-byte entry per message; 3's acknowledgements are lost.
    const cluster = TestCluster.elected(3, { ...noPreVote, inflightMsgsMax: 3, messageBytesMax: oneEntryPerMessage });
    const before = appsTo(cluster, 3).length;
    // act: ten proposals in one turn.
    for (let i = 0; i < 10; i++) cluster.propose(1, `prop-00${i}`.slice(-8));
    cluster.stabilize((m) => m.type === MessageType.AppResp && m.from === 3);
    // check: 3 got three; 2, whose acks arrive, got everything.
    expect(appsTo(cluster, 3).length - before).toBe(3);
    expect(cluster.applied(2)).toHaveLength(10);
    // Reference: etcd-io/raft tracker/inflights.go (inflightMsgsMax)
  });

  it('a heartbeat answer frees one slot of a full pipeline', () => {
    // init: as above, with the pipeline to 3 full.
    const cluster = TestCluster.elected(3, { ...noPreVote, inflightMsgsMax: 3, messageBytesMax: oneEntryPerMessage });
    for (let i = 0; i < 10; i++) cluster.propose(1, `prop-00${i}`.slice(-8));
    const lostAcks = (m: Message): boolean => m.type === MessageType.AppResp && m.from === 3;
    cluster.stabilize(lostAcks);
    const before = appsTo(cluster, 3).length;
    // act
    cluster.tickAll(1, lostAcks);
    // check
    expect(appsTo(cluster, 3).length - before).toBe(1);
    // Reference: etcd-io/raft raft.go (MsgHeartbeatResp frees one inflight)
  });

  it('appends stop once inflightBytesMax bytes are in flight', () => {
    // init: each message holds one 24-byte entry; the cap is two messages' worth.
    const cluster = TestCluster.elected(3, { ...noPreVote, inflightBytesMax: 2 * oneEntryPerMessage, messageBytesMax: oneEntryPerMessage });
    const before = appsTo(cluster, 3).length;
    // act
    for (let i = 0; i < 10; i++) cluster.propose(1, `prop-00${i}`.slice(-8));
    cluster.stabilize((m) => m.type === MessageType.AppResp && m.from === 3);
    // check
    expect(appsTo(cluster, 3).length - before).toBe(2);
    // Reference: etcd-io/raft tracker/inflights.go (inflightBytesMax)
  });

  it('once acknowledgements flow again the held-back entries follow', () => {
    // init
    const cluster = TestCluster.elected(3, { ...noPreVote, inflightMsgsMax: 2, messageBytesMax: oneEntryPerMessage });
    for (let i = 0; i < 10; i++) cluster.propose(1, `prop-00${i}`.slice(-8));
    cluster.stabilize((m) => m.type === MessageType.AppResp && m.from === 3);
    expect(cluster.applied(3).length).toBeLessThan(10);
    // act
    cluster.tickAll(10);
    // check
    expect(cluster.applied(3)).toEqual(cluster.applied(1));
    expect(cluster.applied(3)).toHaveLength(10);
    // Reference: section 5.3 ("the leader retries AppendEntries indefinitely")
  });

  it('an append carries at most messageBytesMax bytes of entries, but always at least one entry', () => {
    // init
    const cluster = TestCluster.elected(3, { ...noPreVote, messageBytesMax: 100 });
    const before = cluster.delivered.length;
    // act: ten 30-byte proposals (46 bytes each with overhead), then one 500-byte proposal.
    for (let i = 0; i < 10; i++) cluster.propose(1, `${i}`.padStart(30, '.'));
    cluster.stabilize();
    cluster.propose(1, 'x'.repeat(500));
    cluster.stabilize();
    // check
    const apps = cluster.delivered.slice(before).filter((m) => m.type === MessageType.App && m.entries.length > 0);
    expect(apps.length).toBeGreaterThan(0);
    for (const m of apps) {
      const bytes = m.entries.reduce((sum, e) => sum + entryBytes(e), 0);
      expect(bytes <= 100 || m.entries.length === 1).toBe(true);
    }
    expect(apps.some((m) => m.entries.length === 2)).toBe(true);
    expect(apps.some((m) => m.entries.length === 1 && (m.entries[0] as Entry).data.byteLength === 500)).toBe(true);
    expect(cluster.applied(3)).toHaveLength(11);
    // Reference: etcd-io/raft Config.MaxSizePerMsg
  });
});

describe('Raft §5.4.1: election restriction', () => {
  it.each([
    { voter: [1], index: 1, logTerm: 1, reject: false },
    { voter: [1], index: 2, logTerm: 1, reject: false },
    { voter: [1, 1], index: 1, logTerm: 1, reject: true },
    { voter: [1], index: 1, logTerm: 2, reject: false },
    { voter: [1, 1], index: 1, logTerm: 2, reject: false },
    { voter: [2], index: 1, logTerm: 1, reject: true },
    { voter: [2], index: 2, logTerm: 1, reject: true },
    { voter: [1, 2], index: 3, logTerm: 1, reject: true },
  ])(
    'a voter with log terms $voter asked by a candidate ending at ($index, $logTerm) rejects: $reject',
    ({ voter, index, logTerm, reject }) => {
      // init
      const cluster = TestCluster.ofSize(3, noPreVote);
      const node = cluster.node(1);
      preload(node, voter, 2);
      // act
      node.node.step(makeMessage({ type: MessageType.Vote, from: 2, to: 1, term: 3, index, logTerm }));
      // check: grant only to a log at least as up to date (later last term, or same and as long).
      const answer = node.drainReadies().messages.find((m) => m.type === MessageType.VoteResp);
      expect(answer).toMatchObject({ to: 2, reject });
      // Reference: section 5.4.1
    },
  );

  it('a vote request carries the candidate last log index and term', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    preload(cluster.node(1), [1, 1, 2], 2);
    // act
    cluster.node(1).node.campaign();
    const votes = cluster.node(1).drainReadies().messages.filter((m) => m.type === MessageType.Vote);
    // check
    expect(votes).toHaveLength(2);
    for (const m of votes) expect(m).toMatchObject({ term: 3, index: 3, logTerm: 2 });
    // Reference: section 5.4.1
  });

  it('a candidate missing committed entries cannot win; one holding them can', () => {
    // init: 1 holds one entry; 2 and 3 hold two.
    const cluster = TestCluster.ofSize(3, noPreVote);
    preload(cluster.node(1), [1], 1);
    preload(cluster.node(2), [1, 1], 1);
    preload(cluster.node(3), [1, 1], 1);
    // act / check
    cluster.elect(1);
    expect(cluster.node(1).node.status().role).toBe('follower');
    expect(cluster.leader()).toBeNull();
    cluster.elect(2);
    expect(cluster.leader()?.id).toBe(2);
    // Reference: section 5.4.1
  });

  it('after the leader fails, only a node holding every committed entry is elected (leader completeness)', () => {
    // init: entries commit on {1, 2} while 3 is cut off.
    const cluster = TestCluster.elected(3);
    cluster.isolate(3);
    for (const data of ['a', 'b', 'c']) cluster.propose(1, data);
    cluster.stabilize();
    expect(cluster.applied(2)).toEqual(['a', 'b', 'c']);
    // act: 1 fails; 2 and 3 are left to elect a leader.
    cluster.heal();
    cluster.crash(1);
    for (let tick = 0; tick < 100 && cluster.leader() === null; tick++) cluster.tickAll();
    // check
    expect(cluster.leader()?.id).toBe(2);
    expect(cluster.applied(3)).toEqual(['a', 'b', 'c']);
    // Reference: section 5.4.1 and 5.4.3
  });
});

describe('Raft §5.4.2: committing entries from previous terms', () => {
  it('an entry of an earlier term is not committed by counting replicas, only with one of the current term (Figure 8)', () => {
    // init: 1 led term 2 and appended entry 2 alone; entry 1 is committed everywhere.
    const cluster = TestCluster.ofSize(3, { ...noPreVote, messageBytesMax: 1 });
    preload(cluster.node(1), [1, 2], 2, { commit: 1 });
    preload(cluster.node(2), [1], 2, { commit: 1 });
    preload(cluster.node(3), [1], 2, { commit: 1 });
    // act: 1 leads term 3; entry 2 reaches every node, but its empty entry 3 is lost (except in
    // the first probe, which the followers reject for lack of entry 2).
    const probed = new Set<NodeId>();
    const carriesThree = (m: Message): boolean => {
      if (m.type !== MessageType.App || !m.entries.some((e) => e.index === 3)) return false;
      if (probed.has(m.to)) return true;
      probed.add(m.to);
      return false;
    };
    cluster.node(1).node.campaign();
    cluster.stabilize(carriesThree);
    expect(cluster.node(2).storage.lastIndex()).toBe(2);
    // check: entry 2 is on all three, and still not committed.
    const leader = cluster.node(1).node.status();
    expect(leader).toMatchObject({ role: 'leader', term: 3 });
    expect(leader.progress?.get(2)?.match).toBe(2);
    expect(leader.progress?.get(3)?.match).toBe(2);
    expect(leader.commit).toBe(1);
    for (const id of cluster.ids) expect(cluster.node(id).app.appliedIndex).toBe(1);
    // act: entry 3 gets through.
    cluster.tickAll(3);
    // check: committing entry 3 commits entry 2 with it.
    for (const id of cluster.ids) {
      expect(cluster.node(id).node.status().commit).toBe(3);
      expect(cluster.node(id).app.log.map((e) => [e.index, e.term])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
    }
    // Reference: section 5.4.2 (Figure 8)
  });

  it('a new leader starts its term with an empty entry, which commits what earlier leaders left', () => {
    // init: two uncommitted entries of term 1 everywhere.
    const cluster = TestCluster.ofSize(3, noPreVote);
    for (const id of cluster.ids) preload(cluster.node(id), [1, 1], 1);
    // act
    cluster.elect(2);
    // check
    for (const id of cluster.ids) {
      const log = cluster.node(id).app.log;
      expect(log.map((e) => [e.index, e.term, e.data])).toEqual([
        [1, 1, 'e1'],
        [2, 1, 'e2'],
        [3, 2, ''],
      ]);
    }
    // Reference: section 5.4.2 and section 8
  });
});

describe('proposals: the uncommitted-bytes cap', () => {
  it('proposals past uncommittedBytesMax are dropped with RAFT_PROPOSAL_DROPPED until entries apply', () => {
    // init: the followers are cut off, so nothing commits.
    const cluster = TestCluster.elected(3, { uncommittedBytesMax: 100 });
    cluster.isolate(2);
    cluster.isolate(3);
    const leader = cluster.node(1);
    // act / check: 60 bytes fit, 60 more do not.
    expect(leader.node.propose(encoder.encode('a'.repeat(60)))).not.toBeNull();
    cluster.stabilize();
    const error = proposeError(leader, 'b'.repeat(60));
    expect(error.code).toBe(RaftErrorCode.ProposalDropped);
    expect(error.details).toMatchObject({ reason: 'uncommitted-bytes-max', leader: 1 });
    const lastIndex = leader.node.status().lastIndex;
    // act / check: once the first applies, the budget is back.
    cluster.heal();
    cluster.tickAll(2);
    expect(cluster.applied(1)).toEqual(['a'.repeat(60)]);
    expect(leader.node.status().lastIndex).toBe(lastIndex);
    expect(leader.node.propose(encoder.encode('b'.repeat(60)))).not.toBeNull();
    // Reference: etcd-io/raft Config.MaxUncommittedEntriesSize
  });

  it('a proposal larger than the cap is still taken when nothing is uncommitted', () => {
    // init
    const cluster = TestCluster.elected(3, { uncommittedBytesMax: 10 });
    // act
    const position = cluster.node(1).node.propose(encoder.encode('x'.repeat(50)));
    cluster.stabilize();
    // check
    expect(position).not.toBeNull();
    expect(cluster.applied(2)).toEqual(['x'.repeat(50)]);
    // Reference: etcd-io/raft Config.MaxUncommittedEntriesSize
  });
});

describe('proposals: forwarding and refusal', () => {
  it('with forwarding on, a follower passes a proposal to the leader, which commits it', () => {
    // init
    const cluster = TestCluster.elected(3, { proposalForwarding: true });
    // act
    const position = cluster.node(2).node.propose(encoder.encode('via-2'));
    cluster.stabilize();
    // check
    expect(position).toBeNull();
    expect(cluster.delivered.some((m) => m.type === MessageType.Prop && m.from === 2 && m.to === 1)).toBe(true);
    for (const id of cluster.ids) expect(cluster.applied(id)).toEqual(['via-2']);
    // Reference: section 8 ("clients ... redirected to the leader")
  });

  it('with forwarding off, a follower refuses a proposal and names the leader', () => {
    // init
    const cluster = TestCluster.elected(3, { proposalForwarding: false });
    const lastIndex = cluster.node(1).node.status().lastIndex;
    // act
    const error = proposeError(cluster.node(2), 'via-2');
    cluster.stabilize();
    // check
    expect(error.code).toBe(RaftErrorCode.ProposalDropped);
    expect(error.details).toMatchObject({ leader: 1, reason: 'not-leader', node: 2 });
    expect(cluster.delivered.some((m) => m.type === MessageType.Prop)).toBe(false);
    expect(cluster.node(1).node.status().lastIndex).toBe(lastIndex);
    // Reference: section 8
  });

  it('a node that knows no leader refuses a proposal with leader 0', () => {
    // init
    const cluster = TestCluster.ofSize(3);
    // act
    const error = proposeError(cluster.node(2), 'x');
    // check
    expect(error.code).toBe(RaftErrorCode.ProposalDropped);
    expect(error.details).toMatchObject({ leader: NONE, reason: 'no-leader' });
    // Reference: section 8
  });

  it('a candidate refuses proposals', () => {
    // init
    const cluster = TestCluster.ofSize(3, noPreVote);
    cluster.node(1).node.campaign();
    // act
    const error = proposeError(cluster.node(1), 'x');
    // check
    expect(error.code).toBe(RaftErrorCode.ProposalDropped);
    expect(error.details.reason).toBe('no-leader');
    // Reference: section 8
  });

  it('the leader refuses proposals while it is handing leadership over', () => {
    // init: 3 lags, so a transfer to it cannot finish at once.
    const cluster = TestCluster.elected(3);
    cluster.isolate(3);
    cluster.propose(1, 'a');
    cluster.stabilize();
    cluster.heal();
    cluster.cutLink(1, 3);
    // act: 2 asks the leader to hand over to 3.
    cluster.node(2).node.transferLeadership(3);
    cluster.stabilize();
    expect(cluster.node(1).node.status().leadTransferee).toBe(3);
    const error = proposeError(cluster.node(1), 'b');
    // check
    expect(error.code).toBe(RaftErrorCode.ProposalDropped);
    expect(error.details).toMatchObject({ reason: 'transfer-in-progress', leader: 1 });
    // Reference: thesis §3.10 ("the prior leader stops accepting new client requests")
  });
});
