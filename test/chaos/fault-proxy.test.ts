// The fault proxy on real loopback sockets: it forwards bytes unchanged, and swallows, delays,
// resets and partitions exactly the directions it is told to, leaving nothing open when closed.

import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { FaultProxy, FaultProxyErrorCode, type FaultProxyLink } from './fault-proxy.js';

/** The bytes one socket has received so far, and whether it has closed. */
interface Collector {
  readonly socket: Socket;
  bytes(): Buffer;
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

interface Target {
  readonly port: number;
  /** One collector per accepted connection, in accept order. */
  readonly accepted: Collector[];
  close(): Promise<void>;
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});
afterAll(expectNoSocketsLeft);

function collect(socket: Socket): Collector {
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {}); // resets are expected here; 'close' follows
  return {
    socket,
    bytes: () => Buffer.concat(chunks),
    closed: new Promise<void>((resolve) => socket.once('close', () => resolve((closed = true) && undefined))),
    isClosed: () => closed,
  };
}

/** A stand-in for a master's peer port: accepts, records, and echoes when `echo` is set. */
async function startTarget(echo: boolean): Promise<Target> {
  const accepted: Collector[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    accepted.push(collect(socket));
    if (echo) socket.on('data', (chunk: Buffer) => socket.write(chunk));
  });
  const port = await listen(server);
  const target: Target = {
    port,
    accepted,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  cleanups.push(() => target.close());
  return target;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no TCP address');
  return address.port;
}

async function startProxy(links: FaultProxyLink[], random: () => number = () => 0.5, signal?: AbortSignal): Promise<FaultProxy> {
  const proxy = await FaultProxy.start(links, signal === undefined ? { random } : { random, signal });
  cleanups.push(() => proxy.close());
  return proxy;
}

/** Connects as master `from` to the proxy's listener for `to`. */
async function dial(proxy: FaultProxy, from: number, to: number): Promise<Collector> {
  const socket = createConnection({ ...proxy.address(from, to), noDelay: true });
  const collector = collect(socket);
  cleanups.push(async () => {
    socket.destroy();
    await collector.closed;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return collector;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Waits for the `index`th connection the target accepted. */
async function acceptedAt(target: Target, index: number): Promise<Collector> {
  await waitFor(() => target.accepted.length > index, `connection ${index} at the target`);
  const collector = target.accepted[index];
  if (collector === undefined) throw new Error('unreachable');
  return collector;
}

function direction(proxy: FaultProxy, from: number, to: number): { bytesForwarded: number; bytesSwallowed: number } {
  const found = proxy.stats().directions.find((d) => d.from === from && d.to === to);
  if (found === undefined) throw new Error(`no direction ${from}->${to}`);
  return found;
}

function linkStats(proxy: FaultProxy, from: number, to: number) {
  const found = proxy.stats().links.find((l) => l.from === from && l.to === to);
  if (found === undefined) throw new Error(`no link ${from}->${to}`);
  return found;
}

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((type) => type.startsWith('TCP')).length;
}

/** Like waitFor, for use under fake timeouts: yields with setImmediate, so I/O still runs. */
async function waitForImmediate(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Every server and socket of this file is closed: waits up to 2 s for their handles to go (one
 * turn of the event loop was not always enough on CI's loaded machine: 3 servers and a socket
 * were still listed once, with every test passed), so a leak still fails, and a slow close not.
 */
async function expectNoSocketsLeft(): Promise<void> {
  const tcp = () => process.getActiveResourcesInfo().filter((type) => type.startsWith('TCP'));
  const deadline = performance.now() + 2_000;
  while (tcp().length > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(tcp()).toEqual([]);
}

/** A port nothing listens on: the OS chose it, then it was freed. */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('forwarding', () => {
  it('passes a large transfer unchanged and in order both ways', async () => {
    const target = await startTarget(true);
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: target.port } }]);
    const client = await dial(proxy, 1, 2);
    const payload = randomBytes(8 << 20);
    client.socket.write(payload);
    await waitFor(() => client.bytes().length >= payload.length, 'the echo of 8 MiB');
    expect(client.bytes().equals(payload)).toBe(true);
    expect((await acceptedAt(target, 0)).bytes().equals(payload)).toBe(true);
    expect(direction(proxy, 1, 2)).toEqual({ from: 1, to: 2, bytesForwarded: payload.length, bytesSwallowed: 0 });
    expect(direction(proxy, 2, 1)).toEqual({ from: 2, to: 1, bytesForwarded: payload.length, bytesSwallowed: 0 });
    expect(proxy.stats()).toMatchObject({ connectionsAccepted: 1, connectionsOpen: 1, resets: 0 });
    expect(proxy.faults()).toEqual([]);
  });

  it('passes many small chunks in order, each way', async () => {
    const target = await startTarget(false);
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: target.port } }]);
    const client = await dial(proxy, 1, 2);
    const server = await acceptedAt(target, 0);
    const count = 5_000;
    const expected = Buffer.alloc(count * 4);
    for (let i = 0; i < count; i += 1) {
      expected.writeUInt32BE(i, i * 4);
      client.socket.write(expected.subarray(i * 4, i * 4 + 4));
      server.socket.write(expected.subarray(i * 4, i * 4 + 4));
    }
    await waitFor(() => server.bytes().length === expected.length && client.bytes().length === expected.length, 'every chunk both ways');
    expect(server.bytes().equals(expected)).toBe(true);
    expect(client.bytes().equals(expected)).toBe(true);
  });

  it('respects back-pressure through a delayed direction and still delivers everything in order', async () => {
    const target = await startTarget(true);
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: target.port } }]);
    const client = await dial(proxy, 1, 2);
    proxy.set(1, 2, { delayMs: 5 });
    const payload = randomBytes(4 << 20); // four times the per-direction queue bound
    client.socket.write(payload);
    await waitFor(() => client.bytes().length >= payload.length, 'the echo of 4 MiB');
    expect(client.bytes().equals(payload)).toBe(true);
  });
});

describe('blackhole', () => {
  it('swallows one direction only; the other still flows, and new connections are accepted', async () => {
    const target = await startTarget(false);
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: target.port } }]);
    const client = await dial(proxy, 1, 2);
    const server = await acceptedAt(target, 0);
    proxy.set(1, 2, { blackhole: true });
    expect(proxy.faults()).toEqual([{ from: 1, to: 2, blackhole: true, delayMs: 0, jitterMs: 0, resetProbability: 0 }]);

    client.socket.write('lost');
    await waitFor(() => direction(proxy, 1, 2).bytesSwallowed === 4, '4 bytes swallowed 1->2');
    server.socket.write('kept');
    await waitFor(() => client.bytes().toString() === 'kept', '2->1 to flow');
    expect(server.bytes().length).toBe(0);
    expect(direction(proxy, 1, 2).bytesForwarded).toBe(0);
    expect(client.isClosed()).toBe(false);

    await dial(proxy, 1, 2);
    await acceptedAt(target, 1);
    expect(proxy.stats()).toMatchObject({ connectionsAccepted: 2, connectionsOpen: 2 });
  });

  it('destroys, once lifted, the connections whose bytes it swallowed; the others and new ones work', async () => {
    const target = await startTarget(true);
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: target.port } }]);
    const corrupted = await dial(proxy, 1, 2);
    const intact = await dial(proxy, 1, 2);
    await acceptedAt(target, 1);
    proxy.set(1, 2, { blackhole: true });
    corrupted.socket.write('frame');
    await waitFor(() => direction(proxy, 1, 2).bytesSwallowed === 5, 'the frame to be swallowed');

    proxy.heal();
    await corrupted.closed;
    await target.accepted[0]?.closed;
    expect(linkStats(proxy, 1, 2)).toMatchObject({ healDestroys: 1, connectionsOpen: 1 });
    expect(proxy.faults()).toEqual([]);

    intact.socket.write('still');
    await waitFor(() => intact.bytes().toString() === 'still', 'the untouched connection to echo');
    const fresh = await dial(proxy, 1, 2);
    fresh.socket.write('fresh');
    await waitFor(() => fresh.bytes().toString() === 'fresh', 'a new connection to echo');
  });
});

describe('delay', () => {
  it('delays each chunk by at least delayMs plus its jitter', async () => {
    const target = await startTarget(true);
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: target.port } }], () => 0.5);
    const client = await dial(proxy, 1, 2);
    proxy.set(1, 2, { delayMs: 100, jitterMs: 100 }); // 100 + 0.5 * 100
    const startedMs = performance.now();
    client.socket.write('slow');
    await waitFor(() => client.bytes().toString() === 'slow', 'the delayed echo');
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(150);

    proxy.set(1, 2, {}); // lifted: the next chunk is not held back
    expect(proxy.faults()).toEqual([]);
    client.socket.write('fast');
    await waitFor(() => client.bytes().toString() === 'slowfast', 'the undelayed echo');
  });

  it('keeps order when jitter would let a later chunk overtake an earlier one', async () => {
    const draws = [0.99, 0, 0.5, 0.1, 0.9, 0.2];
    let drawn = 0;
    const random = (): number => draws[drawn++ % draws.length] ?? 0;
    const target = await startTarget(false);
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: target.port } }], random);
    const client = await dial(proxy, 1, 2);
    const server = await acceptedAt(target, 0);
    proxy.set(1, 2, { delayMs: 5, jitterMs: 40 });
    const expected = Buffer.alloc(40 * 4);
    for (let i = 0; i < 40; i += 1) {
      expected.writeUInt32BE(i, i * 4);
      client.socket.write(expected.subarray(i * 4, i * 4 + 4));
      await new Promise((resolve) => setTimeout(resolve, 1)); // separate chunks at the proxy
    }
    await waitFor(() => server.bytes().length === expected.length, 'every chunk');
    expect(server.bytes().equals(expected)).toBe(true);
    expect(drawn).toBeGreaterThan(5); // jitter really was drawn per chunk
  });
});

describe('reset', () => {
  it('resets the connection at the first chunk when resetProbability is 1', async () => {
    const target = await startTarget(true);
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: target.port } }], () => 0.999);
    const client = await dial(proxy, 1, 2);
    const server = await acceptedAt(target, 0);
    proxy.set(1, 2, { resetProbability: 1 });
    client.socket.write('boom');
    await client.closed;
    await server.closed;
    expect(server.bytes().length).toBe(0);
    expect(proxy.stats()).toMatchObject({ resets: 1, connectionsOpen: 0 });

    const next = await dial(proxy, 1, 2); // the dialler's redial is accepted as usual
    await acceptedAt(target, 1);
    expect(next.isClosed()).toBe(false);
  });

  it('never resets when resetProbability is 0, even if random() returns 0', async () => {
    let drawn = 0;
    const target = await startTarget(true);
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: target.port } }], () => (drawn++, 0));
    const client = await dial(proxy, 1, 2);
    proxy.set(1, 2, { resetProbability: 0 });
    proxy.set(2, 1, { resetProbability: 0 });
    for (let i = 0; i < 50; i += 1) {
      client.socket.write('x');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await waitFor(() => client.bytes().length === 50, 'every echo');
    expect(proxy.stats().resets).toBe(0);
    expect(drawn).toBe(0);
    expect(client.isClosed()).toBe(false);
  });
});

describe('partition', () => {
  it('partition([[1], [2, 3]]) blocks 1<->2 and 1<->3 but not 2<->3; heal reopens the way', async () => {
    const t2 = await startTarget(true);
    const t3 = await startTarget(true);
    const proxy = await startProxy([
      { from: 1, to: 2, target: { host: '127.0.0.1', port: t2.port } },
      { from: 1, to: 3, target: { host: '127.0.0.1', port: t3.port } },
      { from: 2, to: 3, target: { host: '127.0.0.1', port: t3.port } },
    ]);
    const c12 = await dial(proxy, 1, 2);
    const s12 = await acceptedAt(t2, 0);
    const c13 = await dial(proxy, 1, 3);
    const s13 = await acceptedAt(t3, 0);
    const c23 = await dial(proxy, 2, 3);
    await acceptedAt(t3, 1);

    proxy.partition([[1], [2, 3]]);
    expect(proxy.faults().map((f) => `${f.from}->${f.to}`)).toEqual(['1->2', '1->3', '2->1', '3->1']);
    for (const c of [c12, c13, c23]) c.socket.write('ping');
    for (const s of [s12, s13]) s.socket.write('hello');
    await waitFor(() => c23.bytes().toString() === 'ping', '2<->3 to echo');
    await waitFor(
      () => [[1, 2], [1, 3]].every(([a, b]) => direction(proxy, a!, b!).bytesSwallowed === 4 && direction(proxy, b!, a!).bytesSwallowed === 5),
      'both directions of 1<->2 and 1<->3 to swallow',
    );
    expect([c12.bytes().length, c13.bytes().length, s12.bytes().length, s13.bytes().length]).toEqual([0, 0, 0, 0]);
    expect(direction(proxy, 2, 3).bytesSwallowed + direction(proxy, 3, 2).bytesSwallowed).toBe(0);

    proxy.heal();
    await Promise.all([c12.closed, c13.closed]);
    expect(c23.isClosed()).toBe(false);
    expect(proxy.faults()).toEqual([]);
    const again = await dial(proxy, 1, 2);
    again.socket.write('back');
    await waitFor(() => again.bytes().toString() === 'back', '1<->2 to echo after heal');
  });

  it('isolate(id) blackholes every direction of that id and leaves the rest', async () => {
    const t = await startTarget(true);
    const target = { host: '127.0.0.1', port: t.port };
    const proxy = await startProxy([
      { from: 1, to: 2, target },
      { from: 1, to: 3, target },
      { from: 2, to: 3, target },
    ]);
    proxy.set(1, 3, { delayMs: 7 });
    proxy.isolate(2);
    expect(proxy.faults()).toEqual([
      { from: 1, to: 2, blackhole: true, delayMs: 0, jitterMs: 0, resetProbability: 0 },
      { from: 1, to: 3, blackhole: false, delayMs: 7, jitterMs: 0, resetProbability: 0 },
      { from: 2, to: 1, blackhole: true, delayMs: 0, jitterMs: 0, resetProbability: 0 },
      { from: 2, to: 3, blackhole: true, delayMs: 0, jitterMs: 0, resetProbability: 0 },
      { from: 3, to: 2, blackhole: true, delayMs: 0, jitterMs: 0, resetProbability: 0 },
    ]);
    // partition keeps delays and resets; it only moves blackholes.
    proxy.partition([[1, 2, 3]]);
    expect(proxy.faults()).toEqual([{ from: 1, to: 3, blackhole: false, delayMs: 7, jitterMs: 0, resetProbability: 0 }]);
  });

  it('rejects groups with an unknown, repeated or missing id', async () => {
    const t = await startTarget(true);
    const target = { host: '127.0.0.1', port: t.port };
    const proxy = await startProxy([
      { from: 1, to: 2, target },
      { from: 2, to: 3, target },
    ]);
    expect(() => proxy.partition([[1], [2, 3, 4]])).toThrow(expect.objectContaining({ code: FaultProxyErrorCode.InvalidPartition, message: expect.stringContaining('id 4 is on no link') }));
    expect(() => proxy.partition([[1, 2], [2, 3]])).toThrow(/id 2 is in two groups/);
    expect(() => proxy.partition([[1], [2]])).toThrow(/ids 3 are in no group/);
    expect(() => proxy.isolate(9)).toThrow(expect.objectContaining({ code: FaultProxyErrorCode.UnknownLink }));
    expect(proxy.faults()).toEqual([]); // nothing half-applied
  });
});

describe('target down', () => {
  it('destroys the client socket when the target refuses', async () => {
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: await freePort() } }]);
    const client = await dial(proxy, 1, 2);
    await client.closed;
    expect(linkStats(proxy, 1, 2)).toMatchObject({ connectionsAccepted: 1, connectionsRefused: 1, connectionsOpen: 0 });
  });
});

describe('close', () => {
  it('stops listening, destroys every socket and clears pending delay timers', async () => {
    const target = await startTarget(true);
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: target.port } }]);
    const { port } = proxy.address(1, 2);
    const client = await dial(proxy, 1, 2);
    const server = await acceptedAt(target, 0);
    // Only timeouts are faked, so vi.getTimerCount() counts exactly the proxy's delay timers;
    // sockets and setImmediate stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      proxy.set(1, 2, { delayMs: 30_000 });
      client.socket.write('held');
      await waitForImmediate(() => vi.getTimerCount() === 1, 'the delay timer');
      await proxy.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    await Promise.all([client.closed, server.closed]);
    expect(server.bytes().length).toBe(0); // the held chunk died with the proxy
    expect(proxy.stats().connectionsOpen).toBe(0);
    await expect(proxy.close()).resolves.toBeUndefined(); // idempotent
    expect(() => proxy.set(1, 2, {})).toThrow(expect.objectContaining({ code: FaultProxyErrorCode.Closed }));
    const refused = createConnection({ host: '127.0.0.1', port });
    await expect(new Promise((_, reject) => refused.once('error', reject))).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await target.close();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(tcpHandles()).toBe(0);
  });

  it('closes when its signal aborts, and refuses to start on an aborted signal', async () => {
    const target = await startTarget(true);
    const links = [{ from: 1, to: 2, target: { host: '127.0.0.1', port: target.port } }];
    const reason = new Error('chaos run over');
    await expect(FaultProxy.start(links, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);

    const controller = new AbortController();
    const proxy = await startProxy(links, Math.random, controller.signal);
    const client = await dial(proxy, 1, 2);
    controller.abort(reason);
    await client.closed;
    await proxy.close(); // the same shutdown the abort started
    expect(() => proxy.heal()).toThrow(/closed/);
  });
});

describe('bad input', () => {
  it('rejects bad links and options by name', async () => {
    const target = { host: '127.0.0.1', port: 1 };
    await expect(FaultProxy.start([])).rejects.toThrow(/links must be a non-empty array/);
    await expect(FaultProxy.start([{ from: 1, to: 1, target }])).rejects.toThrow(/links\[0\] links 1 to itself/);
    await expect(FaultProxy.start([{ from: 1, to: 2, target }, { from: 2, to: 1, target }])).rejects.toThrow(/links\[1\] a second link between 2 and 1/);
    await expect(FaultProxy.start([{ from: 1, to: 2, target: { host: '127.0.0.1', port: 0 } }])).rejects.toThrow(/links\[0\]\.target\.port/);
    await expect(FaultProxy.start([{ from: 1, to: 2, target }], { host: '' })).rejects.toMatchObject({ code: FaultProxyErrorCode.InvalidOption });
  });

  it('rejects an unknown link, a probability outside [0, 1] and a negative delay, naming them', async () => {
    const t = await startTarget(true);
    const proxy = await startProxy([{ from: 1, to: 2, target: { host: '127.0.0.1', port: t.port } }]);
    expect(() => proxy.set(1, 3, {})).toThrow(expect.objectContaining({ code: FaultProxyErrorCode.UnknownLink, message: expect.stringContaining('no link carries 1->3') }));
    expect(() => proxy.address(2, 1)).toThrow(/no link where 2 dials 1/);
    expect(() => proxy.set(1, 2, { resetProbability: 1.5 })).toThrow(/fault for 1->2: resetProbability must be a number in \[0, 1\], got 1\.5/);
    expect(() => proxy.set(2, 1, { resetProbability: -0.1 })).toThrow(/resetProbability/);
    expect(() => proxy.set(1, 2, { resetProbability: Number.NaN })).toThrow(/resetProbability/);
    expect(() => proxy.set(1, 2, { delayMs: -1 })).toThrow(expect.objectContaining({ code: FaultProxyErrorCode.InvalidFault, message: expect.stringContaining('delayMs must be') }));
    expect(() => proxy.set(1, 2, { jitterMs: -5 })).toThrow(/jitterMs must be/);
    expect(() => proxy.set(1, 2, { delay: 5 } as never)).toThrow(/unknown key delay/);
    expect(proxy.faults()).toEqual([]);
  });
});
