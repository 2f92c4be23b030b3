// Reconnects: when a peer's transport closes, messages for it are dropped and reported (the core
// retries); the dialer redials with backoff, and once the peer is started again on the same
// port the same pair reconnects and messages flow again.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeAll, heartbeat, peersOf, startCluster, startNode, waitConnected, waitFor, expectNoSocketsLeft, type Node } from './support/fixtures.js';

afterAll(expectNoSocketsLeft);

let nodes: Node[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

describe('reconnect', () => {
  it('redials an acceptor that was closed and started again on the same port', async () => {
    nodes = await startCluster(2);
    await waitConnected(nodes);
    const [a, b] = nodes as [Node, Node];
    await b.transport.close();
    await waitFor(() => a.transport.status().get(2)?.connected === false, 'node 1 to see node 2 gone');
    expect(a.logger.lines.some((l) => l.level === 'warn' && l.msg.startsWith('connection to peer 2 at'))).toBe(true);

    // While node 2 is down: dropped, counted and reported once per turn; nothing queued.
    a.transport.send([heartbeat(1, 2, 1), heartbeat(1, 2, 2)]);
    await waitFor(() => a.unreachable.length === 1, 'onUnreachable(2)');
    expect(a.unreachable).toEqual([2]);
    expect(a.transport.status().get(2)).toMatchObject({ messagesDropped: 2, queuedBytes: 0 });
    // Several dials fail while node 2 is down (backoff from 10 ms): the loss was the one warning,
    // the failed redials are info lines, so an outage does not flood the log.
    await waitFor(() => a.logger.lines.filter((l) => l.msg.includes('unreachable (')).length >= 2, 'redials to fail');
    expect(a.logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(a.logger.lines.find((l) => l.msg.includes('unreachable ('))?.msg).toMatch(/^peer 2 at 127\.0\.0\.1:\d+ unreachable \(ECONNREFUSED\); redialling in \d+ ms$/);

    const b2 = await startNode(2, b.address.port, peersOf(nodes, 2));
    nodes = [a, b2];
    await waitConnected(nodes);
    expect(a.transport.status().get(2)?.reconnects).toBe(1);
    a.transport.send([heartbeat(1, 2, 3)]);
    b2.transport.send([heartbeat(2, 1, 4)]);
    await waitFor(() => b2.inbox.length === 1 && a.inbox.length === 1, 'messages both ways after the reconnect');
    expect(b2.inbox[0]?.commit).toBe(3);
    expect(a.inbox[0]?.commit).toBe(4);
  });

  it('keeps dialling a peer that is not up yet, and connects once it starts', async () => {
    // Take a port the OS chose, then free it: node 2 will start there later.
    const placeholder = await startNode(2, 0, []);
    const port = placeholder.address.port;
    await placeholder.transport.close();
    const a = await startNode(1, 0, [{ id: 2, host: '127.0.0.1', port }]);
    nodes = [a];
    await waitFor(() => a.logger.lines.filter((l) => l.msg.includes('unreachable (')).length >= 3, 'three failed dials');
    // The first failure is a warning, later ones info: masters start in any order.
    const levels = a.logger.lines.filter((l) => l.msg.includes('unreachable (')).map((l) => l.level);
    expect(levels[0]).toBe('warn');
    expect(levels.slice(1).every((level) => level === 'info')).toBe(true);
    const b = await startNode(2, port, [{ id: 1, host: '127.0.0.1', port: 0 }]);
    nodes = [a, b];
    await waitConnected(nodes);
    expect(a.transport.status().get(2)?.reconnects).toBe(0); // the first connection, however many dials it took
  });

  it('accepts a dialer that was closed and started again, replacing nothing it still holds', async () => {
    nodes = await startCluster(2);
    await waitConnected(nodes);
    const [a, b] = nodes as [Node, Node];
    await a.transport.close();
    await waitFor(() => b.transport.status().get(1)?.connected === false, 'node 2 to see node 1 gone');
    b.transport.send([heartbeat(2, 1, 1)]);
    await waitFor(() => b.unreachable.length === 1, 'onUnreachable(1)');

    const a2 = await startNode(1, 0, peersOf(nodes, 1));
    nodes = [a2, b];
    await waitConnected(nodes);
    expect(b.transport.status().get(1)?.reconnects).toBe(1);
    b.transport.send([heartbeat(2, 1, 2)]);
    await waitFor(() => a2.inbox.length === 1, 'a message to the restarted dialer');
    expect(a2.inbox[0]?.commit).toBe(2);
  });

  it('takes a new connection from a peer over its old one (the peer gave up on it)', async () => {
    nodes = await startCluster(2);
    await waitConnected(nodes);
    const [a, b] = nodes as [Node, Node];
    // Node 1 restarts without node 2 seeing the old connection close first: abort, not close(),
    // and then start again at once; node 2 may see the new connection before the old one ends.
    a.abort.abort();
    const a2 = await startNode(1, 0, peersOf(nodes, 1));
    nodes = [a2, b];
    await waitFor(() => b.transport.status().get(1)?.connected === true && a2.transport.status().get(2)?.connected === true, 'the new connection');
    b.transport.send([heartbeat(2, 1, 9)]);
    await waitFor(() => a2.inbox.length === 1, 'a message on the new connection');
    await a.transport.close();
  });
});
