// The frame layer: a 4-byte big-endian body length, then a MessagePack array whose first item is
// the frame kind. Everything that crosses a peer connection is one of these frames.

import assert from 'node:assert/strict';
import { Packr, RESERVE_START_SPACE } from 'msgpackr';
import { TransportError, TransportErrorCode } from './errors.js';

/**
 * The wire version, sent in the dialer's Hello. Peers of another version are refused with
 * TRANSPORT_VERSION_MISMATCH; bump it with any change to a frame's layout or the message tuple.
 */
export const WIRE_VERSION = 1;

export const FRAME_HEADER_BYTES = 4;

/** The largest handshake frame accepted: a Hello with a 255-byte cluster name fits with room to spare. */
export const HANDSHAKE_FRAME_BYTES_MAX = 1024;

export const FrameKind = {
  /** Dialer: `[Hello, version, clusterName, dialerId, acceptorId, dialerNonce]`. */
  Hello: 1,
  /** Acceptor: `[Challenge, acceptorNonce]`. */
  Challenge: 2,
  /** Dialer: `[Proof, hmac]`, HMAC-SHA256 in the dialer's role over both ids and nonces. */
  Proof: 3,
  /** Acceptor: `[Welcome, hmac]`, the same in the acceptor's role; the connection is open. */
  Welcome: 4,
  /** Either side, in the handshake: `[Refused, code, text]`, then the connection closes. */
  Refused: 5,
  /** `[Messages, [message tuple, ...]]`: any number of Raft messages, in send order. */
  Messages: 6,
  /** `[Bulk, [message tuple]]`: one snapshot chunk; acknowledged by a BulkAck (flow control). */
  Bulk: 7,
  /** `[BulkAck]`: a Bulk frame was received; the sender may write the next. */
  BulkAck: 8,
  /** `[Ping]`: nothing was heard for a while; the other side answers Pong. */
  Ping: 9,
  /** `[Pong]`. */
  Pong: 10,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const frameKindNames: readonly string[] = ['', ...Object.keys(FrameKind)];
export function frameKindName(kind: number): string {
  return frameKindNames[kind] ?? `Unknown(${kind})`;
}

/**
 * One encoder for every frame. No records or shared structures, so every frame decodes on its
 * own; buffers the encoder returns are never overwritten by later frames (no REUSE_BUFFER_MODE),
 * so a frame may wait in a socket's buffer while the next is encoded.
 */
const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, structuredClone: false });
/** Decoding: byte strings come out as views into the frame (zero copy), 64-bit integers as numbers. */
const unpackr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, int64AsType: 'number', copyBuffers: false });

/**
 * Encodes `body` (an array starting with its frame kind) as one frame: header and body in one
 * buffer, with the header written into space the encoder reserved, so the body is not copied.
 */
export function encodeFrame(body: readonly unknown[]): Buffer {
  const frame = packr.pack(body, RESERVE_START_SPACE | FRAME_HEADER_BYTES);
  const bodyBytes = frame.byteLength - FRAME_HEADER_BYTES;
  if (!(bodyBytes > 0)) assert.fail(`frame body of ${bodyBytes} bytes`);
  frame.writeUInt32BE(bodyBytes, 0);
  return frame;
}

/** A frame's body, decoded: an array whose first item is a known frame kind. */
export type FrameBody = readonly [FrameKind, ...unknown[]];

/** Decodes a frame body from MessagePack and checks it is an array led by a known kind. */
export function decodeFrameBody(body: Uint8Array): FrameBody | TransportError {
  let value: unknown;
  try {
    value = unpackr.unpack(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return new TransportError(TransportErrorCode.MalformedFrame, `frame of ${body.byteLength} bytes is not MessagePack: ${reason}`);
  }
  if (!Array.isArray(value) || value.length === 0) {
    return new TransportError(TransportErrorCode.MalformedFrame, `frame body is ${describe(value)}, expected an array led by a frame kind`);
  }
  const kind: unknown = value[0];
  if (typeof kind !== 'number' || !Number.isInteger(kind) || kind < FrameKind.Hello || kind > FrameKind.Pong) {
    return new TransportError(TransportErrorCode.MalformedFrame, `unknown frame kind ${describe(kind)}`);
  }
  return value as unknown as FrameBody;
}

/** A short description of a decoded value for error messages: its type, and its value when small. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}

/** The constant frames, encoded once (allocate up front); sockets only read them. */
export const PING_FRAME: Buffer = Buffer.from(encodeFrame([FrameKind.Ping]));
export const PONG_FRAME: Buffer = Buffer.from(encodeFrame([FrameKind.Pong]));
export const BULK_ACK_FRAME: Buffer = Buffer.from(encodeFrame([FrameKind.BulkAck]));
