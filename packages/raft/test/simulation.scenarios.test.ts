// Named scenarios on the simulator: each sets up one hostile situation on purpose, checks what
// must (and must not) happen in it, and, like every simulated run, has Raft's safety properties
// checked after every step and ends by healing and checking that nothing acknowledged was lost.

import { describe, expect, test } from 'vitest';
import { seededRandom, type NodeId, type Random } from '../src/index.js';
import { RELIABLE, type NetworkFaults } from './sim/network.js';
import { Simulator, type SimulatorOptions } from './sim/simulator.js';
import type { NodeOptions } from './support/test-node.js';

const ELECTION_TICKS_MAX = 300;

function simulate(nodeCount: number, seed: number, raft: NodeOptions = {}): Simulator {
  const options: SimulatorOptions = { nodeCount, seed, raft };
  return new Simulator(options);
}

/** Runs until a leader that a majority follows exists; fails the test if none within the bound. */
function stableLeader(sim: Simulator, ticksMax = ELECTION_TICKS_MAX): NodeId {
  const took = sim.awaitStableLeader(ticksMax);
  expect(took, `no leader within ${ticksMax} ticks\n${sim.describe()}`).toBeGreaterThanOrEqual(0);
  return (sim.leader() as NonNullable<ReturnType<Simulator['leader']>>).id;
}

/** Proposes at the leader and runs until some node applied it; returns the payload. */
function commitOne(sim: Simulator, ticksMax = 200): string {
  for (let t = 0; t < ticksMax; t++) {
    const payload = sim.proposeToLeader();
    if (payload !== null) {
      for (let u = 0; u < ticksMax; u++) {
        if (sim.acknowledged.has(payload)) return payload;
        sim.run(1);
      }
    }
    sim.run(1);
  }
  throw new Error(`nothing committed within ${ticksMax} ticks\n${sim.describe()}`);
}

function appliedEverywhere(sim: Simulator, payload: string): boolean {
  return sim.running().every((n) => n.app.payloads.has(payload));
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[random.int(items.length)] as T;
}

function sampleIds(random: Random, ids: readonly NodeId[], count: number): NodeId[] {
  const pool = [...ids];
  const out: NodeId[] = [];
  while (out.length < count) out.push(pool.splice(random.int(pool.length), 1)[0] as NodeId);
  return out;
}

describe('simulation: elections', () => {
  test('initial election: one leader, every node agrees on its term, and it holds while nothing fails', () => {
    const sim = simulate(3, 1);
    const leader = stableLeader(sim, 40);
    const term = sim.node(leader).node.raft.term;
    expect(new Set(sim.running().map((n) => n.node.raft.term))).toEqual(new Set([term]));
    sim.run(200);
    expect(sim.leader()?.id).toBe(leader);
    expect(sim.node(leader).node.raft.term).toBe(term);
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('re-election after the leader is cut off, and the old leader steps down when it returns', () => {
    const sim = simulate(3, 2);
    const first = stableLeader(sim);
    sim.isolate(first);
    sim.run(60);
    const second = sim.leader();
    expect(second).not.toBeNull();
    expect(second?.id).not.toBe(first);
    expect(sim.node(first).node.raft.role).not.toBe('leader'); // check-quorum deposed it
    sim.heal();
    sim.run(30);
    expect(sim.leaders().length).toBe(1);
    expect(sim.node(first).node.raft.lead).toBe(sim.leader()?.id);
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('no leader without a quorum: 3 of 5 cut off, nobody leads; one back, a leader emerges', () => {
    const sim = simulate(5, 3);
    stableLeader(sim);
    sim.partition([[1], [2], [3], [4, 5]]);
    sim.run(200);
    expect(sim.leaders()).toEqual([]);
    sim.partition([[1], [2], [3, 4, 5]]);
    stableLeader(sim);
    expect([3, 4, 5]).toContain(sim.leader()?.id);
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('many elections: 7 nodes, 3 cut off at random, ten times over', () => {
    const sim = simulate(7, 4);
    const random = seededRandom(4);
    stableLeader(sim);
    for (let round = 0; round < 10; round++) {
      const cut = sampleIds(random, sim.ids, 3);
      sim.partition([...cut.map((id) => [id]), sim.ids.filter((id) => !cut.includes(id))]);
      const leader = stableLeader(sim);
      expect(cut).not.toContain(leader);
      sim.heal();
      sim.run(random.int(20));
    }
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('split votes under churn: frequent crashes while voting never produce two leaders in a term', () => {
    // Short, close timeouts and no pre-vote give many simultaneous candidates; crashes inside
    // Ready handling, fast restarts and delayed vote requests test that a vote is granted only
    // once it is durable (a voter that forgot its vote would grant a second one in the term).
    let leaders = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const sim = simulate(3, seed, { electionTimeoutTicks: 2, preVote: false, checkQuorum: false });
      sim.setChurn(300, 100);
      sim.setFaults({ dropPercent: 0, duplicatePercent: 0, reorderWindow: 8, delayPercent: 60, delayTicksMax: 2 });
      sim.run(400);
      sim.finish(ELECTION_TICKS_MAX);
      leaders += sim.checker.leadersElected;
    }
    expect(leaders).toBeGreaterThan(2_000);
  });
});

describe('simulation: agreement', () => {
  test('agreement with a follower cut off and back: the majority commits, the follower catches up', () => {
    const sim = simulate(3, 5);
    const leader = stableLeader(sim);
    const before = commitOne(sim);
    const follower = sim.ids.find((id) => id !== leader) as NodeId;
    sim.isolate(follower);
    const during = [commitOne(sim), commitOne(sim), commitOne(sim)];
    expect(sim.node(follower).app.payloads.has(during[0] as string)).toBe(false);
    sim.heal();
    sim.run(30);
    for (const p of [before, ...during]) expect(appliedEverywhere(sim, p)).toBe(true);
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('no commit without a majority: 3 of 5 followers cut off, a proposal stays uncommitted', () => {
    const sim = simulate(5, 6);
    const leader = stableLeader(sim);
    commitOne(sim);
    const others = sim.ids.filter((id) => id !== leader);
    sim.partition([[leader, others[0] as NodeId], [others[1] as NodeId], [others[2] as NodeId], [others[3] as NodeId]]);
    const commitBefore = sim.node(leader).node.raft.raftLog.committed;
    const payload = sim.propose(leader);
    expect(payload).not.toBeNull();
    sim.run(8); // less than an election timeout: the leader is still leader
    expect(sim.node(leader).node.raft.raftLog.committed).toBe(commitBefore);
    expect(sim.acknowledged.has(payload as string)).toBe(false);
    sim.heal();
    commitOne(sim);
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('concurrent proposals: forty proposals from every node at once are each applied once, in one order', () => {
    const sim = simulate(5, 7, { proposalForwarding: true });
    stableLeader(sim);
    const proposed: string[] = [];
    for (let round = 0; round < 8; round++) {
      for (const id of sim.ids) {
        const p = sim.propose(id);
        if (p !== null) proposed.push(p);
      }
    }
    sim.run(20);
    expect(proposed.length).toBe(40);
    for (const p of proposed) expect(appliedEverywhere(sim, p)).toBe(true);
    const orders = sim.running().map((n) => n.app.log.map((e) => e.data).join(','));
    expect(new Set(orders).size).toBe(1);
    const applied = (orders[0] as string).split(',').filter((d) => d !== '');
    expect(applied.length).toBe(new Set(applied).size);
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('a partitioned old leader: its uncommitted entries are overwritten when it rejoins', () => {
    const sim = simulate(3, 8);
    const old = stableLeader(sim);
    commitOne(sim);
    sim.isolate(old);
    const stranded = [sim.propose(old), sim.propose(old), sim.propose(old)];
    sim.run(5);
    const next = stableLeader(sim);
    expect(next).not.toBe(old);
    commitOne(sim);
    sim.heal();
    sim.run(40);
    for (const p of stranded) {
      expect(p).not.toBeNull();
      for (const n of sim.running()) expect(n.app.payloads.has(p as string)).toBe(false);
    }
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('fast backup: logs diverging by 50 entries in each of two minorities are repaired in few round trips', () => {
    const sim = simulate(5, 9, { messageBytesMax: 64 * 1024 });
    const leader1 = stableLeader(sim);
    commitOne(sim);
    const others = sim.ids.filter((id) => id !== leader1);
    const [a, b, c, d] = others as [NodeId, NodeId, NodeId, NodeId];
    // The leader and one follower are cut off and take 50 entries that cannot commit.
    sim.partition([[leader1, a], [b, c, d]]);
    for (let i = 0; i < 50; i++) sim.propose(leader1);
    sim.run(2);
    // The other three elect a leader and commit 50 entries.
    const leader2 = stableLeader(sim);
    expect([b, c, d]).toContain(leader2);
    for (let i = 0; i < 50; i++) sim.propose(leader2);
    sim.run(10);
    // Now that leader and one of its followers are cut off and take 50 more that cannot commit.
    const follower2 = [b, c, d].find((id) => id !== leader2) as NodeId;
    const last = [b, c, d].find((id) => id !== leader2 && id !== follower2) as NodeId;
    sim.partition([[leader2, follower2], [leader1, a, last]]);
    for (let i = 0; i < 50; i++) sim.propose(leader2);
    sim.run(2);
    // The first minority and the node left over form a majority and commit 50 more.
    const rejectsBefore = sim.appendRejectsDelivered;
    const leader3 = stableLeader(sim);
    expect([leader1, a, last]).toContain(leader3);
    for (let i = 0; i < 50; i++) sim.propose(leader3);
    sim.run(10);
    // Everyone together: logs that differ by 50 entries are brought in line.
    sim.heal();
    const payload = commitOne(sim);
    sim.run(20);
    expect(appliedEverywhere(sim, payload)).toBe(true);
    // Term hints let each follower skip a divergent term in one rejection, not fifty.
    expect(sim.appendRejectsDelivered - rejectsBefore).toBeLessThan(16);
    sim.finish(ELECTION_TICKS_MAX);
  });
});

describe('simulation: crashes', () => {
  test('crash and restart of all, of the leader, of a partitioned leader and of a follower', () => {
    const sim = simulate(3, 10);
    stableLeader(sim);
    const committed = [commitOne(sim)];
    // All of them.
    for (const id of sim.ids) sim.crash(id);
    sim.network.clear();
    for (const id of sim.ids) sim.restart(id);
    stableLeader(sim);
    committed.push(commitOne(sim));
    // The leader.
    const leader = sim.leader()?.id as NodeId;
    sim.crash(leader);
    stableLeader(sim);
    committed.push(commitOne(sim));
    sim.restart(leader);
    // A partitioned leader and a follower.
    const leader2 = sim.leader()?.id as NodeId;
    sim.isolate(leader2);
    sim.propose(leader2);
    stableLeader(sim);
    committed.push(commitOne(sim));
    const follower = sim.ids.find((id) => id !== leader2 && id !== sim.leader()?.id) as NodeId;
    sim.crash(leader2);
    sim.crash(follower);
    sim.heal();
    sim.restart(leader2);
    sim.restart(follower);
    stableLeader(sim);
    committed.push(commitOne(sim));
    sim.run(20);
    for (const p of committed) expect(appliedEverywhere(sim, p)).toBe(true);
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('Figure 8 as drawn: an entry of an old term is not committed by counting its replicas', () => {
    // Raft Figure 8 with our term-start empty entries. Terms: S1 leads term 1, S5 term 2, S1
    // term 3. The safety checker fails the run if S1 commits X (index 2, term 1) before its own
    // term-3 entry is on a majority and S5 (holding index 2 from term 2) then wins term 4.
    const sim = simulate(5, 18, { preVote: false, checkQuorum: false, messageBytesMax: 20 });
    const [s1, s2, s3, s4, s5] = [1, 2, 3, 4, 5] as const;
    sim.campaign(s1);
    sim.settle();
    expect(sim.leader()?.id).toBe(s1);
    // (a) S1 replicates X at index 2 to S2 only, and crashes.
    sim.partition([[s1, s2], [s3, s4, s5]]);
    const x = sim.propose(s1) as string;
    sim.settle();
    expect(sim.node(s2).node.raft.raftLog.lastIndex()).toBe(2);
    sim.crash(s1);
    // (b) S5 is elected in term 2 by S3, S4, S5; its empty entry at index 2 goes nowhere.
    sim.campaign(s5);
    for (let i = 0; i < 20 && sim.node(s5).node.raft.role !== 'leader'; i++) {
      sim.deliver(1);
      for (const id of [s3, s4, s5]) sim.handleReady(id);
    }
    expect(sim.node(s5).node.raft.role).toBe('leader');
    sim.isolate(s5);
    sim.handleReady(s5);
    sim.crash(s5);
    // (c) S1 restarts and is elected in term 3; it brings S3 up to X, one entry per message.
    sim.restart(s1);
    sim.partition([[s1, s2, s3, s4]]);
    // S1 restarted in term 1, so its first campaign (term 2) loses to S5's votes; the second wins.
    for (let attempt = 0; attempt < 3 && sim.node(s1).node.raft.role !== 'leader'; attempt++) {
      sim.campaign(s1);
      for (let i = 0; i < 40 && sim.node(s1).node.raft.role !== 'leader'; i++) {
        sim.deliver(1);
        for (const id of [s1, s2, s3, s4]) sim.handleReady(id);
      }
    }
    expect(sim.node(s1).node.raft.role).toBe('leader');
    let steps = 0;
    while (sim.node(s1).node.raft.raftLog.committed < 2 && steps++ < 500) {
      sim.deliver(1);
      for (const id of [s1, s2, s3, s4]) sim.handleReady(id);
    }
    expect(sim.node(s1).node.raft.raftLog.committed, sim.describe() + "\n" + sim.recentTrace()).toBeGreaterThanOrEqual(2);
    // (d) S1 crashes the moment it commits; S5 comes back and campaigns among S2, S3, S4.
    sim.network.dropFrom(s1);
    sim.crash(s1);
    sim.restart(s5);
    sim.partition([[s2, s3, s4, s5]]);
    sim.campaign(s5);
    sim.settle();
    // (e) Whoever leads now must hold X: it was committed.
    const leader = stableLeader(sim);
    expect(leader).not.toBe(s1);
    sim.heal();
    sim.run(20);
    for (const n of sim.running()) expect(n.app.payloads.has(x)).toBe(true);
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('Figure 8 at random: leaders crash right after proposing, round after round', () => {
    for (let seed = 1; seed <= 40; seed++) figure8(seed, seed % 2 === 0 ? 3 : 5, 250, false);
  });

  test('Figure 8 at random, on an unreliable network with long reordering and delays', () => {
    for (let seed = 1; seed <= 20; seed++) figure8(seed, 5, 250, true);
  });

  test('writes still in flight: messages are stepped while a Ready persists, and crashes lose the write', () => {
    // A master may step messages while its disk write is out. Only what is durable may count:
    // a leader that counted its own unwritten entries would commit on a copy it then loses.
    let acknowledged = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const sim = simulate(3, seed, { electionTimeoutTicks: 4 });
      const random = seededRandom(seed);
      sim.setAsyncPersist(60);
      sim.setChurn(60, 100);
      sim.setFaults({ dropPercent: 0, duplicatePercent: 0, reorderWindow: 4, delayPercent: 30, delayTicksMax: 2 });
      for (let round = 0; round < 150; round++) {
        const leader = sim.leader();
        if (leader !== null) for (let i = 1 + random.int(3); i > 0; i--) sim.propose(leader.id);
        sim.run(1);
      }
      sim.finish(ELECTION_TICKS_MAX);
      acknowledged += sim.acknowledged.size;
    }
    expect(acknowledged).toBeGreaterThan(10_000);
  });

  test('churn: crashes every few ticks while clients propose throughout', () => {
    const sim = churn(13, RELIABLE);
    expect(sim.acknowledged.size).toBeGreaterThan(100);
  });

  test('unreliable churn: the same on a network that drops, duplicates and reorders', () => {
    const sim = churn(14, { dropPercent: 10, duplicatePercent: 10, reorderWindow: 20 });
    expect(sim.acknowledged.size).toBeGreaterThan(50);
  });
});

/** 5 nodes; every few ticks proposals at random nodes, a random crash, a restart now and then. */
function churn(seed: number, faults: NetworkFaults): Simulator {
  const sim = simulate(5, seed);
  const random = seededRandom(seed);
  sim.setFaults(faults);
  sim.setChurn(20, 0);
  for (let round = 0; round < 300; round++) {
    for (let i = random.int(4); i > 0; i--) sim.propose(pick(random, sim.ids));
    if (random.int(4) === 0) sim.crash(pick(random, sim.ids));
    const downIds = sim.ids.filter((id) => sim.down.has(id));
    if (downIds.length > 0 && (downIds.length > 2 || random.int(3) === 0)) sim.restart(pick(random, downIds));
    sim.run(1 + random.int(4));
  }
  sim.finish(ELECTION_TICKS_MAX);
  return sim;
}

/**
 * In the manner of the paper's Figure 8 (and MIT 6.824's test of it): propose at the leader, let
 * a few messages through, crash the leader, and keep a majority alive, over and over. A leader
 * that commits an entry of an earlier term by counting replicas loses it here.
 */
function figure8(seed: number, nodeCount: number, rounds: number, unreliable: boolean): void {
  const sim = simulate(nodeCount, seed, { messageBytesMax: 20, electionTimeoutTicks: 3 });
  const random = seededRandom(seed);
  if (unreliable) sim.setFaults({ dropPercent: 10, duplicatePercent: 5, reorderWindow: 100, delayPercent: 30, delayTicksMax: 10 });
  let leaderCrashes = 0;
  for (let round = 0; round < rounds; round++) {
    const leader = sim.leader();
    if (leader !== null) sim.propose(leader.id);
    // Let a little happen: a few ticks, a few messages, a few Readies.
    for (let i = random.int(4); i > 0; i--) {
      sim.tickAll();
      sim.deliver(random.int(12));
      for (const id of sim.ids) if (random.int(2) === 0) sim.handleReady(id);
    }
    if (leader !== null && random.int(100) < 70) {
      sim.crash(leader.id, 'figure 8');
      leaderCrashes++;
    }
    const downIds = sim.ids.filter((id) => sim.down.has(id));
    if (nodeCount - downIds.length < Math.floor(nodeCount / 2) + 1 || (downIds.length > 0 && random.int(3) === 0)) {
      sim.restart(pick(random, downIds));
    }
    if (sim.leader() === null) sim.run(1 + random.int(6));
  }
  expect(leaderCrashes).toBeGreaterThan(rounds / 10);
  if (unreliable) sim.setFaults(RELIABLE);
  sim.finish(ELECTION_TICKS_MAX);
}

describe('simulation: snapshots', () => {
  test('a crashed follower far behind is brought back by a snapshot in chunks', () => {
    const sim = simulate(3, 15, { snapshotChunkBytesMax: 64 });
    const leader = stableLeader(sim);
    const follower = sim.ids.find((id) => id !== leader) as NodeId;
    sim.crash(follower);
    const committed: string[] = [];
    for (let i = 0; i < 30; i++) committed.push(commitOne(sim));
    for (const id of sim.ids) sim.compact(id, 2);
    const snapshotIndex = sim.node(leader).storage.snapshot().metadata.index;
    const chunksBefore = sim.network.sent;
    sim.restart(follower);
    sim.run(30);
    const f = sim.node(follower);
    expect(f.storage.snapshot().metadata.index).toBeGreaterThanOrEqual(snapshotIndex);
    expect(f.app.appliedIndex).toBe(sim.node(leader).app.appliedIndex);
    for (const p of committed) expect(f.app.payloads.has(p)).toBe(true);
    // The snapshot's data (all 30 payloads) is far over 64 bytes: it went over in many chunks.
    expect(sim.node(leader).storage.snapshot().data.byteLength).toBeGreaterThan(64 * 3);
    expect(sim.network.sent - chunksBefore).toBeGreaterThan(3);
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('a cut-off follower receives a snapshot over a lossy link, chunk losses and all', () => {
    const sim = simulate(3, 16, { snapshotChunkBytesMax: 32 });
    const leader = stableLeader(sim);
    const follower = sim.ids.find((id) => id !== leader) as NodeId;
    sim.isolate(follower);
    for (let i = 0; i < 40; i++) commitOne(sim);
    for (const id of sim.ids) if (id !== follower) sim.compact(id, 0);
    sim.heal();
    sim.setFaults({ dropPercent: 20, duplicatePercent: 10, reorderWindow: 4 });
    sim.run(200);
    sim.setFaults(RELIABLE);
    sim.run(20);
    expect(sim.node(follower).app.appliedIndex).toBe(sim.node(sim.leader()?.id as NodeId).app.appliedIndex);
    sim.finish(ELECTION_TICKS_MAX);
  });

  test('restart of all after snapshots: the applied index never goes back', () => {
    const sim = simulate(5, 17, { snapshotChunkBytesMax: 50 });
    const random = seededRandom(17);
    stableLeader(sim);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 5; i++) commitOne(sim);
      for (const id of sim.ids) if (random.int(2) === 0) sim.compact(id, random.int(4));
      const appliedBefore = new Map(sim.ids.map((id) => [id, sim.node(id).app.appliedIndex]));
      for (const id of sim.ids) sim.crash(id);
      sim.network.clear();
      for (const id of sim.ids) sim.restart(id);
      for (const id of sim.ids) expect(sim.node(id).app.appliedIndex).toBeGreaterThanOrEqual(appliedBefore.get(id) as number);
      stableLeader(sim);
    }
    sim.finish(ELECTION_TICKS_MAX);
  });
});
