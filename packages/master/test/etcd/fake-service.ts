// A small in-memory KvService for the gateway's tests: etcd's semantics where the tests look
// (single keys and ranges, txn compares, leases, a watch hub that fans out puts and deletes), a
// log of every call, and switches to play a follower or fail with a chosen error.

import { EventEmitter } from 'node:events';
import {
  KvError,
  type ClientSession,
  type Compare,
  type Event,
  type KeyValue,
  type RangeRequest,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
  type WatchCreateRequest,
  type WatchResponse,
} from '@raftplane/kv';
import type { EtcdHeader, KvService, MaintenanceStatus, Member, WatchHandle, WatchSink } from '../../src/etcd/service.js';

/** The ids of etcd's documentation examples, so responses can be compared with them. */
export const CLUSTER_ID = 12585971608760269493n;
export const MEMBER_ID = 13847567121247652255n;

export interface FakeCall {
  readonly method: string;
  readonly request: unknown;
  readonly session: ClientSession | null;
}

interface FakeWatcher {
  readonly request: WatchCreateRequest;
  readonly sink: WatchSink;
  readonly watchId: number;
  /** The last revision the sink took. */
  sentThrough: number;
}

/** The fake hub's reason for canceling a watch whose sink refused a response. */
export const FAKE_TOO_SLOW = 'fake hub: the receiver refused a response';

const key = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const bytes = (text: string): Uint8Array => Buffer.from(text, 'latin1');

function inRange(candidate: string, start: Uint8Array, end: Uint8Array): boolean {
  if (end.byteLength === 0) return candidate === key(start);
  if (candidate < key(start)) return false;
  return (end.byteLength === 1 && end[0] === 0) || candidate < key(end);
}

export class FakeKvService implements KvService {
  readonly calls: FakeCall[] = [];
  readonly events = new EventEmitter();
  readonly store = new Map<string, KeyValue>();
  readonly leases = new Map<bigint, { ttl: number; keys: Set<string> }>();
  revision = 1;
  raftTerm = 2;
  clusterId = CLUSTER_ID;
  /** When set, writes, keep-alives and time-to-live answer KV_NOT_LEADER, and this is the leader to forward to. */
  follower: { leader: { id: number; host: string; port: number } | null } | null = null;
  /** Thrown by the next call (once). */
  failNext: Error | null = null;
  private readonly watchers = new Map<number, FakeWatcher>();
  /** etcd numbers a stream's watches from 0 (whose id JSON then leaves out). */
  private nextWatchId = 0;
  /** Every watch created, in order: its key and the hub id given. */
  private readonly created: { key: string; watchId: number }[] = [];
  private nextLeaseId = 7587862072907248n;

  constructor(
    readonly memberId = 1,
    public memberIdBig = MEMBER_ID,
  ) {}

  /** Puts a key as it would stand after `version` writes, the last at `modRevision`. */
  seed(name: string, value: string, fields: { createRevision: number; modRevision: number; version: number; lease?: bigint }): void {
    this.store.set(name, { key: bytes(name), value: bytes(value), lease: fields.lease ?? 0n, ...fields });
  }

  get watchCount(): number {
    return this.watchers.size;
  }

  /** Resolves when the watch with this (hub) id has been canceled (by the gateway or by a failed send). */
  whenWatchEnds(watchId: number): Promise<'canceled' | 'cut'> {
    if (!this.watchers.has(watchId)) return Promise.resolve('canceled');
    return new Promise((resolveEnd) => this.events.once(`end:${watchId}`, resolveEnd));
  }

  /**
   * The hub id of the newest watch created on `key`: the gateway numbers watches per stream and
   * asks the hub for its own ids, so tests find a watch by what it watches.
   */
  hubIdOf(key: string): number {
    for (let i = this.created.length - 1; i >= 0; i--) {
      const created = this.created[i] as { key: string; watchId: number };
      if (created.key === key) return created.watchId;
    }
    throw new Error(`no watch was created on ${JSON.stringify(key)}`);
  }

  /** Resolves when the newest watch on `key` has ended. */
  whenWatchOnEnds(key: string): Promise<'canceled' | 'cut'> {
    return this.whenWatchEnds(this.hubIdOf(key));
  }

  /** Resolves once every watch has ended (a test's client left). */
  async whenAllWatchesEnd(): Promise<void> {
    await Promise.all([...this.watchers.keys()].map((id) => this.whenWatchEnds(id)));
  }

  private record(method: string, request: unknown, session: ClientSession | null = null, leaderOnly = false): void {
    this.calls.push({ method, request, session });
    const failure = this.failNext;
    if (failure !== null) {
      this.failNext = null;
      throw failure;
    }
    if (leaderOnly && this.follower !== null) throw new KvError('KV_NOT_LEADER', undefined, { leader: this.follower.leader?.id ?? 0 });
  }

  header(revision: number): EtcdHeader {
    return { clusterId: this.clusterId, memberId: this.memberIdBig, revision: revision === 0 ? this.revision : revision, raftTerm: this.raftTerm };
  }

  leaderApi(): { id: number; host: string; port: number } | null {
    return this.follower?.leader ?? null;
  }

  async range(request: RangeRequest) {
    this.record('range', request, null, !request.serializable && this.follower !== null);
    return this.doRange(request);
  }

  private doRange(request: RangeRequest) {
    const all = [...this.store.entries()].filter(([k]) => inRange(k, request.key, request.rangeEnd)).sort(([a], [b]) => (a < b ? -1 : 1));
    const limited = request.limit > 0 ? all.slice(0, request.limit) : all;
    const kvs = request.countOnly ? [] : limited.map(([, kv]) => (request.keysOnly ? { ...kv, value: new Uint8Array(0) } : kv));
    return { header: { revision: this.revision }, kvs, more: limited.length < all.length, count: all.length };
  }

  async put(request: { key: Uint8Array; value: Uint8Array; lease: bigint; prevKv: boolean }, session: ClientSession | null) {
    this.record('put', request, session, true);
    this.revision += 1;
    const events: Event[] = [];
    const prev = this.doPut(request, events);
    this.emit(events);
    return { header: { revision: this.revision }, prevKv: request.prevKv ? prev : null };
  }

  private doPut(request: { key: Uint8Array; value: Uint8Array; lease: bigint }, events: Event[]): KeyValue | null {
    const prev = this.store.get(key(request.key)) ?? null;
    const kv: KeyValue = {
      key: request.key,
      value: request.value,
      lease: request.lease,
      createRevision: prev?.createRevision ?? this.revision,
      modRevision: this.revision,
      version: (prev?.version ?? 0) + 1,
    };
    this.store.set(key(request.key), kv);
    if (request.lease !== 0n) this.leases.get(request.lease)?.keys.add(key(request.key));
    events.push({ type: 'PUT', kv, prevKv: prev });
    return prev;
  }

  async deleteRange(request: { key: Uint8Array; rangeEnd: Uint8Array; prevKv: boolean }, session: ClientSession | null) {
    this.record('deleteRange', request, session, true);
    this.revision += 1;
    const events: Event[] = [];
    const prevKvs = this.doDelete(request, events);
    this.emit(events);
    return { header: { revision: this.revision }, deleted: prevKvs.length, prevKvs: request.prevKv ? prevKvs : [] };
  }

  private doDelete(request: { key: Uint8Array; rangeEnd: Uint8Array }, events: Event[]): KeyValue[] {
    const doomed = [...this.store.entries()].filter(([k]) => inRange(k, request.key, request.rangeEnd));
    for (const [k, kv] of doomed) {
      this.store.delete(k);
      const tombstone: KeyValue = { key: kv.key, value: new Uint8Array(0), lease: 0n, createRevision: 0, modRevision: this.revision, version: 0 };
      events.push({ type: 'DELETE', kv: tombstone, prevKv: kv });
    }
    return doomed.map(([, kv]) => kv);
  }

  async txn(request: TxnRequest, session: ClientSession | null) {
    this.record('txn', request, session, true);
    const writes = JSON.stringify(request, (_k, v: unknown) => (v instanceof Uint8Array ? null : typeof v === 'bigint' ? String(v) : v)).match(/"(put|deleteRange)"/) !== null;
    if (writes) this.revision += 1;
    const events: Event[] = [];
    const response = this.doTxn(request, events);
    this.emit(events);
    return response;
  }

  private doTxn(request: TxnRequest, events: Event[]): TxnResponse {
    const succeeded = request.compare.every((compare) => this.holds(compare));
    const responses = (succeeded ? request.success : request.failure).map((op) => this.doOp(op, events));
    return { header: { revision: this.revision }, succeeded, responses };
  }

  private doOp(op: RequestOp, events: Event[]): ResponseOp {
    if ('range' in op) return { range: this.doRange(op.range) };
    if ('put' in op) {
      const prev = this.doPut(op.put, events);
      return { put: { header: { revision: this.revision }, prevKv: op.put.prevKv ? prev : null } };
    }
    if ('deleteRange' in op) {
      const prevKvs = this.doDelete(op.deleteRange, events);
      return { deleteRange: { header: { revision: this.revision }, deleted: prevKvs.length, prevKvs: op.deleteRange.prevKv ? prevKvs : [] } };
    }
    return { txn: this.doTxn(op.txn, events) };
  }

  private holds(compare: Compare): boolean {
    const kv = this.store.get(key(compare.key));
    const actual: number | bigint | string =
      compare.target === 'VALUE'
        ? key(kv?.value ?? new Uint8Array(0))
        : compare.target === 'LEASE'
          ? (kv?.lease ?? 0n)
          : ({ VERSION: kv?.version, CREATE: kv?.createRevision, MOD: kv?.modRevision }[compare.target] ?? 0);
    const expected = compare.operand instanceof Uint8Array ? key(compare.operand) : compare.operand;
    switch (compare.result) {
      case 'EQUAL':
        return actual === expected;
      case 'NOT_EQUAL':
        return actual !== expected;
      case 'GREATER':
        return actual > expected;
      case 'LESS':
        return actual < expected;
    }
  }

  async compact(request: { revision: number; physical: boolean }) {
    this.record('compact', request, null, true);
    if (request.revision > this.revision) throw new KvError('KV_FUTURE_REVISION');
    return { header: { revision: this.revision } };
  }

  async leaseGrant(request: { ttl: number; id: bigint }) {
    this.record('leaseGrant', request, null, true);
    const id = request.id !== 0n ? request.id : this.nextLeaseId++;
    if (this.leases.has(id)) throw new KvError('KV_LEASE_EXISTS');
    this.leases.set(id, { ttl: request.ttl, keys: new Set() });
    return { header: { revision: this.revision }, id, ttl: request.ttl };
  }

  async leaseRevoke(request: { id: bigint }) {
    this.record('leaseRevoke', request, null, true);
    const lease = this.leases.get(request.id);
    if (lease === undefined) throw new KvError('KV_LEASE_NOT_FOUND');
    this.leases.delete(request.id);
    this.revision += 1;
    const events: Event[] = [];
    for (const k of lease.keys) this.doDelete({ key: bytes(k), rangeEnd: new Uint8Array(0) }, events);
    this.emit(events);
    return { header: { revision: this.revision } };
  }

  async leaseKeepAlive(request: { id: bigint }) {
    this.record('leaseKeepAlive', request, null, true);
    return { header: { revision: this.revision }, id: request.id, ttl: this.leases.get(request.id)?.ttl ?? 0 };
  }

  async leaseTimeToLive(request: { id: bigint; keys: boolean }) {
    this.record('leaseTimeToLive', request, null, true);
    const lease = this.leases.get(request.id);
    if (lease === undefined) return { header: { revision: this.revision }, id: request.id, ttl: -1, grantedTtl: 0, keys: [] };
    const keys = request.keys ? [...lease.keys].map(bytes) : [];
    return { header: { revision: this.revision }, id: request.id, ttl: lease.ttl, grantedTtl: lease.ttl, keys };
  }

  async leaseLeases() {
    this.record('leaseLeases', null);
    return { header: { revision: this.revision }, leases: [...this.leases.keys()].map((id) => ({ id })) };
  }

  watch(request: WatchCreateRequest, sink: WatchSink): WatchHandle {
    this.record('watch', request);
    const watchId = request.watchId !== 0 ? request.watchId : this.nextWatchId++;
    this.created.push({ key: Buffer.from(request.key).toString(), watchId });
    const watcher: FakeWatcher = { request, sink, watchId, sentThrough: 0 };
    this.watchers.set(watchId, watcher);
    this.deliver(watcher, { ...this.empty(watchId), created: true });
    return {
      watchId,
      cancel: () => this.end(watchId, 'canceled'),
      requestProgress: () => {
        this.calls.push({ method: 'requestProgress', request: watchId, session: null });
        const live = this.watchers.get(watchId);
        if (live !== undefined) this.deliver(live, this.empty(watchId));
      },
    };
  }

  private empty(watchId: number): WatchResponse {
    return { header: { revision: this.revision }, watchId, created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] };
  }

  /**
   * Sends to one watcher. A refused send cancels the watch at once with a reason, its last
   * response (a real hub first retries, up to its queue bound: the gateway's side is the same).
   */
  private deliver(watcher: FakeWatcher, response: WatchResponse): void {
    if (watcher.sink.send(response)) {
      watcher.sentThrough = response.header.revision;
      return;
    }
    this.end(watcher.watchId, 'cut');
    const last = { ...this.empty(watcher.watchId), header: { revision: watcher.sentThrough }, canceled: true, cancelReason: FAKE_TOO_SLOW };
    watcher.sink.send(last);
  }

  private end(watchId: number, how: 'canceled' | 'cut'): void {
    if (!this.watchers.delete(watchId)) return;
    this.calls.push({ method: how === 'cut' ? 'watchCut' : 'watchCancel', request: watchId, session: null });
    this.events.emit(`end:${watchId}`, how);
  }

  private emit(events: readonly Event[]): void {
    for (const watcher of [...this.watchers.values()]) {
      const { request } = watcher;
      const matching = events
        .filter((event) => inRange(key(event.kv.key), request.key, request.rangeEnd))
        .filter((event) => !request.filters.includes(event.type === 'PUT' ? 'NOPUT' : 'NODELETE'))
        .map((event) => (request.prevKv ? event : { ...event, prevKv: null }));
      if (matching.length > 0) this.deliver(watcher, { ...this.empty(watcher.watchId), events: matching });
    }
  }

  status(): MaintenanceStatus {
    this.record('status', null);
    return {
      version: '3.4.0',
      dbSize: 24576,
      leader: this.memberIdBig,
      raftIndex: 8,
      raftTerm: this.raftTerm,
      raftAppliedIndex: 8,
      errors: [],
      dbSizeInUse: 0,
      isLearner: false,
    };
  }

  members(): readonly Member[] {
    this.record('members', null);
    return [
      { id: this.memberIdBig, name: 'master-1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: ['http://127.0.0.1:2379'], isLearner: false },
      { id: 5n, name: 'master-2', peerUrls: ['http://127.0.0.1:12380'], clientUrls: [], isLearner: true },
    ];
  }
}
