// Reads a data directory's Raft records at open, decodes and checks every one of them, and hands
// back the durable state, or refuses with STORAGE_CORRUPT naming the directory, the record and
// what is wrong (issue 3). It never skips or repairs a record.

import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import type { Level } from 'level';
import type { Entry, HardState, Snapshot } from '@raftplane/raft';
import {
  LOG_SUBLEVEL,
  META_SUBLEVEL,
  MetaKey,
  RecordProblem,
  SNAPSHOT_CHUNKS_MAX,
  decodePosition,
  decodeEntry,
  decodeHardState,
  decodeSnapshotChunk,
  decodeSnapshotRecord,
  hex32,
  logKeyIndex,
  snapshotChunkKey,
  snapshotChunkOfKey,
  type LogPosition,
  type PositionKey,
  type SnapshotRecord,
} from './codec.js';
import { StorageError, StorageErrorCode } from './errors.js';
import { boundsProblem, entryProblem, logEntryRecord } from './verify.js';

/** The master's database, whatever its own encodings. */
export type Db = Level<string, any>;

export function logSublevel(db: Db) {
  return db.sublevel<Uint8Array, Uint8Array>(LOG_SUBLEVEL, { keyEncoding: 'view', valueEncoding: 'view' });
}

export function metaSublevel(db: Db) {
  return db.sublevel<string, Uint8Array>(META_SUBLEVEL, { keyEncoding: 'utf8', valueEncoding: 'view' });
}

export type LogSublevel = ReturnType<typeof logSublevel>;
export type MetaSublevel = ReturnType<typeof metaSublevel>;

/** Everything a data directory holds for Raft, verified. */
export interface DurableState {
  readonly hardState: HardState;
  /** The last entry removed from the log (firstIndex() - 1) and its term. */
  readonly compacted: LogPosition;
  readonly snapshot: Snapshot;
  readonly snapshotChunkCount: number;
  /** The snapshot's data is the state machine's own store (its `data` here is empty): see SnapshotRecord. */
  readonly snapshotDataInStateMachine: boolean;
  /** Entries compacted.index + 1 through the last index, in order. */
  readonly entries: readonly Entry[];
  /**
   * Log records at or below the compacted index: left by a compaction interrupted between its
   * synced batch and its range delete (see RaftStorage.createSnapshot). Never served; cleared on open.
   */
  readonly leftoverBelowCompacted: number;
}

const FIXED_META_KEYS: ReadonlySet<string> = new Set(Object.values(MetaKey));
/** The fixed records plus every snapshot chunk: more than this in raft-meta is not ours. */
const META_RECORDS_MAX = FIXED_META_KEYS.size + SNAPSHOT_CHUNKS_MAX;

/** The verified state of the directory, or null when it holds no Raft records at all (bootstrap). */
export async function loadDurableState(log: LogSublevel, meta: MetaSublevel, dataDir: string): Promise<DurableState | null> {
  const metaRecords = new Map(await readAll(dataDir, META_SUBLEVEL, () => meta.iterator({ limit: META_RECORDS_MAX + 1 }).all()));
  if (metaRecords.size > META_RECORDS_MAX) {
    throw corrupt(dataDir, META_SUBLEVEL, `more than ${META_RECORDS_MAX} records: not a raftplane data directory`);
  }
  if (metaRecords.size === 0) {
    const [first] = await readAll(dataDir, LOG_SUBLEVEL, () => log.iterator({ limit: 1 }).all());
    if (first === undefined) return null;
    throw corrupt(dataDir, META_SUBLEVEL, `no records, yet ${LOG_SUBLEVEL} holds entries`);
  }
  const position = (key: PositionKey) => (value: Uint8Array) => decodePosition(key, value);
  const hardState = decodeMeta(dataDir, metaRecords, MetaKey.HardState, 'hard state record', decodeHardState);
  const compacted = decodeMeta(dataDir, metaRecords, MetaKey.Compacted, 'compacted record', position(MetaKey.Compacted));
  const lastEntry = decodeMeta(dataDir, metaRecords, MetaKey.LastEntry, 'last-entry record', position(MetaKey.LastEntry));
  const snapshot = decodeMeta(dataDir, metaRecords, MetaKey.Snapshot, 'snapshot record', decodeSnapshotRecord);
  const data = loadSnapshotData(dataDir, metaRecords, snapshot);
  const allLogRecords = await readAll(dataDir, LOG_SUBLEVEL, () => log.iterator().all());
  const leftover = countLeftover(dataDir, allLogRecords, compacted);
  const logRecords = leftover === 0 ? allLogRecords : allLogRecords.slice(leftover);
  const entries = decodeLog(dataDir, logRecords, compacted, snapshot);
  const last = entries[entries.length - 1] ?? compacted;
  checkLastEntry(dataDir, last, lastEntry);
  const termAtSnapshot = entries[snapshot.index - compacted.index - 1]?.term ?? -1;
  const problem = boundsProblem({ compacted, snapshot, last, termAtSnapshot, hardState });
  if (problem !== null) throw corrupt(dataDir, problem.record, problem.problem, problem.index);
  const { index, term, confState, chunkCount } = snapshot;
  return {
    hardState,
    compacted,
    snapshot: { metadata: { index, term, confState }, data },
    snapshotChunkCount: chunkCount,
    snapshotDataInStateMachine: snapshot.dataInStateMachine === true,
    entries,
    leftoverBelowCompacted: leftover,
  };
}

function corrupt(dataDir: string, record: string, problem: string, index?: number, cause?: unknown): StorageError {
  const details = index === undefined ? { record, cause } : { record, index, cause };
  return new StorageError(StorageErrorCode.Corrupt, dataDir, `${record}: ${problem}`, details);
}

/** Runs a LevelDB read; LevelDB's own corruption report is STORAGE_CORRUPT, any other failure STORAGE_READ_FAILED. */
async function readAll<T>(dataDir: string, sublevel: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if ((error as { code?: unknown } | null)?.code === 'LEVEL_CORRUPTION') {
      throw corrupt(dataDir, sublevel, `LevelDB reports corruption (${message})`, undefined, error);
    }
    const what = `reading ${sublevel} failed: ${message}`;
    throw new StorageError(StorageErrorCode.ReadFailed, dataDir, what, { record: sublevel, cause: error });
  }
}

/** Runs a decoder, turning its RecordProblem into STORAGE_CORRUPT naming `record`. */
function decoded<T>(dataDir: string, record: string, index: number | undefined, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof RecordProblem) throw corrupt(dataDir, record, error.message, index);
    throw error;
  }
}

function decodeMeta<T>(
  dataDir: string,
  records: ReadonlyMap<string, Uint8Array>,
  key: string,
  record: string,
  decode: (value: Uint8Array) => T,
): T {
  const value = records.get(key);
  if (value === undefined) throw corrupt(dataDir, record, `missing from ${META_SUBLEVEL}`);
  return decoded(dataDir, record, undefined, () => decode(value));
}

/** The snapshot's data from its chunks, checked one by one and then whole; any other key in raft-meta is refused. */
function loadSnapshotData(dataDir: string, records: ReadonlyMap<string, Uint8Array>, snapshot: SnapshotRecord): Uint8Array {
  const chunkRecord = (chunk: number) => `snapshot data chunk ${chunk} (of ${snapshot.chunkCount}, snapshot at ${snapshot.index})`;
  for (const key of records.keys()) {
    if (FIXED_META_KEYS.has(key)) continue;
    const chunk = snapshotChunkOfKey(key);
    if (chunk === -1) throw corrupt(dataDir, `record '${key}'`, `unexpected in ${META_SUBLEVEL}`);
    if (chunk >= snapshot.chunkCount) {
      throw corrupt(dataDir, chunkRecord(chunk), 'left over: the snapshot has fewer chunks', snapshot.index);
    }
  }
  const data = new Uint8Array(snapshot.dataBytes);
  let offset = 0;
  for (let chunk = 0; chunk < snapshot.chunkCount; chunk++) {
    const value = records.get(snapshotChunkKey(chunk));
    if (value === undefined) throw corrupt(dataDir, chunkRecord(chunk), 'missing', snapshot.index);
    const bytes = decoded(dataDir, chunkRecord(chunk), snapshot.index, () => decodeSnapshotChunk(chunk, value));
    if (offset + bytes.byteLength > data.byteLength) {
      throw corrupt(dataDir, chunkRecord(chunk), `data runs past the snapshot's ${snapshot.dataBytes} bytes`, snapshot.index);
    }
    data.set(bytes, offset);
    offset += bytes.byteLength;
  }
  if (offset !== snapshot.dataBytes) {
    throw corrupt(dataDir, 'snapshot record', `its chunks hold ${offset} bytes, not ${snapshot.dataBytes}`, snapshot.index);
  }
  const computed = crc32(data);
  if (computed !== snapshot.dataChecksum) {
    const problem = `data checksum mismatch (stored ${hex32(snapshot.dataChecksum)}, computed ${hex32(computed)})`;
    throw corrupt(dataDir, 'snapshot record', problem, snapshot.index);
  }
  return data;
}

/** How many leading log records (in key order) lie at or below the compacted index. */
function countLeftover(dataDir: string, records: ReadonlyArray<[Uint8Array, Uint8Array]>, compacted: LogPosition): number {
  let count = 0;
  for (const [key] of records) {
    const keyRecord = `${LOG_SUBLEVEL} record with key ${Buffer.from(key).toString('hex')}`;
    if (decoded(dataDir, keyRecord, undefined, () => logKeyIndex(key)) > compacted.index) break;
    count++;
  }
  return count;
}

/** Decodes the raft-log records in key order, checking that they follow the compacted prefix without a gap and that terms never go down. */
function decodeLog(
  dataDir: string,
  records: ReadonlyArray<[Uint8Array, Uint8Array]>,
  compacted: LogPosition,
  snapshot: SnapshotRecord,
): Entry[] {
  const entries: Entry[] = [];
  let previous: LogPosition = compacted;
  for (const [key, value] of records) {
    const keyRecord = `${LOG_SUBLEVEL} record with key ${Buffer.from(key).toString('hex')}`;
    const index = decoded(dataDir, keyRecord, undefined, () => logKeyIndex(key));
    const record = logEntryRecord(index);
    if (entries.length === 0 && index !== compacted.index + 1) {
      const problem = `the first log entry must be ${compacted.index + 1}, right after the compacted prefix (snapshot at ${snapshot.index})`;
      throw corrupt(dataDir, record, problem, index);
    }
    const entry = decoded(dataDir, record, index, () => decodeEntry(index, value));
    const problem = entryProblem(previous, entry.index, entry.term);
    if (problem !== null) throw corrupt(dataDir, record, problem, index);
    entries.push(entry);
    previous = entry;
  }
  assert(entries.length === records.length, `decodeLog: ${entries.length} entries from ${records.length} records`);
  const last = entries[entries.length - 1];
  assert(
    last === undefined || last.index === compacted.index + entries.length,
    `decodeLog: last index ${last?.index} after ${entries.length} entries from ${compacted.index}`,
  );
  return entries;
}

/** The log must end where the last-entry record, written in the same batch as the tail, says: else its tail was lost. */
function checkLastEntry(dataDir: string, last: LogPosition, recorded: LogPosition): void {
  if (last.index < recorded.index) {
    const problem = `missing: the log ends at ${last.index}, but the last-entry record names entry ${recorded.index} (term ${recorded.term})`;
    throw corrupt(dataDir, logEntryRecord(recorded.index), problem, recorded.index);
  }
  const record = logEntryRecord(last.index);
  if (last.index > recorded.index) {
    throw corrupt(dataDir, record, `past the last entry ${recorded.index} that the last-entry record names`, last.index);
  }
  if (last.term !== recorded.term) {
    throw corrupt(dataDir, record, `term ${last.term} differs from the term ${recorded.term} in the last-entry record`, last.index);
  }
}
