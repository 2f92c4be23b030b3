// The on-disk format of Raft's durable state: the keys of the `raft-log` and `raft-meta`
// sublevels, and records that open with a CRC32 of their key and payload, so that a flipped
// bit, a torn value or a record moved under another key is caught when it is read back.
//
// A record is [CRC32, 4 bytes big-endian][payload]. The CRC covers the record's key bytes and
// then the payload (a record copied under another key fails its checksum). Payloads are
// msgpackr arrays, except snapshot data chunks, which are the raw bytes.
//
//   raft-log   key: index, 8 bytes big-endian (so LevelDB's order is the log's order)
//              value: [term, type, data]
//   raft-meta  'hard-state'            [term, vote, commit]
//              'compacted'             [index, term] of the last entry removed from the log:
//                                      firstIndex() - 1, whose term the core may still ask for
//              'last-entry'            [index, term] of the last entry, written with every batch
//                                      that moves it, so that a lost tail of the log is noticed
//              'snapshot'              [index, term, voters, dataBytes, chunkCount, dataChecksum], or
//                                      [index, term, voters, 0, 0, 0, 1] for a snapshot whose data
//                                      is the state machine's own store (see dataInStateMachine)
//              'snapshot-data/<chunk>' bytes [chunk * 1 MiB, (chunk + 1) * 1 MiB) of its data
//
// Decoders throw a RecordProblem describing what is wrong; the loader adds which directory and
// which record and turns it into STORAGE_CORRUPT.

import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { EntryType, type ConfState, type Entry, type HardState } from '@raftplane/raft';

export const LOG_SUBLEVEL = 'raft-log';
export const META_SUBLEVEL = 'raft-meta';

export const MetaKey = {
  HardState: 'hard-state',
  Compacted: 'compacted',
  LastEntry: 'last-entry',
  Snapshot: 'snapshot',
  /** The sequence number of the last journal record (wal.ts) whose raft-meta writes LevelDB holds; absent: none. */
  JournalSeq: 'journal-seq',
  /**
   * The sequence number of the last journal record whose log writes LevelDB holds (the log as it
   * was after that record, above the compacted index); absent: the journal-seq record's. Log
   * writes are not copied record by record: the journal holds the log, and a synced LevelDB write
   * that needs it there (a snapshot, a close) writes the whole log at once.
   */
  JournalLogSeq: 'journal-log-seq',
} as const;
/** The meta records that hold a journal sequence number. */
export type JournalSeqKey = typeof MetaKey.JournalSeq | typeof MetaKey.JournalLogSeq;
/** The meta records that hold a log position. */
export type PositionKey = typeof MetaKey.Compacted | typeof MetaKey.LastEntry;
const SNAPSHOT_CHUNK_KEY_PREFIX = 'snapshot-data/';
/** Digits of a chunk number in its key; zero-padded so that chunks sort in order. */
const SNAPSHOT_CHUNK_KEY_DIGITS = 8;

export const CHECKSUM_BYTES = 4;
export const LOG_KEY_BYTES = 8;
/** Snapshot data is split into values of at most this size: LevelDB handles large values poorly. */
export const SNAPSHOT_CHUNK_BYTES_MAX = 1024 * 1024;
/** The snapshot is held in memory whole (Storage.snapshot() is synchronous); 1 GiB is far past any sane control plane. */
export const SNAPSHOT_DATA_BYTES_MAX = 1024 * 1024 * 1024;
export const SNAPSHOT_CHUNKS_MAX = SNAPSHOT_DATA_BYTES_MAX / SNAPSHOT_CHUNK_BYTES_MAX;
/** Far above the 3 MiB request body limit (DESIGN), so only a broken record or caller reaches it. */
export const ENTRY_DATA_BYTES_MAX = 16 * 1024 * 1024;
/** Far above the 3 or 5 masters of a cluster. */
export const VOTERS_MAX = 64;

/** A position in the log. */
export interface LogPosition {
  readonly index: number;
  readonly term: number;
}

/** The snapshot metadata record: the snapshot's metadata, and how its data is stored. */
export interface SnapshotRecord {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
  readonly dataBytes: number;
  /** Always chunksFor(dataBytes). */
  readonly chunkCount: number;
  /** CRC32 of the whole data: a chunk left over from another snapshot passes its own checksum, not this one. */
  readonly dataChecksum: number;
  /**
   * The data is not stored here: it is the state machine's own durable store, at this index or
   * past it (a snapshot this master took of itself, as etcd's state is its bbolt file). No chunks;
   * dataBytes, chunkCount and dataChecksum are 0. A snapshot from the leader always has its data.
   */
  readonly dataInStateMachine?: boolean;
}

/** What is wrong with one record; the loader names the directory and the record. */
export class RecordProblem extends Error {
  override readonly name = 'RecordProblem';
}

// Maps stay maps and no structure records are shared between values: every record decodes alone.
const packr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });
const textEncoder = new TextEncoder();
const ENTRY_TYPES: ReadonlySet<number> = new Set(Object.values(EntryType));

// ---- keys ----

export function logKey(index: number): Uint8Array {
  assert(Number.isSafeInteger(index) && index >= 1, `logKey: index ${index} is not a safe integer >= 1`);
  const key = new Uint8Array(LOG_KEY_BYTES);
  const view = new DataView(key.buffer);
  view.setUint32(0, Math.floor(index / 0x1_0000_0000));
  view.setUint32(4, index >>> 0);
  return key;
}

/** The index a raft-log key names; throws a RecordProblem for a key that is not one. */
export function logKeyIndex(key: Uint8Array): number {
  if (key.byteLength !== LOG_KEY_BYTES) {
    throw new RecordProblem(`key of ${key.byteLength} bytes is not an ${LOG_KEY_BYTES}-byte index`);
  }
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const index = view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4);
  if (!Number.isSafeInteger(index) || index < 1) throw new RecordProblem(`key names index ${index}, not a safe integer >= 1`);
  return index;
}

export function snapshotChunkKey(chunk: number): string {
  assert(Number.isInteger(chunk) && chunk >= 0, `snapshotChunkKey: chunk ${chunk} is not an integer >= 0`);
  assert(chunk < SNAPSHOT_CHUNKS_MAX, `snapshotChunkKey: chunk ${chunk} >= SNAPSHOT_CHUNKS_MAX ${SNAPSHOT_CHUNKS_MAX}`);
  return SNAPSHOT_CHUNK_KEY_PREFIX + String(chunk).padStart(SNAPSHOT_CHUNK_KEY_DIGITS, '0');
}

/** The chunk number a raft-meta key names, or -1 when it is not a chunk key. */
export function snapshotChunkOfKey(key: string): number {
  if (!key.startsWith(SNAPSHOT_CHUNK_KEY_PREFIX)) return -1;
  const digits = key.slice(SNAPSHOT_CHUNK_KEY_PREFIX.length);
  if (digits.length !== SNAPSHOT_CHUNK_KEY_DIGITS || !/^[0-9]+$/.test(digits)) return -1;
  return Number(digits);
}

export function chunksFor(dataBytes: number): number {
  return Math.ceil(dataBytes / SNAPSHOT_CHUNK_BYTES_MAX);
}

// ---- sealed records ----

export function checksum(key: Uint8Array, payload: Uint8Array): number {
  return crc32(payload, crc32(key));
}

export function sealRecord(key: Uint8Array, payload: Uint8Array): Uint8Array {
  const record = new Uint8Array(CHECKSUM_BYTES + payload.byteLength);
  new DataView(record.buffer).setUint32(0, checksum(key, payload));
  record.set(payload, CHECKSUM_BYTES);
  return record;
}

/** The payload of `record`, stored under `key`, once its checksum matches. */
export function openRecord(key: Uint8Array, record: Uint8Array): Uint8Array {
  if (record.byteLength < CHECKSUM_BYTES) {
    throw new RecordProblem(`record of ${record.byteLength} bytes is shorter than its ${CHECKSUM_BYTES}-byte checksum`);
  }
  const stored = new DataView(record.buffer, record.byteOffset, CHECKSUM_BYTES).getUint32(0);
  const payload = record.subarray(CHECKSUM_BYTES);
  const computed = checksum(key, payload);
  if (stored !== computed) throw new RecordProblem(`checksum mismatch (stored ${hex32(stored)}, computed ${hex32(computed)})`);
  return payload;
}

export function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function metaKeyBytes(key: string): Uint8Array {
  return textEncoder.encode(key);
}

/** The fields of a msgpackr array payload of exactly `length` fields named by `shape`. */
function unpackFields(payload: Uint8Array, length: number | readonly number[], shape: string): unknown[] {
  let value: unknown;
  try {
    value = packr.unpack(payload);
  } catch (error) {
    throw new RecordProblem(`undecodable record (${error instanceof Error ? error.message : String(error)})`);
  }
  const lengths = typeof length === 'number' ? [length] : length;
  if (!Array.isArray(value) || !lengths.includes(value.length)) throw new RecordProblem(`record is not ${shape}`);
  return value;
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function field(value: unknown, name: string, min = 0): number {
  if (!isIndex(value) || value < min) throw new RecordProblem(`${name} ${String(value)} is not a safe integer >= ${min}`);
  return value;
}

/** What is wrong with a voter set, or null: sorted ascending, no duplicates, ids >= 1, 1 to VOTERS_MAX of them. */
export function confStateProblem(confState: ConfState): string | null {
  const voters: unknown = confState?.voters;
  if (!Array.isArray(voters) || voters.length === 0 || voters.length > VOTERS_MAX) {
    return `voters must be an array of 1 to ${VOTERS_MAX} node ids`;
  }
  for (let i = 0; i < voters.length; i++) {
    const id: unknown = voters[i];
    if (!isIndex(id) || id < 1) return `voter ${String(id)} is not a node id >= 1`;
    if (i > 0 && id <= (voters[i - 1] as number)) return `voters [${voters.join(', ')}] are not sorted ascending without duplicates`;
  }
  return null;
}

// ---- raft-log ----

export function encodeEntry(entry: Entry): Uint8Array {
  const bytes = entry.data.byteLength;
  assert(bytes <= ENTRY_DATA_BYTES_MAX, `entry ${entry.index}: ${bytes} bytes of data > ENTRY_DATA_BYTES_MAX ${ENTRY_DATA_BYTES_MAX}`);
  return sealRecord(logKey(entry.index), packr.pack([entry.term, entry.type, entry.data]));
}

export function decodeEntry(index: number, record: Uint8Array): Entry {
  const [term, type, data] = unpackFields(openRecord(logKey(index), record), 3, '[term, type, data]');
  if (!(data instanceof Uint8Array)) throw new RecordProblem('data is not bytes');
  // msgpackr hands out a Buffer view; entries written in this process hold plain Uint8Arrays, so
  // read-back entries are the same kind (a view over the same bytes, no copy).
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data.byteLength > ENTRY_DATA_BYTES_MAX) {
    throw new RecordProblem(`data of ${data.byteLength} bytes > ENTRY_DATA_BYTES_MAX ${ENTRY_DATA_BYTES_MAX}`);
  }
  if (typeof type !== 'number' || !ENTRY_TYPES.has(type)) throw new RecordProblem(`unknown entry type ${String(type)}`);
  return { index, term: field(term, 'term', 1), type: type as EntryType, data: bytes };
}

// ---- raft-meta ----

export function encodeHardState(hardState: HardState): Uint8Array {
  return sealRecord(metaKeyBytes(MetaKey.HardState), packr.pack([hardState.term, hardState.vote, hardState.commit]));
}

export function decodeHardState(record: Uint8Array): HardState {
  const payload = openRecord(metaKeyBytes(MetaKey.HardState), record);
  const [term, vote, commit] = unpackFields(payload, 3, '[term, vote, commit]');
  return { term: field(term, 'term'), vote: field(vote, 'vote'), commit: field(commit, 'commit') };
}

export function encodeJournalSeq(seq: number, key: JournalSeqKey = MetaKey.JournalSeq): Uint8Array {
  return sealRecord(metaKeyBytes(key), packr.pack([seq]));
}

export function decodeJournalSeq(record: Uint8Array, key: JournalSeqKey = MetaKey.JournalSeq): number {
  const [seq] = unpackFields(openRecord(metaKeyBytes(key), record), 1, '[seq]');
  return field(seq, 'journal sequence number');
}

export function encodePosition(key: PositionKey, position: LogPosition): Uint8Array {
  return sealRecord(metaKeyBytes(key), packr.pack([position.index, position.term]));
}

export function decodePosition(key: PositionKey, record: Uint8Array): LogPosition {
  const [index, term] = unpackFields(openRecord(metaKeyBytes(key), record), 2, '[index, term]');
  const position = { index: field(index, 'index'), term: field(term, 'term') };
  if ((position.index === 0) !== (position.term === 0)) throw new RecordProblem(`index ${position.index} with term ${position.term}`);
  return position;
}

export function encodeSnapshotRecord(snapshot: SnapshotRecord): Uint8Array {
  const { index, term, confState, dataBytes, chunkCount, dataChecksum } = snapshot;
  assert(chunkCount === chunksFor(dataBytes), `snapshot ${index}: ${chunkCount} chunks for ${dataBytes} bytes`);
  if (snapshot.dataInStateMachine === true) {
    assert(index >= 1 && dataBytes === 0 && dataChecksum === 0, `snapshot ${index}: data in the state machine, yet ${dataBytes} bytes recorded here`);
    return sealRecord(metaKeyBytes(MetaKey.Snapshot), packr.pack([index, term, confState.voters, 0, 0, 0, 1]));
  }
  const payload = packr.pack([index, term, confState.voters, dataBytes, chunkCount, dataChecksum]);
  return sealRecord(metaKeyBytes(MetaKey.Snapshot), payload);
}

export function decodeSnapshotRecord(record: Uint8Array): SnapshotRecord {
  const payload = openRecord(metaKeyBytes(MetaKey.Snapshot), record);
  const fields = unpackFields(payload, [6, 7], '[index, term, voters, dataBytes, chunkCount, dataChecksum(, inStateMachine)]');
  const index = field(fields[0], 'index');
  const term = field(fields[1], 'term');
  if ((index === 0) !== (term === 0)) throw new RecordProblem(`index ${index} with term ${term}`);
  const confState: ConfState = { voters: fields[2] as number[] };
  const confProblem = confStateProblem(confState);
  if (confProblem !== null) throw new RecordProblem(confProblem);
  const dataBytes = field(fields[3], 'dataBytes');
  if (dataBytes > SNAPSHOT_DATA_BYTES_MAX) {
    throw new RecordProblem(`dataBytes ${dataBytes} > SNAPSHOT_DATA_BYTES_MAX ${SNAPSHOT_DATA_BYTES_MAX}`);
  }
  if (index === 0 && dataBytes !== 0) throw new RecordProblem(`the empty snapshot at index 0 claims ${dataBytes} bytes of data`);
  const chunkCount = field(fields[4], 'chunkCount');
  if (chunkCount !== chunksFor(dataBytes)) {
    throw new RecordProblem(`chunkCount ${chunkCount} does not fit dataBytes ${dataBytes} (expected ${chunksFor(dataBytes)})`);
  }
  const dataChecksum = field(fields[5], 'dataChecksum');
  if (dataChecksum > 0xffff_ffff) throw new RecordProblem(`dataChecksum ${dataChecksum} is not a CRC32`);
  if (fields.length === 7) {
    if (fields[6] !== 1) throw new RecordProblem(`inStateMachine ${String(fields[6])} is not 1`);
    if (index === 0 || dataBytes !== 0 || dataChecksum !== 0) {
      throw new RecordProblem(`a snapshot whose data is in the state machine must be at an index >= 1 with no data here (index ${index}, ${dataBytes} bytes, checksum ${dataChecksum})`);
    }
    return { index, term, confState, dataBytes, chunkCount, dataChecksum, dataInStateMachine: true };
  }
  return { index, term, confState, dataBytes, chunkCount, dataChecksum };
}

export function encodeSnapshotChunk(chunk: number, bytes: Uint8Array): Uint8Array {
  assert(bytes.byteLength <= SNAPSHOT_CHUNK_BYTES_MAX, `snapshot chunk ${chunk}: ${bytes.byteLength} bytes > ${SNAPSHOT_CHUNK_BYTES_MAX}`);
  return sealRecord(metaKeyBytes(snapshotChunkKey(chunk)), bytes);
}

export function decodeSnapshotChunk(chunk: number, record: Uint8Array): Uint8Array {
  return openRecord(metaKeyBytes(snapshotChunkKey(chunk)), record);
}

/** The records of a snapshot's data, in chunk order. */
export function snapshotChunks(data: Uint8Array): Uint8Array[] {
  const records: Uint8Array[] = [];
  for (let chunk = 0; chunk * SNAPSHOT_CHUNK_BYTES_MAX < data.byteLength; chunk++) {
    const start = chunk * SNAPSHOT_CHUNK_BYTES_MAX;
    records.push(encodeSnapshotChunk(chunk, data.subarray(start, start + SNAPSHOT_CHUNK_BYTES_MAX)));
  }
  assert(records.length === chunksFor(data.byteLength), `snapshotChunks: ${records.length} chunks for ${data.byteLength} bytes`);
  return records;
}
