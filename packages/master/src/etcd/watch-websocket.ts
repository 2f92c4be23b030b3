// The watch protocol over WebSocket at /v3/watch, as etcd 3.4 serves it (embed/serve.go wraps the
// gateway in tmc/grpc-websocket-proxy): each text frame the client sends is more of the request
// stream (WatchRequest JSON objects), and each line of the response stream goes out as one text
// frame, so frames are {"result": WatchResponse} exactly as on the HTTP stream. One socket, many
// watches. Dead peers are found by ping and pong: a socket that missed a round is terminated.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type ServerOptions, type WebSocket } from 'ws';
import { EtcdGatewayError, toEtcdFailure } from './errors.js';
import { FieldReader, decodeWatchRequest } from './json.js';
import type { KvService } from './service.js';
import { JsonMessageSplitter, type SplitterLimits } from './splitter.js';
import { WatchStream } from './watch-stream.js';

export interface WatchSocketsOptions {
  readonly service: KvService;
  readonly logger: Logger;
  /** Largest frame (and largest request message) accepted. */
  readonly messageBytesMax: number;
  readonly watchBufferBytesMax: number;
  readonly watchesPerStreamMax: number;
  readonly pingIntervalMs: number;
  /** How long a closing handshake may take before the socket is destroyed. */
  readonly closeTimeoutMs: number;
}

/** A WatchRequest nests three levels (request, create_request, filters); more is not a watch request. */
const WATCH_REQUEST_DEPTH_MAX = 8;

/** Close codes (RFC 6455 §7.4.1, IANA registry) by why the stream ended. */
function closeCodeFor(error: unknown): number {
  if (error instanceof EtcdGatewayError) {
    if (error.code === 'ETCD_GW_SLOW_WATCHER') return 1013; // try again later
    if (error.code === 'ETCD_GW_CLOSING') return 1001; // going away
    if (error.code === 'ETCD_GW_MESSAGE_TOO_LARGE') return 1009; // message too big
    return 1008; // policy violation: a request we refuse
  }
  return toEtcdFailure(error).httpStatus < 500 ? 1008 : 1011;
}

interface SocketState {
  alive: boolean;
  readonly stream: WatchStream;
}

export class WatchSockets {
  private readonly server: WebSocketServer;
  private readonly sockets = new Map<WebSocket, SocketState>();
  private heartbeat: NodeJS.Timeout | null = null;
  private closing = false;

  constructor(private readonly options: WatchSocketsOptions) {
    // Every limit spelled out rather than left to ws' defaults (closeTimeout is in ws 8, not yet in its types).
    const serverOptions: ServerOptions & { readonly closeTimeout: number } = {
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.messageBytesMax,
      maxBufferedChunks: 1024,
      maxFragments: 1024,
      skipUTF8Validation: false,
      autoPong: true,
      allowSynchronousEvents: true,
      closeTimeout: options.closeTimeoutMs,
    };
    this.server = new WebSocketServer(serverOptions);
  }

  get socketCount(): number {
    return this.sockets.size;
  }

  /** Takes over an upgrade request for the watch path. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.server.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const { service, logger, watchBufferBytesMax, watchesPerStreamMax, messageBytesMax } = this.options;
    const stream = new WatchStream({
      service,
      logger,
      dialect: 'json',
      watchBufferBytesMax,
      watchesPerStreamMax,
      slowReceiver: 'cancel-watch',
      answered: false,
      output: {
        write: (message) => ws.send(message, { binary: false }),
        bufferedBytes: () => ws.bufferedAmount,
        end: (last, error) => {
          if (last !== null) ws.send(last, { binary: false });
          ws.close(closeCodeFor(error), closeReason(error));
        },
      },
    });
    const state: SocketState = { alive: true, stream };
    this.sockets.set(ws, state);
    this.startHeartbeat();
    const limits: SplitterLimits = { messageBytesMax, depthMax: WATCH_REQUEST_DEPTH_MAX };
    const splitter = new JsonMessageSplitter(limits);
    ws.on('pong', () => {
      state.alive = true;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        stream.fail(new EtcdGatewayError('ETCD_GW_MALFORMED_BODY', 'binary frames are not part of the watch protocol: send WatchRequest JSON as text frames'));
        return;
      }
      try {
        for (const message of splitter.feed(asBuffer(data))) stream.apply(decodeWatchRequest(FieldReader.of(message, '', 'json')));
      } catch (error) {
        stream.fail(error);
      }
    });
    ws.on('error', (error) => logger.debug({ err: error }, 'etcd gateway: watch socket error'));
    ws.on('close', () => {
      stream.close();
      this.sockets.delete(ws);
      if (this.sockets.size === 0) this.stopHeartbeat();
    });
  }

  /** One coarse timer for every socket: a socket that has not answered the last ping is dead. */
  private startHeartbeat(): void {
    if (this.heartbeat !== null) return;
    this.heartbeat = setInterval(() => {
      for (const [ws, state] of this.sockets) {
        if (!state.alive) {
          this.options.logger.info({ watches: state.stream.watchCount }, 'etcd gateway: watch socket missed a ping, terminated');
          ws.terminate();
          continue;
        }
        state.alive = false;
        ws.ping();
      }
    }, this.options.pingIntervalMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat === null) return;
    clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  /** Closes every socket (1001, going away) and waits until they are gone. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = [...this.sockets.keys()].map(
      (ws) =>
        new Promise<void>((resolveClosed) => {
          ws.once('close', () => resolveClosed());
          const closing = new EtcdGatewayError('ETCD_GW_CLOSING', 'raftplane: the server is shutting down');
          this.sockets.get(ws)?.stream.fail(closing);
          // A stream that had already ended left its socket to close itself; make sure it does.
          ws.close(closeCodeFor(closing), closeReason(closing));
        }),
    );
    await Promise.all(closed);
    this.stopHeartbeat();
    await new Promise<void>((resolveServer) => this.server.close(() => resolveServer()));
  }
}

/** A close frame's reason is at most 123 bytes (RFC 6455 §5.5): printable ASCII, cut short. */
function closeReason(error: unknown): string {
  return toEtcdFailure(error).message.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
