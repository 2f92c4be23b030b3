// The watch protocol over a WebSocket at /v3/watch, as etcd 3.4 serves it through its websocket
// proxy: text frames of WatchRequests in, one {"result": WatchResponse} text frame per response out,
// many watches on one socket, a slow receiver's watch canceled with a reason, dead peers found by
// ping and pong.

import { once } from 'node:events';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { FAKE_TOO_SLOW, FakeKvService } from './fake-service.js';
import { Queue, b64, expectContiguous, startGateway, writeUntilCut, type Harness } from './harness.js';

let h: Harness;
let service: FakeKvService;

beforeAll(async () => {
  h = await startGateway(new FakeKvService(), { watchBufferBytesMax: 256 * 1024 });
  service = h.service;
});

afterAll(async () => {
  await h.close();
});

beforeEach(() => {
  service.store.clear();
  service.calls.length = 0;
  service.revision = 1;
});

interface Socket {
  readonly ws: WebSocket;
  readonly frames: Queue<string>;
  readonly closed: Promise<{ code: number; reason: string }>;
}

async function connect(port = h.port, options: WebSocket.ClientOptions = {}): Promise<Socket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v3/watch`, { perMessageDeflate: false, ...options });
  const frames = new Queue<string>();
  ws.on('message', (data, isBinary) => {
    expect(isBinary).toBe(false);
    frames.push(String(data));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolveClosed) =>
    ws.once('close', (code, reason) => {
      frames.end();
      resolveClosed({ code, reason: reason.toString() });
    }),
  );
  await once(ws, 'open');
  return { ws, frames, closed };
}

const json = async (socket: Socket): Promise<unknown> => JSON.parse(await socket.frames.next());
const header = (revision: string) => ({ cluster_id: '12585971608760269493', member_id: '13847567121247652255', revision, raft_term: '2' });
const putDirect = (name: string, value: string) => service.put({ key: Buffer.from(name), value: Buffer.from(value), lease: 0n, prevKv: false }, null);

/** The client closes the socket; resolves once every watch it had has ended at the hub. */
async function leave(socket: Socket): Promise<void> {
  socket.ws.close();
  await socket.closed;
  await service.whenAllWatchesEnd();
}

describe('the watch protocol over one socket', () => {
  test("frames are the HTTP stream's lines: created, then events", async () => {
    const socket = await connect();
    socket.ws.send('{"create_request": {"key":"Zm9v"} }');
    expect(await socket.frames.next()).toBe(
      '{"result":{"header":{"cluster_id":"12585971608760269493","member_id":"13847567121247652255","revision":"1","raft_term":"2"},"created":true}}',
    );
    await putDirect('foo', 'bar');
    expect(await socket.frames.next()).toBe(
      '{"result":{"header":{"cluster_id":"12585971608760269493","member_id":"13847567121247652255","revision":"2","raft_term":"2"},' +
        '"events":[{"kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}]}}',
    );
    await leave(socket);
  });

  test('many watches, a cancel and a progress request; frames carry requests split or joined as the client likes', async () => {
    const socket = await connect();
    const first = JSON.stringify({ create_request: { key: b64('a'), watch_id: 1 } });
    socket.ws.send(first.slice(0, 10));
    socket.ws.send(first.slice(10) + JSON.stringify({ create_request: { key: b64('b'), watch_id: 2 } }));
    expect(await json(socket)).toEqual({ result: { header: header('1'), watch_id: '1', created: true } });
    expect(await json(socket)).toEqual({ result: { header: header('1'), watch_id: '2', created: true } });
    socket.ws.send('{"cancel_request": {"watch_id": 1}}');
    expect(await json(socket)).toEqual({ result: { header: header('1'), watch_id: '1', canceled: true } });
    await putDirect('a', 'x');
    await putDirect('b', 'y');
    expect(await json(socket)).toMatchObject({ result: { watch_id: '2', events: [{ kv: { key: b64('b') } }] } });
    socket.ws.send('{"progress_request": {}}');
    expect(await json(socket)).toEqual({ result: { header: header('3'), watch_id: '2' } });
    await leave(socket);
  });

  test('a bad first frame: an etcd error body, then the socket closes (1008)', async () => {
    const socket = await connect();
    socket.ws.send('{"create_request": {"key": 5}}');
    expect(await json(socket)).toEqual({
      error: 'invalid request: create_request.key: expected a base64 string, got 5',
      message: 'invalid request: create_request.key: expected a base64 string, got 5',
      code: 3,
    });
    expect(await socket.closed).toEqual({ code: 1008, reason: 'invalid request: create_request.key: expected a base64 string, got 5' });
    expect(service.calls).toEqual([]);
  });

  test('a bad later frame: a stream error, the socket closes, its watches stop', async () => {
    const socket = await connect();
    socket.ws.send(JSON.stringify({ create_request: { key: b64('a'), watch_id: 3 } }));
    await json(socket);
    socket.ws.send('{"cancel_request": ');
    socket.ws.send('[]}');
    expect(await json(socket)).toEqual({
      error: { grpc_code: 3, http_code: 400, message: 'invalid request: cancel_request: expected an object, got []', http_status: 'Bad Request' },
    });
    expect((await socket.closed).code).toBe(1008);
    expect(await service.whenWatchOnEnds('a')).toBe('canceled');
  });

  test('a binary frame is not part of the protocol', async () => {
    const socket = await connect();
    socket.ws.send(Buffer.from('{}'), { binary: true });
    expect(await json(socket)).toMatchObject({ code: 3, message: expect.stringMatching(/binary frames are not part of the watch protocol/) });
    expect((await socket.closed).code).toBe(1008);
  });
});

describe('receivers that fall behind, leave or die', () => {
  test('a receiver that stops reading is refused past watchBufferBytesMax; the hub cancels that watch, the socket stays for the next', async () => {
    const socket = await connect();
    socket.ws.send(JSON.stringify({ create_request: { key: b64('big'), watch_id: 7 } }));
    await json(socket);
    socket.ws.pause();
    await writeUntilCut(service, 'big');
    expect(service.calls.filter((c) => c.method === 'watchCut')).toEqual([{ method: 'watchCut', request: service.hubIdOf('big'), session: null }]);
    socket.ws.resume();
    const received: { result: { watch_id: string; canceled?: boolean; cancel_reason?: string; header: { revision: string } } }[] = [];
    for (;;) {
      const frame = (await json(socket)) as (typeof received)[number];
      received.push(frame);
      if (frame.result.canceled === true) break;
    }
    const revisions = received.slice(0, -1).map((frame) => Number(frame.result.header.revision));
    expectContiguous(revisions);
    expect(received.at(-1)).toEqual({ result: { header: header(String(revisions.at(-1))), watch_id: '7', canceled: true, cancel_reason: FAKE_TOO_SLOW } });
    socket.ws.send(JSON.stringify({ create_request: { key: b64('big'), watch_id: 8, start_revision: String((revisions.at(-1) as number) + 1) } }));
    expect(await json(socket)).toMatchObject({ result: { watch_id: '8', created: true } });
    await leave(socket);
  });

  test('a client that goes away cancels its watches', async () => {
    const socket = await connect();
    socket.ws.send(JSON.stringify({ create_request: { key: b64('x'), watch_id: 9 } }));
    await json(socket);
    socket.ws.terminate();
    expect(await service.whenWatchOnEnds('x')).toBe('canceled');
  });

  test('a peer that stops answering pings is terminated, and its watches stop', async () => {
    const own = await startGateway(new FakeKvService(), { heartbeatIntervalMs: 20 });
    const socket = await connect(own.port, { autoPong: false });
    socket.ws.send('{"create_request": {"key": "Zm9v"}}');
    await json(socket);
    expect((await socket.closed).code).toBe(1006);
    expect(await own.service.whenWatchOnEnds('foo')).toBe('canceled');
    await own.close();
  });

  test('a peer that answers pings stays', async () => {
    const own = await startGateway(new FakeKvService(), { heartbeatIntervalMs: 10 });
    const socket = await connect(own.port);
    let pings = 0;
    socket.ws.on('ping', () => {
      pings += 1;
    });
    socket.ws.send('{"create_request": {"key": "Zm9v"}}');
    await json(socket);
    while (pings < 5) await once(socket.ws, 'ping');
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    await own.close();
    expect((await socket.closed).code).toBe(1001);
  });
});

test('only /v3/watch upgrades; other paths are left to the server', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${h.port}/v3/kv/range`);
  const [error] = (await once(ws, 'error')) as [Error];
  expect(error.message).toMatch(/socket hang up/);
});
