// Benchmark: committed entries per second for 3 Raft cores in one process, with in-memory
// storage and an instant network, with and without batching, and messages per committed entry.
// Usage: npm run bench:raft [-- --seconds 3 --entry-bytes 100]
// Prints a table and, as its last line, one JSON object with the figures.

import { parseArgs } from 'node:util';
import { MemoryStorage, RawNode, raftDefaults, seededRandom, type Message } from '../src/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    'warmup-seconds': { type: 'string', default: '0.5' },
    'entry-bytes': { type: 'string', default: '100' },
  },
});
const seconds = Number(values.seconds);
const warmupSeconds = Number(values['warmup-seconds']);
const entryBytes = Number(values['entry-bytes']);
for (const [name, value] of [['seconds', seconds], ['warmup-seconds', warmupSeconds], ['entry-bytes', entryBytes]] as const) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got ${String(value)}`);
}

interface BenchNode {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  applied: number;
}

class BenchCluster {
  readonly nodes: BenchNode[] = [];
  private queue: Message[] = [];
  messages = 0;

  constructor() {
    const voters = [1, 2, 3];
    for (const id of voters) {
      const storage = new MemoryStorage({ voters });
      const node = new RawNode({
        ...raftDefaults,
        id,
        storage,
        random: seededRandom(id),
        // Generous pipeline limits: the benchmark measures the core, not back-pressure.
        inflightMsgsMax: 4096,
        inflightBytesMax: 0,
        uncommittedBytesMax: 1 << 30,
      });
      this.nodes.push({ node, storage, applied: 0 });
    }
    (this.nodes[0] as BenchNode).node.campaign();
    this.stabilize();
  }

  get leader(): BenchNode {
    return this.nodes[0] as BenchNode;
  }

  /** Every node handles its Ready once: persist, queue messages, apply, advance. */
  processReadies(): boolean {
    let any = false;
    for (const n of this.nodes) {
      if (!n.node.hasReady()) continue;
      any = true;
      const rd = n.node.ready();
      for (const m of rd.messages) this.queue.push(m);
      if (rd.snapshot !== null) n.storage.applySnapshot(rd.snapshot);
      if (rd.entries.length > 0) n.storage.append(rd.entries);
      if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
      for (const m of rd.messagesAfterPersist) this.queue.push(m);
      n.applied += rd.committedEntries.length;
      n.node.advance();
    }
    return any;
  }

  deliver(): number {
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) (this.nodes[m.to - 1] as BenchNode).node.step(m);
    this.messages += batch.length;
    return batch.length;
  }

  stabilize(): void {
    while (this.processReadies() || this.deliver() > 0);
  }

  /** Keeps memory flat on long runs: snapshot and compact every node's log. */
  compact(): void {
    for (const n of this.nodes) {
      const applied = n.node.status().applied;
      if (applied - n.storage.firstIndex() < 50_000) continue;
      n.storage.createSnapshot(applied, { voters: [1, 2, 3] }, new Uint8Array(0));
      n.storage.compact(applied);
    }
  }
}

interface Result {
  readonly mode: string;
  readonly batch: number;
  readonly committedPerSecond: number;
  readonly messagesPerEntry: number;
  readonly committed: number;
  readonly seconds: number;
}

/**
 * Pipelined: each turn the leader takes `batch` proposals, every node handles one Ready, and the
 * network delivers what was sent. Sequential (`waitForCommit`): one proposal, then run until it
 * is applied everywhere, then the next: no batching and no pipelining at all.
 */
function measure(mode: string, batch: number, waitForCommit: boolean): Result {
  const cluster = new BenchCluster();
  const run = (durationSeconds: number): { committed: number; messages: number; elapsed: number } => {
    const startApplied = cluster.leader.applied;
    const startMessages = cluster.messages;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(durationSeconds * 1e9));
    let turns = 0;
    for (;;) {
      for (let i = 0; i < batch; i++) cluster.leader.node.propose(new Uint8Array(entryBytes));
      if (waitForCommit) cluster.stabilize();
      else {
        cluster.processReadies();
        cluster.deliver();
      }
      if (++turns % 64 === 0) {
        cluster.compact();
        if (process.hrtime.bigint() >= deadline) break;
      }
    }
    cluster.stabilize();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    return { committed: cluster.leader.applied - startApplied, messages: cluster.messages - startMessages, elapsed };
  };
  run(warmupSeconds);
  const { committed, messages, elapsed } = run(seconds);
  return {
    mode,
    batch,
    committedPerSecond: Math.round(committed / elapsed),
    messagesPerEntry: Number((messages / committed).toFixed(3)),
    committed,
    seconds: Number(elapsed.toFixed(2)),
  };
}

const results: Result[] = [
  measure('sequential, no batching', 1, true),
  measure('pipelined, no batching', 1, false),
  measure('pipelined, batches of 10', 10, false),
  measure('pipelined, batches of 100', 100, false),
  measure('pipelined, batches of 1000', 1000, false),
];

const header = ['mode', 'batch', 'committed/s', 'msgs/entry', 'committed', 'seconds'];
const rows = results.map((r) => [
  r.mode,
  String(r.batch),
  r.committedPerSecond.toLocaleString('en-US'),
  r.messagesPerEntry.toFixed(3),
  r.committed.toLocaleString('en-US'),
  r.seconds.toFixed(2),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
console.log(`raft core: 3 nodes in one process, in-memory storage, instant network, ${entryBytes}-byte entries, node ${process.version}`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of rows) console.log(line(row));
const best = Math.max(...results.filter((r) => r.batch > 1).map((r) => r.committedPerSecond));
console.log(`target: >= 200,000 committed entries/s with batching; best here: ${best.toLocaleString('en-US')}`);
console.log(
  JSON.stringify({
    bench: 'raft-throughput',
    node: process.version,
    entryBytes,
    seconds,
    results: results.map(({ mode, batch, committedPerSecond, messagesPerEntry }) => ({ mode, batch, committedPerSecond, messagesPerEntry })),
    bestBatchedCommittedPerSecond: best,
    targetCommittedPerSecond: 200_000,
  }),
);
