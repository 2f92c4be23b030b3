// A fake Kubernetes API server for the client's tests: node:http plus a ws WebSocketServer on
// 127.0.0.1 port 0, in Kubernetes' paths and shapes, over one shared FakeStore. A FakeCluster runs
// two or three "masters" on the same store, each naming the cluster's leader in
// `x-raftplane-leader`, so tests can follow leaders and kill them. Faults (503 with Retry-After,
// 429, a socket dropped before or after the request was processed) are injected per request.

import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  badRequestError,
  invalidError,
  isStatusError,
  mergePatch,
  required,
  resourceByName,
  successStatus,
  unauthorizedError,
  type KubeObject,
  type ResourceInfo,
  type Status,
} from '@raftplane/api';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeStore, selects, type Selection, type StoreEvent } from './fake-store.js';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
  /** How a watch arrived, or undefined for a plain request. */
  readonly watch: 'websocket' | 'http' | undefined;
}

export type FaultAction =
  /** Answer with this status (and Retry-After), processing nothing. */
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number; readonly body?: unknown }
  /** Process nothing; run `before` (another writer, say), then drop the connection. */
  | { readonly kind: 'drop-before'; readonly before?: () => void }
  /** Process the request, then drop the connection instead of answering: the answer is lost. */
  | { readonly kind: 'drop-after' };

export interface Fault {
  readonly match: (request: RecordedRequest) => boolean;
  readonly action: FaultAction;
  /** How many matching requests it hits. */
  times: number;
}

export interface WatchSession {
  readonly transport: 'websocket' | 'http';
  send(event: unknown): void;
  /** Ends the stream as the server does on timeoutSeconds (WebSocket close 1000, chunked end). */
  endNormally(): void;
  /** Kills the connection without a goodbye: what a crash or a network cut looks like. */
  drop(): void;
  /** Stops reading from the connection, as a SIGSTOPped master would: pings go unanswered. */
  freeze(): void;
}

export interface ParsedPath {
  readonly info: ResourceInfo;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
}

export function parsePath(path: string): ParsedPath | undefined {
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1] as string;
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const info = resourceByName(group, rest[0] ?? '');
  if (info === undefined) return undefined;
  return { info, namespace, name: rest[1], subresource: rest[2] };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export class FakeCluster {
  readonly store = new FakeStore();
  readonly masters: FakeMaster[] = [];
  /** The leader every answer names; undefined sends no header (an election). */
  leaderUrl: string | undefined;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token: string | undefined;

  static async start(count: number, options: { token?: string } = {}): Promise<FakeCluster> {
    const cluster = new FakeCluster();
    cluster.token = options.token;
    for (let i = 0; i < count; i++) cluster.masters.push(await FakeMaster.start(cluster, i + 1));
    return cluster;
  }

  urls(): string[] {
    return this.masters.map((m) => m.url);
  }

  /** Every request to any master, in arrival order per master. */
  requests(): RecordedRequest[] {
    return this.masters.flatMap((m) => m.requests);
  }

  /** Sends a BOOKMARK at the current revision to every open watch that asked for them. */
  bookmark(): void {
    for (const master of this.masters) master.bookmark();
  }

  async stop(): Promise<void> {
    await Promise.all(this.masters.map((m) => m.stop()));
  }
}

export class FakeMaster {
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  private readonly sessions = new Map<WatchSession, { bookmarks: boolean; unsubscribe: () => void }>();
  private stopped = false;

  private constructor(
    readonly cluster: FakeCluster,
    readonly id: number,
    private readonly server: http.Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(cluster: FakeCluster, id: number): Promise<FakeMaster> {
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    const master = new FakeMaster(cluster, id, server, wss, `http://127.0.0.1:${address.port}`);
    server.on('request', (req, res) => void master.onRequest(req, res));
    server.on('upgrade', (req, socket, head) => master.onUpgrade(req, socket, head));
    wss.on('headers', (headers) => {
      if (cluster.leaderUrl !== undefined) headers.push(`x-raftplane-leader: ${cluster.leaderUrl}`);
    });
    return master;
  }

  inject(match: (request: RecordedRequest) => boolean, action: FaultAction, times = 1): void {
    this.faults.push({ match, action, times });
  }

  openWatchCount(): number {
    return this.sessions.size;
  }

  /** Watch requests received, in order. */
  watchRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.watch !== undefined);
  }

  /** Cuts every open watch connection (a crash, a partition, a leader that stepped down). */
  dropWatches(): void {
    for (const [session, { unsubscribe }] of this.sessions) {
      unsubscribe();
      session.drop();
    }
    this.sessions.clear();
  }

  /** Stops reading from every open watch connection (a SIGSTOPped master). */
  freezeWatches(): void {
    for (const session of this.sessions.keys()) session.freeze();
  }

  /** Ends every open watch the way timeoutSeconds does. */
  endWatches(): void {
    for (const [session, { unsubscribe }] of this.sessions) {
      unsubscribe();
      session.endNormally();
    }
    this.sessions.clear();
  }

  bookmark(): void {
    for (const [session, { bookmarks }] of this.sessions) {
      if (bookmarks) session.send({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(this.cluster.store.revision) } } });
    }
  }

  /** Stops listening and drops every connection: later connects are refused. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.dropWatches();
    for (const ws of this.wss.clients) ws.terminate();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private leaderHeaders(): Record<string, string> {
    return this.cluster.leaderUrl === undefined ? {} : { 'x-raftplane-leader': this.cluster.leaderUrl };
  }

  private authorized(headers: IncomingHttpHeaders): boolean {
    return this.cluster.token === undefined || headers.authorization === `Bearer ${this.cluster.token}`;
  }

  private takeFault(request: RecordedRequest): FaultAction | undefined {
    const fault = this.faults.find((f) => f.times > 0 && f.match(request));
    if (fault === undefined) return undefined;
    fault.times--;
    return fault.action;
  }

  private send(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...this.leaderHeaders(), ...extraHeaders });
    res.end(text);
  }

  private sendStatus(res: ServerResponse, status: Status): void {
    this.send(res, status.code, status);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const text = await readBody(req);
    const body = text === '' ? undefined : (JSON.parse(text) as unknown);
    const watch = url.searchParams.get('watch') === 'true';
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, watch: watch ? 'http' : undefined };
    this.requests.push(record);
    const fault = this.takeFault(record);
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      this.send(res, fault.status, fault.body ?? { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `injected ${fault.status}`, reason: fault.status === 503 ? 'ServiceUnavailable' : 'TooManyRequests', code: fault.status }, headers);
      return;
    }
    if (fault?.kind === 'drop-before') {
      fault.before?.();
      req.socket.destroy();
      return;
    }
    if (!this.authorized(req.headers)) {
      this.sendStatus(res, unauthorizedError().status);
      return;
    }
    const parsed = parsePath(url.pathname);
    if (parsed === undefined) {
      this.send(res, 404, '<html>404 page not found</html>');
      return;
    }
    if (watch) {
      this.startChunkedWatch(res, parsed, url.searchParams);
      return;
    }
    let answer: { status: number; body: unknown };
    try {
      answer = handleApiRequest(this.cluster.store, record, parsed);
    } catch (error) {
      if (!isStatusError(error)) throw error;
      answer = { status: error.code, body: error.status };
    }
    if (fault?.kind === 'drop-after') {
      req.socket.destroy();
      return;
    }
    this.send(res, answer.status, answer.body);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const record: RecordedRequest = { method: 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: undefined, watch: 'websocket' };
    this.requests.push(record);
    const refuse = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      const text = JSON.stringify(body);
      const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), connection: 'close', ...this.leaderHeaders(), ...extra };
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${text}`);
    };
    const fault = this.takeFault(record);
    if (fault?.kind === 'status') {
      refuse(fault.status, fault.body ?? { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `injected ${fault.status}`, code: fault.status }, fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) });
      return;
    }
    if (fault !== undefined) {
      socket.destroy();
      return;
    }
    if (!this.authorized(req.headers)) {
      refuse(401, unauthorizedError().status);
      return;
    }
    const parsed = parsePath(url.pathname);
    if (parsed === undefined || parsed.name !== undefined || url.searchParams.get('watch') !== 'true') {
      refuse(400, badRequestError('not a watch').status);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.startWebSocketWatch(ws, parsed, url.searchParams));
  }

  private startWebSocketWatch(ws: WebSocket, parsed: ParsedPath, query: URLSearchParams): void {
    const session: WatchSession = {
      transport: 'websocket',
      send: (event) => ws.send(JSON.stringify(event)),
      endNormally: () => ws.close(1000, 'watch timeout'),
      drop: () => ws.terminate(),
      freeze: () => (ws as unknown as { _socket: Duplex })._socket.pause(),
    };
    ws.on('close', () => this.endSession(session));
    this.watch(session, parsed, query);
  }

  private startChunkedWatch(res: ServerResponse, parsed: ParsedPath, query: URLSearchParams): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...this.leaderHeaders() });
    res.flushHeaders();
    const session: WatchSession = {
      transport: 'http',
      send: (event) => res.write(`${JSON.stringify(event)}\n`),
      endNormally: () => res.end(),
      drop: () => res.socket?.destroy(),
      freeze: () => res.socket?.pause(),
    };
    res.on('close', () => this.endSession(session));
    this.watch(session, parsed, query);
  }

  private watch(session: WatchSession, parsed: ParsedPath, query: URLSearchParams): void {
    const unsubscribe = startWatch(this.cluster.store, session, parsed, query);
    if (unsubscribe !== undefined) this.sessions.set(session, { bookmarks: query.get('allowWatchBookmarks') === 'true', unsubscribe });
  }

  private endSession(session: WatchSession): void {
    this.sessions.get(session)?.unsubscribe();
    this.sessions.delete(session);
  }
}

function scaleOf(obj: KubeObject): unknown {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, resourceVersion: obj.metadata.resourceVersion },
    spec: { replicas: (obj.spec as { replicas?: number }).replicas ?? 1 },
    status: { replicas: 0 },
  };
}

/** One API request against the store, as a master's handlers would answer it; throws StatusErrors. */
export function handleApiRequest(store: FakeStore, request: Pick<RecordedRequest, 'method' | 'query' | 'headers' | 'body'>, { info, namespace, name, subresource }: ParsedPath): { status: number; body: unknown } {
  const query = request.query;
  const selection: Selection = { namespace, labelSelector: query.get('labelSelector'), fieldSelector: query.get('fieldSelector') };
  const body = request.body as KubeObject;
  switch (request.method) {
    case 'GET': {
      if (name === undefined) {
        const limit = query.has('limit') ? Number(query.get('limit')) : undefined;
        const page = store.page(info, selection, limit, query.get('continue') ?? undefined);
        const metadata: Record<string, string> = { resourceVersion: String(page.revision) };
        if (page.continueToken !== undefined) metadata.continue = page.continueToken;
        return { status: 200, body: { kind: info.listKind, apiVersion: 'v1', metadata, items: page.items } };
      }
      const obj = store.get(info, namespace, name);
      if (subresource === 'scale') return { status: 200, body: scaleOf(obj) };
      return { status: 200, body: obj };
    }
    case 'POST': {
      if (subresource === 'binding') {
        store.modify(info, namespace, name as string, (pod) => {
          pod.spec = { ...(pod.spec as object), nodeName: (body as unknown as { target: { name: string } }).target.name };
        });
        return { status: 201, body: successStatus() };
      }
      if (!body.metadata?.name) throw invalidError(info, '', [required('metadata.name', 'name or generateName is required')]);
      return { status: 201, body: store.create(info, { ...body, metadata: { ...body.metadata, namespace } }) };
    }
    case 'PUT': {
      if (subresource === 'scale') {
        const replicas = (body as unknown as { spec: { replicas: number } }).spec.replicas;
        return { status: 200, body: scaleOf(store.modify(info, namespace, name as string, (o) => ((o.spec as { replicas?: number }).replicas = replicas))) };
      }
      if (body.metadata?.name !== name) throw badRequestError(`the name of the object (${body.metadata?.name}) does not match the name on the URL (${name})`);
      return { status: 200, body: store.update(info, { ...body, metadata: { ...body.metadata, namespace } }) };
    }
    case 'PATCH': {
      const current = store.get(info, namespace, name as string);
      const type = request.headers['content-type'];
      const patched = type === 'application/merge-patch+json' ? (mergePatch(current, request.body) as unknown as KubeObject) : current;
      return { status: 200, body: store.update(info, patched) };
    }
    case 'DELETE': {
      if (name === undefined) {
        for (const obj of store.all(info, selection)) store.delete(info, obj.metadata.namespace, obj.metadata.name as string);
        return { status: 200, body: successStatus() };
      }
      return { status: 200, body: store.delete(info, namespace, name) };
    }
    default:
      throw badRequestError(`method ${request.method}`);
  }
}

/**
 * Kubernetes' watch semantics: from resourceVersion N every later event once, in order; unset or
 * "0" starts with the current state. Returns the unsubscribe, or undefined when it ended the watch (410).
 */
export function startWatch(store: FakeStore, session: WatchSession, { info, namespace }: ParsedPath, query: URLSearchParams): (() => void) | undefined {
  const selection: Selection = { namespace, labelSelector: query.get('labelSelector'), fieldSelector: query.get('fieldSelector') };
  const from = query.get('resourceVersion');
  const matching = (event: StoreEvent): boolean => event.resource === info.resource && selects(selection, event.object, info.kind);
  if (from === null || from === '' || from === '0') {
    for (const obj of store.all(info, selection)) session.send({ type: 'ADDED', object: obj });
  } else {
    let backlog: StoreEvent[];
    try {
      backlog = store.eventsAfter(info.resource, Number(from));
    } catch (error) {
      if (!isStatusError(error)) throw error;
      session.send({ type: 'ERROR', object: error.status });
      session.endNormally();
      return undefined;
    }
    for (const event of backlog) if (matching(event)) session.send({ type: event.type, object: event.object });
  }
  return store.subscribe((event) => {
    if (matching(event)) session.send({ type: event.type, object: event.object });
  });
}
