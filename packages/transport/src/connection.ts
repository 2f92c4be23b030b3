// One TCP connection to a peer: its handshake, its frame decoder, its liveness, and the checks
// every received message passes before the master sees it.

import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import type { Message } from '@raftplane/raft';
import { decodeMessages } from './codec.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { FrameDecoder } from './frame-decoder.js';
import {
  challengeFrame,
  checkHello,
  helloFrame,
  newNonce,
  parseBytes,
  parseHello,
  parseRefused,
  proofFrame,
  proofMatches,
  proofOf,
  refusedFrame,
  welcomeFrame,
  wrongSecret,
  type HandshakeTranscript,
  type Role,
} from './handshake.js';
import type { PeerAddress, TransportOptions } from './options.js';
import {
  BULK_ACK_FRAME,
  FrameKind,
  HANDSHAKE_FRAME_BYTES_MAX,
  PING_FRAME,
  PONG_FRAME,
  WIRE_VERSION,
  decodeFrameBody,
  frameKindName,
  type FrameBody,
} from './wire.js';

export const ConnectionState = {
  /** Dialer: the TCP connect is in progress. */
  Connecting: 0,
  /** Dialer: Hello sent, waiting for the acceptor's Challenge. */
  AwaitChallenge: 1,
  /** Dialer: Proof sent, waiting for the acceptor's Welcome. */
  AwaitWelcome: 2,
  /** Acceptor: waiting for the dialer's Hello. */
  AwaitHello: 3,
  /** Acceptor: Challenge sent, waiting for the dialer's Proof. */
  AwaitProof: 4,
  /** Authenticated: messages flow both ways. */
  Open: 5,
  /** Refused or failed: the socket is ending; input is ignored. */
  Closing: 6,
  /** The socket has closed. */
  Closed: 7,
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** Snapshot chunks in flight on one connection: the next is written only when the last is acknowledged. */
export const BULK_FRAMES_IN_FLIGHT_MAX = 1;

/** What a connection needs from the transport that owns it. */
export interface ConnectionHost {
  readonly options: Pick<TransportOptions, 'clusterName' | 'secret' | 'frameBytesMax' | 'queueBytesMax' | 'idleTimeoutMs' | 'logger'>;
  readonly selfId: number;
  /** Ids of the cluster's other members. */
  readonly peerIds: ReadonlySet<number>;
  now(): number;
  /** The connection is authenticated: the peer's id is `connection.peerId`. */
  opened(connection: Connection): void;
  /** One socket chunk was read on an open connection: its messages (maybe none) and counts. */
  received(connection: Connection, messages: Message[], frames: number, bytes: number): void;
  /** A Bulk frame written on this connection was acknowledged. */
  bulkAcked(connection: Connection): void;
  /** The connection stopped being open (failed, destroyed, or closed by the peer): take it out of service. */
  detached(connection: Connection): void;
  /** The socket has closed; `connection.error` says why, when it was not the transport's doing. */
  closed(connection: Connection): void;
}

type LogLevel = 'warn' | 'error';

/** The phrase a log line uses for each failure, after "peer N at host:port". */
function failurePhrase(code: TransportErrorCode): string {
  switch (code) {
    case TransportErrorCode.WrongSecret:
    case TransportErrorCode.WrongCluster:
    case TransportErrorCode.UnknownPeer:
    case TransportErrorCode.WrongPeer:
    case TransportErrorCode.VersionMismatch:
      return 'failed authentication: ';
    case TransportErrorCode.Refused:
      return '';
    case TransportErrorCode.HandshakeMalformed:
      return 'broke the handshake: ';
    case TransportErrorCode.HandshakeTimeout:
      return '';
    case TransportErrorCode.IdleTimeout:
      return 'went silent, closing the connection: ';
    case TransportErrorCode.ConnectionLost:
      return 'connection lost: ';
    default:
      return 'sent a bad frame, closing the connection: ';
  }
}

export class Connection {
  readonly role: Role;
  readonly socket: Socket;
  /** `host:port` of the other end, for logs. */
  readonly address: string;
  /** The peer: known when dialling; for an acceptor, the id its Hello claims (0 before). */
  peerId: number;
  state: ConnectionState;
  readonly startedMs: number;
  lastReceivedMs: number;
  private lastPingMs = 0;
  /** When the connection began to close (refused, or ended gracefully): bounds how long that may take. */
  private closingSinceMs = 0;
  /** The handshake succeeded at some point. */
  wasOpen = false;
  pingsSent = 0;
  /** Invariant: 0 <= bulkFramesInFlight <= BULK_FRAMES_IN_FLIGHT_MAX. */
  bulkFramesInFlight = 0;
  /** Why the connection failed; null while it is fine, or when the transport closed it. */
  error: TransportError | null = null;
  /** Settles once the socket has closed. */
  readonly closed: Promise<void>;
  private readonly host: ConnectionHost;
  private readonly decoder = new FrameDecoder(HANDSHAKE_FRAME_BYTES_MAX);
  private dialerNonce: Uint8Array | null = null;
  private acceptorNonce: Uint8Array | null = null;
  /** Messages decoded from the chunk being read; handed over once the chunk is done. */
  private inbox: Message[] = [];
  private framesInChunk = 0;
  private readonly onFrame = (body: Buffer): boolean => this.frame(body);

  private constructor(host: ConnectionHost, role: Role, socket: Socket, address: string, peerId: number, state: ConnectionState) {
    this.host = host;
    this.role = role;
    this.socket = socket;
    this.address = address;
    this.peerId = peerId;
    this.state = state;
    this.startedMs = host.now();
    this.lastReceivedMs = this.startedMs;
    // Spelled out rather than left to defaults: Raft messages are small and latency-bound (no
    // Nagle), and kernel keepalive is a backstop under our own pings for a vanished host.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, host.options.idleTimeoutMs);
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        const wasOpen = this.state === ConnectionState.Open;
        this.state = ConnectionState.Closed;
        if (wasOpen) host.detached(this);
        this.decoder.stop();
        host.closed(this);
        resolve();
      });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error ??= new TransportError(TransportErrorCode.ConnectionLost, error.code ?? error.message, this.details(), { cause: error });
    });
    socket.on('end', () => {
      this.error ??= new TransportError(TransportErrorCode.ConnectionLost, 'closed by the other side', this.details());
    });
    socket.on('data', (chunk: Buffer) => this.data(chunk));
  }

  /** Dials `peer` (whose id is above ours) and starts the handshake once connected. */
  static dial(host: ConnectionHost, peer: PeerAddress): Connection {
    assert.ok(peer.id > host.selfId, `node ${host.selfId} dialling node ${peer.id}: the lower id dials`);
    const socket = net.connect({ host: peer.host, port: peer.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: host.options.idleTimeoutMs });
    const connection = new Connection(host, 'dialer', socket, `${peer.host}:${peer.port}`, peer.id, ConnectionState.Connecting);
    socket.once('connect', () => connection.connected());
    return connection;
  }

  /** Takes a socket the server accepted; the dialer speaks first. */
  static accept(host: ConnectionHost, socket: Socket): Connection {
    const address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    return new Connection(host, 'acceptor', socket, address, 0, ConnectionState.AwaitHello);
  }

  get open(): boolean {
    return this.state === ConnectionState.Open;
  }

  /** Writes a frame; the caller has charged it against the peer's queue. */
  write(frame: Buffer): void {
    assert.equal(this.state, ConnectionState.Open, 'write on a connection that is not open');
    this.socket.write(frame);
  }

  /**
   * Ends an open connection gracefully: what was written is sent, then a FIN; the peer's side
   * closes in answer. Input is ignored from now on. Any other connection is destroyed.
   */
  end(): void {
    if (this.state !== ConnectionState.Open) {
      this.destroy();
      return;
    }
    this.state = ConnectionState.Closing;
    this.closingSinceMs = this.host.now();
    this.decoder.stop();
    this.socket.end();
    this.host.detached(this);
  }

  /** Ends the connection without a log line (the transport is closing, or a newer one replaced it). */
  destroy(): void {
    if (this.state === ConnectionState.Closed) return;
    const wasOpen = this.state === ConnectionState.Open;
    this.state = ConnectionState.Closing;
    this.decoder.stop();
    this.socket.destroy();
    if (wasOpen) this.host.detached(this);
  }

  /** Liveness, called by the transport's coarse timer: ping when quiet, close when silent or stuck. */
  tick(nowMs: number): void {
    const idleMs = this.host.options.idleTimeoutMs;
    if (this.state === ConnectionState.Open) {
      const silentMs = nowMs - this.lastReceivedMs;
      if (silentMs >= idleMs) {
        this.fail(new TransportError(TransportErrorCode.IdleTimeout, `nothing heard for ${Math.round(silentMs)} ms (idleTimeoutMs ${idleMs})`, this.details()), 'warn');
      } else if (silentMs >= idleMs / 4 && nowMs - this.lastPingMs >= idleMs / 4 && this.socket.writableLength <= this.host.options.queueBytesMax) {
        this.socket.write(PING_FRAME);
        this.lastPingMs = nowMs;
        this.pingsSent++;
      }
    } else if (this.state === ConnectionState.Closing) {
      // A refused or ended peer that does not close its side: our last frame had its chance.
      if (nowMs - this.closingSinceMs >= idleMs) this.socket.destroy();
    } else if (this.state !== ConnectionState.Closed && nowMs - this.startedMs >= idleMs) {
      // Covers the TCP connect and the handshake.
      const what = this.state === ConnectionState.Connecting ? 'could not be reached' : 'did not finish the handshake';
      this.fail(new TransportError(TransportErrorCode.HandshakeTimeout, `${what} within ${idleMs} ms (idleTimeoutMs)`, this.details()), 'warn');
    }
  }

  private details(): { peer?: number; address: string } {
    return this.peerId === 0 ? { address: this.address } : { peer: this.peerId, address: this.address };
  }

  private who(): string {
    return this.peerId === 0 ? `unidentified peer at ${this.address}` : `peer ${this.peerId} at ${this.address}`;
  }

  /** Logs `error` naming the peer and what was wrong, and closes the connection. */
  private fail(error: TransportError, level: LogLevel): void {
    if (this.state === ConnectionState.Closing || this.state === ConnectionState.Closed) return;
    this.error = error;
    this.host.options.logger[level]({ ...this.details(), ...error.details, code: error.code }, `${this.who()} ${failurePhrase(error.code)}${error.message}`);
    this.destroy();
  }

  /** Refuses the peer's handshake: logs the reason, tells the peer why, and ends the socket. */
  private refuse(error: TransportError): void {
    this.error = error;
    this.host.options.logger.error({ ...this.details(), code: error.code }, `${this.who()} ${failurePhrase(error.code)}${error.message}`);
    this.state = ConnectionState.Closing;
    this.closingSinceMs = this.host.now();
    this.decoder.stop();
    // end(), not destroy(): the refusal reaches the peer, and reading on avoids a reset. The
    // liveness tick destroys a socket whose peer never closes its side.
    this.socket.end(refusedFrame(error));
  }

  private connected(): void {
    if (this.state !== ConnectionState.Connecting) return;
    this.dialerNonce = newNonce();
    this.state = ConnectionState.AwaitChallenge;
    this.socket.write(helloFrame({ version: WIRE_VERSION, clusterName: this.host.options.clusterName, dialerId: this.host.selfId, acceptorId: this.peerId, nonce: this.dialerNonce }));
  }

  private data(chunk: Buffer): void {
    if (this.state === ConnectionState.Closing || this.state === ConnectionState.Closed) return;
    this.lastReceivedMs = this.host.now();
    const wasOpen = this.state === ConnectionState.Open;
    const error = this.decoder.push(chunk, this.onFrame);
    // Messages of the frames before a bad one are authentic and whole: they are delivered.
    if (wasOpen || this.state === ConnectionState.Open) {
      const messages = this.inbox;
      const frames = this.framesInChunk;
      this.inbox = [];
      this.framesInChunk = 0;
      this.host.received(this, messages, frames, chunk.byteLength);
    }
    if (error !== null) this.fail(error, 'error');
  }

  private frame(body: Buffer): boolean {
    const frame = decodeFrameBody(body);
    if (frame instanceof TransportError) {
      this.fail(frame, 'error');
    } else if (this.state === ConnectionState.Open) {
      this.openFrame(frame);
    } else {
      this.handshakeFrame(frame);
    }
    return this.state !== ConnectionState.Closing && this.state !== ConnectionState.Closed;
  }

  private openFrame(frame: FrameBody): void {
    switch (frame[0]) {
      case FrameKind.Messages:
      case FrameKind.Bulk:
        this.messagesFrame(frame);
        return;
      case FrameKind.BulkAck:
        if (this.bulkFramesInFlight === 0) {
          this.fail(new TransportError(TransportErrorCode.MalformedFrame, 'BulkAck with no Bulk frame in flight', this.details()), 'error');
          return;
        }
        this.bulkFramesInFlight--;
        this.host.bulkAcked(this);
        return;
      case FrameKind.Ping:
        // Bounded like everything we write: a peer that pings but never reads gets no pongs.
        if (this.socket.writableLength <= this.host.options.queueBytesMax) this.socket.write(PONG_FRAME);
        return;
      case FrameKind.Pong:
        return;
      default:
        this.fail(new TransportError(TransportErrorCode.MalformedFrame, `handshake frame ${frameKindName(frame[0])} on an open connection`, this.details()), 'error');
    }
  }

  private messagesFrame(frame: FrameBody): void {
    if (frame.length !== 2) {
      this.fail(new TransportError(TransportErrorCode.MalformedFrame, `${frameKindName(frame[0])} frame of ${frame.length} items, expected 2`, this.details()), 'error');
      return;
    }
    const first = this.inbox.length;
    const error = decodeMessages(frame[1], this.inbox) ?? this.checkAddresses(first);
    if (error !== null) {
      this.inbox.length = first; // none of a bad frame's messages are delivered
      this.fail(new TransportError(error.code, error.message, this.details()), 'error');
      return;
    }
    this.framesInChunk++;
    if (frame[0] === FrameKind.Bulk && this.socket.writableLength <= this.host.options.queueBytesMax) this.socket.write(BULK_ACK_FRAME);
  }

  /** Every message from `first` on must come from the authenticated peer and be for this node. */
  private checkAddresses(first: number): TransportError | null {
    for (let i = first; i < this.inbox.length; i++) {
      const m = this.inbox[i] as Message;
      if (m.from !== this.peerId || m.to !== this.host.selfId) {
        return new TransportError(
          TransportErrorCode.MisaddressedMessage,
          `message ${i - first} is from ${m.from} to ${m.to}, but this connection is from ${this.peerId} to ${this.host.selfId}`,
        );
      }
    }
    return null;
  }

  private handshakeFrame(frame: FrameBody): void {
    if (frame[0] === FrameKind.Refused && this.role === 'dialer') {
      const refusal = parseRefused(frame);
      this.fail(new TransportError(refusal.code, refusal.message, { ...this.details(), ...refusal.details }), 'error');
      return;
    }
    switch (this.state) {
      case ConnectionState.AwaitHello:
        this.hello(frame);
        return;
      case ConnectionState.AwaitProof:
        this.proof(frame);
        return;
      case ConnectionState.AwaitChallenge:
        this.challenge(frame);
        return;
      case ConnectionState.AwaitWelcome:
        this.welcome(frame);
        return;
      default:
        this.fail(new TransportError(TransportErrorCode.HandshakeMalformed, `${frameKindName(frame[0])} frame before the connection was made`, this.details()), 'error');
    }
  }

  private transcript(): HandshakeTranscript {
    assert.ok(this.dialerNonce !== null && this.acceptorNonce !== null, 'handshake transcript before both nonces');
    const dialerId = this.role === 'dialer' ? this.host.selfId : this.peerId;
    const acceptorId = this.role === 'dialer' ? this.peerId : this.host.selfId;
    return { clusterName: this.host.options.clusterName, dialerId, acceptorId, dialerNonce: this.dialerNonce, acceptorNonce: this.acceptorNonce };
  }

  private hello(frame: FrameBody): void {
    const hello = parseHello(frame);
    if (hello instanceof TransportError) {
      this.fail(hello, 'error');
      return;
    }
    this.peerId = hello.dialerId;
    const refusal = checkHello(hello, { clusterName: this.host.options.clusterName, selfId: this.host.selfId, peerIds: this.host.peerIds });
    if (refusal !== null) {
      this.refuse(refusal);
      return;
    }
    this.dialerNonce = hello.nonce;
    this.acceptorNonce = newNonce();
    this.state = ConnectionState.AwaitProof;
    this.socket.write(challengeFrame(this.acceptorNonce));
  }

  private proof(frame: FrameBody): void {
    const proof = parseBytes(frame, FrameKind.Proof);
    if (proof instanceof TransportError) {
      this.fail(proof, 'error');
      return;
    }
    const transcript = this.transcript();
    if (!proofMatches(proofOf(this.host.options.secret, 'dialer', transcript), proof)) {
      this.refuse(wrongSecret());
      return;
    }
    this.socket.write(welcomeFrame(proofOf(this.host.options.secret, 'acceptor', transcript)));
    this.becomeOpen();
  }

  private challenge(frame: FrameBody): void {
    const nonce = parseBytes(frame, FrameKind.Challenge);
    if (nonce instanceof TransportError) {
      this.fail(nonce, 'error');
      return;
    }
    this.acceptorNonce = nonce;
    this.state = ConnectionState.AwaitWelcome;
    this.socket.write(proofFrame(proofOf(this.host.options.secret, 'dialer', this.transcript())));
  }

  private welcome(frame: FrameBody): void {
    const proof = parseBytes(frame, FrameKind.Welcome);
    if (proof instanceof TransportError) {
      this.fail(proof, 'error');
      return;
    }
    if (!proofMatches(proofOf(this.host.options.secret, 'acceptor', this.transcript()), proof)) {
      this.fail(wrongSecret(), 'error');
      return;
    }
    this.becomeOpen();
  }

  private becomeOpen(): void {
    this.state = ConnectionState.Open;
    this.wasOpen = true;
    this.decoder.frameBytesMax = this.host.options.frameBytesMax;
    this.lastReceivedMs = this.host.now();
    this.host.opened(this);
  }
}
