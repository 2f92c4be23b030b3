// The store's on-disk format: the records of the `kv` sublevel (one per change of one key, keyed
// by revision) and of `kv-meta` (the store's position, leases, client sessions). A record is
// [CRC32 of its key bytes then its payload, 4 bytes big-endian][msgpackr array], so a flipped bit,
// a torn value or a record moved under another key fails where it is read back.
//
//   kv       key: main revision (8 bytes BE) + sub revision (4 bytes BE): LevelDB's order is
//                 revision order, so history is one forward scan
//            value: [key, createRevision, version, lease, value | null (tombstone), prevMain,
//                   prevSub, timeMs]; prev* names the key's previous record when it was live
//                   (0, 0: the key did not exist), timeMs the proposal clock of the revision
//   kv-meta  'state'              [format, appliedIndex, currentRevision, compactedRevision,
//                                  clockMs, touchNext], written by every apply batch (rule 4)
//            'lease/<id>'         [id, ttl]: the attached keys are the live keys naming the lease
//            'session/<clientId>' [clientId, sequence, lastUsedMs, touch, result]: the last write
//                                  applied for that client and its msgpackr-encoded KvResult

import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { plainView } from './bytes.js';
import type { LeaseId } from './types.js';

export const KV_SUBLEVEL = 'kv';
export const KV_META_SUBLEVEL = 'kv-meta';
export const STATE_KEY = 'state';
export const LEASE_KEY_PREFIX = 'lease/';
export const SESSION_KEY_PREFIX = 'session/';
/** Bumped when a record's shape changes: a store of another format is refused, never misread. */
export const STORE_FORMAT = 1;

const CHECKSUM_BYTES = 4;
export const REVISION_KEY_BYTES = 12;
/** Sub revisions are 4 bytes on disk: far above the changes of any txn etcd's limits allow. */
export const SUB_REVISION_MAX = 0xffff_ffff;

/** What is wrong with one record; the loader names the record and turns it into KV_CORRUPT. */
export class RecordProblem extends Error {
  override readonly name = 'RecordProblem';
}

// Arrays only, no shared structures: every record decodes alone.
const packr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });
const textEncoder = new TextEncoder();

export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function unpackArray(bytes: Uint8Array, length: number, shape: string): unknown[] {
  let value: unknown;
  try {
    value = packr.unpack(plainView(bytes));
  } catch (error) {
    throw new RecordProblem(`undecodable payload (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!Array.isArray(value) || value.length !== length) throw new RecordProblem(`payload is not ${shape}`);
  return value;
}

// ---- sealing ----

function seal(key: Uint8Array, payload: Uint8Array): Uint8Array {
  const record = new Uint8Array(CHECKSUM_BYTES + payload.byteLength);
  new DataView(record.buffer).setUint32(0, crc32(payload, crc32(key)));
  record.set(payload, CHECKSUM_BYTES);
  return record;
}

function unseal(key: Uint8Array, record: Uint8Array): Uint8Array {
  if (record.byteLength < CHECKSUM_BYTES) throw new RecordProblem(`${record.byteLength} bytes, shorter than a checksum`);
  const stored = new DataView(record.buffer, record.byteOffset, CHECKSUM_BYTES).getUint32(0);
  const payload = record.subarray(CHECKSUM_BYTES);
  if (stored !== crc32(payload, crc32(key))) throw new RecordProblem('checksum mismatch');
  return payload;
}

// ---- fields ----

export function integerField(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RecordProblem(`${name} ${String(value)} is not a safe integer >= ${min}`);
  }
  return value;
}

/** A lease id as stored: an int64 (msgpackr keeps bigints as int64; an older small id may come back as a number). */
export function leaseIdField(value: unknown, name: string): LeaseId {
  if (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX) return internLease(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return internLease(BigInt(value));
  throw new RecordProblem(`${name} ${String(value)} is not an int64`);
}

const NO_LEASE: LeaseId = 0n;

/**
 * The one shared bigint for "no lease". Every decoded bigint is a heap object of its own, and the
 * key index keeps one per revision (RevEntry.lease): interning the common 0 keeps hundreds of
 * thousands of them out of the old generation, which every major GC marks.
 */
export function internLease(id: LeaseId): LeaseId {
  return id === NO_LEASE ? NO_LEASE : id;
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

export function bytesField(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new RecordProblem(`${name} is not bytes`);
  return value;
}

function stringField(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new RecordProblem(`${name} is not a string`);
  return value;
}

// ---- kv: revision records ----

export interface Revision {
  readonly main: number;
  readonly sub: number;
}

export function revisionKey(main: number, sub: number): Uint8Array {
  assert.ok(Number.isSafeInteger(main) && main >= 0, `revisionKey: main revision ${main} is not a safe integer >= 0`);
  assert.ok(Number.isInteger(sub) && sub >= 0 && sub <= SUB_REVISION_MAX, `revisionKey: sub revision ${sub} outside [0, ${SUB_REVISION_MAX}]`);
  const key = new Uint8Array(REVISION_KEY_BYTES);
  const view = new DataView(key.buffer);
  view.setUint32(0, Math.floor(main / 0x1_0000_0000));
  view.setUint32(4, main >>> 0);
  view.setUint32(8, sub);
  return key;
}

export function revisionOfKey(key: Uint8Array): Revision {
  if (key.byteLength !== REVISION_KEY_BYTES) throw new RecordProblem(`key of ${key.byteLength} bytes is not a ${REVISION_KEY_BYTES}-byte revision`);
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const main = view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4);
  if (!Number.isSafeInteger(main)) throw new RecordProblem(`main revision ${main} is not a safe integer`);
  return { main, sub: view.getUint32(8) };
}

/** One change of one key: a put (value set) or a delete (value null, the tombstone). */
export interface RevisionRecord {
  readonly key: Uint8Array;
  readonly createRevision: number;
  readonly version: number;
  readonly lease: LeaseId;
  readonly value: Uint8Array | null;
  readonly prevMain: number;
  readonly prevSub: number;
  readonly timeMs: number;
}

export function encodeRevisionRecord(revision: Revision, record: RevisionRecord): Uint8Array {
  const tombstone = record.value === null;
  assert.ok(record.key.byteLength > 0, `revision ${revision.main}.${revision.sub}: empty key`);
  assert.ok(!tombstone || (record.createRevision === 0 && record.version === 0 && record.lease === 0n), `revision ${revision.main}.${revision.sub}: a tombstone with a create revision, version or lease`);
  assert.ok(tombstone || (record.createRevision >= 1 && record.createRevision <= revision.main && record.version >= 1), `revision ${revision.main}.${revision.sub}: create revision ${record.createRevision}, version ${record.version}`);
  const { key, createRevision, version, lease, value, prevMain, prevSub, timeMs } = record;
  const recordKey = revisionKey(revision.main, revision.sub);
  return seal(recordKey, pack([key, createRevision, version, lease, value, prevMain, prevSub, timeMs]));
}

export function decodeRevisionRecord(recordKey: Uint8Array, bytes: Uint8Array): RevisionRecord {
  const fields = unpackArray(unseal(recordKey, bytes), 8, '[key, createRevision, version, lease, value, prevMain, prevSub, timeMs]');
  const key = bytesField(fields[0], 'key');
  if (key.byteLength === 0) throw new RecordProblem('empty key');
  const value = fields[4] === null ? null : bytesField(fields[4], 'value');
  const record: RevisionRecord = {
    key,
    createRevision: integerField(fields[1], 'createRevision', 0),
    version: integerField(fields[2], 'version', 0),
    lease: leaseIdField(fields[3], 'lease'),
    value,
    prevMain: integerField(fields[5], 'prevMain', 0),
    prevSub: integerField(fields[6], 'prevSub', 0),
    timeMs: integerField(fields[7], 'timeMs', 0),
  };
  const tombstone = value === null;
  if (tombstone && (record.createRevision !== 0 || record.version !== 0 || record.lease !== 0n)) {
    throw new RecordProblem('a tombstone with a create revision, version or lease');
  }
  if (!tombstone && (record.createRevision < 1 || record.version < 1)) throw new RecordProblem('a put with create revision or version 0');
  return record;
}

// ---- kv-meta ----

/** The store's position: written with every apply batch, so data and applied index move together. */
export interface StateRecord {
  readonly appliedIndex: number;
  readonly currentRevision: number;
  readonly compactedRevision: number;
  /** The highest proposedAtMs applied: the store's only clock (rule 3). */
  readonly clockMs: number;
  /** The next session touch number: sessions age and are evicted in touch order. */
  readonly touchNext: number;
}

export function encodeStateRecord(state: StateRecord): Uint8Array {
  const { appliedIndex, currentRevision, compactedRevision, clockMs, touchNext } = state;
  assert.ok(compactedRevision <= currentRevision, `state record: compacted revision ${compactedRevision} > current ${currentRevision}`);
  return seal(textEncoder.encode(STATE_KEY), pack([STORE_FORMAT, appliedIndex, currentRevision, compactedRevision, clockMs, touchNext]));
}

export function decodeStateRecord(bytes: Uint8Array): StateRecord {
  const fields = unpackArray(unseal(textEncoder.encode(STATE_KEY), bytes), 6, '[format, appliedIndex, currentRevision, compactedRevision, clockMs, touchNext]');
  if (fields[0] !== STORE_FORMAT) throw new RecordProblem(`format ${String(fields[0])} is not ${STORE_FORMAT}`);
  const state: StateRecord = {
    appliedIndex: integerField(fields[1], 'appliedIndex', 0),
    currentRevision: integerField(fields[2], 'currentRevision', 1),
    compactedRevision: integerField(fields[3], 'compactedRevision', 0),
    clockMs: integerField(fields[4], 'clockMs', 0),
    touchNext: integerField(fields[5], 'touchNext', 0),
  };
  if (state.compactedRevision > state.currentRevision) {
    throw new RecordProblem(`compacted revision ${state.compactedRevision} is past the current revision ${state.currentRevision}`);
  }
  return state;
}

export function leaseKey(id: LeaseId): string {
  return `${LEASE_KEY_PREFIX}${id}`;
}

export function encodeLeaseRecord(id: LeaseId, ttl: number): Uint8Array {
  return seal(textEncoder.encode(leaseKey(id)), pack([id, ttl]));
}

export function decodeLeaseRecord(metaKey: string, bytes: Uint8Array): { id: LeaseId; ttl: number } {
  const fields = unpackArray(unseal(textEncoder.encode(metaKey), bytes), 2, '[id, ttl]');
  const id = leaseIdField(fields[0], 'id');
  if (id === 0n || leaseKey(id) !== metaKey) throw new RecordProblem(`lease id ${id} does not belong under ${metaKey}`);
  return { id, ttl: integerField(fields[1], 'ttl', 0) };
}

export function sessionKey(clientId: string): string {
  return `${SESSION_KEY_PREFIX}${clientId}`;
}

export interface SessionRecord {
  readonly clientId: string;
  readonly sequence: number;
  readonly lastUsedMs: number;
  readonly touch: number;
  /** The KvResult of that sequence, msgpackr-encoded: returned again to a retry. */
  readonly result: Uint8Array;
}

export function encodeSessionRecord(session: SessionRecord): Uint8Array {
  const { clientId, sequence, lastUsedMs, touch, result } = session;
  return seal(textEncoder.encode(sessionKey(clientId)), pack([clientId, sequence, lastUsedMs, touch, result]));
}

export function decodeSessionRecord(metaKey: string, bytes: Uint8Array): SessionRecord {
  const fields = unpackArray(unseal(textEncoder.encode(metaKey), bytes), 5, '[clientId, sequence, lastUsedMs, touch, result]');
  const clientId = stringField(fields[0], 'clientId');
  if (sessionKey(clientId) !== metaKey) throw new RecordProblem(`client ${JSON.stringify(clientId)} does not belong under ${metaKey}`);
  return {
    clientId,
    sequence: integerField(fields[1], 'sequence', 0),
    lastUsedMs: integerField(fields[2], 'lastUsedMs', 0),
    touch: integerField(fields[3], 'touch', 0),
    result: bytesField(fields[4], 'result'),
  };
}
