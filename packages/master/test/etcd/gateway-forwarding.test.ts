// A follower passes what only the leader can serve (writes, linearizable reads, keep-alives,
// time-to-live) to the leader's gateway once, unchanged, and relays the answer; a forwarded
// request is never forwarded again; with no leader, or none reachable, etcd's "no leader"; a
// leader lost after the request went out is an unknown outcome, never "no leader".

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FakeKvService } from './fake-service.js';
import { b64, call, startGateway, type Harness } from './harness.js';

let follower: Harness;
let leader: Harness;

beforeAll(async () => {
  follower = await startGateway(new FakeKvService(1, 1001n));
  leader = await startGateway(new FakeKvService(2, 1002n));
});

afterAll(async () => {
  await follower.close();
  await leader.close();
});

beforeEach(() => {
  for (const h of [follower, leader]) {
    h.service.calls.length = 0;
    h.service.follower = null;
  }
  follower.service.follower = { leader: { id: 2, host: '127.0.0.1', port: leader.port } };
});

const methods = (h: Harness) => h.service.calls.map((c) => c.method);
const putBody = JSON.stringify({ key: b64('k'), value: b64('v') });

describe('a follower forwards to the leader once', () => {
  test('a put reaches the leader with its session, and the leader answers', async () => {
    const r = await call(follower.port, '/v3/kv/put', putBody, { headers: { 'x-raftplane-client-id': 'client-1', 'x-raftplane-sequence': '9' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect((r.json as { header: { member_id: string } }).header.member_id).toBe('1002');
    expect(methods(follower)).toEqual(['put']);
    expect(leader.service.calls).toEqual([{ method: 'put', request: expect.objectContaining({ key: Buffer.from('k') }), session: { clientId: 'client-1', sequence: 9 } }]);
  });

  test('a linearizable range is forwarded; a serializable one is served where it is', async () => {
    await call(follower.port, '/v3/kv/range', JSON.stringify({ key: b64('k') }));
    expect(methods(leader)).toEqual(['range']);
    await call(follower.port, '/v3/kv/range', JSON.stringify({ key: b64('k'), serializable: true }));
    expect(methods(follower)).toEqual(['range', 'range']);
    expect(methods(leader)).toEqual(['range']);
  });

  test('keep-alive and time-to-live are answered by the leader', async () => {
    const keepAlive = await call(follower.port, '/v3/lease/keepalive', '{"ID":"5"}\n{"ID":"6"}');
    expect(keepAlive.status).toBe(200);
    expect(keepAlive.text.split('\n').map((line) => (line === '' ? null : (JSON.parse(line) as { result: { ID: string } }).result.ID))).toEqual(['5', '6', null]);
    expect(methods(leader)).toEqual(['leaseKeepAlive', 'leaseKeepAlive']);
    const ttl = await call(follower.port, '/v3/lease/timetolive', '{"ID":"5"}');
    expect(ttl.json).toMatchObject({ ID: '5', TTL: '-1' });
    expect(methods(leader)).toEqual(['leaseKeepAlive', 'leaseKeepAlive', 'leaseTimeToLive']);
  });

  test('the leader refuses bad input itself too: its error is relayed as it is', async () => {
    leader.service.failNext = new Error('the leader broke');
    const r = await call(follower.port, '/v3/kv/put', putBody);
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ error: 'the leader broke', message: 'the leader broke', code: 2 });
  });

  test('never twice: a forwarded request that meets a follower again answers "not leader"', async () => {
    leader.service.follower = { leader: { id: 1, host: '127.0.0.1', port: follower.port } };
    const r = await call(follower.port, '/v3/kv/put', putBody);
    expect(r.status).toBe(503);
    expect(r.text).toBe('{"error":"etcdserver: not leader","message":"etcdserver: not leader","code":14}');
    expect(methods(follower)).toEqual(['put']);
    expect(methods(leader)).toEqual(['put']);
  });
});

describe('no leader to forward to', () => {
  test('none known: 503 "etcdserver: no leader"', async () => {
    follower.service.follower = { leader: null };
    const r = await call(follower.port, '/v3/kv/put', putBody);
    expect(r.status).toBe(503);
    expect(r.text).toBe('{"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14}');
  });

  test('one known but not listening: 503 "etcdserver: no leader"', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    follower.service.follower = { leader: { id: 3, host: '127.0.0.1', port } };
    const r = await call(follower.port, '/v3/lease/keepalive', '{"ID":"5"}');
    expect(r.status).toBe(503);
    expect(r.json).toEqual({ error: 'etcdserver: no leader', message: 'etcdserver: no leader', code: 14 });
  });

  test('a leader that takes the request and drops the connection: a timeout (maybe applied), not "no leader"', async () => {
    const received: string[] = [];
    const dropping = createServer((req) => {
      received.push(req.url ?? '');
      req.socket.destroy(); // the leader died after reading the request: it may have applied it
    });
    dropping.listen(0, '127.0.0.1');
    await once(dropping, 'listening');
    try {
      follower.service.follower = { leader: { id: 3, host: '127.0.0.1', port: (dropping.address() as AddressInfo).port } };
      const r = await call(follower.port, '/v3/kv/put', putBody);
      expect(received).toEqual(['/v3/kv/put']);
      expect(r.status).toBe(503);
      expect(r.json).toEqual({ error: 'etcdserver: request timed out, possibly due to connection lost', message: 'etcdserver: request timed out, possibly due to connection lost', code: 14 });
    } finally {
      dropping.close();
      await once(dropping, 'close');
    }
  });
});
