// Back-pressure (TigerBeetle "put a limit on everything", house rule 2): a peer that stops
// reading fills the kernel's buffers, then the socket's, then the queue; past queueBytesMax new
// messages are dropped, counted and reported, and memory stays bounded. When the peer reads
// again, the queue drains and messages are admitted again.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HOST, append, closeAll, entry, startNode, waitFor, expectNoSocketsLeft, type Node } from './support/fixtures.js';
import { rawAcceptor, type RawAcceptor } from './support/raw-peer.js';

afterAll(expectNoSocketsLeft);

let nodes: Node[] = [];
let acceptor: RawAcceptor | null = null;
afterEach(async () => {
  await acceptor?.close(); // first: a transport's close() waits for a peer that does not read
  await closeAll(nodes);
  nodes = [];
  acceptor = null;
});

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const queueBytesMax = 1024 * 1024;

/** Node 1 connected to a raw node 2 that authenticates and then never reads. */
async function connectToStalledPeer(): Promise<Node> {
  acceptor = await rawAcceptor({ selfId: 2, readAfterOpen: false });
  const node = await startNode(1, 0, [{ id: 2, host: HOST, port: acceptor.port }], { queueBytesMax, frameBytesMax: 256 * 1024 });
  nodes = [node];
  await waitFor(() => node.transport.status().get(2)?.connected === true, 'the connection');
  return node;
}

describe('back-pressure', () => {
  it('drops and reports past queueBytesMax when the peer stops reading, with memory bounded', async () => {
    const node = await connectToStalledPeer();

    const data = new Uint8Array(64 * 1024); // one buffer shared by all entries: memory growth is the transport's
    const turns = 400;
    const perTurn = 8; // 400 turns x 8 x 64 KiB = 200 MiB offered
    const memoryBefore = process.memoryUsage().arrayBuffers;
    let queuedBytesMax = 0;
    let index = 0;
    for (let t = 0; t < turns; t++) {
      const batch = [];
      for (let i = 0; i < perTurn; i++, index++) batch.push(append(1, 2, index, [entry(index + 1, 3, data)]));
      node.transport.send(batch);
      await turn();
      queuedBytesMax = Math.max(queuedBytesMax, node.transport.queuedBytes(2));
    }
    const memoryGrowth = process.memoryUsage().arrayBuffers - memoryBefore;

    const status = node.transport.status().get(2);
    expect(queuedBytesMax).toBeLessThanOrEqual(queueBytesMax);
    expect(status?.queuedBytes).toBeLessThanOrEqual(queueBytesMax);
    expect(status?.messagesDropped).toBeGreaterThan(turns * perTurn * 0.9);
    expect((status?.messagesSent ?? 0) + (status?.messagesDropped ?? 0)).toBe(turns * perTurn);
    // Reported once per turn with drops, never more.
    expect(node.unreachable.length).toBeGreaterThan(0);
    expect(node.unreachable.length).toBeLessThanOrEqual(turns);
    expect(new Set(node.unreachable)).toEqual(new Set([2]));
    // The full queue is logged once, not once per drop.
    expect(node.logger.lines.filter((l) => l.msg.startsWith('queue for peer 2 is full'))).toHaveLength(1);
    // 200 MiB offered; what is held is the queue and the msgpackr buffers its frames live in.
    expect(memoryGrowth).toBeLessThan(16 * 1024 * 1024);
  });

  it('admits messages again once the peer reads again', async () => {
    const node = await connectToStalledPeer();
    const data = new Uint8Array(64 * 1024);
    let index = 0;
    while ((node.transport.status().get(2)?.messagesDropped ?? 0) === 0) {
      node.transport.send(Array.from({ length: 8 }, () => append(1, 2, index, [entry(++index, 3, data)])));
      await turn();
    }
    const sentWhenFull = node.transport.status().get(2)?.messagesSent ?? 0;

    const socket = acceptor?.accepted[0];
    socket?.on('data', () => undefined); // read again (and discard)
    socket?.resume();
    await waitFor(() => node.transport.queuedBytes(2) === 0, 'the queue to drain');
    node.transport.send([append(1, 2, index, [entry(index + 1, 3, data)])]);
    await waitFor(() => node.transport.status().get(2)?.messagesSent === sentWhenFull + 1, 'a message admitted and sent');
  });
});
