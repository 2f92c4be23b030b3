// The replicated MVCC key-value store a master applies its Raft log to (DESIGN rules 3, 4, 6): an
// in-memory key index over revision-keyed records in LevelDB, with exactly-once writes through a
// replicated client session table, leases, lazy compaction, snapshots and the history its watch
// hub reads. It satisfies the master's StateMachine and the hub's HistorySource.
//
// Concurrency: applyAhead() runs one at a time and works on a fork of the newest applied state
// (the head); its results are final at once, and its batch is queued behind the batches before it
// (write-behind, as etcd answers from its backend's buffer before the batch commits). A fork
// replaces the visible state only once its batch is written, then its revisions are published.
// Reads (range, history, snapshots) use the visible state, which is always what is on disk: they
// take what they need from memory synchronously, with a LevelDB snapshot taken in the same tick
// for values on disk. Two rules keep that true while batches are in flight: a batch adds only
// revisions above the visible one, and it sweeps only history below the visible compacted
// revision (which no reader of the visible state may ask for).

import assert from 'node:assert/strict';
import type { Level } from 'level';
import { Packr } from 'msgpackr';
import type { Snapshot } from '@raftplane/raft';
import { writeBatch, type BatchWrite } from '@raftplane/storage';
import { EMPTY_BYTES, equalBytes, plainView } from './bytes.js';
import { decodeKvCommand } from './command-codec.js';
import { KvError } from './errors.js';
import { checked, loadState, type LoadedState } from './load.js';
import { CommandEffects, applyOperation, mayFailAfterChanging } from './operations.js';
import { readRange, type ValueReader, type ValueWanted } from './read.js';
import {
  KV_META_SUBLEVEL,
  KV_SUBLEVEL,
  STATE_KEY,
  decodeRevisionRecord,
  decodeSessionRecord,
  decodeStateRecord,
  encodeSessionRecord,
  encodeStateRecord,
  revisionKey,
  revisionOfKey,
  sessionKey,
  type Revision,
  type RevisionRecord,
} from './records.js';
import { MvccState } from './state.js';
import { encodeSnapshotData } from './snapshot-encoder.js';
import { sweepKeys, trimTimes, type SweepCursor } from './sweep.js';
import type { ClientSession, Event, KeyValue, KvCommand, KvOperation, KvResult, LeaseId, RangeRequest, RangeResponse, RevisionEvents } from './types.js';
import { validateKvOperation, validateRangeRequest, type KvLimits } from './validate.js';

/** The master's LevelDB: each sublevel picks its own encodings, hence `any` values at the top. */
export type Db = Level<string, any>;
const kvSublevel = (db: Db) => db.sublevel<Uint8Array, Uint8Array>(KV_SUBLEVEL, { keyEncoding: 'view', valueEncoding: 'view' });
const metaSublevel = (db: Db) => db.sublevel<string, Uint8Array>(KV_META_SUBLEVEL, { keyEncoding: 'utf8', valueEncoding: 'view' });
type DbSnapshot = ReturnType<Db['snapshot']>;

/** Bumped when the snapshot's layout changes. */
export const SNAPSHOT_FORMAT = 1;

export interface KvStoreOptions {
  readonly db: Db;
  /** A client session unused this long (by the proposal clock inside commands) is dropped. Same on every master: it shapes replicated state. */
  readonly sessionTtlMs: number;
  /** The session table's bound; past it the least recently used session is dropped. Same on every master. */
  readonly sessionsMax: number;
  readonly txnOpsMax: number;
  readonly leaseTtlMaxSeconds: number;
}

/** A committed Raft entry, as the master hands it over: payload null for an empty entry. */
export interface StoreCommand {
  readonly index: number;
  readonly term: number;
  readonly payload: Uint8Array | null;
}

export interface KvStoreStats {
  readonly keys: number;
  readonly leases: number;
  readonly sessions: number;
  /** Compacted history is still being swept from the index and the disk. */
  readonly sweeping: boolean;
}

// Plain maps as objects: a stored KvResult decodes to the object that was stored.
const resultPackr = new Packr({ useRecords: false, moreTypes: false });
const snapshotPackr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });
/** KV records read per page while a snapshot is built (the loop gets a turn between pages). */
const SNAPSHOT_PAGE_RECORDS = 1_000;

const noDiskReads: ValueReader = async () => assert.fail('a read of the current revision asked for a value on disk');

/** The batch of one apply() call: everything its commands write, in one LevelDB batch (rule 4). */
class ApplyBatch {
  readonly records: { main: number; sub: number; bytes: Uint8Array }[] = [];
  readonly sweptRecords: Revision[] = [];
  readonly meta = new Map<string, Uint8Array | null>();
  readonly revisions: RevisionEvents[] = [];
  /** Values of the records above, by `main.sub`: txn ranges at older revisions may ask for them before they reach the disk. */
  readonly values = new Map<string, Uint8Array>();
  /** Session results written by this batch, by client id. */
  readonly results = new Map<string, Uint8Array>();

  merge(effects: CommandEffects): void {
    for (const r of effects.records) {
      this.records.push(r);
      if (r.value !== null) this.values.set(`${r.main}.${r.sub}`, r.value);
    }
    for (const [key, value] of effects.meta) this.meta.set(key, value);
    this.revisions.push(...effects.revisions);
  }
}

interface SweepProgress {
  readonly cursor: SweepCursor | null;
  /** The compacted revision every key has been swept for. */
  readonly swept: number;
}

/** A batch applied in memory and queued for the disk. */
interface InFlightBatch {
  /** The state once the batch is on disk. */
  readonly state: MvccState;
  readonly batch: ApplyBatch;
  readonly sweep: SweepProgress;
}

function invalidOption(name: string, value: unknown, expected: string): KvError {
  return new KvError('KV_INVALID_ARGUMENT', `etcdserver: invalid argument: KvStoreOptions.${name} (${String(value)}) must be ${expected}`, { option: name });
}

function validateOptions(options: KvStoreOptions): void {
  if (typeof options.db?.sublevel !== 'function' || typeof options.db.snapshot !== 'function') throw invalidOption('db', options.db, 'an open Level database');
  for (const name of ['sessionTtlMs', 'sessionsMax', 'txnOpsMax', 'leaseTtlMaxSeconds'] as const) {
    const value = options[name];
    if (!Number.isSafeInteger(value) || value < 1) throw invalidOption(name, value, 'an integer >= 1');
  }
}

function encodeResult(result: KvResult): Uint8Array {
  return resultPackr.pack(result);
}

function decodeResult(bytes: Uint8Array): KvResult {
  const result = resultPackr.unpack(plainView(bytes)) as KvResult;
  assert.ok(typeof result === 'object' && result !== null && typeof result.ok === 'boolean', 'a stored session result is not a KvResult');
  return result;
}

function eventOf(revision: Revision, record: RevisionRecord, prevKv: KeyValue | null): Event {
  if (record.value === null) {
    return { type: 'DELETE', kv: { key: record.key, createRevision: 0, modRevision: revision.main, version: 0, value: EMPTY_BYTES, lease: 0n }, prevKv };
  }
  const kv = { key: record.key, createRevision: record.createRevision, modRevision: revision.main, version: record.version, value: record.value, lease: record.lease };
  return { type: 'PUT', kv, prevKv };
}

function keyValueOf(revision: Revision, record: RevisionRecord): KeyValue {
  assert.ok(record.value !== null, `kv record ${revision.main}.${revision.sub} is a delete, named as a previous value`);
  return { key: record.key, createRevision: record.createRevision, modRevision: revision.main, version: record.version, value: record.value, lease: record.lease };
}

export class KvStore {
  private readonly db: Db;
  private readonly kv: ReturnType<typeof kvSublevel>;
  private readonly meta: ReturnType<typeof metaSublevel>;
  private readonly sessionTtlMs: number;
  private readonly sessionsMax: number;
  private readonly limits: KvLimits;
  /** The state as last written to disk (the visible state). Replaced whole by a written batch and by restore, never edited. */
  private state = new MvccState();
  /** Applied in memory, their batches queued or being written, oldest first. */
  private readonly inFlight: InFlightBatch[] = [];
  /** The last queued batch's write: the next one starts after it. */
  private writeTail: Promise<void> = Promise.resolve();
  /** A batch that failed to reach the disk: nothing more is applied (the master stops and replays its log). */
  private writeError: Error | null = null;
  /** An applyAhead() or a restore is under way: they run one at a time, and no snapshot begins meanwhile. */
  private writing = false;
  /** Set while a restore's batch may be on its way to disk: disk reads wait for it. */
  private restoring: Promise<void> | null = null;
  private sweepCursor: SweepCursor | null = null;
  /** The compacted revision every key has been swept for. */
  private sweptRevision = 0;
  private readonly listeners = new Set<(revision: RevisionEvents) => void>();

  private constructor(options: KvStoreOptions) {
    this.db = options.db;
    this.kv = kvSublevel(options.db);
    this.meta = metaSublevel(options.db);
    this.sessionTtlMs = options.sessionTtlMs;
    this.sessionsMax = options.sessionsMax;
    this.limits = { txnOpsMax: options.txnOpsMax, leaseTtlMaxSeconds: options.leaseTtlMaxSeconds };
  }

  /** Loads the store from `db` (an empty one when it holds none), checking every record: KV_CORRUPT names the first bad one. */
  static async open(options: KvStoreOptions): Promise<KvStore> {
    validateOptions(options);
    const store = new KvStore(options);
    store.adopt(await loadState(store.meta.iterator(), store.kv.iterator(), 'data directory'));
    return store;
  }

  private adopt(loaded: LoadedState): void {
    this.state = loaded.state;
    const compacted = loaded.state.compactedRevision;
    this.sweepCursor = loaded.garbageRecords > 0 ? { passRevision: compacted, from: undefined } : null;
    this.sweptRevision = loaded.garbageRecords > 0 ? 0 : compacted;
  }

  /** The last Raft index applied, as written with the data (rule 4). */
  get appliedIndex(): number {
    return this.state.appliedIndex;
  }

  currentRevision(): number {
    return this.state.currentRevision;
  }

  compactedRevision(): number {
    return this.state.compactedRevision;
  }

  /** validateKvOperation with this store's limits: call before proposing (rule 7). */
  validate(operation: KvOperation): void {
    validateKvOperation(operation, this.limits);
  }

  stats(): KvStoreStats {
    const state = this.state;
    const sweeping = this.sweepCursor !== null || state.compactedRevision > this.sweptRevision;
    return { keys: state.keys.size, leases: state.leases.size, sessions: state.sessions.size, sweeping };
  }

  // ---- apply ----

  /**
   * Applies committed entries in order and resolves once their batch is on disk: one result per
   * entry (null for an empty entry; an error result changed nothing but the session table and
   * clock). See applyAhead().
   */
  async apply(commands: readonly StoreCommand[]): Promise<(KvResult | null)[]> {
    const { results, written } = await this.applyAhead(commands);
    await written;
    return results;
  }

  /**
   * Applies committed entries in order, in memory: the results are final when this resolves (the
   * entries are committed, so a crash before their batch lands replays them to the same results).
   * Everything they write and the applied index go to disk in one batch (rule 4), queued behind
   * the batches before it and, when given, after `writeAfter` (the master orders it after the
   * Raft write the entries were committed in); `written` resolves once it is there, the visible state
   * (appliedIndex, currentRevision, reads) has moved to it and its revisions are published, in
   * order. A batch that fails rejects `written` and every later call: the caller must stop.
   */
  async applyAhead(commands: readonly StoreCommand[], writeAfter?: Promise<unknown>): Promise<{ results: (KvResult | null)[]; written: Promise<void> }> {
    assert.ok(!this.writing, 'kv store: applyAhead() while an apply or a restore runs');
    if (this.writeError !== null) throw this.writeError;
    if (commands.length === 0) return { results: [], written: this.writeTail };
    this.writing = true;
    try {
      const batch = new ApplyBatch();
      const base = this.inFlight[this.inFlight.length - 1];
      const head = base?.state ?? this.state;
      let work = head.fork();
      const sweep = this.sweep(work, batch, base?.sweep ?? { cursor: this.sweepCursor, swept: this.sweptRevision });
      const results: (KvResult | null)[] = [];
      for (const command of commands) {
        assert.equal(command.index, work.appliedIndex + 1, `kv store: applying index ${command.index} after ${work.appliedIndex}`);
        work.appliedIndex = command.index;
        if (command.payload === null) {
          results.push(null);
          continue;
        }
        const outcome = await this.applyCommand(work, decodeKvCommand(command.payload), batch);
        work = outcome.state;
        results.push(outcome.result);
      }
      assert.equal(work.appliedIndex, (commands[commands.length - 1] as StoreCommand).index, 'kv store: applied index after apply');
      assert.equal(results.length, commands.length, `kv store: ${results.length} results for ${commands.length} commands`);
      const entry: InFlightBatch = { state: work, batch, sweep };
      this.inFlight.push(entry);
      const previous = this.writeTail;
      const written = (async () => {
        await previous;
        await writeAfter;
        await this.write(head.currentRevision, work, batch);
        assert.equal(this.inFlight[0], entry, 'kv store: batches written out of order');
        this.inFlight.shift();
        this.state = work;
        this.sweepCursor = sweep.cursor;
        this.sweptRevision = sweep.swept;
        this.publish(batch.revisions);
      })();
      written.catch((error: Error) => {
        this.writeError ??= error;
      });
      this.writeTail = written;
      return { results, written };
    } finally {
      this.writing = false;
    }
  }

  /** Applied entries whose batch is not yet on disk. */
  batchesInFlight(): number {
    return this.inFlight.length;
  }

  /** Resolves once every batch applied so far is on disk (rejects if one failed). */
  async settled(): Promise<void> {
    while (this.inFlight.length > 0) await this.writeTail;
    if (this.writeError !== null) throw this.writeError;
  }

  private async applyCommand(work: MvccState, command: KvCommand, batch: ApplyBatch): Promise<{ state: MvccState; result: KvResult }> {
    // The leaders' clocks may disagree: the store's clock only moves forward.
    work.clockMs = Math.max(work.clockMs, command.proposedAtMs);
    this.expireSessions(work, batch);
    const session = command.session;
    const known = session === null ? undefined : work.sessions.get(session.clientId);
    if (session !== null && known !== undefined && session.sequence < known.sequence) {
      return { state: work, result: { ok: false, error: new KvError('KV_SESSION_SUPERSEDED').toShape() } };
    }
    if (session !== null && known !== undefined && session.sequence === known.sequence) {
      // A retry of the last write applied for this client (Raft dissertation §6.3): its first result, not a second effect.
      const bytes = await this.sessionResult(session.clientId, batch);
      this.recordSession(work, session, bytes, batch);
      return { state: work, result: decodeResult(bytes) };
    }
    // A fork costs more than its O(1) clone: every tree node the command then changes is copied
    // again (64 clients' puts: 2.5% more of them without). Most commands are refused, if at all,
    // before they change anything, and run on the batch's own state.
    const forked = mayFailAfterChanging(command.operation);
    const attempt = forked ? work.fork() : work;
    const revisionBefore = work.currentRevision;
    const effects = new CommandEffects();
    let state = work;
    let result: KvResult;
    try {
      const response = await applyOperation(attempt, command.operation, effects, this.applyReader(batch));
      batch.merge(effects);
      state = attempt;
      result = { ok: true, response };
    } catch (error) {
      // A refusal is a result every master reaches alike; a damaged record here is this master's
      // own problem and must stop it, never become a result the others would not have.
      if (!(error instanceof KvError) || error.code === 'KV_CORRUPT') throw error;
      if (!forked) {
        const changed = effects.records.length > 0 || effects.meta.size > 0 || work.currentRevision !== revisionBefore;
        assert.ok(!changed, `kv store: command at index ${work.appliedIndex} refused (${error.code}) after it changed the state, which ran unforked`);
      }
      result = { ok: false, error: error.toShape() };
    }
    if (session !== null) this.recordSession(state, session, encodeResult(result), batch);
    return { state, result };
  }

  private recordSession(state: MvccState, session: ClientSession, result: Uint8Array, batch: ApplyBatch): void {
    const { clientId, sequence } = session;
    const entry = state.setSession(clientId, sequence);
    batch.meta.set(sessionKey(clientId), encodeSessionRecord({ clientId, sequence, lastUsedMs: entry.lastUsedMs, touch: entry.touch, result }));
    batch.results.set(clientId, result);
    // The table is bounded: past sessionsMax the least recently used goes (never this one: it was just used).
    while (state.sessions.size > this.sessionsMax) this.dropSession(state, (state.oldestSession() as { clientId: string }).clientId, batch);
    assert.ok(state.sessions.has(clientId), `session ${JSON.stringify(clientId)} evicted by its own write`);
  }

  /** Drops sessions unused for sessionTtlMs by the store's clock: oldest first, so it stops at the first one kept. */
  private expireSessions(state: MvccState, batch: ApplyBatch): void {
    const horizonMs = state.clockMs - this.sessionTtlMs;
    for (let oldest = state.oldestSession(); oldest !== undefined; oldest = state.oldestSession()) {
      if ((state.sessions.get(oldest.clientId)?.lastUsedMs ?? 0) > horizonMs) return;
      this.dropSession(state, oldest.clientId, batch);
    }
  }

  private dropSession(state: MvccState, clientId: string, batch: ApplyBatch): void {
    state.deleteSession(clientId);
    batch.meta.set(sessionKey(clientId), null);
    batch.results.delete(clientId);
  }

  private async sessionResult(clientId: string, batch: ApplyBatch): Promise<Uint8Array> {
    // The newest result first: this batch's, then those of batches still in flight, then the disk's.
    for (const source of [batch, ...this.inFlight.map((f) => f.batch).reverse()]) {
      const pending = source.results.get(clientId);
      if (pending !== undefined) return pending;
    }
    const key = sessionKey(clientId);
    const bytes = await this.meta.get(key);
    assert.ok(bytes !== undefined, `kv-meta record ${JSON.stringify(key)} of a known session is missing`);
    return checked('data directory', `kv-meta record ${JSON.stringify(key)}`, () => decodeSessionRecord(key, bytes)).result;
  }

  /**
   * Values of older revisions for txn ranges: this batch's own and those of batches in flight
   * first, then the disk (records there never change; sweeps delete only compacted ones).
   */
  private applyReader(batch: ApplyBatch): ValueReader {
    return async (wanted) => {
      const batches = [batch, ...this.inFlight.map((f) => f.batch)];
      const values: (Uint8Array | undefined)[] = wanted.map((w) => {
        const name = `${w.entry.main}.${w.entry.sub}`;
        for (const b of batches) {
          const value = b.values.get(name);
          if (value !== undefined) return value;
        }
        return undefined;
      });
      const missing = wanted.filter((_, i) => values[i] === undefined);
      const read = missing.length === 0 ? [] : await this.diskReader(undefined)(missing);
      let next = 0;
      return values.map((value) => value ?? (read[next++] as Uint8Array));
    };
  }

  /**
   * One bounded slice of the sweep of compacted history (see sweep.ts), into this batch, going on
   * from `after` (the sweep of the batch before). Only below the visible compacted revision: a
   * compaction still in flight may not delete what readers of the visible state can still ask for.
   */
  private sweep(work: MvccState, batch: ApplyBatch, after: SweepProgress): SweepProgress {
    const revision = Math.min(work.compactedRevision, this.state.compactedRevision);
    trimTimes(work, revision);
    let cursor = after.cursor;
    if (cursor === null) {
      if (revision <= after.swept) return { cursor: null, swept: after.swept };
      cursor = { passRevision: revision, from: undefined };
    }
    const { deletes, next } = sweepKeys(work, revision, cursor.from);
    batch.sweptRecords.push(...deletes);
    if (next !== null) return { cursor: { passRevision: cursor.passRevision, from: next }, swept: after.swept };
    // Every key is swept for the pass's compaction at least; a newer one starts a new pass next time.
    return { cursor: null, swept: cursor.passRevision };
  }

  private async write(before: number, work: MvccState, batch: ApplyBatch): Promise<void> {
    let expected = before;
    for (const revision of batch.revisions) {
      assert.equal(revision.revision, ++expected, `kv store: revision ${revision.revision} written after ${expected - 1}`);
    }
    assert.equal(work.currentRevision, expected, `kv store: at revision ${work.currentRevision} after writing up to ${expected}`);
    const ops: BatchWrite[] = [];
    for (const r of batch.sweptRecords) ops.push({ type: 'del', sublevel: this.kv, key: revisionKey(r.main, r.sub) });
    for (const r of batch.records) ops.push({ type: 'put', sublevel: this.kv, key: revisionKey(r.main, r.sub), value: r.bytes });
    for (const [key, value] of batch.meta) {
      ops.push(value === null ? { type: 'del', sublevel: this.meta, key } : { type: 'put', sublevel: this.meta, key, value });
    }
    ops.push({ type: 'put', sublevel: this.meta, key: STATE_KEY, value: encodeStateRecord(work) });
    // Not synced: the entries are durable in the Raft log (LevelDB or its journal, which keeps
    // them until a snapshot compacts them), and the next synced write of the same LevelDB (the
    // record of a snapshot, which the master takes only once this store has settled) makes this
    // one durable too; a batch lost in a crash is lost with its applied index, and the entries
    // are applied again from the log (rule 4).
    await writeBatch(this.db, ops, false);
  }

  private publish(revisions: readonly RevisionEvents[]): void {
    for (const revision of revisions) for (const listener of this.listeners) listener(revision);
  }

  // ---- reads ----

  /**
   * A local read, at the current revision or an older one not compacted (KV_COMPACTED below the
   * compacted revision, KV_FUTURE_REVISION above the current one; at the compacted revision
   * itself reads work, as in etcd). The master confirms linearizability first (ReadIndex).
   * Returned KeyValues are shared with the store: read-only.
   */
  async range(request: RangeRequest): Promise<RangeResponse> {
    validateRangeRequest(request);
    while (this.restoring !== null) await this.restoring;
    const state = this.state;
    if (request.revision > state.currentRevision) throw new KvError('KV_FUTURE_REVISION');
    if (request.revision > 0 && request.revision < state.compactedRevision) throw new KvError('KV_COMPACTED');
    if (request.revision <= 0 || request.revision === state.currentRevision) return readRange(state, request, state.currentRevision, noDiskReads);
    const view = this.db.snapshot();
    try {
      return await readRange(state, request, state.currentRevision, this.diskReader(view));
    } finally {
      await view.close();
    }
  }

  private diskReader(view: DbSnapshot | undefined): ValueReader {
    return async (wanted: readonly ValueWanted[]) => {
      const keys = wanted.map((w) => revisionKey(w.entry.main, w.entry.sub));
      const found = await this.kv.getMany(keys, view === undefined ? {} : { snapshot: view });
      return found.map((bytes, i) => {
        const { key, entry } = wanted[i] as ValueWanted;
        const name = `kv record ${entry.main}.${entry.sub}`;
        assert.ok(bytes !== undefined, `${name}, kept by the index, is not on disk`);
        const record = checked('data directory', name, () => decodeRevisionRecord(keys[i] as Uint8Array, bytes));
        assert.ok(equalBytes(record.key, key) && record.value !== null, `${name} is not the put of the key the index names`);
        return record.value;
      });
    };
  }

  /**
   * The newest applied state, its batch perhaps still in flight. The lease table is read from it:
   * a leader must track every lease it applied (and the results already answered name them).
   */
  private head(): MvccState {
    return this.inFlight[this.inFlight.length - 1]?.state ?? this.state;
  }

  /** The replicated lease table: the granted TTL and the live keys attached (read-only), or null. */
  lease(id: LeaseId): { id: LeaseId; ttl: number; keys: Uint8Array[] } | null {
    const state = this.head();
    const lease = state.leases.get(id);
    if (lease === undefined) return null;
    const keys = lease.keys.keysArray().map((name) => {
      const index = state.keys.get(name);
      assert.ok(index?.current?.lease === id, `lease ${id}: attached key ${JSON.stringify(name)} is not live on it`);
      return index.key;
    });
    return { id, ttl: lease.ttl, keys };
  }

  /** Every lease, by id. */
  leases(): { id: LeaseId; ttl: number }[] {
    return this.head().leases.valuesArray().map((lease) => ({ id: lease.id, ttl: lease.ttl }));
  }

  /**
   * The newest revision proposed at or before `timeMs` by the proposal clock, for compaction by
   * age (the leader compacts to min(current - revisionsKept, revisionAt(now - ageKept))). Never
   * below the compacted revision: only revisions above it keep their times.
   */
  revisionAt(timeMs: number): number {
    assert.ok(Number.isSafeInteger(timeMs), `revisionAt: ${timeMs} is not a safe integer`);
    const state = this.state;
    return Math.max(state.times.getPairOrNextLower(timeMs)?.[1] ?? 0, state.compactedRevision);
  }

  // ---- HistorySource ----

  /**
   * The events of revisions [from, min(to, from + revisionsMax - 1)], oldest first, each revision
   * whole, every event with prevKv; KV_COMPACTED when from <= compactedRevision(). Every revision
   * from 2 to the current one has events (revision 1 is the empty store's).
   */
  async history(from: number, to: number, revisionsMax: number): Promise<readonly RevisionEvents[]> {
    assert.ok(Number.isSafeInteger(from) && from >= 1, `history: from ${from} is not an integer >= 1`);
    assert.ok(Number.isSafeInteger(revisionsMax) && revisionsMax >= 1, `history: revisionsMax ${revisionsMax} is not an integer >= 1`);
    while (this.restoring !== null) await this.restoring;
    const state = this.state;
    assert.ok(Number.isSafeInteger(to) && to <= state.currentRevision, `history: to ${to} is past the current revision ${state.currentRevision}`);
    if (from <= state.compactedRevision) throw new KvError('KV_COMPACTED', undefined, { compactedRevision: state.compactedRevision });
    const last = Math.min(to, from + revisionsMax - 1);
    if (last < from) return [];
    const view = this.db.snapshot();
    try {
      const revisions = await this.readHistory(from, last, view);
      const expected = last < 2 ? 0 : last - Math.max(from, 2) + 1;
      assert.equal(revisions.length, expected, `history(${from}, ${last}): ${revisions.length} revisions on disk, ${expected} written`);
      return revisions;
    } finally {
      await view.close();
    }
  }

  private async readHistory(from: number, last: number, view: DbSnapshot): Promise<RevisionEvents[]> {
    const entries = await this.kv.iterator({ gte: revisionKey(from, 0), lt: revisionKey(last + 1, 0), snapshot: view }).all();
    const changes = entries.map(([key, bytes]) => {
      const revision = checked('data directory', 'kv record', () => revisionOfKey(key));
      return { revision, record: checked('data directory', `kv record ${revision.main}.${revision.sub}`, () => decodeRevisionRecord(key, bytes)) };
    });
    const prevKeys = changes.filter((c) => c.record.prevMain !== 0).map((c) => revisionKey(c.record.prevMain, c.record.prevSub));
    const prevRecords = await this.kv.getMany(prevKeys, { snapshot: view });
    const revisions: RevisionEvents[] = [];
    let prevIndex = 0;
    for (const { revision, record } of changes) {
      let prevKv: KeyValue | null = null;
      if (record.prevMain !== 0) {
        const prev = { main: record.prevMain, sub: record.prevSub };
        const bytes = prevRecords[prevIndex];
        const prevKey = prevKeys[prevIndex++] as Uint8Array;
        assert.ok(bytes !== undefined, `kv record ${prev.main}.${prev.sub}, the previous value of ${revision.main}.${revision.sub}, is not on disk`);
        prevKv = keyValueOf(prev, checked('data directory', `kv record ${prev.main}.${prev.sub}`, () => decodeRevisionRecord(prevKey, bytes)));
      }
      const open = revisions[revisions.length - 1];
      if (open !== undefined && open.revision === revision.main) (open.events as Event[]).push(eventOf(revision, record, prevKv));
      else revisions.push({ revision: revision.main, events: [eventOf(revision, record, prevKv)] });
    }
    return revisions;
  }

  /** Calls `listener` with each revision written by apply, in order, after its batch is on disk. A restore publishes nothing (the hub resyncs). */
  subscribe(listener: (revision: RevisionEvents) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // ---- snapshots ----

  /**
   * The whole store at appliedIndex: its records (current values, history above the compacted
   * revision and the newest value at or below it of each key, sessions with their results,
   * leases, the position), read through a LevelDB snapshot taken now, encoded off the loop.
   */
  beginSnapshot(): { index: number; data: Promise<Uint8Array> } {
    assert.ok(!this.writing, 'kv store: beginSnapshot() while an apply or a restore runs');
    assert.equal(this.inFlight.length, 0, 'kv store: beginSnapshot() with batches in flight (await settled() first)');
    const index = this.state.appliedIndex;
    const view = this.db.snapshot();
    return { index, data: this.buildSnapshot(index, view) };
  }

  private async buildSnapshot(index: number, view: DbSnapshot): Promise<Uint8Array> {
    try {
      const meta = (await this.meta.iterator({ snapshot: view }).all()).map(([key, value]) => [key, plainView(value)] as const);
      const position = meta.find(([key]) => key === STATE_KEY);
      const applied = position === undefined ? 0 : checked('data directory', 'kv-meta record "state"', () => decodeStateRecord(position[1])).appliedIndex;
      assert.equal(applied, index, `kv store: snapshot read at applied index ${applied}, begun at ${index}`);
      const records = this.kv.iterator({ snapshot: view });
      try {
        return await encodeSnapshotData(SNAPSHOT_FORMAT, index, meta, () => records.nextv(SNAPSHOT_PAGE_RECORDS));
      } finally {
        await records.close();
      }
    } finally {
      await view.close();
    }
  }

  /**
   * Replaces the whole store with a snapshot's, checked like a directory at open, in one synced
   * batch (a crash leaves the old store or the new one). Publishes nothing: the watch hub must
   * resync (WatchHub.resync(); its next publish would jump anyway).
   */
  async restore(snapshot: Snapshot): Promise<void> {
    assert.ok(!this.writing, 'kv store: restore() while an apply or a restore runs');
    this.writing = true;
    try {
      await this.settled();
      await this.replace(snapshot);
    } finally {
      this.writing = false;
    }
    assert.equal(this.appliedIndex, snapshot.metadata.index, 'kv store: applied index after restore');
  }

  private async replace(snapshot: Snapshot): Promise<void> {
    const { index, meta, kv } = decodeSnapshotData(snapshot.data);
    assert.equal(index, snapshot.metadata.index, `kv store: snapshot data at index ${index}, metadata at ${snapshot.metadata.index}`);
    assert.ok(index > this.state.appliedIndex, `kv store: restoring index ${index} would move applied back from ${this.state.appliedIndex}`);
    const loaded = await loadState(meta, kv, `snapshot at index ${index}`);
    assert.equal(loaded.state.appliedIndex, index, `kv store: snapshot at index ${index} holds applied index ${loaded.state.appliedIndex}`);
    const ops: BatchWrite[] = [];
    for await (const key of this.kv.keys()) ops.push({ type: 'del', sublevel: this.kv, key });
    for await (const key of this.meta.keys()) ops.push({ type: 'del', sublevel: this.meta, key });
    for (const [key, value] of kv) ops.push({ type: 'put', sublevel: this.kv, key, value });
    for (const [key, value] of meta) ops.push({ type: 'put', sublevel: this.meta, key, value });
    let done = (): void => {};
    this.restoring = new Promise((resolve) => {
      done = resolve;
    });
    try {
      await writeBatch(this.db, ops, true);
      this.adopt(loaded);
    } finally {
      this.restoring = null;
      done();
    }
  }
}

function decodeSnapshotData(data: Uint8Array): { index: number; meta: [string, Uint8Array][]; kv: [Uint8Array, Uint8Array][] } {
  const value: unknown = snapshotPackr.unpack(plainView(data));
  assert.ok(Array.isArray(value) && value.length === 4, 'kv store: snapshot data is not [format, index, meta, kv]');
  const [format, index, meta, kv] = value as unknown[];
  assert.equal(format, SNAPSHOT_FORMAT, `kv store: snapshot format ${String(format)} is not ${SNAPSHOT_FORMAT}`);
  assert.ok(typeof index === 'number' && Number.isSafeInteger(index) && index >= 1, `kv store: snapshot index ${String(index)}`);
  assert.ok(Array.isArray(meta) && meta.every((r) => Array.isArray(r) && typeof r[0] === 'string' && r[1] instanceof Uint8Array), 'kv store: snapshot meta records are not [string, bytes]');
  assert.ok(Array.isArray(kv) && kv.every((r) => Array.isArray(r) && r[0] instanceof Uint8Array && r[1] instanceof Uint8Array), 'kv store: snapshot kv records are not [bytes, bytes]');
  return { index, meta: meta as [string, Uint8Array][], kv: kv as [Uint8Array, Uint8Array][] };
}
