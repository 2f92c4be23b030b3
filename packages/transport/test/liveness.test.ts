// Liveness ("heartbeats find dead connections"): a quiet but healthy connection is kept alive by
// pings and pongs; a silent one (a peer that stopped, or a SIGSTOPped process) is closed after
// idleTimeoutMs, logged, and redialled, and reconnects once the peer answers again.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FrameKind, TransportErrorCode } from '../src/index.js';
import { HOST, closeAll, heartbeat, startCluster, startNode, waitFor, expectNoSocketsLeft, type Node } from './support/fixtures.js';
import { rawAcceptor, rawDial, type RawAcceptor } from './support/raw-peer.js';

afterAll(expectNoSocketsLeft);

let nodes: Node[] = [];
let acceptor: RawAcceptor | null = null;
let child: ChildProcess | null = null;
afterEach(async () => {
  await acceptor?.close(); // first: a transport's close() waits for a peer that does not read
  await closeAll(nodes);
  if (child !== null && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  nodes = [];
  acceptor = null;
  child = null;
});

describe('liveness', () => {
  it('keeps a quiet healthy connection open with pings', async () => {
    nodes = await startCluster(2, { idleTimeoutMs: 300 });
    await waitFor(() => nodes.every((n) => [...n.transport.status().values()].every((s) => s.connected)), 'the connection');
    // Over several idle timeouts with no messages, both sides ping and hear pongs.
    await waitFor(() => nodes.every((n) => (n.transport.status().values().next().value?.pingsSent ?? 0) >= 6), 'six pings each way');
    for (const node of nodes) {
      const status = [...node.transport.status().values()][0];
      expect(status).toMatchObject({ connected: true, reconnects: 0 });
      expect(status?.lastContactMs).toBeLessThan(300);
      expect(node.logger.withCode(TransportErrorCode.IdleTimeout)).toEqual([]);
    }
  });

  it('closes and redials a connection to a peer that went silent', async () => {
    acceptor = await rawAcceptor({ selfId: 2, readAfterOpen: false });
    const node = await startNode(1, 0, [{ id: 2, host: HOST, port: acceptor.port }], { idleTimeoutMs: 150 });
    nodes = [node];
    await waitFor(() => node.logger.withCode(TransportErrorCode.IdleTimeout).length === 1, 'the idle timeout');
    const line = node.logger.withCode(TransportErrorCode.IdleTimeout)[0];
    expect(line?.level).toBe('warn');
    expect(line?.msg).toMatch(/^peer 2 at 127\.0\.0\.1:\d+ went silent, closing the connection: nothing heard for \d+ ms \(idleTimeoutMs 150\)$/);
    // It pinged before giving up, and then dialled again.
    expect(node.transport.status().get(2)?.pingsSent).toBeGreaterThanOrEqual(1);
    await waitFor(() => acceptor !== null && acceptor.accepted.length >= 2, 'a second connection');
  });

  it('closes a dialled connection whose dialer went silent (the acceptor side)', async () => {
    const node = await startNode(2, 0, [{ id: 1, host: HOST, port: 0 }], { idleTimeoutMs: 150 });
    nodes = [node];
    const raw = await rawDial(node.address.port, 2, { selfId: 1 });
    expect(raw.outcome?.[0]).toBe(FrameKind.Welcome);
    raw.socket.pause(); // reads nothing more, answers no ping
    await waitFor(() => node.logger.withCode(TransportErrorCode.IdleTimeout).length === 1, 'the idle timeout');
    expect(node.transport.status().get(1)?.connected).toBe(false);
    await raw.close();
  });

  it('recycles the connection to a SIGSTOPped process, and reconnects after SIGCONT', async () => {
    const script = fileURLToPath(new URL('./support/child-node.ts', import.meta.url));
    child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, IDLE_TIMEOUT_MS: '150' } });
    const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    const { port } = JSON.parse(line.toString()) as { port: number };
    const node = await startNode(1, 0, [{ id: 2, host: HOST, port }], { idleTimeoutMs: 150 });
    nodes = [node];
    await waitFor(() => node.transport.status().get(2)?.connected === true, 'the connection to the child');

    child.kill('SIGSTOP');
    await waitFor(() => node.logger.withCode(TransportErrorCode.IdleTimeout).length >= 1, 'the stopped peer to be found dead');
    expect(node.transport.status().get(2)?.connected).toBe(false);
    node.transport.send([heartbeat(1, 2, 1)]);
    await waitFor(() => node.unreachable.includes(2), 'onUnreachable(2) while the peer is stopped');

    child.kill('SIGCONT');
    await waitFor(() => node.transport.status().get(2)?.connected === true, 'the reconnect after SIGCONT', 15_000);
    expect(node.transport.status().get(2)?.reconnects).toBeGreaterThanOrEqual(1);
    child.stdin?.end();
    await once(child, 'exit');
  });
});
