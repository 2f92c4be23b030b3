// The state an interaction script acts on: one TestCluster, a log level, and the output the
// current command is printing. Handlers share the Ready and delivery steps defined here.

import { isRaftError, messageTypeName, raftDefaults, type Message, type NodeId, type RaftLogger } from '../../src/index.js';
import { TestCluster, type ClusterOptions } from '../support/cluster.js';
import type { TestNode } from '../support/test-node.js';
import { ScriptError, type Command } from './command.js';
import { formatLogLine, formatMessage, formatReady } from './format.js';

export type LogLevel = 'none' | 'info' | 'warn';

/** One script command: reads its arguments, acts on the environment, writes its output. */
export interface Handler {
  readonly name: string;
  readonly usage: string;
  run(env: InteractionEnv, cmd: Command): void;
}

export interface DeliverFilter {
  /** Recipients whose messages are dropped instead of delivered. */
  readonly drop: ReadonlySet<NodeId>;
  /** Only messages of this type name (e.g. `MsgApp`), or all when null. */
  readonly type: string | null;
}

const INDENT = '  ';

export class InteractionEnv {
  private clusterHeld: TestCluster | null = null;
  logLevel: LogLevel = 'info';
  /** Nodes cut off from every other node by `isolate`, until `heal`. */
  readonly isolated = new Set<NodeId>();
  electionTicks: number = raftDefaults.electionTimeoutTicks;
  heartbeatTicks: number = raftDefaults.heartbeatIntervalTicks;
  private lines: string[] = [];
  private depth = 0;

  /** The core's log lines go into the output of whatever command is running. */
  readonly logger: RaftLogger = {
    info: (event, fields) => {
      if (this.logLevel === 'info') this.write(formatLogLine('INFO', event, fields));
    },
    warn: (event, fields) => {
      if (this.logLevel !== 'none') this.write(formatLogLine('WARN', event, fields));
    },
  };

  get cluster(): TestCluster {
    if (this.clusterHeld === null) throw new ScriptError('no nodes yet: start the script with add-nodes');
    return this.clusterHeld;
  }

  createCluster(ids: readonly NodeId[], options: ClusterOptions): void {
    if (this.clusterHeld !== null) throw new ScriptError('add-nodes may be used once per script');
    this.clusterHeld = new TestCluster(ids, { ...options, logger: this.logger });
  }

  /** Every node id, ascending. */
  ids(): NodeId[] {
    return [...this.cluster.ids].sort((a, b) => a - b);
  }

  /** A node that exists (it may be down). */
  testNode(id: NodeId): TestNode {
    if (!this.cluster.nodes.has(id)) throw new ScriptError(`no node ${id} (nodes: ${this.ids().join(',')})`);
    return this.cluster.node(id);
  }

  /** A node that exists and is running. */
  runningNode(id: NodeId): TestNode {
    const n = this.testNode(id);
    if (this.cluster.isDown(id)) throw new ScriptError(`node ${id} is down (crashed): restart it first`);
    return n;
  }

  /** The given ids, checked and sorted, or every running node when none are given. */
  runningIds(ids: readonly NodeId[]): NodeId[] {
    if (ids.length === 0) return this.ids().filter((id) => !this.cluster.isDown(id));
    for (const id of ids) this.runningNode(id);
    return [...new Set(ids)].sort((a, b) => a - b);
  }

  // ---- output ----

  write(line: string): void {
    if (line.trim() === '') throw new Error('interaction output may not contain blank lines (they end a block)');
    this.lines.push(INDENT.repeat(this.depth) + line);
  }

  writeAll(lines: readonly string[]): void {
    for (const line of lines) this.write(line);
  }

  /** Runs `fn` with its output (log lines included) indented one level. */
  indented<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  /** Runs a call into the core, printing a RaftError (a refusal the caller is meant to handle). */
  printingRaftErrors(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      if (!isRaftError(error)) throw error;
      const reason = error.details.reason === undefined ? '' : ` (${error.details.reason})`;
      this.write(`ERROR ${error.code}${reason}: ${error.message}`);
    }
  }

  /** Runs `fn` printing nothing (a setup step whose details the script does not show). */
  discardingOutput(fn: () => void): void {
    const mark = this.lines.length;
    try {
      fn();
    } finally {
      this.lines.length = mark;
    }
  }

  takeOutput(): string[] {
    const lines = this.lines;
    this.lines = [];
    this.depth = 0;
    return lines.length === 0 ? ['ok'] : lines;
  }

  // ---- the steps a master takes ----

  /**
   * Handles node `id`'s Ready in the master's order (DESIGN rule 5): send `messages`, persist,
   * send `messagesAfterPersist`, apply, advance. Prints the Ready; returns whether there was one.
   * With `untilSend`, stops after sending `messages`, leaving the Ready pending (not persisted)
   * for a later call to finish or a crash to lose.
   */
  processReady(id: NodeId, untilSend = false): boolean {
    const n = this.runningNode(id);
    if (n.hasPendingReady()) {
      this.write(`> ${id} finishing Ready`);
      this.indented(() => this.finishReady(n));
      return true;
    }
    const headerAt = this.lines.length;
    // Building a Ready replicates this turn's proposals, which may log (a snapshot being sent).
    const immediate = this.indented(() => n.beginReady());
    if (immediate === null) return false;
    this.lines.splice(headerAt, 0, INDENT.repeat(this.depth) + `> ${id} handling Ready`);
    this.indented(() => {
      const rd = n.pendingReady();
      if (rd === null) throw new Error(`node ${id}: beginReady() left no pending Ready`);
      this.writeAll(formatReady(rd));
      for (const m of immediate) this.send(m);
      if (untilSend) this.write('(messages sent; stopped before persisting)');
      else this.finishReady(n);
    });
    return true;
  }

  /** Persists the pending Ready, sends what waited for that, applies and advances. */
  private finishReady(n: TestNode): void {
    const afterPersist = n.persist();
    n.applyAndAdvance(); // counts the node's own vote and log acknowledgement, which may log a new role
    for (const m of afterPersist) this.send(m);
  }

  /** Queues a message on the network (links cut by isolate and crashed recipients drop it). */
  send(m: Message): void {
    this.cluster.send(m);
  }

  /** Messages queued for `id` that pass `filter`, removed from the queue, in send order. */
  private takeQueuedFor(id: NodeId, filter: DeliverFilter | null): Message[] {
    const cluster = this.cluster;
    const taken: Message[] = [];
    const kept: Message[] = [];
    for (const m of cluster.queue) {
      const typeMatches = filter?.type == null || `Msg${messageTypeName(m.type)}` === filter.type;
      if (m.to === id && typeMatches) taken.push(m);
      else kept.push(m);
    }
    cluster.queue = kept;
    return taken;
  }

  /** Delivers (or drops) what is queued for each of `ids`, printing each. Returns how many moved. */
  deliver(ids: readonly NodeId[], filter: DeliverFilter | null): number {
    let moved = 0;
    for (const id of ids) {
      const msgs = this.takeQueuedFor(id, filter);
      if (msgs.length === 0) continue;
      moved += msgs.length;
      if (filter?.drop.has(id) === true || this.cluster.isDown(id)) {
        for (const m of msgs) this.write(`dropped: ${formatMessage(m)}`);
        continue;
      }
      this.write(`> ${id} receiving messages`);
      this.indented(() => {
        for (const m of msgs) {
          this.write(formatMessage(m));
          this.cluster.delivered.push(m);
          this.indented(() => this.printingRaftErrors(() => this.cluster.node(id).node.step(m)));
        }
      });
    }
    return moved;
  }

  /** Drops queued messages matching `predicate` (they were on a link that has just been cut). */
  dropQueued(predicate: (m: Message) => boolean): void {
    const cluster = this.cluster;
    const kept: Message[] = [];
    for (const m of cluster.queue) {
      if (predicate(m)) this.write(`dropped: ${formatMessage(m)}`);
      else kept.push(m);
    }
    cluster.queue = kept;
  }
}
