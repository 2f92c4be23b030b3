// The agent's HTTP endpoint (the kubelet's port): container logs, as the apiserver's pods/log
// proxies them to `kubectl logs`, and a health check. Paths follow the kubelet's:
//   GET /containerLogs/<namespace>/<pod>/<container>?follow&tailLines&sinceSeconds&sinceTime&timestamps&previous&limitBytes
//   GET /healthz
// Errors are one line of text with the status code; the apiserver turns them into a Status.
// It listens on the node's loopback address and asks for no credentials: nothing outside this
// machine can reach it (DESIGN.md, "Running on one machine").

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Pod } from '@raftplane/api';
import type { Informer } from '@raftplane/client';
import type { ContainerIndex } from './container-index.js';
import type { ContainerRuntime } from './runtime/runtime.js';

export interface LogServerOptions {
  readonly address: string;
  readonly port: number;
  readonly runtime: ContainerRuntime;
  readonly containers: ContainerIndex;
  readonly pods: () => Informer<Pod> | undefined;
  readonly logger: { warn(obj: object, msg: string): void };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function nonNegativeInteger(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new HttpError(400, `${name}=${JSON.stringify(text)}: must be a non-negative integer`);
  return Number(text);
}

function flag(query: URLSearchParams, name: string): boolean {
  const text = query.get(name);
  return text !== null && text !== 'false' && text !== '0';
}

export class LogServer {
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<AbortController>();

  private constructor(
    private readonly server: Server,
    private readonly options: LogServerOptions,
  ) {}

  static async listen(options: LogServerOptions): Promise<LogServer> {
    let self: LogServer | undefined;
    const server = createServer((req, res) => void self?.handle(req, res));
    self = new LogServer(server, options);
    const instance = self;
    server.on('connection', (socket) => {
      instance.sockets.add(socket);
      socket.once('close', () => instance.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const stream of this.streams) stream.abort();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    try {
      if (req.method !== 'GET') throw new HttpError(405, `${req.method} is not allowed: the agent serves GET`);
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
      if (parts[0] !== 'containerLogs' || parts.length < 3 || parts.length > 4) throw new HttpError(404, `no such path ${url.pathname}: logs are at /containerLogs/<namespace>/<pod>/<container>`);
      await this.serveLogs(parts[1] ?? '', parts[2] ?? '', parts[3], url.searchParams, req, res);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${message}\n`);
      else res.destroy();
      if (status === 500) this.options.logger.warn({ path: url.pathname, err: message }, 'log request failed');
    }
  }

  private async serveLogs(namespace: string, podName: string, containerName: string | undefined, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pod = this.options.pods()?.cache.get(`${namespace}/${podName}`);
    if (pod === undefined) throw new HttpError(404, `pod ${namespace}/${podName} does not run on this node`);
    const names = (pod.spec?.containers ?? []).map((c) => c.name);
    let name = containerName ?? query.get('container') ?? undefined;
    if (name === undefined || name === '') {
      if (names.length !== 1) throw new HttpError(400, `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`);
      name = names[0] ?? '';
    }
    if (!names.includes(name)) throw new HttpError(400, `container ${name} is not valid for pod ${podName}`);
    const previous = flag(query, 'previous');
    const attempts = this.options.containers.attempts(pod.metadata.uid ?? '', name);
    const container = previous ? attempts[1] : attempts[0];
    if (container === undefined) {
      throw new HttpError(previous ? 400 : 400, previous ? `previous terminated container "${name}" in pod "${podName}" not found` : `container "${name}" in pod "${podName}" is waiting to start: ContainerCreating`);
    }
    const sinceSeconds = nonNegativeInteger(query, 'sinceSeconds');
    const sinceTime = query.get('sinceTime');
    let sinceMs: number | undefined;
    if (sinceSeconds !== undefined) sinceMs = Date.now() - sinceSeconds * 1000;
    else if (sinceTime !== null && sinceTime !== '') {
      sinceMs = Date.parse(sinceTime);
      if (Number.isNaN(sinceMs)) throw new HttpError(400, `sinceTime=${JSON.stringify(sinceTime)}: not an RFC 3339 time`);
    }
    const limitBytes = nonNegativeInteger(query, 'limitBytes');
    const stop = new AbortController();
    this.streams.add(stop);
    const onClose = (): void => stop.abort();
    req.once('close', onClose);
    res.once('close', onClose);
    try {
      const chunks = this.options.runtime.logs(container.id, { follow: flag(query, 'follow') && !previous, tailLines: nonNegativeInteger(query, 'tailLines'), sinceMs, timestamps: flag(query, 'timestamps'), signal: stop.signal })[Symbol.asyncIterator]();
      // The first chunk before the headers, when it comes soon: a container removed meanwhile is a
      // clean 404 instead of a stream cut after 200. A quiet follow gets its headers at once anyway.
      const first = chunks.next();
      const early = await Promise.race([first.then((result) => ({ result }), (error: unknown) => ({ error })), new Promise<null>((resolve) => setTimeout(() => resolve(null), 200))]);
      if (early !== null && 'error' in early) throw new HttpError(404, `container "${name}" in pod "${podName}" is gone: ${early.error instanceof Error ? early.error.message : String(early.error)}`);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
      res.flushHeaders();
      let sent = 0;
      for (let next = early === null ? await first : early.result; next.done !== true; next = await chunks.next()) {
        const chunk = next.value;
        const part = limitBytes === undefined ? chunk : chunk.subarray(0, Math.max(0, limitBytes - sent));
        if (part.length > 0 && !res.write(part)) await new Promise((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
        sent += part.length;
        if (limitBytes !== undefined && sent >= limitBytes) break;
      }
      await chunks.return?.();
      res.end();
    } finally {
      this.streams.delete(stop);
      req.off('close', onClose);
      stop.abort();
    }
  }
}
