// The master's HTTP port: status and health for operators and scripts, and etcd's v3 JSON API
// (the gateway in ./etcd), with the body reading and leader forwarding the gateway shares.

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import { KubeApiServer } from '@raftplane/apiserver';
import type { EtcdGateway } from './etcd/gateway.js';
import { MasterError, MasterErrorCode } from './errors.js';
import type { Master } from './master.js';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Body reading with a limit is the apiserver's (it stops reading past the limit). */
export { readBody, type BodyTooLarge } from '@raftplane/apiserver';

export interface ApiServerOptions {
  readonly master: Master;
  readonly logger: Logger;
  readonly gateway: EtcdGateway;
  readonly kubeApi: KubeApiServer;
}

/** Marks a request one master forwarded to another, so that it is never forwarded twice. */
export const FORWARDED_HEADER = 'x-raftplane-forwarded-by';

/** The connection pool a master forwards requests to the leader through; explicit limits rather than undici's defaults. */
export function createForwardingAgent(): Agent {
  return new Agent({ connections: 64, keepAliveTimeout: 4_000, headersTimeout: 30_000, bodyTimeout: 30_000, connect: { timeout: 2_000 } });
}

export interface RelayOptions {
  readonly target: { readonly host: string; readonly port: number };
  /** Path and query, as the client sent them. */
  readonly path: string;
  readonly body: Buffer;
  /** Headers for the leader; FORWARDED_HEADER among them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly dispatcher: Agent;
  /** Aborts the forwarded request (it is aborted anyway when `res` closes). */
  readonly signal?: AbortSignal;
}

/**
 * POSTs a request to the leader and streams its answer (status, content-type, body) back to `res`.
 * Throws only if the leader could not be asked or did not answer; once the answer has begun, a
 * failure cuts `res` short instead. A client that goes away aborts the forwarded request.
 */
export async function relayRequest(options: RelayOptions, res: ServerResponse): Promise<void> {
  const { target, path, body, headers, dispatcher } = options;
  const gone = new AbortController();
  const onClose = (): void => gone.abort(new Error('the client went away'));
  res.once('close', onClose);
  const signal = options.signal === undefined ? gone.signal : AbortSignal.any([gone.signal, options.signal]);
  try {
    const answer = await request(`http://${target.host}:${target.port}${path}`, { method: 'POST', body, headers, dispatcher, signal });
    const contentType = answer.headers['content-type'];
    res.writeHead(answer.statusCode, typeof contentType === 'string' ? { 'content-type': contentType } : {});
    res.flushHeaders();
    try {
      for await (const chunk of answer.body) {
        if (!res.write(chunk as Buffer)) await once(res, 'drain', { signal });
      }
      res.end();
    } catch {
      res.destroy();
    }
  } finally {
    res.off('close', onClose);
  }
}

/**
 * `POST /transfer-leader?to=<id>`: the leader hands leadership to master `to` (Raft thesis §3.10)
 * and answers once it has stepped down: 200 `{ handedOver, leader, term }`, or 504 with the same
 * when the target did not take over within two election timeouts. Refusals change nothing: 400 for
 * a malformed id, 404 for a master not in the cluster, 409 when this master is not the leader (the
 * answer names the leader) or the target is unreachable or behind, 503 while stopping.
 */
async function transferLeader(master: Master, url: URL, res: ServerResponse): Promise<void> {
  const text = url.searchParams.get('to') ?? '';
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new HttpError(400, 'BadRequest', `to=${JSON.stringify(text)}: want the id of the master to hand leadership to, e.g. /transfer-leader?to=2`);
  try {
    const outcome = await master.transferLeadership(Number(text));
    sendJson(res, outcome.handedOver ? 200 : 504, outcome);
  } catch (error) {
    if (!(error instanceof MasterError)) throw error;
    const reason = String(error.details.reason ?? '');
    const status = error.code === MasterErrorCode.Stopping ? 503 : reason === 'unknown-target' ? 404 : 409;
    throw new HttpError(status, error.code, error.message, error.details);
  }
}

export function createApiServer(options: ApiServerOptions): Server {
  const { master, logger, gateway, kubeApi } = options;
  const routes = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (gateway.handle(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://master');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (KubeApiServer.serves(path)) return kubeApi.handle(req, res);
    if (method === 'GET' && path === '/status') return sendJson(res, 200, master.status());
    if (method === 'GET' && (path === '/healthz' || path === '/livez')) return sendJson(res, master.isLive() ? 200 : 503, { ok: master.isLive() });
    if (method === 'GET' && path === '/readyz') return sendJson(res, master.isReady() ? 200 : 503, { ok: master.isReady() });
    if (method === 'POST' && path === '/transfer-leader') return transferLeader(master, url, res);
    throw new HttpError(404, 'NotFound', `${method} ${path}: no such endpoint`);
  };
  const server = createServer((req, res) => {
    routes(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        sendJson(res, error.status, { code: error.code, message: error.message, ...error.extra });
        return;
      }
      logger.error({ err: error, method: req.method, url: req.url }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { code: 'InternalError', message: (error as Error).message });
      else res.destroy();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if (!gateway.handleUpgrade(req, socket, head) && !kubeApi.handleUpgrade(req, socket, head)) socket.destroy();
  });
  // Explicit limits rather than library defaults. No whole-request timeout: an etcd watch is a POST
  // whose body stays open for more watch requests; bodies are bounded in size by the gateway.
  server.requestTimeout = 0;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  return server;
}
