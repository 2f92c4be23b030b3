// The master's HTTP port: status and health for operators and scripts, and (until the KV store and
// the apiserver arrive) a small API over the test state machine: propose a payload, read one back.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { RaftError, RaftErrorCode } from '@raftplane/raft';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
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

/** Reads the body, refusing (413) past `bytesMax` without buffering the rest. */
function readBody(req: IncomingMessage, bytesMax: number): Promise<Buffer> {
  return new Promise((resolveBody, rejectBody) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > bytesMax) {
      rejectBody(new HttpError(413, 'RequestEntityTooLarge', `request body of ${declared} bytes exceeds the limit of ${bytesMax} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > bytesMax) {
        rejectBody(new HttpError(413, 'RequestEntityTooLarge', `request body exceeds the limit of ${bytesMax} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks, size)));
    req.on('error', rejectBody);
  });
}

/** Maps what a proposal can fail with to an HTTP answer the client can act on. */
function proposalFailure(error: unknown): HttpError {
  if (error instanceof RaftError && error.code === RaftErrorCode.ProposalDropped) {
    const leader = error.details.leader ?? 0;
    if (error.details.reason === 'uncommitted-bytes-max') return new HttpError(429, 'TooManyRequests', error.message, { leader });
    return new HttpError(503, 'ServiceUnavailable', error.message, { leader, reason: error.details.reason });
  }
  if (error instanceof MasterError) {
    switch (error.code) {
      case MasterErrorCode.Overloaded:
        return new HttpError(429, 'TooManyRequests', error.message);
      case MasterErrorCode.ProposalTimeout:
        return new HttpError(504, 'Timeout', error.message, error.details);
      case MasterErrorCode.ProposalLost:
        return new HttpError(503, 'ServiceUnavailable', error.message, error.details);
      case MasterErrorCode.Stopping:
        return new HttpError(503, 'ServiceUnavailable', error.message);
      default:
        break;
    }
  }
  throw error;
}

export interface ApiServerOptions {
  readonly master: Master;
  readonly logger: Logger;
  readonly bodyBytesMax: number;
}

/** Marks a request one master forwarded to another, so that it is never forwarded twice. */
const FORWARDED_HEADER = 'x-raftplane-forwarded-by';

export function createApiServer(options: ApiServerOptions): Server {
  const { master, logger, bodyBytesMax } = options;
  const forwarder = new Agent({ connections: 64, keepAliveTimeout: 4_000, headersTimeout: 30_000, bodyTimeout: 30_000, connect: { timeout: 2_000 } });

  /** A follower passes a write to the leader and relays its answer (DESIGN: followers forward to the leader). */
  const forward = async (leader: number, path: string, body: Buffer, res: ServerResponse): Promise<void> => {
    const target = master.config.masters.find((m) => m.id === leader);
    if (target === undefined) throw new HttpError(503, 'ServiceUnavailable', `leader ${leader} is not in the cluster config`, { leader });
    try {
      const answer = await request(`http://${target.api.host}:${target.api.port}${path}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/octet-stream', [FORWARDED_HEADER]: String(master.id) },
        dispatcher: forwarder,
      });
      const text = await answer.body.text();
      res.writeHead(answer.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } catch (error) {
      throw new HttpError(503, 'ServiceUnavailable', `forwarding to leader ${leader} failed: ${(error as Error).message}`, { leader });
    }
  };

  const routes = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://master');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (method === 'GET' && path === '/status') return sendJson(res, 200, master.status());
    if (method === 'GET' && path === '/healthz') return sendJson(res, master.isLive() ? 200 : 503, { ok: master.isLive() });
    if (method === 'GET' && path === '/livez') return sendJson(res, master.isLive() ? 200 : 503, { ok: master.isLive() });
    if (method === 'GET' && path === '/readyz') return sendJson(res, master.isReady() ? 200 : 503, { ok: master.isReady() });
    if (path === '/test/proposals') {
      if (method !== 'POST') throw new HttpError(405, 'MethodNotAllowed', `${method} ${path}: use POST`);
      const body = await readBody(req, bodyBytesMax);
      if (body.byteLength === 0) throw new HttpError(400, 'BadRequest', 'POST /test/proposals: the body (the payload to propose) is empty');
      try {
        return sendJson(res, 201, await master.propose(body));
      } catch (error) {
        const leader = error instanceof RaftError ? (error.details.leader ?? 0) : 0;
        const notLeader = error instanceof RaftError && error.details.reason === 'not-leader';
        if (notLeader && leader !== 0 && req.headers[FORWARDED_HEADER] === undefined) return forward(leader, path, body, res);
        throw proposalFailure(error);
      }
    }
    if (method === 'GET' && path === '/test/state') return sendJson(res, 200, master.stateMachine.state());
    const entryMatch = /^\/test\/entries\/([0-9]{1,15})$/.exec(path);
    if (method === 'GET' && entryMatch !== null) {
      const index = Number(entryMatch[1]);
      const payload = await master.stateMachine.entry(index);
      if (payload === null) throw new HttpError(404, 'NotFound', `entry ${index} is not applied here or holds no payload (applied index ${master.stateMachine.appliedIndex})`);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.byteLength });
      res.end(payload);
      return;
    }
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
  // Explicit limits rather than library defaults.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  server.on('close', () => void forwarder.close());
  return server;
}
