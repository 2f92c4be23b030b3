// Every route of etcd 3.4's JSON gateway answers in etcd's exact JSON: the curl examples of etcd's
// "Why gRPC gateway" guide byte for byte, and each other route's fields as rpc.proto names them
// (int64 as strings, bytes as base64, zero values left out).

import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FakeKvService } from './fake-service.js';
import { b64, call, startGateway, type Harness } from './harness.js';

let h: Harness;
let service: FakeKvService;

beforeAll(async () => {
  h = await startGateway();
});

afterAll(async () => {
  await h.close();
});

beforeEach(() => {
  // A fresh store for each test, served by the same gateway.
  service = h.service;
  service.store.clear();
  service.leases.clear();
  service.calls.length = 0;
  service.revision = 1;
  service.raftTerm = 3;
  service.follower = null;
});

const post = (path: string, body: string) => call(h.port, path, body);

describe("etcd's documented examples, byte for byte", () => {
  test('put then range (dev-guide/api_grpc_gateway.md)', async () => {
    const put = await post('/v3/kv/put', '{"key": "Zm9v", "value": "YmFy"}');
    expect(put.status).toBe(200);
    expect(put.headers['content-type']).toBe('application/json');
    expect(put.text).toBe('{"header":{"cluster_id":"12585971608760269493","member_id":"13847567121247652255","revision":"2","raft_term":"3"}}');
    const range = await post('/v3/kv/range', '{"key": "Zm9v"}');
    expect(range.text).toBe(
      '{"header":{"cluster_id":"12585971608760269493","member_id":"13847567121247652255","revision":"2","raft_term":"3"},' +
        '"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}',
    );
  });

  test('a range over a prefix with range_end', async () => {
    await post('/v3/kv/put', '{"key": "Zm9v", "value": "YmFy"}');
    const range = await post('/v3/kv/range', '{"key": "Zm9v", "range_end": "Zm9w"}');
    expect(range.json).toEqual({
      header: { cluster_id: '12585971608760269493', member_id: '13847567121247652255', revision: '2', raft_term: '3' },
      kvs: [{ key: 'Zm9v', create_revision: '2', mod_revision: '2', version: '1', value: 'YmFy' }],
      count: '1',
    });
  });

  test('txn with a camelCase op name (the 3.4 guide sends "requestRange")', async () => {
    service.clusterId = 14841639068965178418n;
    service.memberIdBig = 10276657743932975437n;
    try {
      service.seed('foo', 'baz', { createRevision: 2, modRevision: 6, version: 4 });
      service.revision = 6;
      const txn = await post('/v3/kv/txn', '{"compare":[{"version":"4","result":"EQUAL","target":"VERSION","key":"Zm9v"}],"success":[{"requestRange":{"key":"Zm9v"}}]}');
      expect(txn.text).toBe(
        '{"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"6","raft_term":"3"},"succeeded":true,' +
          '"responses":[{"response_range":{"header":{"revision":"6"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"6","version":"4","value":"YmF6"}],"count":"1"}}]}',
      );
      expect(service.calls[0]?.request).toEqual({
        compare: [{ result: 'EQUAL', target: 'VERSION', key: Buffer.from('foo'), rangeEnd: new Uint8Array(0), operand: 4 }],
        success: [{ range: expect.objectContaining({ key: Buffer.from('foo'), rangeEnd: new Uint8Array(0), limit: 0, serializable: false }) }],
        failure: [],
      });
    } finally {
      service.clusterId = 12585971608760269493n;
      service.memberIdBig = 13847567121247652255n;
    }
  });

  test("txn with a put in etcd's e2e test shape answers response_put with only a revision in its header", async () => {
    const txn = await post('/v3/kv/txn', '{"compare":[{"target":"CREATE","key":"Zm9v","create_revision":"0"}],"success":[{"request_put":{"key":"Zm9v","value":"YmFy"}}]}');
    expect(txn.text).toContain('"succeeded":true,"responses":[{"response_put":{"header":{"revision":"2"}}}]');
  });
});

describe('each route, in rpc.proto field names', () => {
  const header = (revision: string) => ({ cluster_id: '12585971608760269493', member_id: '13847567121247652255', revision, raft_term: '3' });

  test('range with every option passes each one through in internal form', async () => {
    const r = await post(
      '/v3/kv/range',
      JSON.stringify({
        key: b64('a'),
        range_end: b64('z'),
        limit: '5',
        revision: 0,
        sort_order: 'DESCEND',
        sort_target: 2,
        serializable: true,
        keys_only: true,
        count_only: false,
        min_mod_revision: '1',
        maxModRevision: 9,
        min_create_revision: '2',
        max_create_revision: '8',
      }),
    );
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ header: header('1') });
    expect(service.calls[0]?.request).toEqual({
      key: Buffer.from('a'),
      rangeEnd: Buffer.from('z'),
      limit: 5,
      revision: 0,
      sortOrder: 'DESCEND',
      sortTarget: 'CREATE',
      serializable: true,
      keysOnly: true,
      countOnly: false,
      minModRevision: 1,
      maxModRevision: 9,
      minCreateRevision: 2,
      maxCreateRevision: 8,
    });
  });

  test('put with prev_kv and a lease answers prev_kv; a missing key answers none', async () => {
    service.seed('k', 'old', { createRevision: 1, modRevision: 1, version: 1, lease: 7n });
    const r = await post('/v3/kv/put', JSON.stringify({ key: b64('k'), value: b64('new'), lease: '7', prev_kv: true }));
    expect(r.json).toEqual({ header: header('2'), prev_kv: { key: b64('k'), create_revision: '1', mod_revision: '1', version: '1', value: b64('old'), lease: '7' } });
    const fresh = await post('/v3/kv/put', JSON.stringify({ key: b64('other'), value: '', prev_kv: true }));
    expect(fresh.json).toEqual({ header: header('3') });
  });

  test('deleterange answers deleted and prev_kvs', async () => {
    service.seed('a1', 'x', { createRevision: 1, modRevision: 1, version: 1 });
    service.seed('a2', 'y', { createRevision: 1, modRevision: 1, version: 2 });
    const r = await post('/v3/kv/deleterange', JSON.stringify({ key: b64('a'), range_end: b64('b'), prev_kv: true }));
    expect(r.json).toEqual({
      header: header('2'),
      deleted: '2',
      prev_kvs: [
        { key: b64('a1'), create_revision: '1', mod_revision: '1', version: '1', value: b64('x') },
        { key: b64('a2'), create_revision: '1', mod_revision: '1', version: '2', value: b64('y') },
      ],
    });
    const none = await post('/v3/kv/deleterange', JSON.stringify({ key: b64('nothing') }));
    expect(none.json).toEqual({ header: header('3') });
  });

  test('a failed txn runs the failure branch; nested txns answer response_txn with an empty header', async () => {
    const r = await post(
      '/v3/kv/txn',
      JSON.stringify({
        compare: [{ target: 'VALUE', result: 'EQUAL', key: b64('k'), value: b64('v') }],
        failure: [
          { request_delete_range: { key: b64('k') } },
          { request_txn: { success: [{ request_put: { key: b64('n'), value: b64('1') } }] } },
        ],
      }),
    );
    expect(r.json).toEqual({
      header: header('2'),
      responses: [{ response_delete_range: { header: { revision: '2' } } }, { response_txn: { header: {}, succeeded: true, responses: [{ response_put: { header: { revision: '2' } } }] } }],
    });
  });

  test('compaction answers a header', async () => {
    const r = await post('/v3/kv/compaction', '{"revision":"1","physical":true}');
    expect(r.json).toEqual({ header: header('1') });
    expect(service.calls[0]?.request).toEqual({ revision: 1, physical: true });
  });

  test('lease grant, keepalive, timetolive (and its /v3/kv alias), leases, revoke (and its alias)', async () => {
    const grant = await post('/v3/lease/grant', '{"TTL": 30, "ID": 0}');
    expect(grant.json).toEqual({ header: header('1'), ID: '7587862072907248', TTL: '30' });
    const keepAlive = await post('/v3/lease/keepalive', '{"ID":"7587862072907248"}');
    expect(keepAlive.status).toBe(200);
    expect(keepAlive.text).toBe(`{"result":{"header":${JSON.stringify(header('1'))},"ID":"7587862072907248","TTL":"30"}}\n`);
    await post('/v3/kv/put', JSON.stringify({ key: b64('leased'), value: b64('v'), lease: '7587862072907248' }));
    for (const path of ['/v3/lease/timetolive', '/v3/kv/lease/timetolive']) {
      const ttl = await post(path, '{"ID":"7587862072907248","keys":true}');
      expect(ttl.json).toEqual({ header: header('2'), ID: '7587862072907248', TTL: '30', grantedTTL: '30', keys: [b64('leased')] });
    }
    const missing = await post('/v3/lease/timetolive', '{"ID":"1"}');
    expect(missing.json).toEqual({ header: header('2'), ID: '1', TTL: '-1' });
    for (const path of ['/v3/lease/leases', '/v3/kv/lease/leases']) {
      const leases = await post(path, '{}');
      expect(leases.json).toEqual({ header: header('2'), leases: [{ ID: '7587862072907248' }] });
    }
    const revoke = await post('/v3/kv/lease/revoke', '{"ID":"7587862072907248"}');
    expect(revoke.json).toEqual({ header: header('3') });
    const again = await post('/v3/lease/revoke', '{"ID":"7587862072907248"}');
    expect(again.status).toBe(404);
    expect(again.text).toBe('{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}');
  });

  test('keepalive with two requests in one body answers two result lines; with none, nothing', async () => {
    await post('/v3/lease/grant', '{"TTL": 10, "ID": 42}');
    const two = await post('/v3/lease/keepalive', '{"ID":42} {"ID":"43"}');
    const lines = two.text.split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] as string)).toEqual({ result: { header: header('1'), ID: '42', TTL: '10' } });
    // An unknown lease: etcd's LeaseServer answers TTL 0 (left out), not an error.
    expect(JSON.parse(lines[1] as string)).toEqual({ result: { header: header('1'), ID: '43' } });
    expect(lines[2]).toBe('');
    const empty = await post('/v3/lease/keepalive', '');
    expect(empty.status).toBe(200);
    expect(empty.text).toBe('');
  });

  test('maintenance status: camelCase fields as rpc.proto spells them, leader as a string', async () => {
    const r = await post('/v3/maintenance/status', '{}');
    expect(r.json).toEqual({ header: header('1'), version: '3.4.0', dbSize: '24576', leader: '13847567121247652255', raftIndex: '8', raftTerm: '3', raftAppliedIndex: '8' });
  });

  test('member list: the header has no revision (etcd builds it without one)', async () => {
    const r = await post('/v3/cluster/member/list', '');
    expect(r.json).toEqual({
      header: { cluster_id: '12585971608760269493', member_id: '13847567121247652255', raft_term: '3' },
      members: [
        { ID: '13847567121247652255', name: 'master-1', peerURLs: ['http://127.0.0.1:2380'], clientURLs: ['http://127.0.0.1:2379'] },
        { ID: '5', name: 'master-2', peerURLs: ['http://127.0.0.1:12380'], isLearner: true },
      ],
    });
  });

  test('/v3beta/ is /v3/, as etcd 3.4 keeps it', async () => {
    const r = await post('/v3beta/kv/put', '{"key": "Zm9v", "value": "YmFy"}');
    expect(r.status).toBe(200);
    expect(service.calls.map((c) => c.method)).toEqual(['put']);
  });

  test('unknown fields are ignored (grpc-gateway v1 allows them); null is the zero value', async () => {
    const r = await post('/v3/kv/put', '{"key":"Zm9v","value":null,"lease":null,"no_such_field":{"x":[1,2]},"Request":{"RequestPut":{}}}');
    expect(r.status).toBe(200);
    expect(service.calls[0]?.request).toEqual({ key: Buffer.from('foo'), value: new Uint8Array(0), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false });
  });
});

describe("grpc-gateway's own refusals", () => {
  test('an unknown path under /v3/ is 404 "Not Found" in plain text; other paths are not taken', async () => {
    const r = await post('/v3/kv/nothing', '{}');
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.text).toBe('Not Found\n');
    const other = await post('/status', '{}');
    expect(other.text).toBe('not the gateway\n');
  });

  test('a GET on a route is 405 "Method Not Allowed" in plain text, and nothing is called', async () => {
    const r = await call(h.port, '/v3/kv/range', undefined, { method: 'GET' });
    expect(r.status).toBe(405);
    expect(r.text).toBe('Method Not Allowed\n');
    expect(service.calls).toEqual([]);
  });
});
