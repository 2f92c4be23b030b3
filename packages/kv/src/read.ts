// Reads over a state: ranges with etcd's semantics (etcdserver/apply.go Range, mvcc
// kvstore_txn.go rangeKeys) and txn compares (applyCompare). Current values come from memory;
// values of older revisions from a ValueReader (the disk, through a LevelDB snapshot).

import assert from 'node:assert/strict';
import { EMPTY_BYTES, compareBytes, type KeyInterval, keyInterval } from './bytes.js';
import { positionAt, type KeyIndex, type MvccState, type RevEntry } from './state.js';
import type { Compare, KeyValue, RangeRequest, RangeResponse, SortTarget } from './types.js';

/** A key's revision whose value is not in memory. */
export interface ValueWanted {
  readonly key: Uint8Array;
  readonly entry: RevEntry;
}

/** Reads the values of older revisions, in the order asked. */
export type ValueReader = (wanted: readonly ValueWanted[]) => Promise<Uint8Array[]>;

/** A key live at the revision read: its KeyValue, or (kv null) the entry whose value is on disk. */
interface Row {
  readonly key: Uint8Array;
  readonly entry: RevEntry | null;
  kv: KeyValue | null;
}

function rowOf(index: KeyIndex, revision: number, current: boolean): Row | null {
  if (current) return index.current === null ? null : { key: index.key, entry: null, kv: index.current };
  const position = positionAt(index, revision);
  if (position < 0) return null;
  const entry = index.revs[position] as RevEntry;
  if (entry.tombstone) return null;
  // The newest entry's value is the current one, in memory.
  const kv = position === index.count - 1 ? index.current : null;
  return { key: index.key, entry, kv };
}

/**
 * The keys of `interval` live at `revision` (or now, when `current`), in key order: the first
 * `rowsMax` of them (0: all), and how many there are in all (etcd counts every match). O(log n +
 * keys in the interval), as etcd's index.
 */
function collect(state: MvccState, interval: KeyInterval, revision: number, current: boolean, rowsMax: number): { rows: Row[]; total: number } {
  const rows: Row[] = [];
  let total = 0;
  const visit = (index: KeyIndex): void => {
    const row = rowOf(index, revision, current);
    if (row === null) return;
    total++;
    if (rowsMax === 0 || rows.length < rowsMax) rows.push(row);
  };
  if (interval.single) {
    const index = state.keys.get(interval.low);
    if (index !== undefined) visit(index);
    return { rows, total };
  }
  for (const [key, index] of state.keys.entries(interval.low)) {
    if (interval.high !== null && key >= interval.high) break;
    visit(index);
  }
  return { rows, total };
}

/** The keys of a range live now, with their values: for deletes and compares. */
export function liveKeyValues(state: MvccState, key: Uint8Array, rangeEnd: Uint8Array): KeyValue[] {
  const { rows } = collect(state, keyInterval(key, rangeEnd), state.currentRevision, true, 0);
  return rows.map((row) => row.kv as KeyValue);
}

async function fillValues(rows: readonly Row[], read: ValueReader): Promise<void> {
  const missing = rows.filter((row) => row.kv === null);
  if (missing.length === 0) return;
  const values = await read(missing.map((row) => ({ key: row.key, entry: row.entry as RevEntry })));
  assert.equal(values.length, missing.length, `value reader returned ${values.length} values for ${missing.length}`);
  missing.forEach((row, i) => {
    const entry = row.entry as RevEntry;
    const value = values[i] as Uint8Array;
    row.kv = { key: row.key, createRevision: entry.createRevision, modRevision: entry.main, version: entry.version, value, lease: entry.lease };
  });
}

/** A KeyValue's number for a sort or compare target other than KEY, VALUE and LEASE. */
function numberOf(kv: { readonly version: number; readonly createRevision: number; readonly modRevision: number }, target: 'VERSION' | 'CREATE' | 'MOD'): number {
  switch (target) {
    case 'VERSION':
      return kv.version;
    case 'CREATE':
      return kv.createRevision;
    case 'MOD':
      return kv.modRevision;
  }
}

function rowNumber(row: Row, target: 'VERSION' | 'CREATE' | 'MOD'): number {
  if (row.kv !== null) return numberOf(row.kv, target);
  const entry = row.entry as RevEntry;
  return numberOf({ version: entry.version, createRevision: entry.createRevision, modRevision: entry.main }, target);
}

function sorter(target: SortTarget): (a: Row, b: Row) => number {
  if (target === 'KEY') return (a, b) => compareBytes(a.key, b.key);
  if (target === 'VALUE') return (a, b) => compareBytes((a.kv as KeyValue).value, (b.kv as KeyValue).value);
  return (a, b) => rowNumber(a, target) - rowNumber(b, target);
}

/**
 * etcd's sort: a target other than KEY with order NONE sorts ascending; KEY ascending is already
 * the index's order. Array.prototype.sort is stable, so ties keep key order (etcd's sort.Sort
 * leaves the order of ties unspecified).
 */
async function sortRows(rows: Row[], r: RangeRequest, read: ValueReader): Promise<void> {
  let order = r.sortOrder;
  if (r.sortTarget !== 'KEY' && order === 'NONE') order = 'ASCEND';
  else if (r.sortTarget === 'KEY' && order === 'ASCEND') order = 'NONE';
  if (order === 'NONE') return;
  if (r.sortTarget === 'VALUE') await fillValues(rows, read);
  const compare = sorter(r.sortTarget);
  rows.sort(order === 'ASCEND' ? compare : (a, b) => compare(b, a));
}

function keepRow(row: Row, r: RangeRequest): boolean {
  const mod = rowNumber(row, 'MOD');
  const create = rowNumber(row, 'CREATE');
  if (r.maxModRevision !== 0 && mod > r.maxModRevision) return false;
  if (r.minModRevision !== 0 && mod < r.minModRevision) return false;
  if (r.maxCreateRevision !== 0 && create > r.maxCreateRevision) return false;
  return r.minCreateRevision === 0 || create >= r.minCreateRevision;
}

/**
 * A range as etcd answers it: with a sort or a revision filter every match is fetched, filtered,
 * sorted, then cut to `limit`; otherwise `limit + 1` are fetched in key order to know `more`.
 * `count` counts every key of the range, before the filters (etcd's rangeKeys). The header is
 * `viewRevision`, even for a read at an older revision. The caller has checked `revision`
 * against the compacted and current revisions. Everything up to the first await is synchronous,
 * so the rows are those of `state` at the call.
 */
export async function readRange(state: MvccState, r: RangeRequest, viewRevision: number, read: ValueReader): Promise<RangeResponse> {
  const current = r.revision <= 0 || r.revision >= viewRevision;
  const revision = current ? viewRevision : r.revision;
  const filtered = r.minModRevision !== 0 || r.maxModRevision !== 0 || r.minCreateRevision !== 0 || r.maxCreateRevision !== 0;
  const fetchAll = r.sortOrder !== 'NONE' || filtered;
  const rowsMax = r.countOnly ? 1 : fetchAll || r.limit <= 0 ? 0 : r.limit + 1;
  const { rows: found, total } = collect(state, keyInterval(r.key, r.rangeEnd), revision, current, rowsMax);
  const header = { revision: viewRevision };
  if (r.countOnly) return { header, kvs: [], more: false, count: total };
  const rows = filtered ? found.filter((row) => keepRow(row, r)) : found;
  await sortRows(rows, r, read);
  const more = r.limit > 0 && rows.length > r.limit;
  if (more) rows.length = r.limit;
  if (!r.keysOnly) await fillValues(rows, read);
  const kvs = rows.map((row) => keyValueOf(row, r.keysOnly));
  return { header, kvs, more, count: total };
}

function keyValueOf(row: Row, keysOnly: boolean): KeyValue {
  if (row.kv !== null) return keysOnly ? { ...row.kv, value: EMPTY_BYTES } : row.kv;
  assert.ok(keysOnly, 'a row without its value outside a keys-only read');
  const entry = row.entry as RevEntry;
  return { key: row.key, createRevision: entry.createRevision, modRevision: entry.main, version: entry.version, value: EMPTY_BYTES, lease: entry.lease };
}

const ABSENT: KeyValue = { key: EMPTY_BYTES, createRevision: 0, modRevision: 0, version: 0, value: EMPTY_BYTES, lease: 0n };

function compareKeyValue(c: Compare, kv: KeyValue): boolean {
  const result =
    c.target === 'VALUE'
      ? compareBytes(kv.value, c.operand as Uint8Array)
      : c.target === 'LEASE'
        ? Number(kv.lease - (c.operand as bigint))
        : numberOf(kv, c.target) - (c.operand as number);
  switch (c.result) {
    case 'EQUAL':
      return result === 0;
    case 'NOT_EQUAL':
      return result !== 0;
    case 'GREATER':
      return result > 0;
    case 'LESS':
      return result < 0;
  }
}

/**
 * etcd's applyCompare: every live key of the range must satisfy the compare; with no key, a
 * VALUE compare fails and the others compare against zeros (a missing key has version 0).
 */
export function compareHolds(state: MvccState, c: Compare): boolean {
  const kvs = liveKeyValues(state, c.key, c.rangeEnd);
  if (kvs.length === 0) return c.target !== 'VALUE' && compareKeyValue(c, ABSENT);
  return kvs.every((kv) => compareKeyValue(c, kv));
}
