// A deterministic simulation of 3-7 Raft cores in one process: virtual time (ticks), a hostile
// network, and crashes that keep only what was persisted. Every step is followed by the safety
// checks; `finish()` heals everything and checks liveness and that nothing acknowledged was lost.

import { MessageType, RaftError, seededRandom, type Message, type NodeId, type Random, type Ready } from '../../src/index.js';
import type { NodeOptions } from '../support/test-node.js';
import { TestNode } from '../support/test-node.js';
import { SafetyChecker, SafetyViolation } from './checker.js';
import { RELIABLE, SimNetwork, type NetworkFaults } from './network.js';

/** Where a node crashes while handling a Ready. */
export type CrashPoint = 'none' | 'after-send' | 'after-persist';

export interface SimulatorOptions {
  readonly nodeCount: number;
  readonly seed: number;
  readonly raft?: NodeOptions;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Runs a request the core may refuse (a RaftError, an expected answer); returns whether it did. */
function refusedByRaft(request: () => unknown): boolean {
  try {
    request();
    return false;
  } catch (error) {
    if (error instanceof RaftError) return true;
    throw error;
  }
}
const TRACE_MAX = 400;

export class Simulator {
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, TestNode>();
  readonly network: SimNetwork;
  readonly checker = new SafetyChecker();
  readonly down = new Set<NodeId>();
  /** Payloads some node applied: acknowledged to a client, so never to be lost. */
  readonly acknowledged = new Set<string>();
  ticks = 0;
  proposalsMade = 0;
  proposalsDropped = 0;
  crashes = 0;
  /** Rejected appends delivered to leaders (how much backtracking happened). */
  appendRejectsDelivered = 0;
  private readonly trace: string[] = [];
  private readCounter = 0;
  /** The simulator's own choices (crashes inside settle, restarts), apart from the network's. */
  private readonly random: Random;
  /** Churn: chance per thousand that a node crashes while handling a Ready inside settle(). */
  crashInReadyPerMille = 0;
  /** Churn: chance in percent, per tick, that one crashed node restarts. */
  restartPercentPerTick = 0;
  /**
   * Chance in percent that settle() hands a node a Ready but persists it only in a later round,
   * with messages stepped in between (a master whose disk write is still in flight).
   */
  asyncPersistPercent = 0;

  constructor(readonly options: SimulatorOptions) {
    this.ids = Array.from({ length: options.nodeCount }, (_, i) => i + 1);
    for (const id of this.ids) this.nodes.set(id, new TestNode(id, this.ids, options.raft ?? {}, options.seed * 31 + id));
    this.network = new SimNetwork(seededRandom(options.seed));
    this.random = seededRandom(options.seed ^ 0x5bd1e995);
  }

  // ---- what a run did, for failure reports ----

  note(event: string): void {
    this.trace.push(`[t${this.ticks}] ${event}`);
    if (this.trace.length > TRACE_MAX) this.trace.splice(0, this.trace.length - TRACE_MAX);
  }

  recentTrace(): string {
    return this.trace.join('\n');
  }

  describe(): string {
    return this.ids
      .map((id) => {
        const n = this.node(id);
        const s = n.node.status();
        return `node ${id}${this.down.has(id) ? ' (down)' : ''}: ${s.role} term ${s.term} lead ${s.lead} commit ${s.commit} applied ${n.app.appliedIndex} last ${s.lastIndex} first ${s.firstIndex}`;
      })
      .join('\n');
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  running(): TestNode[] {
    return this.ids.filter((id) => !this.down.has(id)).map((id) => this.node(id));
  }

  leaders(): TestNode[] {
    return this.running().filter((n) => n.node.raft.role === 'leader');
  }

  /** The running leader with the highest term, if any. */
  leader(): TestNode | null {
    let best: TestNode | null = null;
    for (const n of this.leaders()) if (best === null || n.node.raft.term > best.node.raft.term) best = n;
    return best;
  }

  // ---- the safety checks, after every step ----

  check(): void {
    const leaders = this.leaders();
    for (const n of this.running()) this.checker.checkNode(n, leaders);
  }

  // ---- primitive steps ----

  tick(id: NodeId): void {
    if (this.down.has(id)) return;
    this.node(id).node.tick();
    this.check();
  }

  tickAll(): void {
    this.ticks++;
    this.network.now = this.ticks;
    for (const n of this.running()) n.node.tick();
    this.check();
  }

  /** One node handles one Ready, crashing at `crash` if asked. Returns whether it had one. */
  handleReady(id: NodeId, crash: CrashPoint = 'none'): boolean {
    if (this.down.has(id)) return false;
    const n = this.node(id);
    if (n.hasPendingReady()) {
      this.finishReady(id, crash);
      return true;
    }
    if (!this.startReady(id)) return false;
    this.finishReady(id, crash);
    return true;
  }

  /** Takes a node's Ready and sends what may leave before persisting; the rest waits for finishReady(). */
  startReady(id: NodeId): boolean {
    if (this.down.has(id)) return false;
    const n = this.node(id);
    if (n.hasPendingReady()) return false;
    const first = n.beginReady();
    if (first === null) return false;
    for (const m of first) this.network.send(m);
    // Entries join the node's log when handed out; log matching is checked from here.
    this.checker.onEntries(n, (n.pendingReady() as Ready).entries);
    return true;
  }

  /** Persists the pending Ready, sends what waited for that, applies, and advances. */
  finishReady(id: NodeId, crash: CrashPoint = 'none'): void {
    if (this.down.has(id)) return;
    const n = this.node(id);
    if (!n.hasPendingReady()) return;
    if (crash === 'after-send') {
      this.crash(id, 'after sending, before persisting');
      return;
    }
    for (const m of n.persist()) this.network.send(m);
    if (crash === 'after-persist') {
      this.crash(id, 'after persisting, before applying');
      return;
    }
    const ready = n.applyAndAdvance();
    if (ready.snapshot !== null) this.checker.checkDigest(n);
    this.checker.onApplied(n, ready.committedEntries);
    for (const e of ready.committedEntries) {
      if (e.data.byteLength > 0) this.acknowledged.add(decoder.decode(e.data));
    }
    this.check();
  }

  /** Delivers up to `count` messages from the network. Returns how many left it (delivered or lost). */
  deliver(count: number): number {
    let taken = 0;
    for (; taken < count; taken++) {
      const m = this.network.take();
      if (m === null) break;
      if (m === 'dropped') continue;
      this.deliverOne(m);
    }
    return taken;
  }

  private deliverOne(m: Message): void {
    if (this.down.has(m.to)) return;
    if (m.type === MessageType.AppResp && m.reject) this.appendRejectsDelivered++;
    this.node(m.to).node.step(m);
    this.check();
  }

  crash(id: NodeId, why = ''): void {
    if (this.down.has(id)) return;
    this.down.add(id);
    this.crashes++;
    // Half the time the machine dies with its socket buffers: what it sent is lost too.
    const lostInFlight = this.random.int(2) === 0;
    if (lostInFlight) this.network.dropFrom(id);
    this.note(`crash ${id}${why ? ` (${why})` : ''}${lostInFlight ? ', its messages in flight lost' : ''}`);
  }

  restart(id: NodeId): void {
    if (!this.down.has(id)) return;
    this.down.delete(id);
    const n = this.node(id);
    n.restart();
    this.checker.onRestart(n);
    this.note(`restart ${id} (term ${n.node.raft.term}, commit ${n.node.raft.raftLog.committed}, applied ${n.app.appliedIndex})`);
    this.check();
  }

  /** Makes `id` start an election now. */
  campaign(id: NodeId): void {
    if (this.down.has(id)) return;
    this.node(id).node.campaign();
    this.note(`campaign ${id}`);
    this.check();
  }

  /** Proposes a fresh payload at `id`. Returns it, or null when the node refused or is down. */
  propose(id: NodeId): string | null {
    if (this.down.has(id)) return null;
    const payload = `p${++this.proposalsMade}`;
    const refused = refusedByRaft(() => this.node(id).node.propose(encoder.encode(payload)));
    this.check();
    if (refused) {
      this.proposalsDropped++;
      return null;
    }
    return payload;
  }

  /**
   * Raft Figure 8's move: the leader takes a proposal, sends it, `deliver` messages get through,
   * and the leader crashes. Optionally a crashed node comes back, so that a majority stays up.
   */
  proposeAndCrashLeader(deliver: number, restartSomeone: boolean): void {
    const leader = this.leader();
    if (leader !== null) {
      this.propose(leader.id);
      this.handleReady(leader.id);
      this.deliver(deliver);
      for (const id of this.ids) this.handleReady(id);
      this.crash(leader.id, 'right after proposing');
    }
    if (restartSomeone) {
      const downIds = this.ids.filter((id) => this.down.has(id));
      const pick = downIds[this.proposalsMade % Math.max(1, downIds.length)];
      if (pick !== undefined) this.restart(pick);
    }
  }

  /** Proposes at the current leader, if there is one. */
  proposeToLeader(): string | null {
    const leader = this.leader();
    return leader === null ? null : this.propose(leader.id);
  }

  readIndex(id: NodeId): void {
    if (this.down.has(id)) return;
    refusedByRaft(() => this.node(id).node.readIndex(encoder.encode(`r${++this.readCounter}`)));
    this.check();
  }

  /** A host's deferred commit broadcast (RaftConfig.deferCommitBroadcast); nothing unless `id` leads. */
  broadcastCommit(id: NodeId): void {
    if (this.down.has(id)) return;
    this.node(id).node.broadcastCommit();
    this.check();
  }

  transferLeadership(id: NodeId, to: NodeId): void {
    if (this.down.has(id)) return;
    refusedByRaft(() => this.node(id).node.transferLeadership(to));
    this.note(`transfer-leadership at ${id} to ${to}`);
    this.check();
  }

  /** Snapshots `id`'s state machine and compacts its log, keeping `keep` entries. */
  compact(id: NodeId, keep: number): void {
    if (this.down.has(id) || this.node(id).hasPendingReady()) return;
    if (this.node(id).compact(keep)) this.note(`compact ${id} keep ${keep} (snapshot at ${this.node(id).app.appliedIndex})`);
  }

  partition(groups: readonly (readonly NodeId[])[]): void {
    this.network.partition(this.ids, groups);
    this.note(`partition ${groups.map((g) => `[${g.join(',')}]`).join(' ')}`);
  }

  isolate(id: NodeId): void {
    this.partition([[id], this.ids.filter((other) => other !== id)]);
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.network.cutLink(from, to);
    this.note(`cut ${from}->${to}`);
  }

  heal(): void {
    this.network.heal();
    this.note('heal');
  }

  setFaults(faults: NetworkFaults): void {
    this.network.faults = faults;
    this.note(
      `network drop ${faults.dropPercent}% dup ${faults.duplicatePercent}% reorder ${faults.reorderWindow} delay ${faults.delayPercent ?? 0}% up to ${faults.delayTicksMax ?? 0} ticks`,
    );
  }

  // ---- composite steps ----

  setAsyncPersist(percent: number): void {
    this.asyncPersistPercent = percent;
    this.note(`async persist ${percent}%`);
  }

  /** Sets churn: crashes inside Ready handling, and restarts as time passes. */
  setChurn(crashInReadyPerMille: number, restartPercentPerTick: number): void {
    this.crashInReadyPerMille = crashInReadyPerMille;
    this.restartPercentPerTick = restartPercentPerTick;
    this.note(`churn: crash in ready ${crashInReadyPerMille}/1000, restart ${restartPercentPerTick}%/tick`);
  }

  private churnCrashPoint(): CrashPoint {
    if (this.crashInReadyPerMille === 0 || this.random.int(1000) >= this.crashInReadyPerMille) return 'none';
    return this.random.int(2) === 0 ? 'after-send' : 'after-persist';
  }

  /** Handles Readies and delivers messages until nothing moves (bounded). */
  settle(roundsMax = 200): void {
    for (let round = 0; round < roundsMax; round++) {
      let moved = false;
      // Nodes take turns in a varying order, so that their Readies interleave differently.
      const first = this.random.int(this.ids.length);
      for (let k = 0; k < this.ids.length; k++) {
        const id = this.ids[(first + k) % this.ids.length] as NodeId;
        if (this.asyncPersistPercent > 0 && this.random.int(100) < this.asyncPersistPercent) {
          // The disk write is slow: leave a pending Ready pending (messages are delivered to the
          // node meanwhile), or hand out a new one without persisting it yet.
          if (this.startReady(id)) moved = true;
          continue;
        }
        while (this.handleReady(id, this.churnCrashPoint())) moved = true;
      }
      if (this.deliver(this.network.dueCount()) > 0) moved = true;
      if (!moved) return;
    }
  }

  /** `ticks` rounds of: every running node ticks, then the cluster settles. */
  run(ticks: number): void {
    for (let t = 0; t < ticks; t++) {
      this.tickAll();
      if (this.down.size > 0 && this.restartPercentPerTick > 0 && this.random.int(100) < this.restartPercentPerTick) {
        const downIds = this.ids.filter((id) => this.down.has(id));
        this.restart(downIds[this.random.int(downIds.length)] as NodeId);
      }
      this.settle();
    }
  }

  /**
   * Runs until some running node leads a majority that it can reach both ways; returns the
   * ticks taken, or -1.
   */
  awaitStableLeader(ticksMax: number): number {
    for (let t = 0; t <= ticksMax; t++) {
      const leader = this.leader();
      if (leader !== null) {
        const term = leader.node.raft.term;
        const followers = this.running().filter(
          (n) =>
            n.node.raft.lead === leader.id &&
            n.node.raft.term === term &&
            (n.id === leader.id || (!this.network.isCut(leader.id, n.id) && !this.network.isCut(n.id, leader.id))),
        ).length;
        if (followers > this.ids.length / 2) return t;
      }
      this.run(1);
    }
    return -1;
  }

  /**
   * After the faults: heal the network, restart every node, and check that a leader is elected
   * within `electionTicksMax` and that every acknowledged payload ends up applied on every node.
   */
  finish(electionTicksMax: number, convergeTicksMax = 400): { electionTicks: number } {
    this.heal();
    this.setFaults(RELIABLE);
    this.setChurn(0, 0);
    this.setAsyncPersist(0);
    for (const id of this.ids) this.restart(id);
    this.settle();
    const electionTicks = this.awaitStableLeader(electionTicksMax);
    if (electionTicks === -1) {
      throw new SafetyViolation(`liveness: no leader within ${electionTicksMax} ticks after healing\n${this.describe()}`);
    }
    // A barrier entry proposed now: once some barrier is applied everywhere and every node has
    // applied all the leader committed, everything acknowledged must be everywhere. A barrier
    // can itself be lost (its leader deposed before it commits), so propose again now and then.
    const barriers: string[] = [];
    const converged = (): boolean => {
      const leader = this.leader();
      if (leader === null) return false;
      const commit = leader.node.raft.raftLog.committed;
      const nodes = this.running();
      return (
        barriers.some((b) => nodes.every((n) => n.app.payloads.has(b))) &&
        nodes.every((n) => n.app.appliedIndex === commit)
      );
    };
    let t = 0;
    for (; t < convergeTicksMax && !converged(); t++) {
      if (t % 25 === 0) {
        const barrier = this.proposeToLeader();
        if (barrier !== null) barriers.push(barrier);
      }
      this.run(1);
    }
    if (!converged()) {
      throw new SafetyViolation(`liveness: the cluster did not converge on a barrier within ${convergeTicksMax} ticks\n${this.describe()}`);
    }
    for (const n of this.running()) {
      for (const payload of this.acknowledged) {
        if (!n.app.payloads.has(payload)) {
          throw new SafetyViolation(`durability: ${payload} was applied somewhere but is missing on node ${n.id}\n${this.describe()}`);
        }
      }
    }
    return { electionTicks };
  }
}
