// The service proxy (issue 8), raftplane's kube-proxy in userspace mode: informers on Services and
// Endpoints, a listener on every ClusterIP:port and node address:nodePort, and each accepted
// connection spliced to a ready backend (round robin, or ClientIP affinity; a backend that refuses or
// does not answer within connectTimeoutMs is skipped). Informer handlers only schedule one sync for
// the next turn (house rule 10); the sync recomputes the listeners from the caches, and a new
// connection reads the backends current at that moment, so an Endpoints change counts from the
// next connection on.

import type { Socket } from 'node:net';
import type { Endpoints, Service } from '@raftplane/api';
import { createInformer, systemClock, type Client, type Clock, type Informer } from '@raftplane/client';
import { ServicePortBalancer } from './balancer.js';
import { dialFirst } from './dial.js';
import { ProxyError, ProxyErrorCode, invalidOption } from './errors.js';
import { backendKey, frontendsOf, listenKey, type Frontend } from './frontends.js';
import { Listener } from './listener.js';
import { silentLogger, type ProxyLogger } from './logger.js';

export interface ServiceProxyOptions {
  readonly client: Client;
  /** Where NodePort Services are served besides their ClusterIP (this machine's node addresses). */
  readonly nodePortAddresses: readonly string[];
  readonly logger?: ProxyLogger;
  /** [0, 1): round-robin starting points and the informers' jitter. */
  readonly random?: () => number;
  readonly clock?: Clock;
  /** A backend that has not accepted within this is skipped (default 1,000 ms). */
  readonly connectTimeoutMs?: number;
  /** Backoff between attempts to listen on an address that failed (default 500 ms doubling to 10 s). */
  readonly listenRetryDelayMsMin?: number;
  readonly listenRetryDelayMsMax?: number;
  /** Client connections open at once; past it a new one is reset (default 10,000). */
  readonly connectionsMax?: number;
}

export const serviceProxyDefaults = { connectTimeoutMs: 1_000, listenRetryDelayMsMin: 500, listenRetryDelayMsMax: 10_000, connectionsMax: 10_000 } as const;

function positiveInteger(value: number | undefined, fallback: number, option: string): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < 1) throw invalidOption(option, `${resolved} must be an integer >= 1`);
  return resolved;
}

const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export class ServiceProxy {
  private readonly client: Client;
  private readonly nodePortAddresses: readonly string[];
  private readonly logger: ProxyLogger;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly connectTimeoutMs: number;
  private readonly retryDelayMsMin: number;
  private readonly retryDelayMsMax: number;
  private readonly connectionsMax: number;

  /** By listen key (`address:port`). */
  private readonly listeners = new Map<string, Listener>();
  /** What each listen key serves now; replaced whole by every sync. */
  private frontends = new Map<string, Frontend>();
  /** By service port (`namespace/name:port`): round-robin position and affinity, kept across syncs. */
  private readonly balancers = new Map<string, ServicePortBalancer>();
  /** Every socket open: clients and backends; a stopping proxy destroys them. */
  private readonly sockets = new Set<Socket>();
  private clientConnections = 0;
  private services: Informer<Service> | null = null;
  private endpoints: Informer<Endpoints> | null = null;
  private scheduled: NodeJS.Immediate | undefined;
  private running = false;
  private stopping = false;
  /** The first sync ran: events schedule syncs from then on (before, the first sync reads them all). */
  private started = false;
  /** The first sync's listeners have tried to listen: waitForSync resolves. */
  private synced = false;
  private readonly syncWaiters = new Set<() => void>();

  constructor(options: ServiceProxyOptions) {
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object');
    if (typeof options.client?.resource !== 'function') throw invalidOption('client', 'must be a Client from @raftplane/client');
    if (!Array.isArray(options.nodePortAddresses) || options.nodePortAddresses.some((a) => typeof a !== 'string' || !ipv4.test(a))) {
      throw invalidOption('nodePortAddresses', `must be a list of IPv4 addresses, got ${JSON.stringify(options.nodePortAddresses)}`);
    }
    this.client = options.client;
    this.nodePortAddresses = [...new Set(options.nodePortAddresses)];
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? systemClock;
    this.connectTimeoutMs = positiveInteger(options.connectTimeoutMs, serviceProxyDefaults.connectTimeoutMs, 'connectTimeoutMs');
    this.retryDelayMsMin = positiveInteger(options.listenRetryDelayMsMin, serviceProxyDefaults.listenRetryDelayMsMin, 'listenRetryDelayMsMin');
    this.retryDelayMsMax = positiveInteger(options.listenRetryDelayMsMax, serviceProxyDefaults.listenRetryDelayMsMax, 'listenRetryDelayMsMax');
    if (this.retryDelayMsMax < this.retryDelayMsMin) throw invalidOption('listenRetryDelayMsMax', `${this.retryDelayMsMax} is below listenRetryDelayMsMin ${this.retryDelayMsMin}`);
    this.connectionsMax = positiveInteger(options.connectionsMax, serviceProxyDefaults.connectionsMax, 'connectionsMax');
  }

  /**
   * Serves until `signal` aborts; resolves after every listener, socket, informer and timer is
   * gone. Runs once.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new ProxyError(ProxyErrorCode.AlreadyRunning, 'run() was called twice on one ServiceProxy');
    this.running = true;
    if (signal.aborted) return;
    const shared = { random: this.random, clock: this.clock, logger: this.logger };
    const services = (this.services = createInformer(this.client, 'services', shared));
    const endpoints = (this.endpoints = createInformer(this.client, 'endpoints', shared));
    const schedule = (): void => this.scheduleSync();
    for (const informer of [services, endpoints] as Informer<Service | Endpoints>[]) informer.addHandler({ onAdd: schedule, onUpdate: schedule, onDelete: schedule });
    const runs = [services.run(signal), endpoints.run(signal)];
    let onAbort = (): void => {};
    const aborted = new Promise<void>((resolve) => (onAbort = resolve));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.all([services.waitForSync(signal), endpoints.waitForSync(signal)]);
      this.sync();
      this.started = true;
      await Promise.all([...this.listeners.values()].map((l) => l.firstAttempt));
      this.markSynced();
      await aborted;
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await this.stop();
      await Promise.allSettled(runs);
    }
  }

  /** Resolves once the first sync has opened (or tried to open) every listener; rejects if `signal` aborts first. */
  waitForSync(signal: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.syncWaiters.delete(onSynced);
        reject(signal.reason);
      };
      const onSynced = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.syncWaiters.add(onSynced);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The addresses listened on now (`address:port`), sorted; for tests and status. */
  listening(): string[] {
    return [...this.listeners.entries()].filter(([, l]) => l.isListening()).map(([key]) => key).sort();
  }

  private markSynced(): void {
    this.synced = true;
    for (const waiter of this.syncWaiters) waiter();
    this.syncWaiters.clear();
  }

  private scheduleSync(): void {
    if (this.scheduled !== undefined || this.stopping || !this.started) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      if (!this.stopping) this.sync();
    });
  }

  /** The listeners and frontends the caches call for now. */
  private sync(): void {
    const desired = new Map<string, Frontend>();
    for (const service of this.services?.cache.list() ?? []) {
      const key = `${service.metadata.namespace ?? ''}/${service.metadata.name ?? ''}`;
      for (const frontend of frontendsOf(service, this.endpoints?.cache.get(key), this.nodePortAddresses)) {
        const at = listenKey(frontend.address, frontend.port);
        const holder = desired.get(at);
        if (holder !== undefined && holder.servicePort !== frontend.servicePort) {
          this.logger.warn({ address: at, service: frontend.servicePort, holder: holder.servicePort }, 'two services want one address; the first keeps it');
          continue;
        }
        desired.set(at, frontend);
      }
    }
    this.frontends = desired;
    for (const [at, listener] of this.listeners) {
      if (desired.has(at)) continue;
      this.listeners.delete(at);
      this.logger.info({ address: at }, 'service gone: closing listener');
      // Connections already made run to their end, as with kube-proxy.
      void listener.close();
    }
    for (const [at, frontend] of desired) {
      if (this.listeners.has(at)) continue;
      this.logger.info({ address: at, service: frontend.servicePort, backends: frontend.backends.length }, 'opening listener');
      this.listeners.set(at, this.listen(at, frontend));
    }
    const used = new Set([...desired.values()].map((f) => f.servicePort));
    for (const servicePort of this.balancers.keys()) if (!used.has(servicePort)) this.balancers.delete(servicePort);
  }

  private listen(at: string, frontend: Frontend): Listener {
    return new Listener({
      address: frontend.address,
      port: frontend.port,
      onConnection: (socket) => this.accept(at, socket),
      clock: this.clock,
      logger: this.logger,
      retryDelayMsMin: this.retryDelayMsMin,
      retryDelayMsMax: this.retryDelayMsMax,
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private balancerOf(servicePort: string): ServicePortBalancer {
    let balancer = this.balancers.get(servicePort);
    if (balancer === undefined) this.balancers.set(servicePort, (balancer = new ServicePortBalancer(this.random)));
    return balancer;
  }

  /** A client connected to `at`: find it a backend, or reset it. */
  private accept(at: string, client: Socket): void {
    client.on('error', () => {});
    const frontend = this.frontends.get(at);
    if (this.stopping || frontend === undefined || frontend.backends.length === 0 || this.clientConnections >= this.connectionsMax) {
      if (this.clientConnections >= this.connectionsMax) this.logger.warn({ address: at, connectionsMax: this.connectionsMax }, 'too many connections: resetting a new one');
      else this.logger.debug({ address: at, service: frontend?.servicePort }, 'no ready endpoint: resetting the connection');
      client.resetAndDestroy();
      return;
    }
    this.track(client);
    this.clientConnections++;
    client.once('close', () => this.clientConnections--);
    const clientIP = client.remoteAddress ?? '';
    const balancer = this.balancerOf(frontend.servicePort);
    const candidates = balancer.order(frontend.backends, clientIP, this.clock.now(), frontend.affinityMs);
    void dialFirst(candidates, {
      timeoutMs: this.connectTimeoutMs,
      clock: this.clock,
      gone: () => client.destroyed || this.stopping,
      track: (socket) => this.track(socket),
    }).then(({ socket, backend, failures }) => {
      if (failures.length > 0) {
        const failed = failures.map((f) => `${backendKey(f.backend)} ${f.code}`);
        this.logger.warn({ address: at, service: frontend.servicePort, client: clientIP, failed }, socket === null ? 'no endpoint accepted: resetting the connection' : 'skipped endpoints that did not accept');
      }
      if (socket === null || backend === null) {
        if (!client.destroyed) client.resetAndDestroy();
        return;
      }
      if (client.destroyed || this.stopping) {
        socket.destroy();
        return;
      }
      balancer.connected(backend, clientIP, this.clock.now(), frontend.affinityMs);
      splice(client, socket);
    });
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const closing = [...this.listeners.values()].map((l) => l.close());
    this.listeners.clear();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closing);
    this.logger.info({}, 'stopped: every listener and connection closed');
  }
}

/**
 * Bytes both ways until each side has ended; an error or reset on either side ends both. A side that
 * closes cleanly only ends the other's writing (half-close), so no answer is cut short.
 */
function splice(client: Socket, upstream: Socket): void {
  upstream.on('error', () => {});
  const abort = (): void => {
    client.destroy();
    upstream.destroy();
  };
  // One side is fully closed: the other gets what is still queued for it, then goes too.
  const closeAfterFlush = (socket: Socket): void => {
    if (socket.destroyed) return;
    if (socket.writableFinished) {
      socket.destroy();
      return;
    }
    socket.once('finish', () => socket.destroy());
    socket.end();
  };
  client.once('close', (hadError) => (hadError ? abort() : closeAfterFlush(upstream)));
  upstream.once('close', (hadError) => (hadError ? abort() : closeAfterFlush(client)));
  client.on('error', abort);
  upstream.on('error', abort);
  client.pipe(upstream);
  upstream.pipe(client);
}
