// One simulated master: a RawNode over MemoryStorage with a durable test state machine, whose
// Ready handling is split into the steps a real master takes, so that tests can crash it
// between any two of them.

import {
  MemoryStorage,
  RawNode,
  raftDefaults,
  seededRandom,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Ready,
} from '../../src/index.js';
import { TestStateMachine } from './state-machine.js';

export type NodeOptions = Partial<Omit<RaftConfig, 'id' | 'storage' | 'random' | 'applied'>>;

/** A crash keeps storage and the state machine and loses the rest. */
export class TestNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly app = new TestStateMachine();
  node: RawNode;
  /**
   * Every ReadState handed to the application by an applied Ready, in order, kept across restarts:
   * what a master would answer its linearizable reads with (thesis §6.4).
   */
  readonly readStates: ReadState[] = [];
  /** The Ready handed out and not yet advanced. */
  private pending: Ready | null = null;
  private restarts = 0;

  constructor(
    id: NodeId,
    voters: readonly NodeId[],
    private readonly options: NodeOptions = {},
    private readonly seed = id,
  ) {
    this.id = id;
    this.storage = new MemoryStorage({ voters: [...voters].sort((a, b) => a - b) });
    this.node = this.build();
  }

  private build(): RawNode {
    // A snapshot persisted by a crashed Ready but never applied (crash between persist and apply):
    // the state machine restores it before Raft starts, as a master does at start (master.ts).
    const stored = this.storage.snapshot();
    if (stored.metadata.index > this.app.appliedIndex) this.app.restore(stored.data, stored.metadata.index);
    return new RawNode({
      ...raftDefaults,
      ...this.options,
      id: this.id,
      storage: this.storage,
      random: seededRandom(this.seed * 7919 + this.restarts),
      applied: this.app.appliedIndex,
    });
  }

  /** Loses everything not persisted (unstable entries, an unpersisted Ready) and starts again. */
  restart(): void {
    this.pending = null;
    this.restarts++;
    this.node = this.build();
  }

  /** Step 1: take a Ready; returns the messages that may leave at once. */
  beginReady(): readonly Message[] | null {
    if (this.pending !== null) throw new Error(`node ${this.id}: beginReady with a Ready pending`);
    if (!this.node.hasReady()) return null;
    this.pending = this.node.ready();
    return this.pending.messages;
  }

  /** Step 2: persist the pending Ready; returns the messages that could wait only for that. */
  persist(): readonly Message[] {
    const rd = this.requirePending();
    if (rd.snapshot !== null) this.storage.applySnapshot(rd.snapshot);
    this.storage.append(rd.entries);
    if (rd.hardState !== null) this.storage.setHardState(rd.hardState);
    return rd.messagesAfterPersist;
  }

  /** Step 3: apply and advance. Returns the Ready for inspection. */
  applyAndAdvance(): Ready {
    const rd = this.requirePending();
    if (rd.snapshot !== null) this.app.restore(rd.snapshot.data, rd.snapshot.metadata.index);
    for (const entry of rd.committedEntries) this.app.apply(entry);
    this.readStates.push(...rd.readStates);
    this.pending = null;
    this.node.advance();
    return rd;
  }

  /** All three steps; returns every message to send, in order, or null when there was nothing. */
  handleReady(): { ready: Ready; messages: Message[] } | null {
    const first = this.beginReady();
    if (first === null) return null;
    const after = this.persist();
    const ready = this.applyAndAdvance();
    return { ready, messages: [...first, ...after] };
  }

  /** Handles Readies until there are none; returns them and every message they sent, in order. */
  drainReadies(): { readies: Ready[]; messages: Message[] } {
    const readies: Ready[] = [];
    const messages: Message[] = [];
    for (let out = this.handleReady(); out !== null; out = this.handleReady()) {
      readies.push(out.ready);
      messages.push(...out.messages);
    }
    return { readies, messages };
  }

  hasPendingReady(): boolean {
    return this.pending !== null;
  }

  /** The Ready taken by beginReady() and not yet advanced. */
  pendingReady(): Ready | null {
    return this.pending;
  }

  /** Snapshots the state machine at its applied index and compacts the log up to it, keeping `keep` entries. */
  compact(keep = 0): boolean {
    const applied = this.app.appliedIndex;
    const snapIndex = this.storage.snapshot().metadata.index;
    if (applied <= snapIndex) return false;
    const voters = this.node.status().voters;
    this.storage.createSnapshot(applied, { voters: [...voters] }, this.app.snapshot());
    const compactTo = Math.max(snapIndex + 1, applied - keep);
    if (compactTo > snapIndex) this.storage.compact(compactTo);
    return true;
  }

  private requirePending(): Ready {
    if (this.pending === null) throw new Error(`node ${this.id}: no Ready pending`);
    return this.pending;
  }
}
