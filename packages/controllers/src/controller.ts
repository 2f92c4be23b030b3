// The one controller shape (STYLE §2, house rule 6), from kubernetes/sample-controller: informers,
// handlers that only enqueue `namespace/name` keys, a rate-limited WorkQueue, and an idempotent,
// level-based `sync(key, signal)` that reads the cache. `run` starts workers only once every
// informer has synced and stops them when the leadership signal aborts (DESIGN rule 5).

import { hasStatusReason, type KubeObject } from '@raftplane/api';
import { deletedObject, objectKey, systemClock, WorkQueue, type ClientLogger, type Clock, type DeletedFinalStateUnknown, type Informer, type RateLimiter } from '@raftplane/client';
import { silentLogger } from '@raftplane/client';
import { ControllerError, ControllerErrorCode, invalidOption, isControllerError } from './errors.js';

export interface ControllerOptions {
  readonly clock?: Clock;
  /** Wall-clock ms since the epoch, for object timestamps and minReadySeconds. Default Date.now. */
  readonly wallClockMs?: () => number;
  /** Syncs running at once (different keys). Default 1, so a controller's writes stay in event order. */
  readonly workers?: number;
  readonly rateLimiter?: RateLimiter<string>;
  /** Keys the queue holds at once. Default 100,000. */
  readonly queueKeysMax?: number;
  readonly logger?: ClientLogger;
}

/** What a controller reports about itself: read with `controller.metrics()`. */
export interface ControllerMetrics {
  /** Keys ready in the queue now. */
  queueDepth: number;
  /** Syncs finished, successful or not. */
  reconciles: number;
  reconcileErrors: number;
  /** Sync latency on the injected clock: total, last and largest, in ms. */
  reconcileLatencyMsTotal: number;
  reconcileLatencyMsLast: number;
  reconcileLatencyMsMax: number;
  /** Keys added by handlers. */
  enqueues: number;
}

function positiveInteger(value: number | undefined, fallback: number, option: string): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < 1) throw invalidOption(option, `${resolved} must be an integer >= 1`);
  return resolved;
}

export abstract class Controller {
  protected readonly queue: WorkQueue<string>;
  protected readonly clock: Clock;
  protected readonly wallClockMs: () => number;
  protected readonly logger: ClientLogger;
  private readonly workers: number;
  private running = false;
  private readonly counters = { reconciles: 0, reconcileErrors: 0, latencyMsTotal: 0, latencyMsLast: 0, latencyMsMax: 0, enqueues: 0 };

  constructor(
    readonly name: string,
    options: ControllerOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.wallClockMs = options.wallClockMs ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    this.workers = positiveInteger(options.workers, 1, 'workers');
    this.queue = new WorkQueue<string>({ clock: this.clock, rateLimiter: options.rateLimiter, keysMax: options.queueKeysMax, name: `${name} queue` });
  }

  /** The informers whose caches `sync` reads: workers start once all have synced. */
  protected abstract informers(): readonly Informer<KubeObject>[];

  /** Makes the world match the object under `key`; safe to run any number of times. */
  protected abstract sync(key: string, signal: AbortSignal): Promise<void>;

  /** Called once the workers have stopped: clean up what the controller holds (expectations, recorders). */
  protected async afterStop(): Promise<void> {}

  /** Enqueues the object's key: what every handler ends in. Tombstones are unwrapped. */
  enqueue(obj: KubeObject | DeletedFinalStateUnknown<KubeObject>): void {
    this.enqueueKey(objectKey(deletedObject(obj)));
  }

  enqueueKey(key: string): void {
    this.counters.enqueues++;
    this.queue.add(key);
  }

  /** Enqueues after `ms`: how a controller comes back to an object that only time will change. */
  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  metrics(): ControllerMetrics {
    const c = this.counters;
    return {
      queueDepth: this.queue.len(),
      reconciles: c.reconciles,
      reconcileErrors: c.reconcileErrors,
      reconcileLatencyMsTotal: c.latencyMsTotal,
      reconcileLatencyMsLast: c.latencyMsLast,
      reconcileLatencyMsMax: c.latencyMsMax,
      enqueues: c.enqueues,
    };
  }

  /**
   * Waits for every informer's first sync, then runs the workers until `signal` aborts; settles
   * after the workers have stopped and the sync in flight (aborted with the signal) has ended.
   * The informers themselves are run by their owner (the SharedInformerFactory). Runs once.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new ControllerError(ControllerErrorCode.AlreadyRunning, `${this.name} is already running`);
    this.running = true;
    if (signal.aborted) {
      this.queue.shutDown();
      return;
    }
    const onAbort = (): void => this.queue.shutDown();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.all(this.informers().map((informer) => informer.waitForSync(signal)));
      this.logger.info({ controller: this.name, workers: this.workers }, 'caches synced; starting workers');
      const workers: Promise<void>[] = [];
      for (let i = 0; i < this.workers; i++) workers.push(this.worker(signal));
      await Promise.all(workers);
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.queue.shutDown();
      await this.afterStop();
    }
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      if (signal.aborted) {
        this.queue.done(key);
        continue;
      }
      await this.processKey(key, signal);
    }
  }

  private async processKey(key: string, signal: AbortSignal): Promise<void> {
    const startMs = this.clock.now();
    try {
      await this.sync(key, signal);
      this.queue.forget(key);
    } catch (error) {
      this.counters.reconcileErrors++;
      this.handleError(key, error, signal);
    } finally {
      const latencyMs = this.clock.now() - startMs;
      this.counters.reconciles++;
      this.counters.latencyMsTotal += latencyMs;
      this.counters.latencyMsLast = latencyMs;
      this.counters.latencyMsMax = Math.max(this.counters.latencyMsMax, latencyMs);
      this.queue.done(key);
    }
  }

  /** 409 and transient failures retry with backoff; a spec that can never succeed is not retried. */
  private handleError(key: string, error: unknown, signal: AbortSignal): void {
    if (signal.aborted) return;
    const message = error instanceof Error ? error.message : String(error);
    if (isControllerError(error, ControllerErrorCode.InvalidSpec)) {
      this.logger.warn({ controller: this.name, key, error: message }, 'spec cannot be acted on; not retried');
      this.queue.forget(key);
      return;
    }
    const level = hasStatusReason(error, 'Conflict') ? 'debug' : 'warn';
    this.logger[level]({ controller: this.name, key, error: message, requeues: this.queue.numRequeues(key) }, 'sync failed; retrying with backoff');
    this.queue.addRateLimited(key);
  }
}
