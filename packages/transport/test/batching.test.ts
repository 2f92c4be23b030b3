// Batching (TigerBeetle "run at your own pace and batch", house rule 10): everything sent to a
// peer in one turn leaves in as few frames as frameBytesMax allows, in one socket write, and
// arrives as one onMessages call per frame read.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Message } from '@raftplane/raft';
import { append, closeAll, entry, heartbeat, startCluster, waitConnected, waitFor, expectNoSocketsLeft, type Node } from './support/fixtures.js';

afterAll(expectNoSocketsLeft);

let nodes: Node[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

async function pair(frameBytesMax: number): Promise<[Node, Node]> {
  nodes = await startCluster(2, { frameBytesMax });
  await waitConnected(nodes);
  return [nodes[0] as Node, nodes[1] as Node];
}

describe('batching', () => {
  it('sends 1,000 heartbeats given in one turn as one frame in one write', async () => {
    const [a, b] = await pair(16 * 1024 * 1024);
    const before = a.transport.status().get(2);
    const messages: Message[] = Array.from({ length: 1000 }, (_, i) => heartbeat(1, 2, i));
    a.transport.send(messages);
    // Nothing is written during the turn: send() only queues.
    expect(a.transport.status().get(2)?.framesSent).toBe(before?.framesSent);
    expect(a.transport.queuedBytes(2)).toBeGreaterThan(0);
    await waitFor(() => b.inbox.length === 1000, '1,000 heartbeats');
    const after = a.transport.status().get(2);
    expect((after?.framesSent ?? 0) - (before?.framesSent ?? 0)).toBe(1);
    expect((after?.writes ?? 0) - (before?.writes ?? 0)).toBe(1);
    expect(b.transport.status().get(1)?.framesReceived).toBe(1);
    expect(b.deliveries).toBe(1);
    expect(b.inbox.map((m) => m.commit)).toEqual(messages.map((m) => m.commit));
  });

  it('also coalesces 1,000 messages given in many send() calls within one turn', async () => {
    const [a, b] = await pair(16 * 1024 * 1024);
    for (let i = 0; i < 1000; i++) a.transport.send([heartbeat(1, 2, i)]);
    await waitFor(() => b.inbox.length === 1000, '1,000 heartbeats');
    expect(a.transport.status().get(2)).toMatchObject({ framesSent: 1, writes: 1, messagesSent: 1000 });
  });

  it('splits a turn larger than frameBytesMax into frames within it, still in one write and in order', async () => {
    const frameBytesMax = 64 * 1024;
    const [a, b] = await pair(frameBytesMax);
    // 1,000 appends of one 1 KiB entry each: about 1.1 MB, so at least 17 frames of 64 KiB.
    const messages = Array.from({ length: 1000 }, (_, i) => append(1, 2, i, [entry(i + 1, 3, new Uint8Array(1024).fill(i % 251))]));
    a.transport.send(messages);
    await waitFor(() => b.inbox.length === 1000, '1,000 appends');
    const status = a.transport.status().get(2);
    const wireBytes = status?.bytesSent ?? 0;
    expect(status?.writes).toBe(1);
    expect(status?.framesSent).toBeGreaterThanOrEqual(Math.ceil(wireBytes / frameBytesMax));
    expect(status?.framesSent).toBeLessThanOrEqual(Math.ceil(wireBytes / frameBytesMax) + 3);
    expect(b.inbox.map((m) => m.index)).toEqual(messages.map((m) => m.index));
    expect(b.inbox[999]?.entries[0]?.data[0]).toBe(999 % 251);
  });

  it('drops, logs and reports a message that cannot fit in any frame, and sends the rest', async () => {
    const [a, b] = await pair(4096);
    a.transport.send([heartbeat(1, 2, 1), append(1, 2, 1, [entry(2, 3, new Uint8Array(8192))]), heartbeat(1, 2, 2)]);
    await waitFor(() => b.inbox.length === 2, 'the two heartbeats');
    await waitFor(() => a.unreachable.length === 1, 'onUnreachable');
    expect(a.unreachable).toEqual([2]);
    expect(a.transport.status().get(2)?.messagesDropped).toBe(1);
    expect(a.logger.withCode('TRANSPORT_MESSAGE_TOO_LARGE')[0]?.msg).toMatch(/a App to peer 2 needs up to \d+ bytes, more than a frame \(frameBytesMax 4096\): dropped/);
  });
});
