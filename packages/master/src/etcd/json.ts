// Translates between etcd v3's messages as its JSON gateway speaks them and the store's internal
// forms (@raftplane/kv). Requests are read field by field, each checked for its type, and their
// protobuf size is counted on the way (etcd's size limits are on the protobuf encoding). Responses
// are written as grpc-gateway v1.9.5's JSONPb{OrigName: true} writes them (etcd 3.4's
// gw.NewServeMux() default): proto field names, 64-bit integers as decimal strings, bytes as
// standard base64, enums by name, and every field at its zero value left out (EmitDefaults false).
// The msgpack dialect reads the same requests under their internal (camelCase) names.

import {
  KvError,
  type Compare,
  type CompactionRequest,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type Event,
  type KeyValue,
  type LeaseGrantRequest,
  type LeaseGrantResponse,
  type LeaseKeepAliveRequest,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  type LeaseRevokeRequest,
  type LeaseTimeToLiveRequest,
  type LeaseTimeToLiveResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseHeader,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
  type WatchCreateRequest,
  type WatchFilter,
  type WatchResponse,
} from '@raftplane/kv';
import { EtcdGatewayError } from './errors.js';
import type { EtcdHeader, MaintenanceStatus, Member } from './service.js';

export type Dialect = 'json' | 'msgpack';
export type JsonObject = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Reading requests

/** int64 as etcd has it, but only the part a JS number holds exactly: ids and revisions are numbers inside. */
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
/** Go's base64.StdEncoding (padding required); Go's decoder skips CR and LF. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL = /^-?[0-9]{1,20}$/;

/** The protobuf varint size of a non-negative integer; negative int64s always take 10 bytes. */
function varintBytes(value: number): number {
  if (value < 0) return 10;
  let size = 1;
  for (let rest = value; rest >= 128; rest = Math.floor(rest / 128)) size += 1;
  return size;
}

/** A varint's size for an int64 (negative ones take 10 bytes, as in protobuf). */
function bigVarintBytes(value: bigint): number {
  if (value < 0n) return 10;
  let size = 1;
  for (let rest = value; rest >= 128n; rest >>= 7n) size += 1;
  return size;
}

/** A length-delimited field: tag, length, payload. */
function delimitedBytes(fieldNumber: number, payloadBytes: number): number {
  return varintBytes(fieldNumber * 8) + varintBytes(payloadBytes) + payloadBytes;
}

const camelNames = new Map<string, string>();

/** protoc's json_name: lowerCamelCase of the proto name (range_end -> rangeEnd; ID stays ID). Memoized: it runs for every field read. */
function camelName(protoName: string): string {
  let name = camelNames.get(protoName);
  if (name === undefined) {
    name = protoName.replace(/_([a-z])/g, (_m, letter: string) => letter.toUpperCase());
    camelNames.set(protoName, name);
  }
  return name;
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  const text = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
  return text === undefined ? typeof value : text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

export function invalidField(path: string, expected: string, value: unknown): EtcdGatewayError {
  return new EtcdGatewayError('ETCD_GW_INVALID_FIELD', `invalid request: ${path}: expected ${expected}, got ${describe(value)}`);
}

/**
 * One request message being read. Names follow jsonpb: a JSON field is found under its proto name
 * or its lowerCamel json name (proto name first); msgpack uses the internal name. Unknown fields
 * are ignored, as grpc-gateway v1 does (allowUnknownFields = true); null means "not set".
 */
export class FieldReader {
  /** Protobuf-encoded size of the fields read so far. */
  sizeBytes = 0;

  private constructor(
    private readonly fields: Readonly<Record<string, unknown>>,
    readonly path: string,
    readonly dialect: Dialect,
  ) {}

  static of(value: unknown, path: string, dialect: Dialect): FieldReader {
    if (value === null || value === undefined) return new FieldReader({}, path, dialect);
    // Plain objects only: not arrays, bytes, or the odd objects a msgpack decoder can make (0xc1).
    const prototype: unknown = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
    if (prototype !== Object.prototype && prototype !== null) throw invalidField(path, 'an object', value);
    return new FieldReader(value as Record<string, unknown>, path, dialect);
  }

  /** The value set under a field's name, or undefined; `path` names it in errors. */
  find(protoName: string, internalName: string): { value: unknown; path: string } | undefined {
    if (this.dialect !== 'json') return this.findNamed(internalName);
    // The proto name first: when it is there, the json name is not looked at.
    return Object.hasOwn(this.fields, protoName) ? this.findNamed(protoName) : this.findNamed(camelName(protoName));
  }

  private findNamed(name: string): { value: unknown; path: string } | undefined {
    if (!Object.hasOwn(this.fields, name)) return undefined;
    const value = this.fields[name];
    if (value === null || value === undefined) return undefined;
    return { value, path: this.path === '' ? name : `${this.path}.${name}` };
  }

  bytes(fieldNumber: number, protoName: string, internalName = camelName(protoName)): Uint8Array {
    const found = this.find(protoName, internalName);
    if (found === undefined) return new Uint8Array(0);
    const bytes = this.dialect === 'json' ? decodeBase64(found.value, found.path) : decodeBinary(found.value, found.path);
    if (bytes.byteLength > 0) this.sizeBytes += delimitedBytes(fieldNumber, bytes.byteLength);
    return bytes;
  }

  int64(fieldNumber: number, protoName: string, internalName = camelName(protoName)): number {
    const found = this.find(protoName, internalName);
    if (found === undefined) return 0;
    const value = decodeInt64(found.value, found.path, this.dialect);
    if (value !== 0) this.sizeBytes += varintBytes(fieldNumber * 8) + varintBytes(value);
    return value;
  }

  /** A lease id: etcd's full int64 (clients choose any; etcd's own are random 63-bit numbers). */
  leaseId(fieldNumber: number, protoName: string, internalName = camelName(protoName)): bigint {
    const found = this.find(protoName, internalName);
    if (found === undefined) return 0n;
    const value = decodeBigInt64(found.value, found.path, this.dialect);
    if (value !== 0n) this.sizeBytes += varintBytes(fieldNumber * 8) + bigVarintBytes(value);
    return value;
  }

  bool(fieldNumber: number, protoName: string, internalName = camelName(protoName)): boolean {
    const found = this.find(protoName, internalName);
    if (found === undefined) return false;
    if (typeof found.value !== 'boolean') throw invalidField(found.path, 'true or false', found.value);
    if (found.value) this.sizeBytes += varintBytes(fieldNumber * 8) + 1;
    return found.value;
  }

  enumeration<T extends string>(fieldNumber: number, protoName: string, names: readonly T[], internalName = camelName(protoName)): T {
    const found = this.find(protoName, internalName);
    const first = names[0] as T;
    if (found === undefined) return first;
    const index = decodeEnum(found.value, found.path, names);
    if (index !== 0) this.sizeBytes += varintBytes(fieldNumber * 8) + varintBytes(index);
    return names[index] as T;
  }

  /** A packed repeated enum (watch filters). */
  enumerations<T extends string>(fieldNumber: number, protoName: string, names: readonly T[], countMax: number, internalName = camelName(protoName)): T[] {
    const items = this.list(protoName, internalName, countMax, (count, path) => invalidField(path, `at most ${countMax} values`, `${count} values`));
    if (items === null) return [];
    let payloadBytes = 0;
    const values = items.values.map((item, i) => {
      const index = decodeEnum(item, `${items.path}[${i}]`, names);
      payloadBytes += varintBytes(index);
      return names[index] as T;
    });
    if (values.length > 0) this.sizeBytes += delimitedBytes(fieldNumber, payloadBytes);
    return values;
  }

  /** A nested message, or null when absent. */
  message<T>(fieldNumber: number, protoName: string, internalName: string, decode: (reader: FieldReader) => T): T | null {
    const found = this.find(protoName, internalName);
    if (found === undefined) return null;
    const reader = FieldReader.of(found.value, found.path, this.dialect);
    const value = decode(reader);
    this.sizeBytes += delimitedBytes(fieldNumber, reader.sizeBytes);
    return value;
  }

  /** A repeated message; more than countMax items fail with `tooMany` before any is read (a bound on work as much as on size). */
  messages<T>(
    fieldNumber: number,
    protoName: string,
    internalName: string,
    countMax: number,
    tooMany: (count: number, path: string) => Error,
    decode: (reader: FieldReader) => T,
  ): T[] {
    const items = this.list(protoName, internalName, countMax, tooMany);
    if (items === null) return [];
    return items.values.map((item, i) => {
      const reader = FieldReader.of(item, `${items.path}[${i}]`, this.dialect);
      const value = decode(reader);
      this.sizeBytes += delimitedBytes(fieldNumber, reader.sizeBytes);
      return value;
    });
  }

  private list(
    protoName: string,
    internalName: string,
    countMax: number,
    tooMany: (count: number, path: string) => Error,
  ): { values: readonly unknown[]; path: string } | null {
    const found = this.find(protoName, internalName);
    if (found === undefined) return null;
    if (!Array.isArray(found.value)) throw invalidField(found.path, 'an array', found.value);
    if (found.value.length > countMax) throw tooMany(found.value.length, found.path);
    return { values: found.value, path: found.path };
  }
}

function decodeBase64(value: unknown, path: string): Uint8Array {
  if (typeof value !== 'string') throw invalidField(path, 'a base64 string', value);
  const text = value.includes('\r') || value.includes('\n') ? value.replace(/[\r\n]/g, '') : value;
  if (!BASE64.test(text)) throw invalidField(path, 'standard base64 with padding (RFC 4648 §4)', value);
  return Buffer.from(text, 'base64');
}

function decodeBinary(value: unknown, path: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidField(path, 'msgpack bin bytes', value);
  return value;
}

/** int64 as a JSON number or decimal string (jsonpb accepts both); msgpack gives numbers (or bigint when large). */
/** An int64 as jsonpb accepts it (a JSON number, or a decimal string; msgpack: an integer or bigint), range-checked. */
function decodeBigInt64(value: unknown, path: string, dialect: Dialect): bigint {
  let big: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw invalidField(path, 'an integer', value);
    // Past 2^53 JSON.parse has already rounded the number: a client that needs the exact value sends a string.
    big = BigInt(value);
  } else if (typeof value === 'bigint' && dialect === 'msgpack') {
    big = value;
  } else if (typeof value === 'string' && dialect === 'json' && DECIMAL.test(value)) {
    big = BigInt(value);
  } else {
    throw invalidField(path, dialect === 'json' ? 'an int64 as a JSON number or a decimal string' : 'an integer', value);
  }
  if (big > INT64_MAX || big < INT64_MIN) throw invalidField(path, 'an int64 (out of range)', value);
  return big;
}

/** An int64 that raftplane keeps as an exact JS number (revisions, counts, TTLs): within ±2^53. */
function decodeInt64(value: unknown, path: string, dialect: Dialect): number {
  const big = decodeBigInt64(value, path, dialect);
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw invalidField(path, `an integer within ±${Number.MAX_SAFE_INTEGER} (raftplane keeps revisions and counts as exact JS numbers)`, value);
  }
  return Number(big);
}

/** An enum by name, or by number as jsonpb also accepts; unknown numbers are refused here (etcd would pass them on). */
function decodeEnum(value: unknown, path: string, names: readonly string[]): number {
  const index = typeof value === 'string' ? names.indexOf(value) : typeof value === 'number' && Number.isInteger(value) ? value : -1;
  if (index < 0 || index >= names.length) throw invalidField(path, `one of ${names.join(', ')} (or 0..${names.length - 1})`, value);
  return index;
}

export const SORT_ORDERS = ['NONE', 'ASCEND', 'DESCEND'] as const;
export const SORT_TARGETS = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'] as const;
export const COMPARE_RESULTS = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'] as const;
export const COMPARE_TARGETS = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'] as const;
export const WATCH_FILTERS = ['NOPUT', 'NODELETE'] as const satisfies readonly WatchFilter[];

/** etcd's RangeRequest (rpc.proto fields 1-13). A revision or limit at or below zero means none, as in etcd's mvcc. */
export function decodeRange(r: FieldReader): RangeRequest {
  return {
    key: r.bytes(1, 'key'),
    rangeEnd: r.bytes(2, 'range_end'),
    limit: Math.max(0, r.int64(3, 'limit')),
    revision: Math.max(0, r.int64(4, 'revision')),
    sortOrder: r.enumeration(5, 'sort_order', SORT_ORDERS),
    sortTarget: r.enumeration(6, 'sort_target', SORT_TARGETS),
    serializable: r.bool(7, 'serializable'),
    keysOnly: r.bool(8, 'keys_only'),
    countOnly: r.bool(9, 'count_only'),
    minModRevision: r.int64(10, 'min_mod_revision'),
    maxModRevision: r.int64(11, 'max_mod_revision'),
    minCreateRevision: r.int64(12, 'min_create_revision'),
    maxCreateRevision: r.int64(13, 'max_create_revision'),
  };
}

export function decodePut(r: FieldReader): PutRequest {
  return {
    key: r.bytes(1, 'key'),
    value: r.bytes(2, 'value'),
    lease: r.leaseId(3, 'lease'),
    prevKv: r.bool(4, 'prev_kv'),
    ignoreValue: r.bool(5, 'ignore_value'),
    ignoreLease: r.bool(6, 'ignore_lease'),
  };
}

export function decodeDeleteRange(r: FieldReader): DeleteRangeRequest {
  return { key: r.bytes(1, 'key'), rangeEnd: r.bytes(2, 'range_end'), prevKv: r.bool(3, 'prev_kv') };
}

/** Compare's target_union members (rpc.proto fields 4-8), one per target. */
const COMPARE_OPERANDS = [
  { target: 'VERSION', fieldNumber: 4, protoName: 'version' },
  { target: 'CREATE', fieldNumber: 5, protoName: 'create_revision' },
  { target: 'MOD', fieldNumber: 6, protoName: 'mod_revision' },
  { target: 'VALUE', fieldNumber: 7, protoName: 'value' },
  { target: 'LEASE', fieldNumber: 8, protoName: 'lease' },
] as const;

function decodeCompare(r: FieldReader): Compare {
  const result = r.enumeration(1, 'result', COMPARE_RESULTS);
  const target = r.enumeration(2, 'target', COMPARE_TARGETS);
  const key = r.bytes(3, 'key');
  const rangeEnd = r.bytes(64, 'range_end');
  return { result, target, key, rangeEnd, operand: decodeOperand(r, target) };
}

/**
 * The operand is the target_union member named by `target`; another member is refused (etcd would
 * silently compare as equal). Left out, it is the target's zero (0 or empty bytes).
 */
function decodeOperand(r: FieldReader, target: Compare['target']): number | bigint | Uint8Array {
  if (r.dialect === 'msgpack') {
    const found = r.find('operand', 'operand');
    if (found === undefined) return target === 'VALUE' ? new Uint8Array(0) : target === 'LEASE' ? 0n : 0;
    if (target === 'VALUE') return r.bytes(7, 'operand', 'operand');
    if (target === 'LEASE') return r.leaseId(8, 'operand', 'operand');
    return r.int64(4, 'operand', 'operand');
  }
  for (const member of COMPARE_OPERANDS) {
    if (member.target === target) continue;
    const other = r.find(member.protoName, member.protoName);
    if (other !== undefined) throw invalidField(other.path, `no ${member.protoName} operand with target ${target}`, other.value);
  }
  const own = COMPARE_OPERANDS.find((member) => member.target === target) as (typeof COMPARE_OPERANDS)[number];
  if (target === 'VALUE') return r.bytes(own.fieldNumber, own.protoName);
  return target === 'LEASE' ? r.leaseId(own.fieldNumber, own.protoName) : r.int64(own.fieldNumber, own.protoName);
}

/** How deep txns may nest and how many ops a list may hold: etcd's --max-txn-ops bounds both. */
export interface TxnBounds {
  readonly txnOpsMax: number;
  readonly depth: number;
}

const REQUEST_OPS = [
  { fieldNumber: 1, protoName: 'request_range', internalName: 'range' },
  { fieldNumber: 2, protoName: 'request_put', internalName: 'put' },
  { fieldNumber: 3, protoName: 'request_delete_range', internalName: 'deleteRange' },
  { fieldNumber: 4, protoName: 'request_txn', internalName: 'txn' },
] as const;

function decodeRequestOp(r: FieldReader, bounds: TxnBounds): RequestOp {
  const present = REQUEST_OPS.filter((op) => r.find(op.protoName, op.internalName) !== undefined);
  const names = REQUEST_OPS.map((op) => (r.dialect === 'json' ? op.protoName : op.internalName)).join(', ');
  if (present.length !== 1) throw invalidField(r.path, `exactly one of ${names}`, present.length === 0 ? 'none' : present.map((op) => op.protoName).join(' and '));
  const op = present[0] as (typeof REQUEST_OPS)[number];
  switch (op.internalName) {
    case 'range':
      return { range: r.message(op.fieldNumber, op.protoName, op.internalName, decodeRange) as RangeRequest };
    case 'put':
      return { put: r.message(op.fieldNumber, op.protoName, op.internalName, decodePut) as PutRequest };
    case 'deleteRange':
      return { deleteRange: r.message(op.fieldNumber, op.protoName, op.internalName, decodeDeleteRange) as DeleteRangeRequest };
    case 'txn':
      return { txn: r.message(op.fieldNumber, op.protoName, op.internalName, (inner) => decodeTxn(inner, { ...bounds, depth: bounds.depth + 1 })) as TxnRequest };
  }
}

/** etcd's TxnRequest. Nesting deeper than txnOpsMax cannot pass etcd's op budget, so it stops here, before recursing further. */
export function decodeTxn(r: FieldReader, bounds: TxnBounds): TxnRequest {
  if (bounds.depth > bounds.txnOpsMax) throw new KvError('KV_TOO_MANY_OPS');
  // etcd's checkTxnRequest refuses any list longer than --max-txn-ops; refusing it before reading
  // the elements keeps the work bounded too. etcd's exact message: clients match on it.
  const tooMany = (): Error => new KvError('KV_TOO_MANY_OPS');
  return {
    compare: r.messages(1, 'compare', 'compare', bounds.txnOpsMax, tooMany, decodeCompare),
    success: r.messages(2, 'success', 'success', bounds.txnOpsMax, tooMany, (op) => decodeRequestOp(op, bounds)),
    failure: r.messages(3, 'failure', 'failure', bounds.txnOpsMax, tooMany, (op) => decodeRequestOp(op, bounds)),
  };
}

export function decodeCompaction(r: FieldReader): CompactionRequest {
  return { revision: r.int64(1, 'revision'), physical: r.bool(2, 'physical') };
}

export function decodeLeaseGrant(r: FieldReader): LeaseGrantRequest {
  return { ttl: r.int64(1, 'TTL', 'ttl'), id: r.leaseId(2, 'ID', 'id') };
}

export function decodeLeaseId(r: FieldReader): LeaseRevokeRequest & LeaseKeepAliveRequest {
  return { id: r.leaseId(1, 'ID', 'id') };
}

export function decodeLeaseTimeToLive(r: FieldReader): LeaseTimeToLiveRequest {
  return { id: r.leaseId(1, 'ID', 'id'), keys: r.bool(2, 'keys') };
}

/** Requests without fields (StatusRequest, MemberListRequest, LeaseLeasesRequest): anything given is ignored. */
export function decodeEmpty(_r: FieldReader): null {
  return null;
}

/** One message of a watch stream (WatchRequest's request_union). */
export type WatchRequestMessage =
  | { readonly create: WatchCreateRequest }
  | { readonly cancel: { readonly watchId: number } }
  | { readonly progress: true }
  /** None of the three: etcd ignores such a message, and so do we. */
  | { readonly none: true };

const WATCH_REQUESTS = [
  { fieldNumber: 1, protoName: 'create_request', internalName: 'createRequest' },
  { fieldNumber: 2, protoName: 'cancel_request', internalName: 'cancelRequest' },
  { fieldNumber: 3, protoName: 'progress_request', internalName: 'progressRequest' },
] as const;

/** Watch filters are NOPUT and NODELETE; asking for more than those two is not a request etcd sends. */
const WATCH_FILTERS_MAX = 8;

export function decodeWatchRequest(r: FieldReader): WatchRequestMessage {
  const present = WATCH_REQUESTS.filter((member) => r.find(member.protoName, member.internalName) !== undefined);
  if (present.length > 1) throw invalidField(r.path === '' ? 'watch request' : r.path, 'at most one of create_request, cancel_request, progress_request', present.map((m) => m.protoName).join(' and '));
  const member = present[0];
  if (member === undefined) return { none: true };
  switch (member.internalName) {
    case 'createRequest':
      return { create: r.message(1, member.protoName, member.internalName, decodeWatchCreate) as WatchCreateRequest };
    case 'cancelRequest':
      return { cancel: r.message(2, member.protoName, member.internalName, (c) => ({ watchId: c.int64(1, 'watch_id') })) as { watchId: number } };
    case 'progressRequest':
      r.message(3, member.protoName, member.internalName, decodeEmpty);
      return { progress: true };
  }
}

function decodeWatchCreate(r: FieldReader): WatchCreateRequest {
  const request = {
    key: r.bytes(1, 'key'),
    rangeEnd: r.bytes(2, 'range_end'),
    startRevision: r.int64(3, 'start_revision'),
    progressNotify: r.bool(4, 'progress_notify'),
    filters: r.enumerations(5, 'filters', WATCH_FILTERS, WATCH_FILTERS_MAX),
    prevKv: r.bool(6, 'prev_kv'),
    watchId: r.int64(7, 'watch_id'),
  };
  // fragment (8): accepted and ignored; no response is ever split.
  r.bool(8, 'fragment');
  if (request.startRevision < 0) throw invalidField(`${r.path}.start_revision`, 'a revision >= 0', request.startRevision);
  if (request.watchId < 0) throw invalidField(`${r.path}.watch_id`, 'a watch id >= 0 (0: the server picks)', request.watchId);
  return request;
}

// ---------------------------------------------------------------------------------------------
// Writing responses (etcd JSON)

function setInt(target: JsonObject, name: string, value: number): void {
  if (value !== 0) target[name] = String(value);
}

/** A 64-bit integer kept as a bigint (lease ids, member and cluster ids): a decimal string, left out when 0. */
function setBigInt(target: JsonObject, name: string, value: bigint): void {
  if (value !== 0n) target[name] = value.toString();
}

function setBytes(target: JsonObject, name: string, value: Uint8Array): void {
  if (value.byteLength > 0) target[name] = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
}

function setBool(target: JsonObject, name: string, value: boolean): void {
  if (value) target[name] = true;
}

function setString(target: JsonObject, name: string, value: string): void {
  if (value !== '') target[name] = value;
}

function setList(target: JsonObject, name: string, values: readonly unknown[]): void {
  if (values.length > 0) target[name] = values;
}

/** ResponseHeader {cluster_id, member_id, revision, raft_term}; each omitted at zero. */
export function headerJson(header: EtcdHeader): JsonObject {
  const json: JsonObject = {};
  setBigInt(json, 'cluster_id', header.clusterId);
  setBigInt(json, 'member_id', header.memberId);
  setInt(json, 'revision', header.revision);
  setInt(json, 'raft_term', header.raftTerm);
  return json;
}

/**
 * The header of a response inside a txn: etcd fills only the outer header (hdr.fill), so inner
 * range/put/delete headers carry just their revision, as in etcd's documented example
 * {"response_range":{"header":{"revision":"6"},…}}, and a nested txn's header stays empty.
 */
function innerHeaderJson(header: ResponseHeader): JsonObject {
  const json: JsonObject = {};
  setInt(json, 'revision', header.revision);
  return json;
}

export function keyValueJson(kv: KeyValue): JsonObject {
  const json: JsonObject = {};
  setBytes(json, 'key', kv.key);
  setInt(json, 'create_revision', kv.createRevision);
  setInt(json, 'mod_revision', kv.modRevision);
  setInt(json, 'version', kv.version);
  setBytes(json, 'value', kv.value);
  setBigInt(json, 'lease', kv.lease);
  return json;
}

function rangeBody(response: RangeResponse, header: JsonObject): JsonObject {
  const json: JsonObject = { header };
  setList(json, 'kvs', response.kvs.map(keyValueJson));
  setBool(json, 'more', response.more);
  setInt(json, 'count', response.count);
  return json;
}

function putBody(response: PutResponse, header: JsonObject): JsonObject {
  const json: JsonObject = { header };
  if (response.prevKv !== null) json['prev_kv'] = keyValueJson(response.prevKv);
  return json;
}

function deleteRangeBody(response: DeleteRangeResponse, header: JsonObject): JsonObject {
  const json: JsonObject = { header };
  setInt(json, 'deleted', response.deleted);
  setList(json, 'prev_kvs', response.prevKvs.map(keyValueJson));
  return json;
}

function txnBody(response: TxnResponse, header: JsonObject): JsonObject {
  const json: JsonObject = { header };
  setBool(json, 'succeeded', response.succeeded);
  setList(json, 'responses', response.responses.map(responseOpJson));
  return json;
}

function responseOpJson(op: ResponseOp): JsonObject {
  if ('range' in op) return { response_range: rangeBody(op.range, innerHeaderJson(op.range.header)) };
  if ('put' in op) return { response_put: putBody(op.put, innerHeaderJson(op.put.header)) };
  if ('deleteRange' in op) return { response_delete_range: deleteRangeBody(op.deleteRange, innerHeaderJson(op.deleteRange.header)) };
  return { response_txn: txnBody(op.txn, {}) };
}

export const rangeJson = (response: RangeResponse, header: EtcdHeader): JsonObject => rangeBody(response, headerJson(header));
export const putJson = (response: PutResponse, header: EtcdHeader): JsonObject => putBody(response, headerJson(header));
export const deleteRangeJson = (response: DeleteRangeResponse, header: EtcdHeader): JsonObject => deleteRangeBody(response, headerJson(header));
export const txnJson = (response: TxnResponse, header: EtcdHeader): JsonObject => txnBody(response, headerJson(header));

/** CompactionResponse, LeaseRevokeResponse: a header only. */
export function headerOnlyJson(_response: unknown, header: EtcdHeader): JsonObject {
  return { header: headerJson(header) };
}

/**
 * LeaseGrantResponse {header, ID, TTL, error} and LeaseKeepAliveResponse {header, ID, TTL}: the
 * same JSON, since `error` is never set by a server that answers.
 */
export function leaseJson(response: LeaseGrantResponse | LeaseKeepAliveResponse, header: EtcdHeader): JsonObject {
  const json: JsonObject = { header: headerJson(header) };
  setBigInt(json, 'ID', response.id);
  setInt(json, 'TTL', response.ttl);
  return json;
}

export function leaseTimeToLiveJson(response: LeaseTimeToLiveResponse, header: EtcdHeader): JsonObject {
  const json: JsonObject = { header: headerJson(header) };
  setBigInt(json, 'ID', response.id);
  setInt(json, 'TTL', response.ttl);
  setInt(json, 'grantedTTL', response.grantedTtl);
  setList(
    json,
    'keys',
    response.keys.map((key) => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64')),
  );
  return json;
}

export function leaseLeasesJson(response: LeaseLeasesResponse, header: EtcdHeader): JsonObject {
  const json: JsonObject = { header: headerJson(header) };
  setList(
    json,
    'leases',
    response.leases.map((lease) => {
      const item: JsonObject = {};
      setBigInt(item, 'ID', lease.id);
      return item;
    }),
  );
  return json;
}

/** mvccpb.Event: PUT is the enum's zero, so a put event has no `type` at all. */
function eventJson(event: Event): JsonObject {
  const json: JsonObject = {};
  if (event.type !== 'PUT') json['type'] = event.type;
  json['kv'] = keyValueJson(event.kv);
  if (event.prevKv !== null) json['prev_kv'] = keyValueJson(event.prevKv);
  return json;
}

/** WatchResponse in proto field order: header, watch_id, created, canceled, compact_revision, cancel_reason, events. */
export function watchResponseJson(response: WatchResponse, header: EtcdHeader): JsonObject {
  const json: JsonObject = { header: headerJson(header) };
  setInt(json, 'watch_id', response.watchId);
  setBool(json, 'created', response.created);
  setBool(json, 'canceled', response.canceled);
  setInt(json, 'compact_revision', response.compactRevision);
  setString(json, 'cancel_reason', response.cancelReason);
  setList(json, 'events', response.events.map(eventJson));
  return json;
}

/** StatusResponse: its field names are camelCase in rpc.proto itself (dbSize, raftIndex, …). */
export function statusJson(status: MaintenanceStatus, header: EtcdHeader): JsonObject {
  const json: JsonObject = { header: headerJson(header) };
  setString(json, 'version', status.version);
  setInt(json, 'dbSize', status.dbSize);
  setBigInt(json, 'leader', status.leader);
  setInt(json, 'raftIndex', status.raftIndex);
  setInt(json, 'raftTerm', status.raftTerm);
  setInt(json, 'raftAppliedIndex', status.raftAppliedIndex);
  setList(json, 'errors', status.errors);
  setInt(json, 'dbSizeInUse', status.dbSizeInUse);
  setBool(json, 'isLearner', status.isLearner);
  return json;
}

/** MemberListResponse. etcd's cluster server builds this header without a revision (ClusterServer.header()). */
export function memberListJson(members: readonly Member[], header: EtcdHeader): JsonObject {
  const json: JsonObject = { header: headerJson({ ...header, revision: 0 }) };
  setList(
    json,
    'members',
    members.map((member) => {
      const item: JsonObject = {};
      setBigInt(item, 'ID', member.id);
      setString(item, 'name', member.name);
      setList(item, 'peerURLs', member.peerUrls);
      setList(item, 'clientURLs', member.clientUrls);
      setBool(item, 'isLearner', member.isLearner);
      return item;
    }),
  );
  return json;
}
