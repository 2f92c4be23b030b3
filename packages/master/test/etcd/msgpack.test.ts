// The compact encoding for our own clients: with `Content-Type: application/x-msgpack` a request is
// a msgpack map under the store's internal field names and the answer comes back the same way,
// errors and streams included.

import { Packr, Unpackr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLUSTER_ID, MEMBER_ID } from './fake-service.js';
import { call, startGateway, type Harness } from './harness.js';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { once } from 'node:events';

let h: Harness;
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });
const msgpack = { 'content-type': 'application/x-msgpack' };

beforeAll(async () => {
  h = await startGateway();
});

afterAll(async () => {
  await h.close();
});

const header = (revision: number) => ({ clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision, raftTerm: 2 });

describe('msgpack requests and answers', () => {
  test('put and range: internal names both ways, bytes as bytes, the full header', async () => {
    const put = await call(h.port, '/v3/kv/put', packr.pack({ key: Buffer.from('k'), value: Buffer.from([0, 255]), prevKv: true }), { headers: msgpack });
    expect(put.status).toBe(200);
    expect(put.headers['content-type']).toBe('application/x-msgpack');
    expect(unpackr.unpack(put.body)).toEqual({ header: header(2), prevKv: null });
    const range = await call(h.port, '/v3/kv/range', packr.pack({ key: Buffer.from('k') }), { headers: msgpack });
    expect(unpackr.unpack(range.body)).toEqual({
      header: header(2),
      kvs: [{ key: Buffer.from('k'), value: Buffer.from([0, 255]), lease: 0n, createRevision: 2, modRevision: 2, version: 1 }],
      more: false,
      count: 1,
    });
  });

  test('errors are msgpack too, with the same fields and statuses', async () => {
    const r = await call(h.port, '/v3/kv/put', packr.pack({ value: Buffer.from('v') }), { headers: msgpack });
    expect(r.status).toBe(400);
    expect(unpackr.unpack(r.body)).toEqual({ error: 'etcdserver: key is not provided', message: 'etcdserver: key is not provided', code: 3 });
    const bad = await call(h.port, '/v3/kv/put', packr.pack({ key: 'not bytes' }), { headers: msgpack });
    expect(unpackr.unpack(bad.body)).toMatchObject({ code: 3, message: 'invalid request: key: expected msgpack bin bytes, got "not bytes"' });
    const odd = await call(h.port, '/v3/kv/put', Buffer.of(0xc1), { headers: msgpack });
    expect(unpackr.unpack(odd.body)).toMatchObject({ code: 3, message: expect.stringMatching(/^invalid request: : expected an object/) });
    const trailing = await call(h.port, '/v3/kv/put', Buffer.concat([packr.pack({}), Buffer.of(1)]), { headers: msgpack });
    expect(unpackr.unpack(trailing.body)).toMatchObject({ code: 3, message: expect.stringMatching(/^the body is not valid msgpack/) });
  });

  test('a watch stream: msgpack requests in, {result} maps out, back to back', async () => {
    const req = httpRequest({ host: '127.0.0.1', port: h.port, path: '/v3/watch', method: 'POST', headers: msgpack, agent: false });
    req.write(packr.pack({ createRequest: { key: Buffer.from('w'), watchId: 4 } }));
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.headers['content-type']).toBe('application/x-msgpack');
    const messages: unknown[] = [];
    const arrived = new Promise<void>((resolveArrived) => {
      let pending = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        try {
          messages.push(...(unpackr.unpackMultiple(pending) as unknown[]));
          pending = Buffer.alloc(0);
        } catch {
          return; // an unfinished message: wait for the rest
        }
        if (messages.length === 2) resolveArrived();
      });
    });
    await new Promise<void>((resolveCreated) => res.once('data', () => resolveCreated()));
    await h.service.put({ key: Buffer.from('w'), value: Buffer.from('1'), lease: 0n, prevKv: false }, null);
    await arrived;
    expect(messages[0]).toEqual({ result: { header: header(2), watchId: 4, created: true, canceled: false, compactRevision: 0, cancelReason: '', events: [] } });
    expect(messages[1]).toMatchObject({ result: { watchId: 4, events: [{ type: 'PUT', kv: { key: Buffer.from('w'), value: Buffer.from('1') }, prevKv: null }] } });
    req.destroy();
    expect(await h.service.whenWatchOnEnds('w')).toBe('canceled');
  });
});
