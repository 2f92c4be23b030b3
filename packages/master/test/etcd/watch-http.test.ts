// The watch stream over HTTP, as etcd's gateway serves it: a POST whose body is a stream of
// WatchRequests, answered by newline-delimited {"result": WatchResponse} objects for as long as the
// client stays. Create, events, cancel, progress, refusals, a slow receiver cut off, a client that
// leaves, and a gateway that closes.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FAKE_TOO_SLOW, FakeKvService } from './fake-service.js';
import { b64, call, expectContiguous, openWatch, startGateway, writeUntilCut, type Harness, type WatchClient } from './harness.js';

let h: Harness;
let service: FakeKvService;
const open: WatchClient[] = [];

beforeAll(async () => {
  h = await startGateway(new FakeKvService(), { watchesPerStreamMax: 3, watchBufferBytesMax: 256 * 1024 });
  service = h.service;
});

afterAll(async () => {
  for (const client of open) client.destroy();
  await h.close();
});

beforeEach(() => {
  service.store.clear();
  service.calls.length = 0;
  service.revision = 1;
});

async function watch(first: string): Promise<WatchClient> {
  const client = await openWatch(h.port, first);
  open.push(client);
  return client;
}

const json = async (client: WatchClient): Promise<unknown> => JSON.parse(await client.lines.next());
/** Leaves, and waits until the gateway has stopped those watches (so that the next test starts clean). */
/** The client goes away; resolves once every watch it had has ended at the hub. */
async function leave(client: WatchClient): Promise<void> {
  client.destroy();
  await service.whenAllWatchesEnd();
}
const header = (revision: string) => ({ cluster_id: '12585971608760269493', member_id: '13847567121247652255', revision, raft_term: '2' });
const putDirect = (name: string, value: string) => service.put({ key: Buffer.from(name), value: Buffer.from(value), lease: 0n, prevKv: false }, null);

describe('the documented watch', () => {
  test('create, then a put: the lines of etcd\'s guide, byte for byte', async () => {
    const client = await watch('{"create_request": {"key":"Zm9v"} }');
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('application/json');
    expect(await client.lines.next()).toBe(
      '{"result":{"header":{"cluster_id":"12585971608760269493","member_id":"13847567121247652255","revision":"1","raft_term":"2"},"created":true}}',
    );
    const put = await call(h.port, '/v3/kv/put', '{"key": "Zm9v", "value": "YmFy"}');
    expect(put.status).toBe(200);
    expect(await client.lines.next()).toBe(
      '{"result":{"header":{"cluster_id":"12585971608760269493","member_id":"13847567121247652255","revision":"2","raft_term":"2"},' +
        '"events":[{"kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}]}}',
    );
    await leave(client);
  });
});

describe('one stream, several watches', () => {
  test('a range watch with prev_kv sees DELETE events with their previous value; filters apply', async () => {
    const client = await watch(JSON.stringify({ create_request: { key: b64('a'), range_end: b64('b'), prev_kv: true, watch_id: '5' } }));
    expect(await json(client)).toEqual({ result: { header: header('1'), watch_id: '5', created: true } });
    client.send(JSON.stringify({ create_request: { key: b64('a'), range_end: b64('b'), filters: ['NOPUT'], watch_id: 6 } }));
    expect(await json(client)).toEqual({ result: { header: header('1'), watch_id: '6', created: true } });
    // The hub gets no stream id (0: it assigns its own); the stream answers with its own id.
    expect(service.calls[1]?.request).toEqual({
      key: Buffer.from('a'),
      rangeEnd: Buffer.from('b'),
      startRevision: 0,
      progressNotify: false,
      filters: ['NOPUT'],
      prevKv: false,
      watchId: 0,
    });
    await putDirect('a1', 'x');
    const kv = { key: b64('a1'), create_revision: '2', mod_revision: '2', version: '1', value: b64('x') };
    expect(await json(client)).toEqual({ result: { header: header('2'), watch_id: '5', events: [{ kv }] } });
    await service.deleteRange({ key: Buffer.from('a1'), rangeEnd: new Uint8Array(0), prevKv: false }, null);
    const deleted = { type: 'DELETE', kv: { key: b64('a1'), mod_revision: '3' } };
    expect(await json(client)).toEqual({ result: { header: header('3'), watch_id: '5', events: [{ ...deleted, prev_kv: kv }] } });
    expect(await json(client)).toEqual({ result: { header: header('3'), watch_id: '6', events: [deleted] } });
    await leave(client);
  });

  test('cancel_request answers canceled for that watch and stops it; an unknown id gets no answer', async () => {
    const client = await watch(JSON.stringify({ create_request: { key: b64('k'), watch_id: 10 } }) + JSON.stringify({ create_request: { key: b64('j'), watch_id: 11 } }));
    await json(client);
    await json(client);
    client.send('{"cancel_request": {"watch_id": "99"}}\n{"cancel_request": {"watch_id": "10"}}');
    expect(await json(client)).toEqual({ result: { header: header('1'), watch_id: '10', canceled: true } });
    expect(await service.whenWatchOnEnds('k')).toBe('canceled');
    await putDirect('k', 'gone');
    await putDirect('j', 'here');
    expect(await json(client)).toMatchObject({ result: { watch_id: '11', events: [{ kv: { key: b64('j') } }] } });
    await leave(client);
  });

  test('progress_request: each watch gets its progress notification from the hub', async () => {
    const client = await watch(JSON.stringify({ create_request: { key: b64('p'), watch_id: 20 } }));
    await json(client);
    client.send('{"progress_request": {}}');
    expect(await json(client)).toEqual({ result: { header: header('1'), watch_id: '20' } });
    expect(service.calls.map((c) => c.method)).toEqual(['watch', 'requestProgress']);
    await leave(client);
  });

  test('progress_request with no watch: etcd 3.4 answers watch_id -1 at the current revision', async () => {
    const client = await watch('{"progress_request": {}}');
    expect(await json(client)).toEqual({ result: { header: header('1'), watch_id: '-1' } });
    expect(service.calls).toEqual([]);
    await leave(client);
  });

  test('an empty range, a duplicate id and a full stream are refused in the stream, created and canceled', async () => {
    const client = await watch(JSON.stringify({ create_request: { key: b64('b'), range_end: b64('a') } }));
    expect(await json(client)).toEqual({ result: { header: header('1'), watch_id: '-1', created: true, canceled: true, cancel_reason: 'mvcc: watcher range is empty' } });
    // "\0" as range_end is every key from `key` on, not an empty range.
    client.send(JSON.stringify({ create_request: { key: b64('b'), range_end: 'AA==', watch_id: 30 } }));
    expect(await json(client)).toMatchObject({ result: { watch_id: '30', created: true } });
    client.send(JSON.stringify({ create_request: { key: b64('c'), watch_id: 30 } }));
    expect(await json(client)).toEqual({
      result: { header: header('1'), watch_id: '-1', created: true, canceled: true, cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream' },
    });
    client.send(JSON.stringify({ create_request: { key: b64('c'), watch_id: 31 } }) + JSON.stringify({ create_request: { key: b64('c'), watch_id: 32 } }));
    await json(client);
    await json(client);
    client.send(JSON.stringify({ create_request: { key: b64('c'), watch_id: 33 } }));
    expect(await json(client)).toMatchObject({ result: { watch_id: '-1', created: true, canceled: true, cancel_reason: expect.stringMatching(/already holds 3 watches/) } });
    expect(service.calls.filter((c) => c.method === 'watch')).toHaveLength(3);
    await leave(client);
  });
});

describe('bad input on a watch stream', () => {
  test('a bad first request is a 400 with etcd\'s error body, and no watch is made', async () => {
    const client = await watch('{"create_request": {"key": "not base64!"}}');
    expect(client.status).toBe(400);
    expect(JSON.parse(await client.lines.next())).toEqual({
      error: 'invalid request: create_request.key: expected standard base64 with padding (RFC 4648 §4), got "not base64!"',
      message: 'invalid request: create_request.key: expected standard base64 with padding (RFC 4648 §4), got "not base64!"',
      code: 3,
    });
    expect(service.calls).toEqual([]);
  });

  test('a bad later request ends the stream with an error chunk, and its watches stop', async () => {
    const client = await watch(JSON.stringify({ create_request: { key: b64('z'), watch_id: 40 } }));
    await json(client);
    client.send('{"cancel_request": {"watch_id": true}}');
    const rest = await client.lines.rest();
    expect(rest.map((line) => JSON.parse(line))).toEqual([
      { error: { grpc_code: 3, http_code: 400, message: 'invalid request: cancel_request.watch_id: expected an int64 as a JSON number or a decimal string, got true', http_status: 'Bad Request' } },
    ]);
    expect(await service.whenWatchOnEnds('z')).toBe('canceled');
  });

  test('two requests in one message, and JSON that is not an object, are refused', async () => {
    const both = await watch('{"create_request": {"key": "Zm9v"}, "cancel_request": {}}');
    expect(both.status).toBe(400);
    expect(await both.lines.next()).toMatch(/at most one of create_request, cancel_request, progress_request/);
    const scalar = await watch('"hello"');
    expect(scalar.status).toBe(400);
    expect(JSON.parse(await scalar.lines.next())).toMatchObject({ message: `expected a JSON object, found '"'`, code: 3 });
    expect(service.calls).toEqual([]);
  });
});

describe('receivers that fall behind or leave', () => {
  test('a receiver that stops reading is refused past watchBufferBytesMax; when the hub cancels its watch, the stream ends with an error', async () => {
    const client = await watch(JSON.stringify({ create_request: { key: b64('big'), watch_id: 50 } }));
    await json(client);
    client.response.pause();
    await writeUntilCut(service, 'big');
    expect(service.calls.filter((c) => c.method === 'watchCut')).toEqual([{ method: 'watchCut', request: service.hubIdOf('big'), session: null }]);
    client.response.resume();
    const rest = await client.lines.rest();
    const events = rest.slice(0, -2).map((line) => JSON.parse(line) as { result: { header: { revision: string } } });
    const revisions = events.map((event) => Number(event.result.header.revision));
    expectContiguous(revisions);
    // The hub's cancelation, delivered although the receiver is behind: it is the watch's last word.
    expect(JSON.parse(rest.at(-2) as string)).toEqual({
      result: { header: header(String(revisions.at(-1))), watch_id: '50', canceled: true, cancel_reason: FAKE_TOO_SLOW },
    });
    expect(JSON.parse(rest.at(-1) as string)).toEqual({
      error: {
        grpc_code: 8,
        http_code: 429,
        message: `raftplane: watch receiver too slow: more than 262144 bytes were waiting to be sent; watch again from revision ${(revisions.at(-1) as number) + 1}`,
        http_status: 'Too Many Requests',
      },
    });
  });

  test('a client that leaves cancels its watches', async () => {
    const client = await watch(JSON.stringify({ create_request: { key: b64('x'), watch_id: 60 } }) + JSON.stringify({ create_request: { key: b64('y'), watch_id: 61 } }));
    await json(client);
    await json(client);
    client.destroy();
    expect(await Promise.all([service.whenWatchOnEnds('x'), service.whenWatchOnEnds('y')])).toEqual(['canceled', 'canceled']);
  });

  test('a request body that ends leaves the stream open for events (etcd closes only the send side)', async () => {
    const client = await watch(JSON.stringify({ create_request: { key: b64('e'), watch_id: 70 } }));
    client.finish();
    await json(client);
    await putDirect('e', '1');
    expect(await json(client)).toMatchObject({ result: { watch_id: '70', events: [{ kv: { key: b64('e') } }] } });
    await leave(client);
  });
});

test('closing the gateway ends its watch streams with an error and stops their watches', async () => {
  const own = await startGateway();
  const client = await openWatch(own.port, '{"create_request": {"key": "Zm9v"}}');
  await client.lines.next();
  await own.close();
  const rest = await client.lines.rest();
  expect(rest.map((line) => JSON.parse(line))).toEqual([
    { error: { grpc_code: 14, http_code: 503, message: 'raftplane: the server is shutting down', http_status: 'Service Unavailable' } },
  ]);
  expect(await own.service.whenWatchOnEnds('foo')).toBe('canceled');
});
