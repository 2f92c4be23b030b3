// Benchmark: Raft messages per second and MB/s between two endpoints on loopback, for the
// decision "TCP with length-prefixed msgpackr frames, or ws binary frames" (issue 3).
// Usage: npm run bench:transport [-- --seconds 1 --warmup-seconds 0.3 --rounds 3
//          --scenarios heartbeat,app,snapshot --variants transport,tcp,ws]
//
// Three variants, all with the same codec (encodeMessagesFrame, then decodeFrameBody and
// decodeMessages with full validation on the receiver) and the same batching (one frame per
// turn, sent while less than a window is buffered):
//   transport  the package as shipped: authenticated TCP, per-turn flush, BulkAck for snapshots;
//   tcp        a bare socket with 4-byte length prefixes and the FrameDecoder;
//   ws         the `ws` library, binary messages from client to server (masked, as the dialer's
//              would be), no compression.
// The receiver runs in a worker thread, so each side has an event loop of its own.
// Three message shapes: (a) heartbeats, (b) appends of 64 x 100-byte entries, (c) 1 MiB
// snapshot chunks. Each case runs --rounds times, interleaved with the others so that a burst of
// load elsewhere on the machine does not land on one variant only; the median is reported, with
// the lowest and highest round. Prints a table and, as its last line, one JSON object.

import net from 'node:net';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { EntryType, MessageType, makeMessage, type Message } from '@raftplane/raft';
import { WebSocket, WebSocketServer } from 'ws';
import {
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameKind,
  Transport,
  TransportError,
  decodeFrameBody,
  decodeMessages,
  encodeMessagesFrame,
  type TransportOptions,
} from '../src/index.js';

type Variant = 'transport' | 'tcp' | 'ws';
type Scenario = 'heartbeat' | 'app' | 'snapshot';
const VARIANTS: readonly Variant[] = ['transport', 'tcp', 'ws'];
const SCENARIOS: readonly Scenario[] = ['heartbeat', 'app', 'snapshot'];

const HOST = '127.0.0.1';
const FRAME_BYTES_MAX = 16 * 1024 * 1024;
const QUEUE_BYTES_MAX = 64 * 1024 * 1024;
/** Bytes the sender lets sit in its buffers before it waits: enough to keep loopback busy. */
const WINDOW_BYTES = 4 * 1024 * 1024;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

type ToWorker = { type: 'start'; variant: Variant } | { type: 'count' } | { type: 'stop' };
type FromWorker = { type: 'ready'; port: number } | { type: 'count'; messages: number; bytes: number } | { type: 'stopped' };

function transportOptions(id: number, port: number, peerPort: number, onMessages: (m: Message[]) => void, signal: AbortSignal): TransportOptions {
  return {
    self: { id, host: HOST, port },
    peers: [{ id: id === 1 ? 2 : 1, host: HOST, port: peerPort }],
    clusterName: 'bench',
    secret: 'bench-shared-secret-0123456789',
    queueBytesMax: QUEUE_BYTES_MAX,
    frameBytesMax: FRAME_BYTES_MAX,
    reconnectDelayMsMin: 10,
    reconnectDelayMsMax: 100,
    idleTimeoutMs: 10_000,
    random: Math.random,
    onMessages,
    onUnreachable: () => undefined,
    logger: silent,
    signal,
  };
}

// ---- receiver (worker thread) ----

/** Decodes one frame body as every receiver does, counting its messages. */
function decodeBody(body: Uint8Array, out: Message[]): number {
  const frame = decodeFrameBody(body);
  if (frame instanceof TransportError) throw frame;
  out.length = 0;
  const error = decodeMessages(frame[1], out);
  if (error !== null) throw error;
  return out.length;
}

interface Receiver {
  readonly port: number;
  count(): { messages: number; bytes: number };
  stop(): Promise<void>;
}

async function receiveTransport(): Promise<Receiver> {
  const abort = new AbortController();
  let messages = 0;
  const transport = await Transport.start(transportOptions(2, 0, 0, (m) => (messages += m.length), abort.signal));
  return {
    port: transport.port,
    count: () => ({ messages, bytes: transport.status().get(1)?.bytesReceived ?? 0 }),
    stop: () => transport.close(),
  };
}

async function receiveTcp(): Promise<Receiver> {
  let messages = 0;
  let bytes = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    const decoder = new FrameDecoder(FRAME_BYTES_MAX);
    const out: Message[] = [];
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.byteLength;
      const error = decoder.push(chunk, (body) => {
        messages += decodeBody(body, out);
        return true;
      });
      if (error !== null) throw error;
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    count: () => ({ messages, bytes }),
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function receiveWs(): Promise<Receiver> {
  let messages = 0;
  let bytes = 0;
  const server = new WebSocketServer({ host: HOST, port: 0, maxPayload: FRAME_BYTES_MAX, perMessageDeflate: false, clientTracking: true });
  server.on('connection', (ws) => {
    const out: Message[] = [];
    ws.on('message', (data: Buffer) => {
      bytes += data.byteLength + FRAME_HEADER_BYTES; // counted like a TCP frame, for comparable MB/s
      messages += decodeBody(data, out);
    });
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    count: () => ({ messages, bytes }),
    stop: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function runWorker(): void {
  const port = parentPort;
  if (port === null) throw new Error('bench worker without a parent port');
  let receiver: Receiver | null = null;
  const reply = (message: FromWorker): void => port.postMessage(message);
  port.on('message', (message: ToWorker) => {
    void (async () => {
      if (message.type === 'start') {
        const start = { transport: receiveTransport, tcp: receiveTcp, ws: receiveWs }[message.variant];
        receiver = await start();
        reply({ type: 'ready', port: receiver.port });
      } else if (message.type === 'count') {
        reply({ type: 'count', ...(receiver?.count() ?? { messages: 0, bytes: 0 }) });
      } else {
        await receiver?.stop();
        receiver = null;
        reply({ type: 'stopped' });
        port.close();
      }
    })();
  });
}

// ---- sender (main thread) ----

/** One turn's batch for each scenario: about what a busy leader sends one follower per turn. */
function batchOf(scenario: Scenario): Message[] {
  if (scenario === 'heartbeat') {
    return Array.from({ length: 256 }, (_, i) => makeMessage({ type: MessageType.Heartbeat, to: 2, commit: 1_000_000 + i }, 1, 7));
  }
  if (scenario === 'app') {
    const entries = Array.from({ length: 64 }, (_, i) => ({ term: 7, index: 1_000_001 + i, type: EntryType.Normal, data: new Uint8Array(100).fill(i) }));
    return Array.from({ length: 8 }, () => makeMessage({ type: MessageType.App, to: 2, index: 1_000_000, logTerm: 7, entries, commit: 999_000 }, 1, 7));
  }
  const data = new Uint8Array(1024 * 1024).fill(0x5a);
  const snapshot = { metadata: { index: 1_000_000, term: 7, confState: { voters: [1, 2, 3] } }, offset: 0, totalBytes: 64 * data.byteLength, data };
  return [makeMessage({ type: MessageType.Snap, to: 2, snapshot }, 1, 7)];
}

interface Sender {
  /** Sends one batch unless more than the window is buffered; returns whether it sent. */
  turn(): void;
  stop(): Promise<void>;
}

async function sendTransport(port: number, batch: readonly Message[]): Promise<Sender> {
  const abort = new AbortController();
  const transport = await Transport.start(transportOptions(1, 0, port, () => undefined, abort.signal));
  while (transport.status().get(2)?.connected !== true) await new Promise((resolve) => setTimeout(resolve, 5));
  return {
    turn: () => {
      if (transport.queuedBytes(2) < WINDOW_BYTES) transport.send(batch);
    },
    stop: async () => {
      const dropped = transport.status().get(2)?.messagesDropped ?? 0;
      if (dropped > 0) throw new Error(`the bench's own window should avoid drops, yet ${dropped} messages were dropped`);
      await transport.close();
    },
  };
}

async function sendTcp(port: number, batch: readonly Message[]): Promise<Sender> {
  const socket = net.connect({ host: HOST, port, noDelay: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  return {
    turn: () => {
      if (socket.writableLength < WINDOW_BYTES) socket.write(encodeMessagesFrame(FrameKind.Messages, batch, 0, batch.length));
    },
    stop: () => new Promise<void>((resolve) => socket.destroy().once('close', () => resolve())),
  };
}

async function sendWs(port: number, batch: readonly Message[]): Promise<Sender> {
  const ws = new WebSocket(`ws://${HOST}:${port}`, { perMessageDeflate: false, maxPayload: FRAME_BYTES_MAX });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    turn: () => {
      if (ws.bufferedAmount < WINDOW_BYTES) ws.send(encodeMessagesFrame(FrameKind.Messages, batch, 0, batch.length).subarray(FRAME_HEADER_BYTES), { binary: true });
    },
    stop: () => new Promise<void>((resolve) => ws.once('close', () => resolve()).terminate()),
  };
}

class WorkerClient {
  private readonly worker: Worker;
  private readonly replies: FromWorker[] = [];
  private waiting: ((reply: FromWorker) => void) | null = null;

  constructor() {
    // The worker runs this same file; its loader hooks are its own, so it registers tsx first.
    const entry = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); });`;
    this.worker = new Worker(entry, { eval: true });
    this.worker.on('message', (reply: FromWorker) => {
      if (this.waiting !== null) {
        const waiting = this.waiting;
        this.waiting = null;
        waiting(reply);
      } else {
        this.replies.push(reply);
      }
    });
    this.worker.on('error', (error) => {
      throw error;
    });
  }

  ask(message: ToWorker): Promise<FromWorker> {
    this.worker.postMessage(message);
    const queued = this.replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async count(): Promise<{ messages: number; bytes: number }> {
    const reply = await this.ask({ type: 'count' });
    if (reply.type !== 'count') throw new Error(`expected a count, got ${reply.type}`);
    return reply;
  }
}

interface Figures {
  readonly messagesPerSecond: number;
  readonly megabytesPerSecond: number;
}

interface Summary extends Figures {
  /** Messages per second in the slowest and the fastest round. */
  readonly messagesPerSecondMin: number;
  readonly messagesPerSecondMax: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function summarize(rounds: readonly Figures[]): Summary {
  const rates = rounds.map((r) => r.messagesPerSecond);
  return {
    messagesPerSecond: Math.round(median(rates)),
    megabytesPerSecond: Math.round(median(rounds.map((r) => r.megabytesPerSecond)) * 10) / 10,
    messagesPerSecondMin: Math.min(...rates),
    messagesPerSecondMax: Math.max(...rates),
  };
}

/** Runs the sender flat out (one batch per turn) for `ms`. */
async function drive(sender: Sender, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    sender.turn();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function measure(variant: Variant, scenario: Scenario, seconds: number, warmupSeconds: number): Promise<Figures> {
  const worker = new WorkerClient();
  const ready = await worker.ask({ type: 'start', variant });
  if (ready.type !== 'ready') throw new Error(`expected ready, got ${ready.type}`);
  const batch = batchOf(scenario);
  const start = { transport: sendTransport, tcp: sendTcp, ws: sendWs }[variant];
  const sender = await start(ready.port, batch);
  await drive(sender, warmupSeconds * 1000);
  const before = await worker.count();
  const t0 = performance.now();
  await drive(sender, seconds * 1000);
  const after = await worker.count();
  const elapsedS = (performance.now() - t0) / 1000;
  await sender.stop();
  await worker.ask({ type: 'stop' });
  return {
    messagesPerSecond: Math.round((after.messages - before.messages) / elapsedS),
    megabytesPerSecond: Math.round(((after.bytes - before.bytes) / elapsedS / 1e6) * 10) / 10,
  };
}

const number = (n: number): string => n.toLocaleString('en-US');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '1' },
      'warmup-seconds': { type: 'string', default: '0.3' },
      rounds: { type: 'string', default: '3' },
      scenarios: { type: 'string', default: SCENARIOS.join(',') },
      variants: { type: 'string', default: VARIANTS.join(',') },
    },
  });
  const scenarios = values.scenarios.split(',') as Scenario[];
  const variants = values.variants.split(',') as Variant[];
  for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`--scenarios: unknown scenario ${JSON.stringify(s)} (known: ${SCENARIOS.join(', ')})`);
  for (const v of variants) if (!VARIANTS.includes(v)) throw new Error(`--variants: unknown variant ${JSON.stringify(v)} (known: ${VARIANTS.join(', ')})`);
  const seconds = Number(values.seconds);
  const warmupSeconds = Number(values['warmup-seconds']);
  const rounds = Number(values.rounds);
  for (const [name, value] of [['seconds', seconds], ['warmup-seconds', warmupSeconds]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got ${String(value)}`);
  }
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds must be an integer >= 1, got ${String(values.rounds)}`);
  const runs = new Map<string, Figures[]>();
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) {
      for (const variant of variants) {
        const key = `${scenario}/${variant}`;
        runs.set(key, [...(runs.get(key) ?? []), await measure(variant, scenario, seconds, warmupSeconds)]);
      }
    }
  }
  const results = {} as Record<Scenario, Record<Variant, Summary>>;
  console.log(`transport benchmark: median of ${rounds} rounds of ${seconds} s per case (after ${warmupSeconds} s warm-up), loopback, receiver in a worker thread`);
  console.log(`${'scenario'.padEnd(11)}${'variant'.padEnd(11)}${'messages/s'.padStart(12)}${'MB/s'.padStart(9)}${'rounds: min - max messages/s'.padStart(32)}`);
  for (const scenario of scenarios) {
    results[scenario] = {} as Record<Variant, Summary>;
    for (const variant of variants) {
      const s = summarize(runs.get(`${scenario}/${variant}`) ?? []);
      results[scenario][variant] = s;
      const spread = `${number(s.messagesPerSecondMin)} - ${number(s.messagesPerSecondMax)}`;
      console.log(`${scenario.padEnd(11)}${variant.padEnd(11)}${number(s.messagesPerSecond).padStart(12)}${s.megabytesPerSecond.toFixed(1).padStart(9)}${spread.padStart(32)}`);
    }
  }
  if (variants.includes('tcp') && variants.includes('ws')) {
    const tcpWins = scenarios.filter((s) => results[s].tcp.messagesPerSecond >= results[s].ws.messagesPerSecond).length;
    console.log(`choice: tcp with length-prefixed msgpackr frames; raw tcp's median is at or above ws's in ${tcpWins} of ${scenarios.length} cases`);
  }
  console.log(JSON.stringify({ seconds, warmupSeconds, rounds, results, choice: 'tcp' }));
}

if (isMainThread) {
  await main();
} else {
  runWorker();
}
