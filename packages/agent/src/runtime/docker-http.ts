// The Docker Engine API over its unix socket, with undici. Short calls (inspect, list, create,
// kill, remove) share a small pool; calls that may last (stop, wait, logs, exec, events, pulls) each
// get a connection of their own, closed when they end, so that a log follower or a 30 s stop never
// queues a list behind it. Every failure to reach the engine becomes RuntimeUnavailable, naming the
// socket.

import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { Client, Pool, type Dispatcher } from 'undici';
import { AgentError, AgentErrorCode } from '../errors.js';

/** The engine here is Debian's docker.io 20.10; 1.41 is its API version, pinned so answers keep their shape. */
export const DOCKER_API_PREFIX = '/v1.41';

export type DockerQuery = Readonly<Record<string, string | number | boolean | undefined>>;

export interface DockerCallOptions {
  readonly query?: DockerQuery;
  /** Sent as JSON. */
  readonly json?: unknown;
  /** For the status line and headers, and again for the body. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface DockerAnswer {
  readonly statusCode: number;
  /** The parsed JSON body, the text when it is not JSON, or undefined when empty. */
  readonly body: unknown;
}

export interface DockerStreamOptions {
  readonly query?: DockerQuery;
  readonly json?: unknown;
  /** Until the status line and headers arrive. */
  readonly headersTimeoutMs: number;
  /** Longest silence inside the body; 0 waits forever (event and log followers). */
  readonly bodyTimeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface DockerStream {
  readonly statusCode: number;
  readonly body: Readable;
  /** Ends the stream and its connection; resolves once the socket is gone. Safe to call twice. */
  release(): Promise<void>;
}

export interface DockerHttpOptions {
  readonly socketPath: string;
  /** Connections the short calls share. */
  readonly poolConnectionsMax: number;
  /** Long calls open at once (each holds a connection); one more fails instead of opening a socket. */
  readonly streamsMax: number;
  /** A short call's answer larger than this is an error (inspect and list answers are a few KiB each). */
  readonly answerBytesMax: number;
}

export class DockerHttp {
  private readonly pool: Pool;
  /** Connections of the long calls now open; close() destroys them. */
  private readonly streams = new Set<Client>();
  private closed = false;

  constructor(private readonly options: DockerHttpOptions) {
    assert.ok(options.poolConnectionsMax >= 1, `poolConnectionsMax ${options.poolConnectionsMax} must be >= 1`);
    assert.ok(options.streamsMax >= 1, `streamsMax ${options.streamsMax} must be >= 1`);
    this.pool = new Pool('http://localhost', {
      socketPath: options.socketPath,
      connections: options.poolConnectionsMax,
      pipelining: 1,
      // Per call below; these only bound a call that forgot its own.
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
  }

  get socketPath(): string {
    return this.options.socketPath;
  }

  /** A short call: the whole answer, read and parsed. */
  async call(method: Dispatcher.HttpMethod, path: string, options: DockerCallOptions): Promise<DockerAnswer> {
    this.assertOpen();
    try {
      const response = await this.pool.request({
        method,
        path: apiPath(path, options.query),
        headers: options.json === undefined ? {} : { 'content-type': 'application/json' },
        body: options.json === undefined ? null : JSON.stringify(options.json),
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        signal: options.signal ?? null,
      });
      const text = await readBounded(response.body, this.options.answerBytesMax, `${method} ${path}`);
      return { statusCode: response.statusCode, body: parseBody(text) };
    } catch (error) {
      throw this.unreachable(error, `${method} ${path}`, options.signal);
    }
  }

  /** A long call on a connection of its own; the caller reads `body` and must `release()`. */
  async stream(method: Dispatcher.HttpMethod, path: string, options: DockerStreamOptions): Promise<DockerStream> {
    this.assertOpen();
    if (this.streams.size >= this.options.streamsMax) {
      throw new AgentError(AgentErrorCode.RuntimeUnavailable, `${method} ${path}: ${this.streams.size} Docker streams already open (streamsMax ${this.options.streamsMax})`);
    }
    const client = new Client('http://localhost', {
      socketPath: this.options.socketPath,
      pipelining: 1,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
    });
    this.streams.add(client);
    let released: Promise<void> | undefined;
    const release = (): Promise<void> => {
      released ??= client
        .destroy()
        .catch(() => {})
        .finally(() => this.streams.delete(client));
      return released;
    };
    try {
      const response = await client.request({
        method,
        path: apiPath(path, options.query),
        headers: options.json === undefined ? {} : { 'content-type': 'application/json' },
        body: options.json === undefined ? null : JSON.stringify(options.json),
        signal: options.signal ?? null,
      });
      return { statusCode: response.statusCode, body: response.body, release };
    } catch (error) {
      await release();
      throw this.unreachable(error, `${method} ${path}`, options.signal);
    }
  }

  /** Closes every connection, the long calls' too; their readers see their bodies end in an error. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.streams].map((client) => client.destroy().catch(() => {})));
    this.streams.clear();
    await this.pool.destroy().catch(() => {});
  }

  private assertOpen(): void {
    if (this.closed) throw new AgentError(AgentErrorCode.RuntimeUnavailable, `the Docker runtime for ${this.options.socketPath} is closed`);
  }

  /**
   * What a failed call or stream read becomes: the caller's abort passes on as its reason, an
   * AgentError as it is, anything else (refused, reset, destroyed) is RuntimeUnavailable.
   */
  unreachable(error: unknown, what: string, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason;
    if (error instanceof AgentError) return error;
    const detail = error instanceof Error ? `${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}` : String(error);
    return new AgentError(AgentErrorCode.RuntimeUnavailable, `Docker engine at ${this.options.socketPath}: ${what}: ${detail}`, { cause: error });
  }
}

export function apiPath(path: string, query: DockerQuery | undefined): string {
  assert.ok(path.startsWith('/'), `Docker API path ${path} must start with /`);
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) search.append(key, String(value));
  }
  const text = search.toString();
  return `${DOCKER_API_PREFIX}${path}${text === '' ? '' : `?${text}`}`;
}

/** The engine's own words for a failed call: its JSON `message`, else the text, else the status. */
export function engineMessage(answer: DockerAnswer): string {
  const body = answer.body;
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  if (typeof body === 'string' && body.trim() !== '') return body.trim();
  return `HTTP ${answer.statusCode}`;
}

async function readBounded(body: Readable, bytesMax: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    bytes += chunk.byteLength;
    if (bytes > bytesMax) {
      body.destroy();
      throw new AgentError(AgentErrorCode.RuntimeUnavailable, `${what}: the engine's answer is over ${bytesMax} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, bytes).toString('utf8');
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
