// One watch over a WebSocket (the primary watch transport): every text message is one JSON watch
// event. The socket is paused when the consumer falls behind, pinged so that a master that stopped
// answering (SIGSTOP, a partition) is found, and gone before `close()` settles.

import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { Clock, TimerHandle } from './clock.js';
import { ClientError, ClientErrorCode } from './errors.js';
import { EventQueue } from './event-queue.js';
import { flattenHeaders, parseBody, queryString, readBodyBounded } from './http-wire.js';
import type { AttemptOutcome } from './retry-loop.js';
import type { WatchEvent, WatchStream } from './transport.js';
import { parseWatchEvent } from './watch-event.js';

export interface StreamWatchParams {
  readonly endpoint: string;
  readonly path: string;
  /** Includes `watch=true`. */
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  /** Aborting it fails the open, or ends an open stream with `signal.reason`. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly eventsBufferedMax: number;
  /** Largest single event (a WebSocket message or a line). */
  readonly eventBytesMax: number;
  /** Largest error body read when the server refuses the watch. */
  readonly responseBytesMax: number;
  readonly openTimeoutMs: number;
}

/** A stream of ours: `closed` settles once its socket is gone, however it ended. */
export interface SocketWatchStream extends WatchStream {
  readonly closed: Promise<void>;
}

export interface WebSocketWatchParams extends StreamWatchParams {
  /** A ping each interval; no pong by the next one ends the stream as broken. */
  readonly pingIntervalMs: number;
  readonly tls?: { readonly ca: readonly string[] | undefined; readonly rejectUnauthorized: boolean };
}

/** Close codes a server uses to end a watch on purpose: its timeoutSeconds elapsed (1000) or it shuts down (1001). */
const normalCloseCodes: ReadonlySet<number> = new Set([1000, 1001]);
/** RFC 6455 §7.4.1: the message was larger than `maxPayload`. */
const MESSAGE_TOO_BIG = 1009;

export function openWebSocketWatch(params: WebSocketWatchParams): Promise<AttemptOutcome<SocketWatchStream>> {
  if (params.signal.aborted) return Promise.reject(params.signal.reason);
  return new Promise((resolve, reject) => new WebSocketWatch(params, resolve, reject));
}

/** One socket's life: opening (settles the open), open (feeds the queue), closed. */
class WebSocketWatch {
  private readonly socket: WebSocket;
  private readonly queue: EventQueue<WatchEvent>;
  readonly stream: SocketWatchStream;
  private phase: 'opening' | 'open' | 'closed' = 'opening';
  /** Whether the open promise has settled (an upgrade, or an HTTP answer read). */
  private settled = false;
  private openError: unknown;
  private upgradeHeaders: Record<string, string> = {};
  private pingTimer: TimerHandle | undefined;
  private pongSeen = true;
  private resolveClosed!: () => void;
  private readonly onAbort = (): void => {
    this.queue.abort(this.params.signal.reason);
    this.socket.terminate();
  };

  constructor(
    private readonly params: WebSocketWatchParams,
    private readonly resolve: (outcome: AttemptOutcome<SocketWatchStream>) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    const origin = params.endpoint;
    this.socket = new WebSocket(`${origin.replace(/^http/, 'ws')}${params.path}${queryString(params.query)}`, {
      headers: { ...params.headers },
      maxPayload: params.eventBytesMax,
      handshakeTimeout: params.openTimeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
      rejectUnauthorized: params.tls?.rejectUnauthorized ?? true,
      ...(params.tls?.ca === undefined ? {} : { ca: [...params.tls.ca] }),
    });
    const closed = new Promise<void>((r) => (this.resolveClosed = r));
    this.queue = new EventQueue<WatchEvent>({
      highWaterCount: Math.max(1, Math.floor(params.eventsBufferedMax / 2)),
      eventsBufferedMax: params.eventsBufferedMax,
      onPause: () => this.socket.pause(),
      onResume: () => this.socket.resume(),
      onReturn: () => this.stream.close(),
      origin,
    });
    this.stream = {
      origin,
      closed,
      close: async () => {
        this.queue.end();
        if (this.phase !== 'closed') this.socket.terminate();
        await closed;
      },
      [Symbol.asyncIterator]: () => this.queue,
    };
    params.signal.addEventListener('abort', this.onAbort, { once: true });
    this.listen();
  }

  private listen(): void {
    const socket = this.socket;
    socket.on('upgrade', (response) => {
      this.upgradeHeaders = flattenHeaders(response.headers);
    });
    socket.on('unexpected-response', (request, response) => this.onRefused(request, response));
    socket.on('open', () => {
      this.phase = 'open';
      this.settled = true;
      if (this.params.pingIntervalMs > 0) this.schedulePing();
      this.resolve({ kind: 'opened', stream: this.stream, headers: this.upgradeHeaders });
    });
    socket.on('pong', () => {
      this.pongSeen = true;
    });
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('error', (error) => {
      this.openError ??= error;
    });
    socket.on('close', (code, reason) => this.onClose(code, reason.toString()));
  }

  /** The server answered the upgrade with HTTP (503 in an election, 410, 401): read it, then drop the socket. */
  private onRefused(request: ClientRequest, response: IncomingMessage): void {
    readBodyBounded(response, this.params.responseBytesMax, this.params.endpoint)
      .then(
        (text) => {
          this.settled = true;
          this.resolve({ kind: 'answer', response: { status: response.statusCode ?? 0, headers: flattenHeaders(response.headers), body: parseBody(text) } });
        },
        (error: unknown) => {
          this.openError = error;
        },
      )
      .finally(() => {
        request.destroy();
        this.socket.terminate();
      });
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const { endpoint, path } = this.params;
    if (isBinary) {
      this.fail(new ClientError(ClientErrorCode.MalformedResponse, `watch ${path} on ${endpoint} sent a binary message; events are JSON text`, { endpoint, path }));
      return;
    }
    try {
      this.queue.push(parseWatchEvent(data.toString(), endpoint));
    } catch (error) {
      this.fail(error);
    }
  }

  private onClose(code: number, reason: string): void {
    const { endpoint, path, signal } = this.params;
    const wasOpen = this.phase === 'open';
    this.phase = 'closed';
    this.pingTimer?.cancel();
    signal.removeEventListener('abort', this.onAbort);
    if (wasOpen) {
      if (normalCloseCodes.has(code)) this.queue.end();
      else if (code === MESSAGE_TOO_BIG) this.queue.fail(new ClientError(ClientErrorCode.ResponseTooLarge, `watch event from ${endpoint} is over ${this.params.eventBytesMax} bytes`, { endpoint, path }));
      else this.queue.fail(new ClientError(ClientErrorCode.WatchBroken, `watch ${path} on ${endpoint} closed with code ${code}${reason.length > 0 ? ` (${reason})` : ''}`, { endpoint, path }, { cause: this.openError }));
    }
    this.resolveClosed();
    if (!this.settled) {
      this.settled = true;
      this.reject(signal.aborted ? signal.reason : (this.openError ?? new Error(`watch ${path} on ${endpoint} closed (code ${code}) before it opened`)));
    }
  }

  private schedulePing(): void {
    const { endpoint, path, pingIntervalMs } = this.params;
    this.pingTimer = this.params.clock.setTimer(() => {
      if (this.phase !== 'open') return;
      if (!this.pongSeen) {
        this.fail(new ClientError(ClientErrorCode.WatchBroken, `watch ${path} on ${endpoint}: no pong within ${pingIntervalMs} ms`, { endpoint, path }));
        return;
      }
      this.pongSeen = false;
      this.socket.ping();
      this.schedulePing();
    }, pingIntervalMs);
  }

  private fail(error: unknown): void {
    this.queue.fail(error);
    this.socket.terminate();
  }
}
