// Bad input gets etcd's error and changes nothing (DESIGN rule 7): every refusal below is checked
// for its HTTP status, its exact body {"error","message","code"} (grpc-gateway v1.9.5's order), and
// that the service was never called. Failures the service throws come out with etcd's mapping.

import { KvError } from '@raftplane/kv';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { EtcdGatewayErrorCatalogue, Grpc, httpStatusFromGrpc } from '../../src/etcd/errors.js';
import { b64, call, startGateway, type Harness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  // Small limits so that the size refusals are cheap to reach.
  h = await startGateway(undefined, { requestBytesMax: 1024, txnOpsMax: 4, keepAliveRequestsMax: 3 });
});

afterAll(async () => {
  await h.close();
});

beforeEach(() => {
  h.service.calls.length = 0;
  h.service.failNext = null;
});

/** The body etcd 3.4's gateway writes for a failed unary call. */
const etcdError = (message: string, code: number) => JSON.stringify({ error: message, message, code });

async function refused(path: string, body: string | Buffer, status: number, code: number, message: string | RegExp, headers: Record<string, string> = {}) {
  const r = await call(h.port, path, body, { headers });
  expect(r.status).toBe(status);
  expect(r.headers['content-type']).toBe('application/json');
  const json = r.json as { error: string; message: string; code: number };
  expect(Object.keys(json)).toEqual(['error', 'message', 'code']);
  expect(json.code).toBe(code);
  expect(json.error).toBe(json.message);
  if (typeof message === 'string') expect(r.text).toBe(etcdError(message, code));
  else expect(json.message).toMatch(message);
  expect(h.service.calls).toEqual([]);
  return r;
}

describe('malformed bodies and fields: 400, InvalidArgument, nothing called', () => {
  test.each([
    ['malformed JSON', '/v3/kv/put', '{"key": "Zm9v", ', /^the body is not valid JSON/],
    ['trailing garbage', '/v3/kv/put', '{"key": "Zm9v"} {}', /^the body is not valid JSON/],
    ['a body that is not an object', '/v3/kv/range', '["Zm9v"]', /^invalid request: : expected an object, got \["Zm9v"\]/],
    ['bad base64', '/v3/kv/put', '{"key": "Zm9v!"}', /^invalid request: key: expected standard base64 with padding/],
    ['base64 without its padding', '/v3/kv/range', '{"key": "Zm8"}', /^invalid request: key: expected standard base64/],
    ['URL-safe base64', '/v3/kv/range', '{"key": "-_-_"}', /^invalid request: key: expected standard base64/],
    ['bytes as a number', '/v3/kv/range', '{"key": 12}', /^invalid request: key: expected a base64 string, got 12/],
    ['a bool as a string', '/v3/kv/range', '{"key": "Zm9v", "serializable": "true"}', /^invalid request: serializable: expected true or false, got "true"/],
    ['an int64 as a bool', '/v3/kv/range', '{"key": "Zm9v", "limit": true}', /^invalid request: limit: expected an int64 as a JSON number or a decimal string, got true/],
    ['a fractional int64', '/v3/kv/range', '{"key": "Zm9v", "limit": 1.5}', /^invalid request: limit: expected an integer, got 1.5/],
    ['an int64 out of range', '/v3/kv/put', '{"key": "Zm9v", "lease": "9223372036854775808"}', /^invalid request: lease: expected an int64 \(out of range\)/],
    ['a revision beyond exact JS numbers', '/v3/kv/range', '{"key": "Zm9v", "revision": "9007199254740993"}', /^invalid request: revision: expected an integer within ±9007199254740991/],
    ['a TTL beyond exact JS numbers', '/v3/lease/grant', '{"TTL": 9007199254740993}', /^invalid request: TTL: expected an integer within/],
    ['a lease id beyond int64', '/v3/lease/revoke', '{"ID": "9223372036854775808"}', /^invalid request: ID: expected an int64 \(out of range\)/],
    ['a decimal string with spaces', '/v3/lease/grant', '{"TTL": " 5"}', /^invalid request: TTL: expected an int64/],
    ['an unknown enum name', '/v3/kv/range', '{"key": "Zm9v", "sort_order": "SIDEWAYS"}', /^invalid request: sort_order: expected one of NONE, ASCEND, DESCEND \(or 0\.\.2\), got "SIDEWAYS"/],
    ['an unknown enum number', '/v3/kv/range', '{"key": "Zm9v", "sort_target": 7}', /^invalid request: sort_target: expected one of KEY, VERSION, CREATE, MOD, VALUE/],
    ['a list that is not an array', '/v3/kv/txn', '{"compare": {"key": "Zm9v"}}', /^invalid request: compare: expected an array/],
    ['a compare operand for another target', '/v3/kv/txn', '{"compare": [{"key": "Zm9v", "target": "VERSION", "value": "YmFy"}]}', /^invalid request: compare\[0\]\.value: expected no value operand with target VERSION/],
    ['a request op with two requests', '/v3/kv/txn', '{"success": [{"request_put": {"key": "Zm9v"}, "request_range": {"key": "Zm9v"}}]}', /^invalid request: success\[0\]: expected exactly one of request_range, request_put, request_delete_range, request_txn, got "request_range and request_put"/],
    ['an empty request op', '/v3/kv/txn', '{"failure": [{}]}', /^invalid request: failure\[0\]: expected exactly one of/],
    ['a bad field deep in a nested txn', '/v3/kv/txn', '{"success": [{"request_txn": {"success": [{"request_put": {"key": "Zm9v", "prev_kv": 1}}]}}]}', /^invalid request: success\[0\]\.request_txn\.success\[0\]\.request_put\.prev_kv: expected true or false/],
  ])('%s', async (_name, path, body, message) => {
    await refused(path, body, 400, Grpc.InvalidArgument, message);
  });
});

describe("etcd's own checks (v3rpc/key.go), with etcd's messages", () => {
  test.each([
    ['range without a key', '/v3/kv/range', '{}', 'etcdserver: key is not provided'],
    ['range of an empty body', '/v3/kv/range', '', 'etcdserver: key is not provided'],
    ['put without a key', '/v3/kv/put', '{"value": "YmFy"}', 'etcdserver: key is not provided'],
    ['deleterange without a key', '/v3/kv/deleterange', '{"range_end": "AA=="}', 'etcdserver: key is not provided'],
    ['a txn compare without a key', '/v3/kv/txn', '{"compare": [{"result": "EQUAL"}]}', 'etcdserver: key is not provided'],
    ['a put in a txn without a key', '/v3/kv/txn', '{"success": [{"request_put": {}}]}', 'etcdserver: key is not provided'],
    ['ignore_value with a value', '/v3/kv/put', '{"key": "Zm9v", "value": "YmFy", "ignore_value": true}', 'etcdserver: value is provided'],
    ['ignore_lease with a lease', '/v3/kv/put', '{"key": "Zm9v", "lease": "5", "ignore_lease": true}', 'etcdserver: lease is provided'],
    ['more compares than --max-txn-ops', '/v3/kv/txn', JSON.stringify({ compare: Array(5).fill({ key: 'Zm9v' }) }), 'etcdserver: too many operations in txn request'],
    ['txns nested past the op budget', '/v3/kv/txn', nestedTxn(6), 'etcdserver: too many operations in txn request'],
    ['the same key put twice', '/v3/kv/txn', JSON.stringify({ success: [put('a'), put('a')] }), 'etcdserver: duplicate key given in txn request'],
    ['a key put and deleted', '/v3/kv/txn', JSON.stringify({ success: [put('b'), { request_delete_range: { key: b64('a'), range_end: b64('c') } }] }), 'etcdserver: duplicate key given in txn request'],
    ['a key put in a nested txn and at the top', '/v3/kv/txn', JSON.stringify({ failure: [put('a'), { request_txn: { success: [put('a')] } }] }), 'etcdserver: duplicate key given in txn request'],
  ])('%s', async (_name, path, body, message) => {
    await refused(path, body, 400, Grpc.InvalidArgument, message);
  });

  test('a key put in both branches of one nested txn is allowed (only one branch runs)', async () => {
    const r = await call(h.port, '/v3/kv/txn', JSON.stringify({ success: [{ request_txn: { success: [put('a')], failure: [put('a')] } }] }));
    expect(r.status).toBe(200);
  });
});

function put(name: string) {
  return { request_put: { key: b64(name), value: b64('v') } };
}

function nestedTxn(depth: number): string {
  let txn: object = { success: [put('leaf')] };
  for (let i = 1; i < depth; i++) txn = { success: [{ request_txn: txn }] };
  return JSON.stringify(txn);
}

describe('sizes: etcd --max-request-bytes (1024 here) plus gRPC overhead', () => {
  test('a write whose protobuf is past --max-request-bytes: 400 "etcdserver: request is too large"', async () => {
    await refused('/v3/kv/put', JSON.stringify({ key: b64('k'), value: b64('x'.repeat(1100)) }), 400, Grpc.InvalidArgument, 'etcdserver: request is too large');
  });

  test('a read of the same size is not a write: it passes', async () => {
    const r = await call(h.port, '/v3/kv/range', JSON.stringify({ key: b64('k'.repeat(1100)) }));
    expect(r.status).toBe(200);
  });

  test("a request past gRPC's receive limit: 429 ResourceExhausted with gRPC's message", async () => {
    const value = b64('x'.repeat(600 * 1024));
    await refused('/v3/kv/range', JSON.stringify({ key: b64('k'), range_end: value }), 429, Grpc.ResourceExhausted, /^grpc: received message larger than max \(614\d{3} vs\. 525312\)$/);
  });

  test('a body past the body limit is refused from its Content-Length, unread, and the connection closes', async () => {
    const r = await refused('/v3/kv/put', 'x'.repeat(1_100_000), 429, Grpc.ResourceExhausted, /^grpc: received message larger than max \(request body of 1100000 vs\. 1050624 bytes\)$/);
    expect(r.headers.connection).toBe('close');
  });

  test('a chunked body past the body limit is cut off as it comes', async () => {
    const r = await refused('/v3/kv/put', Buffer.alloc(1_100_000, 0x20), 429, Grpc.ResourceExhausted, /request body of more than 1050624 vs\. 1050624 bytes/, {
      'transfer-encoding': 'chunked',
    });
    expect(r.headers.connection).toBe('close');
  });
});

describe('exactly-once sessions: x-raftplane-client-id and x-raftplane-sequence', () => {
  const body = JSON.stringify({ key: b64('k'), value: b64('v') });

  test('both headers become the write session', async () => {
    const r = await call(h.port, '/v3/kv/put', body, { headers: { 'x-raftplane-client-id': 'client-7f3a', 'x-raftplane-sequence': '42' } });
    expect(r.status).toBe(200);
    expect(h.service.calls[0]?.session).toEqual({ clientId: 'client-7f3a', sequence: 42 });
    await call(h.port, '/v3/kv/deleterange', JSON.stringify({ key: b64('k') }), { headers: { 'x-raftplane-client-id': 'c', 'x-raftplane-sequence': '43' } });
    await call(h.port, '/v3/kv/txn', '{}', { headers: { 'x-raftplane-client-id': 'c', 'x-raftplane-sequence': '44' } });
    expect(h.service.calls.map((c) => [c.method, c.session?.sequence])).toEqual([
      ['put', 42],
      ['deleteRange', 43],
      ['txn', 44],
    ]);
  });

  test('neither header: no session', async () => {
    await call(h.port, '/v3/kv/put', body);
    expect(h.service.calls[0]?.session).toBeNull();
  });

  test.each([
    [{ 'x-raftplane-client-id': 'c' }, /x-raftplane-client-id was given without x-raftplane-sequence/],
    [{ 'x-raftplane-sequence': '1' }, /x-raftplane-sequence was given without x-raftplane-client-id/],
    [{ 'x-raftplane-client-id': 'c', 'x-raftplane-sequence': '-1' }, /x-raftplane-sequence must be an integer from 0 to 9007199254740991, got "-1"/],
    [{ 'x-raftplane-client-id': 'c', 'x-raftplane-sequence': '007' }, /x-raftplane-sequence must be an integer/],
    [{ 'x-raftplane-client-id': 'c', 'x-raftplane-sequence': '1.5' }, /x-raftplane-sequence must be an integer/],
    [{ 'x-raftplane-client-id': 'c', 'x-raftplane-sequence': '9007199254740992' }, /x-raftplane-sequence must be an integer/],
    [{ 'x-raftplane-client-id': 'has space', 'x-raftplane-sequence': '1' }, /x-raftplane-client-id must be 1 to 128 visible ASCII characters, got "has space"/],
    [{ 'x-raftplane-client-id': 'c'.repeat(129), 'x-raftplane-sequence': '1' }, /x-raftplane-client-id must be 1 to 128/],
  ])('%j is refused', async (headers, message) => {
    await refused('/v3/kv/put', body, 400, Grpc.InvalidArgument, message, headers);
  });
});

describe("the service's failures, as etcd's gateway maps them", () => {
  test.each([
    [new KvError('KV_COMPACTED'), 400, Grpc.OutOfRange],
    [new KvError('KV_FUTURE_REVISION'), 400, Grpc.OutOfRange],
    [new KvError('KV_LEASE_EXISTS'), 400, Grpc.FailedPrecondition],
    [new KvError('KV_LEASE_NOT_FOUND'), 404, Grpc.NotFound],
    [new KvError('KV_NO_LEADER'), 503, Grpc.Unavailable],
    [new KvError('KV_TIMEOUT'), 503, Grpc.Unavailable],
    [new KvError('KV_TOO_MANY_REQUESTS'), 429, Grpc.ResourceExhausted],
    [new Error('a bug'), 500, Grpc.Unknown],
  ])('%s -> %i', async (error, status, code) => {
    h.service.failNext = error;
    const r = await call(h.port, '/v3/kv/range', '{"key":"Zm9v"}');
    expect(r.status).toBe(status);
    expect(r.text).toBe(etcdError(error.message, code));
  });

  test('a keep-alive failure is a stream error chunk, with its status since nothing was sent yet', async () => {
    h.service.failNext = new KvError('KV_NO_LEADER');
    const r = await call(h.port, '/v3/lease/keepalive', '{"ID":"5"}');
    expect(r.status).toBe(503);
    expect(r.text).toBe('{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}');
  });

  test('bad keep-alive input is refused whole before any request is served', async () => {
    await refused('/v3/lease/keepalive', '{"ID":"5"} {"ID":"x"}', 400, Grpc.InvalidArgument, /^invalid request: ID: expected an int64/);
    await refused('/v3/lease/keepalive', '{"ID":"5"} {"ID":', 400, Grpc.InvalidArgument, /^the body ended inside a JSON object/);
    await refused('/v3/lease/keepalive', '{"ID":1}{"ID":2}{"ID":3}{"ID":4}', 429, Grpc.ResourceExhausted, /4 keep-alive requests in one POST, at most 3/);
  });
});

describe('the catalogue and the status mapping', () => {
  test("grpc-gateway v1's HTTPStatusFromCode", () => {
    const table = Object.fromEntries(Object.entries(Grpc).map(([name, code]) => [name, httpStatusFromGrpc(code)]));
    expect(table).toEqual({
      Canceled: 408,
      Unknown: 500,
      InvalidArgument: 400,
      DeadlineExceeded: 504,
      NotFound: 404,
      AlreadyExists: 409,
      PermissionDenied: 403,
      ResourceExhausted: 429,
      FailedPrecondition: 400,
      Aborted: 409,
      OutOfRange: 400,
      Unimplemented: 501,
      Internal: 500,
      Unavailable: 503,
      DataLoss: 500,
      Unauthenticated: 401,
    });
  });

  test('every gateway error code is catalogued once, with a gRPC code', () => {
    expect(Object.keys(EtcdGatewayErrorCatalogue)).toHaveLength(7);
    for (const [code, entry] of Object.entries(EtcdGatewayErrorCatalogue)) {
      expect(code).toMatch(/^ETCD_GW_[A-Z_]+$/);
      expect(Object.values(Grpc)).toContain(entry.grpc);
    }
  });
});
