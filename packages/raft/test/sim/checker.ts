// Raft's safety properties (Raft paper Figure 3), checked by the simulator after every step:
// election safety, leader append-only, log matching, leader completeness, state machine safety.

import type { Entry, NodeId } from '../../src/index.js';
import type { TestNode } from '../support/test-node.js';

export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation';
}

const decoder = new TextDecoder();

interface Leadership {
  lastIndex: number;
  termAtLast: number;
}

interface Recorded {
  readonly term: number;
  readonly data: string;
}

export class SafetyChecker {
  /** Election safety: at most one leader per term. */
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Per `${id}:${term}` leadership: its log end when last seen, for append-only. */
  private readonly leaderships = new Map<string, Leadership>();
  /** Log matching: every (index, term) ever in any log has one payload and one preceding term. */
  private readonly entryAt = new Map<string, { data: string; prevTerm: number }>();
  /** Entries known committed (in some log at or below its commit index). */
  readonly committed = new Map<number, Recorded>();
  /** The highest committed index registered from each node's log. */
  private readonly commitSeen = new Map<NodeId, number>();
  /** State machine safety: the entry applied at each index, and the state machine digest after it. */
  private readonly appliedAt = new Map<number, Recorded>();
  private readonly digestAt = new Map<number, number>();
  checks = 0;
  leadersElected = 0;

  private fail(message: string): never {
    throw new SafetyViolation(message);
  }

  /** Registers the entries a node hands out to persist (its log gains them). Log matching. */
  onEntries(node: TestNode, entries: readonly Entry[]): void {
    const log = node.node.raft.raftLog;
    for (const e of entries) {
      const key = `${e.index}:${e.term}`;
      const data = decoder.decode(e.data);
      const prevTerm = log.maybeTerm(e.index - 1);
      const seen = this.entryAt.get(key);
      if (seen === undefined) {
        this.entryAt.set(key, { data, prevTerm });
        continue;
      }
      if (seen.data !== data) {
        this.fail(`log matching: entry ${key} on node ${node.id} holds ${JSON.stringify(data)}, elsewhere ${JSON.stringify(seen.data)}`);
      }
      if (seen.prevTerm !== -1 && prevTerm !== -1 && seen.prevTerm !== prevTerm) {
        this.fail(`log matching: entry ${key} on node ${node.id} follows term ${prevTerm}, elsewhere term ${seen.prevTerm}`);
      }
    }
  }

  /** State machine safety: what a node applied at each index is what every node applied there. */
  onApplied(node: TestNode, entries: readonly Entry[]): void {
    for (const e of entries) {
      const data = decoder.decode(e.data);
      const seen = this.appliedAt.get(e.index);
      if (seen === undefined) this.appliedAt.set(e.index, { term: e.term, data });
      else if (seen.term !== e.term || seen.data !== data) {
        this.fail(
          `state machine safety: node ${node.id} applied ${e.index}:${e.term} ${JSON.stringify(data)}, another applied ${e.index}:${seen.term} ${JSON.stringify(seen.data)}`,
        );
      }
    }
    this.checkDigest(node);
  }

  /** After a snapshot restore or an apply, the state machine must equal every other's at that index. */
  checkDigest(node: TestNode): void {
    const { appliedIndex, digest } = node.app;
    if (appliedIndex === 0) return;
    const seen = this.digestAt.get(appliedIndex);
    if (seen === undefined) this.digestAt.set(appliedIndex, digest);
    else if (seen !== digest) {
      this.fail(`state machine safety: node ${node.id} state at index ${appliedIndex} differs from another node's`);
    }
  }

  /** A node restarted: its in-memory commit index may be lower than before. */
  onRestart(node: TestNode): void {
    this.commitSeen.set(node.id, Math.min(this.commitSeen.get(node.id) ?? 0, node.node.raft.raftLog.committed));
  }

  /** Checks one running node after a step. */
  checkNode(node: TestNode, runningLeaders: readonly TestNode[]): void {
    this.checks++;
    const raft = node.node.raft;
    if (raft.role === 'leader') this.checkLeader(node);
    const log = raft.raftLog;
    const committed = log.committed;
    const seen = this.commitSeen.get(node.id) ?? 0;
    if (committed < seen) this.fail(`commit index of node ${node.id} went back from ${seen} to ${committed}`);
    const from = Math.max(seen + 1, log.firstIndex());
    if (from <= committed) {
      const entries = log.slice(from, committed + 1, Number.MAX_SAFE_INTEGER);
      for (const e of entries) this.registerCommitted(node, e, runningLeaders);
    }
    this.commitSeen.set(node.id, committed);
  }

  private registerCommitted(node: TestNode, e: Entry, runningLeaders: readonly TestNode[]): void {
    const data = decoder.decode(e.data);
    const seen = this.committed.get(e.index);
    if (seen === undefined) {
      this.committed.set(e.index, { term: e.term, data });
      // Leader completeness, checked as soon as an entry is known committed: every current
      // leader of a later term must hold it.
      for (const leader of runningLeaders) {
        const raft = leader.node.raft;
        if (raft.term > e.term) this.requireHolds(leader, e.index, e.term, 'a leader of a later term');
      }
    } else if (seen.term !== e.term || seen.data !== data) {
      this.fail(
        `committed entries differ at index ${e.index}: node ${node.id} has ${e.term} ${JSON.stringify(data)}, another committed ${seen.term} ${JSON.stringify(seen.data)}`,
      );
    }
  }

  private checkLeader(node: TestNode): void {
    const raft = node.node.raft;
    const holder = this.leaderOfTerm.get(raft.term);
    if (holder !== undefined && holder !== node.id) {
      this.fail(`election safety: nodes ${holder} and ${node.id} are both leaders of term ${raft.term}`);
    }
    const key = `${node.id}:${raft.term}`;
    const log = raft.raftLog;
    const lastIndex = log.lastIndex();
    const leadership = this.leaderships.get(key);
    if (leadership === undefined) {
      this.leaderOfTerm.set(raft.term, node.id);
      this.leadersElected++;
      // Leader completeness at election: every entry known committed is in the log of a new
      // leader of a later term (Raft §5.4). A leader of an older term may lack it: late vote
      // answers (delayed or duplicated) can still elect a node of term 1 after term 2 committed,
      // and such a leader commits nothing, since a quorum of its voters has moved on.
      for (const [index, c] of this.committed) if (raft.term > c.term) this.requireHolds(node, index, c.term, 'a new leader');
      this.leaderships.set(key, { lastIndex, termAtLast: log.lastTerm() });
      return;
    }
    // Leader append-only: its log only grows, and what was there stays.
    if (lastIndex < leadership.lastIndex) {
      this.fail(`leader append-only: leader ${node.id} of term ${raft.term} log shrank from ${leadership.lastIndex} to ${lastIndex}`);
    }
    const term = log.maybeTerm(leadership.lastIndex);
    if (term !== -1 && term !== leadership.termAtLast) {
      this.fail(`leader append-only: leader ${node.id} of term ${raft.term} rewrote index ${leadership.lastIndex} (term ${leadership.termAtLast} -> ${term})`);
    }
    leadership.lastIndex = lastIndex;
    leadership.termAtLast = log.lastTerm();
  }

  private requireHolds(leader: TestNode, index: number, term: number, who: string): void {
    const log = leader.node.raft.raftLog;
    if (index < log.firstIndex()) return; // covered by its snapshot
    const held = log.maybeTerm(index);
    if (held !== term) {
      this.fail(
        `leader completeness: ${who}, node ${leader.id} in term ${leader.node.raft.term}, has term ${held} at index ${index} where term ${term} was committed`,
      );
    }
  }
}
