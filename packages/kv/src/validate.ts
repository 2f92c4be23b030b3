// The checks made before a write is proposed (rule 7), in etcd's order and with etcd's errors
// (api/v3rpc/key.go: checkPutRequest, checkDeleteRequest, checkTxnRequest, checkIntervals). They
// need only the request and the limits; what depends on the store's state (does the lease exist,
// is the revision compacted) is checked again when the command is applied.

import { KvError } from './errors.js';
import { isFromKey, keyString } from './bytes.js';
import { INT64_MAX, INT64_MIN } from './records.js';
import type { ClientSession, Compare, DeleteRangeRequest, KvCommand, KvOperation, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types.js';

export interface KvLimits {
  /** etcd's --max-txn-ops (128): compares, or success ops, or failure ops of one txn level. */
  readonly txnOpsMax: number;
  /** etcd's MaxLeaseTTL: 9,000,000,000 s. */
  readonly leaseTtlMaxSeconds: number;
}

/** A client id is kept per session in the replicated table: bounded, like everything kept. */
export const CLIENT_ID_LENGTH_MAX = 128;

const SORT_ORDERS: ReadonlySet<unknown> = new Set(['NONE', 'ASCEND', 'DESCEND']);
const SORT_TARGETS: ReadonlySet<unknown> = new Set(['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE']);
const COMPARE_RESULTS: ReadonlySet<unknown> = new Set(['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL']);
const COMPARE_TARGETS: ReadonlySet<unknown> = new Set(['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE']);

function invalid(field: string, problem: string): KvError {
  return new KvError('KV_INVALID_ARGUMENT', `etcdserver: invalid argument: ${field} ${problem}`, { field });
}

function checkBytes(value: unknown, field: string): void {
  if (!(value instanceof Uint8Array)) throw invalid(field, 'is not bytes');
}

function checkInteger(value: unknown, field: string, min = Number.MIN_SAFE_INTEGER): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw invalid(field, `${String(value)} is not a safe integer >= ${min}`);
}

/** A lease id is etcd's int64 (a bigint here; 0n is "no lease"). */
function checkLeaseId(value: unknown, field: string): void {
  if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX) throw invalid(field, `${String(value)} is not an int64 lease id`);
}

function checkFlag(value: unknown, field: string): void {
  if (typeof value !== 'boolean') throw invalid(field, `${String(value)} is not a boolean`);
}

function checkKey(key: Uint8Array): void {
  if (key.byteLength === 0) throw new KvError('KV_EMPTY_KEY');
}

/** etcd's checkRangeRequest, after the shape of every field. Negative limits and revisions mean none, as in etcd. */
export function validateRangeRequest(r: RangeRequest): void {
  checkBytes(r.key, 'range.key');
  checkBytes(r.rangeEnd, 'range.rangeEnd');
  for (const field of ['limit', 'revision', 'minModRevision', 'maxModRevision', 'minCreateRevision', 'maxCreateRevision'] as const) {
    checkInteger(r[field], `range.${field}`);
  }
  for (const field of ['serializable', 'keysOnly', 'countOnly'] as const) checkFlag(r[field], `range.${field}`);
  checkKey(r.key);
  if (!SORT_ORDERS.has(r.sortOrder)) throw invalid('range.sortOrder', `${String(r.sortOrder)} is not a sort order`);
  if (!SORT_TARGETS.has(r.sortTarget)) throw invalid('range.sortTarget', `${String(r.sortTarget)} is not a sort target`);
}

function checkPut(p: PutRequest): void {
  checkBytes(p.key, 'put.key');
  checkBytes(p.value, 'put.value');
  checkLeaseId(p.lease, 'put.lease');
  for (const field of ['prevKv', 'ignoreValue', 'ignoreLease'] as const) checkFlag(p[field], `put.${field}`);
  checkKey(p.key);
  if (p.ignoreValue && p.value.byteLength !== 0) throw new KvError('KV_VALUE_PROVIDED');
  if (p.ignoreLease && p.lease !== 0n) throw new KvError('KV_LEASE_PROVIDED');
}

function checkDelete(d: DeleteRangeRequest): void {
  checkBytes(d.key, 'deleteRange.key');
  checkBytes(d.rangeEnd, 'deleteRange.rangeEnd');
  checkFlag(d.prevKv, 'deleteRange.prevKv');
  checkKey(d.key);
}

function checkCompare(c: Compare): void {
  if (!COMPARE_RESULTS.has(c.result)) throw invalid('compare.result', `${String(c.result)} is not a compare result`);
  if (!COMPARE_TARGETS.has(c.target)) throw invalid('compare.target', `${String(c.target)} is not a compare target`);
  checkBytes(c.key, 'compare.key');
  checkBytes(c.rangeEnd, 'compare.rangeEnd');
  if (c.target === 'VALUE') checkBytes(c.operand, 'compare.operand');
  else if (c.target === 'LEASE') checkLeaseId(c.operand, 'compare.operand');
  else checkInteger(c.operand, 'compare.operand');
  checkKey(c.key);
}

/** etcd's checkRequestOp: an op with no request is "key not found", as etcd answers. */
function checkRequestOp(op: RequestOp, opsMax: number): void {
  const kinds = typeof op === 'object' && op !== null ? Object.keys(op) : [];
  if (kinds.length === 0) throw new KvError('KV_KEY_NOT_FOUND');
  if (kinds.length > 1) throw invalid('txn op', `has ${kinds.join(' and ')}: one request per op`);
  if ('range' in op) validateRangeRequest(op.range);
  else if ('put' in op) checkPut(op.put);
  else if ('deleteRange' in op) checkDelete(op.deleteRange);
  else if ('txn' in op) checkTxn(op.txn, opsMax);
  else throw invalid('txn op', `${kinds[0]} is not a request`);
}

/** etcd's checkTxnRequest: a level's ops budget is its largest list; nested levels get what is left. */
function checkTxn(t: TxnRequest, opsMax: number): void {
  if (!Array.isArray(t.compare) || !Array.isArray(t.success) || !Array.isArray(t.failure)) throw invalid('txn', 'compare, success and failure must be arrays');
  const ops = Math.max(t.compare.length, t.success.length, t.failure.length);
  if (ops > opsMax) throw new KvError('KV_TOO_MANY_OPS', undefined, { ops, opsMax });
  for (const c of t.compare) checkCompare(c);
  for (const op of t.success) checkRequestOp(op, opsMax - ops);
  for (const op of t.failure) checkRequestOp(op, opsMax - ops);
}

/** A delete's keys as an interval of key strings: high null when unbounded; a point is [k, k]. */
interface DeleteInterval {
  readonly low: string;
  readonly high: string | null;
  readonly point: boolean;
}

function deletes(d: DeleteRangeRequest): DeleteInterval {
  const low = keyString(d.key);
  if (d.rangeEnd.byteLength === 0) return { low, high: low, point: true };
  return { low, high: isFromKey(d.rangeEnd) ? null : keyString(d.rangeEnd), point: false };
}

function deleted(dels: readonly DeleteInterval[], key: string): boolean {
  return dels.some((d) => (d.point ? key === d.low : key >= d.low && (d.high === null || key < d.high)));
}

/**
 * etcd's checkIntervals: no key is put twice, or put and deleted, in one txn (nested levels
 * included; a key put in both branches of one nested txn is fine, only one runs). Returns this
 * level's puts and deletes for the level above. One difference: etcd builds the interval of a
 * `\0` range end as [key, "\0"), which intersects nothing; here it is every key from `key`.
 */
function checkIntervals(ops: readonly RequestOp[]): { puts: Set<string>; dels: DeleteInterval[] } {
  const dels: DeleteInterval[] = [];
  for (const op of ops) if ('deleteRange' in op) dels.push(deletes(op.deleteRange));
  const puts = new Set<string>();
  const claim = (key: string, allowed: ReadonlySet<string> | null): void => {
    if (puts.has(key) && (allowed === null || !allowed.has(key))) throw new KvError('KV_DUPLICATE_KEY');
    if (deleted(dels, key)) throw new KvError('KV_DUPLICATE_KEY');
    puts.add(key);
  };
  for (const op of ops) {
    if (!('txn' in op)) continue;
    const then = checkIntervals(op.txn.success);
    const otherwise = checkIntervals(op.txn.failure);
    for (const key of then.puts) claim(key, null);
    for (const key of otherwise.puts) claim(key, then.puts);
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) if ('put' in op) claim(keyString(op.put.key), null);
  return { puts, dels };
}

function checkLimits(limits: KvLimits): void {
  if (!Number.isSafeInteger(limits.txnOpsMax) || limits.txnOpsMax < 1) throw invalid('limits.txnOpsMax', `${limits.txnOpsMax} is not an integer >= 1`);
  if (!Number.isSafeInteger(limits.leaseTtlMaxSeconds) || limits.leaseTtlMaxSeconds < 1) {
    throw invalid('limits.leaseTtlMaxSeconds', `${limits.leaseTtlMaxSeconds} is not an integer >= 1`);
  }
}

/**
 * Throws a KvError with etcd's code when `op` must not be proposed: empty key, too many txn ops,
 * a key written twice in one txn, ignore_value with a value, ignore_lease with a lease, a lease
 * TTL over the maximum, a grant without an id (the leader chooses ids before proposing), or a
 * field of the wrong type. Changes nothing.
 */
export function validateKvOperation(op: KvOperation, limits: KvLimits): void {
  checkLimits(limits);
  const kinds = typeof op === 'object' && op !== null ? Object.keys(op) : [];
  if (kinds.length !== 1) throw invalid('operation', `must have exactly one request, has ${kinds.length}`);
  if ('put' in op) checkPut(op.put);
  else if ('deleteRange' in op) checkDelete(op.deleteRange);
  else if ('txn' in op) {
    checkTxn(op.txn, limits.txnOpsMax);
    // After the counts, as etcd does, so the overlap check never runs on an oversized txn.
    checkIntervals(op.txn.success);
    checkIntervals(op.txn.failure);
  } else if ('compaction' in op) {
    checkInteger(op.compaction.revision, 'compaction.revision');
    checkFlag(op.compaction.physical, 'compaction.physical');
  } else if ('leaseGrant' in op) {
    checkLeaseId(op.leaseGrant.id, 'leaseGrant.id');
    checkInteger(op.leaseGrant.ttl, 'leaseGrant.ttl', 0);
    // etcd's lessor.Grant: the id first (0 is "no lease"), then the TTL.
    if (op.leaseGrant.id === 0n) throw new KvError('KV_LEASE_NOT_FOUND');
    if (op.leaseGrant.ttl > limits.leaseTtlMaxSeconds) throw new KvError('KV_LEASE_TTL_TOO_LARGE');
  } else if ('leaseRevoke' in op) {
    checkLeaseId(op.leaseRevoke.id, 'leaseRevoke.id');
  } else {
    throw invalid('operation', `${kinds[0]} is not a write`);
  }
}

/** A client id of 1 to CLIENT_ID_LENGTH_MAX chars and a sequence >= 0, or KV_INVALID_ARGUMENT. */
export function validateClientSession(session: ClientSession): void {
  if (typeof session.clientId !== 'string' || session.clientId.length === 0 || session.clientId.length > CLIENT_ID_LENGTH_MAX) {
    throw invalid('session.clientId', `must be a string of 1 to ${CLIENT_ID_LENGTH_MAX} chars`);
  }
  checkInteger(session.sequence, 'session.sequence', 0);
}

/** Everything validateKvOperation checks, plus the session and the proposal time. */
export function validateKvCommand(command: KvCommand, limits: KvLimits): void {
  validateKvOperation(command.operation, limits);
  if (command.session !== null) validateClientSession(command.session);
  checkInteger(command.proposedAtMs, 'proposedAtMs', 0);
}
