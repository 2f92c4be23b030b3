// What the transport's tests share: messages of every kind, a logger that records, a way to
// wait on a condition with a deadline, and clusters of transports on 127.0.0.1 with OS-chosen ports.

import { expect } from 'vitest';
import { EntryType, MessageType, makeMessage, type Entry, type Message, type MessageType as MessageTypeValue } from '@raftplane/raft';
import { Transport, type PeerAddress, type TransportOptions } from '../../src/index.js';

export const HOST = '127.0.0.1';
export const SECRET = 'test-cluster-shared-secret';
export const CLUSTER = 'test-cluster';

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly msg: string;
}

export interface CapturingLogger {
  readonly lines: LogLine[];
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
  /** Lines with this error code. */
  withCode(code: string): LogLine[];
}

export function capturingLogger(): CapturingLogger {
  const lines: LogLine[] = [];
  const record = (level: LogLine['level']) => (fields: object, msg: string) => {
    lines.push({ level, fields: fields as Record<string, unknown>, msg });
  };
  return {
    lines,
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    withCode: (code) => lines.filter((l) => l.fields['code'] === code),
  };
}

/** A seeded generator in [0, 1) (mulberry32), for the backoff's jitter. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Resolves once `condition()` is true, checking after every turn of I/O (at most every 2 ms);
 * rejects after `timeoutMs` naming `what`. Waiting on a condition, never a fixed sleep.
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const encoder = new TextEncoder();

export function entry(index: number, term: number, data: Uint8Array | string = `e${index}`): Entry {
  return { term, index, type: EntryType.Normal, data: typeof data === 'string' ? encoder.encode(data) : data };
}

export function heartbeat(from: number, to: number, commit: number, context: Uint8Array | null = null): Message {
  return makeMessage({ type: MessageType.Heartbeat, to, commit, context }, from, 3);
}

export function append(from: number, to: number, index: number, entries: readonly Entry[]): Message {
  return makeMessage({ type: MessageType.App, to, index, logTerm: 3, entries, commit: index }, from, 3);
}

/** Chunk `[offset, offset + data.length)` of a snapshot of `totalBytes` at (index 100, term 3). */
export function snapChunk(from: number, to: number, offset: number, totalBytes: number, data: Uint8Array): Message {
  const snapshot = { metadata: { index: 100, term: 3, confState: { voters: [1, 2, 3] } }, offset, totalBytes, data };
  return makeMessage({ type: MessageType.Snap, to, snapshot }, from, 3);
}

export function messageOf(type: MessageTypeValue, from: number, to: number): Message {
  return makeMessage({ type, to }, from, 1);
}

export interface Node {
  readonly id: number;
  readonly transport: Transport;
  readonly inbox: Message[];
  /** How many times onMessages was called. */
  deliveries: number;
  readonly unreachable: number[];
  readonly logger: CapturingLogger;
  readonly abort: AbortController;
  readonly address: PeerAddress;
}

export type Overrides = Partial<Omit<TransportOptions, 'self' | 'peers' | 'onMessages' | 'onUnreachable' | 'logger' | 'signal'>>;

export function baseOptions(overrides: Overrides = {}): Omit<TransportOptions, 'self' | 'peers' | 'onMessages' | 'onUnreachable' | 'logger' | 'signal'> {
  return {
    clusterName: CLUSTER,
    secret: SECRET,
    queueBytesMax: 64 * 1024 * 1024,
    frameBytesMax: 16 * 1024 * 1024,
    reconnectDelayMsMin: 10,
    reconnectDelayMsMax: 200,
    idleTimeoutMs: 5_000,
    random: seededRandom(7),
    ...overrides,
  };
}

/**
 * Starts one node that records what it receives (and passes it to `react`, which may answer);
 * `port` 0 lets the OS choose.
 */
export type React = (transport: Transport, messages: readonly Message[]) => void;

export async function startNode(id: number, port: number, peers: readonly PeerAddress[], overrides: Overrides = {}, react?: React): Promise<Node> {
  const inbox: Message[] = [];
  const unreachable: number[] = [];
  const logger = capturingLogger();
  const abort = new AbortController();
  const node: { deliveries: number } = { deliveries: 0 };
  // onMessages refers to the transport, which exists by the time any message can arrive.
  let transport: Transport | null = null;
  transport = await Transport.start({
    ...baseOptions(overrides),
    self: { id, host: HOST, port },
    peers,
    onMessages: (messages) => {
      node.deliveries++;
      for (const m of messages) inbox.push(m);
      if (react !== undefined && transport !== null) react(transport, messages);
    },
    onUnreachable: (peer) => unreachable.push(peer),
    logger,
    signal: abort.signal,
  });
  return Object.assign(node, { id, transport, inbox, unreachable, logger, abort, address: { id, host: HOST, port: transport.port } });
}

/**
 * Starts nodes 1..n, highest id first: each node dials only higher ids, whose OS-chosen ports
 * are known by then; lower ids are never dialled, so their port in the list is 0.
 */
export async function startCluster(n: number, overrides: Overrides = {}, reactOf?: (id: number) => React): Promise<Node[]> {
  const nodes: Node[] = [];
  const ports = new Map<number, number>();
  for (let id = n; id >= 1; id--) {
    const peers: PeerAddress[] = [];
    for (let p = 1; p <= n; p++) if (p !== id) peers.push({ id: p, host: HOST, port: ports.get(p) ?? 0 });
    const node = await startNode(id, 0, peers, overrides, reactOf?.(id));
    ports.set(id, node.transport.port);
    nodes.unshift(node);
  }
  return nodes;
}

export function peersOf(nodes: readonly Node[], id: number): PeerAddress[] {
  return nodes.filter((n) => n.id !== id).map((n) => n.address);
}

export async function waitConnected(nodes: readonly Node[]): Promise<void> {
  await waitFor(() => nodes.every((n) => [...n.transport.status().values()].every((s) => s.connected)), 'every node connected to every peer');
}

export async function closeAll(nodes: readonly Node[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.transport.close()));
}

/** Resources that would keep the process alive, by type (sockets, servers, timers, immediates). */
export function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/**
 * Asserts that no socket, server or pending connect is left, once libuv's close phase has run
 * (a zero timer comes after it). Every network test file runs it after its last test.
 */
export async function expectNoSocketsLeft(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  const all = activeHandles();
  expect({ TCPSocketWrap: all['TCPSocketWrap'] ?? 0, TCPServerWrap: all['TCPServerWrap'] ?? 0, TCPConnectWrap: all['TCPConnectWrap'] ?? 0 }).toEqual({
    TCPSocketWrap: 0,
    TCPServerWrap: 0,
    TCPConnectWrap: 0,
  });
}
