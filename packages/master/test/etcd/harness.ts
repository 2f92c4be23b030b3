// A gateway on 127.0.0.1, port 0, over a FakeKvService, and the small HTTP client the tests speak
// to it with (node:http, so that streams can be read as they come and paused).

import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createEtcdGateway, etcdGatewayDefaults, type EtcdGateway, type EtcdGatewayOptions } from '../../src/etcd/gateway.js';
import { FakeKvService } from './fake-service.js';

export interface Harness {
  readonly service: FakeKvService;
  readonly gateway: EtcdGateway;
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export const silentLogger = pino({ level: 'silent' });

export async function startGateway(
  service = new FakeKvService(),
  overrides: Partial<Omit<EtcdGatewayOptions, 'service' | 'logger'>> = {},
): Promise<Harness> {
  const gateway = createEtcdGateway({ ...etcdGatewayDefaults, ...overrides, service, logger: silentLogger });
  const server = createServer((req, res) => {
    if (!gateway.handle(req, res)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not the gateway\n');
    }
  });
  server.on('upgrade', (req, socket, head) => {
    if (!gateway.handleUpgrade(req, socket, head)) socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    service,
    gateway,
    server,
    port,
    async close() {
      await gateway.close();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly text: string;
  readonly body: Buffer;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: unknown;
}

/** One request, its whole answer. The connection is not kept alive, so nothing lingers after a test. */
export async function call(
  port: number,
  path: string,
  body: string | Buffer | undefined,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'POST', headers: { connection: 'close', ...options.headers }, agent: false });
  req.end(body);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  const text = all.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode ?? 0, headers: res.headers, text, body: all, json };
}

export const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** Items as they arrive, taken one at a time; `next()` rejects once the source ended with nothing left. */
export class Queue<T> {
  private readonly items: T[] = [];
  private readonly waiting: { resolve: (item: T) => void; reject: (error: Error) => void }[] = [];
  private endedWith: Error | null = null;

  push(item: T): void {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.resolve(item);
    else this.items.push(item);
  }

  end(reason = 'the stream ended'): void {
    this.endedWith = new Error(reason);
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.endedWith);
  }

  get ended(): boolean {
    return this.endedWith !== null;
  }

  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.endedWith !== null) return Promise.reject(this.endedWith);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Everything left, once the source has ended. */
  async rest(): Promise<T[]> {
    const all: T[] = [];
    for (;;) {
      try {
        all.push(await this.next());
      } catch {
        return all;
      }
    }
  }
}

export interface WatchClient {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** Each line of the answer, as text. */
  readonly lines: Queue<string>;
  readonly response: IncomingMessage;
  /** Sends more of the request body (more watch requests). */
  send(text: string): void;
  /** Ends the request body; the answer goes on. */
  finish(): void;
  /** Goes away: the connection is destroyed. */
  destroy(): void;
}

/** A watch POST whose body stays open for more requests; resolves once the answer's headers are in. */
export async function openWatch(port: number, first: string, headers: Record<string, string> = {}): Promise<WatchClient> {
  const req = httpRequest({ host: '127.0.0.1', port, path: '/v3/watch', method: 'POST', headers: { 'transfer-encoding': 'chunked', ...headers }, agent: false });
  req.write(first);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const lines = new Queue<string>();
  let pending = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() as string;
    for (const line of parts) lines.push(line);
  });
  const finishLines = (): void => {
    if (pending !== '') lines.push(pending);
    pending = '';
    lines.end();
  };
  res.on('end', finishLines);
  res.on('close', finishLines);
  req.on('error', () => lines.end('the request failed'));
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    lines,
    response: res,
    send: (text) => req.write(text),
    finish: () => req.end(),
    destroy: () => req.destroy(),
  };
}

/** Puts 16 KiB values under `name` until the service has no watch left (the gateway cut it off), at most 2,000. */
export async function writeUntilCut(service: FakeKvService, name: string): Promise<void> {
  const value = Buffer.alloc(16 * 1024, 'v');
  for (let puts = 0; service.watchCount > 0 && puts < 2_000; puts++) await service.put({ key: Buffer.from(name), value, lease: 0n, prevKv: false }, null);
}

/** Events before a cut arrive whole and in order: revisions 2, 3, … with no gap. */
export function expectContiguous(revisions: readonly number[]): void {
  if (revisions.length === 0 || !revisions.every((revision, i) => revision === 2 + i)) throw new Error(`events before the cut are not contiguous: [${revisions.join(', ')}]`);
}
