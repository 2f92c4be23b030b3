// One peer's side of the transport: its bounded outgoing queue, the frames each flush writes,
// its open connection and its counters.

import assert from 'node:assert/strict';
import { MessageType, messageTypeName, type Message } from '@raftplane/raft';
import { encodeMessagesFrame, messageBytesBound } from './codec.js';
import { BULK_FRAMES_IN_FLIGHT_MAX, type Connection } from './connection.js';
import { TransportErrorCode } from './errors.js';
import { Fifo } from './fifo.js';
import type { PeerAddress, TransportLogger } from './options.js';
import { FRAME_HEADER_BYTES, FrameKind } from './wire.js';

export interface PeerStatus {
  /** An authenticated connection is open. */
  readonly connected: boolean;
  /** Milliseconds since anything (a frame, a pong, part of a frame) was received from the peer; null if never. */
  readonly lastContactMs: number | null;
  /** Bytes waiting for the peer: queued messages (bounded above) plus the socket's buffer. At most queueBytesMax. */
  readonly queuedBytes: number;
  /** Frames carrying messages (Messages and Bulk), sent and received. */
  readonly framesSent: number;
  readonly framesReceived: number;
  /** Socket writes carrying message frames: one per flush, however many frames it holds. */
  readonly writes: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  /** Messages for the peer dropped: not connected, queue full, larger than a frame, or queued when the connection was lost. */
  readonly messagesDropped: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly pingsSent: number;
  /** Authenticated connections after the first. */
  readonly reconnects: number;
}

export interface PeerLimits {
  readonly frameBytesMax: number;
  readonly queueBytesMax: number;
  readonly logger: TransportLogger;
}

export class Peer {
  readonly address: PeerAddress;
  /** This node dials the peer (its id is higher); otherwise the peer dials us. */
  readonly dials: boolean;
  /** The authenticated connection, if any. */
  connection: Connection | null = null;
  /** Dialer: the connection being made (connect or handshake), if any. */
  dialing: Connection | null = null;
  reconnectTimer: NodeJS.Timeout | null = null;
  /** Failed dials since the last open connection: the backoff's exponent. */
  failures = 0;
  /** Messages were dropped since the last flush: onUnreachable is due. */
  unreachable = false;
  lastReceivedMs: number | null = null;

  /**
   * Everything but snapshot chunks, in send order, written in full at the next flush. The bound
   * of each (messageBytesBound) is kept beside it, and their sum in controlBytes.
   */
  private readonly control: Message[] = [];
  private readonly controlBounds: number[] = [];
  private controlBytes = 0;
  /** Snapshot chunks, written one frame at a time as the peer acknowledges them, after control messages. */
  private readonly bulk = new Fifo<Message>();
  private bulkBytes = 0;
  /** A full queue is logged once, until a message is admitted again. */
  private full = false;

  private framesSent = 0;
  private framesReceived = 0;
  private writes = 0;
  private messagesSent = 0;
  private messagesReceived = 0;
  private messagesDropped = 0;
  private bytesSent = 0;
  private bytesReceived = 0;
  private pingsSentBefore = 0;
  /** Authenticated connections so far; reconnects are the ones after the first. */
  connections = 0;

  private readonly limits: PeerLimits;

  constructor(address: PeerAddress, selfId: number, limits: PeerLimits) {
    this.address = address;
    this.dials = address.id > selfId;
    this.limits = limits;
  }

  get id(): number {
    return this.address.id;
  }

  /** Queued message bytes plus what the socket still buffers: the figure queueBytesMax bounds. */
  queuedBytes(): number {
    return this.controlBytes + this.bulkBytes + (this.connection?.socket.writableLength ?? 0);
  }

  hasPending(): boolean {
    return this.control.length > 0 || this.bulk.length > 0;
  }

  /** Takes `m` into the queue, or drops it (not connected, too large, queue full) and marks the peer unreachable. */
  admit(m: Message): void {
    if (this.connection === null) {
      this.drop(1);
      return;
    }
    const bytes = messageBytesBound(m);
    if (bytes - FRAME_HEADER_BYTES > this.limits.frameBytesMax) {
      this.limits.logger.error(
        { peer: this.id, code: TransportErrorCode.MessageTooLarge, bytes, frameBytesMax: this.limits.frameBytesMax },
        `a ${messageTypeName(m.type)} to peer ${this.id} needs up to ${bytes} bytes, more than a frame (frameBytesMax ${this.limits.frameBytesMax}): dropped`,
      );
      this.drop(1);
      return;
    }
    const queued = this.queuedBytes();
    if (queued + bytes > this.limits.queueBytesMax) {
      if (!this.full) {
        this.limits.logger.warn(
          { peer: this.id, queuedBytes: queued, queueBytesMax: this.limits.queueBytesMax },
          `queue for peer ${this.id} is full (${queued} of ${this.limits.queueBytesMax} bytes): dropping messages until it drains`,
        );
      }
      this.full = true;
      this.drop(1);
      return;
    }
    this.full = false;
    if (m.type === MessageType.Snap) {
      this.bulk.push(m);
      this.bulkBytes += bytes;
    } else {
      this.control.push(m);
      this.controlBounds.push(bytes);
      this.controlBytes += bytes;
    }
  }

  /**
   * Writes what is queued: every control message, coalesced into as few frames as frameBytesMax
   * allows, then one snapshot chunk if none is in flight; all in one socket write (cork/uncork).
   * Heartbeats and appends thus never wait behind more than the one chunk in flight.
   */
  flush(): void {
    const c = this.connection;
    if (c === null) {
      this.dropPending();
      return;
    }
    if (!this.hasPending()) return;
    const bytesBefore = this.bytesSent;
    c.socket.cork();
    this.writeControl(c);
    this.writeBulk(c);
    c.socket.uncork();
    if (this.bytesSent > bytesBefore) this.writes++;
    if (!(this.controlBytes === 0 && this.control.length === 0)) assert.fail(`control queue of peer ${this.id} not empty after a flush`);
  }

  private writeControl(c: Connection): void {
    const n = this.control.length;
    if (n === 0) return;
    let start = 0;
    let frameBytes = 0;
    for (let i = 0; i < n; i++) {
      const bytes = this.controlBounds[i] as number;
      if (i > start && frameBytes + bytes - FRAME_HEADER_BYTES > this.limits.frameBytesMax) {
        this.writeFrame(c, FrameKind.Messages, this.control, start, i);
        start = i;
        frameBytes = 0;
      }
      frameBytes += bytes;
    }
    this.writeFrame(c, FrameKind.Messages, this.control, start, n);
    this.control.length = 0;
    this.controlBounds.length = 0;
    this.controlBytes = 0;
  }

  private writeBulk(c: Connection): void {
    if (c.bulkFramesInFlight >= BULK_FRAMES_IN_FLIGHT_MAX || this.bulk.length === 0) return;
    const m = this.bulk.shift() as Message;
    this.bulkBytes -= messageBytesBound(m);
    if (!(this.bulkBytes >= 0)) assert.fail(`bulk bytes of peer ${this.id} below 0: ${this.bulkBytes}`);
    this.writeFrame(c, FrameKind.Bulk, [m], 0, 1);
    c.bulkFramesInFlight++;
  }

  private writeFrame(c: Connection, kind: typeof FrameKind.Messages | typeof FrameKind.Bulk, messages: readonly Message[], start: number, end: number): void {
    const frame = encodeMessagesFrame(kind, messages, start, end);
    // Paired with the receiver's check: no frame we write is refused for its size.
    if (!(frame.byteLength - FRAME_HEADER_BYTES <= this.limits.frameBytesMax)) assert.fail(`frame of ${frame.byteLength} bytes above frameBytesMax ${this.limits.frameBytesMax}`);
    c.write(frame);
    this.framesSent++;
    this.messagesSent += end - start;
    this.bytesSent += frame.byteLength;
  }

  /** Drops everything queued (the connection is gone, or the transport is closing). */
  dropPending(): void {
    const count = this.control.length + this.bulk.clear();
    this.control.length = 0;
    this.controlBounds.length = 0;
    this.controlBytes = 0;
    this.bulkBytes = 0;
    if (count > 0) this.drop(count);
  }

  private drop(count: number): void {
    this.messagesDropped += count;
    this.unreachable = true;
  }

  /** The connection is authenticated. */
  attach(connection: Connection, nowMs: number): void {
    assert.equal(this.connection, null, `peer ${this.id} attached twice`);
    this.connection = connection;
    this.connections++;
    this.failures = 0;
    this.lastReceivedMs = nowMs;
  }

  /** The connection has gone: drop what was queued for it. */
  detach(connection: Connection): void {
    assert.equal(this.connection, connection, `peer ${this.id} detaching a connection it does not hold`);
    this.pingsSentBefore += connection.pingsSent;
    this.connection = null;
    this.dropPending();
  }

  received(messages: number, frames: number, bytes: number, nowMs: number): void {
    this.messagesReceived += messages;
    this.framesReceived += frames;
    this.bytesReceived += bytes;
    this.lastReceivedMs = nowMs;
  }

  status(nowMs: number): PeerStatus {
    return {
      connected: this.connection !== null,
      lastContactMs: this.lastReceivedMs === null ? null : Math.max(0, Math.round(nowMs - this.lastReceivedMs)),
      queuedBytes: this.queuedBytes(),
      framesSent: this.framesSent,
      framesReceived: this.framesReceived,
      writes: this.writes,
      messagesSent: this.messagesSent,
      messagesReceived: this.messagesReceived,
      messagesDropped: this.messagesDropped,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      pingsSent: this.pingsSentBefore + (this.connection?.pingsSent ?? 0),
      reconnects: Math.max(0, this.connections - 1),
    };
  }
}
