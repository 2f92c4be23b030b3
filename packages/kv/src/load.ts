// Builds the in-memory state from the store's records — from the disk at open, or from a
// snapshot's records at restore — and checks every one on the way (TigerBeetle: the invariants
// asserted before a write are checked again after the read). A record that fails is refused with
// KV_CORRUPT naming it; nothing is skipped or repaired.

import { keyString, ownedCopy } from './bytes.js';
import { KvError } from './errors.js';
import {
  LEASE_KEY_PREFIX,
  RecordProblem,
  SESSION_KEY_PREFIX,
  STATE_KEY,
  decodeLeaseRecord,
  decodeRevisionRecord,
  decodeSessionRecord,
  decodeStateRecord,
  revisionOfKey,
  type Revision,
  type RevisionRecord,
  type SessionRecord,
  type StateRecord,
} from './records.js';
import { MvccState, appendEntry, lastEntry, newTree, positionAt, type KeyIndex } from './state.js';
import type { KeyValue, LeaseId } from './types.js';

export type Records<K> = AsyncIterable<[K, Uint8Array]> | Iterable<[K, Uint8Array]>;

export interface LoadedState {
  readonly state: MvccState;
  /** Records below the compacted revision that the index no longer needs (left by an unfinished sweep). */
  readonly garbageRecords: number;
}

function corrupt(where: string, record: string, problem: string): KvError {
  return new KvError('KV_CORRUPT', `etcdserver: corrupt cluster: ${where}: ${record}: ${problem}`, { record });
}

/** Runs `step`, naming `record` in the KV_CORRUPT a RecordProblem becomes. */
export function checked<T>(where: string, record: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof RecordProblem) throw corrupt(where, record, error.message);
    throw error;
  }
}

interface MetaRecords {
  state: StateRecord | null;
  readonly leases: { id: LeaseId; ttl: number }[];
  readonly sessions: SessionRecord[];
}

async function readMeta(meta: Records<string>, where: string): Promise<MetaRecords> {
  const found: MetaRecords = { state: null, leases: [], sessions: [] };
  for await (const [key, value] of meta) {
    checked(where, `kv-meta record ${JSON.stringify(key)}`, () => {
      if (key === STATE_KEY) found.state = decodeStateRecord(value);
      else if (key.startsWith(LEASE_KEY_PREFIX)) found.leases.push(decodeLeaseRecord(key, value));
      else if (key.startsWith(SESSION_KEY_PREFIX)) found.sessions.push(decodeSessionRecord(key, value));
      else throw new RecordProblem('not a record of the kv store');
    });
  }
  return found;
}

function stateFrom(meta: MetaRecords, position: StateRecord, where: string): MvccState {
  const state = MvccState.at(position);
  for (const lease of meta.leases) state.leases.set(lease.id, { id: lease.id, ttl: lease.ttl, keys: newTree() });
  // Touch order is use order, and the clock never goes back: lastUsedMs rises with touch.
  const sessions = [...meta.sessions].sort((a, b) => a.touch - b.touch);
  let lastUsedMs = 0;
  for (const s of sessions) {
    checked(where, `session record of ${JSON.stringify(s.clientId)}`, () => {
      if (s.touch >= position.touchNext) throw new RecordProblem(`touch ${s.touch} >= touchNext ${position.touchNext}`);
      if (state.sessionsByTouch.has(s.touch)) throw new RecordProblem(`touch ${s.touch} taken by another session`);
      if (s.lastUsedMs < lastUsedMs || s.lastUsedMs > position.clockMs) throw new RecordProblem(`lastUsedMs ${s.lastUsedMs} outside [${lastUsedMs}, ${position.clockMs}]`);
    });
    lastUsedMs = s.lastUsedMs;
    state.sessions.set(s.clientId, { sequence: s.sequence, lastUsedMs: s.lastUsedMs, touch: s.touch });
    state.sessionsByTouch.set(s.touch, s.clientId);
  }
  return state;
}

/**
 * Adds revision records in revision order and checks them: revisions rise, lie in [2, current],
 * are contiguous above the compacted revision (sub revisions 0, 1, ... in each), times rise, and
 * each key's records form its history (versions count up from a creation, create revisions
 * agree, each record points at the key's previous live record).
 */
class IndexBuilder {
  private last: Revision = { main: 0, sub: 0 };
  /** The last revision seen above the compacted one (starts at the compacted revision, or 1). */
  private lastAbove: Revision;
  private lastTimeMs = 0;

  constructor(
    private readonly state: MvccState,
    private readonly where: string,
  ) {
    this.lastAbove = { main: Math.max(state.compactedRevision, 1), sub: -1 };
  }

  add(recordKey: Uint8Array, bytes: Uint8Array): void {
    const revision = checked(this.where, 'kv record', () => revisionOfKey(recordKey));
    const name = `kv record ${revision.main}.${revision.sub}`;
    const record = checked(this.where, name, () => decodeRevisionRecord(recordKey, bytes));
    checked(this.where, name, () => this.checkPosition(revision, record));
    const key = keyString(record.key);
    const index = this.state.keys.get(key);
    checked(this.where, name, () => this.checkHistory(revision, record, index));
    const entry = { main: revision.main, sub: revision.sub, createRevision: record.createRevision, version: record.version, lease: record.lease, tombstone: record.value === null };
    const storedKey = index?.key ?? ownedCopy(record.key);
    const current: KeyValue | null =
      record.value === null
        ? null
        : { key: storedKey, createRevision: record.createRevision, modRevision: revision.main, version: record.version, value: ownedCopy(record.value), lease: record.lease };
    this.state.keys.set(key, appendEntry(index, storedKey, entry, current));
    if (revision.main > this.state.compactedRevision) this.state.times.set(record.timeMs, revision.main);
    this.last = revision;
  }

  private checkPosition(revision: Revision, record: RevisionRecord): void {
    const { main, sub } = revision;
    if (main < this.last.main || (main === this.last.main && sub <= this.last.sub)) throw new RecordProblem(`not after ${this.last.main}.${this.last.sub}`);
    if (main < 2 || main > this.state.currentRevision) throw new RecordProblem(`outside the store's revisions [2, ${this.state.currentRevision}]`);
    if (record.timeMs < this.lastTimeMs || record.timeMs > this.state.clockMs) throw new RecordProblem(`time ${record.timeMs} outside [${this.lastTimeMs}, ${this.state.clockMs}]`);
    this.lastTimeMs = record.timeMs;
    if (main <= this.state.compactedRevision) return;
    const above = this.lastAbove;
    const next = main === above.main ? { main, sub: above.sub + 1 } : { main: above.main + 1, sub: 0 };
    if (main !== next.main || sub !== next.sub) throw new RecordProblem(`revision ${next.main}.${next.sub} is missing`);
    this.lastAbove = revision;
  }

  private checkHistory(revision: Revision, record: RevisionRecord, index: KeyIndex | undefined): void {
    const prev = index === undefined ? null : lastEntry(index);
    const live = prev !== null && !prev.tombstone;
    const pointsAt = `${record.prevMain}.${record.prevSub}`;
    if (live && (record.prevMain !== prev.main || record.prevSub !== prev.sub)) throw new RecordProblem(`points at ${pointsAt}, not at the key's ${prev.main}.${prev.sub}`);
    if (record.value === null) {
      if (!live) throw new RecordProblem('deletes a key that does not exist');
      return;
    }
    if (live) {
      if (record.createRevision !== prev.createRevision || record.version !== prev.version + 1) {
        throw new RecordProblem(`create revision ${record.createRevision} version ${record.version} after ${prev.createRevision} version ${prev.version}`);
      }
      return;
    }
    // The key's oldest record kept at or below the compacted revision continues a history swept away.
    const creates = prev !== null || revision.main > this.state.compactedRevision;
    if (creates && (record.createRevision !== revision.main || record.version !== 1 || record.prevMain !== 0 || record.prevSub !== 0)) {
      throw new RecordProblem(`creates the key with create revision ${record.createRevision}, version ${record.version}, pointing at ${pointsAt}`);
    }
    if (record.createRevision > revision.main) throw new RecordProblem(`create revision ${record.createRevision} is after it`);
  }

  /** The checks over the whole: no revision missing up to the current one, live keys' leases exist. Returns the garbage count. */
  finish(): number {
    const state = this.state;
    if (this.lastAbove.main !== state.currentRevision) {
      throw corrupt(this.where, `kv record ${this.lastAbove.main + 1}.0`, `missing: the store is at revision ${state.currentRevision}`);
    }
    let garbage = 0;
    for (const [key, index] of state.keys.entries()) {
      garbage += droppable(index, state.compactedRevision);
      const lease = index.current?.lease ?? 0n;
      if (lease === 0n) continue;
      if (!state.leases.has(lease)) throw corrupt(this.where, `lease ${lease}`, `missing, yet key ${JSON.stringify(key)} is attached to it`);
      state.attachKey(lease, key);
    }
    return garbage;
  }
}

/**
 * How many of the key's oldest entries a compaction at `compacted` removes: all but the newest at
 * or below it, and that one too when it is a delete (etcd's keyIndex.compact).
 */
export function droppable(index: KeyIndex, compacted: number): number {
  const position = positionAt(index, compacted);
  if (position < 0) return 0;
  return index.revs[position]?.tombstone === true ? position + 1 : position;
}

/** The state the records describe, checked; an empty store when there are none at all. */
export async function loadState(meta: Records<string>, kv: Records<Uint8Array>, where: string): Promise<LoadedState> {
  const found = await readMeta(meta, where);
  if (found.state === null) {
    const stray = found.leases.length + found.sessions.length;
    for await (const _ of kv) throw corrupt(where, 'kv-meta record "state"', 'missing (no applied index), yet kv records exist');
    if (stray > 0) throw corrupt(where, 'kv-meta record "state"', `missing (no applied index), yet ${stray} lease and session records exist`);
    return { state: new MvccState(), garbageRecords: 0 };
  }
  const state = stateFrom(found, found.state, where);
  const builder = new IndexBuilder(state, where);
  for await (const [key, value] of kv) builder.add(key, value);
  const garbageRecords = builder.finish();
  state.checkTables();
  return { state, garbageRecords };
}
