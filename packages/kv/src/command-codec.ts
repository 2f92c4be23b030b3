// KvCommands as they travel in the Raft log: compact msgpackr arrays (enums as etcd's numbers).
// Decoding checks every field and fails an assertion on anything else: an entry reached the log
// only through encodeKvCommand on a leader, so a malformed one is a bug or a foreign log, and
// applying it would make this master's state differ from the others'.

import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import { plainView } from './bytes.js';
import type {
  ClientSession,
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  KvCommand,
  KvOperation,
  LeaseId,
  PutRequest,
  RangeRequest,
  RequestOp,
  SortOrder,
  SortTarget,
  TxnRequest,
} from './types.js';
import { INT64_MAX, INT64_MIN, internLease } from './records.js';
import { validateClientSession } from './validate.js';

/** Bumped when the encoding changes; an entry of another format fails decoding. */
export const KV_COMMAND_FORMAT = 1;
/** Nesting of txns in one command: etcd's op budget (128 by default) allows fewer levels. */
export const TXN_DEPTH_MAX = 256;

// The numbering of etcd's protobuf enums (etcdserverpb), so the log reads like etcd's.
export const SORT_ORDERS: readonly SortOrder[] = ['NONE', 'ASCEND', 'DESCEND'];
export const SORT_TARGETS: readonly SortTarget[] = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'];
export const COMPARE_RESULTS: readonly CompareResult[] = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'];
export const COMPARE_TARGETS: readonly CompareTarget[] = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'];

const Tag = { range: 0, put: 1, deleteRange: 2, txn: 3, compaction: 4, leaseGrant: 5, leaseRevoke: 6 } as const;

const packr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });

// ---- encoding ----

function enumIndex<T>(values: readonly T[], value: T, what: string): number {
  const index = values.indexOf(value);
  assert.ok(index >= 0, `kv command: ${what} ${String(value)} is not one of ${values.join(', ')}`);
  return index;
}

function encodeRange(r: RangeRequest): unknown[] {
  const order = enumIndex(SORT_ORDERS, r.sortOrder, 'sortOrder');
  const target = enumIndex(SORT_TARGETS, r.sortTarget, 'sortTarget');
  const revisions = [r.minModRevision, r.maxModRevision, r.minCreateRevision, r.maxCreateRevision];
  return [Tag.range, r.key, r.rangeEnd, r.limit, r.revision, order, target, r.serializable, r.keysOnly, r.countOnly, ...revisions];
}

function encodePut(p: PutRequest): unknown[] {
  return [Tag.put, p.key, p.value, p.lease, p.prevKv, p.ignoreValue, p.ignoreLease];
}

function encodeDeleteRange(d: DeleteRangeRequest): unknown[] {
  return [Tag.deleteRange, d.key, d.rangeEnd, d.prevKv];
}

function encodeCompare(c: Compare): unknown[] {
  return [enumIndex(COMPARE_RESULTS, c.result, 'compare result'), enumIndex(COMPARE_TARGETS, c.target, 'compare target'), c.key, c.rangeEnd, c.operand];
}

function encodeRequestOp(op: RequestOp): unknown[] {
  if ('range' in op) return encodeRange(op.range);
  if ('put' in op) return encodePut(op.put);
  if ('deleteRange' in op) return encodeDeleteRange(op.deleteRange);
  return encodeTxn(op.txn);
}

function encodeTxn(t: TxnRequest): unknown[] {
  return [Tag.txn, t.compare.map(encodeCompare), t.success.map(encodeRequestOp), t.failure.map(encodeRequestOp)];
}

function encodeOperation(op: KvOperation): unknown[] {
  if ('put' in op) return encodePut(op.put);
  if ('deleteRange' in op) return encodeDeleteRange(op.deleteRange);
  if ('txn' in op) return encodeTxn(op.txn);
  if ('compaction' in op) return [Tag.compaction, op.compaction.revision, op.compaction.physical];
  if ('leaseGrant' in op) return [Tag.leaseGrant, op.leaseGrant.id, op.leaseGrant.ttl];
  assert.ok('leaseRevoke' in op, `kv command: unknown operation ${Object.keys(op).join(', ')}`);
  return [Tag.leaseRevoke, op.leaseRevoke.id];
}

/**
 * The bytes to propose. The operation must have passed validateKvOperation (an operation that did
 * not is a bug of the caller and fails an assertion here or when decoded); the session is checked
 * here (KvError KV_INVALID_ARGUMENT), as it comes from the client.
 */
export function encodeKvCommand(command: KvCommand): Uint8Array {
  if (command.session !== null) validateClientSession(command.session);
  assert.ok(Number.isSafeInteger(command.proposedAtMs) && command.proposedAtMs >= 0, `kv command: proposedAtMs ${command.proposedAtMs} is not a safe integer >= 0`);
  const session = command.session === null ? null : [command.session.clientId, command.session.sequence];
  return packr.pack([KV_COMMAND_FORMAT, encodeOperation(command.operation), session, command.proposedAtMs]);
}

// ---- decoding: every field checked ----

function tuple(value: unknown, length: number, what: string): unknown[] {
  assert.ok(Array.isArray(value), `kv command: ${what} is not an array`);
  assert.equal(value.length, length, `kv command: ${what} has ${value.length} fields, not ${length}`);
  return value;
}

function list(value: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(value), `kv command: ${what} is not an array`);
  return value;
}

function bytes(value: unknown, what: string): Uint8Array {
  assert.ok(value instanceof Uint8Array, `kv command: ${what} is not bytes`);
  return value;
}

function integer(value: unknown, what: string, min: number = Number.MIN_SAFE_INTEGER): number {
  assert.ok(typeof value === 'number' && Number.isSafeInteger(value) && value >= min, `kv command: ${what} ${String(value)} is not a safe integer >= ${min}`);
  return value;
}

/** A lease id: an int64, which msgpackr carries as a bigint (a number only if an older writer sent one). */
function leaseId(value: unknown, what: string): LeaseId {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return internLease(BigInt(value));
  assert.ok(typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX, `kv command: ${what} ${String(value)} is not an int64`);
  return internLease(value);
}

function flag(value: unknown, what: string): boolean {
  assert.ok(typeof value === 'boolean', `kv command: ${what} ${String(value)} is not a boolean`);
  return value;
}

function enumValue<T>(values: readonly T[], value: unknown, what: string): T {
  const index = integer(value, what, 0);
  assert.ok(index < values.length, `kv command: ${what} ${index} is not below ${values.length}`);
  return values[index] as T;
}

function decodeRange(f: unknown[]): RangeRequest {
  tuple(f, 14, 'range');
  return {
    key: bytes(f[1], 'range key'),
    rangeEnd: bytes(f[2], 'range end'),
    limit: integer(f[3], 'range limit'),
    revision: integer(f[4], 'range revision'),
    sortOrder: enumValue(SORT_ORDERS, f[5], 'sortOrder'),
    sortTarget: enumValue(SORT_TARGETS, f[6], 'sortTarget'),
    serializable: flag(f[7], 'serializable'),
    keysOnly: flag(f[8], 'keysOnly'),
    countOnly: flag(f[9], 'countOnly'),
    minModRevision: integer(f[10], 'minModRevision'),
    maxModRevision: integer(f[11], 'maxModRevision'),
    minCreateRevision: integer(f[12], 'minCreateRevision'),
    maxCreateRevision: integer(f[13], 'maxCreateRevision'),
  };
}

function decodePut(f: unknown[]): PutRequest {
  tuple(f, 7, 'put');
  return {
    key: bytes(f[1], 'put key'),
    value: bytes(f[2], 'put value'),
    lease: leaseId(f[3], 'put lease'),
    prevKv: flag(f[4], 'put prevKv'),
    ignoreValue: flag(f[5], 'ignoreValue'),
    ignoreLease: flag(f[6], 'ignoreLease'),
  };
}

function decodeDeleteRange(f: unknown[]): DeleteRangeRequest {
  tuple(f, 4, 'deleteRange');
  return { key: bytes(f[1], 'delete key'), rangeEnd: bytes(f[2], 'delete range end'), prevKv: flag(f[3], 'delete prevKv') };
}

function decodeCompare(value: unknown): Compare {
  const f = tuple(value, 5, 'compare');
  const target = enumValue(COMPARE_TARGETS, f[1], 'compare target');
  const operand =
    target === 'VALUE' ? bytes(f[4], 'compare value') : target === 'LEASE' ? leaseId(f[4], 'compare lease operand') : integer(f[4], `compare ${target} operand`);
  return { result: enumValue(COMPARE_RESULTS, f[0], 'compare result'), target, key: bytes(f[2], 'compare key'), rangeEnd: bytes(f[3], 'compare range end'), operand };
}

function decodeRequestOp(value: unknown, depth: number): RequestOp {
  const f = list(value, 'txn op');
  switch (f[0]) {
    case Tag.range:
      return { range: decodeRange(f) };
    case Tag.put:
      return { put: decodePut(f) };
    case Tag.deleteRange:
      return { deleteRange: decodeDeleteRange(f) };
    case Tag.txn:
      return { txn: decodeTxn(f, depth + 1) };
    default:
      assert.fail(`kv command: txn op tag ${String(f[0])} is unknown`);
  }
}

function decodeTxn(f: unknown[], depth: number): TxnRequest {
  assert.ok(depth <= TXN_DEPTH_MAX, `kv command: txns nested deeper than TXN_DEPTH_MAX ${TXN_DEPTH_MAX}`);
  tuple(f, 4, 'txn');
  return {
    compare: list(f[1], 'txn compares').map(decodeCompare),
    success: list(f[2], 'txn success').map((op) => decodeRequestOp(op, depth)),
    failure: list(f[3], 'txn failure').map((op) => decodeRequestOp(op, depth)),
  };
}

function decodeOperation(value: unknown): KvOperation {
  const f = list(value, 'operation');
  switch (f[0]) {
    case Tag.put:
      return { put: decodePut(f) };
    case Tag.deleteRange:
      return { deleteRange: decodeDeleteRange(f) };
    case Tag.txn:
      return { txn: decodeTxn(f, 1) };
    case Tag.compaction:
      tuple(f, 3, 'compaction');
      return { compaction: { revision: integer(f[1], 'compaction revision'), physical: flag(f[2], 'physical') } };
    case Tag.leaseGrant:
      tuple(f, 3, 'leaseGrant');
      return { leaseGrant: { id: leaseId(f[1], 'lease id'), ttl: integer(f[2], 'lease ttl', 0) } };
    case Tag.leaseRevoke:
      tuple(f, 2, 'leaseRevoke');
      return { leaseRevoke: { id: leaseId(f[1], 'lease id') } };
    default:
      assert.fail(`kv command: operation tag ${String(f[0])} is unknown`);
  }
}

function decodeSession(value: unknown): ClientSession | null {
  if (value === null) return null;
  const f = tuple(value, 2, 'session');
  assert.ok(typeof f[0] === 'string', 'kv command: session clientId is not a string');
  const session = { clientId: f[0], sequence: integer(f[1], 'session sequence', 0) };
  assert.doesNotThrow(() => validateClientSession(session), 'kv command: session fails validation');
  return session;
}

/** The command in `bytes`; byte fields are views into `bytes` (copy what you keep). */
export function decodeKvCommand(bytes: Uint8Array): KvCommand {
  let value: unknown;
  try {
    value = packr.unpack(plainView(bytes));
  } catch (error) {
    assert.fail(`kv command: undecodable (${error instanceof Error ? error.message : String(error)})`);
  }
  const f = tuple(value, 4, 'command');
  assert.equal(f[0], KV_COMMAND_FORMAT, `kv command: format ${String(f[0])} is not ${KV_COMMAND_FORMAT}`);
  return { operation: decodeOperation(f[1]), session: decodeSession(f[2]), proposedAtMs: integer(f[3], 'proposedAtMs', 0) };
}
