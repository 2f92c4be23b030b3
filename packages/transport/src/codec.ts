// The wire codec for Raft messages: each Message is a fixed tuple, and every decoded field is
// checked for type and range before the core sees it.
//
//   message  = [type, to, from, term, logTerm, index, entries, commit, snapshot, reject, rejectHint, context]
//   entry    = [term, index, type, data]
//   snapshot = null | [[index, term, voters], offset, totalBytes, data]
//
// Positions are fixed (no field names on the wire) and every field is always present, matching
// the core's Message, in which every field is always present.

import assert from 'node:assert/strict';
import {
  EntryType,
  MessageType,
  NO_ENTRIES,
  isLocalMessage,
  messageTypeName,
  type Entry,
  type Message,
  type SnapshotChunk,
} from '@raftplane/raft';
import { TransportError, TransportErrorCode } from './errors.js';
import { FrameKind, describe, encodeFrame } from './wire.js';

const MESSAGE_FIELDS = 12;
const ENTRY_FIELDS = 4;
const SNAPSHOT_FIELDS = 4;
const METADATA_FIELDS = 3;

// Upper bounds of MessagePack sizes, used to size frames before encoding them (see messageBytesBound).
const INT_BYTES_MAX = 9; // uint64 or float64 with its type byte
const HEADER_BYTES_MAX = 5; // array32 or bin32 header
/** A message tuple without entries, snapshot or context: 12 fields, 8 of them integers. */
const MESSAGE_BYTES_BASE = 1 + 1 + 5 * INT_BYTES_MAX + HEADER_BYTES_MAX + INT_BYTES_MAX + 1 + 1 + INT_BYTES_MAX + 1;
const ENTRY_BYTES_BASE = 1 + 2 * INT_BYTES_MAX + 1 + HEADER_BYTES_MAX;
const SNAPSHOT_BYTES_BASE = 1 + (1 + 2 * INT_BYTES_MAX + HEADER_BYTES_MAX) + 2 * INT_BYTES_MAX + HEADER_BYTES_MAX;

/**
 * Bytes a frame adds around its messages: the length header, the body's array header, the
 * kind, and the messages' array header. Counted once per message (not per frame) wherever bytes
 * are budgeted, so that any split of messages into frames stays within the budget.
 */
export const FRAME_OVERHEAD_BYTES_MAX = 4 + 1 + 1 + HEADER_BYTES_MAX;

/**
 * An upper bound of the bytes `m` takes in a frame, overhead included: every integer counted at 9
 * bytes, every header at 5. Computed without encoding, so frames are sized (and queues charged)
 * before any encoding happens; the real size is smaller, never larger.
 */
export function messageBytesBound(m: Message): number {
  let bytes = FRAME_OVERHEAD_BYTES_MAX + MESSAGE_BYTES_BASE;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i] as Entry;
    if (!(e.data instanceof Uint8Array)) assert.fail(`entry ${e.index} of a ${messageTypeName(m.type)} to ${m.to}: data is not a Uint8Array`);
    bytes += ENTRY_BYTES_BASE + e.data.byteLength;
  }
  const snapshot = m.snapshot;
  if (snapshot !== null) {
    if (!(snapshot.data instanceof Uint8Array)) assert.fail(`snapshot chunk to ${m.to}: data is not a Uint8Array`);
    bytes += SNAPSHOT_BYTES_BASE + HEADER_BYTES_MAX + snapshot.metadata.confState.voters.length * INT_BYTES_MAX + snapshot.data.byteLength;
  }
  if (m.context !== null) {
    if (!(m.context instanceof Uint8Array)) assert.fail(`context of a ${messageTypeName(m.type)} to ${m.to} is not a Uint8Array`);
    bytes += HEADER_BYTES_MAX + m.context.byteLength;
  }
  return bytes;
}

/** The message as its wire tuple (the arrays are new; byte strings are not copied). */
export function messageToTuple(m: Message): unknown[] {
  let entries: unknown[] = NO_ENTRIES as unknown[];
  if (m.entries.length > 0) {
    entries = new Array(m.entries.length);
    for (let i = 0; i < m.entries.length; i++) {
      const e = m.entries[i] as Entry;
      entries[i] = [e.term, e.index, e.type, e.data];
    }
  }
  const s = m.snapshot;
  const snapshot = s === null ? null : [[s.metadata.index, s.metadata.term, s.metadata.confState.voters], s.offset, s.totalBytes, s.data];
  return [m.type, m.to, m.from, m.term, m.logTerm, m.index, entries, m.commit, snapshot, m.reject, m.rejectHint, m.context];
}

/**
 * One Messages or Bulk frame holding `messages[start, end)`, in order. The caller sizes the range
 * with messageBytesBound so that it fits in a frame.
 */
export function encodeMessagesFrame(kind: typeof FrameKind.Messages | typeof FrameKind.Bulk, messages: readonly Message[], start: number, end: number): Buffer {
  if (!(start >= 0 && start < end && end <= messages.length)) assert.fail(`message range [${start}, ${end}) of ${messages.length}`);
  const tuples: unknown[] = new Array(end - start);
  for (let i = start; i < end; i++) tuples[i - start] = messageToTuple(messages[i] as Message);
  return encodeFrame([kind, tuples]);
}

/** Why a decoded value is not a message; thrown inside this module only and caught by `tupleToMessage`. */
class Invalid {
  constructor(
    readonly code: TransportErrorCode,
    readonly message: string,
  ) {}
}

function fail(field: string, value: unknown, expected: string): never {
  throw new Invalid(TransportErrorCode.MalformedMessage, `${field} is ${describe(value)}, expected ${expected}`);
}

function uint(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(field, value, 'an integer >= 0');
  return value;
}

function nodeId(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) fail(field, value, 'a node id (an integer >= 1)');
  return value;
}

function bytes(value: unknown, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(field, value, 'a byte string');
  return value;
}

function tuple(value: unknown, length: number, field: string): unknown[] {
  if (!Array.isArray(value) || value.length !== length) fail(field, value, `an array of ${length}`);
  return value;
}

function messageType(value: unknown): MessageType {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MessageType.PreVoteResp) {
    throw new Invalid(TransportErrorCode.UnknownMessageType, `unknown message type ${describe(value)}`);
  }
  const type = value as MessageType;
  if (isLocalMessage(type)) {
    throw new Invalid(TransportErrorCode.UnknownMessageType, `message type ${messageTypeName(type)} is local to a core and never crosses the wire`);
  }
  return type;
}

function decodeEntries(value: unknown, type: MessageType, prevIndex: number): readonly Entry[] {
  if (!Array.isArray(value)) fail('entries', value, 'an array');
  if (value.length === 0) return NO_ENTRIES;
  const entries: Entry[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const t = tuple(value[i], ENTRY_FIELDS, `entries[${i}]`);
    const term = uint(t[0], `entries[${i}].term`);
    const index = uint(t[1], `entries[${i}].index`);
    if (t[2] !== EntryType.Normal) fail(`entries[${i}].type`, t[2], `an entry type (${EntryType.Normal})`);
    // Raft §5.3: an append carries consecutive entries following `index`.
    if (type === MessageType.App && index !== prevIndex + 1 + i) fail(`entries[${i}].index`, index, `${prevIndex + 1 + i} (consecutive after index ${prevIndex})`);
    entries[i] = { term, index, type: EntryType.Normal, data: bytes(t[3], `entries[${i}].data`) };
  }
  return entries;
}

function decodeSnapshot(value: unknown, type: MessageType): SnapshotChunk | null {
  const carries = type === MessageType.Snap || type === MessageType.SnapResp;
  if (value === null) {
    if (carries) fail('snapshot', value, `a snapshot chunk in a ${messageTypeName(type)}`);
    return null;
  }
  if (!carries) fail('snapshot', value, `null in a ${messageTypeName(type)}`);
  const t = tuple(value, SNAPSHOT_FIELDS, 'snapshot');
  const meta = tuple(t[0], METADATA_FIELDS, 'snapshot.metadata');
  if (!Array.isArray(meta[2])) fail('snapshot.metadata.voters', meta[2], 'an array');
  const voters: number[] = new Array(meta[2].length);
  for (let i = 0; i < voters.length; i++) {
    const voter = nodeId(meta[2][i], `snapshot.metadata.voters[${i}]`);
    if (i > 0 && voter <= (voters[i - 1] as number)) fail(`snapshot.metadata.voters[${i}]`, voter, `a voter above ${voters[i - 1]} (sorted, no duplicates)`);
    voters[i] = voter;
  }
  const metadata = { index: uint(meta[0], 'snapshot.metadata.index'), term: uint(meta[1], 'snapshot.metadata.term'), confState: { voters } };
  const offset = uint(t[1], 'snapshot.offset');
  const totalBytes = uint(t[2], 'snapshot.totalBytes');
  const data = bytes(t[3], 'snapshot.data');
  if (type === MessageType.Snap && offset + data.byteLength > totalBytes) {
    fail('snapshot.data', data, `at most ${totalBytes - offset} bytes (offset ${offset} of ${totalBytes})`);
  }
  return { metadata, offset, totalBytes, data };
}

function decodeContext(value: unknown, type: MessageType): Uint8Array | null {
  if (value === null) {
    // The core asserts a context on these (thesis §6.4: the context names the read request).
    if (type === MessageType.ReadIndex || type === MessageType.ReadIndexResp) fail('context', value, `a byte string in a ${messageTypeName(type)}`);
    return null;
  }
  return bytes(value, 'context');
}

function decodeTuple(value: unknown): Message {
  const t = tuple(value, MESSAGE_FIELDS, 'message');
  const type = messageType(t[0]);
  const index = uint(t[5], 'index');
  if (typeof t[9] !== 'boolean') fail('reject', t[9], 'a boolean');
  // Field order as in the core's makeMessage, so decoded messages share its objects' shape.
  return {
    type,
    to: nodeId(t[1], 'to'),
    from: nodeId(t[2], 'from'),
    term: uint(t[3], 'term'),
    logTerm: uint(t[4], 'logTerm'),
    index,
    entries: decodeEntries(t[6], type, index),
    commit: uint(t[7], 'commit'),
    snapshot: decodeSnapshot(t[8], type),
    reject: t[9],
    rejectHint: uint(t[10], 'rejectHint'),
    context: decodeContext(t[11], type),
  };
}

/**
 * The message a wire tuple holds, or the error naming the first field that is wrong. Byte
 * strings stay views into the frame they arrived in (no copy).
 */
export function tupleToMessage(value: unknown): Message | TransportError {
  try {
    return decodeTuple(value);
  } catch (error) {
    if (error instanceof Invalid) return new TransportError(error.code, error.message);
    throw error;
  }
}

/** Decodes the message tuples of a Messages or Bulk frame, appending them to `out`; stops at the first bad one. */
export function decodeMessages(value: unknown, out: Message[]): TransportError | null {
  if (!Array.isArray(value)) {
    return new TransportError(TransportErrorCode.MalformedFrame, `messages are ${describe(value)}, expected an array`);
  }
  for (let i = 0; i < value.length; i++) {
    const m = tupleToMessage(value[i]);
    if (m instanceof TransportError) return new TransportError(m.code, `message ${i}: ${m.message}`);
    out.push(m);
  }
  return null;
}
