// client-go's shared informer: one reflector feeding one frozen, indexed cache, fanned out to any
// number of handlers (add, update, delete — with a tombstone when an object vanished while no
// watch was open), with periodic resync. Handlers should only turn objects into keys and enqueue
// them (STYLE §2); sync functions read the cache.

import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import type { KubeObject } from '@raftplane/api';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import type { Client } from './client.js';
import { deepFreeze } from './deep-freeze.js';
import { invalidOption } from './errors.js';
import { IndexedCache, type CacheReader, type Indexer } from './indexed-cache.js';
import { silentLogger, type ClientLogger } from './logger.js';
import { objectKey } from './object-key.js';
import { Reflector, type ReflectorStats } from './reflector.js';
import { listPageLimit, type ResourceClient } from './resource-client.js';
import type { ResourceName, ResourceTypes } from './resource-types.js';
import type { ObjectEventType } from './transport.js';

/** What onDelete gets when an object vanished between a watch and a relist: its key and the last state the cache knew. */
export interface DeletedFinalStateUnknown<T> {
  readonly key: string;
  readonly lastKnown: T;
}

export function isTombstone<T>(value: T | DeletedFinalStateUnknown<T>): value is DeletedFinalStateUnknown<T> {
  return typeof value === 'object' && value !== null && 'lastKnown' in value && 'key' in value && !('metadata' in value);
}

/** The object of a delete notification, tombstone or not. */
export function deletedObject<T>(value: T | DeletedFinalStateUnknown<T>): T {
  return isTombstone(value) ? value.lastKnown : value;
}

/**
 * Whether an update carries no change: the resync's onUpdate(obj, obj). Handlers that act only on
 * change skip those, the sample-controller way (`if new.ResourceVersion == old.ResourceVersion`).
 */
export function isUnchanged(oldObj: KubeObject, newObj: KubeObject): boolean {
  return oldObj.metadata?.resourceVersion === newObj.metadata?.resourceVersion;
}

export interface InformerHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

export interface InformerOptions<T> {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Every this many ms, every cached object is delivered again as onUpdate(obj, obj), so that a
   * level-based controller re-checks what nothing changed. 0 (default) never.
   */
  readonly resyncMs?: number;
  readonly indexers?: Readonly<Record<string, Indexer<T>>>;
  /** Items per list page; default 500. */
  readonly pageLimit?: number;
  /** Watch timeouts are random in [min, 2 * min) seconds; default 300 (client-go's 5 minutes). */
  readonly watchTimeoutSecondsMin?: number;
  /** Backoff before a relist after 410: default 800 ms doubling to 30 s, jittered (client-go's reflector). */
  readonly relistDelayMsMin?: number;
  readonly relistDelayMsMax?: number;
  /** Backoff before resuming a watch that broke or ended empty: default 100 ms doubling to 30 s. */
  readonly resumeDelayMsMin?: number;
  readonly resumeDelayMsMax?: number;
  /** [0, 1): jitter of backoff and watch timeouts. */
  readonly random?: () => number;
  readonly clock?: Clock;
  readonly logger?: ClientLogger;
}

export interface InformerStats extends ReflectorStats {
  resyncs: number;
  /** Handler calls that threw: a bug in a handler, logged and counted, never fatal to the informer. */
  handlerErrors: number;
}

function nonNegative(value: number | undefined, fallback: number, option: string): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved < 0) throw invalidOption(option, `${resolved} must be a number >= 0`);
  return resolved;
}

export class Informer<T extends KubeObject> {
  private readonly store: IndexedCache<T>;
  private readonly reflector: Reflector<T>;
  private readonly handlers = new Set<InformerHandler<T>>();
  private readonly clock: Clock;
  private readonly logger: ClientLogger;
  private readonly resyncMs: number;
  private synced = false;
  private running = false;
  private readonly syncWaiters = new Set<() => void>();
  private resyncTimer: TimerHandle | undefined;
  private resyncs = 0;
  private handlerErrors = 0;

  constructor(
    readonly resource: ResourceClient<T>,
    options: InformerOptions<T> = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.resyncMs = nonNegative(options.resyncMs, 0, 'resyncMs');
    this.store = new IndexedCache<T>(options.indexers ?? {});
    const relistDelayMsMin = nonNegative(options.relistDelayMsMin, 800, 'relistDelayMsMin');
    const resumeDelayMsMin = nonNegative(options.resumeDelayMsMin, 100, 'resumeDelayMsMin');
    const relistDelayMsMax = nonNegative(options.relistDelayMsMax, 30_000, 'relistDelayMsMax');
    const resumeDelayMsMax = nonNegative(options.resumeDelayMsMax, 30_000, 'resumeDelayMsMax');
    if (relistDelayMsMax < relistDelayMsMin) throw invalidOption('relistDelayMsMax', `${relistDelayMsMax} is below relistDelayMsMin ${relistDelayMsMin}`);
    if (resumeDelayMsMax < resumeDelayMsMin) throw invalidOption('resumeDelayMsMax', `${resumeDelayMsMax} is below resumeDelayMsMin ${resumeDelayMsMin}`);
    const pageLimit = nonNegative(options.pageLimit, listPageLimit, 'pageLimit');
    if (!Number.isSafeInteger(pageLimit) || pageLimit < 1) throw invalidOption('pageLimit', `${pageLimit} must be an integer >= 1`);
    this.reflector = new Reflector<T>(
      resource,
      { replace: (items) => this.replace(items), apply: (type, object) => this.apply(type, object) },
      {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        pageLimit,
        watchTimeoutSecondsMin: Math.max(1, nonNegative(options.watchTimeoutSecondsMin, 300, 'watchTimeoutSecondsMin')),
        relistDelayMsMin,
        relistDelayMsMax,
        resumeDelayMsMin,
        resumeDelayMsMax,
        random: options.random ?? Math.random,
        clock: this.clock,
        logger: this.logger,
      },
    );
  }

  /** The lister: frozen objects, with indexes. */
  get cache(): CacheReader<T> {
    return this.store;
  }

  /** Adds a handler; one added after the first sync first gets onAdd for every cached object. Returns its removal. */
  addHandler(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    if (this.synced) for (const obj of this.store.list()) this.call(handler, 'onAdd', () => handler.onAdd?.(obj));
    return () => this.handlers.delete(handler);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** The resourceVersion the cache is at: the last list's, or the last event's or bookmark's since. */
  lastSyncResourceVersion(): string | undefined {
    return this.reflector.lastSyncResourceVersion();
  }

  stats(): InformerStats {
    return { ...this.reflector.stats(), resyncs: this.resyncs, handlerErrors: this.handlerErrors };
  }

  /** Resolves once the first list is in the cache; rejects with `signal.reason` if it aborts first. */
  waitForSync(signal: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
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

  /** Lists, watches and resyncs until `signal` aborts; settles after its sockets and timers are gone. Runs once. */
  async run(signal: AbortSignal): Promise<void> {
    assert.ok(!this.running, `informer for ${this.resource.info.resource} is already running`);
    this.running = true;
    // One listener on the caller's signal (a leadership signal is shared by every controller);
    // the requests, watches and sleeps inside listen to this one.
    const stop = new AbortController();
    setMaxListeners(0, stop.signal);
    const onAbort = (): void => stop.abort(signal.reason);
    if (signal.aborted) stop.abort(signal.reason);
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.reflector.run(stop.signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.resyncTimer?.cancel();
      this.resyncTimer = undefined;
    }
  }

  private replace(items: readonly T[]): void {
    const listed = new Set<string>();
    for (const item of items) {
      const obj = deepFreeze(item);
      listed.add(objectKey(obj));
      this.upsert(obj);
    }
    for (const key of this.store.keys()) {
      if (listed.has(key)) continue;
      const lastKnown = this.store.remove(key) as T;
      const tombstone: DeletedFinalStateUnknown<T> = Object.freeze({ key, lastKnown });
      this.notify('onDelete', (h) => h.onDelete?.(tombstone));
    }
    if (!this.synced) this.markSynced();
  }

  private apply(type: ObjectEventType, object: T): void {
    const obj = deepFreeze(object);
    const key = objectKey(obj);
    if (type === 'DELETED') {
      // An object the cache never had (deleted before it was listed) has nobody to tell.
      if (this.store.remove(key) !== undefined) this.notify('onDelete', (h) => h.onDelete?.(obj));
      return;
    }
    this.upsert(obj);
  }

  /**
   * Stores `obj` and tells the handlers. An object whose resourceVersion did not change (a relist
   * that found it as it was) is news to nobody: client-go's shared informer treats it as a resync
   * and sends it only to listeners due for one, so here it goes out on the resync timer alone.
   */
  private upsert(obj: T): void {
    const old = this.store.put(obj);
    if (old === undefined) this.notify('onAdd', (h) => h.onAdd?.(obj));
    else if (!isUnchanged(old, obj)) this.notify('onUpdate', (h) => h.onUpdate?.(old, obj));
  }

  private markSynced(): void {
    this.synced = true;
    for (const waiter of this.syncWaiters) waiter();
    this.syncWaiters.clear();
    this.scheduleResync();
  }

  private scheduleResync(): void {
    if (this.resyncMs === 0) return;
    this.resyncTimer = this.clock.setTimer(() => {
      this.resyncs++;
      for (const obj of this.store.list()) this.notify('onUpdate', (h) => h.onUpdate?.(obj, obj));
      this.scheduleResync();
    }, this.resyncMs);
  }

  private notify(what: string, call: (handler: InformerHandler<T>) => void): void {
    for (const handler of this.handlers) this.call(handler, what, () => call(handler));
  }

  private call(handler: InformerHandler<T>, what: string, invoke: () => void): void {
    try {
      invoke();
    } catch (error) {
      this.handlerErrors++;
      this.logger.warn({ resource: this.resource.info.resource, handler: what, error: error instanceof Error ? error.message : String(error) }, 'informer handler threw');
    }
  }
}

/** An informer on `resource` (in `namespace`, or every namespace): `createInformer(client, 'pods', { fieldSelector: 'spec.nodeName=n1' })`. */
export function createInformer<R extends ResourceName>(
  client: Client,
  resource: R,
  options: InformerOptions<ResourceTypes[R]> & { readonly namespace?: string } = {},
): Informer<ResourceTypes[R]> {
  return new Informer(client.resource(resource, options.namespace), options);
}
