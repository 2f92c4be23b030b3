// The Transport over HTTP (undici) and WebSocket (ws): one connection pool for all endpoints,
// the leader hint, the retry rules of retry-loop.ts, and every open watch closed when the
// client's signal aborts.

import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { Agent } from 'undici';
import type { Clock } from './clock.js';
import { openChunkedWatch } from './chunked-watch.js';
import { EndpointSet } from './endpoints.js';
import { ClientError, ClientErrorCode } from './errors.js';
import { flattenHeaders, parseBody, queryString, readBodyBounded } from './http-wire.js';
import type { ClientLogger } from './logger.js';
import { runWithRetries, type AttemptOutcome, type RetryContext, type RetryPolicy } from './retry-loop.js';
import { linkSignals } from './signals.js';
import { statusErrorFromResponse } from './status-errors.js';
import type { Transport, TransportRequest, TransportResponse, WatchRequest, WatchStream } from './transport.js';
import { openWebSocketWatch, type SocketWatchStream } from './websocket-watch.js';

/** Every setting, resolved and validated by createHttpClient (http-client.ts). */
export interface HttpTransportSettings {
  /** Bare origins, `http://127.0.0.1:6441`. */
  readonly endpoints: readonly string[];
  readonly token: string | undefined;
  /** The client's lifetime: aborting it closes every connection and watch. */
  readonly signal: AbortSignal;
  readonly random: () => number;
  readonly clock: Clock;
  readonly retry: RetryPolicy;
  readonly retryAfterMsMax: number;
  readonly logger: ClientLogger;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly connectionsPerEndpointMax: number;
  readonly responseBytesMax: number;
  readonly eventBytesMax: number;
  readonly watchTransport: 'websocket' | 'http';
  readonly watchEventsBufferedMax: number;
  readonly watchPingIntervalMs: number;
  readonly userAgent: string;
  /** For https endpoints, requests and WebSocket watches alike. */
  readonly tls: { readonly ca: readonly string[] | undefined; readonly rejectUnauthorized: boolean };
}

export class HttpTransport implements Transport {
  readonly endpoints: EndpointSet;
  private readonly agent: Agent;
  private readonly retryContext: RetryContext;
  /** Open watch streams: `closed` waits for their sockets. Each ends itself on the lifetime signal (it is linked to it). */
  private readonly openWatches = new Set<SocketWatchStream>();
  /** Settles once the pool and every watch socket are gone. */
  readonly closed: Promise<void>;
  private readonly lifetime: AbortController;

  constructor(private readonly settings: HttpTransportSettings) {
    this.endpoints = new EndpointSet(settings.endpoints);
    this.retryContext = {
      endpoints: this.endpoints,
      policy: settings.retry,
      retryAfterMsMax: settings.retryAfterMsMax,
      random: settings.random,
      clock: settings.clock,
      logger: settings.logger,
    };
    // Limits spelled out rather than undici's defaults (house rule 9).
    this.agent = new Agent({
      connections: settings.connectionsPerEndpointMax,
      keepAliveTimeout: 4_000,
      headersTimeout: settings.requestTimeoutMs,
      bodyTimeout: settings.requestTimeoutMs,
      connect: { timeout: settings.connectTimeoutMs, rejectUnauthorized: settings.tls.rejectUnauthorized, ...(settings.tls.ca === undefined ? {} : { ca: [...settings.tls.ca] }) },
    });
    // Every request and watch listens to the lifetime; they listen to this one, so that the
    // caller's signal (often shared by many components) carries one listener per client.
    this.lifetime = new AbortController();
    setMaxListeners(0, this.lifetime.signal);
    this.closed = new Promise<void>((resolve) => {
      const shutDown = (): void => {
        const watches = [...this.openWatches].map((watch) => watch.closed);
        this.lifetime.abort(settings.signal.reason);
        void Promise.all([this.agent.destroy(), ...watches]).then(() => resolve());
      };
      if (settings.signal.aborted) shutDown();
      else settings.signal.addEventListener('abort', shutDown, { once: true });
    });
  }

  async request(request: TransportRequest): Promise<TransportResponse> {
    const linked = linkSignals(request.signal, this.lifetime.signal);
    try {
      const outcome = await runWithRetries<never>(
        this.retryContext,
        { method: request.method, path: request.path, idempotent: request.method === 'GET' },
        linked.signal,
        (endpoint, signal) => this.sendOnce(endpoint, request, signal),
      );
      assert.ok(outcome.kind === 'answer', 'a plain request cannot open a stream');
      return outcome.response;
    } finally {
      linked.unlink();
    }
  }

  async watch(request: WatchRequest): Promise<WatchStream> {
    const linked = linkSignals(request.signal, this.lifetime.signal);
    const query = { ...request.query, watch: 'true' };
    let outcome: AttemptOutcome<SocketWatchStream>;
    try {
      outcome = await runWithRetries<SocketWatchStream>(this.retryContext, { method: 'GET', path: request.path, idempotent: true }, linked.signal, (endpoint, signal) =>
        this.openOnce(endpoint, request.path, query, signal),
      );
    } catch (error) {
      linked.unlink();
      throw error;
    }
    if (outcome.kind === 'answer') {
      linked.unlink();
      const { status } = outcome.response;
      if (status >= 200 && status < 300) {
        // A server (or proxy) that answers the upgrade like a plain GET does not speak watch over WebSocket.
        throw new ClientError(ClientErrorCode.MalformedResponse, `watch ${request.path} was answered HTTP ${status} instead of a stream; watchTransport 'http' may work`, { method: 'GET', path: request.path });
      }
      throw statusErrorFromResponse(outcome.response, { method: 'GET', path: request.path });
    }
    const stream = outcome.stream;
    this.openWatches.add(stream);
    void stream.closed.then(() => {
      this.openWatches.delete(stream);
      linked.unlink();
    });
    return stream;
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.settings.userAgent };
    if (this.settings.token !== undefined) headers.authorization = `Bearer ${this.settings.token}`;
    return headers;
  }

  private async sendOnce(endpoint: string, request: TransportRequest, signal: AbortSignal): Promise<AttemptOutcome<never>> {
    const headers = { ...this.headers(), ...request.headers };
    let body: string | undefined;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await this.agent.request({ origin: endpoint, path: `${request.path}${queryString(request.query)}`, method: request.method, headers, body, signal });
    try {
      const text = await readBodyBounded(response.body, this.settings.responseBytesMax, endpoint);
      return { kind: 'answer', response: { status: response.statusCode, headers: flattenHeaders(response.headers), body: parseBody(text) } };
    } catch (error) {
      response.body.destroy();
      throw error;
    }
  }

  private openOnce(endpoint: string, path: string, query: Record<string, string>, signal: AbortSignal): Promise<AttemptOutcome<SocketWatchStream>> {
    const common = {
      endpoint,
      path,
      query,
      headers: this.headers(),
      signal,
      clock: this.settings.clock,
      eventsBufferedMax: this.settings.watchEventsBufferedMax,
      eventBytesMax: this.settings.eventBytesMax,
      responseBytesMax: this.settings.responseBytesMax,
      openTimeoutMs: this.settings.requestTimeoutMs,
    };
    if (this.settings.watchTransport === 'websocket') return openWebSocketWatch({ ...common, pingIntervalMs: this.settings.watchPingIntervalMs, tls: this.settings.tls });
    // A chunked watch is silent while nothing changes: allow its whole timeoutSeconds, plus slack.
    const timeoutSeconds = Number(query.timeoutSeconds ?? 0);
    const idleTimeoutMs = timeoutSeconds > 0 ? timeoutSeconds * 1000 + 30_000 : 0;
    return openChunkedWatch({ ...common, dispatcher: this.agent, idleTimeoutMs });
  }
}
