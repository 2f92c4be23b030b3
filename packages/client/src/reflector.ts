// client-go's reflector: list (paged), then watch from the list's resourceVersion, forever. It
// remembers the last resourceVersion seen (events and BOOKMARKs), so that after any break — the
// socket closed, the server's timeout, a lost connection, a new leader — the watch resumes from
// there and the server replays exactly what was missed (DESIGN rule 6). Only 410 (that revision
// was compacted) makes it list again, after a jittered backoff of 0.8 s doubling to 30 s.

import { hasStatusReason, type KubeObject } from '@raftplane/api';
import { Backoff } from './backoff.js';
import { sleep, type Clock } from './clock.js';
import { ClientError, ClientErrorCode } from './errors.js';
import { describeError } from './http-wire.js';
import type { ClientLogger } from './logger.js';
import type { ResourceClient } from './resource-client.js';
import type { ObjectEventType } from './transport.js';

/** Where the reflector delivers what it learns: the informer's cache and handlers. */
export interface ReflectorSink<T> {
  /** The complete state as of a list: everything not in `items` is gone. */
  replace(items: readonly T[], resourceVersion: string): void;
  /** One watch event, in order. */
  apply(type: ObjectEventType, object: T): void;
}

export interface ReflectorSettings {
  readonly labelSelector: string | undefined;
  readonly fieldSelector: string | undefined;
  /** Items per list page. */
  readonly pageLimit: number;
  /** Each watch asks the server to end it after a random time in [min, 2 * min) seconds, as client-go does, so that watches do not all end together. */
  readonly watchTimeoutSecondsMin: number;
  readonly relistDelayMsMin: number;
  readonly relistDelayMsMax: number;
  readonly resumeDelayMsMin: number;
  readonly resumeDelayMsMax: number;
  readonly random: () => number;
  readonly clock: Clock;
  readonly logger: ClientLogger;
}

/** Counters for tests and status pages. */
export interface ReflectorStats {
  /** Complete lists (all pages), the first included. */
  lists: number;
  /** List pages fetched. */
  pages: number;
  /** Lists after the first: each one follows a 410. */
  relists: number;
  /** Watches opened. */
  watches: number;
  /** Watches opened from the last resourceVersion seen, not right after a list. */
  resumes: number;
  /** ADDED, MODIFIED and DELETED events received. */
  events: number;
  bookmarks: number;
}

/** How one watch ended; `healthy` when it delivered something or lasted healthyWatchMs. */
type WatchEnd =
  | { readonly kind: 'ended'; readonly healthy: boolean }
  | { readonly kind: 'expired'; readonly healthy: boolean }
  | { readonly kind: 'broken'; readonly healthy: boolean; readonly error: unknown };

/**
 * A watch that lasted this long, or delivered anything, was working: the next one starts at once
 * and the backoffs start again from their minimum. A quiet resource's watch ends empty at every
 * server timeout; only one that ends empty at once (a master closing every watch) backs off.
 */
const healthyWatchMs = 1_000;

function isDecimal(text: string): boolean {
  return /^[0-9]+$/.test(text);
}

export class Reflector<T extends KubeObject> {
  private lastResourceVersion: string | undefined;
  private readonly counters: ReflectorStats = { lists: 0, pages: 0, relists: 0, watches: 0, resumes: 0, events: 0, bookmarks: 0 };

  constructor(
    private readonly resource: ResourceClient<T>,
    private readonly sink: ReflectorSink<T>,
    private readonly settings: ReflectorSettings,
  ) {}

  lastSyncResourceVersion(): string | undefined {
    return this.lastResourceVersion;
  }

  stats(): ReflectorStats {
    return { ...this.counters };
  }

  /** Lists and watches until `signal` aborts; settles once the last watch socket is gone and no timer is left. */
  async run(signal: AbortSignal): Promise<void> {
    const { settings } = this;
    const relistBackoff = new Backoff(settings.relistDelayMsMin, settings.relistDelayMsMax, settings.random);
    const resumeBackoff = new Backoff(settings.resumeDelayMsMin, settings.resumeDelayMsMax, settings.random);
    let needList = true;
    while (!signal.aborted) {
      let delayMs = 0;
      try {
        const listedNow = needList;
        if (needList) {
          await this.listAndReplace(signal);
          needList = false;
        }
        const end = await this.watchOnce(signal, listedNow);
        if (end.healthy) {
          resumeBackoff.reset();
          relistBackoff.reset();
        }
        if (end.kind === 'expired') {
          needList = true;
          delayMs = relistBackoff.nextDelayMs();
          settings.logger.info({ resource: this.resource.info.resource, resourceVersion: this.lastResourceVersion, delayMs }, 'watch expired (410); relisting');
        } else if (end.kind === 'broken' || !end.healthy) {
          // A broken watch, or one that ended at once with nothing, waits before the next: a master
          // that drops every watch (shutting down, overloaded) must not be hammered.
          delayMs = resumeBackoff.nextDelayMs();
          if (end.kind === 'broken') settings.logger.info({ resource: this.resource.info.resource, resourceVersion: this.lastResourceVersion, delayMs, error: describeError(end.error) }, 'watch broke; resuming');
        }
      } catch (error) {
        if (signal.aborted) break;
        if (hasStatusReason(error, 'Expired') || hasStatusReason(error, 'Gone')) {
          needList = true;
          delayMs = relistBackoff.nextDelayMs();
        } else {
          delayMs = resumeBackoff.nextDelayMs();
        }
        settings.logger.warn({ resource: this.resource.info.resource, needList, delayMs, error: describeError(error) }, needList ? 'list failed; retrying' : 'watch failed; retrying');
      }
      if (delayMs > 0 && !(await pause(settings.clock, delayMs, signal))) break;
    }
  }

  private async listAndReplace(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    let next: string | undefined;
    do {
      const page = await this.resource.list({ labelSelector: this.settings.labelSelector, fieldSelector: this.settings.fieldSelector, limit: this.settings.pageLimit, continue: next, signal });
      this.counters.pages++;
      // Every page is from the snapshot of the first one; its resourceVersion is where the watch starts.
      resourceVersion ??= page.metadata.resourceVersion;
      items.push(...page.items);
      next = page.metadata.continue === undefined || page.metadata.continue === '' ? undefined : page.metadata.continue;
    } while (next !== undefined);
    if (resourceVersion === undefined || resourceVersion === '') {
      throw new ClientError(ClientErrorCode.MalformedResponse, `list of ${this.resource.info.resource} has no metadata.resourceVersion to watch from`, { resource: this.resource.info.resource });
    }
    if (this.counters.lists > 0) this.counters.relists++;
    this.counters.lists++;
    this.lastResourceVersion = resourceVersion;
    this.sink.replace(items, resourceVersion);
  }

  private async watchOnce(signal: AbortSignal, afterList: boolean): Promise<WatchEnd> {
    const { settings } = this;
    const timeoutSeconds = Math.floor(settings.watchTimeoutSecondsMin * (1 + settings.random()));
    const stream = await this.resource.watch({
      resourceVersion: this.lastResourceVersion,
      allowWatchBookmarks: true,
      labelSelector: settings.labelSelector,
      fieldSelector: settings.fieldSelector,
      timeoutSeconds,
      signal,
    });
    this.counters.watches++;
    if (!afterList) this.counters.resumes++;
    const startedMs = settings.clock.now();
    let received = 0;
    const healthy = (): boolean => received > 0 || settings.clock.now() - startedMs >= healthyWatchMs;
    try {
      for await (const event of stream) {
        if (event.type === 'ERROR') {
          if (event.object.code === 410) return { kind: 'expired', healthy: healthy() };
          return { kind: 'broken', healthy: healthy(), error: new Error(`watch ERROR event ${event.object.code} ${event.object.reason ?? ''}: ${event.object.message ?? ''}`) };
        }
        received++;
        this.noteResourceVersion(event.object.metadata.resourceVersion);
        if (event.type === 'BOOKMARK') {
          this.counters.bookmarks++;
          continue;
        }
        this.counters.events++;
        this.sink.apply(event.type, event.object);
      }
      return { kind: 'ended', healthy: healthy() };
    } catch (error) {
      if (signal.aborted) throw error;
      return { kind: 'broken', healthy: healthy(), error };
    } finally {
      await stream.close();
    }
  }

  /** Moves the resume point forward; a decimal resourceVersion never moves it back. */
  private noteResourceVersion(resourceVersion: string | undefined): void {
    if (resourceVersion === undefined || resourceVersion === '') return;
    const last = this.lastResourceVersion;
    if (last !== undefined && isDecimal(last) && isDecimal(resourceVersion) && BigInt(resourceVersion) < BigInt(last)) return;
    this.lastResourceVersion = resourceVersion;
  }
}

/** Waits `ms`; false when the signal aborted first. */
async function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(clock, ms, signal);
    return true;
  } catch (error) {
    if (signal.aborted) return false;
    throw error;
  }
}
