// One listening address of the proxy (a ClusterIP:port or a node address:nodePort). A listen that
// fails (the port is in use, the address is not local) is logged with the address and retried with
// backoff, never fatal: the other Services keep being served, and this one starts once the port
// frees up.

import { createServer, type Server, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '@raftplane/client';
import type { ProxyLogger } from './logger.js';

export interface ListenerOptions {
  readonly address: string;
  readonly port: number;
  /** A new client connection, paused until a backend is connected (nothing it sends is lost). */
  readonly onConnection: (socket: Socket) => void;
  readonly clock: Clock;
  readonly logger: ProxyLogger;
  readonly retryDelayMsMin: number;
  readonly retryDelayMsMax: number;
}

export class Listener {
  private readonly server: Server;
  private retryTimer: TimerHandle | undefined;
  private failures = 0;
  private closed = false;
  /** Settles once the first listen attempt succeeded or failed (the first sync waits for it). */
  readonly firstAttempt: Promise<void>;
  private settleFirst: () => void = () => {};

  constructor(private readonly options: ListenerOptions) {
    // pauseOnConnect: bytes sent before the backend answers wait in the kernel, not in memory.
    this.server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, options.onConnection);
    this.server.on('error', (error: NodeJS.ErrnoException) => this.onListenError(error));
    this.server.on('listening', () => {
      // Closed while the listen was under way: close now.
      if (this.closed) {
        this.server.close();
        return;
      }
      if (this.failures > 0) this.options.logger.info({ address: this.where(), failures: this.failures }, 'listening after earlier failures');
      this.failures = 0;
      this.settleFirst();
    });
    this.firstAttempt = new Promise((resolve) => (this.settleFirst = resolve));
    this.listen();
  }

  private where(): string {
    return `${this.options.address}:${this.options.port}`;
  }

  private listen(): void {
    if (this.closed) return;
    this.server.listen({ host: this.options.address, port: this.options.port, exclusive: true });
  }

  private onListenError(error: NodeJS.ErrnoException): void {
    this.settleFirst();
    if (this.closed) return;
    this.failures++;
    const delayMs = Math.min(this.options.retryDelayMsMax, this.options.retryDelayMsMin * 2 ** Math.min(this.failures - 1, 20));
    this.options.logger.warn({ address: this.where(), code: error.code, failures: this.failures, retryInMs: delayMs }, 'cannot listen; retrying');
    this.retryTimer = this.options.clock.setTimer(() => {
      this.retryTimer = undefined;
      this.listen();
    }, delayMs);
  }

  isListening(): boolean {
    return this.server.listening;
  }

  /**
   * Stops accepting at once; resolves once the connections it accepted have ended too (net.Server's
   * 'close'), so the proxy destroys those first when it stops.
   */
  close(): Promise<void> {
    this.closed = true;
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    this.settleFirst();
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
