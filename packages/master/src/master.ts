// One master: the Raft core, its LevelDB storage, the peer transport and the KV store with its
// watch hub, driven by one loop. Socket callbacks and timers only enqueue; each loop turn steps
// everything queued, then handles one Ready in DESIGN's order: send, persist (one sync: a record
// in the Raft journal), send what waited for the disk, apply, advance (house rules 5 and 10).
// While it leads, it also expires leases and compacts history (rule 5).

import { createHash, randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import {
  EMPTY_BYTES,
  NONE,
  RaftError,
  RaftErrorCode,
  RawNode,
  invariant,
  seededRandom,
  type Entry,
  type Message,
  type NodeId,
  type RaftLogger,
  type Ready,
} from '@raftplane/raft';
import {
  KvStore,
  Lessor,
  WatchHub,
  decodeKvCommand,
  encodeKvCommand,
  grantTtlSeconds,
  minLeaseTtlSeconds,
  validateKvOperation,
  type KvCommand,
  type KvOperation,
  type KvResult,
  type LeaseId,
} from '@raftplane/kv';
import { RaftStorage, StorageError, StorageErrorCode, isStorageError } from '@raftplane/storage';
import { Transport, type PeerStatus } from '@raftplane/transport';
import { Level } from 'level';
import type { Logger } from 'pino';
import { CommitBroadcastClock } from './commit-broadcast.js';
import { masterById, type ClusterConfig, type MasterConfig } from './config.js';
import type { EtcdHeader, MaintenanceStatus, Member } from './etcd/service.js';
import { MasterError, MasterErrorCode } from './errors.js';
import { ProposalTracker } from './proposals.js';
import { ReadBarrier } from './read-barrier.js';
import type { Command, SnapshotJob } from './state-machine.js';

export interface MasterOptions {
  readonly config: ClusterConfig;
  readonly id: NodeId;
  readonly logger: Logger;
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
  /** The KV store's current and compacted revisions. */
  readonly revision: number;
  readonly compactedRevision: number;
  readonly peers: readonly PeerReport[];
  readonly storage: { readonly syncedBatches: number; readonly entriesWritten: number; readonly bytesWritten: number };
  readonly proposalsWaiting: number;
  readonly readsWaiting: number;
  readonly watchers: number;
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

/** The Raft journal (RaftStorage journalDir) inside the data directory, next to LevelDB's files. */
const RAFT_JOURNAL_DIR = 'raft-journal';
/** A loop turn running longer than this means the master is wedged (/livez fails). */
const TURN_MS_MAX = 10_000;
/** A loop turn longer than this is logged with where its time went. */
const SLOW_TURN_MS = 50;
/** Applied batches that may wait for the disk at once (KvStore.applyAhead) before the loop waits for them. */
const BATCHES_IN_FLIGHT_MAX = 4;
/**
 * With deferCommitBroadcast, how long after an idle turn the leader sends followers a commit
 * index no append has carried yet. Under load the next append carries it well before (and each
 * follower is spared one message and one turn per commit); idle, followers apply within it.
 */
const COMMIT_BROADCAST_DELAY_MS = 1;
/** Lease revokes the leader proposes per tick at most (etcd rate-limits revokes the same way). */
const REVOKES_PER_TICK_MAX = 100;
/** What /v3/maintenance/status reports as the server version: etcd's API level, our build. */
const ETCD_API_VERSION = '3.4.0';

/** The master's LevelDB: each sublevel picks its own encodings, hence `any` values at the top. */
type Db = Level<string, any>;

export class Master {
  readonly id: NodeId;
  readonly config: ClusterConfig;
  readonly self: MasterConfig;
  readonly kv: KvStore;
  readonly watchHub: WatchHub;
  readonly lessor: Lessor;
  /** etcd's cluster id: a hash of the cluster name, the same on every master. */
  readonly clusterId: bigint;
  private readonly log: Logger;
  private readonly db: Db;
  private readonly storage: RaftStorage;
  private readonly node: RawNode;
  private transport: Transport | null = null;
  private readonly background = new AbortController();
  private readonly startedAt = Date.now();

  private inbox: Message[] = [];
  private readonly unreachable = new Set<NodeId>();
  private ticksPending = 0;
  private readonly proposals: ProposalTracker<KvResult | null>;
  private readonly reads: ReadBarrier;
  /** Lease revokes this leader has proposed and not yet seen applied. */
  private readonly revoking = new Set<LeaseId>();
  private lastCompactionCheckMs = 0;

  private tickTimer: NodeJS.Timeout | null = null;
  /** Set while a deferred commit broadcast is scheduled (COMMIT_BROADCAST_DELAY_MS). */
  private commitBroadcastTimer: NodeJS.Timeout | null = null;
  private commitBroadcastDue = false;
  private readonly commitBroadcastClock = new CommitBroadcastClock(COMMIT_BROADCAST_DELAY_MS);
  private loopScheduled = false;
  private loopRunning: Promise<void> | null = null;
  /** A loop is running (set before its first turn starts, cleared after its last ends). */
  private loopActive = false;
  private turnStartedAt = 0;
  /** The commit index seen when the current leader became known; MAX while none is known. */
  private catchUpIndex = Number.MAX_SAFE_INTEGER;
  /** A snapshot being built off the loop, and one built and waiting to be recorded. */
  private snapshotJob: SnapshotJob | null = null;
  private snapshotBuilt: { readonly index: number; readonly data: Uint8Array; readonly startedAt: number } | null = null;
  private stopping = false;
  private fatalError: Error | null = null;
  /** Aborted when this master's leadership ends; null while it does not lead (or its term's first entry is not applied yet). */
  private leadership: AbortController | null = null;
  private readonly leadershipListeners: ((signal: AbortSignal) => void)[] = [];
  private readonly onFatal: (error: Error) => void;

  private constructor(options: MasterOptions, db: Db, storage: RaftStorage, kv: KvStore, onFatal: (error: Error) => void) {
    this.id = options.id;
    this.config = options.config;
    this.self = masterById(options.config, options.id);
    this.log = options.logger;
    this.db = db;
    this.storage = storage;
    this.kv = kv;
    this.onFatal = onFatal;
    this.clusterId = createHash('sha256').update(options.config.name).digest().readBigUInt64BE(0);
    const api = this.config.api;
    this.proposals = new ProposalTracker(this.id, api.pendingProposalsMax, api.proposalTimeoutMs);
    this.reads = new ReadBarrier(api.pendingReadsMax, api.proposalTimeoutMs, randomInt(1, 2 ** 31));
    this.lessor = new Lessor({ now: Date.now, minTtlSeconds: this.minimumLeaseTtl() });
    const watch = this.config.watch;
    this.watchHub = new WatchHub({
      source: kv,
      eventsQueuedMax: watch.eventsQueuedMax,
      historyPageRevisions: watch.historyPageRevisions,
      progressIntervalMs: watch.progressIntervalMs,
      watchersMax: watch.watchersMax,
      // Its own coarse timer: the hub retries refused sends and sends progress notifications.
      tickMs: this.config.raft.tickMs,
      now: Date.now,
      signal: this.background.signal,
    });
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
      applied: kv.appliedIndex,
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
    const db: Db = new Level(dataDir, { valueEncoding: 'view' });
    await db.open();
    let opened: RaftStorage | null = null;
    try {
      const voters = options.config.masters.map((m) => m.id).sort((a, b) => a - b);
      const storage = await RaftStorage.open({ db, dataDir, bootstrapConfState: { voters }, journalDir: join(dataDir, RAFT_JOURNAL_DIR) });
      opened = storage;
      const recovery = storage.journalRecovery;
      if (recovery !== null && recovery.tornTail !== null) {
        options.logger.warn({ dataDir, segment: recovery.tornTail.segment, offset: recovery.tornTail.offset }, 'raft journal: dropped a torn last write (never acknowledged)');
      }
      if (recovery !== null && recovery.recordsCopied > 0) options.logger.info({ dataDir, records: recovery.recordsCopied }, 'raft journal: replayed records into LevelDB');
      const kvSettings = options.config.kv;
      const kv = await KvStore.open({
        db,
        sessionTtlMs: kvSettings.sessionTtlMs,
        sessionsMax: kvSettings.sessionsMax,
        txnOpsMax: kvSettings.txnOpsMax,
        leaseTtlMaxSeconds: kvSettings.leaseTtlMaxSeconds,
      });
      const stored = storage.snapshotMetadata();
      if (storage.needsSnapshotData()) {
        // Our own snapshots keep their data in the store itself (maybeSnapshot): it must be there.
        if (kv.appliedIndex < stored.index) {
          const what = `the KV store is at applied index ${kv.appliedIndex}, behind the snapshot at ${stored.index} whose data it must hold`;
          throw new StorageError(StorageErrorCode.Corrupt, dataDir, what, { record: 'snapshot record', index: stored.index });
        }
      } else if (stored.index > kv.appliedIndex) {
        // A snapshot from the leader is persisted (storage) before the store restores it; a crash
        // in between leaves the store behind a log that now starts after the snapshot. Restore it
        // here, before Raft hands out the entries that follow it.
        options.logger.warn({ dataDir, snapshotIndex: stored.index, applied: kv.appliedIndex }, 'restoring the snapshot persisted before a crash');
        await kv.restore(storage.snapshot());
      }
      // Commit-only changes are not written (storage: PersistUpdate.mustSync): the store's applied
      // index, which only committed entries reach, may be past the commit index on disk.
      storage.learnCommit(kv.appliedIndex);
      const master = new Master(options, db, storage, kv, onFatal);
      await master.startTransport();
      master.tickTimer = setInterval(() => master.onTick(), options.config.raft.tickMs);
      const status = master.node.status();
      options.logger.info(
        { dataDir, term: status.term, commit: status.commit, applied: kv.appliedIndex, revision: kv.currentRevision(), lastIndex: status.lastIndex, voters },
        'master started',
      );
      master.kick();
      return master;
    } catch (error) {
      // The storage's journal has background work (the next segment being prepared) to end first.
      await opened?.close().catch(() => undefined);
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
        .map((m) => {
          const address = masterById(this.config, this.id).dialVia.get(m.id) ?? m.peer;
          return { id: m.id, host: address.host, port: address.port };
        }),
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
      signal: this.background.signal,
    });
  }

  /** The coarse timer: one Raft tick, plus every deadline and leader-only duty. */
  private onTick(): void {
    const now = Date.now();
    this.ticksPending++;
    this.proposals.expire(now, this.node.raft.lead);
    this.reads.expire(now);
    this.kick();
  }

  // ---- the loop ----

  private kick(): void {
    if (this.loopScheduled || this.loopActive || this.fatalError !== null) return;
    this.loopScheduled = true;
    setImmediate(() => {
      this.loopScheduled = false;
      // Active before runLoop() starts: a turn may call kick() before runLoop() has returned its
      // promise (a leader duty proposing), and must not start a second loop beside this one.
      this.loopActive = true;
      this.loopRunning = this.runLoop().finally(() => {
        this.loopActive = false;
        this.loopRunning = null;
        if (this.hasInput()) this.kick();
        else this.scheduleCommitBroadcast();
      });
    });
  }

  /** The loop went idle with a commit index some follower was not sent: send it a moment later (CommitBroadcastClock). */
  private scheduleCommitBroadcast(): void {
    if (this.stopping || this.fatalError !== null || !this.node.hasUnsentCommit()) return;
    this.commitBroadcastClock.idle(this.node.raft.raftLog.committed, performance.now());
    if (this.commitBroadcastTimer === null) this.armCommitBroadcast(this.commitBroadcastClock.delayMs);
  }

  private armCommitBroadcast(delayMs: number): void {
    this.commitBroadcastTimer = setTimeout(() => {
      this.commitBroadcastTimer = null;
      if (this.stopping || !this.node.hasUnsentCommit()) return;
      const remainingMs = this.commitBroadcastClock.remainingMs(performance.now());
      if (remainingMs > 0) {
        // A newer commit index came meanwhile: its own moment is not up yet.
        this.armCommitBroadcast(remainingMs);
        return;
      }
      this.commitBroadcastDue = true;
      this.kick();
    }, delayMs);
  }

  private hasInput(): boolean {
    return (
      this.commitBroadcastDue ||
      this.inbox.length > 0 ||
      this.ticksPending > 0 ||
      this.proposals.hasQueued() ||
      this.reads.hasArriving() ||
      this.unreachable.size > 0 ||
      this.snapshotBuilt !== null
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
    if (this.commitBroadcastDue) {
      this.commitBroadcastDue = false;
      this.node.broadcastCommit();
    }
    const ticks = this.ticksPending;
    for (; this.ticksPending > 0; this.ticksPending--) this.node.tick();
    if (ticks > 0) this.leaderDuties();
    const now = Date.now();
    this.proposals.proposeQueued(now, this.proposeToRaft);
    this.reads.ask(this.askReadIndex);
    const stepped = performance.now();
    let ready: Ready | null = null;
    if (this.node.hasReady()) {
      ready = this.node.ready();
      await this.handleReady(ready);
      this.node.advance();
    }
    const handled = performance.now();
    this.updateLeadership();
    if (this.snapshotWorkDue()) await this.maybeSnapshot();
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

  // Made once, not per turn: a turn runs for every message, tick and proposal.
  private readonly proposeToRaft = (data: Uint8Array): { readonly index: number; readonly term: number } => {
    const position = this.node.propose(data);
    invariant(position !== null, `master ${this.id}: a proposal was forwarded although forwarding is off`);
    return position;
  };

  private readonly askReadIndex = (context: Uint8Array): void => this.node.readIndex(context);

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

  /** DESIGN's order for one Ready (house rule 5). */
  private async handleReady(ready: Ready): Promise<void> {
    const transport = this.transport as Transport;
    if (ready.softState !== null) this.onRoleChange(ready.softState.role, ready.softState.leader);
    // Written now, before this master's own fsync: its followers persist meanwhile (Raft §10.2.1).
    transport.send(ready.messages);
    transport.flushNow();
    // One sync (a journal record); a change of the commit index alone is only held in memory by the storage
    // (a lost commit index is learnt again: storage.learnCommit at startup, and from the leader).
    const persisted = this.storage.persist({ snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState, mustSync: ready.mustSync });
    persisted.catch(() => undefined); // awaited below: a failure must not count as unhandled meanwhile
    // Committed entries are durable on a quorum whatever this master's own persist: a leader counts
    // its own copy only once its fsync is done (Raft: selfAcknowledge), and a follower learns the
    // commit index from its leader. So they may be applied while the persist runs, even those that
    // this very Ready appends (one append can carry entries and a commit index that covers them).
    // A journal record is written within persist() itself (one O_DSYNC write on this thread), so
    // the apply mostly follows it; it overlaps a persist that waits (a journal segment still being
    // prepared, or a LevelDB batch). Their answers and their batch wait for the persist (apply's
    // writeAfter): a crash never leaves the store applied past the log on disk.
    // A Ready that installs a snapshot has no committed entries (the log hands out none before it).
    invariant(ready.snapshot === null || ready.committedEntries.length === 0, `master ${this.id}: a Ready with a snapshot also has committed entries`);
    // What waited for the disk (a follower's acknowledgement, a vote) goes out as soon as the
    // persist is done, and before the apply when it is done already (a journal record is, within a
    // few microtasks): a follower's Ready often carries the entry it must acknowledge and the
    // commit index of the one before, and the leader's commit waits for the acknowledgement, not
    // for this apply (sequential puts: 2% more of them). A persist still running after this turn
    // of the event loop is overlapped by the apply, as above.
    if (ready.messagesAfterPersist.length > 0) {
      const sent = persisted.then(() => {
        transport.send(ready.messagesAfterPersist);
        transport.flushNow();
      });
      sent.catch(() => undefined); // the failure is persisted's, thrown below
      await Promise.race([sent, new Promise<void>((r) => setImmediate(r))]);
    }
    if (ready.committedEntries.length > 0) await this.apply(ready.committedEntries, persisted);
    await persisted;
    if (ready.snapshot !== null) {
      await this.kv.restore(ready.snapshot);
      // A restore publishes no events: the hub sends its watchers back to history for the gap.
      this.watchHub.resync();
      this.log.info({ index: ready.snapshot.metadata.index, bytes: ready.snapshot.data.byteLength, revision: this.kv.currentRevision() }, 'restored snapshot from the leader');
      if (this.lessor.isPrimary()) this.lessor.promote(this.kv.leases(), 0);
    }
    for (const rs of ready.readStates) this.reads.confirmed(rs.context, rs.index);
    this.reads.applied(this.kv.appliedIndex);
  }

  /**
   * Applies committed entries in memory, then answers their proposals once `writeAfter` (the Raft
   * write of their Ready) is done; the store writes their batch behind it (see
   * KvStore.applyAhead), and reads wait for that batch through the read barrier.
   */
  private async apply(entries: readonly Entry[], writeAfter: Promise<unknown>): Promise<void> {
    // The disk must keep up: past this many batches queued, wait for them.
    if (this.kv.batchesInFlight() >= BATCHES_IN_FLIGHT_MAX) await this.kv.settled();
    const commands: Command[] = entries.map((e) => ({ index: e.index, term: e.term, payload: e.data.byteLength === 0 ? null : e.data }));
    const { results, written } = await this.kv.applyAhead(commands, writeAfter);
    written.then(
      () => this.reads.applied(this.kv.appliedIndex),
      (error: unknown) => this.fail(error as Error),
    );
    // The answers wait for the Ready's Raft write (when it fails, this master stops unanswered), as
    // they did when the apply came after it: an answered write is then visible on this master one
    // unsynced store write later, not a whole fsync later.
    await writeAfter;
    const leader = this.node.raft.lead;
    entries.forEach((entry, i) => {
      const result = results[i] ?? null;
      this.proposals.applied(entry.index, entry.term, result, leader);
      if (this.lessor.isPrimary() && entry.data.byteLength > 0) this.trackLeases(entry.data, result);
    });
  }

  /** Keeps the leader's lessor in step with lease grants and revokes as they are applied. */
  private trackLeases(data: Uint8Array, result: KvResult | null): void {
    if (result === null || !result.ok) return;
    const { operation } = decodeKvCommand(data);
    if ('leaseGrant' in operation) this.lessor.granted(operation.leaseGrant.id, operation.leaseGrant.ttl);
    else if ('leaseRevoke' in operation) {
      this.lessor.revoked(operation.leaseRevoke.id);
      this.revoking.delete(operation.leaseRevoke.id);
    }
  }

  /** Whether maybeSnapshot() has anything to do: checked first, so that most turns await nothing for it. */
  private snapshotWorkDue(): boolean {
    if (this.snapshotBuilt !== null) return true;
    if (this.snapshotJob !== null) return false;
    if (this.storage.snapshotDataWanted()) return true;
    return this.kv.appliedIndex - this.storage.snapshotMetadata().index >= this.config.snapshot.entriesMax;
  }

  /**
   * Log compaction, as etcd does it: this master's own snapshot is its store, durable in the same
   * LevelDB, so taking one writes only a small record (storage: dataInStateMachine) and compacts
   * the log; nothing is copied. The data Raft streams to a follower that fell behind the log is
   * built only when Raft asks for it (storage.snapshotDataWanted: the store captures its state,
   * then encodes it while the loop goes on) and handed to the storage by a later turn, in memory.
   * While this leader streams a snapshot to a follower that answers, it compacts nothing until the
   * log is twice the usual length (etcd: "skip compaction since there is an inflight snapshot"),
   * so that the snapshot stays of use to the follower receiving it.
   */
  private async maybeSnapshot(): Promise<void> {
    const built = this.snapshotBuilt;
    if (built !== null) {
      this.snapshotBuilt = null;
      const voters = [...this.node.status().voters];
      const adopted = this.storage.adoptSnapshotData(built.index, { voters }, built.data);
      this.log.info(
        { index: built.index, bytes: built.data.byteLength, builtMs: Math.round(performance.now() - built.startedAt), adopted },
        adopted ? 'snapshot data built for a follower' : 'snapshot data built, but the log was compacted past it meanwhile: built again when asked',
      );
      return;
    }
    if (this.snapshotJob !== null) return;
    if (this.storage.snapshotDataWanted()) {
      await this.kv.settled();
      const job = this.kv.beginSnapshot();
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
      return;
    }
    const behind = this.kv.appliedIndex - this.storage.snapshotMetadata().index;
    const { entriesMax } = this.config.snapshot;
    // A stream holds compaction off for at most another entriesMax entries: the log stays bounded.
    if (behind < entriesMax || (behind < 2 * entriesMax && this.streamingSnapshot())) return;
    // The store's batches up to the applied index are in the database before the synced batch
    // that records the snapshot (which makes them durable with it).
    await this.kv.settled();
    await this.recordSnapshot(this.kv.appliedIndex);
  }

  /**
   * Whether this master leads and streams a snapshot to a follower that answers: one gone quiet
   * (recentActive lapses within an election timeout under checkQuorum) holds nothing off.
   */
  private streamingSnapshot(): boolean {
    if (this.node.raft.role !== 'leader') return false;
    for (const pr of this.node.status().progress?.values() ?? []) if (pr.state === 'snapshot' && pr.recentActive) return true;
    return false;
  }

  private async recordSnapshot(index: number): Promise<void> {
    const startedAt = performance.now();
    const voters = [...this.node.status().voters];
    try {
      await this.storage.createSnapshot(index, { voters }, EMPTY_BYTES, this.config.snapshot.catchUpEntries, { dataInStateMachine: true });
    } catch (error) {
      // A newer snapshot arrived from the leader meanwhile: this one is of no use.
      if (isStorageError(error, StorageErrorCode.SnapshotOutOfDate)) return;
      throw error;
    }
    this.log.info({ index, firstIndex: this.storage.firstIndex(), recordMs: Math.round(performance.now() - startedAt) }, 'snapshot taken, log compacted');
  }

  /**
   * Leader-only components start once this master leads and has applied an entry of its own term
   * (its no-op: everything earlier leaders committed is in its store), and stop the turn leadership
   * ends, which is within one tick of it ending (DESIGN rule 5).
   */
  private updateLeadership(): void {
    const raft = this.node.raft;
    const leads = raft.role === 'leader' && !this.stopping && this.fatalError === null;
    if (!leads) {
      if (this.leadership !== null) {
        this.leadership.abort(new Error(`master ${this.id} is no longer the leader (term ${raft.term})`));
        this.leadership = null;
        this.log.info({ term: raft.term }, 'leadership ended: leader-only components stopped');
      }
      return;
    }
    if (this.leadership !== null || raft.raftLog.termOrZero(this.kv.appliedIndex) !== raft.term) return;
    const leadership = new AbortController();
    this.leadership = leadership;
    this.log.info({ term: raft.term, applied: this.kv.appliedIndex }, 'leadership established: starting leader-only components');
    for (const listener of this.leadershipListeners) listener(leadership.signal);
  }

  /**
   * Calls `listener` each time this master's leadership is established, with a signal that aborts
   * when it ends (and when the master stops). Returns the function that stops the calls.
   */
  onLeadership(listener: (signal: AbortSignal) => void): () => void {
    this.leadershipListeners.push(listener);
    if (this.leadership !== null) listener(this.leadership.signal);
    return () => {
      const at = this.leadershipListeners.indexOf(listener);
      if (at !== -1) this.leadershipListeners.splice(at, 1);
    };
  }

  /** Whether leader-only components run here now. */
  isLeading(): boolean {
    return this.leadership !== null;
  }

  private onRoleChange(role: string, leader: NodeId): void {
    this.log.info({ role, leader }, leader === NONE ? `now ${role}, no leader known` : `now ${role}, leader is ${leader}`);
    // Readiness: catch up to the commit index seen on learning of this leader (see isReady()).
    this.catchUpIndex = leader === NONE ? Number.MAX_SAFE_INTEGER : this.node.raft.raftLog.committed;
    this.reads.leaderChanged();
    if (role === 'leader' && !this.lessor.isPrimary()) {
      // A new leader gives every lease one more election timeout before expiring any (issue 4).
      const extendMs = this.config.raft.electionTimeoutTicks * this.config.raft.tickMs;
      this.lessor.promote(this.kv.leases(), extendMs);
      this.lastCompactionCheckMs = Date.now();
      this.log.info({ leases: this.kv.leases().length, extendMs }, 'leading: lease expiry and history compaction started');
    } else if (role !== 'leader' && this.lessor.isPrimary()) {
      // DESIGN rule 5: leader-only work stops with leadership.
      this.lessor.demote();
      this.revoking.clear();
      this.log.info({}, 'no longer leading: lease expiry and history compaction stopped');
    }
  }

  /**
   * Leader-only work, once per turn with ticks: propose revokes for expired leases, and compact
   * history past the retention window. Stale decisions cannot commit wrongly: a revoke of a lease
   * already gone fails harmlessly, and compaction never passes the retention bounds.
   */
  private leaderDuties(): void {
    if (!this.lessor.isPrimary() || this.stopping) return;
    for (const id of this.lessor.expired(REVOKES_PER_TICK_MAX)) {
      if (this.revoking.has(id)) continue;
      this.revoking.add(id);
      this.log.info({ lease: id }, 'lease expired: proposing its revoke');
      this.proposeKv({ operation: { leaseRevoke: { id } }, session: null, proposedAtMs: Date.now() }).then(
        () => this.revoking.delete(id),
        () => this.revoking.delete(id),
      );
    }
    const now = Date.now();
    const kv = this.config.kv;
    if (now - this.lastCompactionCheckMs < kv.compactionCheckMs) return;
    this.lastCompactionCheckMs = now;
    const target = Math.min(this.kv.currentRevision() - kv.historyRevisionsMin, this.kv.revisionAt(now - kv.historyAgeMsMin));
    if (target <= this.kv.compactedRevision()) return;
    this.log.info({ revision: target, compacted: this.kv.compactedRevision() }, 'compacting history past the retention window');
    this.proposeKv({ operation: { compaction: { revision: target, physical: false } }, session: null, proposedAtMs: now }).catch((error: unknown) => {
      this.log.warn({ err: error, revision: target }, 'history compaction not applied');
    });
  }

  private fail(error: Error): void {
    if (this.fatalError !== null) return;
    this.fatalError = error;
    this.log.fatal({ err: error }, 'master cannot continue');
    this.onFatal(error);
  }

  // ---- what the API asks ----

  /** Checks a write before it is proposed (rule 7): bad input never reaches the log. */
  validate(operation: KvOperation): void {
    validateKvOperation(operation, { txnOpsMax: this.config.kv.txnOpsMax, leaseTtlMaxSeconds: this.config.kv.leaseTtlMaxSeconds });
  }

  /**
   * Proposes a KV command on this master, which must lead (followers refuse, naming the leader:
   * RaftError RAFT_PROPOSAL_DROPPED), and resolves with its result once applied here.
   */
  async proposeKv(command: KvCommand): Promise<KvResult | null> {
    if (this.stopping) throw new MasterError(MasterErrorCode.Stopping, `master ${this.id} is shutting down`);
    const applied = this.proposals.add(encodeKvCommand(command), Date.now());
    this.kick();
    return (await applied).result;
  }

  /** Resolves once a read against the local store is linearizable (ReadIndex confirmed and applied). */
  linearizableRead(): Promise<void> {
    if (this.stopping) return Promise.reject(new MasterError(MasterErrorCode.Stopping, `master ${this.id} is shutting down`));
    const waiting = this.reads.wait(Date.now());
    this.kick();
    return waiting;
  }

  leaderId(): NodeId {
    return this.node.raft.lead;
  }

  /** The TTL a grant gets (etcd's floor from this cluster's timing, and its ceiling), decided before proposing. */
  leaseGrantTtl(ttlSeconds: number): number {
    return grantTtlSeconds(ttlSeconds, { minTtlSeconds: this.minimumLeaseTtl(), maxTtlSeconds: this.config.kv.leaseTtlMaxSeconds });
  }

  private minimumLeaseTtl(): number {
    return minLeaseTtlSeconds(this.config.raft);
  }

  leaderApi(): { id: number; host: string; port: number } | null {
    const leader = this.config.masters.find((m) => m.id === this.node.raft.lead);
    return leader === undefined ? null : { id: leader.id, host: leader.api.host, port: leader.api.port };
  }

  /** etcd's response header; revision 0 means the store's current revision (as etcd fills it). */
  etcdHeader(revision: number): EtcdHeader {
    return { clusterId: this.clusterId, memberId: BigInt(this.id), revision: revision === 0 ? this.kv.currentRevision() : revision, raftTerm: this.node.raft.term };
  }

  etcdStatus(): MaintenanceStatus {
    const s = this.node.status();
    return {
      version: ETCD_API_VERSION,
      dbSize: this.storage.stats.bytesWritten,
      dbSizeInUse: this.storage.stats.bytesWritten,
      leader: BigInt(s.lead),
      raftIndex: s.commit,
      raftTerm: s.term,
      raftAppliedIndex: this.kv.appliedIndex,
      errors: [],
      isLearner: false,
    };
  }

  members(): Member[] {
    return this.config.masters.map((m) => ({
      id: BigInt(m.id),
      name: `master-${m.id}`,
      peerUrls: [`http://${m.peer.host}:${m.peer.port}`],
      clientUrls: [`http://${m.api.host}:${m.api.port}`],
      isLearner: false,
    }));
  }

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
      applied: this.kv.appliedIndex,
      firstIndex: s.firstIndex,
      lastIndex: s.lastIndex,
      snapshotIndex: this.storage.snapshotMetadata().index,
      revision: this.kv.currentRevision(),
      compactedRevision: this.kv.compactedRevision(),
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
      proposalsWaiting: this.proposals.size,
      readsWaiting: this.reads.size,
      watchers: this.watchHub.watcherCount(),
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
    return !this.stopping && this.node.raft.lead !== NONE && this.kv.appliedIndex >= this.catchUpIndex;
  }

  /** Alive: not failed, and no loop turn stuck for long. */
  isLive(): boolean {
    return this.fatalError === null && (this.turnStartedAt === 0 || Date.now() - this.turnStartedAt < TURN_MS_MAX);
  }

  // ---- shutdown ----

  /**
   * Stops cleanly: takes no new work, hands leadership to the most up-to-date connected follower
   * (so that writes see no gap), finishes the turn in flight, then closes watches, peers and
   * storage. Proposals still waiting are rejected (they may yet take effect).
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info({}, 'stopping');
    if (this.leadership !== null) {
      this.leadership.abort(new Error(`master ${this.id} is stopping`));
      this.leadership = null;
    }
    if (this.fatalError === null) await this.handOverLeadership();
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.tickTimer = null;
    if (this.commitBroadcastTimer !== null) clearTimeout(this.commitBroadcastTimer);
    this.commitBroadcastTimer = null;
    while (this.loopRunning !== null || this.loopScheduled) await (this.loopRunning ?? new Promise((r) => setImmediate(r)));
    // A snapshot still being built reads the database, batches applied may still be on their way
    // to it: let them finish before closing it.
    await this.snapshotJob?.data.catch(() => undefined);
    await this.kv.settled().catch(() => undefined);
    const stopped = new MasterError(MasterErrorCode.Stopping, `master ${this.id} stopped before the request finished; a write may still take effect`);
    this.proposals.rejectAll(stopped);
    this.reads.rejectAll(stopped);
    this.lessor.demote();
    this.watchHub.close();
    // A history read still in flight reads the database: let it finish before closing it.
    await this.watchHub.idle();
    this.background.abort(new Error('master stopping'));
    await this.transport?.close();
    await this.storage.close();
    await this.db.close();
    this.log.info({}, 'stopped');
  }

  /**
   * Hands leadership to master `to` on request (`POST /transfer-leader?to=<id>`, `raftplane cluster
   * transfer-leader`), Raft thesis §3.10. Only the leader takes it, and only for a member that is
   * connected and holds everything committed, so that the cluster is without a leader for a round
   * trip rather than an election timeout; anything else is refused with the reason. Resolves once
   * this master has stepped down, or after two election timeouts with `handedOver: false`.
   */
  async transferLeadership(to: NodeId): Promise<{ readonly handedOver: boolean; readonly leader: NodeId; readonly term: number }> {
    const refuse = (reason: string, message: string): MasterError => new MasterError(MasterErrorCode.TransferRefused, message, { reason, to, leader: this.node.raft.lead });
    if (this.stopping || this.fatalError !== null) throw new MasterError(MasterErrorCode.Stopping, `master ${this.id} is stopping`);
    if (!this.config.masters.some((m) => m.id === to)) throw refuse('unknown-target', `no master ${to} in cluster ${this.config.name} (masters: ${this.config.masters.map((m) => m.id).join(', ')})`);
    const s = this.node.status();
    if (s.role !== 'leader' || s.progress === null) throw refuse('not-leader', `master ${this.id} is not the leader (leader: ${s.lead === NONE ? 'none known' : s.lead}); ask the leader`);
    if (to === this.id) return { handedOver: true, leader: this.id, term: s.term };
    if (this.transport?.status().get(to)?.connected !== true) throw refuse('not-connected', `master ${to} is not connected to the leader (master ${this.id})`);
    const match = s.progress.get(to)?.match ?? 0;
    if (match < s.commit) throw refuse('not-caught-up', `master ${to} is not caught up: it holds the log up to index ${match}, the leader has committed ${s.commit}`);
    this.log.info({ to, match }, 'handing leadership over on request');
    this.node.transferLeadership(to);
    this.kick();
    const deadline = Date.now() + 2 * this.config.raft.electionTimeoutTicks * this.config.raft.tickMs;
    // Stepping down (the target's vote request, of a newer term) comes before hearing from the new
    // leader: until its first append this master knows no leader, and would answer `leader: 0`.
    const settled = (): boolean => this.node.raft.role !== 'leader' && this.node.raft.lead !== NONE;
    while (Date.now() < deadline && !settled() && !this.stopping) await new Promise((r) => setTimeout(r, this.config.raft.tickMs / 4));
    return { handedOver: this.node.raft.role !== 'leader', leader: this.node.raft.lead, term: this.node.raft.term };
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
