// Shutdown (house rule 8): close() and aborting the signal settle only once every socket, timer
// and the server are gone, whatever state the transport was in (connected, mid-handshake,
// waiting to redial); a failed start leaves nothing behind either.

import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Transport, TransportErrorCode } from '../src/index.js';
import { HOST, activeHandles, baseOptions, capturingLogger, closeAll, heartbeat, startCluster, startNode, waitConnected, waitFor, expectNoSocketsLeft, type Node } from './support/fixtures.js';

/** The handle types the transport creates; none may outlive it. */
const TYPES = ['TCPSocketWrap', 'TCPServerWrap', 'TCPConnectWrap', 'Timeout', 'Immediate'];

function handles(): Record<string, number> {
  const all = activeHandles();
  return Object.fromEntries(TYPES.map((t) => [t, all[t] ?? 0]));
}

afterAll(expectNoSocketsLeft);

describe('shutdown', () => {
  it('close() leaves no sockets, servers, timers or immediates, in every state', async () => {
    const before = handles();
    const nodes = await startCluster(3, { idleTimeoutMs: 1000 });
    await waitConnected(nodes);
    // A peer that is down (node 1 is waiting to redial it), a stranger mid-handshake, and
    // messages queued for this turn's flush.
    const lonely = await startNode(1, 0, [{ id: 5, host: HOST, port: 1 }], { reconnectDelayMsMin: 1000, reconnectDelayMsMax: 1000 });
    await waitFor(() => lonely.logger.lines.some((l) => l.msg.includes('unreachable (')), 'a failed dial');
    const stranger = net.connect({ host: HOST, port: nodes[2]?.address.port ?? 0 });
    stranger.on('error', () => undefined);
    const strangerClosed = new Promise((resolve) => stranger.once('close', resolve));
    await new Promise((resolve) => stranger.once('connect', resolve));
    nodes[0]?.transport.send([heartbeat(1, 2, 1), heartbeat(1, 3, 1)]);

    await closeAll([...nodes, lonely]);
    await strangerClosed; // the transport closed it: it was never authenticated
    expect(handles()).toEqual(before);
    // Closing twice returns the same settled promise; sending after close does nothing.
    const node = nodes[0];
    expect(node?.transport.close()).toBe(node?.transport.close());
    node?.transport.send([heartbeat(1, 2, 2)]);
    expect(handles()).toEqual(before);
    expect(node?.unreachable).toEqual([]);
  });

  it('close() first sends what was given to send() in the same turn, then ends gracefully', async () => {
    const before = handles();
    const nodes = await startCluster(2);
    await waitConnected(nodes);
    const [a, b] = nodes as [Node, Node];
    // A leader's last words (thesis §3.10: TimeoutNow to its successor) must not be lost.
    a.transport.send([heartbeat(1, 2, 77)]);
    await a.transport.close();
    await waitFor(() => b.inbox.length === 1, 'the last message');
    expect(b.inbox[0]?.commit).toBe(77);
    await waitFor(() => b.transport.status().get(1)?.connected === false, 'node 2 to see node 1 leave');
    expect(b.logger.lines.find((l) => l.level === 'warn')?.msg).toMatch(/^connection to peer 1 at 127\.0\.0\.1:\d+ lost: closed by the other side$/);
    await b.transport.close();
    expect(handles()).toEqual(before);
  });

  it('aborting the signal closes everything, as close() does', async () => {
    const before = handles();
    const nodes = await startCluster(2);
    await waitConnected(nodes);
    for (const node of nodes) node.abort.abort(new Error('master shutting down'));
    await closeAll(nodes); // the same promise the abort started
    expect(handles()).toEqual(before);
    for (const node of nodes) expect(node.logger.lines.filter((l) => l.level !== 'info')).toEqual([]);
  });

  it('a signal aborted while starting rejects start() with its reason and leaves nothing', async () => {
    const before = handles();
    const abort = new AbortController();
    const starting = Transport.start({
      ...baseOptions(),
      self: { id: 1, host: HOST, port: 0 },
      peers: [{ id: 2, host: HOST, port: 1 }],
      onMessages: () => undefined,
      onUnreachable: () => undefined,
      logger: capturingLogger(),
      signal: abort.signal,
    });
    abort.abort(new Error('aborted while listening'));
    await expect(starting).rejects.toThrow('aborted while listening');
    expect(handles()).toEqual(before);
  });

  it('a port in use rejects start() with TRANSPORT_LISTEN_FAILED naming the address, and leaves nothing', async () => {
    const node = await startNode(2, 0, []);
    const before = handles();
    const starting = Transport.start({
      ...baseOptions(),
      self: { id: 1, host: HOST, port: node.address.port },
      peers: [],
      onMessages: () => undefined,
      onUnreachable: () => undefined,
      logger: capturingLogger(),
      signal: new AbortController().signal,
    });
    await expect(starting).rejects.toMatchObject({ code: TransportErrorCode.ListenFailed, message: expect.stringMatching(`cannot listen on 127.0.0.1:${node.address.port}: listen EADDRINUSE`) });
    expect(handles()).toEqual(before);
    await node.transport.close();
  });
});
