// The Raft algorithm as a deterministic state machine: every input enters through step() (ticks
// become local messages), every output leaves as messages, entries and state for the caller.
// Section numbers cite Ongaro & Ousterhout's paper (§5) and Ongaro's dissertation (thesis §).

import type { RaftConfig, RaftLogger } from './config.js';
import { RaftError, RaftErrorCode, invariant, type ProposalDroppedReason } from './errors.js';
import { RaftLog } from './log.js';
import type { Progress } from './progress.js';
import type { Random } from './random.js';
import { ReadOnly } from './read-only.js';
import { ProgressTracker } from './tracker.js';
import {
  CAMPAIGN_TRANSFER,
  EMPTY_BYTES,
  EntryType,
  MessageType,
  NONE,
  bytesEqual,
  entryBytes,
  makeMessage,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Snapshot,
  type SnapshotChunk,
  type SnapshotMetadata,
  type SoftState,
  type StateRole,
} from './types.js';
import { payloadBytes } from './util.js';

type StepFunction = (m: Message) => void;
type TickFunction = () => void;

/** A snapshot being received in chunks from one leader in one term. */
interface SnapshotAssembly {
  readonly from: NodeId;
  readonly term: number;
  readonly metadata: SnapshotMetadata;
  readonly totalBytes: number;
  readonly parts: Uint8Array[];
  receivedBytes: number;
}

const silentLogger: RaftLogger = { info() {}, warn() {} };

function localMessage(type: MessageType, from: NodeId): Message {
  return makeMessage({ type, from });
}

export class Raft {
  readonly id: NodeId;
  /** Current term; never decreases. */
  term = 0;
  /** Whom this node voted for in `term` (NONE if nobody). */
  vote: NodeId = NONE;
  readonly raftLog: RaftLog;
  tracker: ProgressTracker;
  role: StateRole = 'follower';
  /** The leader of `term` as far as this node knows. */
  lead: NodeId = NONE;
  /** Thesis §3.10: while not NONE, the leader is handing leadership to this node and takes no proposals. */
  leadTransferee: NodeId = NONE;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  /** Ticks without hearing from a leader before campaigning; in [electionTimeout, 2 * electionTimeout). */
  randomizedElectionTimeout = 0;

  /** Messages the caller may send at once. */
  private msgs: Message[] = [];
  /** Messages that rest on this node's durable state: held until the Ready is persisted. */
  private msgsAfterPersist: Message[] = [];
  private readStates: ReadState[] = [];
  private readonly readOnly: ReadOnly;
  /** Read requests that arrived before the leader committed an entry of its term (thesis §6.4 step 1). */
  private pendingReadIndexMessages: Message[] = [];
  /** Payload bytes appended by this leader and not yet applied; bounded by uncommittedBytesMax. */
  private uncommittedBytes = 0;
  /** Proposals were appended this turn: replicate them once, when the caller asks for a Ready. */
  private proposalsToBroadcast = false;
  /** Read requests were queued this turn: confirm leadership once, with one heartbeat round. */
  private readHeartbeatPending = false;
  private snapshotAssembly: SnapshotAssembly | null = null;
  /** This leader's log up to here awaits persisting; acknowledged to itself after (see selfAcknowledge). */
  private selfAck: { readonly term: number; readonly index: number } | null = null;
  /** The term of the last role change logged, so a role is logged once per term. */
  private loggedTerm = -1;

  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private readonly messageBytesMax: number;
  private readonly inflightMsgsMax: number;
  private readonly inflightBytesMax: number;
  private readonly uncommittedBytesMax: number;
  private readonly snapshotChunkBytesMax: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly proposalForwarding: boolean;
  private readonly deferCommitBroadcast: boolean;
  private readonly random: Random;
  private readonly logger: RaftLogger;

  private stepRole: StepFunction;
  private tickRole: TickFunction;

  constructor(config: RaftConfig) {
    this.id = config.id;
    this.random = config.random;
    this.logger = config.logger ?? silentLogger;
    this.electionTimeout = config.electionTimeoutTicks;
    this.heartbeatTimeout = config.heartbeatIntervalTicks;
    this.messageBytesMax = config.messageBytesMax;
    this.inflightMsgsMax = config.inflightMsgsMax;
    this.inflightBytesMax = config.inflightBytesMax;
    this.uncommittedBytesMax = config.uncommittedBytesMax;
    this.snapshotChunkBytesMax = config.snapshotChunkBytesMax;
    this.preVote = config.preVote;
    this.checkQuorum = config.checkQuorum;
    this.proposalForwarding = config.proposalForwarding;
    this.deferCommitBroadcast = config.deferCommitBroadcast;
    this.readOnly = new ReadOnly(config.readIndexRequestsMax);
    this.raftLog = new RaftLog(config.storage, config.committedBytesPerReadyMax);

    const { hardState, confState } = config.storage.initialState();
    this.tracker = this.newTracker(confState.voters);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    if (config.applied > 0) this.raftLog.appliedTo(config.applied);
    this.stepRole = this.stepFollower;
    this.tickRole = this.tickElection;
    this.becomeFollower(this.term, NONE);
    this.logger.info('raft started', {
      node: this.id,
      term: this.term,
      commit: this.raftLog.committed,
      applied: this.raftLog.applied,
      lastIndex: this.raftLog.lastIndex(),
      voters: this.tracker.voters,
    });
  }

  // ---- state the caller reads ----

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }

  /** Hands over (and forgets) the messages that may be sent at once. */
  takeMessages(): Message[] {
    const msgs = this.msgs;
    this.msgs = [];
    return msgs;
  }

  /**
   * Hands over (and forgets) the messages to send once this node's state is durable, including
   * those addressed to this node itself (its own vote, its leader self-acknowledgement).
   */
  takeMessagesAfterPersist(): Message[] {
    const msgs = this.msgsAfterPersist;
    this.msgsAfterPersist = [];
    const ack = this.selfAck;
    if (ack !== null) {
      this.selfAck = null;
      msgs.push(makeMessage({ type: MessageType.AppResp, to: this.id, from: this.id, term: ack.term, index: ack.index }));
    }
    return msgs;
  }

  takeReadStates(): ReadState[] {
    const states = this.readStates;
    this.readStates = [];
    return states;
  }

  hasPendingOutput(): boolean {
    return (
      this.msgs.length > 0 ||
      this.msgsAfterPersist.length > 0 ||
      this.selfAck !== null ||
      this.readStates.length > 0 ||
      this.proposalsToBroadcast ||
      this.readHeartbeatPending
    );
  }

  // ---- the one door ----

  tick(): void {
    this.tickRole();
  }

  /**
   * Every input goes through here. The term check shared by all roles (Raft §5.1: a higher term
   * makes any node a follower, a lower term is stale) runs once, before any role's logic.
   */
  step(m: Message): void {
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term < this.term && m.term !== 0) {
      this.stepLowerTerm(m);
      return;
    }
    switch (m.type) {
      case MessageType.Hup:
        this.hup(false);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
      default:
        this.stepRole(m);
    }
  }

  /** A message from a later term. Returns false when it is to be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
      const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
      if (!force && inLease) {
        // Thesis §4.2.3: a node that heard from a live leader within the minimum election
        // timeout does not let a candidate (perhaps one just back from a partition) unseat it.
        this.logger.info('vote ignored: leader lease', { node: this.id, term: this.term, candidate: m.from, candidateTerm: m.term });
        return false;
      }
    }
    if (m.type === MessageType.PreVote) {
      // A pre-vote never changes our term (thesis §9.6).
    } else if (m.type === MessageType.PreVoteResp && !m.reject) {
      // A grant carries the term we would campaign in; we move to it only on winning.
    } else if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
      this.becomeFollower(m.term, m.from);
    } else {
      this.becomeFollower(m.term, NONE);
    }
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
      // A leader from an old term (back from a partition) would otherwise never learn of ours:
      // with check-quorum or pre-vote our vote requests might never reach it with a higher term.
      this.send({ to: m.from, type: MessageType.AppResp });
    } else if (m.type === MessageType.PreVote) {
      // Tell a lagging pre-candidate our term, so it does not stay stuck behind it.
      this.send({ to: m.from, term: this.term, type: MessageType.PreVoteResp, reject: true });
    }
  }

  private handleVoteRequest(m: Message): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === MessageType.PreVote && m.term > this.term);
    const responseType = m.type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
    if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
      // Answer with the request's term: a pre-candidate counts grants for the term it would take.
      this.send({ to: m.from, term: m.term, type: responseType });
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ to: m.from, term: this.term, type: responseType, reject: true });
    }
  }

  // ---- roles (Raft §5.2) ----

  becomeFollower(term: number, lead: NodeId): void {
    this.stepRole = this.stepFollower;
    this.reset(term);
    this.tickRole = this.tickElection;
    this.lead = lead;
    this.setRole('follower');
  }

  private becomePreCandidate(): void {
    invariant(this.role !== 'leader', () => `node ${this.id}: invalid transition [leader -> pre-candidate] in term ${this.term}`);
    // Thesis §9.6: no new term and no vote until a pre-election is won.
    this.stepRole = this.stepCandidate;
    this.tracker.resetVotes();
    this.tickRole = this.tickElection;
    this.lead = NONE;
    this.setRole('pre-candidate');
  }

  private becomeCandidate(): void {
    invariant(this.role !== 'leader', () => `node ${this.id}: invalid transition [leader -> candidate] in term ${this.term}`);
    this.stepRole = this.stepCandidate;
    this.reset(this.term + 1);
    this.tickRole = this.tickElection;
    this.vote = this.id;
    this.setRole('candidate');
  }

  private becomeLeader(): void {
    invariant(this.role !== 'follower', () => `node ${this.id}: invalid transition [follower -> leader] in term ${this.term}`);
    this.stepRole = this.stepLeader;
    this.reset(this.term);
    this.tickRole = this.tickHeartbeat;
    this.lead = this.id;
    this.setRole('leader');
    const self = this.progressOf(this.id);
    self.becomeReplicate();
    self.recentActive = true;
    // Raft §5.4.2 and §8: entries of earlier terms commit only together with one of this term,
    // so start the term with an empty entry.
    const appended = this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }]);
    invariant(appended, () => `node ${this.id}: the empty entry of term ${this.term} was refused`);
  }

  private setRole(role: StateRole): void {
    if (this.role !== role || this.loggedTerm !== this.term) {
      this.logger.info(`became ${role}`, { node: this.id, term: this.term, leader: this.lead });
      this.loggedTerm = this.term;
    }
    this.role = role;
  }

  private reset(term: number): void {
    if (this.term !== term) {
      invariant(term > this.term, () => `node ${this.id}: term would go back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + this.random.int(this.electionTimeout);
    this.leadTransferee = NONE;
    this.tracker.resetVotes();
    const lastIndex = this.raftLog.lastIndex();
    for (const [id, pr] of this.tracker.progress) {
      pr.reset(lastIndex + 1);
      if (id === this.id) pr.match = lastIndex;
    }
    this.uncommittedBytes = 0;
    this.readOnly.clear();
    this.pendingReadIndexMessages = [];
    this.proposalsToBroadcast = false;
    this.readHeartbeatPending = false;
    this.snapshotAssembly = null;
    this.selfAck = null;
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(localMessage(MessageType.Hup, this.id));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(localMessage(MessageType.CheckQuorum, this.id));
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.role === 'leader' && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(localMessage(MessageType.Beat, this.id));
    }
  }

  private promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  private hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    if (transfer) this.campaign('election', true);
    else if (this.preVote) this.campaign('pre-election', false);
    else this.campaign('election', false);
  }

  private campaign(kind: 'pre-election' | 'election', transfer: boolean): void {
    let term: number;
    let voteType: MessageType;
    if (kind === 'pre-election') {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1; // Thesis §9.6: ask for the term we would take, without taking it.
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    const responseType = voteType === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.tracker.voters) {
      if (id === this.id) {
        // Our own vote counts only once the vote itself is durable: it comes back through
        // the after-persist outbox (Raft §5.2, thesis §3.8).
        this.send({ to: id, term, type: responseType });
        continue;
      }
      this.send({
        to: id,
        term,
        type: voteType,
        index: lastIndex,
        logTerm: lastTerm,
        context: transfer ? CAMPAIGN_TRANSFER : null,
      });
    }
    this.logger.info('campaign', { node: this.id, term, kind, transfer, lastIndex, lastTerm });
  }

  // ---- the follower ----

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead === NONE) throw this.proposalDropped('no-leader');
        if (!this.proposalForwarding) throw this.proposalDropped('not-leader');
        this.forwardToLeader(m);
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshotChunk(m);
        return;
      case MessageType.TransferLeader:
        if (this.lead === NONE) throw this.transferDropped(m.index, 'there is no leader to ask');
        this.forwardToLeader(m);
        return;
      case MessageType.TimeoutNow:
        // Thesis §3.10: the leader asks us to campaign now; no pre-vote, we know it stepped aside.
        this.logger.info('timeout-now: campaigning for transfer', { node: this.id, term: this.term, from: m.from });
        this.hup(true);
        return;
      case MessageType.ReadIndex:
        if (this.lead === NONE) throw this.readIndexDropped('there is no leader to ask');
        this.forwardToLeader(m);
        return;
      case MessageType.ReadIndexResp:
        invariant(m.context !== null, () => `node ${this.id}: ReadIndexResp from ${m.from} without context`);
        this.readStates.push({ index: m.index, context: m.context });
        return;
    }
  }

  /** Passes a request on to the leader; send() gives it our id and the right term. */
  private forwardToLeader(m: Message): void {
    this.send({ type: m.type, to: this.lead, entries: m.entries, index: m.index, context: m.context });
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      this.send({ to: m.from, type: MessageType.AppResp, index: this.raftLog.committed });
      return;
    }
    const lastNewIndex = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNewIndex !== -1) {
      this.send({ to: m.from, type: MessageType.AppResp, index: lastNewIndex });
      return;
    }
    // Raft §5.3: reject, with a hint that lets the leader skip a whole term of entries at once.
    const hint = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm);
    this.send({
      to: m.from,
      type: MessageType.AppResp,
      index: m.index,
      reject: true,
      rejectHint: hint.index,
      logTerm: hint.term,
    });
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.send({ to: m.from, type: MessageType.HeartbeatResp, context: m.context });
  }

  /** Thesis §5.2, Figure 5.3: a snapshot arrives in chunks, each at the offset the last one ended. */
  private handleSnapshotChunk(m: Message): void {
    const chunk = m.snapshot;
    invariant(chunk !== null, () => `node ${this.id}: Snap from ${m.from} without a chunk`);
    const metadata = chunk.metadata;
    if (metadata.index <= this.raftLog.committed) {
      // We already hold everything this snapshot covers.
      this.snapshotAssembly = null;
      this.send({ to: m.from, type: MessageType.AppResp, index: this.raftLog.committed });
      return;
    }
    let assembly = this.snapshotAssembly;
    if (assembly === null || !this.sameSnapshot(assembly, m, chunk)) {
      if (chunk.offset !== 0) {
        this.sendSnapshotAck(m.from, metadata, 0);
        return;
      }
      assembly = { from: m.from, term: m.term, metadata, totalBytes: chunk.totalBytes, parts: [], receivedBytes: 0 };
      this.snapshotAssembly = assembly;
    }
    if (chunk.offset !== assembly.receivedBytes || chunk.offset + chunk.data.byteLength > assembly.totalBytes) {
      this.sendSnapshotAck(m.from, metadata, assembly.receivedBytes);
      return;
    }
    assembly.parts.push(chunk.data);
    assembly.receivedBytes += chunk.data.byteLength;
    if (assembly.receivedBytes < assembly.totalBytes) {
      this.sendSnapshotAck(m.from, metadata, assembly.receivedBytes);
      return;
    }
    this.snapshotAssembly = null;
    this.handleSnapshot(m.from, { metadata, data: concatBytes(assembly.parts, assembly.totalBytes) });
  }

  private sameSnapshot(assembly: SnapshotAssembly, m: Message, chunk: SnapshotChunk): boolean {
    return (
      assembly.from === m.from &&
      assembly.term === m.term &&
      assembly.metadata.index === chunk.metadata.index &&
      assembly.metadata.term === chunk.metadata.term &&
      assembly.totalBytes === chunk.totalBytes
    );
  }

  private sendSnapshotAck(to: NodeId, metadata: SnapshotMetadata, receivedBytes: number): void {
    this.send({
      to,
      type: MessageType.SnapResp,
      snapshot: { metadata, offset: receivedBytes, totalBytes: 0, data: EMPTY_BYTES },
    });
  }

  private handleSnapshot(from: NodeId, snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    if (this.restore(snapshot)) {
      this.logger.info('restored snapshot', { node: this.id, term: this.term, index, snapshotTerm: term });
      this.send({ to: from, type: MessageType.AppResp, index: this.raftLog.lastIndex() });
    } else {
      this.send({ to: from, type: MessageType.AppResp, index: this.raftLog.committed });
    }
  }

  /** Replaces the log with `snapshot` unless it is already covered. Returns whether it did. */
  private restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.raftLog.committed) return false;
    invariant(this.role === 'follower', () => `node ${this.id}: restoring a snapshot as ${this.role} in term ${this.term}`);
    if (!confState.voters.includes(this.id)) {
      this.logger.warn('snapshot ignored: this node is not among its voters', { node: this.id, index, voters: confState.voters });
      return false;
    }
    if (this.raftLog.matchTerm(index, term)) {
      // Our log already has the snapshot's last entry, so by log matching everything before it:
      // just commit up to it (Raft §7, "the follower retains entries following it").
      this.raftLog.commitTo(index);
      return false;
    }
    this.raftLog.restore(snapshot);
    this.tracker = this.newTracker(confState.voters);
    return true;
  }

  // ---- the candidate ----

  private stepCandidate(m: Message): void {
    const myResponseType = this.role === 'pre-candidate' ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Prop:
        throw this.proposalDropped('no-leader');
      case MessageType.ReadIndex:
        throw this.readIndexDropped('an election is under way');
      case MessageType.TransferLeader:
        throw this.transferDropped(m.index, 'an election is under way');
      case MessageType.App:
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshotChunk(m);
        return;
      case myResponseType: {
        this.tracker.recordVote(m.from, !m.reject);
        const { granted, rejected, result } = this.tracker.tallyVotes();
        if (result === 'won') {
          if (this.role === 'pre-candidate') {
            this.campaign('election', false);
          } else {
            this.becomeLeader();
            this.bcastAppend(true);
          }
        } else if (result === 'lost') {
          // A lost pre-election leaves the term as it was.
          this.logger.info('election lost', { node: this.id, term: this.term, granted, rejected });
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
    }
  }

  // ---- the leader ----

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.bcastHeartbeat(this.readOnly.lastPendingContext());
        return;
      case MessageType.CheckQuorum:
        if (!this.tracker.quorumActive(this.id)) {
          this.logger.warn('stepping down: no quorum heard within an election timeout', { node: this.id, term: this.term });
          this.becomeFollower(this.term, NONE);
        }
        for (const [id, pr] of this.tracker.progress) pr.recentActive = id === this.id;
        return;
      case MessageType.Prop:
        this.handleProposal(m);
        return;
      case MessageType.ReadIndex:
        this.handleReadIndex(m);
        return;
      case MessageType.TransferLeader:
        // The target travels in `index`: `from` is NONE for a local request, or the follower
        // that forwarded it.
        this.handleTransferLeader(m.index);
        return;
    }
    const pr = this.tracker.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case MessageType.AppResp:
        pr.recentActive = true;
        if (m.reject) this.handleAppendRejected(m, pr);
        else this.handleAppendAccepted(m, pr);
        return;
      case MessageType.HeartbeatResp:
        this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.SnapResp:
        this.handleSnapshotAck(m, pr);
        return;
      case MessageType.Unreachable:
        // The transport failed to deliver: stop pipelining until the follower answers again.
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
    }
  }

  private handleProposal(m: Message): void {
    invariant(m.entries.length > 0, () => `node ${this.id}: empty proposal from ${m.from}`);
    if (!this.tracker.isVoter(this.id)) throw this.proposalDropped('not-a-voter');
    if (this.leadTransferee !== NONE) throw this.proposalDropped('transfer-in-progress');
    if (!this.appendEntries(m.entries)) throw this.proposalDropped('uncommitted-bytes-max');
    // Replicate once per turn, not once per proposal (STYLE: drain, then act).
    this.proposalsToBroadcast = true;
  }

  /** Appends entries of this term. Returns false, changing nothing, when the uncommitted cap is reached. */
  private appendEntries(proposed: readonly Entry[]): boolean {
    const size = payloadBytes(proposed);
    if (this.uncommittedBytes > 0 && size > 0 && this.uncommittedBytes + size > this.uncommittedBytesMax) return false;
    const after = this.raftLog.lastIndex();
    const entries: Entry[] = new Array(proposed.length);
    for (let i = 0; i < proposed.length; i++) {
      const e = proposed[i] as Entry;
      entries[i] = { term: this.term, index: after + 1 + i, type: e.type, data: e.data };
    }
    this.uncommittedBytes += size;
    const lastIndex = this.raftLog.append(entries);
    this.selfAcknowledge(lastIndex);
    return true;
  }

  /**
   * The leader counts its own copy only once it is durable (thesis §10.2.1): an acknowledgement
   * to itself, released with the after-persist outbox. Appends of one turn share one.
   */
  private selfAcknowledge(lastIndex: number): void {
    this.selfAck = { term: this.term, index: lastIndex };
  }

  private handleAppendRejected(m: Message, pr: Progress): void {
    let probeIndex = m.rejectHint;
    if (m.logTerm > 0) probeIndex = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, probeIndex)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      this.maybeSendAppend(m.from, true);
    }
  }

  private handleAppendAccepted(m: Message, pr: Progress): void {
    const wasPaused = pr.isPaused();
    // A probe answered at exactly the known match also proves where the follower stands.
    const confirmsProbe = pr.state === 'probe' && pr.match === m.index;
    if (!pr.maybeUpdate(m.index) && !confirmsProbe) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.raftLog.firstIndex()) {
      // The follower holds the snapshot (or got past it): resume with entries.
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      // Deferred: the commit index rides on the next append or heartbeat, or broadcastCommit().
      if (!this.deferCommitBroadcast) this.bcastAppend(true);
    } else if (m.from !== this.id && wasPaused) {
      this.maybeSendAppend(m.from, true);
    }
    if (m.from !== this.id) {
      // Flow control may now allow several messages at once (probe -> replicate, freed inflights).
      while (this.maybeSendAppend(m.from, false));
      if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
        this.logger.info('transfer target caught up: sending TimeoutNow', { node: this.id, term: this.term, to: m.from });
        this.send({ to: m.from, type: MessageType.TimeoutNow });
      }
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.state === 'snapshot') {
      // A chunk unanswered across two heartbeat rounds is taken as lost: one of those heartbeats
      // left after it, so on an ordered link its acknowledgement would have come back first.
      if (pr.snapshotChunkInFlight && ++pr.snapshotHeartbeatsWaited >= 2) pr.snapshotChunkInFlight = false;
      this.sendSnapshotChunk(m.from, pr);
    } else if (pr.match < this.raftLog.lastIndex()) {
      this.maybeSendAppend(m.from, true);
    }
    if (m.context === null || m.context.byteLength === 0) return;
    const acks = this.readOnly.recordAck(m.from, m.context);
    if (acks === null || !this.tracker.isQuorum(acks)) return;
    for (const status of this.readOnly.advance(m.context)) this.answerReadIndex(status.request, status.index);
  }

  private handleSnapshotAck(m: Message, pr: Progress): void {
    const chunk = m.snapshot;
    invariant(chunk !== null, () => `node ${this.id}: SnapResp from ${m.from} without a chunk`);
    if (pr.state !== 'snapshot' || chunk.metadata.index !== pr.pendingSnapshot) return;
    pr.recentActive = true;
    // A repeat of the acknowledgement already acted on (the chunk after it is in flight).
    if (pr.snapshotChunkInFlight && chunk.offset === pr.snapshotBytesAcked) return;
    // Otherwise go on from where the follower is, forward, or back when it lost what it had.
    pr.snapshotBytesAcked = chunk.offset;
    pr.snapshotChunkInFlight = false;
    this.sendSnapshotChunk(m.from, pr);
  }

  private handleTransferLeader(transferee: NodeId): void {
    const pr = this.tracker.get(transferee);
    if (pr === undefined) throw this.transferDropped(transferee, 'it is not a voter');
    if (this.leadTransferee !== NONE) {
      if (this.leadTransferee === transferee) return; // already under way
      this.abortLeaderTransfer();
    }
    if (transferee === this.id) return; // already leader
    this.logger.info('transferring leadership', { node: this.id, term: this.term, to: transferee, match: pr.match });
    // The transfer must finish within an election timeout or it is abandoned.
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.raftLog.lastIndex()) this.send({ to: transferee, type: MessageType.TimeoutNow });
    else this.maybeSendAppend(transferee, true);
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  private maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.tracker.committed(), this.term);
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  /**
   * As leader: a follower known to hold entries up to a commit index it was not sent yet (the
   * commit broadcast was deferred, see RaftConfig.deferCommitBroadcast).
   */
  hasUnsentCommit(): boolean {
    if (this.role !== 'leader') return false;
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      const pr = this.progressOf(id);
      if (pr.commitSent < Math.min(pr.match, this.raftLog.committed) && !pr.isPaused()) return true;
    }
    return false;
  }

  /** As leader: sends the commit index to every follower that holds entries up to it and was not sent it. */
  broadcastCommit(): void {
    if (this.role !== 'leader') return;
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      const pr = this.progressOf(id);
      if (pr.commitSent < Math.min(pr.match, this.raftLog.committed)) this.maybeSendAppend(id, true);
    }
  }

  /** Replicates to every follower; with `sendIfEmpty`, also to those with nothing new (to carry commit). */
  private bcastAppend(sendIfEmpty: boolean): void {
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      if (sendIfEmpty) {
        this.maybeSendAppend(id, true);
        while (this.maybeSendAppend(id, false));
      } else {
        while (this.maybeSendAppend(id, false));
      }
    }
  }

  /**
   * Sends `to` the entries it needs next, or a snapshot chunk when they were compacted. Returns
   * whether anything was sent; nothing is sent while the follower's flow control is paused.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progressOf(to);
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    invariant(prevIndex <= this.raftLog.lastIndex(), () => `node ${this.id}: next ${pr.next} of ${to} beyond last index ${this.raftLog.lastIndex()}`);
    const prevTerm = this.raftLog.maybeTerm(prevIndex);
    if (prevTerm === -1) return this.startSnapshot(to, pr);
    const entries = this.raftLog.entriesFrom(pr.next, this.messageBytesMax);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({ to, type: MessageType.App, index: prevIndex, logTerm: prevTerm, entries, commit: this.raftLog.committed });
    pr.commitSent = Math.max(pr.commitSent, this.raftLog.committed);
    const last = entries[entries.length - 1];
    if (last !== undefined) {
      if (pr.state === 'replicate') {
        pr.optimisticUpdate(last.index);
        let bytes = 0;
        for (const entry of entries) bytes += entryBytes(entry);
        pr.inflights.add(last.index, bytes);
      } else {
        pr.probeSent = true;
      }
    }
    return true;
  }

  private startSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false; // Do not stream a snapshot to a follower that may be down.
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (error) {
      if (error instanceof RaftError && error.code === RaftErrorCode.SnapshotTemporarilyUnavailable) return false;
      throw error;
    }
    invariant(snapshot.metadata.index > 0, () => `node ${this.id}: log compacted but no snapshot to send ${to}`);
    this.logger.info('sending snapshot', { node: this.id, term: this.term, to, index: snapshot.metadata.index, bytes: snapshot.data.byteLength });
    pr.becomeSnapshot(snapshot.metadata.index);
    this.sendSnapshotChunk(to, pr);
    return true;
  }

  /** Sends the next chunk of the snapshot `pr` is receiving, one chunk in flight at a time. */
  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    if (pr.snapshotChunkInFlight) return;
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (error) {
      if (error instanceof RaftError && error.code === RaftErrorCode.SnapshotTemporarilyUnavailable) return;
      throw error;
    }
    if (snapshot.metadata.index !== pr.pendingSnapshot) {
      // Storage moved to a newer snapshot meanwhile: send that one from the start.
      pr.becomeSnapshot(snapshot.metadata.index);
    }
    const total = snapshot.data.byteLength;
    const offset = pr.snapshotBytesAcked;
    // A follower holding all of it answers with AppResp, never with a chunk acknowledgement.
    invariant(offset < total || total === 0, () => `node ${this.id}: ${to} acknowledged ${offset} of a ${total}-byte snapshot`);
    const end = Math.min(total, offset + this.snapshotChunkBytesMax);
    this.send({
      to,
      type: MessageType.Snap,
      snapshot: { metadata: snapshot.metadata, offset, totalBytes: total, data: snapshot.data.subarray(offset, end) },
    });
    pr.snapshotChunkInFlight = true;
    pr.snapshotHeartbeatsWaited = 0;
  }

  private bcastHeartbeat(context: Uint8Array | null): void {
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      const pr = this.progressOf(id);
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr.match, this.raftLog.committed);
      this.send({ to: id, type: MessageType.Heartbeat, commit, context });
      pr.commitSent = Math.max(pr.commitSent, commit);
    }
  }

  // ---- linearizable reads (thesis §6.4) ----

  private handleReadIndex(m: Message): void {
    invariant(m.context !== null, () => `node ${this.id}: ReadIndex from ${m.from} without context`);
    if (this.readOnly.size() + this.pendingReadIndexMessages.length >= this.readOnly.requestsMax) {
      throw this.readIndexDropped(`${this.readOnly.requestsMax} reads are already waiting (readIndexRequestsMax)`);
    }
    // Step 1: the leader must have committed an entry of its own term, so that its commit
    // index is at least that of any earlier leader.
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.queueReadIndex(m);
  }

  private queueReadIndex(m: Message): void {
    const context = m.context as Uint8Array;
    if (this.tracker.isSingleton()) {
      this.answerReadIndex(m, this.raftLog.committed);
      return;
    }
    // Steps 2-3: record the commit index, then confirm leadership with one heartbeat round,
    // sent once for all the reads of this turn.
    this.readOnly.add(this.raftLog.committed, m, context);
    this.readOnly.recordAck(this.id, context);
    this.readHeartbeatPending = true;
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.queueReadIndex(m);
  }

  private answerReadIndex(request: Message, index: number): void {
    const context = request.context as Uint8Array;
    if (request.from === NONE || request.from === this.id) {
      this.readStates.push({ index, context });
    } else {
      this.send({ to: request.from, type: MessageType.ReadIndexResp, index, context });
    }
  }

  // ---- plumbing ----

  /**
   * Acts once on what this turn's steps queued: replicates new proposals, and sends the heartbeat
   * round that confirms pending reads. Called before a Ready is built.
   */
  flush(): void {
    if (this.proposalsToBroadcast) {
      this.proposalsToBroadcast = false;
      if (this.role === 'leader') this.bcastAppend(false);
    }
    if (this.readHeartbeatPending) {
      this.readHeartbeatPending = false;
      if (this.role === 'leader') this.bcastHeartbeat(this.readOnly.lastPendingContext());
    }
  }

  /** Entries that a Ready handed out for applying were applied: release their uncommitted budget. */
  reduceUncommittedBytes(applied: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    const size = payloadBytes(applied);
    this.uncommittedBytes = size > this.uncommittedBytes ? 0 : this.uncommittedBytes - size;
  }

  private send(fields: Partial<Message> & Pick<Message, 'type' | 'to'>): void {
    const type = fields.type;
    let term = fields.term ?? 0;
    if (
      type === MessageType.Vote ||
      type === MessageType.VoteResp ||
      type === MessageType.PreVote ||
      type === MessageType.PreVoteResp
    ) {
      invariant(term !== 0, () => `node ${this.id}: ${type} sent without a term`);
    } else {
      invariant(term === 0, () => `node ${this.id}: message type ${type} sent with explicit term ${term}`);
      // Proposals and read requests are forwarded without a term: they are valid in any term.
      if (type !== MessageType.Prop && type !== MessageType.ReadIndex) term = this.term;
    }
    const m = makeMessage(fields, this.id, term);
    if (type === MessageType.AppResp || type === MessageType.VoteResp || type === MessageType.PreVoteResp) {
      this.msgsAfterPersist.push(m);
    } else {
      invariant(m.to !== this.id, () => `node ${this.id}: message type ${type} addressed to itself`);
      this.msgs.push(m);
    }
  }

  private loadState(hardState: HardState): void {
    const committed = this.raftLog.committed;
    const lastIndex = this.raftLog.lastIndex();
    invariant(
      hardState.commit >= committed && hardState.commit <= lastIndex,
      () => `node ${this.id}: hard state commit ${hardState.commit} outside [${committed}, ${lastIndex}]`,
    );
    this.raftLog.committed = hardState.commit;
    this.term = hardState.term;
    this.vote = hardState.vote;
  }

  private newTracker(voters: readonly NodeId[]): ProgressTracker {
    return new ProgressTracker({ voters }, this.raftLog.lastIndex() + 1, this.inflightMsgsMax, this.inflightBytesMax);
  }

  private progressOf(id: NodeId): Progress {
    const pr = this.tracker.get(id);
    invariant(pr !== undefined, () => `node ${this.id}: no progress for ${id}`);
    return pr;
  }

  private proposalDropped(reason: ProposalDroppedReason): RaftError {
    const leader = this.lead;
    const why: Record<ProposalDroppedReason, string> = {
      'no-leader': 'there is no leader',
      'not-leader': `this node is not the leader (leader is ${leader}) and forwarding is off`,
      'transfer-in-progress': `leadership is being transferred to ${this.leadTransferee}`,
      'uncommitted-bytes-max': `more than uncommittedBytesMax (${this.uncommittedBytesMax}) bytes are not yet applied`,
      'not-a-voter': 'this node is not a voter',
    };
    return new RaftError(RaftErrorCode.ProposalDropped, `proposal dropped on node ${this.id} in term ${this.term}: ${why[reason]}`, {
      node: this.id,
      term: this.term,
      leader,
      reason,
    });
  }

  private readIndexDropped(why: string): RaftError {
    return new RaftError(RaftErrorCode.ReadIndexDropped, `read index dropped on node ${this.id} in term ${this.term}: ${why}`, {
      node: this.id,
      term: this.term,
      leader: this.lead,
    });
  }

  private transferDropped(to: NodeId, why: string): RaftError {
    return new RaftError(
      RaftErrorCode.TransferDropped,
      `transfer of leadership to ${to} dropped on node ${this.id} in term ${this.term}: ${why}`,
      { node: this.id, term: this.term, leader: this.lead },
    );
  }
}

function concatBytes(parts: readonly Uint8Array[], totalBytes: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(totalBytes);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
