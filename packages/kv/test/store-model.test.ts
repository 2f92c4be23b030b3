// The store against a naive reference model (test/support/model.ts), driven by fast-check
// command sequences: puts, deletes, txns (nested, with compares and ranges at past revisions),
// leases, compactions, retried and superseded client writes, empty entries, several commands per
// apply batch, ranges with every option at current and past revisions, history, restarts from
// disk in the middle of a sequence, and snapshots restored into a fresh store that carries on.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateKvOperation, type Compare, type KvOperation, type RangeRequest, type RequestOp, type TxnRequest } from '../src/index.js';
import { Model } from './support/model.js';
import { Applier, StoreDir, allKeys, bytes, rangeRequest, storeLimits, type Db } from './support/store-fixture.js';

const KEYS = ['a', 'ab', 'b', 'ba', 'c', '\xff'];
const key = fc.constantFrom(...KEYS);
const rangeEnd = fc.constantFrom('', '', '', '\0', 'b', 'c', 'z', 'a');
const value = fc.constantFrom('', 'x', 'y', 'zz');
const leaseId = fc.constantFrom(0n, 0n, 0n, 0n, 0n, 0n, 1n, 2n, 3n);
/** Mostly 0 (now); otherwise a pick that resolveRevisions turns into a revision of the store as it is when proposed. */
const revision = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 1_000 }) });
const rarely = fc.constantFrom(false, false, false, false, false, false, false, false, false, true);
const filter = fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(20) });

const range: fc.Arbitrary<RangeRequest> = fc
  .record({
    key,
    end: fc.constantFrom('', '\0', '\0', 'b', 'c', 'z'),
    limit: fc.oneof(fc.constant(0), fc.nat(3)),
    revision,
    sortOrder: fc.constantFrom('NONE', 'NONE', 'ASCEND', 'DESCEND'),
    sortTarget: fc.constantFrom('KEY', 'KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'),
    keysOnly: fc.boolean(),
    countOnly: rarely,
    minModRevision: filter,
    maxModRevision: filter,
    minCreateRevision: filter,
    maxCreateRevision: filter,
  })
  .map(({ key: k, end, ...more }) => rangeRequest(k, end, more as Partial<RangeRequest>));

const put = fc
  .record({ key, value, lease: leaseId, prevKv: fc.boolean(), ignoreValue: rarely, ignoreLease: rarely })
  .map((p) => ({ key: bytes(p.key), value: bytes(p.ignoreValue ? '' : p.value), lease: p.ignoreLease ? 0n : p.lease, prevKv: p.prevKv, ignoreValue: p.ignoreValue, ignoreLease: p.ignoreLease }));

const deleteRange = fc.record({ key, end: rangeEnd, prevKv: fc.boolean() }).map((d) => ({ key: bytes(d.key), rangeEnd: bytes(d.end), prevKv: d.prevKv }));

const compare: fc.Arbitrary<Compare> = fc
  .record({
    result: fc.constantFrom('EQUAL', 'NOT_EQUAL', 'GREATER', 'LESS'),
    target: fc.constantFrom('VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'),
    key,
    end: fc.constantFrom('', '', '\0', 'c'),
    number: fc.nat(6),
    value,
  })
  .map((c) => ({
    result: c.result,
    target: c.target,
    key: bytes(c.key),
    rangeEnd: bytes(c.end),
    operand: c.target === 'VALUE' ? bytes(c.value) : c.target === 'LEASE' ? BigInt(c.number) : c.number,
  }));

function txn(depth: number): fc.Arbitrary<TxnRequest> {
  const leaves: fc.Arbitrary<RequestOp>[] = [range.map((r) => ({ range: r })), put.map((p) => ({ put: p })), deleteRange.map((d) => ({ deleteRange: d }))];
  const op: fc.Arbitrary<RequestOp> = depth > 0 ? fc.oneof(...leaves, txn(depth - 1).map((t) => ({ txn: t }))) : fc.oneof(...leaves);
  return fc.record({ compare: fc.array(compare, { maxLength: 2 }), success: fc.array(op, { maxLength: 3 }), failure: fc.array(op, { maxLength: 3 }) });
}

const operation: fc.Arbitrary<KvOperation> = fc.oneof(
  { weight: 5, arbitrary: put.map((p) => ({ put: p })) },
  { weight: 2, arbitrary: deleteRange.map((d) => ({ deleteRange: d })) },
  { weight: 3, arbitrary: txn(2).map((t) => ({ txn: t })) },
  { weight: 1, arbitrary: fc.record({ id: fc.constantFrom(0n, 1n, 2n, 3n), ttl: fc.nat(100) }).map((g) => ({ leaseGrant: g })) },
  { weight: 1, arbitrary: fc.constantFrom(1n, 2n, 3n).map((id) => ({ leaseRevoke: { id } })) },
  { weight: 1, arbitrary: revision.map((r) => ({ compaction: { revision: r, physical: false } })) },
);

/** A write, with a client session or none; a session's write is a new sequence, a retry of the last one, or an older one. */
interface WriteSpec {
  readonly operation: KvOperation;
  readonly session: { readonly clientId: string; readonly mode: 'next' | 'retry' | 'older' } | null;
}

const session = fc.option(fc.record({ clientId: fc.constantFrom('c1', 'c2'), mode: fc.constantFrom('next' as const, 'next' as const, 'retry' as const, 'older' as const) }), { freq: 2 });

/** null: an empty Raft entry. */
const write: fc.Arbitrary<WriteSpec | null> = fc.option(fc.record({ operation, session }), { freq: 12 });

type Step =
  | { readonly kind: 'apply'; readonly writes: readonly (WriteSpec | null)[] }
  | { readonly kind: 'range'; readonly request: RangeRequest }
  | { readonly kind: 'history'; readonly from: number }
  | { readonly kind: 'reopen' }
  | { readonly kind: 'snapshot' }
  | { readonly kind: 'check' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 14, arbitrary: fc.array(write, { minLength: 1, maxLength: 4 }).map((writes) => ({ kind: 'apply' as const, writes })) },
  { weight: 4, arbitrary: range.map((request) => ({ kind: 'range' as const, request })) },
  { weight: 1, arbitrary: fc.nat(20).map((from) => ({ kind: 'history' as const, from })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'check' as const }) },
);

/**
 * Turns revision picks into revisions of a store at `current`, compacted at `compacted`: odd picks
 * land in [compacted, current] (readable), even ones anywhere in [0, current + 1] (compacted,
 * readable, or the future).
 */
function resolve(pick: number, compacted: number, current: number): number {
  if (pick === 0) return 0;
  if (pick % 2 === 1) return compacted + (pick % (current - compacted + 1));
  return pick % (current + 2);
}

function resolveRange(r: RangeRequest, compacted: number, current: number): RangeRequest {
  return { ...r, revision: resolve(r.revision, compacted, current) };
}

function resolveTxn(t: TxnRequest, compacted: number, current: number): TxnRequest {
  const op = (o: RequestOp): RequestOp => {
    if ('range' in o) return { range: resolveRange(o.range, compacted, current) };
    if ('txn' in o) return { txn: resolveTxn(o.txn, compacted, current) };
    return o;
  };
  return { compare: t.compare, success: t.success.map(op), failure: t.failure.map(op) };
}

function resolveRevisions(o: KvOperation, compacted: number, current: number): KvOperation {
  if ('txn' in o) return { txn: resolveTxn(o.txn, compacted, current) };
  if ('compaction' in o) return { compaction: { revision: resolve(o.compaction.revision, compacted, current) + (o.compaction.revision % 4 === 1 ? 1 : 0), physical: false } };
  return o;
}

const limits = { txnOpsMax: storeLimits.txnOpsMax, leaseTtlMaxSeconds: storeLimits.leaseTtlMaxSeconds };

function valid(op: KvOperation): boolean {
  try {
    validateKvOperation(op, limits);
    return true;
  } catch {
    return false;
  }
}

/** What a read gives: the response, or the error code. */
async function outcome<T>(read: () => Promise<T> | T): Promise<T | { error: string }> {
  try {
    return await read();
  } catch (error) {
    return { error: (error as { code?: string }).code ?? String(error) };
  }
}

class Run {
  readonly model = new Model();
  private applier!: Applier;
  private db!: Db;

  constructor(private readonly dir: StoreDir) {}

  async start(): Promise<void> {
    const { db, store } = await this.dir.openStore();
    this.db = db;
    this.applier = new Applier(store);
  }

  get store() {
    return this.applier.store;
  }

  async step(s: Step): Promise<void> {
    switch (s.kind) {
      case 'apply':
        return this.apply(s.writes);
      case 'range': {
        const request = resolveRange(s.request, this.model.compacted, this.model.revision);
        expect(await outcome(() => this.store.range(request))).toEqual(await outcome(() => this.model.range(request)));
        return;
      }
      case 'history':
        return this.checkHistory(s.from);
      case 'reopen': {
        const reopened = await this.dir.reopen(this.db);
        this.db = reopened.db;
        this.applier.store = reopened.store;
        return;
      }
      case 'snapshot':
        return this.snapshot();
      case 'check':
        return this.checkAll();
    }
  }

  private sequence(clientId: string, mode: string): number {
    const last = this.model.lastSequence(clientId);
    if (last === undefined) return 1;
    if (mode === 'retry') return last;
    if (mode === 'older' && last > 0) return last - 1;
    return last + 1;
  }

  private async apply(writes: readonly (WriteSpec | null)[]): Promise<void> {
    // Up to the revisions the batch's earlier writes may make: txn ranges then read records not on disk yet.
    const { compacted, revision } = this.model;
    const resolved = writes.map((w, i) => (w === null ? null : { ...w, operation: resolveRevisions(w.operation, compacted, revision + i) }));
    const proposed = resolved.filter((w) => w === null || valid(w.operation));
    // Sequences are picked as the model stands before the batch, as clients would pick them.
    const sessions = proposed.map((w) => (w === null || w.session === null ? null : { clientId: w.session.clientId, sequence: this.sequence(w.session.clientId, w.session.mode) }));
    const results = await this.applier.apply(proposed.map((w, i) => (w === null ? null : { operation: w.operation, session: sessions[i] ?? undefined })));
    const expected = proposed.map((w, i) => (w === null ? null : this.model.apply(w.operation, sessions[i] ?? null)));
    expect(results).toEqual(expected);
    this.checkPosition();
  }

  checkPosition(): void {
    expect([this.store.currentRevision(), this.store.compactedRevision()]).toEqual([this.model.revision, this.model.compacted]);
    expect(this.store.leases()).toEqual([...this.model.leases].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, ttl]) => ({ id, ttl })));
  }

  private async checkHistory(fromPick: number): Promise<void> {
    const from = Math.max(fromPick, 1);
    const to = this.model.revision;
    const expected = from <= this.model.compacted ? { error: 'KV_COMPACTED' } : this.model.history(from, to);
    expect(await outcome(() => this.store.history(from, to, 1_000))).toEqual(expected);
  }

  /** Every revision still readable, read whole; every lease's keys; the history kept. */
  async checkAll(): Promise<void> {
    this.checkPosition();
    for (let revision = Math.max(this.model.compacted, 1); revision <= this.model.revision; revision++) {
      const request = allKeys({ revision });
      expect(await this.store.range(request)).toEqual(this.model.range(request));
    }
    for (const sortTarget of ['VERSION', 'CREATE', 'VALUE'] as const) {
      const request = allKeys({ sortOrder: 'DESCEND', sortTarget });
      expect(await this.store.range(request)).toEqual(this.model.range(request));
    }
    for (const [id, ttl] of this.model.leases) {
      expect(this.store.lease(id)).toEqual({ id, ttl, keys: this.model.leaseKeys(id).map(bytes) });
    }
    await this.checkHistory(this.model.compacted + 1);
  }

  /** A snapshot restored into a fresh store in another directory, which the rest of the run uses. */
  private async snapshot(): Promise<void> {
    // Raft snapshots only what was applied: there is no snapshot at index 0.
    if (this.store.appliedIndex === 0) return;
    const job = this.store.beginSnapshot();
    const data = await job.data;
    const fresh = await this.dir.openStore({}, await this.dir.sibling());
    await fresh.store.restore({ metadata: { index: job.index, term: 1, confState: { voters: [1] } }, data });
    expect(fresh.store.appliedIndex).toBe(job.index);
    await this.dir.closeDb(this.db);
    this.db = fresh.db;
    this.applier.store = fresh.store;
  }
}

describe('the store against a reference model', () => {
  it('agrees on every result, read, lease and history across restarts and snapshot restores', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60, size: 'max' }), async (steps) => {
        const dir = await StoreDir.create();
        try {
          const run = new Run(dir);
          await run.start();
          for (const s of steps) await run.step(s);
          await run.checkAll();
        } finally {
          await dir.remove();
        }
      }),
      { numRuns: 60 },
    );
  });
});
