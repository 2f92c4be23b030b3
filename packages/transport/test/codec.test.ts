// The wire codec: every message type the cores exchange survives a round trip through a frame
// (snapshot chunks and empty and large data included), and every malformed field is refused
// with an error naming it, before the core could see it.

import { describe, expect, it } from 'vitest';
import { CAMPAIGN_TRANSFER, EMPTY_BYTES, MessageType, isLocalMessage, makeMessage, messageTypeName, type Message } from '@raftplane/raft';
import {
  FRAME_HEADER_BYTES,
  FrameKind,
  TransportError,
  TransportErrorCode,
  decodeFrameBody,
  decodeMessages,
  encodeFrame,
  encodeMessagesFrame,
  messageBytesBound,
  messageToTuple,
  tupleToMessage,
} from '../src/index.js';
import { append, entry, heartbeat, snapChunk } from './support/fixtures.js';

/** Encodes `messages` in one frame, then decodes it as the receiver does. */
function roundTrip(messages: readonly Message[]): Message[] {
  const frame = encodeMessagesFrame(FrameKind.Messages, messages, 0, messages.length);
  expect(frame.readUInt32BE(0)).toBe(frame.byteLength - FRAME_HEADER_BYTES);
  const body = decodeFrameBody(frame.subarray(FRAME_HEADER_BYTES));
  if (body instanceof TransportError) throw body;
  expect(body[0]).toBe(FrameKind.Messages);
  const out: Message[] = [];
  const error = decodeMessages(body[1], out);
  if (error !== null) throw error;
  return out;
}

/** Messages compare equal when their byte fields hold the same bytes, whatever their class. */
function plain(m: Message): unknown {
  const bytes = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
  return {
    ...m,
    entries: m.entries.map((e) => ({ ...e, data: bytes(e.data) })),
    snapshot: m.snapshot === null ? null : { ...m.snapshot, data: bytes(m.snapshot.data) },
    context: bytes(m.context),
  };
}

const wireTypes = Object.values(MessageType).filter((t) => !isLocalMessage(t));

/** A message of `type` with the fields that type carries in the core, filled in. */
function exampleOf(type: MessageType): Message {
  const base = { type, to: 2, logTerm: 4, index: 7, commit: 6, reject: type === MessageType.AppResp, rejectHint: type === MessageType.AppResp ? 3 : 0 };
  switch (type) {
    case MessageType.App:
      return makeMessage({ ...base, entries: [entry(8, 5), entry(9, 5, EMPTY_BYTES)] }, 1, 5);
    case MessageType.Prop:
      return makeMessage({ ...base, entries: [entry(0, 0, 'proposal')] }, 1, 0);
    case MessageType.Snap:
      return snapChunk(1, 2, 0, 10, new Uint8Array([1, 2, 3]));
    case MessageType.SnapResp:
      return makeMessage({ ...base, snapshot: { metadata: { index: 100, term: 3, confState: { voters: [1, 2, 3] } }, offset: 3, totalBytes: 0, data: EMPTY_BYTES } }, 1, 5);
    case MessageType.Vote:
      return makeMessage({ ...base, context: CAMPAIGN_TRANSFER }, 1, 5);
    case MessageType.ReadIndex:
    case MessageType.ReadIndexResp:
    case MessageType.Heartbeat:
    case MessageType.HeartbeatResp:
      return makeMessage({ ...base, context: new Uint8Array([9, 9]) }, 1, 5);
    default:
      return makeMessage(base, 1, 5);
  }
}

describe('message codec round trips', () => {
  it.each(wireTypes.map((t) => [messageTypeName(t), t] as const))('%s survives a round trip', (_name, type) => {
    const m = exampleOf(type);
    const [decoded] = roundTrip([m]);
    expect(plain(decoded as Message)).toEqual(plain(m));
  });

  it('keeps many messages of every type in one frame, in order', () => {
    const messages = wireTypes.flatMap((t) => [exampleOf(t), exampleOf(t)]);
    expect(roundTrip(messages).map(plain)).toEqual(messages.map(plain));
  });

  it('carries empty data, empty contexts and a 1 MiB snapshot chunk', () => {
    const big = new Uint8Array(1024 * 1024);
    for (let i = 0; i < big.byteLength; i++) big[i] = i * 7;
    const messages = [
      append(1, 2, 0, [entry(1, 1, EMPTY_BYTES)]),
      heartbeat(1, 2, 0, EMPTY_BYTES),
      snapChunk(1, 2, 0, big.byteLength, big),
      snapChunk(1, 2, big.byteLength, big.byteLength, EMPTY_BYTES),
    ];
    const decoded = roundTrip(messages);
    expect(decoded.map(plain)).toEqual(messages.map(plain));
    expect(decoded[2]?.snapshot?.data.byteLength).toBe(1024 * 1024);
  });

  it('carries term, index and commit values up to 2^53 - 1', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const m = makeMessage({ type: MessageType.App, to: max, index: max - 1, logTerm: max, commit: max, rejectHint: max, entries: [entry(max, max)] }, max, max);
    expect(plain(roundTrip([m])[0] as Message)).toEqual(plain(m));
  });

  it('hands out byte strings as views into the frame, not copies', () => {
    const frame = encodeMessagesFrame(FrameKind.Messages, [append(1, 2, 0, [entry(1, 1, 'abc')])], 0, 1);
    const body = decodeFrameBody(frame.subarray(FRAME_HEADER_BYTES));
    if (body instanceof TransportError) throw body;
    const out: Message[] = [];
    decodeMessages(body[1], out);
    expect(out[0]?.entries[0]?.data.buffer).toBe(frame.buffer);
  });

  it('never encodes a message larger than its computed bound', () => {
    const messages = [...wireTypes.map(exampleOf), snapChunk(1, 2, 0, 5000, new Uint8Array(5000)), append(1, 2, 10, Array.from({ length: 64 }, (_, i) => entry(11 + i, 3, new Uint8Array(100))))];
    for (const m of messages) {
      const frame = encodeMessagesFrame(FrameKind.Messages, [m], 0, 1);
      expect(frame.byteLength, messageTypeName(m.type)).toBeLessThanOrEqual(messageBytesBound(m));
    }
  });
});

/** The code and text of the error decoding `tuple` gives. */
function rejection(tuple: unknown): { code: string; message: string } {
  const result = tupleToMessage(tuple);
  if (!(result instanceof TransportError)) return { code: 'accepted', message: '' };
  return { code: result.code, message: result.message };
}

/** A valid App's tuple with position `i` replaced by `value`. */
function withField(i: number, value: unknown, m: Message = append(1, 2, 4, [entry(5, 3)])): unknown[] {
  const tuple = messageToTuple(m);
  tuple[i] = value;
  return tuple;
}

describe('message codec validation', () => {
  it('refuses an unknown message type, and local types that never cross the wire', () => {
    expect(rejection(withField(0, 99))).toEqual({ code: TransportErrorCode.UnknownMessageType, message: 'unknown message type number 99' });
    expect(rejection(withField(0, 'App')).code).toBe(TransportErrorCode.UnknownMessageType);
    for (const local of [MessageType.Hup, MessageType.Beat, MessageType.Unreachable, MessageType.CheckQuorum]) {
      expect(rejection(withField(0, local)).message).toMatch(/is local to a core/);
    }
  });

  it.each([
    ['to', 1, 0, /to is number 0, expected a node id/],
    ['from', 2, -1, /from is number -1/],
    ['term', 3, 1.5, /term is number 1.5, expected an integer >= 0/],
    ['logTerm', 4, '3', /logTerm is the string "3"/],
    ['index', 5, 2 ** 53, /index is number 9007199254740992/],
    ['entries', 6, 'x', /entries is the string "x", expected an array/],
    ['commit', 7, null, /commit is null/],
    ['reject', 9, 0, /reject is number 0, expected a boolean/],
    ['rejectHint', 10, -5, /rejectHint is number -5/],
    ['context', 11, 'ctx', /context is the string "ctx", expected a byte string/],
  ])('refuses a bad %s', (_field, i, value, message) => {
    const { code, message: text } = rejection(withField(i, value));
    expect(code).toBe(TransportErrorCode.MalformedMessage);
    expect(text).toMatch(message);
  });

  it('refuses a tuple of the wrong length, or not a tuple', () => {
    expect(rejection([3, 2, 1]).message).toBe('message is an array of 3, expected an array of 12');
    expect(rejection({ type: 3 }).message).toBe('message is object, expected an array of 12');
  });

  it('refuses bad entries: shape, type, data, and gaps in an append', () => {
    expect(rejection(withField(6, [[1, 5, 0]])).message).toMatch(/entries\[0\] is an array of 3/);
    expect(rejection(withField(6, [[3, 5, 7, new Uint8Array(1)]])).message).toMatch(/entries\[0\]\.type is number 7/);
    expect(rejection(withField(6, [[3, 5, 0, 'data']])).message).toMatch(/entries\[0\]\.data is the string/);
    expect(rejection(withField(6, [[3, 6, 0, new Uint8Array(1)]])).message).toMatch(/entries\[0\]\.index is number 6, expected 5 \(consecutive after index 4\)/);
  });

  it('refuses a snapshot where none belongs, none where one does, and bad chunk fields', () => {
    const snap = snapChunk(1, 2, 0, 10, new Uint8Array(4));
    expect(rejection(withField(8, messageToTuple(snap)[8])).message).toMatch(/snapshot is an array of 4, expected null in a App/);
    expect(rejection(withField(8, null, snap)).message).toMatch(/expected a snapshot chunk in a Snap/);
    expect(rejection(withField(8, [[100, 3, [2, 1]], 0, 10, new Uint8Array(4)], snap)).message).toMatch(/voters\[1\] is number 1, expected a voter above 2/);
    expect(rejection(withField(8, [[100, 3, [1, 2]], 8, 10, new Uint8Array(4)], snap)).message).toMatch(/snapshot.data is 4 bytes, expected at most 2 bytes/);
    expect(rejection(withField(8, [[100, 3], 0, 10, new Uint8Array(4)], snap)).message).toMatch(/snapshot.metadata is an array of 2/);
  });

  it('refuses a read-index request or response without its context', () => {
    const m = makeMessage({ type: MessageType.ReadIndexResp, to: 2, index: 5, context: new Uint8Array([1]) }, 1, 3);
    expect(rejection(withField(11, null, m)).message).toMatch(/context is null, expected a byte string in a ReadIndexResp/);
  });

  it('names the message at fault in a frame', () => {
    const out: Message[] = [];
    const error = decodeMessages([messageToTuple(heartbeat(1, 2, 0)), withField(3, -1)], out);
    expect(error?.code).toBe(TransportErrorCode.MalformedMessage);
    expect(error?.message).toMatch(/^message 1: term is number -1/);
  });
});

describe('frame bodies', () => {
  it('refuses a body that is not MessagePack, not an array, or of an unknown kind', () => {
    const cases: [Uint8Array, RegExp][] = [
      [Buffer.from([0x93, 0x01]), /is not MessagePack/],
      [encodeFrame([]).subarray(FRAME_HEADER_BYTES), /body is an array of 0/],
      [encodeFrame(['x' as unknown as number]).subarray(FRAME_HEADER_BYTES), /unknown frame kind the string "x"/],
      [encodeFrame([42]).subarray(FRAME_HEADER_BYTES), /unknown frame kind number 42/],
      [Buffer.from([0x2a]), /body is number 42/],
      [Buffer.from([0x91, 0x06, 0x00]), /not MessagePack/],
    ];
    for (const [bytes, message] of cases) {
      const result = decodeFrameBody(bytes);
      expect(result).toBeInstanceOf(TransportError);
      expect((result as TransportError).code).toBe(TransportErrorCode.MalformedFrame);
      expect((result as TransportError).message).toMatch(message);
    }
  });
});
