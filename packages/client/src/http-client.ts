// createHttpClient: the Client for a process outside the masters (agent, proxy, CLI, a standalone
// scheduler), over HTTP and WebSocket. Every option is validated here, each with its own error.

import { systemClock, type Clock } from './clock.js';
import { createClient, defaultRetryPolicy, validateRetryPolicy, type Client } from './client.js';
import { normalizeEndpoint } from './endpoints.js';
import { invalidOption } from './errors.js';
import { HttpTransport } from './http-transport.js';
import { silentLogger, type ClientLogger } from './logger.js';
import type { RetryPolicy } from './retry-loop.js';

export interface HttpClientOptions {
  /** Every master's API address, `http://127.0.0.1:6441`; the leader hint picks among them. */
  readonly endpoints: readonly string[];
  /** Sent as `Authorization: Bearer <token>`, on requests and watches. */
  readonly token?: string;
  /** The client's lifetime: aborting it closes every connection and watch (`closed` settles then). */
  readonly signal: AbortSignal;
  /** [0, 1): backoff jitter and generated names. Default Math.random; inject it where tests must control it. */
  readonly random?: () => number;
  /** Timers for backoff and watch pings. */
  readonly clock?: Clock;
  readonly retry?: RetryPolicy;
  readonly logger?: ClientLogger;
  /** Longest wait for an answer's headers, and between two chunks of its body. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Default 2 s: a master that does not accept a connection in that time is skipped. */
  readonly connectTimeoutMs?: number;
  /** Default 8 connections per master. */
  readonly connectionsPerEndpointMax?: number;
  /** Largest answer read, in bytes. Default 64 MiB (a list page of 500 large objects). */
  readonly responseBytesMax?: number;
  /** Largest single watch event, in bytes. Default 8 MiB (objects are at most 3 MiB on the way in). */
  readonly eventBytesMax?: number;
  /** A Retry-After above this is cut to it. Default 30 s. */
  readonly retryAfterMsMax?: number;
  /** `websocket` (default) or chunked `http`. */
  readonly watchTransport?: 'websocket' | 'http';
  /** Events buffered per watch before the stream is cut; the socket pauses at half. Default 10,000. */
  readonly watchEventsBufferedMax?: number;
  /** WebSocket ping interval; a missed pong by the next ping breaks the watch. 0 disables. Default 30 s. */
  readonly watchPingIntervalMs?: number;
  readonly userAgent?: string;
  /** For https endpoints: the CA to trust (PEM), or no verification at all (loopback development with self-signed certificates). */
  readonly tls?: TlsOptions;
}

export interface TlsOptions {
  readonly ca?: string | readonly string[];
  readonly insecureSkipTlsVerify?: boolean;
}

export interface HttpClient extends Client {
  readonly transport: HttpTransport;
  /** Settles once, after the signal aborted, every socket is gone. */
  readonly closed: Promise<void>;
}

function positiveInteger(value: number | undefined, fallback: number, option: string, allowZero = false): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < (allowZero ? 0 : 1)) throw invalidOption(option, `${resolved} must be an integer >= ${allowZero ? 0 : 1}`);
  return resolved;
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object');
  if (!Array.isArray(options.endpoints) || options.endpoints.length === 0) throw invalidOption('endpoints', 'must be a non-empty array of URLs');
  const endpoints = options.endpoints.map((e, i) => normalizeEndpoint(e, `endpoints[${i}]`));
  if (!(options.signal instanceof AbortSignal)) throw invalidOption('signal', 'must be an AbortSignal (the client lives until it aborts)');
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '' || /[\r\n]/.test(options.token))) {
    throw invalidOption('token', 'must be a non-empty string without line breaks');
  }
  const watchTransport = options.watchTransport ?? 'websocket';
  if (watchTransport !== 'websocket' && watchTransport !== 'http') throw invalidOption('watchTransport', `${JSON.stringify(watchTransport)} is not websocket or http`);
  const random = options.random ?? Math.random;
  const clock = options.clock ?? systemClock;
  const retry = validateRetryPolicy(options.retry ?? defaultRetryPolicy, 'retry');
  const logger = options.logger ?? silentLogger;
  const transport = new HttpTransport({
    endpoints,
    token: options.token,
    signal: options.signal,
    random,
    clock,
    retry,
    retryAfterMsMax: positiveInteger(options.retryAfterMsMax, 30_000, 'retryAfterMsMax', true),
    logger,
    requestTimeoutMs: positiveInteger(options.requestTimeoutMs, 30_000, 'requestTimeoutMs'),
    connectTimeoutMs: positiveInteger(options.connectTimeoutMs, 2_000, 'connectTimeoutMs'),
    connectionsPerEndpointMax: positiveInteger(options.connectionsPerEndpointMax, 8, 'connectionsPerEndpointMax'),
    responseBytesMax: positiveInteger(options.responseBytesMax, 64 * 1024 * 1024, 'responseBytesMax'),
    eventBytesMax: positiveInteger(options.eventBytesMax, 8 * 1024 * 1024, 'eventBytesMax'),
    watchTransport,
    watchEventsBufferedMax: positiveInteger(options.watchEventsBufferedMax, 10_000, 'watchEventsBufferedMax'),
    watchPingIntervalMs: positiveInteger(options.watchPingIntervalMs, 30_000, 'watchPingIntervalMs', true),
    userAgent: options.userAgent ?? 'raftplane-client/0.1.0',
    tls: { ca: options.tls?.ca === undefined ? undefined : [options.tls.ca].flat(), rejectUnauthorized: options.tls?.insecureSkipTlsVerify !== true },
  });
  const client = createClient(transport, { random, clock, retry, logger });
  return { ...client, transport, closed: transport.closed };
}
