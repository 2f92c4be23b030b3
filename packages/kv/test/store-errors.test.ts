// Every refusal, with etcd's code: the checks before proposing (validateKvOperation, which the
// master runs first, rule 7), the checks at apply that depend on the state, and reads at
// revisions that are gone or not there yet. An apply-time refusal changes nothing.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KvStore,
  decodeKvCommand,
  encodeKvCommand,
  isKvError,
  validateClientSession,
  validateKvOperation,
  validateRangeRequest,
  type KvOperation,
  type RequestOp,
  type TxnRequest,
} from '../src/index.js';
import { Applier, StoreDir, allKeys, bytes, deleteRequest, putRequest, rangeRequest } from './support/store-fixture.js';

const limits = { txnOpsMax: 4, leaseTtlMaxSeconds: 100 };

function refusal(check: () => void): string {
  try {
    check();
  } catch (error) {
    if (isKvError(error)) return error.code;
    throw error;
  }
  return 'accepted';
}

const txnOf = (success: RequestOp[], failure: RequestOp[] = [], compare: TxnRequest['compare'] = []): KvOperation => ({ txn: { compare, success, failure } });
const putOp = (key: string): RequestOp => ({ put: putRequest(key, 'v') });
const delOp = (key: string, end = ''): RequestOp => ({ deleteRange: deleteRequest(key, end) });
const compareOp = (key: string) => ({ result: 'EQUAL' as const, target: 'VERSION' as const, key: bytes(key), rangeEnd: bytes(''), operand: 0 });

describe('validateKvOperation: refused before proposing, with etcd codes', () => {
  const cases: [string, KvOperation, string][] = [
    ['a put without a key', { put: putRequest('', 'v') }, 'KV_EMPTY_KEY'],
    ['ignore_value with a value', { put: putRequest('k', 'v', { ignoreValue: true }) }, 'KV_VALUE_PROVIDED'],
    ['ignore_lease with a lease', { put: putRequest('k', '', { ignoreLease: true, lease: 7n }) }, 'KV_LEASE_PROVIDED'],
    ['a delete without a key', { deleteRange: deleteRequest('') }, 'KV_EMPTY_KEY'],
    ['more compares than txnOpsMax', txnOf([], [], [1, 2, 3, 4, 5].map(() => compareOp('k'))), 'KV_TOO_MANY_OPS'],
    ['more success ops than txnOpsMax', txnOf(['a', 'b', 'c', 'd', 'e'].map(putOp)), 'KV_TOO_MANY_OPS'],
    ['a nested txn over the budget its parent leaves', txnOf([putOp('a'), putOp('b'), { txn: { compare: [], success: [putOp('c'), putOp('d'), putOp('e')], failure: [] } }]), 'KV_TOO_MANY_OPS'],
    ['a compare without a key', txnOf([], [], [compareOp('')]), 'KV_EMPTY_KEY'],
    ['a txn op without a request', txnOf([{} as RequestOp]), 'KV_KEY_NOT_FOUND'],
    ['a txn range without a key', txnOf([{ range: rangeRequest('') }]), 'KV_EMPTY_KEY'],
    ['one key put twice in a txn', txnOf([putOp('a'), putOp('a')]), 'KV_DUPLICATE_KEY'],
    ['a key put and deleted in a txn', txnOf([putOp('b'), delOp('a', 'c')]), 'KV_DUPLICATE_KEY'],
    ['a key put under a from-key delete', txnOf([delOp('a', '\0'), putOp('z')]), 'KV_DUPLICATE_KEY'],
    ['a nested put over the parent put', txnOf([putOp('a'), { txn: { compare: [], success: [putOp('a')], failure: [] } }]), 'KV_DUPLICATE_KEY'],
    ['a nested put under the parent delete', txnOf([delOp('a'), { txn: { compare: [], success: [], failure: [putOp('a')] } }]), 'KV_DUPLICATE_KEY'],
    ['a grant over the maximum TTL', { leaseGrant: { id: 1n, ttl: 101 } }, 'KV_LEASE_TTL_TOO_LARGE'],
    ['a grant without an id', { leaseGrant: { id: 0n, ttl: 10 } }, 'KV_LEASE_NOT_FOUND'],
    ['a lease that is not an integer', { put: putRequest('k', 'v', { lease: 1.5 as never }) }, 'KV_INVALID_ARGUMENT'],
    ['a value that is not bytes', { put: { ...putRequest('k', 'v'), value: 'v' as never } }, 'KV_INVALID_ARGUMENT'],
    ['two requests in one operation', { put: putRequest('k', 'v'), deleteRange: deleteRequest('k') } as never, 'KV_INVALID_ARGUMENT'],
  ];
  it.each(cases)('refuses %s', (_, op, code) => {
    expect(refusal(() => validateKvOperation(op, limits))).toBe(code);
  });

  const accepted: [string, KvOperation][] = [
    ['the same key put in both branches of a nested txn', txnOf([{ txn: { compare: [], success: [putOp('a')], failure: [putOp('a')] } }])],
    ['overlapping deletes', txnOf([delOp('a', 'c'), delOp('b')])],
    ['exactly txnOpsMax ops', txnOf(['a', 'b', 'c', 'd'].map(putOp))],
    ['a grant at the maximum TTL', { leaseGrant: { id: -3n, ttl: 100 } }],
  ];
  it.each(accepted)('accepts %s', (_, op) => {
    expect(refusal(() => validateKvOperation(op, limits))).toBe('accepted');
  });

  it('checks ranges and sessions too', () => {
    expect(refusal(() => validateRangeRequest(rangeRequest('')))).toBe('KV_EMPTY_KEY');
    expect(refusal(() => validateRangeRequest(rangeRequest('a', '', { sortOrder: 'UP' as never })))).toBe('KV_INVALID_ARGUMENT');
    expect(refusal(() => validateClientSession({ clientId: '', sequence: 1 }))).toBe('KV_INVALID_ARGUMENT');
    expect(refusal(() => validateClientSession({ clientId: 'x'.repeat(129), sequence: 1 }))).toBe('KV_INVALID_ARGUMENT');
    expect(refusal(() => encodeKvCommand({ operation: { put: putRequest('k', 'v') }, session: { clientId: 'c', sequence: -1 }, proposedAtMs: 0 }))).toBe('KV_INVALID_ARGUMENT');
  });
});

describe('decodeKvCommand: an entry that is not ours is a bug, not input', () => {
  const good = encodeKvCommand({ operation: txnOf([putOp('a'), { range: rangeRequest('a', '\0') }], [delOp('b')], [compareOp('a')]), session: { clientId: 'c', sequence: 3 }, proposedAtMs: 9 });

  it('round-trips a command', () => {
    expect(encodeKvCommand(decodeKvCommand(good))).toEqual(good);
  });

  it.each([
    ['garbage', Uint8Array.from([0xc1, 0xff, 0x00])],
    ['a truncated command', good.subarray(0, good.byteLength - 3)],
    ['another format', Uint8Array.from([...good.subarray(0, 1), 2, ...good.subarray(2)])],
    ['an empty payload', new Uint8Array(0)],
  ])('fails an assertion on %s', (_, payload) => {
    expect(() => decodeKvCommand(payload)).toThrow(expect.objectContaining({ code: 'ERR_ASSERTION' }));
  });
});

describe('refusals at apply change nothing', () => {
  let dir: StoreDir;
  let store: KvStore;
  let applier: Applier;
  beforeEach(async () => {
    dir = await StoreDir.create();
    ({ store } = await dir.openStore());
    applier = new Applier(store);
    await applier.apply([{ leaseGrant: { id: 5n, ttl: 30 } }, { put: putRequest('a', '1', { lease: 5n }) }, { put: putRequest('b', '2') }, { put: putRequest('b', '3') }]);
    await applier.one({ compaction: { revision: 3, physical: false } });
  });
  afterEach(async () => {
    await dir.remove();
  });

  /** Everything a client can see of the store. */
  async function fingerprint(): Promise<unknown> {
    const at = async (revision: number) => store.range(allKeys({ revision }));
    return [store.currentRevision(), store.compactedRevision(), await at(0), await at(3), store.leases(), store.lease(5n), await store.history(4, store.currentRevision(), 100)];
  }

  const cases: [string, KvOperation, string][] = [
    ['a put on a lease that does not exist', { put: putRequest('c', 'v', { lease: 6n }) }, 'KV_LEASE_NOT_FOUND'],
    ['ignore_value on a missing key', { put: putRequest('c', '', { ignoreValue: true }) }, 'KV_KEY_NOT_FOUND'],
    ['ignore_lease on a missing key', { put: putRequest('c', 'v', { ignoreLease: true }) }, 'KV_KEY_NOT_FOUND'],
    ['a grant of a lease that exists', { leaseGrant: { id: 5n, ttl: 10 } }, 'KV_LEASE_EXISTS'],
    ['a revoke of a lease that does not exist', { leaseRevoke: { id: 6n } }, 'KV_LEASE_NOT_FOUND'],
    ['a compaction at the compacted revision', { compaction: { revision: 3, physical: false } }, 'KV_COMPACTED'],
    ['a compaction past the current revision', { compaction: { revision: 5, physical: false } }, 'KV_FUTURE_REVISION'],
    ['a txn whose put names a missing lease after a good put', txnOf([putOp('x'), { put: putRequest('y', 'v', { lease: 9n }) }]), 'KV_LEASE_NOT_FOUND'],
    ['a txn ranging at a compacted revision after a put', txnOf([putOp('x'), { range: rangeRequest('a', '', { revision: 2 }) }]), 'KV_COMPACTED'],
    ['a txn ranging at its own revision', txnOf([putOp('x'), { range: rangeRequest('a', '', { revision: 5 }) }]), 'KV_FUTURE_REVISION'],
    ['a nested txn taking a refused branch', txnOf([putOp('x'), { txn: { compare: [compareOp('a')], success: [], failure: [{ put: putRequest('z', '', { ignoreValue: true }) }] } }]), 'KV_KEY_NOT_FOUND'],
    // Past validation (two writes of one key), so only the store's own rollback keeps it whole.
    ['a txn failing half-way through its ops', txnOf([delOp('b'), { put: putRequest('b', '', { ignoreValue: true }) }]), 'KV_KEY_NOT_FOUND'],
  ];
  it.each(cases)('refuses %s', async (_, op, code) => {
    const before = await fingerprint();
    const result = await applier.one(op);
    expect(result).toEqual({ ok: false, error: { code, message: expect.stringMatching(/^etcdserver: /) } });
    expect(await fingerprint()).toEqual(before);
    expect(store.appliedIndex).toBe(6);
  });

  // The store runs most commands on the batch's state itself, not on a fork of it (only a txn
  // that may fail half-way gets one): a refusal between two writes of one batch leaves exactly
  // what those two writes make alone.
  // After the batch's first put (revision 5), the future starts at 6.
  const betweenCases = [
    ...cases.filter(([name]) => name !== 'a compaction past the current revision' && name !== 'a txn ranging at its own revision'),
    ['a compaction past the current revision', { compaction: { revision: 6, physical: false } }, 'KV_FUTURE_REVISION'],
    ['a txn ranging at its own revision', txnOf([putOp('x'), { range: rangeRequest('a', '', { revision: 6 }) }]), 'KV_FUTURE_REVISION'],
  ] satisfies [string, KvOperation, string][];
  it.each(betweenCases)('refuses %s between two puts of one batch, which apply as if alone', async (_, op, code) => {
    const around = async (refused: KvOperation | null) => {
      const other = await StoreDir.create();
      try {
        const { store: alone } = await other.openStore();
        const otherApplier = new Applier(alone);
        await otherApplier.apply([{ leaseGrant: { id: 5n, ttl: 30 } }, { put: putRequest('a', '1', { lease: 5n }) }, { put: putRequest('b', '2') }, { put: putRequest('b', '3') }]);
        await otherApplier.one({ compaction: { revision: 3, physical: false } });
        const writes: KvOperation[] = [{ put: putRequest('d', '4', { lease: 5n }) }, ...(refused === null ? [] : [refused]), { put: putRequest('b', '5') }];
        const results = await otherApplier.apply(writes);
        const view = [alone.currentRevision(), await alone.range(allKeys({ revision: 0 })), alone.lease(5n), await alone.history(4, alone.currentRevision(), 100)];
        return { results, view };
      } finally {
        await other.remove();
      }
    };
    const withRefusal = await around(op);
    const without = await around(null);
    expect(withRefusal.results[1]).toEqual({ ok: false, error: { code, message: expect.stringMatching(/^etcdserver: /) } });
    expect([withRefusal.results[0], withRefusal.results[2]]).toEqual(without.results);
    expect(withRefusal.view).toEqual(without.view);
  });

  it('reads below the compacted revision or past the current one fail; the compacted revision itself is readable', async () => {
    const outcome = (revision: number) => store.range(rangeRequest('b', '', { revision })).then((r) => r.kvs.map((kv) => kv.modRevision), (e) => e.code);
    expect(await outcome(2)).toBe('KV_COMPACTED');
    expect(await outcome(3)).toEqual([3]);
    expect(await outcome(4)).toEqual([4]);
    expect(await outcome(5)).toBe('KV_FUTURE_REVISION');
    await expect(store.history(3, 4, 10)).rejects.toMatchObject({ code: 'KV_COMPACTED' });
  });
});
