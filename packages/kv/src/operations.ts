// One write applied to a state, as etcd applies it (etcdserver/apply.go, mvcc/kvstore_txn.go):
// one main revision per write txn and a sub revision per change; a txn or delete that changes
// nothing makes no revision; txn compares (nested ones too) are all evaluated against the state
// before the txn, and so are the checks that may fail it (lease exists, key exists for the ignore
// flags, range revisions), so a failed command stops before it changes anything. One failure
// only a txn's own earlier ops can cause remains (see mayFailAfterChanging): the caller runs such
// a command on a fork of the state and drops the fork when it throws a KvError.

import assert from 'node:assert/strict';
import { EMPTY_BYTES, keyString, ownedCopy } from './bytes.js';
import { KvError } from './errors.js';
import { compareHolds, liveKeyValues, readRange, type ValueReader } from './read.js';
import { SUB_REVISION_MAX, encodeLeaseRecord, encodeRevisionRecord, leaseKey, type RevisionRecord } from './records.js';
import { appendEntry, lastEntry, newTree, type KeyIndex, type MvccState } from './state.js';
import type {
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Event,
  KeyValue,
  KvOperation,
  LeaseGrantResponse,
  LeaseRevokeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RequestOp,
  ResponseOp,
  RevisionEvents,
  TxnRequest,
  TxnResponse,
  LeaseId,
} from './types.js';

export type WriteResponse = PutResponse | DeleteRangeResponse | TxnResponse | CompactionResponse | LeaseGrantResponse | LeaseRevokeResponse;

/** What one command adds to the apply batch, kept apart until the command has succeeded. */
export class CommandEffects {
  /** [revision key, sealed record] of each change, in revision order. */
  readonly records: { main: number; sub: number; bytes: Uint8Array; value: Uint8Array | null }[] = [];
  /** kv-meta records to put (bytes) or delete (null); the last one for a key wins. */
  readonly meta = new Map<string, Uint8Array | null>();
  readonly revisions: RevisionEvents[] = [];
}

/** The changes of one write txn: they all share its main revision, each with the next sub revision. */
export class Writer {
  /** The store revision before the txn. */
  readonly begin: number;
  private changes = 0;
  private readonly events: Event[] = [];

  constructor(
    readonly state: MvccState,
    private readonly effects: CommandEffects,
  ) {
    this.begin = state.currentRevision;
  }

  /** The revision the txn's reads see: its own once it changed something (etcd's storeTxnWrite.Range). */
  get viewRevision(): number {
    return this.changes > 0 ? this.begin + 1 : this.begin;
  }

  private nextSub(): number {
    const sub = this.changes++;
    assert.ok(sub <= SUB_REVISION_MAX, `revision ${this.begin + 1}: more than ${SUB_REVISION_MAX} changes`);
    return sub;
  }

  private record(main: number, sub: number, record: RevisionRecord): void {
    this.effects.records.push({ main, sub, bytes: encodeRevisionRecord({ main, sub }, record), value: record.value });
  }

  /** Puts `value` under `key` attached to `lease` (which must exist when not 0); returns the previous live value. */
  put(key: Uint8Array, value: Uint8Array, lease: LeaseId): KeyValue | null {
    const state = this.state;
    const name = keyString(key);
    const index = state.keys.get(name);
    const prev = index?.current ?? null;
    const main = this.begin + 1;
    const sub = this.nextSub();
    const storedKey = index?.key ?? ownedCopy(key);
    const createRevision = prev?.createRevision ?? main;
    const version = (prev?.version ?? 0) + 1;
    const kv: KeyValue = { key: storedKey, createRevision, modRevision: main, version, value: ownedCopy(value), lease };
    const prevEntry = prev === null ? null : lastEntry(index as KeyIndex);
    state.keys.set(name, appendEntry(index, storedKey, { main, sub, createRevision, version, lease, tombstone: false }, kv));
    if (prev?.lease !== lease) {
      if (prev !== null && prev.lease !== 0n) state.detachKey(prev.lease, name);
      if (lease !== 0n) state.attachKey(lease, name);
    }
    const [prevMain, prevSub] = prevEntry === null ? [0, 0] : [prevEntry.main, prevEntry.sub];
    this.record(main, sub, { key: storedKey, createRevision, version, lease, value: kv.value, prevMain, prevSub, timeMs: state.clockMs });
    this.events.push({ type: 'PUT', kv, prevKv: prev });
    return prev;
  }

  /** Deletes the live key `name`; returns its value before. */
  delete(name: string): KeyValue {
    const state = this.state;
    const index = state.keys.get(name);
    const prev = index?.current ?? null;
    assert.ok(index !== undefined && prev !== null, `deleting key ${JSON.stringify(name)}, which is not live`);
    const prevEntry = lastEntry(index);
    const main = this.begin + 1;
    const sub = this.nextSub();
    state.keys.set(name, appendEntry(index, index.key, { main, sub, createRevision: 0, version: 0, lease: 0n, tombstone: true }, null));
    if (prev.lease !== 0n) state.detachKey(prev.lease, name);
    const record = { key: index.key, createRevision: 0, version: 0, lease: 0n, value: null, prevMain: prevEntry.main, prevSub: prevEntry.sub, timeMs: state.clockMs };
    this.record(main, sub, record);
    // etcd's tombstone: the key and the delete's revision, nothing else.
    this.events.push({ type: 'DELETE', kv: { key: index.key, createRevision: 0, modRevision: main, version: 0, value: EMPTY_BYTES, lease: 0n }, prevKv: prev });
    return prev;
  }

  /** Ends the txn: the store moves to its revision if it changed anything. */
  finish(): void {
    if (this.changes === 0) return;
    const revision = this.begin + 1;
    assert.equal(this.state.currentRevision, this.begin, `txn at revision ${revision} finishing after the store moved to ${this.state.currentRevision}`);
    this.state.currentRevision = revision;
    this.state.times.set(this.state.clockMs, revision);
    this.effects.revisions.push({ revision, events: this.events });
  }
}

// ---- checks against the state before the write (etcd's checkRequests) ----

function checkPut(state: MvccState, p: PutRequest): void {
  if ((p.ignoreValue || p.ignoreLease) && (state.keys.get(keyString(p.key))?.current ?? null) === null) throw new KvError('KV_KEY_NOT_FOUND');
  if (!p.ignoreLease && p.lease !== 0n && !state.leases.has(p.lease)) throw new KvError('KV_LEASE_NOT_FOUND');
}

/** etcd's checkRequestRange: 0 is now; above the txn's starting revision is the future; below the compacted revision is gone. */
export function checkRangeRevision(state: MvccState, r: RangeRequest): void {
  if (r.revision === 0) return;
  if (r.revision > state.currentRevision) throw new KvError('KV_FUTURE_REVISION');
  if (r.revision < state.compactedRevision) throw new KvError('KV_COMPACTED');
}

/** Which branch each txn takes, nested ones included, decided before any op runs (etcd's compareToPath). */
interface TxnPath {
  readonly succeeded: boolean;
  /** One per txn op of the branch taken, in order. */
  readonly nested: readonly TxnPath[];
}

function pathOf(state: MvccState, t: TxnRequest): TxnPath {
  const succeeded = t.compare.every((c) => compareHolds(state, c));
  const ops = succeeded ? t.success : t.failure;
  const nested: TxnPath[] = [];
  for (const op of ops) if ('txn' in op) nested.push(pathOf(state, op.txn));
  return { succeeded, nested };
}

function forOpsOnPath(t: TxnRequest, path: TxnPath, visit: (op: RequestOp) => void): void {
  let n = 0;
  for (const op of path.succeeded ? t.success : t.failure) {
    if ('txn' in op) forOpsOnPath(op.txn, path.nested[n++] as TxnPath, visit);
    else visit(op);
  }
}

// ---- execution ----

function doPut(writer: Writer, p: PutRequest): PutResponse {
  const prev = writer.state.keys.get(keyString(p.key))?.current ?? null;
  // Checked before the txn; here again against the txn's own earlier changes.
  if ((p.ignoreValue || p.ignoreLease) && prev === null) throw new KvError('KV_KEY_NOT_FOUND');
  const value = p.ignoreValue ? (prev as KeyValue).value : p.value;
  const lease = p.ignoreLease ? (prev as KeyValue).lease : p.lease;
  if (lease !== 0n && !writer.state.leases.has(lease)) throw new KvError('KV_LEASE_NOT_FOUND');
  writer.put(p.key, value, lease);
  return { header: { revision: writer.viewRevision }, prevKv: p.prevKv ? prev : null };
}

function doDelete(writer: Writer, d: DeleteRangeRequest): DeleteRangeResponse {
  const kvs = liveKeyValues(writer.state, d.key, d.rangeEnd);
  for (const kv of kvs) writer.delete(keyString(kv.key));
  return { header: { revision: writer.viewRevision }, deleted: kvs.length, prevKvs: d.prevKv ? kvs : [] };
}

/**
 * The ops of the branch `path` took. A nested txn's header is the revision after its own ops
 * (etcd leaves nested headers empty).
 */
async function doTxn(writer: Writer, t: TxnRequest, path: TxnPath, read: ValueReader): Promise<TxnResponse> {
  const responses: ResponseOp[] = [];
  let n = 0;
  for (const op of path.succeeded ? t.success : t.failure) {
    if ('range' in op) responses.push({ range: await readRange(writer.state, op.range, writer.viewRevision, read) });
    else if ('put' in op) responses.push({ put: doPut(writer, op.put) });
    else if ('deleteRange' in op) responses.push({ deleteRange: doDelete(writer, op.deleteRange) });
    else responses.push({ txn: await doTxn(writer, op.txn, path.nested[n++] as TxnPath, read) });
  }
  return { header: { revision: writer.viewRevision }, succeeded: path.succeeded, responses };
}

async function applyTxn(state: MvccState, t: TxnRequest, effects: CommandEffects, read: ValueReader): Promise<TxnResponse> {
  const path = pathOf(state, t);
  forOpsOnPath(t, path, (op) => {
    if ('put' in op) checkPut(state, op.put);
  });
  forOpsOnPath(t, path, (op) => {
    if ('range' in op) checkRangeRevision(state, op.range);
  });
  const writer = new Writer(state, effects);
  const response = await doTxn(writer, t, path, read);
  writer.finish();
  return response;
}

function applyCompaction(state: MvccState, revision: number): CompactionResponse {
  // etcd's mvcc Compact: at or below the compacted revision is done already; above the current one does not exist yet.
  if (revision <= state.compactedRevision) throw new KvError('KV_COMPACTED');
  if (revision > state.currentRevision) throw new KvError('KV_FUTURE_REVISION');
  // Reads below it fail from now on; the index and the disk are swept lazily (see KvStore.sweep).
  state.compactedRevision = revision;
  return { header: { revision: state.currentRevision } };
}

function applyLeaseGrant(state: MvccState, id: LeaseId, ttl: number, effects: CommandEffects): LeaseGrantResponse {
  // etcd's lessor.Grant: id 0 is "no lease"; the TTL bound was checked before proposing.
  if (id === 0n) throw new KvError('KV_LEASE_NOT_FOUND');
  if (state.leases.has(id)) throw new KvError('KV_LEASE_EXISTS');
  state.leases.set(id, { id, ttl, keys: newTree() });
  effects.meta.set(leaseKey(id), encodeLeaseRecord(id, ttl));
  return { header: { revision: state.currentRevision }, id, ttl };
}

/** Deletes every key attached, in one revision (none when no key is attached), then the lease. */
function applyLeaseRevoke(state: MvccState, id: LeaseId, effects: CommandEffects): LeaseRevokeResponse {
  const lease = state.leases.get(id);
  if (lease === undefined) throw new KvError('KV_LEASE_NOT_FOUND');
  const writer = new Writer(state, effects);
  for (const name of [...lease.keys.keys()]) writer.delete(name);
  writer.finish();
  assert.equal(state.leases.get(id)?.keys.size, 0, `lease ${id}: keys left attached after its revoke`);
  state.leases.delete(id);
  effects.meta.set(leaseKey(id), null);
  return { header: { revision: state.currentRevision } };
}

/**
 * Whether `op` can throw a KvError after it changed the state: only a txn put with an ignore flag,
 * whose key an earlier op of the same txn deleted (checkPut saw it live before the txn; etcd 3.4
 * panics there). Every other refusal comes before the first change, so `applyOperation` may run
 * any other op on the state itself, and a KvError from it leaves that state as it was.
 */
export function mayFailAfterChanging(op: KvOperation): boolean {
  return 'txn' in op && txnHasIgnoreFlag(op.txn);
}

function txnHasIgnoreFlag(t: TxnRequest): boolean {
  const hasFlag = (o: RequestOp): boolean => ('put' in o && (o.put.ignoreValue || o.put.ignoreLease)) || ('txn' in o && txnHasIgnoreFlag(o.txn));
  return t.success.some(hasFlag) || t.failure.some(hasFlag);
}

/**
 * Applies one write to `state` (a fork when mayFailAfterChanging: on a KvError the caller drops it, with `effects`). `read`
 * serves the values of older revisions that txn ranges ask for.
 */
export async function applyOperation(state: MvccState, op: KvOperation, effects: CommandEffects, read: ValueReader): Promise<WriteResponse> {
  if ('put' in op) {
    checkPut(state, op.put);
    const writer = new Writer(state, effects);
    const response = doPut(writer, op.put);
    writer.finish();
    return response;
  }
  if ('deleteRange' in op) {
    const writer = new Writer(state, effects);
    const response = doDelete(writer, op.deleteRange);
    writer.finish();
    return response;
  }
  if ('txn' in op) return applyTxn(state, op.txn, effects, read);
  if ('compaction' in op) return applyCompaction(state, op.compaction.revision);
  if ('leaseGrant' in op) return applyLeaseGrant(state, op.leaseGrant.id, op.leaseGrant.ttl, effects);
  assert.ok('leaseRevoke' in op, `unknown operation ${Object.keys(op).join(', ')}`);
  return applyLeaseRevoke(state, op.leaseRevoke.id, effects);
}
