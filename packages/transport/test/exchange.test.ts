// Three transports on loopback: one connection per pair (the lower id dials), used both ways;
// every message arrives once, in the order it was sent, with its fields intact, and the status
// counters agree on both ends.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MessageType, type Message } from '@raftplane/raft';
import { append, closeAll, entry, heartbeat, startCluster, waitConnected, waitFor, expectNoSocketsLeft, type Node } from './support/fixtures.js';

afterAll(expectNoSocketsLeft);

let nodes: Node[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

describe('three transports', () => {
  it('connect pairwise, each pair on one connection dialled by the lower id', async () => {
    nodes = await startCluster(3);
    await waitConnected(nodes);
    for (const node of nodes) {
      const status = node.transport.status();
      expect([...status.keys()]).toEqual([1, 2, 3].filter((id) => id !== node.id));
      for (const s of status.values()) expect(s).toMatchObject({ connected: true, reconnects: 0, messagesDropped: 0, queuedBytes: 0 });
    }
    // Each node logged one "connected" line per peer, and no warnings or errors.
    for (const node of nodes) {
      expect(node.logger.lines.filter((l) => l.msg.startsWith('connected to peer'))).toHaveLength(2);
      expect(node.logger.lines.filter((l) => l.level !== 'info')).toEqual([]);
    }
  });

  it('deliver every message once, in send order, over many turns, in both directions', async () => {
    nodes = await startCluster(3);
    await waitConnected(nodes);
    const turns = 50;
    const perTurn = 20;
    for (let turn = 0; turn < turns; turn++) {
      for (const node of nodes) {
        const batch: Message[] = [];
        for (let i = 0; i < perTurn; i++) {
          const seq = turn * perTurn + i;
          for (const peer of nodes) {
            if (peer.id === node.id) continue;
            // Alternate heartbeats and appends: the sequence number rides in commit and index.
            batch.push(seq % 2 === 0 ? heartbeat(node.id, peer.id, seq) : append(node.id, peer.id, seq, [entry(seq + 1, 3, `from ${node.id} #${seq}`)]));
          }
        }
        node.transport.send(batch);
      }
      await new Promise((resolve) => setImmediate(resolve)); // let this turn's flush run
    }
    const total = turns * perTurn;
    await waitFor(() => nodes.every((n) => n.inbox.length === 2 * total), 'every message delivered');
    for (const node of nodes) {
      for (const sender of nodes) {
        if (sender.id === node.id) continue;
        const received = node.inbox.filter((m) => m.from === sender.id);
        expect(received.map((m) => (m.type === MessageType.Heartbeat ? m.commit : m.index))).toEqual(Array.from({ length: total }, (_, i) => i));
        expect(received.every((m) => m.to === node.id && m.term === 3)).toBe(true);
        const apps = received.filter((m) => m.type === MessageType.App);
        expect(new TextDecoder().decode(apps[0]?.entries[0]?.data)).toBe(`from ${sender.id} #1`);
        const out = sender.transport.status().get(node.id);
        const inn = node.transport.status().get(sender.id);
        expect(out?.messagesSent).toBe(total);
        expect(inn?.messagesReceived).toBe(total);
        expect(inn?.framesReceived).toBe(out?.framesSent);
        expect(out?.messagesDropped).toBe(0);
      }
    }
    // Coalescing: about one frame per turn per peer, not one per message.
    const sent = nodes[0]?.transport.status().get(2);
    expect(sent?.framesSent).toBeLessThanOrEqual(turns * 2);
  });

  it('reports lastContactMs from what was last received', async () => {
    nodes = await startCluster(2);
    await waitConnected(nodes);
    const contact = nodes[0]?.transport.status().get(2)?.lastContactMs;
    expect(contact).not.toBeNull();
    expect(contact).toBeLessThan(5_000);
  });
});
