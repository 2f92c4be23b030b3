// A hand-driven peer on a raw socket: it speaks the handshake from either side with whatever
// identity, cluster and secret a test gives it, then sends arbitrary bytes or stops reading.
// Built from the package's own frame helpers, so it also documents the protocol.

import net, { type Server, type Socket } from 'node:net';
import { challengeFrame, helloFrame, newNonce, proofFrame, proofOf, welcomeFrame } from '../../src/handshake.js';
import { FrameDecoder, FrameKind, WIRE_VERSION, decodeFrameBody, type FrameBody } from '../../src/index.js';
import { CLUSTER, HOST, SECRET } from './fixtures.js';

/** Frames read from a socket, handed out in order as they arrive. */
export class FrameReader {
  private readonly frames: FrameBody[] = [];
  private waiting: ((frame: FrameBody | null) => void) | null = null;
  private ended = false;
  readonly decoder = new FrameDecoder(64 * 1024 * 1024);

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const error = this.decoder.push(chunk, (body) => {
        const frame = decodeFrameBody(body);
        if (frame instanceof Error) throw frame;
        this.frames.push(frame);
        return true;
      });
      if (error !== null) throw error;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const waiting = this.waiting;
    if (waiting === null) return;
    const frame = this.frames.shift();
    if (frame === undefined && !this.ended) return;
    this.waiting = null;
    waiting(frame ?? null);
  }

  /** The next frame, or null once the socket has closed with nothing left. */
  next(): Promise<FrameBody | null> {
    const frame = this.frames.shift();
    if (frame !== undefined || this.ended) return Promise.resolve(frame ?? null);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
}

export interface Identity {
  readonly selfId: number;
  readonly clusterName?: string;
  readonly secret?: string;
}

export interface RawConnection {
  readonly socket: Socket;
  readonly reader: FrameReader;
  /** The frame that ended the handshake: Welcome, Refused, or null when the socket closed. */
  readonly outcome: FrameBody | null;
  close(): Promise<void>;
}

function closeSocket(socket: Socket): Promise<void> {
  if (socket.destroyed && socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.destroy();
  });
}

/** Dials `port` as `selfId` claiming to reach `targetId`, and runs the dialer's side of the handshake. */
export async function rawDial(port: number, targetId: number, identity: Identity): Promise<RawConnection> {
  const socket = net.connect({ host: HOST, port });
  const reader = new FrameReader(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const clusterName = identity.clusterName ?? CLUSTER;
  const dialerNonce = newNonce();
  socket.write(helloFrame({ version: WIRE_VERSION, clusterName, dialerId: identity.selfId, acceptorId: targetId, nonce: dialerNonce }));
  let outcome = await reader.next();
  if (outcome !== null && outcome[0] === FrameKind.Challenge) {
    const acceptorNonce = outcome[1] as Uint8Array;
    const transcript = { clusterName, dialerId: identity.selfId, acceptorId: targetId, dialerNonce, acceptorNonce };
    socket.write(proofFrame(proofOf(identity.secret ?? SECRET, 'dialer', transcript)));
    outcome = await reader.next();
  }
  return { socket, reader, outcome, close: () => closeSocket(socket) };
}

export interface RawAcceptor {
  readonly port: number;
  /** Sockets that completed the handshake, in order. */
  readonly accepted: Socket[];
  /** Connections seen, authenticated or not. */
  connections: number;
  close(): Promise<void>;
}

export interface RawAcceptorOptions extends Identity {
  /** After the handshake: keep reading and answer pings (true), or stop reading altogether (false). */
  readonly readAfterOpen: boolean;
}

/** A server that authenticates dialers as `selfId` and then behaves as `readAfterOpen` says. */
export async function rawAcceptor(options: RawAcceptorOptions): Promise<RawAcceptor> {
  const sockets = new Set<Socket>();
  const result: RawAcceptor & { connections: number } = {
    port: 0,
    accepted: [],
    connections: 0,
    close: async () => {
      await Promise.all([...sockets].map(closeSocket));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = net.createServer((socket) => {
    result.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    void acceptOne(socket, options, result);
  });
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('raw acceptor not listening');
  return Object.assign(result, { port: address.port });
}

async function acceptOne(socket: Socket, options: RawAcceptorOptions, result: RawAcceptor): Promise<void> {
  const reader = new FrameReader(socket);
  const hello = await reader.next();
  if (hello === null || hello[0] !== FrameKind.Hello) return;
  const [, , clusterName, dialerId, acceptorId, dialerNonce] = hello as unknown as [number, number, string, number, number, Uint8Array];
  const acceptorNonce = newNonce();
  socket.write(challengeFrame(acceptorNonce));
  const proof = await reader.next();
  if (proof === null) return;
  const transcript = { clusterName: options.clusterName ?? clusterName, dialerId, acceptorId, dialerNonce, acceptorNonce };
  socket.write(welcomeFrame(proofOf(options.secret ?? SECRET, 'acceptor', transcript)));
  result.accepted.push(socket);
  if (!options.readAfterOpen) {
    // Stop reading: the kernel buffers fill, then the dialer's socket buffer, then its queue.
    socket.removeAllListeners('data');
    socket.pause();
  }
  // With readAfterOpen the reader keeps consuming; pings go unanswered either way, which is what
  // the idle test wants from a peer that has gone quiet.
}
