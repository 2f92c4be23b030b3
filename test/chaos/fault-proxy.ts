// A fault-injecting TCP proxy for chaos tests: one loopback listener per ordered pair of masters,
// forwarding both directions of each connection while it swallows, delays or resets them.
//
// Modelled on Shopify's toxiproxy (a listener per upstream, faults per direction, changed at any
// time). Peers share one persistent, length-prefixed TCP connection per pair (the lower id dials
// the higher), so bytes cannot be dropped selectively without corrupting the stream: faults act
// on whole directions or whole connections. For a link (from, to), the client→server direction
// carries from→to traffic and server→client carries to→from.

import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export const FaultProxyErrorCode = {
  /** An option or a link given to `FaultProxy.start` is missing, of the wrong type or out of range. */
  InvalidOption: 'FAULT_PROXY_INVALID_OPTION',
  /** No link carries traffic between the two ids named. */
  UnknownLink: 'FAULT_PROXY_UNKNOWN_LINK',
  /** A fault has an unknown key or a value out of range. */
  InvalidFault: 'FAULT_PROXY_INVALID_FAULT',
  /** Partition groups name an unknown id, name an id twice or leave one out. */
  InvalidPartition: 'FAULT_PROXY_INVALID_PARTITION',
  /** A listener could not be opened. */
  ListenFailed: 'FAULT_PROXY_LISTEN_FAILED',
  /** The proxy was closed (or its signal aborted) and cannot change faults any more. */
  Closed: 'FAULT_PROXY_CLOSED',
} as const;
export type FaultProxyErrorCode = (typeof FaultProxyErrorCode)[keyof typeof FaultProxyErrorCode];

export class FaultProxyError extends Error {
  override readonly name = 'FaultProxyError';
  readonly code: FaultProxyErrorCode;

  constructor(code: FaultProxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export interface FaultProxyTarget {
  readonly host: string;
  readonly port: number;
}

/** Master `from` dials the proxy to reach master `to`, whose peer port is `target`. */
export interface FaultProxyLink {
  readonly from: number;
  readonly to: number;
  readonly target: FaultProxyTarget;
}

export interface FaultProxyOptions {
  /** Address to listen on; 127.0.0.1 unless given. */
  readonly host?: string;
  /** Aborting closes the proxy, as `close()` does. */
  readonly signal?: AbortSignal;
  /** Uniform in [0, 1); drives jitter and resets. `Math.random` unless given (pass a seeded one). */
  readonly random?: () => number;
}

/** The fault of one direction. An absent field means no such fault. */
export interface Fault {
  /** Swallow every byte (and FIN) in this direction; connections are still accepted. */
  readonly blackhole?: boolean;
  /** Forward each chunk this long after it arrived (order within a connection is kept). */
  readonly delayMs?: number;
  /** Plus a uniform random extra delay in [0, jitterMs). */
  readonly jitterMs?: number;
  /** Each chunk, with this probability, resets the whole connection (both sides get an RST). */
  readonly resetProbability?: number;
}

export interface DirectionFault {
  readonly from: number;
  readonly to: number;
  readonly blackhole: boolean;
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly resetProbability: number;
}

export interface DirectionStats {
  readonly from: number;
  readonly to: number;
  /** Bytes written on to the receiving side. */
  readonly bytesForwarded: number;
  /** Bytes lost to a blackhole. */
  readonly bytesSwallowed: number;
}

export interface LinkStats {
  readonly from: number;
  readonly to: number;
  readonly connectionsAccepted: number;
  readonly connectionsOpen: number;
  /** Connections ended because the target refused or failed before connecting. */
  readonly connectionsRefused: number;
  /** Connections reset by `resetProbability`. */
  readonly resets: number;
  /** Connections destroyed when a blackhole that had swallowed their bytes was lifted. */
  readonly healDestroys: number;
}

export interface FaultProxyStats {
  readonly connectionsAccepted: number;
  readonly connectionsOpen: number;
  readonly resets: number;
  readonly links: readonly LinkStats[];
  readonly directions: readonly DirectionStats[];
}

// Bytes waiting in one direction's delay queue before its source is paused: back-pressure keeps
// a slow (delayed) direction from buffering without limit (house rule 2). 1 MiB is several
// snapshot chunks and far above what heartbeats and appends keep in flight per delay.
const pipeQueuedBytesMax = 1 << 20;
// Timers hold at most ~24.8 days; a chaos delay above a minute is a mistake, not a fault.
const faultDelayMsMax = 60_000;
const faultKeys: ReadonlySet<string> = new Set(['blackhole', 'delayMs', 'jitterMs', 'resetProbability']);

interface Direction {
  readonly from: number;
  readonly to: number;
  fault: Required<Fault>;
  bytesForwarded: number;
  bytesSwallowed: number;
}

interface Link {
  readonly from: number;
  readonly to: number;
  readonly target: FaultProxyTarget;
  readonly server: Server;
  port: number;
  /** from→to, carried client→server. */
  readonly up: Direction;
  /** to→from, carried server→client. */
  readonly down: Direction;
  readonly connections: Set<Connection>;
  connectionsAccepted: number;
  connectionsRefused: number;
  resets: number;
  healDestroys: number;
}

const noFault: Required<Fault> = Object.freeze({ blackhole: false, delayMs: 0, jitterMs: 0, resetProbability: 0 });

export class FaultProxy {
  readonly #host: string;
  readonly #random: () => number;
  readonly #signal: AbortSignal | undefined;
  readonly #links: Link[];
  /** Every socket, accepted or dialled, until its 'close': `close()` waits for all of them. */
  readonly #sockets = new Set<Socket>();
  readonly #onAbort = (): void => void this.close();
  #closing: Promise<void> | null = null;

  private constructor(host: string, random: () => number, signal: AbortSignal | undefined, links: readonly FaultProxyLink[]) {
    this.#host = host;
    this.#random = random;
    this.#signal = signal;
    this.#links = links.map((l) => this.#makeLink(l));
  }

  /** Opens one listener per link on a free port of `host`. Rejects with the signal's reason if aborted. */
  static async start(links: readonly FaultProxyLink[], options: FaultProxyOptions = {}): Promise<FaultProxy> {
    validateLinks(links);
    const host = options.host ?? '127.0.0.1';
    if (typeof host !== 'string' || host === '') throw invalidOption('host', `must be a non-empty string, got ${String(host)}`);
    const random = options.random ?? Math.random;
    if (typeof random !== 'function') throw invalidOption('random', 'must be a function returning a number in [0, 1)');
    const signal = options.signal;
    signal?.throwIfAborted();
    const proxy = new FaultProxy(host, random, signal, links);
    try {
      await Promise.all(proxy.#links.map((link) => proxy.#listen(link)));
    } catch (error) {
      await proxy.close();
      throw error;
    }
    if (signal !== undefined) {
      if (signal.aborted) {
        await proxy.close();
        throw signal.reason;
      }
      signal.addEventListener('abort', proxy.#onAbort, { once: true });
    }
    return proxy;
  }

  /** Where master `from` dials to reach master `to` (only the dialling direction of a link listens). */
  address(from: number, to: number): { host: string; port: number } {
    const link = this.#links.find((l) => l.from === from && l.to === to);
    if (link === undefined) throw new FaultProxyError(FaultProxyErrorCode.UnknownLink, `no link where ${from} dials ${to}; links: ${this.#linkNames()}`);
    return { host: this.#host, port: link.port };
  }

  /**
   * Replaces the fault of the direction from→to (absent fields mean none). Applies at once to new
   * and open connections. Lifting a blackhole destroys the connections whose bytes it swallowed.
   */
  set(from: number, to: number, fault: Fault): void {
    this.#assertOpen();
    const direction = this.#direction(from, to);
    this.#apply(direction, normalizeFault(fault, `${from}->${to}`));
  }

  /**
   * Blackholes both directions between ids in different groups and lifts the blackholes between
   * ids in the same group; delays and resets are left as they are. Every id must be in exactly
   * one group.
   */
  partition(groups: readonly (readonly number[])[]): void {
    this.#assertOpen();
    const groupOf = this.#validatePartition(groups);
    for (const link of this.#links) {
      const apart = groupOf.get(link.from) !== groupOf.get(link.to);
      for (const direction of [link.up, link.down]) this.#apply(direction, { ...direction.fault, blackhole: apart });
    }
  }

  /** Blackholes every direction to and from `id`; other directions are left as they are. */
  isolate(id: number): void {
    this.#assertOpen();
    if (!this.#ids().includes(id)) throw new FaultProxyError(FaultProxyErrorCode.UnknownLink, `id ${id} is on no link; links: ${this.#linkNames()}`);
    for (const link of this.#links) {
      if (link.from !== id && link.to !== id) continue;
      for (const direction of [link.up, link.down]) this.#apply(direction, { ...direction.fault, blackhole: true });
    }
  }

  /** Clears every fault of every direction (connections that lost bytes are destroyed). */
  heal(): void {
    this.#assertOpen();
    for (const link of this.#links) for (const direction of [link.up, link.down]) this.#apply(direction, noFault);
  }

  /** The directions that have a fault, sorted by (from, to); empty when all is healthy. */
  faults(): DirectionFault[] {
    return this.#directions()
      .filter((d) => d.fault.blackhole || d.fault.delayMs > 0 || d.fault.jitterMs > 0 || d.fault.resetProbability > 0)
      .map((d) => ({ from: d.from, to: d.to, ...d.fault }));
  }

  stats(): FaultProxyStats {
    const links = this.#links.map((l) => ({
      from: l.from,
      to: l.to,
      connectionsAccepted: l.connectionsAccepted,
      connectionsOpen: l.connections.size,
      connectionsRefused: l.connectionsRefused,
      resets: l.resets,
      healDestroys: l.healDestroys,
    }));
    return {
      connectionsAccepted: sum(links.map((l) => l.connectionsAccepted)),
      connectionsOpen: sum(links.map((l) => l.connectionsOpen)),
      resets: sum(links.map((l) => l.resets)),
      links,
      directions: this.#directions().map((d) => ({ from: d.from, to: d.to, bytesForwarded: d.bytesForwarded, bytesSwallowed: d.bytesSwallowed })),
    };
  }

  /**
   * Stops listening, destroys every socket and clears every timer; resolves once every server and
   * socket has emitted 'close'. Safe to call more than once (the same promise is returned).
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#signal?.removeEventListener('abort', this.#onAbort);
    const serversClosed = this.#links.map(
      (link) => new Promise<void>((resolve) => (link.server.listening ? link.server.close(() => resolve()) : resolve())),
    );
    for (const link of this.#links) for (const connection of [...link.connections]) connection.destroy('close');
    const socketsClosed = [...this.#sockets].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all([...serversClosed, ...socketsClosed]);
    assert.equal(this.#sockets.size, 0, `${this.#sockets.size} sockets left open after close`);
  }

  #makeLink(l: FaultProxyLink): Link {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    const link: Link = {
      from: l.from,
      to: l.to,
      target: { host: l.target.host, port: l.target.port },
      server,
      port: 0,
      up: { from: l.from, to: l.to, fault: noFault, bytesForwarded: 0, bytesSwallowed: 0 },
      down: { from: l.to, to: l.from, fault: noFault, bytesForwarded: 0, bytesSwallowed: 0 },
      connections: new Set(),
      connectionsAccepted: 0,
      connectionsRefused: 0,
      resets: 0,
      healDestroys: 0,
    };
    server.on('connection', (client) => this.#accept(link, client));
    return link;
  }

  #listen(link: Link): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new FaultProxyError(FaultProxyErrorCode.ListenFailed, `cannot listen on ${this.#host} for link ${link.from}->${link.to}: ${error.message}`, { cause: error }));
      };
      link.server.once('error', onError);
      link.server.listen({ host: this.#host, port: 0 }, () => {
        link.server.removeListener('error', onError);
        const address = link.server.address();
        assert(address !== null && typeof address === 'object', `link ${link.from}->${link.to} listens on no TCP address`);
        link.port = address.port;
        resolve();
      });
    });
  }

  #accept(link: Link, client: Socket): void {
    this.#track(client);
    if (this.#closing !== null) {
      client.destroy();
      return;
    }
    link.connectionsAccepted += 1;
    const upstream = createConnection({ host: link.target.host, port: link.target.port, allowHalfOpen: true, noDelay: true });
    this.#track(upstream);
    link.connections.add(new Connection(link, client, upstream, this.#random));
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #apply(direction: Direction, fault: Required<Fault>): void {
    const lifted = direction.fault.blackhole && !fault.blackhole;
    direction.fault = Object.freeze({ ...fault });
    if (!lifted) return;
    // The swallowed bytes left the stream mid-frame: the connection can never resynchronise, so
    // end it and let the dialler redial a clean one.
    const link = this.#links.find((l) => l.up === direction || l.down === direction);
    assert(link !== undefined, `direction ${direction.from}->${direction.to} belongs to no link`);
    for (const connection of [...link.connections]) {
      if (!connection.lost(direction)) continue;
      link.healDestroys += 1;
      connection.destroy('heal');
    }
  }

  #direction(from: number, to: number): Direction {
    for (const link of this.#links) {
      if (link.up.from === from && link.up.to === to) return link.up;
      if (link.down.from === from && link.down.to === to) return link.down;
    }
    throw new FaultProxyError(FaultProxyErrorCode.UnknownLink, `no link carries ${from}->${to}; links: ${this.#linkNames()}`);
  }

  #directions(): Direction[] {
    return this.#links.flatMap((l) => [l.up, l.down]).sort((a, b) => a.from - b.from || a.to - b.to);
  }

  #ids(): number[] {
    return [...new Set(this.#links.flatMap((l) => [l.from, l.to]))].sort((a, b) => a - b);
  }

  #linkNames(): string {
    return this.#links.map((l) => `${l.from}->${l.to}`).join(', ');
  }

  #validatePartition(groups: readonly (readonly number[])[]): Map<number, number> {
    const fail = (why: string): never => {
      throw new FaultProxyError(FaultProxyErrorCode.InvalidPartition, `partition ${JSON.stringify(groups)}: ${why}`);
    };
    if (!Array.isArray(groups)) fail('must be an array of arrays of ids');
    const ids = this.#ids();
    const groupOf = new Map<number, number>();
    groups.forEach((group, index) => {
      if (!Array.isArray(group)) fail(`group ${index} is not an array`);
      for (const id of group) {
        if (!ids.includes(id)) fail(`id ${id} is on no link (ids: ${ids.join(', ')})`);
        if (groupOf.has(id)) fail(`id ${id} is in two groups`);
        groupOf.set(id, index);
      }
    });
    const missing = ids.filter((id) => !groupOf.has(id));
    if (missing.length > 0) fail(`ids ${missing.join(', ')} are in no group`);
    return groupOf;
  }

  #assertOpen(): void {
    if (this.#closing !== null) throw new FaultProxyError(FaultProxyErrorCode.Closed, 'the fault proxy is closed');
  }
}

/** One proxied connection: the accepted client socket, the socket dialled to the target, and a pipe each way. */
class Connection {
  #destroyed = false;
  readonly #link: Link;
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #pipes: readonly [Pipe, Pipe];

  constructor(link: Link, client: Socket, upstream: Socket, random: () => number) {
    this.#link = link;
    this.#client = client;
    this.#upstream = upstream;
    this.#pipes = [new Pipe(this, link.up, client, upstream, random), new Pipe(this, link.down, upstream, client, random)];
    // Errors end the pair; 'close' follows and is where the other side learns of it.
    let connected = false;
    client.on('error', () => this.destroy('error'));
    upstream.on('error', () => {
      // The target refused or vanished before the connection existed: the dialler sees its
      // connection to the proxy break and retries with its own backoff.
      if (!connected && !this.#destroyed) link.connectionsRefused += 1;
      this.destroy('error');
    });
    client.once('close', () => this.destroy('close'));
    upstream.once('close', () => this.destroy('close'));
    upstream.once('connect', () => {
      connected = true;
      if (this.#destroyed) return;
      for (const pipe of this.#pipes) pipe.start();
    });
  }

  lost(direction: Direction): boolean {
    return this.#pipes.some((p) => p.direction === direction && p.lostBytes);
  }

  /** 'reset' sends an RST both ways (a dropped TCP connection); anything else closes both sockets. */
  destroy(why: 'reset' | 'heal' | 'error' | 'close'): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (why === 'reset') this.#link.resets += 1;
    this.#link.connections.delete(this);
    for (const pipe of this.#pipes) pipe.stop();
    for (const socket of [this.#client, this.#upstream]) {
      if (why === 'reset' && !socket.destroyed && !socket.connecting) socket.resetAndDestroy();
      else socket.destroy();
    }
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }
}

interface Queued {
  /** null is the source's FIN, forwarded after the bytes before it. */
  readonly chunk: Buffer | null;
  readonly dueMs: number;
}

/** One direction of a connection: reads from `source`, applies the direction's fault, writes to `sink`. */
class Pipe {
  readonly direction: Direction;
  /** Set once the blackhole swallowed a byte or the FIN: the stream is corrupt from then on. */
  lostBytes = false;
  readonly #connection: Connection;
  readonly #source: Socket;
  readonly #sink: Socket;
  readonly #random: () => number;
  /** Chunks waiting for their delay, in arrival order; dueMs never decreases along it. */
  #queue: Queued[] = [];
  #queueHead = 0;
  /** Sum of the queued chunks' lengths; the source is paused above `pipeQueuedBytesMax`. */
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(connection: Connection, direction: Direction, source: Socket, sink: Socket, random: () => number) {
    this.#connection = connection;
    this.direction = direction;
    this.#source = source;
    this.#sink = sink;
    this.#random = random;
  }

  start(): void {
    this.#source.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#source.on('end', () => this.#onEnd());
    this.#sink.on('drain', () => this.#maybeResume());
    this.#source.resume();
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedBytes = 0;
  }

  #onData(chunk: Buffer): void {
    if (this.#connection.destroyed) return;
    const fault = this.direction.fault;
    if (fault.blackhole) {
      this.direction.bytesSwallowed += chunk.length;
      this.lostBytes = true;
      return;
    }
    if (fault.resetProbability > 0 && this.#draw() < fault.resetProbability) {
      this.#connection.destroy('reset');
      return;
    }
    const delayMs = fault.delayMs + (fault.jitterMs > 0 ? this.#draw() * fault.jitterMs : 0);
    if (delayMs === 0 && this.#queueHead === this.#queue.length) this.#write(chunk);
    else this.#enqueue(chunk, delayMs);
  }

  #onEnd(): void {
    if (this.#connection.destroyed) return;
    if (this.direction.fault.blackhole) {
      this.lostBytes = true;
      return;
    }
    if (this.direction.fault.delayMs === 0 && this.#queueHead === this.#queue.length) this.#sink.end();
    else this.#enqueue(null, this.direction.fault.delayMs);
  }

  #enqueue(chunk: Buffer | null, delayMs: number): void {
    const tail = this.#queue[this.#queue.length - 1];
    // Order within a connection is kept: a chunk never overtakes the one before it.
    const dueMs = Math.max(performance.now() + delayMs, this.#queueHead < this.#queue.length && tail !== undefined ? tail.dueMs : 0);
    this.#queue.push({ chunk, dueMs });
    this.#queuedBytes += chunk?.length ?? 0;
    if (this.#queuedBytes > pipeQueuedBytesMax) this.#source.pause();
    if (this.#timer === null) this.#arm();
  }

  #arm(): void {
    const head = this.#queue[this.#queueHead];
    assert(head !== undefined, 'arming a timer for an empty queue');
    this.#timer = setTimeout(() => this.#flush(), Math.max(1, Math.ceil(head.dueMs - performance.now())));
  }

  #flush(): void {
    this.#timer = null;
    const nowMs = performance.now();
    for (let head = this.#queue[this.#queueHead]; head !== undefined && head.dueMs <= nowMs; head = this.#queue[this.#queueHead]) {
      this.#queueHead += 1;
      if (head.chunk === null) this.#sink.end();
      else {
        this.#queuedBytes -= head.chunk.length;
        this.#write(head.chunk);
      }
    }
    assert(this.#queuedBytes >= 0, `queuedBytes ${this.#queuedBytes} below 0`);
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    } else {
      this.#arm();
    }
    this.#maybeResume();
  }

  #write(chunk: Buffer): void {
    if (this.#connection.destroyed || this.#sink.writableEnded) return;
    this.direction.bytesForwarded += chunk.length;
    if (!this.#sink.write(chunk)) this.#source.pause();
  }

  #maybeResume(): void {
    if (this.#connection.destroyed || this.#sink.writableNeedDrain || this.#queuedBytes > pipeQueuedBytesMax) return;
    if (this.#source.isPaused()) this.#source.resume();
  }

  #draw(): number {
    const value = this.#random();
    assert(value >= 0 && value < 1, `random() returned ${value}, outside [0, 1)`);
    return value;
  }
}

function validateLinks(links: readonly FaultProxyLink[]): void {
  if (!Array.isArray(links) || links.length === 0) throw invalidOption('links', 'must be a non-empty array');
  const seen = new Set<string>();
  links.forEach((link, i) => {
    const at = `links[${i}]`;
    if (!Number.isSafeInteger(link.from)) throw invalidOption(`${at}.from`, `must be an integer id, got ${String(link.from)}`);
    if (!Number.isSafeInteger(link.to)) throw invalidOption(`${at}.to`, `must be an integer id, got ${String(link.to)}`);
    if (link.from === link.to) throw invalidOption(at, `links ${link.from} to itself`);
    const pair = `${Math.min(link.from, link.to)}-${Math.max(link.from, link.to)}`;
    // Two links for one pair would make "the direction from→to" ambiguous.
    if (seen.has(pair)) throw invalidOption(at, `a second link between ${link.from} and ${link.to}`);
    seen.add(pair);
    if (typeof link.target?.host !== 'string' || link.target.host === '') throw invalidOption(`${at}.target.host`, 'must be a non-empty string');
    const port = link.target.port;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw invalidOption(`${at}.target.port`, `must be an integer in [1, 65535], got ${String(port)}`);
  });
}

function normalizeFault(fault: Fault, where: string): Required<Fault> {
  const fail = (why: string): never => {
    throw new FaultProxyError(FaultProxyErrorCode.InvalidFault, `fault for ${where}: ${why}`);
  };
  if (typeof fault !== 'object' || fault === null) fail('must be an object');
  for (const key of Object.keys(fault)) if (!faultKeys.has(key)) fail(`unknown key ${key} (known: ${[...faultKeys].join(', ')})`);
  const { blackhole = false, delayMs = 0, jitterMs = 0, resetProbability = 0 } = fault;
  if (typeof blackhole !== 'boolean') fail(`blackhole must be a boolean, got ${String(blackhole)}`);
  for (const [name, value] of [['delayMs', delayMs], ['jitterMs', jitterMs]] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > faultDelayMsMax) {
      fail(`${name} must be a number in [0, ${faultDelayMsMax}], got ${String(value)}`);
    }
  }
  if (typeof resetProbability !== 'number' || !(resetProbability >= 0 && resetProbability <= 1)) {
    fail(`resetProbability must be a number in [0, 1], got ${String(resetProbability)}`);
  }
  return { blackhole, delayMs, jitterMs, resetProbability };
}

function invalidOption(option: string, why: string): FaultProxyError {
  return new FaultProxyError(FaultProxyErrorCode.InvalidOption, `FaultProxy option ${option} ${why}`);
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
