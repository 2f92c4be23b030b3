// The caller's handle on one Raft core: the inputs (tick, step, propose, readIndex,
// transferLeadership) and the Ready/advance exchange that hands out everything to persist,
// send and apply. Synchronous and single-threaded, like the core beneath it.

import { validateRaftConfig, type RaftConfig } from './config.js';
import { RaftError, RaftErrorCode, invariant } from './errors.js';
import { Raft } from './raft.js';
import {
  EntryType,
  MessageType,
  isLocalMessage,
  isResponseMessage,
  makeMessage,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type SoftState,
  type StateRole,
} from './types.js';

/** Where a proposal was placed, when it was appended locally (this node leads). */
export interface ProposalPosition {
  readonly index: number;
  readonly term: number;
}

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly recentActive: boolean;
}

export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lead: NodeId;
  readonly role: StateRole;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly leadTransferee: NodeId;
  readonly voters: readonly NodeId[];
  /** Followers' progress; only on the leader. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus> | null;
}

/** What ready() handed out, so advance() can record it as done. */
interface Handed {
  readonly lastEntry: Entry | null;
  readonly snapshotIndex: number;
  readonly committedEntries: readonly Entry[];
  readonly selfMessages: readonly Message[];
}

export class RawNode {
  /** The core itself, exposed for tests and introspection; drive it only through RawNode. */
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private handed: Handed | null = null;

  constructor(config: RaftConfig) {
    validateRaftConfig(config);
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** Advances logical time by one tick (DESIGN: 100 ms by default). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now, as if the election timer had fired. */
  campaign(): void {
    this.raft.step(makeMessage({ type: MessageType.Hup, from: this.raft.id }));
  }

  /**
   * Proposes `data` for the log. On the leader it is appended and its position returned; on a
   * follower it is forwarded (null is returned) or refused, as configured. Throws a RaftError with
   * code RAFT_PROPOSAL_DROPPED (and the reason and known leader in `details`) when not accepted.
   */
  propose(data: Uint8Array): ProposalPosition | null {
    const before = this.raft.raftLog.lastIndex();
    this.raft.step(makeMessage({ type: MessageType.Prop, from: this.raft.id, entries: [{ term: 0, index: 0, type: EntryType.Normal, data }] }));
    const after = this.raft.raftLog.lastIndex();
    if (this.raft.role === 'leader' && after === before + 1) return { index: after, term: this.raft.term };
    return null;
  }

  /**
   * Asks for a linearizable read point. When confirmed, a ReadState with this `context` (which
   * must be unique among pending requests) appears in a later Ready; serve the read once the
   * state machine has applied its index. Throws RAFT_READ_INDEX_DROPPED when it cannot start.
   */
  readIndex(context: Uint8Array): void {
    invariant(context.byteLength > 0, 'readIndex: context must not be empty');
    this.raft.step(makeMessage({ type: MessageType.ReadIndex, context }));
  }

  /** Asks the leader to hand leadership to `transferee` (thesis §3.10). */
  transferLeadership(transferee: NodeId): void {
    this.raft.step(makeMessage({ type: MessageType.TransferLeader, index: transferee }));
  }

  /**
   * As leader with RaftConfig.deferCommitBroadcast: whether a follower holds entries up to a
   * commit index it has not been sent. The host then calls broadcastCommit() a moment later
   * (unless an append carried it meanwhile).
   */
  hasUnsentCommit(): boolean {
    return this.raft.hasUnsentCommit();
  }

  /** Sends the commit index to the followers that hold entries up to it and were not sent it. */
  broadcastCommit(): void {
    this.raft.broadcastCommit();
  }

  /** Reports that the transport could not deliver a message to `id`. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(makeMessage({ type: MessageType.Unreachable, from: id }));
  }

  /**
   * Feeds a message that arrived from a peer. Messages that may only be made locally are
   * refused; responses from non-members are refused; forwarded requests this node cannot take
   * now are dropped (their senders time out and retry, as with a lost message).
   */
  step(m: Message): void {
    if (isLocalMessage(m.type)) {
      throw new RaftError(RaftErrorCode.LocalMessageStepped, `node ${this.raft.id}: message type ${m.type} from ${m.from} may only be local`, {
        node: this.raft.id,
      });
    }
    if (isResponseMessage(m.type) && !this.raft.tracker.isVoter(m.from)) {
      throw new RaftError(RaftErrorCode.UnknownPeer, `node ${this.raft.id}: response from ${m.from}, who is not a voter`, {
        node: this.raft.id,
      });
    }
    try {
      this.raft.step(m);
    } catch (error) {
      if (
        error instanceof RaftError &&
        (error.code === RaftErrorCode.ProposalDropped ||
          error.code === RaftErrorCode.ReadIndexDropped ||
          error.code === RaftErrorCode.TransferDropped)
      ) {
        return;
      }
      throw error;
    }
  }

  hasReady(): boolean {
    const raft = this.raft;
    raft.flush();
    if (raft.hasPendingOutput()) return true;
    const soft = raft.softState();
    if (soft.leader !== this.prevSoftState.leader || soft.role !== this.prevSoftState.role) return true;
    const hard = raft.hardState();
    if (!hardStateEqual(hard, this.prevHardState)) return true;
    const log = raft.raftLog;
    return log.unstable.snapshot !== null || log.unstable.entries.length > 0 || log.hasNextCommittedEntries();
  }

  /**
   * Everything to persist, send and apply now (see `Ready` for the order). Call advance() once
   * it is done; ready() may not be called again before then.
   */
  ready(): Ready {
    invariant(this.handed === null, () => `node ${this.raft.id}: ready() called again before advance()`);
    const raft = this.raft;
    raft.flush();
    const log = raft.raftLog;
    const soft = raft.softState();
    const hard = raft.hardState();
    const softChanged = soft.leader !== this.prevSoftState.leader || soft.role !== this.prevSoftState.role;
    const hardChanged = !hardStateEqual(hard, this.prevHardState);
    const entries = log.unstableEntries();
    const snapshot = log.unstable.snapshot;
    const committedEntries = log.nextCommittedEntries();
    const afterPersist = raft.takeMessagesAfterPersist();
    const selfMessages = afterPersist.filter((m) => m.to === raft.id);
    const mustSync =
      entries.length > 0 || snapshot !== null || hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote;
    const ready: Ready = {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hard : null,
      readStates: raft.takeReadStates(),
      entries,
      snapshot,
      committedEntries,
      messages: raft.takeMessages(),
      messagesAfterPersist: selfMessages.length === 0 ? afterPersist : afterPersist.filter((m) => m.to !== raft.id),
      mustSync,
    };
    if (softChanged) this.prevSoftState = soft;
    if (hardChanged) this.prevHardState = hard;
    this.handed = {
      lastEntry: entries[entries.length - 1] ?? null,
      snapshotIndex: snapshot === null ? 0 : snapshot.metadata.index,
      committedEntries,
      selfMessages,
    };
    return ready;
  }

  /**
   * The last Ready was persisted, its messages sent and its entries applied. Marks them stable
   * and applied, and only now counts this node's own vote and log acknowledgement.
   */
  advance(): void {
    const handed = this.handed;
    invariant(handed !== null, () => `node ${this.raft.id}: advance() without a ready() to finish`);
    this.handed = null;
    const log = this.raft.raftLog;
    if (handed.snapshotIndex > 0) {
      log.stableSnapTo(handed.snapshotIndex);
      log.appliedTo(handed.snapshotIndex);
    }
    if (handed.lastEntry !== null) log.stableTo(handed.lastEntry.index, handed.lastEntry.term);
    const lastApplied = handed.committedEntries[handed.committedEntries.length - 1];
    if (lastApplied !== undefined) {
      log.appliedTo(lastApplied.index);
      this.raft.reduceUncommittedBytes(handed.committedEntries);
    }
    for (const m of handed.selfMessages) this.raft.step(m);
  }

  status(): Status {
    const raft = this.raft;
    let progress: Map<NodeId, ProgressStatus> | null = null;
    if (raft.role === 'leader') {
      progress = new Map();
      for (const [id, pr] of raft.tracker.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive });
      }
    }
    return {
      id: raft.id,
      term: raft.term,
      vote: raft.vote,
      commit: raft.raftLog.committed,
      applied: raft.raftLog.applied,
      lead: raft.lead,
      role: raft.role,
      firstIndex: raft.raftLog.firstIndex(),
      lastIndex: raft.raftLog.lastIndex(),
      leadTransferee: raft.leadTransferee,
      voters: raft.tracker.voters,
      progress,
    };
  }
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
