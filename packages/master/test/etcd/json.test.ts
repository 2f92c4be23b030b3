// The field codec on its own: jsonpb's reading rules (either field name, int64 as number or string,
// enum by name or number), the protobuf size it counts (etcd's limits are on it), the msgpack
// dialect's internal names, and grpc-gateway's writing rules (zero values left out, PUT untyped).

import { describe, expect, test } from 'vitest';
import { isTxnReadOnly } from '../../src/etcd/checks.js';
import { FieldReader, decodePut, decodeRange, decodeTxn, decodeWatchRequest, keyValueJson, watchResponseJson } from '../../src/etcd/json.js';
import { CLUSTER_ID, MEMBER_ID } from './fake-service.js';

const json = (value: unknown) => FieldReader.of(value, '', 'json');
const bounds = { txnOpsMax: 128, depth: 1 };

describe('reading requests', () => {
  test('a field is found under its proto name or its lowerCamel name; the proto name wins', () => {
    expect(decodeRange(json({ key: 'YQ==', rangeEnd: 'Yg==' })).rangeEnd).toEqual(Buffer.from('b'));
    expect(decodeRange(json({ key: 'YQ==', range_end: 'Yw==', rangeEnd: 'Yg==' })).rangeEnd).toEqual(Buffer.from('c'));
  });

  test('int64 as a number or a decimal string; enums by name or number; base64 may carry line breaks', () => {
    const request = decodeRange(json({ key: 'Zm\r\n9v', limit: 10, revision: '-3', sort_order: 1, sort_target: 'VALUE' }));
    expect(request).toMatchObject({ key: Buffer.from('foo'), limit: 10, revision: 0, sortOrder: 'ASCEND', sortTarget: 'VALUE' });
  });

  test('the protobuf size is counted as the request would encode (tag, length, payload; zero values free)', () => {
    // PutRequest{key: "foo", value: "bar"}: 0a 03 66 6f 6f 12 03 62 61 72.
    const put = json({ key: 'Zm9v', value: 'YmFy', lease: 0, prev_kv: false });
    decodePut(put);
    expect(put.sizeBytes).toBe(10);
    // RangeRequest{key: "foo", limit: 300}: 0a 03 66 6f 6f 18 ac 02.
    const range = json({ key: 'Zm9v', limit: '300' });
    decodeRange(range);
    expect(range.sizeBytes).toBe(8);
    // TxnRequest{success: [RequestOp{request_put: PutRequest{key: "a"}}]}: 12 05 12 03 0a 01 61.
    const txn = json({ success: [{ request_put: { key: 'YQ==' } }] });
    decodeTxn(txn, bounds);
    expect(txn.sizeBytes).toBe(7);
  });

  test('the msgpack dialect reads internal names and raw bytes, and refuses JSON forms', () => {
    const reader = FieldReader.of({ key: Buffer.from('k'), rangeEnd: Buffer.from('z'), limit: 3n, sortOrder: 'DESCEND' }, '', 'msgpack');
    expect(decodeRange(reader)).toMatchObject({ key: Buffer.from('k'), rangeEnd: Buffer.from('z'), limit: 3, sortOrder: 'DESCEND' });
    expect(() => decodeRange(FieldReader.of({ key: 'Zm9v' }, '', 'msgpack'))).toThrow(/key: expected msgpack bin bytes/);
    expect(() => decodeRange(FieldReader.of({ key: Buffer.from('k'), limit: '3' }, '', 'msgpack'))).toThrow(/limit: expected an integer/);
    const txn = decodeTxn(FieldReader.of({ compare: [{ target: 'VALUE', key: Buffer.from('k'), operand: Buffer.from('v') }], success: [{ put: { key: Buffer.from('k') } }] }, '', 'msgpack'), bounds);
    expect(txn.compare[0]?.operand).toEqual(Buffer.from('v'));
    expect(txn.success[0]).toMatchObject({ put: { key: Buffer.from('k') } });
  });

  test('a compare without its operand compares with the zero of its target', () => {
    const txn = decodeTxn(json({ compare: [{ key: 'YQ==', target: 'MOD' }, { key: 'YQ==', target: 'VALUE' }] }), bounds);
    expect(txn.compare.map((c) => c.operand)).toEqual([0, new Uint8Array(0)]);
  });

  test('watch requests: each of the three, or none (ignored as etcd ignores it)', () => {
    expect(decodeWatchRequest(json({ create_request: { key: 'YQ==', filters: ['NODELETE', 0], start_revision: '9', fragment: true } }))).toEqual({
      create: { key: Buffer.from('a'), rangeEnd: new Uint8Array(0), startRevision: 9, progressNotify: false, filters: ['NODELETE', 'NOPUT'], prevKv: false, watchId: 0 },
    });
    expect(decodeWatchRequest(json({ cancel_request: {} }))).toEqual({ cancel: { watchId: 0 } });
    expect(decodeWatchRequest(json({ progress_request: {} }))).toEqual({ progress: true });
    expect(decodeWatchRequest(json({}))).toEqual({ none: true });
    expect(() => decodeWatchRequest(json({ create_request: { key: 'YQ==', start_revision: -1 } }))).toThrow(/start_revision: expected a revision >= 0/);
    expect(() => decodeWatchRequest(json({ create_request: { filters: Array(9).fill('NOPUT') } }))).toThrow(/filters: expected at most 8 values/);
  });

  test('a txn that writes nowhere, however nested, is read-only', () => {
    const read = decodeTxn(json({ success: [{ request_range: { key: 'YQ==' } }], failure: [{ request_txn: { success: [{ request_range: { key: 'YQ==' } }] } }] }), bounds);
    expect(isTxnReadOnly(read)).toBe(true);
    const write = decodeTxn(json({ failure: [{ request_txn: { failure: [{ request_delete_range: { key: 'YQ==' } }] } }] }), bounds);
    expect(isTxnReadOnly(write)).toBe(false);
  });
});

describe('writing responses', () => {
  const header = { clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision: 5, raftTerm: 0 };

  test('zero values are left out, to the header itself', () => {
    expect(keyValueJson({ key: Buffer.from('k'), value: new Uint8Array(0), createRevision: 0, modRevision: 5, version: 0, lease: 0n })).toEqual({ key: 'aw==', mod_revision: '5' });
    expect(watchResponseJson({ header: { revision: 5 }, watchId: 0, created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] }, header)).toEqual({
      header: { cluster_id: '12585971608760269493', member_id: '13847567121247652255', revision: '5' },
    });
  });

  test('a PUT event has no type (the enum zero); a DELETE event says DELETE; a compaction says where', () => {
    const kv = { key: Buffer.from('k'), value: Buffer.from('v'), createRevision: 4, modRevision: 5, version: 2, lease: 0n };
    const response = watchResponseJson(
      {
        header: { revision: 5 },
        watchId: 3,
        created: false,
        canceled: true,
        compactRevision: 4,
        cancelReason: 'mvcc: required revision has been compacted',
        events: [
          { type: 'PUT', kv, prevKv: null },
          { type: 'DELETE', kv: { ...kv, value: new Uint8Array(0) }, prevKv: kv },
        ],
      },
      header,
    );
    expect(Object.keys(response)).toEqual(['header', 'watch_id', 'canceled', 'compact_revision', 'cancel_reason', 'events']);
    expect(response['events']).toEqual([
      { kv: { key: 'aw==', create_revision: '4', mod_revision: '5', version: '2', value: 'dg==' } },
      { type: 'DELETE', kv: { key: 'aw==', create_revision: '4', mod_revision: '5', version: '2' }, prev_kv: { key: 'aw==', create_revision: '4', mod_revision: '5', version: '2', value: 'dg==' } },
    ]);
  });
});
