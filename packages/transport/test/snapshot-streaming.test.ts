// Snapshots stream without blocking heartbeats (issue 3): while a 32 MiB snapshot goes out as 32
// chunks of 1 MiB, all queued in one turn, a heartbeat never waits behind more than about one
// chunk, so heartbeat round trips keep flowing; every chunk arrives whole and in order.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MessageType, makeMessage, type Message } from '@raftplane/raft';
import { closeAll, heartbeat, snapChunk, startNode, waitFor, expectNoSocketsLeft, type Node } from './support/fixtures.js';

afterAll(expectNoSocketsLeft);

let nodes: Node[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

const CHUNK_BYTES = 1024 * 1024;
const CHUNKS = 32;

describe('snapshot streaming', () => {
  it('keeps heartbeats flowing while a 32 MiB snapshot streams', async () => {
    // Node 2 answers every heartbeat; node 1 sends the next heartbeat as soon as it hears back.
    const follower = await startNode(2, 0, [{ id: 1, host: '127.0.0.1', port: 0 }], {}, (transport, messages) => {
      const answers = messages.filter((m) => m.type === MessageType.Heartbeat).map((m) => makeMessage({ type: MessageType.HeartbeatResp, to: 1, commit: m.commit }, 2, 3));
      if (answers.length > 0) transport.send(answers);
    });
    let streaming = true;
    const leader = await startNode(1, 0, [follower.address], {}, (transport, messages) => {
      const last = messages.filter((m) => m.type === MessageType.HeartbeatResp).at(-1);
      if (last !== undefined && streaming) transport.send([heartbeat(1, 2, last.commit + 1)]);
    });
    nodes = [leader, follower];
    await waitFor(() => leader.transport.status().get(2)?.connected === true, 'the connection');

    const chunks: Message[] = [];
    for (let i = 0; i < CHUNKS; i++) chunks.push(snapChunk(1, 2, i * CHUNK_BYTES, CHUNKS * CHUNK_BYTES, new Uint8Array(CHUNK_BYTES).fill(i)));
    leader.transport.send([heartbeat(1, 2, 0), ...chunks]);
    await waitFor(() => follower.inbox.filter((m) => m.type === MessageType.Snap).length === CHUNKS, 'all 32 chunks', 30_000);
    streaming = false;

    // What the follower saw, in order: how many chunks arrived between consecutive heartbeats.
    const gaps: number[] = [];
    let chunksSinceHeartbeat = 0;
    let heartbeatsDuringStream = 0;
    let chunksSeen = 0;
    for (const m of follower.inbox) {
      if (m.type === MessageType.Snap) {
        chunksSeen++;
        chunksSinceHeartbeat++;
      } else if (m.type === MessageType.Heartbeat) {
        if (chunksSeen > 0 && chunksSeen < CHUNKS) heartbeatsDuringStream++;
        gaps.push(chunksSinceHeartbeat);
        chunksSinceHeartbeat = 0;
      }
    }
    // Queued in one turn behind the first heartbeat, yet not one giant frame: heartbeats go
    // round again and again during the stream. One chunk is in flight at a time, and the
    // follower acknowledges a chunk at once but answers a heartbeat at its next turn, so a
    // round trip lets a chunk or two pass (one, unloaded); written all at once, it would be 32.
    expect(heartbeatsDuringStream).toBeGreaterThanOrEqual(CHUNKS / 4);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(3);

    // Each chunk went in a frame of its own, and arrived whole and in order.
    const snaps = follower.inbox.filter((m) => m.type === MessageType.Snap);
    expect(snaps.map((m) => m.snapshot?.offset)).toEqual(chunks.map((m) => m.snapshot?.offset));
    expect(snaps.every((m, i) => m.snapshot?.data.byteLength === CHUNK_BYTES && m.snapshot.data[0] === i && m.snapshot.data[CHUNK_BYTES - 1] === i)).toBe(true);
    expect(leader.transport.status().get(2)?.messagesDropped).toBe(0);
  });
});
