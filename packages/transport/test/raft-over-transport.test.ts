// The contract with the core, end to end: three real Raft cores (RawNode, in-memory storage)
// talk only through transports. Decoded messages are objects the core accepts: they elect a
// leader, replicate and commit in one order, and a follower that was cut off while the leader
// compacted its log catches up through a snapshot streamed as chunk messages over the wire.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemoryStorage, RawNode, raftDefaults, seededRandom, type Entry, type Message } from '@raftplane/raft';
import { closeAll, expectNoSocketsLeft, peersOf, startCluster, startNode, waitFor, type Node } from './support/fixtures.js';

afterAll(expectNoSocketsLeft);

const SNAPSHOT_CHUNK_BYTES = 4096;

/** A small master: the Ready loop of DESIGN.md (persist, send, apply, advance), messages enqueued by the transport. */
class Core {
  readonly storage = new MemoryStorage({ voters: [1, 2, 3] });
  readonly raw: RawNode;
  readonly applied: Entry[] = [];
  readonly inbox: Message[] = [];
  snapshotsRestored = 0;
  node: Node | null = null;

  constructor(readonly id: number) {
    this.raw = new RawNode({ ...raftDefaults, id, storage: this.storage, random: seededRandom(id), snapshotChunkBytesMax: SNAPSHOT_CHUNK_BYTES });
  }

  /** One turn: step what arrived, report unreachable peers, then drain Ready. */
  turn(tick: boolean): void {
    for (const m of this.inbox.splice(0)) this.raw.step(m);
    for (const peer of this.node?.unreachable.splice(0) ?? []) this.raw.reportUnreachable(peer);
    if (tick) this.raw.tick();
    while (this.raw.hasReady()) {
      const rd = this.raw.ready();
      this.node?.transport.send(rd.messages);
      if (rd.snapshot !== null) {
        this.storage.applySnapshot(rd.snapshot);
        this.snapshotsRestored++;
      }
      this.storage.append(rd.entries);
      if (rd.hardState !== null) this.storage.setHardState(rd.hardState);
      this.node?.transport.send(rd.messagesAfterPersist);
      for (const e of rd.committedEntries) if (e.data.byteLength > 0) this.applied.push(e);
      this.raw.advance();
    }
  }
}

let nodes: Node[] = [];
let ticker: NodeJS.Timeout | null = null;
afterEach(async () => {
  if (ticker !== null) clearInterval(ticker);
  ticker = null;
  await closeAll(nodes);
  nodes = [];
});

const text = (e: Entry): string => new TextDecoder().decode(e.data);

describe('raft over the transport', () => {
  it('elects, replicates, and catches a cut-off follower up through a streamed snapshot', async () => {
    const cores = [new Core(1), new Core(2), new Core(3)];
    // Socket callbacks only enqueue; the turn runs on the next immediate (house rule 10).
    const react = (core: Core) => (_transport: unknown, messages: readonly Message[]) => {
      for (const m of messages) core.inbox.push(m);
      setImmediate(() => core.turn(false));
    };
    nodes = await startCluster(3, {}, (id) => react(cores[id - 1] as Core));
    nodes.forEach((node, i) => ((cores[i] as Core).node = node));
    ticker = setInterval(() => cores.forEach((c) => c.turn(true)), 10);

    await waitFor(() => cores.some((c) => c.raw.status().role === 'leader'), 'a leader');
    const leader = cores.find((c) => c.raw.status().role === 'leader') as Core;
    const lagging = cores.find((c) => c !== leader) as Core;
    for (let i = 0; i < 20; i++) leader.raw.propose(new TextEncoder().encode(`first ${i}`));
    await waitFor(() => cores.every((c) => c.applied.length === 20), 'the first 20 entries applied everywhere');
    for (const c of cores) expect(c.applied.map(text)).toEqual(leader.applied.map(text));

    // Cut the lagging follower off, write past it, then snapshot and compact on the leader.
    const cut = lagging.node as Node;
    await cut.transport.close();
    for (let i = 0; i < 40; i++) leader.raw.propose(new TextEncoder().encode(`second ${i}`));
    await waitFor(() => leader.applied.length === 60, 'the next 40 entries committed without it');
    const index = leader.raw.status().applied;
    leader.storage.createSnapshot(index, { voters: [1, 2, 3] }, new Uint8Array(64 * 1024).fill(7));
    leader.storage.compact(index);

    // Back on the same port: the leader can only send it the snapshot, in 16 chunks of 4 KiB.
    lagging.node = await startNode(lagging.id, cut.address.port, peersOf(nodes, lagging.id), {}, react(lagging));
    nodes = nodes.map((n) => (n === cut ? (lagging.node as Node) : n));
    await waitFor(() => lagging.snapshotsRestored === 1, 'the snapshot installed on the lagging follower');
    await waitFor(() => lagging.raw.status().applied >= index, 'the lagging follower caught up');
    expect(lagging.storage.snapshot().data.byteLength).toBe(64 * 1024);
    const snaps = lagging.node.inbox.filter((m) => m.snapshot !== null && m.snapshot.data.byteLength > 0);
    expect(snaps.length).toBe(64 * 1024 / SNAPSHOT_CHUNK_BYTES);
  });
});
