// A deliberately naive reference model of the store for the model-based test: a whole copy of
// the key space per revision, linear scans and sorts, etcd's rules written out plainly
// (etcdserver/apply.go, mvcc/kvstore_txn.go, lease/lessor.go). Nothing is shared with src/ but
// the types and the error catalogue.

import { KvError, isKvError } from '../../src/index.js';
import type {
  ClientSession,
  Compare,
  DeleteRangeResponse,
  Event,
  KeyValue,
  KvOperation,
  KvResult,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  RevisionEvents,
  TxnRequest,
  TxnResponse,
} from '../../src/index.js';
import { bytes, text } from './store-fixture.js';

interface Kv {
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly value: string;
  readonly lease: bigint;
}

type Space = ReadonlyMap<string, Kv>;
type Response = KvResult & { ok: true };

function keyValue(key: string, kv: Kv): KeyValue {
  return { key: bytes(key), createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, value: bytes(kv.value), lease: kv.lease };
}

/** etcd's range_end: empty is one key, a zero byte is every key from `key`, else [key, end). */
function inRange(key: string, start: string, end: string): boolean {
  if (end === '') return key === start;
  if (end === '\0') return key >= start;
  return key >= start && key < end;
}

function keysIn(space: Space, start: string, end: string): string[] {
  return [...space.keys()].filter((key) => inRange(key, start, end)).sort();
}

/** The changes of one write txn in progress. */
class Txn {
  changes = 0;
  readonly events: Event[] = [];
  readonly space: Map<string, Kv>;

  constructor(
    readonly begin: number,
    space: Space,
  ) {
    this.space = new Map(space);
  }

  get view(): number {
    return this.changes > 0 ? this.begin + 1 : this.begin;
  }

  put(key: string, value: string, lease: bigint): void {
    const prev = this.space.get(key);
    const revision = this.begin + 1;
    this.changes++;
    const kv = { createRevision: prev?.createRevision ?? revision, modRevision: revision, version: (prev?.version ?? 0) + 1, value, lease };
    this.space.set(key, kv);
    this.events.push({ type: 'PUT', kv: keyValue(key, kv), prevKv: prev === undefined ? null : keyValue(key, prev) });
  }

  delete(key: string): void {
    const prev = this.space.get(key) as Kv;
    this.space.delete(key);
    this.changes++;
    const tombstone = { key: bytes(key), createRevision: 0, modRevision: this.begin + 1, version: 0, value: new Uint8Array(0), lease: 0n };
    this.events.push({ type: 'DELETE', kv: tombstone, prevKv: keyValue(key, prev) });
  }
}

export class Model {
  revision = 1;
  compacted = 0;
  space: Space = new Map();
  /** The key space as of each revision that changed it (and revision 1, empty). */
  private readonly spaces: { revision: number; space: Space }[] = [{ revision: 1, space: new Map() }];
  leases = new Map<bigint, number>();
  private readonly events = new Map<number, Event[]>();
  private readonly sessions = new Map<string, { sequence: number; result: KvResult }>();

  spaceAt(revision: number): Space {
    let found = this.spaces[0] as { space: Space };
    for (const s of this.spaces) if (s.revision <= revision) found = s;
    return found.space;
  }

  /** Keys attached to each lease: the live keys that name it. */
  leaseKeys(id: bigint): string[] {
    return [...this.space].filter(([, kv]) => kv.lease === id).map(([key]) => key).sort();
  }

  lastSequence(clientId: string): number | undefined {
    return this.sessions.get(clientId)?.sequence;
  }

  history(from: number, to: number): RevisionEvents[] {
    const revisions: RevisionEvents[] = [];
    for (let revision = from; revision <= to; revision++) {
      const events = this.events.get(revision);
      if (events !== undefined) revisions.push({ revision, events });
    }
    return revisions;
  }

  // ---- reads ----

  range(r: RangeRequest): RangeResponse {
    if (r.revision > this.revision) throw new KvError('KV_FUTURE_REVISION');
    if (r.revision > 0 && r.revision < this.compacted) throw new KvError('KV_COMPACTED');
    return this.read(r, this.revision, r.revision > 0 ? this.spaceAt(r.revision) : this.space);
  }

  private read(r: RangeRequest, header: number, space: Space): RangeResponse {
    const keys = keysIn(space, text(r.key), text(r.rangeEnd));
    if (r.countOnly) return { header: { revision: header }, kvs: [], more: false, count: keys.length };
    const filtered = r.minModRevision !== 0 || r.maxModRevision !== 0 || r.minCreateRevision !== 0 || r.maxCreateRevision !== 0;
    let rows = keys.map((key) => ({ key, kv: space.get(key) as Kv }));
    if (r.sortOrder === 'NONE' && !filtered && r.limit > 0) rows = rows.slice(0, r.limit + 1);
    rows = rows.filter(({ kv }) => {
      if (r.maxModRevision !== 0 && kv.modRevision > r.maxModRevision) return false;
      if (r.minModRevision !== 0 && kv.modRevision < r.minModRevision) return false;
      if (r.maxCreateRevision !== 0 && kv.createRevision > r.maxCreateRevision) return false;
      return r.minCreateRevision === 0 || kv.createRevision >= r.minCreateRevision;
    });
    const order = r.sortOrder === 'NONE' && r.sortTarget !== 'KEY' ? 'ASCEND' : r.sortOrder;
    if (order !== 'NONE') {
      const by = (row: { key: string; kv: Kv }): string | number =>
        ({ KEY: row.key, VERSION: row.kv.version, CREATE: row.kv.createRevision, MOD: row.kv.modRevision, VALUE: row.kv.value })[r.sortTarget];
      const sign = order === 'ASCEND' ? 1 : -1;
      rows.sort((a, b) => (by(a) < by(b) ? -sign : by(a) > by(b) ? sign : 0));
    }
    const more = r.limit > 0 && rows.length > r.limit;
    if (more) rows = rows.slice(0, r.limit);
    const kvs = rows.map(({ key, kv }) => keyValue(key, r.keysOnly ? { ...kv, value: '' } : kv));
    return { header: { revision: header }, kvs, more, count: keys.length };
  }

  private holds(c: Compare): boolean {
    const kvs = keysIn(this.space, text(c.key), text(c.rangeEnd)).map((key) => this.space.get(key) as Kv);
    if (kvs.length === 0 && c.target === 'VALUE') return false;
    const subjects = kvs.length === 0 ? [{ createRevision: 0, modRevision: 0, version: 0, value: '', lease: 0n }] : kvs;
    return subjects.every((kv) => {
      const mine = { VERSION: kv.version, CREATE: kv.createRevision, MOD: kv.modRevision, LEASE: kv.lease, VALUE: kv.value }[c.target];
      const theirs = c.target === 'VALUE' ? text(c.operand as Uint8Array) : (c.operand as number | bigint);
      const sign = mine < theirs ? -1 : mine > theirs ? 1 : 0;
      return { EQUAL: sign === 0, NOT_EQUAL: sign !== 0, GREATER: sign > 0, LESS: sign < 0 }[c.result];
    });
  }

  // ---- writes ----

  /** Applies one command: exactly once per client sequence; a failed one changes nothing. */
  apply(operation: KvOperation, session: ClientSession | null): KvResult {
    const known = session === null ? undefined : this.sessions.get(session.clientId);
    if (session !== null && known !== undefined && session.sequence < known.sequence) {
      return { ok: false, error: new KvError('KV_SESSION_SUPERSEDED').toShape() };
    }
    if (session !== null && known !== undefined && session.sequence === known.sequence) return known.result;
    const saved = { revision: this.revision, compacted: this.compacted, space: this.space, spaces: this.spaces.length, leases: new Map(this.leases) };
    let result: KvResult;
    try {
      result = { ok: true, response: this.write(operation) } as Response;
    } catch (error) {
      if (!isKvError(error)) throw error;
      for (let r = saved.revision + 1; r <= this.revision; r++) this.events.delete(r);
      Object.assign(this, { revision: saved.revision, compacted: saved.compacted, space: saved.space, leases: saved.leases });
      this.spaces.length = saved.spaces;
      result = { ok: false, error: error.toShape() };
    }
    if (session !== null) this.sessions.set(session.clientId, { sequence: session.sequence, result });
    return result;
  }

  private write(op: KvOperation): Response['response'] {
    if ('put' in op) {
      this.checkPut(op.put);
      return this.finish((txn) => this.put(txn, op.put));
    }
    if ('deleteRange' in op) return this.finish((txn) => this.delete(txn, text(op.deleteRange.key), text(op.deleteRange.rangeEnd), op.deleteRange.prevKv));
    if ('txn' in op) return this.txn(op.txn);
    if ('compaction' in op) {
      if (op.compaction.revision <= this.compacted) throw new KvError('KV_COMPACTED');
      if (op.compaction.revision > this.revision) throw new KvError('KV_FUTURE_REVISION');
      this.compacted = op.compaction.revision;
      return { header: { revision: this.revision } };
    }
    if ('leaseGrant' in op) {
      const { id, ttl } = op.leaseGrant;
      if (id === 0n) throw new KvError('KV_LEASE_NOT_FOUND');
      if (this.leases.has(id)) throw new KvError('KV_LEASE_EXISTS');
      this.leases.set(id, ttl);
      return { header: { revision: this.revision }, id, ttl };
    }
    const id = op.leaseRevoke.id;
    if (!this.leases.has(id)) throw new KvError('KV_LEASE_NOT_FOUND');
    this.finish((txn) => {
      for (const key of this.leaseKeys(id)) txn.delete(key);
    });
    this.leases.delete(id);
    return { header: { revision: this.revision } };
  }

  /** Runs `body` as one write txn and moves to its revision if it changed anything. */
  private finish<T>(body: (txn: Txn) => T): T {
    const txn = new Txn(this.revision, this.space);
    const response = body(txn);
    if (txn.changes > 0) {
      this.revision++;
      this.space = txn.space;
      this.spaces.push({ revision: this.revision, space: txn.space });
      this.events.set(this.revision, txn.events);
    }
    return response;
  }

  private checkPut(p: PutRequest, space: Space = this.space): void {
    if ((p.ignoreValue || p.ignoreLease) && !space.has(text(p.key))) throw new KvError('KV_KEY_NOT_FOUND');
    if (p.lease !== 0n && !this.leases.has(p.lease)) throw new KvError('KV_LEASE_NOT_FOUND');
  }

  private put(txn: Txn, p: PutRequest): PutResponse {
    const key = text(p.key);
    const prev = txn.space.get(key);
    this.checkPut(p, txn.space);
    txn.put(key, p.ignoreValue ? (prev as Kv).value : text(p.value), p.ignoreLease ? (prev as Kv).lease : p.lease);
    return { header: { revision: txn.view }, prevKv: p.prevKv && prev !== undefined ? keyValue(key, prev) : null };
  }

  private delete(txn: Txn, start: string, end: string, prevKv: boolean): DeleteRangeResponse {
    const keys = keysIn(txn.space, start, end);
    const prevKvs = keys.map((key) => keyValue(key, txn.space.get(key) as Kv));
    for (const key of keys) txn.delete(key);
    return { header: { revision: txn.view }, deleted: keys.length, prevKvs: prevKv ? prevKvs : [] };
  }

  /** etcd's Txn: every branch (nested ones too) chosen on the state before, checks along the path, then the ops. */
  private txn(t: TxnRequest): TxnResponse {
    const path: boolean[] = [];
    const choose = (txn: TxnRequest): RequestOp[] => {
      const ok = txn.compare.every((c) => this.holds(c));
      path.push(ok);
      const ops = ok ? txn.success : txn.failure;
      for (const op of ops) if ('txn' in op) choose(op.txn);
      return [...ops];
    };
    choose(t);
    const onPath: RequestOp[] = [];
    let at = 0;
    const walk = (txn: TxnRequest): void => {
      for (const op of path[at++] ? txn.success : txn.failure) {
        if ('txn' in op) walk(op.txn);
        else onPath.push(op);
      }
    };
    walk(t);
    for (const op of onPath) if ('put' in op) this.checkPut(op.put);
    for (const op of onPath) {
      if (!('range' in op) || op.range.revision === 0) continue;
      if (op.range.revision > this.revision) throw new KvError('KV_FUTURE_REVISION');
      if (op.range.revision < this.compacted) throw new KvError('KV_COMPACTED');
    }
    at = 0;
    return this.finish((txn) => this.runTxn(txn, t, path, () => at++));
  }

  private runTxn(txn: Txn, t: TxnRequest, path: boolean[], next: () => number): TxnResponse {
    const succeeded = path[next()] as boolean;
    const responses: ResponseOp[] = [];
    for (const op of succeeded ? t.success : t.failure) {
      if ('range' in op) {
        const r = op.range;
        const current = r.revision <= 0 || r.revision >= txn.view;
        responses.push({ range: this.read(r, txn.view, current ? txn.space : this.spaceAt(r.revision)) });
      } else if ('put' in op) responses.push({ put: this.put(txn, op.put) });
      else if ('deleteRange' in op) responses.push({ deleteRange: this.delete(txn, text(op.deleteRange.key), text(op.deleteRange.rangeEnd), op.deleteRange.prevKv) });
      else responses.push({ txn: this.runTxn(txn, op.txn, path, next) });
    }
    return { header: { revision: txn.view }, succeeded, responses };
  }
}
