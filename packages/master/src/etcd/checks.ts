// etcd's request checks that run before a request reaches the server (etcdserver/api/v3rpc/key.go:
// checkRangeRequest, checkPutRequest, checkDeleteRequest, checkTxnRequest, checkIntervals), with
// etcd's errors, so that the gateway refuses what etcd refuses before the service is called.

import { KvError, type DeleteRangeRequest, type PutRequest, type RangeRequest, type RequestOp, type TxnRequest } from '@raftplane/kv';

export function checkRange(request: RangeRequest): void {
  if (request.key.byteLength === 0) throw new KvError('KV_EMPTY_KEY');
}

export function checkPut(request: PutRequest): void {
  if (request.key.byteLength === 0) throw new KvError('KV_EMPTY_KEY');
  if (request.ignoreValue && request.value.byteLength !== 0) throw new KvError('KV_VALUE_PROVIDED');
  if (request.ignoreLease && request.lease !== 0n) throw new KvError('KV_LEASE_PROVIDED');
}

export function checkDeleteRange(request: DeleteRangeRequest): void {
  if (request.key.byteLength === 0) throw new KvError('KV_EMPTY_KEY');
}

/** checkTxnRequest, then checkIntervals on both branches (etcd checks overlaps last, "to avoid quadratic blowup"). */
export function checkTxn(request: TxnRequest, txnOpsMax: number): void {
  checkTxnOps(request, txnOpsMax);
  checkIntervals(request.success);
  checkIntervals(request.failure);
}

/** A nested txn gets what is left of the op budget once its parent's largest list is counted, as in etcd. */
function checkTxnOps(request: TxnRequest, txnOpsMax: number): void {
  const opsCount = Math.max(request.compare.length, request.success.length, request.failure.length);
  if (opsCount > txnOpsMax) throw new KvError('KV_TOO_MANY_OPS');
  for (const compare of request.compare) {
    if (compare.key.byteLength === 0) throw new KvError('KV_EMPTY_KEY');
  }
  for (const op of [...request.success, ...request.failure]) checkRequestOp(op, txnOpsMax - opsCount);
}

function checkRequestOp(op: RequestOp, txnOpsMax: number): void {
  if ('range' in op) checkRange(op.range);
  else if ('put' in op) checkPut(op.put);
  else if ('deleteRange' in op) checkDeleteRange(op.deleteRange);
  else checkTxnOps(op.txn, txnOpsMax);
}

/** Whether a txn writes nothing in either branch, however nested (etcd's isTxnReadonly): such a txn is not proposed. */
export function isTxnReadOnly(request: TxnRequest): boolean {
  return [...request.success, ...request.failure].every((op) => 'range' in op || ('txn' in op && isTxnReadOnly(op.txn)));
}

/**
 * A key interval [begin, end) as etcd's adt.StringAffineInterval: an empty `end` is +infinity, and
 * a delete's range_end is taken as written (etcd does not widen "\0" here).
 */
interface Interval {
  readonly begin: Buffer;
  readonly end: Buffer;
}

/** Whether [begin, end) holds `key` (etcd intersects a delete interval with the point [key, key+"\0")). */
function holds(interval: Interval, key: Buffer): boolean {
  return Buffer.compare(interval.begin, key) <= 0 && (interval.end.byteLength === 0 || Buffer.compare(key, interval.end) < 0);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * etcd's checkIntervals: within one branch, no key may be put twice or both put and deleted,
 * counting nested txns, where a key put in both branches of one nested txn is allowed (only one
 * branch runs). Returns the branch's puts and deletes for the level above.
 */
function checkIntervals(ops: readonly RequestOp[]): { puts: Set<string>; deletes: Interval[] } {
  const deletes: Interval[] = [];
  for (const op of ops) {
    if (!('deleteRange' in op)) continue;
    const key = asBuffer(op.deleteRange.key);
    const rangeEnd = asBuffer(op.deleteRange.rangeEnd);
    deletes.push({ begin: key, end: rangeEnd.byteLength === 0 ? Buffer.concat([key, Buffer.of(0)]) : rangeEnd });
  }
  const puts = new Set<string>();
  const deleted = (key: string): boolean => deletes.some((interval) => holds(interval, Buffer.from(key, 'latin1')));
  for (const op of ops) {
    if (!('txn' in op)) continue;
    const then = checkIntervals(op.txn.success);
    const otherwise = checkIntervals(op.txn.failure);
    for (const key of then.puts) {
      if (puts.has(key) || deleted(key)) throw new KvError('KV_DUPLICATE_KEY');
      puts.add(key);
    }
    for (const key of otherwise.puts) {
      if ((puts.has(key) && !then.puts.has(key)) || deleted(key)) throw new KvError('KV_DUPLICATE_KEY');
      puts.add(key);
    }
    deletes.push(...then.deletes, ...otherwise.deletes);
  }
  for (const op of ops) {
    if (!('put' in op)) continue;
    const key = asBuffer(op.put.key).toString('latin1');
    if (puts.has(key) || deleted(key)) throw new KvError('KV_DUPLICATE_KEY');
    puts.add(key);
  }
  return { puts, deletes };
}
