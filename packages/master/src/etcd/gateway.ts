// etcd v3's JSON gateway on a master's HTTP port: the routes of etcd 3.4's grpc-gateway (rpc.proto's
// google.api.http bindings, /v3beta/ accepted as etcd 3.4 does), their JSON, their errors and
// statuses, and the watch stream over HTTP and WebSocket. Every request is decoded and checked
// before the service is called; a write that reaches a follower is passed to the leader once.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { CLIENT_ID_LENGTH_MAX, isKvError, KvError, type ClientSession, type LeaseKeepAliveRequest, type ResponseHeader } from '@raftplane/kv';
import type { Logger } from 'pino';
import { MasterError, MasterErrorCode } from '../errors.js';
import { FORWARDED_HEADER, createForwardingAgent, readBody, relayRequest } from '../http.js';
import { checkDeleteRange, checkPut, checkRange, checkTxn, isTxnReadOnly } from './checks.js';
import { EtcdGatewayError, Grpc, toEtcdFailure } from './errors.js';
import {
  FieldReader,
  decodeCompaction,
  decodeDeleteRange,
  decodeEmpty,
  decodeLeaseGrant,
  decodeLeaseId,
  decodeLeaseTimeToLive,
  decodePut,
  decodeRange,
  decodeTxn,
  decodeWatchRequest,
  deleteRangeJson,
  headerOnlyJson,
  leaseJson,
  leaseLeasesJson,
  leaseTimeToLiveJson,
  memberListJson,
  putJson,
  rangeJson,
  statusJson,
  txnJson,
  type Dialect,
  type JsonObject,
  type TxnBounds,
} from './json.js';
import type { EtcdHeader, KvService } from './service.js';
import { WatchStream } from './watch-stream.js';
import { WatchSockets } from './watch-websocket.js';
import {
  contentTypeOf,
  dialectOf,
  encodeAnswer,
  encodeStreamError,
  encodeStreamResult,
  encodeUnaryError,
  newSplitter,
  parseBody,
  streamDelimiter,
  type Answer,
} from './wire.js';

export interface EtcdGatewayOptions {
  readonly service: KvService;
  readonly logger: Logger;
  /** etcd's --max-request-bytes: a write whose protobuf encoding is larger fails with "etcdserver: request is too large". */
  readonly requestBytesMax: number;
  /** etcd's --max-txn-ops: the most compares, or ops in one branch, of a txn. */
  readonly txnOpsMax: number;
  /** A watch receiver with more unsent bytes than this is cut off (DESIGN rule 6). */
  readonly watchBufferBytesMax: number;
  /** Watches one HTTP watch stream or one WebSocket may hold. */
  readonly watchesPerStreamMax: number;
  /** Keep-alive requests one POST /v3/lease/keepalive may carry. */
  readonly keepAliveRequestsMax: number;
  /** WebSocket ping period (a socket that misses one round is terminated); TCP keep-alive delay of HTTP watch streams. */
  readonly heartbeatIntervalMs: number;
  /** How long an ended stream may take to drain to its peer before its connection is destroyed. */
  readonly streamCloseGraceMs: number;
}

/** The defaults, etcd's where etcd has one (--max-request-bytes 1.5 MiB, --max-txn-ops 128). */
export const etcdGatewayDefaults = {
  requestBytesMax: 1.5 * 1024 * 1024,
  txnOpsMax: 128,
  watchBufferBytesMax: 4 * 1024 * 1024,
  watchesPerStreamMax: 1_000,
  keepAliveRequestsMax: 1_000,
  heartbeatIntervalMs: 30_000,
  streamCloseGraceMs: 5_000,
} as const satisfies Omit<EtcdGatewayOptions, 'service' | 'logger'>;

export interface EtcdGateway {
  /** Serves the request if it is for the gateway (a path under /v3/ or /v3beta/); returns whether it took it. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Takes a WebSocket upgrade for the watch path; returns whether it took it. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Ends every watch stream and socket, refuses new requests, and resolves once they are gone. */
  close(): Promise<void>;
}

/** What gRPC adds on top of etcd's request limit (etcd's grpcOverheadBytes): its server refuses a message past the sum. */
const GRPC_OVERHEAD_BYTES = 512 * 1024;
/** The InternalRaftRequest a write travels in (its header and the field framing) around the request itself. */
const RAFT_ENVELOPE_BYTES = 16;
/** Keep-alive requests nest one level, watch requests three: deeper JSON is not a request. */
const STREAM_MESSAGE_DEPTH_MAX = 8;

export const CLIENT_ID_HEADER = 'x-raftplane-client-id';
export const SEQUENCE_HEADER = 'x-raftplane-sequence';
/** A client id: visible ASCII characters, as many as the store keeps (CLIENT_ID_LENGTH_MAX). */
const CLIENT_ID = new RegExp(`^[\\x21-\\x7e]{1,${CLIENT_ID_LENGTH_MAX}}$`);
const SEQUENCE = /^(?:0|[1-9][0-9]{0,15})$/;

const OPTION_NAMES = ['service', 'logger', ...Object.keys(etcdGatewayDefaults)];

function validateOptions(options: EtcdGatewayOptions): void {
  const invalid = (name: string, message: string): MasterError =>
    new MasterError(MasterErrorCode.InvalidConfig, `etcd gateway option ${name}: ${message}`, { path: name });
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name)) throw invalid(name, `unknown option (known: ${OPTION_NAMES.join(', ')})`);
  }
  if (typeof options.service !== 'object' || options.service === null) throw invalid('service', 'a KvService is required');
  if (typeof options.logger !== 'object' || options.logger === null) throw invalid('logger', 'a pino logger is required');
  const minimums: Record<keyof typeof etcdGatewayDefaults, number> = {
    requestBytesMax: 1024,
    txnOpsMax: 1,
    watchBufferBytesMax: 1024,
    watchesPerStreamMax: 1,
    keepAliveRequestsMax: 1,
    heartbeatIntervalMs: 10,
    streamCloseGraceMs: 1,
  };
  for (const [name, minimum] of Object.entries(minimums)) {
    const value = (options as unknown as Record<string, unknown>)[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) throw invalid(name, `an integer >= ${minimum} is required, got ${String(value)}`);
  }
}

/** A unary route: how to read its request, what etcd checks, whether it is proposed, what it calls, how it answers. */
interface UnarySpec<Req, Res> {
  readonly decode: (reader: FieldReader, bounds: TxnBounds) => Req;
  readonly check?: (request: Req, txnOpsMax: number) => void;
  /** Goes through Raft, so etcd's --max-request-bytes applies (reads and lease keep-alives do not). */
  readonly proposed: (request: Req) => boolean;
  readonly call: (service: KvService, request: Req, session: ClientSession | null) => Promise<Res>;
  readonly answer: (service: KvService, response: Res) => Answer;
}

type Route =
  | { readonly kind: 'unary'; readonly serve: (value: unknown, dialect: Dialect, session: ClientSession | null) => Promise<Answer> }
  | { readonly kind: 'keepalive' }
  | { readonly kind: 'watch' };

/** The answer for a response with its revision in an internal header, under etcd's full header. */
function headed<Res extends { readonly header: ResponseHeader }>(service: KvService, response: Res, json: (response: Res, header: EtcdHeader) => JsonObject): Answer {
  const header = service.header(response.header.revision);
  return { json: () => json(response, header), internal: () => ({ ...response, header }) };
}

const always = (): boolean => true;
const never = (): boolean => false;

export function createEtcdGateway(options: EtcdGatewayOptions): EtcdGateway {
  validateOptions(options);
  return new Gateway(options);
}

class Gateway implements EtcdGateway {
  private readonly service: KvService;
  private readonly logger: Logger;
  /** gRPC's receive limit in etcd (--max-request-bytes plus its overhead): no request may encode larger. */
  private readonly grpcMessageBytesMax: number;
  /** The body limit: room for the largest request as JSON (base64 makes bytes 4/3 larger, and JSON adds its syntax). */
  private readonly bodyBytesMax: number;
  private readonly streamLimits: { readonly messageBytesMax: number; readonly depthMax: number };
  private readonly forwarder = createForwardingAgent();
  /** Open HTTP watch streams, each with the promise of its response's close. */
  private readonly watchStreams = new Map<WatchStream, Promise<void>>();
  private readonly sockets: WatchSockets;
  private readonly routes: ReadonlyMap<string, Route>;
  private closing = false;

  constructor(private readonly options: EtcdGatewayOptions) {
    this.service = options.service;
    this.logger = options.logger;
    this.grpcMessageBytesMax = options.requestBytesMax + GRPC_OVERHEAD_BYTES;
    this.bodyBytesMax = 2 * this.grpcMessageBytesMax;
    this.streamLimits = { messageBytesMax: this.bodyBytesMax, depthMax: STREAM_MESSAGE_DEPTH_MAX };
    this.sockets = new WatchSockets({
      service: options.service,
      logger: options.logger,
      messageBytesMax: this.bodyBytesMax,
      watchBufferBytesMax: options.watchBufferBytesMax,
      watchesPerStreamMax: options.watchesPerStreamMax,
      pingIntervalMs: options.heartbeatIntervalMs,
      closeTimeoutMs: options.streamCloseGraceMs,
    });
    this.routes = this.buildRoutes();
  }

  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = gatewayPath(req.url);
    if (path === null) return false;
    const route = this.routes.get(path);
    // grpc-gateway's own refusals are plain text (http.Error), not etcd errors.
    if (route === undefined) sendText(res, 404, 'Not Found');
    else if (req.method !== 'POST') sendText(res, 405, 'Method Not Allowed');
    else {
      const dialect = dialectOf(req);
      this.dispatch(route, req, res, dialect).catch((error: unknown) => this.respondError(req, res, dialect, error));
    }
    return true;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (gatewayPath(req.url) !== '/v3/watch') return false;
    if (this.closing) socket.destroy();
    else this.sockets.upgrade(req, socket, head);
    return true;
  }

  async close(): Promise<void> {
    this.closing = true;
    const closed = [...this.watchStreams.entries()].map(([stream, done]) => {
      stream.fail(new EtcdGatewayError('ETCD_GW_CLOSING', 'raftplane: the server is shutting down'));
      return done;
    });
    await Promise.all([...closed, this.sockets.close()]);
    await this.forwarder.close();
  }

  /** rpc.proto's google.api.http bindings, with etcd 3.4's /v3/kv/lease/* aliases. */
  private buildRoutes(): Map<string, Route> {
    const leaseRevoke = this.unary({ decode: decodeLeaseId, proposed: always, call: (s, r) => s.leaseRevoke(r), answer: (s, r) => headed(s, r, headerOnlyJson) });
    const leaseTimeToLive = this.unary({ decode: decodeLeaseTimeToLive, proposed: never, call: (s, r) => s.leaseTimeToLive(r), answer: (s, r) => headed(s, r, leaseTimeToLiveJson) });
    const leaseLeases = this.unary({ decode: decodeEmpty, proposed: never, call: (s) => s.leaseLeases(), answer: (s, r) => headed(s, r, leaseLeasesJson) });
    return new Map<string, Route>([
      ['/v3/kv/range', this.unary({ decode: decodeRange, check: checkRange, proposed: never, call: (s, r) => s.range(r), answer: (s, r) => headed(s, r, rangeJson) })],
      ['/v3/kv/put', this.unary({ decode: decodePut, check: checkPut, proposed: always, call: (s, r, session) => s.put(r, session), answer: (s, r) => headed(s, r, putJson) })],
      [
        '/v3/kv/deleterange',
        this.unary({ decode: decodeDeleteRange, check: checkDeleteRange, proposed: always, call: (s, r, session) => s.deleteRange(r, session), answer: (s, r) => headed(s, r, deleteRangeJson) }),
      ],
      [
        '/v3/kv/txn',
        this.unary({ decode: decodeTxn, check: checkTxn, proposed: (r) => !isTxnReadOnly(r), call: (s, r, session) => s.txn(r, session), answer: (s, r) => headed(s, r, txnJson) }),
      ],
      ['/v3/kv/compaction', this.unary({ decode: decodeCompaction, proposed: always, call: (s, r) => s.compact(r), answer: (s, r) => headed(s, r, headerOnlyJson) })],
      ['/v3/lease/grant', this.unary({ decode: decodeLeaseGrant, proposed: always, call: (s, r) => s.leaseGrant(r), answer: (s, r) => headed(s, r, leaseJson) })],
      ['/v3/lease/revoke', leaseRevoke],
      ['/v3/kv/lease/revoke', leaseRevoke],
      ['/v3/lease/keepalive', { kind: 'keepalive' }],
      ['/v3/lease/timetolive', leaseTimeToLive],
      ['/v3/kv/lease/timetolive', leaseTimeToLive],
      ['/v3/lease/leases', leaseLeases],
      ['/v3/kv/lease/leases', leaseLeases],
      ['/v3/maintenance/status', this.current((s) => s.status(), statusJson, (status, header) => ({ header, ...status }))],
      // etcd's cluster server builds this header without a revision.
      ['/v3/cluster/member/list', this.current((s) => s.members(), memberListJson, (members, header) => ({ header: { ...header, revision: 0 }, members }))],
      ['/v3/watch', { kind: 'watch' }],
    ]);
  }

  /** In etcd's order: gRPC's size limit, v3rpc's checks, the server's Raft size limit (writes only), then the call. */
  private unary<Req, Res>(spec: UnarySpec<Req, Res>): Route {
    const { txnOpsMax, requestBytesMax } = this.options;
    return {
      kind: 'unary',
      serve: async (value, dialect, session) => {
        const reader = FieldReader.of(value, '', dialect);
        const request = spec.decode(reader, { txnOpsMax, depth: 1 });
        this.checkMessageSize(reader.sizeBytes);
        spec.check?.(request, txnOpsMax);
        if (spec.proposed(request) && reader.sizeBytes + RAFT_ENVELOPE_BYTES > requestBytesMax) throw new KvError('KV_REQUEST_TOO_LARGE');
        return spec.answer(this.service, await spec.call(this.service, request, session));
      },
    };
  }

  /** A route that reports the member's state now, under the header of the current revision (header(0), as etcd's hdr.fill). */
  private current<Res>(get: (s: KvService) => Res, json: (response: Res, header: EtcdHeader) => JsonObject, internal: (response: Res, header: EtcdHeader) => unknown): Route {
    return this.unary({
      decode: decodeEmpty,
      proposed: never,
      call: async (s) => get(s),
      answer: (s, response) => {
        const header = s.header(0);
        return { json: () => json(response, header), internal: () => internal(response, header) };
      },
    });
  }

  /** gRPC's receive limit, on the request's protobuf encoding, as etcd's gRPC server applies it to every request. */
  private checkMessageSize(sizeBytes: number): void {
    if (sizeBytes > this.grpcMessageBytesMax) {
      throw new EtcdGatewayError('ETCD_GW_MESSAGE_TOO_LARGE', `grpc: received message larger than max (${sizeBytes} vs. ${this.grpcMessageBytesMax})`);
    }
  }

  private async dispatch(route: Route, req: IncomingMessage, res: ServerResponse, dialect: Dialect): Promise<void> {
    if (this.closing) throw new KvError('KV_STOPPING');
    switch (route.kind) {
      case 'unary':
        return this.serveUnary(route, req, res, dialect);
      case 'keepalive':
        return this.serveKeepAlive(req, res, dialect);
      case 'watch':
        return this.serveWatch(req, res, dialect);
    }
  }

  /** Answers a failed request as etcd's gateway does; a body left unread closes the connection. */
  private respondError(req: IncomingMessage, res: ServerResponse, dialect: Dialect, error: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const failure = toEtcdFailure(error);
    if (failure.grpcCode === Grpc.Unknown) this.logger.error({ err: error, url: req.url }, 'etcd gateway: request failed');
    const body = encodeUnaryError(dialect, failure);
    const headers: Record<string, string | number> = { 'content-type': contentTypeOf(dialect), 'content-length': body.byteLength };
    if (!req.complete) headers['connection'] = 'close';
    res.writeHead(failure.httpStatus, headers);
    res.end(body);
  }

  private readRequestBody(req: IncomingMessage): Promise<Buffer> {
    return readBody(req, this.bodyBytesMax, (bytesMax, declared) => {
      const size = declared === null ? `more than ${bytesMax}` : String(declared);
      return new EtcdGatewayError('ETCD_GW_MESSAGE_TOO_LARGE', `grpc: received message larger than max (request body of ${size} vs. ${bytesMax} bytes)`);
    });
  }

  /** Passes a request a follower cannot serve to the leader, once: a forwarded request is never forwarded again. */
  private async forward(req: IncomingMessage, res: ServerResponse, body: Buffer, notLeader: KvError): Promise<void> {
    if (req.headers[FORWARDED_HEADER] !== undefined) throw notLeader;
    const leader = this.service.leaderApi();
    if (leader === null) throw new KvError('KV_NO_LEADER');
    const headers: Record<string, string> = { [FORWARDED_HEADER]: String(this.service.memberId) };
    for (const name of ['content-type', CLIENT_ID_HEADER, SEQUENCE_HEADER]) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    try {
      await relayRequest({ target: leader, path: req.url ?? '/', body, headers, dispatcher: this.forwarder }, res);
    } catch (error) {
      // The client left (nothing to answer), or the leader could not be asked: etcd's "no leader".
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      this.logger.warn({ err: error, leader: leader.id, url: req.url }, 'etcd gateway: forwarding to the leader failed');
      // Only a connection never made carried nothing: "no leader" tells a client it is safe to
      // retry. Once the request may have reached the leader, it may have been applied: say
      // so as etcd does for a lost connection (a timeout, outcome unknown). The chaos checkers
      // found this: a write answered "no leader" here was in the final state.
      const code = (error as { code?: unknown }).code;
      if (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT') throw new KvError('KV_NO_LEADER');
      throw new KvError('KV_TIMEOUT', 'etcdserver: request timed out, possibly due to connection lost', { leader: leader.id });
    }
  }

  private async serveUnary(route: Extract<Route, { kind: 'unary' }>, req: IncomingMessage, res: ServerResponse, dialect: Dialect): Promise<void> {
    const session = parseSession(req);
    const body = await this.readRequestBody(req);
    let answer: Answer;
    try {
      answer = await route.serve(parseBody(dialect, body), dialect, session);
    } catch (error) {
      if (isKvError(error, 'KV_NOT_LEADER')) return this.forward(req, res, body, error);
      throw error;
    }
    const encoded = encodeAnswer(dialect, answer);
    res.writeHead(200, { 'content-type': contentTypeOf(dialect), 'content-length': encoded.byteLength });
    res.end(encoded);
  }

  /** Every keep-alive request of a body, checked whole before the first is served. */
  private keepAliveRequests(body: Buffer, dialect: Dialect): LeaseKeepAliveRequest[] {
    const splitter = newSplitter(dialect, this.streamLimits);
    const messages = splitter.feed(body);
    splitter.end();
    const { keepAliveRequestsMax } = this.options;
    if (messages.length > keepAliveRequestsMax) {
      throw new EtcdGatewayError('ETCD_GW_TOO_MANY_REQUESTS', `raftplane: ${messages.length} keep-alive requests in one POST, at most ${keepAliveRequestsMax} (keepAliveRequestsMax)`);
    }
    return messages.map((message) => {
      const reader = FieldReader.of(message, '', dialect);
      const request = decodeLeaseId(reader);
      this.checkMessageSize(reader.sizeBytes);
      return request;
    });
  }

  /**
   * POST /v3/lease/keepalive: a stream of LeaseKeepAliveRequests in, one {"result": …} line per
   * request out, then the end (etcd ends the stream when the request body ends). The status line
   * waits for the first answer, as grpc-gateway's does, so a failure before it gets its own status.
   */
  private async serveKeepAlive(req: IncomingMessage, res: ServerResponse, dialect: Dialect): Promise<void> {
    parseSession(req);
    const body = await this.readRequestBody(req);
    const requests = this.keepAliveRequests(body, dialect);
    const start = (status: number): void => {
      if (!res.headersSent) res.writeHead(status, { 'content-type': contentTypeOf(dialect) });
    };
    for (const [index, request] of requests.entries()) {
      let answer: Answer;
      try {
        answer = headed(this.service, await this.service.leaseKeepAlive(request), leaseJson);
      } catch (error) {
        if (index === 0 && isKvError(error, 'KV_NOT_LEADER')) return this.forward(req, res, body, error);
        if (!isKvError(error, 'KV_LEASE_NOT_FOUND')) {
          const failure = toEtcdFailure(error);
          start(failure.httpStatus);
          res.end(encodeStreamError(dialect, failure));
          return;
        }
        // etcd's LeaseServer answers a lease it does not know with TTL 0, not an error.
        answer = headed(this.service, { header: { revision: 0 }, id: request.id, ttl: 0 }, leaseJson);
      }
      start(200);
      res.write(Buffer.concat([encodeStreamResult(dialect, answer), Buffer.from(streamDelimiter(dialect))]));
      if (res.destroyed) return;
    }
    start(200);
    res.end();
  }

  /** An HTTP watch stream, its status line sent: created once its first request has been checked. */
  private openWatchStream(req: IncomingMessage, res: ServerResponse, dialect: Dialect): WatchStream {
    const { service, logger, options } = this;
    res.writeHead(200, { 'content-type': contentTypeOf(dialect) });
    res.flushHeaders();
    req.socket.setKeepAlive(true, options.heartbeatIntervalMs);
    const stream = new WatchStream({
      service,
      logger,
      dialect,
      watchBufferBytesMax: options.watchBufferBytesMax,
      watchesPerStreamMax: options.watchesPerStreamMax,
      slowReceiver: 'end-stream',
      answered: true,
      output: httpWatchOutput(res, dialect, options.streamCloseGraceMs),
    });
    this.watchStreams.set(stream, new Promise((resolveClosed) => res.once('close', () => resolveClosed())));
    res.once('close', () => {
      stream.close();
      this.watchStreams.delete(stream);
    });
    return stream;
  }

  /**
   * POST /v3/watch: the request body is a stream of WatchRequests, read as it comes; the answer a
   * stream of {"result": WatchResponse} lines that lasts until the client goes away. Headers are
   * sent as soon as the first request has been checked (so a bad first request still gets its 400).
   */
  private serveWatch(req: IncomingMessage, res: ServerResponse, dialect: Dialect): void {
    parseSession(req);
    const splitter = newSplitter(dialect, this.streamLimits);
    let stream: WatchStream | null = null;
    const refuse = (error: unknown): void => {
      req.off('data', onData);
      if (stream === null) this.respondError(req, res, dialect, error);
      else stream.fail(error);
    };
    const onData = (chunk: Buffer): void => {
      try {
        for (const message of splitter.feed(chunk)) {
          const request = decodeWatchRequest(FieldReader.of(message, '', dialect));
          stream ??= this.openWatchStream(req, res, dialect);
          stream.apply(request);
        }
      } catch (error) {
        refuse(error);
      }
    };
    req.on('data', onData);
    req.once('end', () => {
      try {
        splitter.end();
      } catch (error) {
        refuse(error);
        return;
      }
      // No request at all: as etcd's gateway, the stream stays open (and empty) until the client leaves.
      if (stream === null && !res.headersSent) stream = this.openWatchStream(req, res, dialect);
    });
    res.once('close', () => req.off('data', onData));
  }
}

/** The route path for a gateway URL (/v3beta/ rewritten to /v3/, as etcd 3.4's accessController does), or null. */
function gatewayPath(url: string | undefined): string | null {
  const path = (url ?? '/').split('?', 1)[0] as string;
  if (path.startsWith('/v3/')) return path;
  if (path.startsWith('/v3beta/')) return `/v3/${path.slice('/v3beta/'.length)}`;
  return null;
}

/** The exactly-once session of a write (Raft dissertation §6.3): both headers or neither. */
export function parseSession(req: IncomingMessage): ClientSession | null {
  const clientId = req.headers[CLIENT_ID_HEADER];
  const sequence = req.headers[SEQUENCE_HEADER];
  if (clientId === undefined && sequence === undefined) return null;
  if (clientId === undefined || sequence === undefined) {
    const given = clientId === undefined ? SEQUENCE_HEADER : CLIENT_ID_HEADER;
    const missing = clientId === undefined ? CLIENT_ID_HEADER : SEQUENCE_HEADER;
    throw new EtcdGatewayError('ETCD_GW_INVALID_SESSION', `raftplane: ${given} was given without ${missing}; send both or neither`);
  }
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) {
    throw new EtcdGatewayError('ETCD_GW_INVALID_SESSION', `raftplane: ${CLIENT_ID_HEADER} must be 1 to ${CLIENT_ID_LENGTH_MAX} visible ASCII characters, got ${JSON.stringify(clientId)}`);
  }
  const number = typeof sequence === 'string' && SEQUENCE.test(sequence) ? Number(sequence) : NaN;
  if (!Number.isSafeInteger(number)) {
    throw new EtcdGatewayError('ETCD_GW_INVALID_SESSION', `raftplane: ${SEQUENCE_HEADER} must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(sequence)}`);
  }
  return { clientId, sequence: number };
}

/** Go's http.Error: the text, a newline, text/plain, nosniff. */
function sendText(res: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A watch stream's HTTP body: each message is one chunk (with its delimiter); the end waits streamCloseGraceMs at most. */
function httpWatchOutput(res: ServerResponse, dialect: Dialect, graceMs: number) {
  const delimiter = Buffer.from(streamDelimiter(dialect));
  return {
    write: (message: Buffer): void => {
      res.write(delimiter.byteLength === 0 ? message : Buffer.concat([message, delimiter]));
    },
    // OutgoingMessage.writableLength already counts what its socket holds.
    bufferedBytes: (): number => res.writableLength,
    end: (last: Buffer | null): void => {
      const socket = res.socket;
      // A peer that reads nothing would hold the connection open forever: give it a grace period.
      const destroy = setTimeout(() => res.destroy(), graceMs);
      res.once('close', () => clearTimeout(destroy));
      // The request body may still be coming: the connection ends with the answer, not after it.
      res.once('finish', () => socket?.end());
      if (last === null) res.end();
      else res.end(last);
    },
  };
}
