// Kubernetes' API over HTTP on every master: authentication, fairness limits, body limits, then
// either the local handler (on the leader, and for discovery everywhere) or forwarding to the
// leader (followers: plain requests with undici, watches over chunked HTTP and WebSocket alike).
// Every answer names the leader in `x-raftplane-leader`, so clients can go straight there.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  internalError,
  isStatusError,
  requestEntityTooLargeError,
  StatusError,
  unauthorizedError,
  versionInfo,
  type Status,
} from '@raftplane/api';
import { Agent, request as undiciRequest } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { ApiHandler, notFoundPath, type ApiRequest, type ApiResult } from './api-handler.js';
import type { ApiBackend } from './backend.js';
import { readBody } from './http-body.js';
import { InflightLimiter } from './inflight.js';
import { serviceUnavailable, timeoutError } from './kv-errors.js';
import type { ApiLogger } from './logger.js';
import { startObjectWatch, type ObjectWatch, type WatchEvent, type WatchOutput } from './object-watch.js';
import { parseRoute } from './router.js';
import type { Authenticator } from './tokens.js';
import type { UserInfo } from './authz.js';
import { watchEventPresenter } from './watch-presentation.js';

/** Marks a request one master forwarded to another, so that it is never forwarded twice. */
export const FORWARDED_BY_HEADER = 'x-raftplane-forwarded-by';
/** The leader's API address, on every answer when it is known. */
export const LEADER_HEADER = 'x-raftplane-leader';

export interface LeaderView {
  /** This master leads and may serve requests itself. */
  isLeader(): boolean;
  /** The leader's API address, or null while none is known. */
  leaderApi(): { readonly host: string; readonly port: number } | null;
  /** This master's id, for FORWARDED_BY_HEADER and logs. */
  readonly selfId: number;
}

export interface KubeApiLimits {
  /** Request bodies past it get 413 (Kubernetes: 3 MiB). */
  readonly bodyBytesMax: number;
  readonly inflightPerUserMax: number;
  readonly inflightMax: number;
  /** How long a request waits for a leader during an election before 503. */
  readonly leaderWaitMs: number;
  /** Bytes a watch may have unsent before its events are held back (and, held too long, it is cut off). */
  readonly watchBufferBytesMax: number;
}

export interface KubeApiServerOptions {
  readonly handler: ApiHandler;
  readonly backend: ApiBackend;
  readonly leader: LeaderView;
  readonly authenticate: Authenticator;
  readonly limits: KubeApiLimits;
  readonly logger: ApiLogger;
  readonly now: () => number;
  /** The connection pool to the leader. */
  readonly dispatcher: Agent;
}

const PASSED_HEADERS = ['authorization', 'accept', 'content-type', 'user-agent'] as const;
const RELAYED_HEADERS = ['content-type', 'retry-after', 'cache-control', 'transfer-encoding'];

function statusBody(error: unknown): Status {
  return isStatusError(error) ? error.status : internalError((error as Error).message ?? String(error)).status;
}

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

function retryAfterOf(status: Status): Record<string, string> {
  const seconds = status.details?.retryAfterSeconds;
  return seconds !== undefined && seconds > 0 ? { 'retry-after': String(seconds) } : {};
}

/** Writes an HTTP error answer on a socket that has not been upgraded. */
function refuseUpgrade(socket: Duplex, status: Status): void {
  const text = JSON.stringify(status);
  const retry = retryAfterOf(status)['retry-after'];
  socket.end(
    `HTTP/1.1 ${status.code} ${status.reason ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      (retry === undefined ? '' : `Retry-After: ${retry}\r\n`) +
      `Connection: close\r\n\r\n${text}`,
  );
}

function isConnectFailure(error: unknown): boolean {
  const code = (error as { code?: string; cause?: { code?: string } }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}


/**
 * Corks `stream` until the end of the current tick, at most once per tick. The watch hub hands a
 * watcher every revision of an applied batch in one synchronous run, one write() per revision:
 * corked, they leave in one socket write instead of one each (on loopback a write costs tens of
 * microseconds, and under a burst of pods each watcher gets thousands of revisions a second).
 */
function tickCorker(stream: { cork(): void; uncork(): void }): () => void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    stream.uncork();
  };
  return () => {
    if (corked) return;
    corked = true;
    stream.cork();
    process.nextTick(uncork);
  };
}
export class KubeApiServer {
  private readonly limiter: InflightLimiter;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, handleProtocols: (protocols) => [...protocols].find((p) => !p.startsWith('base64url.bearer.')) ?? false });
  private readonly watches = new Set<ObjectWatch>();
  private readonly sockets = new Set<WebSocket>();
  private closed = false;

  constructor(private readonly options: KubeApiServerOptions) {
    this.limiter = new InflightLimiter({ perUserMax: options.limits.inflightPerUserMax, totalMax: options.limits.inflightMax });
    // The leader hint on WebSocket upgrades too: a client that only watches still learns it.
    this.wss.on('headers', (headers) => {
      for (const [name, value] of Object.entries(this.leaderHeader())) headers.push(`${name}: ${value}`);
    });
  }

  /** Whether a path is the Kubernetes API's (the master routes everything else elsewhere). */
  static serves(path: string): boolean {
    return path === '/api' || path === '/apis' || path.startsWith('/api/') || path.startsWith('/apis/') || path === '/version' || path.startsWith('/openapi/');
  }

  get refusals(): { readonly user: number; readonly total: number } {
    return this.limiter.refused;
  }

  /** Stops every watch (their clients see the stream end and resume elsewhere). */
  close(): void {
    this.closed = true;
    this.options.handler.close();
    for (const watch of this.watches) watch.stop();
    this.watches.clear();
    for (const ws of this.sockets) ws.close(1001, 'server shutting down');
    this.wss.close();
  }

  private leaderHeader(): Record<string, string> {
    const leader = this.options.leader.leaderApi();
    return leader === null ? {} : { [LEADER_HEADER]: `http://${leader.host}:${leader.port}` };
  }

  private sendError(res: ServerResponse, error: unknown, req: IncomingMessage): void {
    const status = statusBody(error);
    if (!isStatusError(error)) this.options.logger.error({ err: error, method: req.method, url: req.url }, 'API request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, status.code, status, { ...retryAfterOf(status), ...this.leaderHeader(), ...(status.code === 413 ? { connection: 'close' } : {}) });
  }

  /** Serves one HTTP request to the Kubernetes API. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.serve(req, res).catch((error: unknown) => this.sendError(res, error, req));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://apiserver');
    const path = url.pathname;
    for (const [name, value] of Object.entries(this.leaderHeader())) res.setHeader(name, value);
    if (path === '/version') return sendJson(res, 200, versionInfo());
    // No OpenAPI schema is served: an empty protobuf document makes kubectl skip validation and
    // `explain` say so (kubectl-wire.md §4), and a 404 for v3 makes it fall back to v2.
    if (path === '/openapi/v2') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 0 });
      res.end();
      return;
    }
    if (path.startsWith('/openapi/')) throw notFoundPath();
    const user = this.options.authenticate(req.headers.authorization);
    if (user === null) throw unauthorizedError();
    const watching = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1' || path.includes('/watch/');
    // `kubectl logs -f` is long-running like a watch: it holds no slot of the in-flight limit.
    const followingLogs = path.endsWith('/log') && (url.searchParams.get('follow') === 'true' || url.searchParams.get('follow') === '1');
    const release = watching || followingLogs ? () => {} : this.limiter.acquire(user.name);
    try {
      const body = await readBody(req, this.options.limits.bodyBytesMax, (max, declared) =>
        requestEntityTooLargeError(declared === null ? `the request body exceeds the limit of ${max} bytes` : `the request body of ${declared} bytes exceeds the limit of ${max} bytes`),
      );
      const local = parseRoute(path).kind !== 'resource';
      if (!local && !this.options.leader.isLeader()) return await this.forward(req, res, body);
      await this.serveResult(await this.options.handler.handle(this.apiRequest(req, url, body, user)), res);
    } finally {
      release();
    }
  }

  private apiRequest(req: IncomingMessage, url: URL, body: Buffer | null, user: UserInfo): ApiRequest {
    return {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: { accept: req.headers.accept, contentType: req.headers['content-type'], userAgent: req.headers['user-agent'] },
      body: body === null || body.byteLength === 0 ? null : body,
      user,
    };
  }

  /**
   * The leader to forward to, waiting (bounded) through an election: null when this master has
   * become the leader meanwhile. Throws 503 with Retry-After when no leader appears in time.
   */
  private async leaderTarget(deadline: number): Promise<{ host: string; port: number } | null> {
    for (;;) {
      if (this.options.leader.isLeader()) return null;
      const leader = this.options.leader.leaderApi();
      if (leader !== null) return leader;
      if (this.options.now() >= deadline || this.closed) throw serviceUnavailable('no leader is elected at the moment: the masters are holding an election; retry shortly', 1);
      await sleep(50);
    }
  }

  /** Sends a request on to the leader and streams the answer back (watches included). */
  private async forward(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    if (req.headers[FORWARDED_BY_HEADER] !== undefined) {
      // The forwarding master thought this one leads; it no longer does. Never forward twice.
      throw serviceUnavailable(`master ${this.options.leader.selfId} is not the leader (it was a moment ago); retry shortly`, 1);
    }
    const deadline = this.options.now() + this.options.limits.leaderWaitMs;
    const headers: Record<string, string> = { [FORWARDED_BY_HEADER]: String(this.options.leader.selfId) };
    for (const name of PASSED_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const gone = new AbortController();
    const onClose = (): void => gone.abort(new Error('the client went away'));
    res.once('close', onClose);
    try {
      for (;;) {
        const target = await this.leaderTarget(deadline);
        if (target === null) {
          // Became the leader while waiting: serve it here.
          const url = new URL(req.url ?? '/', 'http://apiserver');
          const user = this.options.authenticate(req.headers.authorization);
          if (user === null) throw unauthorizedError();
          return await this.serveResult(await this.options.handler.handle(this.apiRequest(req, url, body, user)), res);
        }
        let answer;
        try {
          answer = await undiciRequest(`http://${target.host}:${target.port}${req.url ?? '/'}`, {
            method: (req.method ?? 'GET') as 'GET',
            headers,
            body: body.byteLength > 0 ? body : null,
            dispatcher: this.options.dispatcher,
            signal: gone.signal,
          });
        } catch (error) {
          if (gone.signal.aborted) return;
          // The leader could not be reached at all, so nothing was done: wait for the next one.
          if (isConnectFailure(error) && this.options.now() < deadline) {
            await sleep(100);
            continue;
          }
          if (req.method === 'GET') throw serviceUnavailable(`the leader (${target.host}:${target.port}) could not be reached: ${(error as Error).message}; retry shortly`, 1);
          throw timeoutError(`Timeout: the leader (${target.host}:${target.port}) did not answer (${(error as Error).message}); the request may or may not have been applied`);
        }
        const relayed: Record<string, string> = {};
        for (const name of RELAYED_HEADERS) {
          const value = answer.headers[name];
          if (typeof value === 'string') relayed[name] = value;
        }
        const leaderHint = answer.headers[LEADER_HEADER];
        if (typeof leaderHint === 'string') relayed[LEADER_HEADER] = leaderHint;
        res.writeHead(answer.statusCode, relayed);
        res.flushHeaders();
        return await relayBody(answer.body, res);
      }
    } finally {
      res.off('close', onClose);
    }
  }

  private async serveResult(result: ApiResult, res: ServerResponse): Promise<void> {
    if (result.type === 'response') return sendJson(res, result.status, result.body);
    if (result.type === 'proxy') return this.streamProxy(result.url, res);
    return this.streamWatch(result, res);
  }

  /**
   * Streams a node agent's answer (container logs) back as it comes. An error answer becomes a
   * Status with the agent's code and its one-line message; an agent that cannot be reached is 503.
   */
  private async streamProxy(url: string, res: ServerResponse): Promise<void> {
    const gone = new AbortController();
    const onClose = (): void => gone.abort(new Error('the client went away'));
    res.once('close', onClose);
    try {
      let answer;
      try {
        answer = await undiciRequest(url, { method: 'GET', dispatcher: this.options.dispatcher, signal: gone.signal, headersTimeout: 10_000, bodyTimeout: 0 });
      } catch (error) {
        if (gone.signal.aborted) return;
        throw serviceUnavailable(`the node agent at ${new URL(url).host} could not be reached: ${(error as Error).message}`, 1);
      }
      if (answer.statusCode !== 200) {
        const message = (await answer.body.text()).trim();
        const reason = answer.statusCode === 404 ? 'NotFound' : answer.statusCode === 400 ? 'BadRequest' : 'InternalError';
        return sendJson(res, answer.statusCode, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: answer.statusCode });
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
      res.flushHeaders();
      await relayBody(answer.body, res);
    } finally {
      res.off('close', onClose);
    }
  }

  private async streamWatch(result: Extract<ApiResult, { type: 'watch' }>, res: ServerResponse): Promise<void> {
    const present = watchEventPresenter(result.options.info, result.presentation, this.options.now);
    let closed = false;
    let watch: ObjectWatch | null = null;
    const ensureHeaders = (): void => {
      if (res.headersSent) return;
      // Headers at once: kubectl waits for them before it reads any event (kubectl-wire.md §3).
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
      res.flushHeaders();
    };
    const cork = tickCorker(res);
    const output: WatchOutput = {
      hasRoom: () => res.writableLength < this.options.limits.watchBufferBytesMax,
      write: (events: readonly WatchEvent[]) => {
        if (closed) return;
        ensureHeaders();
        cork();
        let text = '';
        for (const event of events) text += `${JSON.stringify(present(event))}\n`;
        res.write(text);
      },
      end: () => {
        ensureHeaders();
        res.end();
      },
    };
    res.once('close', () => {
      closed = true;
      if (watch !== null) {
        watch.stop();
        this.watches.delete(watch);
      }
    });
    watch = await startObjectWatch(this.options.backend, {
      ...result.options,
      output,
      onCutOff: (reason) => this.options.logger.warn({ resource: result.options.info.resource, reason }, 'watch cut off'),
    });
    if (closed) {
      watch.stop();
      return;
    }
    this.watches.add(watch);
    ensureHeaders();
  }

  /** A WebSocket upgrade for a watch; false when the path is not the Kubernetes API's. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://apiserver');
    if (!KubeApiServer.serves(url.pathname)) return false;
    this.upgrade(req, socket, head, url).catch((error: unknown) => {
      if (!isStatusError(error)) this.options.logger.error({ err: error, url: req.url }, 'WebSocket watch failed');
      if (!socket.destroyed) refuseUpgrade(socket, statusBody(error));
    });
    return true;
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const user = this.options.authenticate(req.headers.authorization, req.headers['sec-websocket-protocol']);
    if (user === null) throw unauthorizedError();
    if (!this.options.leader.isLeader()) return this.forwardUpgrade(req, socket, head);
    const request = { ...this.apiRequest(req, url, null, user), method: 'GET' };
    if (request.query.get('watch') === null && !url.pathname.includes('/watch/')) request.query.set('watch', 'true');
    const result = await this.options.handler.handle(request);
    if (result.type !== 'watch') throw new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'a WebSocket may only carry a watch (?watch=true on a collection)', reason: 'BadRequest', code: 400 });
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.serveWebSocketWatch(ws, socket, result));
  }

  private async serveWebSocketWatch(ws: WebSocket, socket: Duplex, result: Extract<ApiResult, { type: 'watch' }>): Promise<void> {
    this.sockets.add(ws);
    const present = watchEventPresenter(result.options.info, result.presentation, this.options.now);
    let watch: ObjectWatch | null = null;
    let closed = false;
    ws.on('close', () => {
      closed = true;
      this.sockets.delete(ws);
      if (watch !== null) {
        watch.stop();
        this.watches.delete(watch);
      }
    });
    ws.on('error', () => ws.terminate());
    const cork = tickCorker(socket);
    const output: WatchOutput = {
      hasRoom: () => ws.bufferedAmount < this.options.limits.watchBufferBytesMax,
      write: (events) => {
        if (closed) return;
        cork();
        // One event per message: what our client and Kubernetes' WebSocket watchers expect.
        for (const event of events) ws.send(JSON.stringify(present(event)));
      },
      end: () => ws.close(1000, 'watch ended'),
    };
    try {
      watch = await startObjectWatch(this.options.backend, {
        ...result.options,
        output,
        onCutOff: (reason) => this.options.logger.warn({ resource: result.options.info.resource, reason }, 'WebSocket watch cut off'),
      });
    } catch (error) {
      if (!closed) {
        ws.send(JSON.stringify({ type: 'ERROR', object: statusBody(error) }));
        ws.close(1000, 'watch failed');
      }
      return;
    }
    if (closed) watch.stop();
    else this.watches.add(watch);
  }

  /** A follower relays a WebSocket watch to the leader's, message for message. */
  private async forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (req.headers[FORWARDED_BY_HEADER] !== undefined) throw serviceUnavailable(`master ${this.options.leader.selfId} is not the leader (it was a moment ago); retry shortly`, 1);
    const deadline = this.options.now() + this.options.limits.leaderWaitMs;
    for (;;) {
      const target = await this.leaderTarget(deadline);
      if (target === null) return this.upgrade(req, socket, head, new URL(req.url ?? '/', 'http://apiserver'));
      const headers: Record<string, string> = { [FORWARDED_BY_HEADER]: String(this.options.leader.selfId) };
      for (const name of ['authorization', 'accept', 'user-agent'] as const) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
      const upstream = new WebSocket(`ws://${target.host}:${target.port}${req.url ?? '/'}`, protocols, { headers, perMessageDeflate: false });
      // Messages may arrive in the same read as the handshake, before the client's socket is
      // upgraded: they wait here, in order, and nothing is lost (rule 6).
      const early: { data: WebSocket.RawData; isBinary: boolean }[] = [];
      let client: WebSocket | null = null;
      upstream.on('message', (data, isBinary) => {
        if (client === null) early.push({ data, isBinary });
        else client.send(data, { binary: isBinary });
      });
      const outcome = await new Promise<'open' | 'refused' | 'answered'>((resolve) => {
        upstream.once('open', () => resolve('open'));
        upstream.once('unexpected-response', (_request, response) => {
          // The leader answered with an error (401, 400, 410...): relay it as it is.
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            socket.end(`HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
            resolve('answered');
          });
        });
        upstream.once('error', () => resolve('refused'));
      });
      if (outcome === 'answered') return;
      if (outcome === 'refused') {
        upstream.terminate();
        if (this.options.now() >= deadline) throw serviceUnavailable(`the leader (${target.host}:${target.port}) could not be reached; retry shortly`, 1);
        await sleep(100);
        continue;
      }
      this.wss.handleUpgrade(req, socket, head, (upgraded) => {
        client = upgraded;
        this.sockets.add(upgraded);
        for (const message of early.splice(0)) upgraded.send(message.data, { binary: message.isBinary });
        upgraded.on('message', (data, isBinary) => upstream.send(data, { binary: isBinary }));
        const closeBoth = (): void => {
          this.sockets.delete(upgraded);
          if (upgraded.readyState === WebSocket.OPEN) upgraded.close(1000, 'watch ended');
          if (upstream.readyState === WebSocket.OPEN || upstream.readyState === WebSocket.CONNECTING) upstream.close(1000);
        };
        upstream.on('close', closeBoth);
        upgraded.on('close', closeBoth);
        upstream.on('error', () => upgraded.terminate());
        upgraded.on('error', () => upstream.terminate());
        // The leader may have ended the watch before the client's socket was ready.
        if (upstream.readyState === WebSocket.CLOSED || upstream.readyState === WebSocket.CLOSING) closeBoth();
      });
      return;
    }
  }
}

/** Copies an upstream answer's body to `res` as it comes, minding back-pressure; a broken upstream cuts `res`. */
async function relayBody(body: AsyncIterable<unknown>, res: ServerResponse): Promise<void> {
  try {
    for await (const chunk of body) {
      if (!res.write(chunk as Buffer)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
    }
    res.end();
  } catch {
    res.destroy();
  }
}
