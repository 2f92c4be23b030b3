// One master: the Raft core, its LevelDB storage, the peer transport and the state machine,
// driven by one loop. Socket callbacks and timers only enqueue; each loop turn steps everything
// queued, then handles one Ready in DESIGN's order: send, persist (one synced batch), send what
// waited for the disk, apply, advance (house rules 5 and 10).

import { randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import {
  NONE,
  RaftError,
  invariant,
  RaftErrorCode,
  RawNode,
  seededRandom,
  type Entry,
  type Message,
  type NodeId,
  type RaftLogger,
  type Ready,
} from '@raftplane/raft';
import { RaftStorage, StorageErrorCode, isStorageError } from '@raftplane/storage';
import { Transport, type PeerStatus } from '@raftplane/transport';
import { Level } from 'level';
import type { Logger } from 'pino';
import { masterById, type ClusterConfig, type MasterConfig } from './config.js';
import { MasterError, MasterErrorCode } from './errors.js';
import type { Command, SnapshotJob } from './state-machine.js';
import { TestStateMachine } from './test-state-machine.js';

export interface MasterOptions {
  readonly config: ClusterConfig;
  readonly id: NodeId;
  readonly logger: Logger;
}

/** Where an applied proposal landed. */
export interface Applied {
  readonly index: number;
  readonly term: number;
}

interface PendingProposal {
  readonly data: Uint8Array;
  readonly deadline: number;
  readonly resolve: (applied: Applied) => void;
  readonly reject: (error: Error) => void;
}

/** A proposal the leader appended: it is settled when its index is applied. */
interface AppendedProposal extends PendingProposal {
  readonly index: number;
  readonly term: number;
}

export interface MasterStatus {
  readonly id: NodeId;
  readonly cluster: string;
  readonly role: string;
  readonly term: number;
  readonly leader: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly digest: number;
  readonly peers: readonly PeerReport[];
  readonly storage: { readonly syncedBatches: number; readonly entriesWritten: number; readonly bytesWritten: number };
  readonly proposalsWaiting: number;
  /** What /readyz answers. */
  readonly ready: boolean;
  readonly uptimeMs: number;
}

export interface PeerReport {
  readonly id: NodeId;
  /** Known only on the leader. */
  readonly match: number | null;
  readonly next: number | null;
  readonly state: string | null;
  readonly connected: boolean;
  readonly lastContactMs: number | null;
}

/** A loop turn running longer than this means the master is wedged (/livez fails). */
const TURN_MS_MAX = 10_000;
/** A loop turn longer than this is logged with where its time went. */
const SLOW_TURN_MS = 50;

export class Master {
  readonly id: NodeId;
  readonly config: ClusterConfig;
  readonly self: MasterConfig;
  private readonly log: Logger;
  private readonly db: Level<string, any>;
  private readonly storage: RaftStorage;
  readonly stateMachine: TestStateMachine;
  private readonly node: RawNode;
  private transport: Transport | null = null;
  private readonly transportAbort = new AbortController();
  private readonly startedAt = Date.now();

  private inbox: Message[] = [];
  private readonly unreachable = new Set<NodeId>();
  private ticksPending = 0;
  private proposalsQueued: PendingProposal[] = [];
  /** Appended by this master as leader and not yet applied, by log index (so in proposal order). */
  private readonly waiting = new Map<number, AppendedProposal>();

  private tickTimer: NodeJS.Timeout | null = null;
  private loopScheduled = false;
  private loopRunning: Promise<void> | null = null;
  private turnStartedAt = 0;
  /** The commit index seen when the current leader became known; MAX while none is known. */
  private catchUpIndex = Number.MAX_SAFE_INTEGER;
  /** A snapshot being built off the loop, and one built and waiting to be recorded. */
  private snapshotJob: SnapshotJob | null = null;
  private snapshotBuilt: { readonly index: number; readonly data: Uint8Array; readonly startedAt: number } | null = null;
  private stopping = false;
  private fatalError: Error | null = null;
  private readonly onFatal: (error: Error) => void;

  private constructor(
    options: MasterOptions,
    db: Level<string, any>,
    storage: RaftStorage,
    stateMachine: TestStateMachine,
    onFatal: (error: Error) => void,
  ) {
    this.id = options.id;
    this.config = options.config;
    this.self = masterById(options.config, options.id);
    this.log = options.logger;
    this.db = db;
    this.storage = storage;
    this.stateMachine = stateMachine;
    this.onFatal = onFatal;
    const { tickMs: _tickMs, ...raftSettings } = this.config.raft;
    const raftLogger: RaftLogger = {
      info: (event, fields) => this.log.info(fields, event),
      warn: (event, fields) => this.log.warn(fields, event),
    };
    this.node = new RawNode({
      ...raftSettings,
      id: this.id,
      storage,
      random: seededRandom(randomInt(0, 2 ** 31)),
      applied: stateMachine.appliedIndex,
      // Followers refuse proposals naming the leader; the HTTP layer forwards the request there,
      // so that every proposal is appended where its index and term are known.
      proposalForwarding: false,
      logger: raftLogger,
    });
  }

  /**
   * Opens the data directory (refusing to start on corrupt state), joins the peers and starts the
   * loop. `onFatal` is told of an error the master cannot continue after (the process should exit:
   * it restarts from durable state).
   */
  static async start(options: MasterOptions, onFatal: (error: Error) => void): Promise<Master> {
    const self = masterById(options.config, options.id);
    const dataDir = isAbsolute(self.dataDir) ? self.dataDir : resolve(self.dataDir);
    await mkdir(dataDir, { recursive: true });
    const db = new Level<string, any>(dataDir, { valueEncoding: 'view' });
    await db.open();
    try {
      const voters = options.config.masters.map((m) => m.id).sort((a, b) => a - b);
      const storage = await RaftStorage.open({ db, dataDir, bootstrapConfState: { voters } });
      const stateMachine = await TestStateMachine.open(db);
      const master = new Master(options, db, storage, stateMachine, onFatal);
      await master.startTransport();
      master.tickTimer = setInterval(() => {
        master.ticksPending++;
        master.expireProposals();
        master.kick();
      }, options.config.raft.tickMs);
      const status = master.node.status();
      options.logger.info(
        { dataDir, term: status.term, commit: status.commit, applied: stateMachine.appliedIndex, lastIndex: status.lastIndex, voters },
        'master started',
      );
      master.kick();
      return master;
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  private async startTransport(): Promise<void> {
    const transport = this.config.transport;
    this.transport = await Transport.start({
      self: { id: this.id, host: this.self.peer.host, port: this.self.peer.port },
      peers: this.config.masters
        .filter((m) => m.id !== this.id)
        .map((m) => ({ id: m.id, host: m.peer.host, port: m.peer.port })),
      clusterName: this.config.name,
      secret: this.config.secret,
      queueBytesMax: transport.queueBytesMax,
      frameBytesMax: transport.frameBytesMax,
      reconnectDelayMsMin: transport.reconnectDelayMsMin,
      reconnectDelayMsMax: transport.reconnectDelayMsMax,
      idleTimeoutMs: transport.idleTimeoutMs,
      random: Math.random,
      onMessages: (messages) => {
        for (const m of messages) this.inbox.push(m);
        this.kick();
      },
      onUnreachable: (peer) => {
        this.unreachable.add(peer);
        this.kick();
      },
      logger: this.log,
      signal: this.transportAbort.signal,
    });
  }

  // ---- the loop ----

  private kick(): void {
    if (this.loopScheduled || this.loopRunning !== null || this.fatalError !== null) return;
    this.loopScheduled = true;
    setImmediate(() => {
      this.loopScheduled = false;
      this.loopRunning = this.runLoop().finally(() => {
        this.loopRunning = null;
        if (this.hasInput()) this.kick();
      });
    });
  }

  private hasInput(): boolean {
    return (
      this.inbox.length > 0 || this.ticksPending > 0 || this.proposalsQueued.length > 0 || this.unreachable.size > 0 || this.snapshotBuilt !== null
    );
  }

  private async runLoop(): Promise<void> {
    try {
      while (this.fatalError === null && (this.hasInput() || this.node.hasReady())) {
        this.turnStartedAt = Date.now();
        await this.turn();
        this.turnStartedAt = 0;
      }
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /** One turn: take in everything queued, then handle at most one Ready. */
  private async turn(): Promise<void> {
    const started = performance.now();
    const inbox = this.inbox;
    this.inbox = [];
    for (const m of inbox) this.stepPeerMessage(m);
    for (const peer of this.unreachable) this.node.reportUnreachable(peer);
    this.unreachable.clear();
    const ticks = this.ticksPending;
    for (; this.ticksPending > 0; this.ticksPending--) this.node.tick();
    this.proposeQueued();
    const stepped = performance.now();
    let ready: Ready | null = null;
    if (this.node.hasReady()) {
      ready = this.node.ready();
      await this.handleReady(ready);
      this.node.advance();
    }
    const handled = performance.now();
    await this.maybeSnapshot();
    const done = performance.now();
    if (done - started > SLOW_TURN_MS) {
      // A slow turn delays heartbeats: say where the time went.
      this.log.warn(
        {
          turnMs: Math.round(done - started),
          stepMs: Math.round(stepped - started),
          readyMs: Math.round(handled - stepped),
          snapshotMs: Math.round(done - handled),
          messagesStepped: inbox.length,
          ticks,
          entries: ready?.entries.length ?? 0,
          committed: ready?.committedEntries.length ?? 0,
        },
        'slow loop turn',
      );
    }
  }

  private stepPeerMessage(m: Message): void {
    try {
      this.node.step(m);
    } catch (error) {
      if (error instanceof RaftError && (error.code === RaftErrorCode.UnknownPeer || error.code === RaftErrorCode.LocalMessageStepped)) {
        this.log.warn({ from: m.from, type: m.type, code: error.code }, `message refused: ${error.message}`);
        return;
      }
      throw error;
    }
  }

  /**
   * Proposals are made only on the leader, where the core says where each one lands; a follower
   * refuses with the leader's id and the HTTP layer forwards the request there (DESIGN).
   */
  private proposeQueued(): void {
    const queued = this.proposalsQueued;
    this.proposalsQueued = [];
    const now = Date.now();
    for (const p of queued) {
      if (p.deadline <= now) {
        p.reject(this.timeoutError());
        continue;
      }
      try {
        const position = this.node.propose(p.data);
        invariant(position !== null, `master ${this.id}: a proposal was forwarded although forwarding is off`);
        this.waiting.set(position.index, { ...p, index: position.index, term: position.term });
      } catch (error) {
        if (!(error instanceof RaftError)) throw error;
        p.reject(error);
      }
    }
  }

  /** DESIGN's order for one Ready (house rule 5). */
  private async handleReady(ready: Ready): Promise<void> {
    const transport = this.transport as Transport;
    if (ready.softState !== null) this.onRoleChange(ready.softState.role, ready.softState.leader);
    transport.send(ready.messages);
    // One batch; fsync'd unless only the commit index moved (a lost commit index is learnt again).
    await this.storage.persist({ snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState, mustSync: ready.mustSync });
    transport.send(ready.messagesAfterPersist);
    if (ready.snapshot !== null) {
      await this.stateMachine.restore(ready.snapshot);
      this.log.info({ index: ready.snapshot.metadata.index, bytes: ready.snapshot.data.byteLength }, 'restored snapshot from the leader');
    }
    if (ready.committedEntries.length > 0) await this.apply(ready.committedEntries);
  }

  private async apply(entries: readonly Entry[]): Promise<void> {
    const commands: Command[] = entries.map((e) => ({ index: e.index, term: e.term, payload: e.data.byteLength === 0 ? null : e.data }));
    await this.stateMachine.apply(commands);
    for (const entry of entries) {
      const p = this.waiting.get(entry.index);
      if (p === undefined) continue;
      this.waiting.delete(entry.index);
      if (entry.term === p.term) {
        p.resolve({ index: entry.index, term: entry.term });
      } else {
        // Another leader's entry took this index: ours was never committed and never will be.
        p.reject(
          new MasterError(MasterErrorCode.ProposalLost, `master ${this.id}: the leader changed before the proposal at ${p.index} (term ${p.term}) committed; it was not applied`, {
            leader: this.node.raft.lead,
          }),
        );
      }
    }
  }

  /**
   * Snapshots are built off the loop (the state machine captures its state, then encodes it while
   * the loop goes on) and recorded in storage by a later turn, since storage writes stay serialized
   * with persist.
   */
  private async maybeSnapshot(): Promise<void> {
    const built = this.snapshotBuilt;
    if (built !== null) {
      this.snapshotBuilt = null;
      await this.recordSnapshot(built.index, built.data, built.startedAt);
      return;
    }
    if (this.snapshotJob !== null) return;
    const snapshotIndex = this.storage.snapshot().metadata.index;
    if (this.stateMachine.appliedIndex - snapshotIndex < this.config.snapshot.entriesMax) return;
    const job = this.stateMachine.beginSnapshot();
    const startedAt = performance.now();
    this.snapshotJob = job;
    job.data.then(
      (data) => {
        this.snapshotJob = null;
        this.snapshotBuilt = { index: job.index, data, startedAt };
        this.kick();
      },
      (error: unknown) => this.fail(error as Error),
    );
  }

  private async recordSnapshot(index: number, data: Uint8Array, startedAt: number): Promise<void> {
    const builtMs = performance.now() - startedAt;
    const voters = [...this.node.status().voters];
    try {
      await this.storage.createSnapshot(index, { voters }, data, this.config.snapshot.catchUpEntries);
    } catch (error) {
      // A newer snapshot arrived from the leader meanwhile: this one is of no use.
      if (isStorageError(error, StorageErrorCode.SnapshotOutOfDate)) return;
      throw error;
    }
    this.log.info(
      { index, bytes: data.byteLength, firstIndex: this.storage.firstIndex(), builtMs: Math.round(builtMs), recordMs: Math.round(performance.now() - startedAt - builtMs) },
      'snapshot taken, log compacted',
    );
  }

  private onRoleChange(role: string, leader: NodeId): void {
    this.log.info({ role, leader }, leader === NONE ? `now ${role}, no leader known` : `now ${role}, leader is ${leader}`);
    // Readiness: catch up to the commit index seen on learning of this leader (see isReady()).
    this.catchUpIndex = leader === NONE ? Number.MAX_SAFE_INTEGER : this.node.raft.raftLog.committed;
  }

  private fail(error: Error): void {
    if (this.fatalError !== null) return;
    this.fatalError = error;
    this.log.fatal({ err: error }, 'master cannot continue');
    this.onFatal(error);
  }

  // ---- proposals ----

  /**
   * Proposes `data` and resolves once it is applied on this master. Rejects with a RaftError
   * (RAFT_PROPOSAL_DROPPED: no leader, or too much uncommitted) or a MasterError (stopping,
   * overloaded, timed out: a timed-out proposal may still take effect).
   */
  propose(data: Uint8Array): Promise<Applied> {
    if (this.stopping) return Promise.reject(new MasterError(MasterErrorCode.Stopping, `master ${this.id} is shutting down`));
    if (this.proposalsQueued.length + this.waiting.size >= this.config.api.pendingProposalsMax) {
      return Promise.reject(
        new MasterError(MasterErrorCode.Overloaded, `master ${this.id}: ${this.config.api.pendingProposalsMax} proposals are already waiting (api.pendingProposalsMax)`),
      );
    }
    return new Promise<Applied>((resolvePromise, rejectPromise) => {
      this.proposalsQueued.push({
        data,
        deadline: Date.now() + this.config.api.proposalTimeoutMs,
        resolve: resolvePromise,
        reject: rejectPromise,
      });
      this.kick();
    });
  }

  /** Fails proposals past their deadline; `waiting` is in index order, so the oldest come first. */
  private expireProposals(): void {
    const now = Date.now();
    for (const [index, p] of this.waiting) {
      if (p.deadline > now) break;
      this.waiting.delete(index);
      p.reject(this.timeoutError());
    }
  }

  private timeoutError(): MasterError {
    return new MasterError(
      MasterErrorCode.ProposalTimeout,
      `master ${this.id}: proposal not applied within ${this.config.api.proposalTimeoutMs} ms; it may still take effect`,
      { leader: this.node.raft.lead },
    );
  }

  // ---- what others ask ----

  status(): MasterStatus {
    const s = this.node.status();
    const peers = this.transport?.status() ?? new Map<number, PeerStatus>();
    return {
      id: this.id,
      cluster: this.config.name,
      role: s.role,
      term: s.term,
      leader: s.lead,
      commit: s.commit,
      applied: this.stateMachine.appliedIndex,
      firstIndex: s.firstIndex,
      lastIndex: s.lastIndex,
      snapshotIndex: this.storage.snapshot().metadata.index,
      digest: this.stateMachine.digest,
      peers: this.config.masters
        .filter((m) => m.id !== this.id)
        .map((m) => {
          const progress = s.progress?.get(m.id);
          const peer = peers.get(m.id);
          return {
            id: m.id,
            match: progress?.match ?? null,
            next: progress?.next ?? null,
            state: progress?.state ?? null,
            connected: peer?.connected ?? false,
            lastContactMs: peer?.lastContactMs ?? null,
          };
        }),
      storage: { ...this.storage.stats },
      proposalsWaiting: this.proposalsQueued.length + this.waiting.size,
      ready: this.isReady(),
      uptimeMs: Date.now() - this.startedAt,
    };
  }

  /** The Raft position that every log line carries. */
  logPosition(): { term: number; index: number } {
    return { term: this.node.raft.term, index: this.node.raft.raftLog.committed };
  }

  /**
   * Ready to serve: a leader is known, and this master has applied everything that was committed
   * when it learnt of that leader. (Not "applied >= commit" at every moment: under load a commit
   * runs ahead of its apply for a turn, and readiness must not flicker.)
   */
  isReady(): boolean {
    return !this.stopping && this.node.raft.lead !== NONE && this.stateMachine.appliedIndex >= this.catchUpIndex;
  }

  /** Alive: not failed, and no loop turn stuck for long. */
  isLive(): boolean {
    return this.fatalError === null && (this.turnStartedAt === 0 || Date.now() - this.turnStartedAt < TURN_MS_MAX);
  }

  // ---- shutdown ----

  /**
   * Stops cleanly: takes no new proposals, hands leadership to the most up-to-date connected
   * follower (so that writes see no gap), finishes the turn in flight, then closes peers and
   * storage. Proposals still waiting are rejected (they may yet take effect).
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info({}, 'stopping');
    if (this.fatalError === null) await this.handOverLeadership();
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.tickTimer = null;
    while (this.loopRunning !== null || this.loopScheduled) await (this.loopRunning ?? new Promise((r) => setImmediate(r)));
    // A snapshot still being built reads the database: let it finish before closing it.
    await this.snapshotJob?.data.catch(() => undefined);
    const stopped = new MasterError(MasterErrorCode.Stopping, `master ${this.id} stopped before the proposal was applied; it may still take effect`);
    for (const p of this.proposalsQueued) p.reject(stopped);
    for (const p of this.waiting.values()) p.reject(stopped);
    this.proposalsQueued = [];
    this.waiting.clear();
    this.transportAbort.abort(new Error('master stopping'));
    await this.transport?.close();
    await this.storage.close();
    await this.db.close();
    this.log.info({}, 'stopped');
  }

  private async handOverLeadership(): Promise<void> {
    const s = this.node.status();
    if (s.role !== 'leader' || s.progress === null) return;
    const peers = this.transport?.status();
    let best: { id: NodeId; match: number } | null = null;
    for (const [id, pr] of s.progress) {
      if (id === this.id || peers?.get(id)?.connected !== true) continue;
      if (best === null || pr.match > best.match) best = { id, match: pr.match };
    }
    if (best === null) return;
    this.log.info({ to: best.id, match: best.match }, 'handing leadership over before stopping');
    try {
      this.node.transferLeadership(best.id);
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      return;
    }
    this.kick();
    const waitMs = 2 * this.config.raft.electionTimeoutTicks * this.config.raft.tickMs;
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && this.node.raft.role === 'leader') await new Promise((r) => setTimeout(r, this.config.raft.tickMs / 4));
    const after = this.node.status();
    this.log.info({ role: after.role, leader: after.lead }, after.role === 'leader' ? 'leadership not handed over in time' : 'leadership handed over');
  }
}
