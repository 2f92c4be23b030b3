// Membership proof: a connection from a wrong secret, a wrong cluster name, or an unknown or
// misrepresented id is refused, logged with a clear reason on both sides, and never delivers a
// message; the secret never crosses the wire; the handshake is bounded in time.

import net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { helloFrame, newNonce } from '../src/handshake.js';
import { FrameKind, TransportErrorCode, WIRE_VERSION, encodeMessagesFrame } from '../src/index.js';
import { CLUSTER, HOST, SECRET, closeAll, heartbeat, startCluster, startNode, waitConnected, waitFor, expectNoSocketsLeft, type Node } from './support/fixtures.js';
import { FrameReader, rawDial } from './support/raw-peer.js';

afterAll(expectNoSocketsLeft);

let nodes: Node[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

/** Node 2 as the acceptor, and node 1 configured with `overrides`, dialling it. */
async function dialWith(overrides: Parameters<typeof startNode>[3]): Promise<[Node, Node]> {
  const acceptor = await startNode(2, 0, [{ id: 1, host: HOST, port: 0 }]);
  const dialer = await startNode(1, 0, [acceptor.address], { reconnectDelayMsMin: 5, reconnectDelayMsMax: 20, ...overrides });
  nodes = [dialer, acceptor];
  return [dialer, acceptor];
}

describe('authentication', () => {
  it('refuses a peer with the wrong shared secret, on both sides, and delivers nothing', async () => {
    const [dialer, acceptor] = await dialWith({ secret: 'some-other-shared-secret' });
    await waitFor(() => acceptor.logger.withCode(TransportErrorCode.WrongSecret).length >= 2, 'two refused attempts');
    const line = acceptor.logger.withCode(TransportErrorCode.WrongSecret)[0];
    expect(line?.level).toBe('error');
    expect(line?.msg).toMatch(/^peer 1 at 127\.0\.0\.1:\d+ failed authentication: wrong shared secret$/);
    expect(line?.fields).toMatchObject({ peer: 1, code: TransportErrorCode.WrongSecret });
    await waitFor(() => dialer.logger.withCode(TransportErrorCode.Refused).length >= 1, 'the dialer to log the refusal');
    expect(dialer.logger.withCode(TransportErrorCode.Refused)[0]?.msg).toMatch(/^peer 2 at 127\.0\.0\.1:\d+ refused our connection: wrong shared secret$/);
    expect(dialer.logger.withCode(TransportErrorCode.Refused)[0]?.fields).toMatchObject({ remoteCode: TransportErrorCode.WrongSecret });
    // Never connected: messages are dropped, not delivered.
    dialer.transport.send([heartbeat(1, 2, 1)]);
    await waitFor(() => dialer.unreachable.length === 1, 'onUnreachable');
    expect(acceptor.inbox).toEqual([]);
    expect(acceptor.transport.status().get(1)?.connected).toBe(false);
    expect(dialer.transport.status().get(2)?.connected).toBe(false);
  });

  it('refuses a peer of another cluster', async () => {
    const [, acceptor] = await dialWith({ clusterName: 'another-cluster' });
    await waitFor(() => acceptor.logger.withCode(TransportErrorCode.WrongCluster).length >= 1, 'a refusal');
    expect(acceptor.logger.withCode(TransportErrorCode.WrongCluster)[0]?.msg).toMatch(
      /^peer 1 at 127\.0\.0\.1:\d+ failed authentication: wrong cluster name "another-cluster" \(this node is in "test-cluster"\)$/,
    );
  });

  it('refuses an id that is not a member', async () => {
    const acceptor = await startNode(2, 0, [{ id: 1, host: HOST, port: 0 }]);
    const stranger = await startNode(9, 0, [], {});
    nodes = [acceptor, stranger];
    const raw = await rawDial(acceptor.address.port, 2, { selfId: 9 });
    expect(raw.outcome?.[0]).toBe(FrameKind.Refused);
    expect(raw.outcome?.[1]).toBe(TransportErrorCode.UnknownPeer);
    expect(acceptor.logger.withCode(TransportErrorCode.UnknownPeer)[0]?.msg).toMatch(
      /^peer 9 at 127\.0\.0\.1:\d+ failed authentication: unknown peer id 9 \(members: 1, 2\)$/,
    );
    await raw.close();
  });

  it('refuses a member that claims an id it cannot hold here', async () => {
    nodes = await startCluster(3);
    await waitConnected(nodes);
    const node2 = nodes[1] as Node;
    // Node 3 dialling node 2 breaks the lower-dials-higher rule: someone claims to be node 3.
    const asHigher = await rawDial(node2.address.port, 2, { selfId: 3 });
    expect(asHigher.outcome?.[1]).toBe(TransportErrorCode.WrongPeer);
    // Node 1 claiming to have dialled node 3 reached node 2: a misconfigured address.
    const wrongTarget = await rawDial(node2.address.port, 3, { selfId: 1 });
    expect(wrongTarget.outcome?.[1]).toBe(TransportErrorCode.WrongPeer);
    const lines = node2.logger.withCode(TransportErrorCode.WrongPeer).map((l) => l.msg);
    expect(lines[0]).toMatch(/^peer 3 at 127\.0\.0\.1:\d+ failed authentication: node 3 may not dial node 2: the lower id dials the higher$/);
    expect(lines[1]).toMatch(/^peer 1 at 127\.0\.0\.1:\d+ failed authentication: dialled node 3 but reached node 2$/);
    // The real connections were not disturbed.
    expect(node2.transport.status().get(1)?.connected).toBe(true);
    expect(node2.transport.status().get(3)?.connected).toBe(true);
    await asHigher.close();
    await wrongTarget.close();
  });

  it('accepts the right secret, and never sends the secret on the wire', async () => {
    const acceptor = await startNode(2, 0, [{ id: 1, host: HOST, port: 0 }]);
    nodes = [acceptor];
    const raw = await rawDial(acceptor.address.port, 2, { selfId: 1 });
    expect(raw.outcome?.[0]).toBe(FrameKind.Welcome);
    // An authenticated raw peer's messages are delivered...
    raw.socket.write(encodeMessagesFrame(FrameKind.Messages, [heartbeat(1, 2, 42)], 0, 1));
    await waitFor(() => acceptor.inbox.length === 1, 'the message');
    expect(acceptor.inbox[0]?.commit).toBe(42);
    // ...and nothing the acceptor sent during the handshake contained the secret.
    const received: Buffer[] = [];
    const sniff = net.connect({ host: HOST, port: acceptor.address.port });
    sniff.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise((resolve) => sniff.once('connect', resolve));
    sniff.write(helloFrame({ version: WIRE_VERSION, clusterName: CLUSTER, dialerId: 1, acceptorId: 2, nonce: newNonce() }));
    await waitFor(() => received.length > 0, 'a challenge');
    expect(Buffer.concat(received).includes(Buffer.from(SECRET))).toBe(false);
    sniff.destroy();
    await raw.close();
  });

  it('refuses a different wire version', async () => {
    const acceptor = await startNode(2, 0, [{ id: 1, host: HOST, port: 0 }]);
    nodes = [acceptor];
    const socket = net.connect({ host: HOST, port: acceptor.address.port });
    const reader = new FrameReader(socket);
    socket.write(helloFrame({ version: WIRE_VERSION + 1, clusterName: CLUSTER, dialerId: 1, acceptorId: 2, nonce: newNonce() }));
    const refusal = await reader.next();
    expect(refusal?.slice(0, 2)).toEqual([FrameKind.Refused, TransportErrorCode.VersionMismatch]);
    expect(await reader.next()).toBeNull(); // and the acceptor closed the connection
  });

  it('closes a connection whose handshake does not finish within idleTimeoutMs', async () => {
    const acceptor = await startNode(2, 0, [{ id: 1, host: HOST, port: 0 }], { idleTimeoutMs: 100 });
    nodes = [acceptor];
    const socket = net.connect({ host: HOST, port: acceptor.address.port });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => undefined);
    await closed; // says nothing at all
    expect(acceptor.logger.withCode(TransportErrorCode.HandshakeTimeout)[0]?.msg).toMatch(
      /^unidentified peer at 127\.0\.0\.1:\d+ did not finish the handshake within 100 ms \(idleTimeoutMs\)$/,
    );
  });

  it('refuses messages sent before the handshake', async () => {
    const acceptor = await startNode(2, 0, [{ id: 1, host: HOST, port: 0 }]);
    nodes = [acceptor];
    const socket = net.connect({ host: HOST, port: acceptor.address.port });
    const reader = new FrameReader(socket);
    socket.write(encodeMessagesFrame(FrameKind.Messages, [heartbeat(1, 2, 1)], 0, 1));
    expect(await reader.next()).toBeNull();
    expect(acceptor.inbox).toEqual([]);
    expect(acceptor.logger.withCode(TransportErrorCode.HandshakeMalformed)[0]?.msg).toMatch(/^unidentified peer at .* broke the handshake: expected a Hello frame, got Messages$/);
  });
});
