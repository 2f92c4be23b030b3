// A cluster of TestNodes on a perfect, instant network that tests can cut or make lossy: the harness
// for paper tests, interaction scripts and named scenarios.

import { expect } from 'vitest';
import { MessageType, type Message, type NodeId } from '../../src/index.js';
import { TestNode, type NodeOptions } from './test-node.js';

/** Says which messages the network loses on their way (they are neither delivered nor counted). */
export type DropPredicate = (m: Message) => boolean;

export interface ClusterOptions extends NodeOptions {
  /** Per-node overrides of the options above. */
  readonly perNode?: Readonly<Record<number, NodeOptions>>;
}

/** Messages are delivered in send order. */
export class TestCluster {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages sent and not yet delivered, in send order. */
  queue: Message[] = [];
  /** Every message delivered (not dropped), for counting. */
  readonly delivered: Message[] = [];
  /** Directed links that drop everything: `${from}->${to}`. */
  private readonly cut = new Set<string>();
  /** Message types dropped on every link. */
  readonly dropTypes = new Set<MessageType>();
  private readonly down = new Set<NodeId>();

  constructor(
    readonly ids: readonly NodeId[],
    options: ClusterOptions = {},
  ) {
    const { perNode, ...common } = options;
    for (const id of ids) this.nodes.set(id, new TestNode(id, ids, { ...common, ...(perNode?.[id] ?? {}) }));
  }

  static ofSize(n: number, options: ClusterOptions = {}): TestCluster {
    return new TestCluster(
      Array.from({ length: n }, (_, i) => i + 1),
      options,
    );
  }

  /** A cluster of `n` nodes in which node 1 has campaigned and won; the usual start of a test. */
  static elected(n: number, options: ClusterOptions = {}): TestCluster {
    const cluster = TestCluster.ofSize(n, options);
    cluster.elect(1);
    expect(cluster.leader()?.id).toBe(1);
    return cluster;
  }

  node(id: NodeId): TestNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  leader(): TestNode | null {
    let found: TestNode | null = null;
    for (const [id, n] of this.nodes) {
      if (this.down.has(id) || n.node.raft.role !== 'leader') continue;
      if (found === null || n.node.raft.term > found.node.raft.term) found = n;
    }
    return found;
  }

  /** Handles every node's Ready (once each); queues what they send. Returns whether any had one. */
  processReadies(): boolean {
    let any = false;
    for (const [id, n] of this.nodes) {
      if (this.down.has(id)) continue;
      const out = n.handleReady();
      if (out === null) continue;
      any = true;
      for (const m of out.messages) this.send(m);
    }
    return any;
  }

  send(m: Message): void {
    if (this.cut.has(`${m.from}->${m.to}`) || this.dropTypes.has(m.type) || this.down.has(m.to)) return;
    this.queue.push(m);
  }

  /**
   * Delivers what is queued now (not what that provokes), losing the messages `drop` matches.
   * Returns how many were delivered.
   */
  deliverQueued(drop?: DropPredicate): number {
    const batch = this.queue;
    this.queue = [];
    let delivered = 0;
    for (const m of batch) {
      if (drop?.(m) === true || this.down.has(m.to)) continue;
      this.node(m.to).node.step(m);
      this.delivered.push(m);
      delivered++;
    }
    return delivered;
  }

  /** Runs Readies and deliveries until nothing is left to do; messages matching `drop` are lost on the way. */
  stabilize(drop?: DropPredicate, roundsMax = 10_000): void {
    for (let round = 0; round < roundsMax; round++) {
      const readied = this.processReadies();
      const delivered = this.deliverQueued(drop);
      if (!readied && delivered === 0) return;
    }
    throw new Error(`cluster did not stabilize within ${roundsMax} rounds`);
  }

  /** `ticks` times: ticks every running node once, then stabilizes, losing the messages `drop` matches. */
  tickAll(ticks = 1, drop?: DropPredicate): void {
    for (let t = 0; t < ticks; t++) {
      for (const [id, n] of this.nodes) if (!this.down.has(id)) n.node.tick();
      this.stabilize(drop);
    }
  }

  /** Makes `id` campaign and stabilizes. */
  elect(id: NodeId): void {
    this.node(id).node.campaign();
    this.stabilize();
  }

  propose(id: NodeId, data: string): void {
    this.node(id).node.propose(new TextEncoder().encode(data));
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}->${to}`);
  }

  /** Splits the cluster: no message crosses between `group` and the rest. */
  partition(group: readonly NodeId[]): void {
    for (const a of group) for (const b of this.ids) if (!group.includes(b)) this.cut.add(`${a}->${b}`).add(`${b}->${a}`);
  }

  heal(): void {
    this.cut.clear();
    this.dropTypes.clear();
  }

  crash(id: NodeId): void {
    this.down.add(id);
  }

  /** Restarts a crashed (or running) node from what it persisted. */
  restart(id: NodeId): void {
    this.down.delete(id);
    this.node(id).restart();
  }

  isDown(id: NodeId): boolean {
    return this.down.has(id);
  }

  countDelivered(predicate: (m: Message) => boolean = () => true): number {
    let count = 0;
    for (const m of this.delivered) if (predicate(m)) count++;
    return count;
  }

  /** Applied payloads of node `id`, in order (empty entries left out). */
  applied(id: NodeId): string[] {
    return this.node(id)
      .app.log.filter((e) => e.data !== '')
      .map((e) => e.data);
  }
}
