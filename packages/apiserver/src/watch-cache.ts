// One KV watch per resource, shared by every Kubernetes watch of it (Kubernetes' cacher): the
// cache decodes each change once, keeps the most recent ones for watchers that start a little in
// the past, and hands each change only to the watchers that can match it. Watchers are indexed by
// the exact-match field selectors node agents and controllers use (`metadata.name=`,
// `spec.nodeName=`) and by namespace, so 1,000 node agents do not each look at every pod event.
//
// Rule 6 holds as it does for the hub: the cache's own hub watch is ordered and gap-free; a
// watcher gets the changes after its start revision, each once, a revision's changes together.
// A watcher whose output stays full is cut off (its client resumes from its last revision); if
// the cache's hub watch fails, every watcher of the cache is ended the same way.

import { groupVersionOf, type KubeObject, type ParsedFieldSelector, type ParsedLabelSelector, type ResourceInfo } from '@raftplane/api';
import type { WatchHandle, WatchResponse } from '@raftplane/kv';
import type { ApiBackend } from './backend.js';
import { collectionPrefix, prefixEnd } from './keys.js';
import type { ApiLogger } from './logger.js';
import { bookmarkObject, decodeChange, translateChange, type DecodedChange, type WatchEvent, type WatchOutput } from './object-watch.js';

export interface WatchCacheSettings {
  /** Changes kept for watchers that start in the past; older starts read history from the store. */
  readonly changesKept: number;
  /** Revisions' worth of events a watcher may have waiting while its output is full; past it, it is cut off. */
  readonly pendingRevisionsMax: number;
  /** How often the cache asks the hub how far it is (for bookmarks of idle watchers). */
  readonly progressIntervalMs: number;
}

export const watchCacheDefaults: WatchCacheSettings = { changesKept: 10_000, pendingRevisionsMax: 1_000, progressIntervalMs: 1_000 };

export interface CacheWatchOptions {
  readonly namespace: string;
  readonly labelSelector: ParsedLabelSelector | null;
  readonly fieldSelector: ParsedFieldSelector | null;
  readonly afterRevision: number;
  readonly bookmarks: boolean;
  readonly bookmarkIntervalMs: number;
  readonly output: WatchOutput;
}

/** The index keys a watcher is found under, most selective first; none: it sees every change. */
function triggerOf(options: Pick<CacheWatchOptions, 'namespace' | 'fieldSelector'>): string | null {
  const exact = new Map<string, string>();
  for (const r of options.fieldSelector?.requirements ?? []) if (r.operator === '=' || r.operator === '==') exact.set(r.field, r.value);
  const name = exact.get('metadata.name');
  if (name !== undefined) return `name:${name}`;
  const node = exact.get('spec.nodeName');
  if (node !== undefined) return `node:${node}`;
  const namespace = options.namespace || exact.get('metadata.namespace');
  if (namespace) return `ns:${namespace}`;
  return null;
}

/** The index keys under which watchers that may care about a change are found. */
function triggersOfChange(change: DecodedChange): Set<string> {
  const keys = new Set<string>();
  for (const obj of [change.current, change.previous]) {
    if (obj === null) continue;
    if (obj.metadata.name !== undefined) keys.add(`name:${obj.metadata.name}`);
    const node = (obj as KubeObject & { spec?: { nodeName?: string } }).spec?.nodeName;
    keys.add(`node:${node ?? ''}`);
    if (obj.metadata.namespace !== undefined) keys.add(`ns:${obj.metadata.namespace}`);
  }
  return keys;
}

interface RevisionChanges {
  readonly revision: number;
  readonly changes: readonly DecodedChange[];
}

class CacheWatcher {
  /** Changes of revisions up to here were sent (or skipped as not matching). */
  sentThrough: number;
  private readonly pending: WatchEvent[][] = [];
  private lastBookmarkAt: number;
  ended = false;

  constructor(
    readonly options: CacheWatchOptions,
    readonly trigger: string | null,
    private readonly info: ResourceInfo,
    now: number,
  ) {
    this.sentThrough = options.afterRevision;
    this.lastBookmarkAt = now;
  }

  /** Offers one revision's changes; false when the watcher must be cut off (too far behind). */
  offer(revision: RevisionChanges, pendingMax: number): boolean {
    if (revision.revision <= this.sentThrough) return true;
    this.sentThrough = revision.revision;
    const { labelSelector, fieldSelector, namespace } = this.options;
    const events: WatchEvent[] = [];
    for (const change of revision.changes) {
      const obj = change.current ?? change.previous;
      if (namespace !== '' && obj?.metadata.namespace !== namespace) continue;
      const event = translateChange(change, this.info, labelSelector, fieldSelector);
      if (event !== null) events.push(event);
    }
    if (events.length === 0) return true;
    this.pending.push(events);
    return this.flush() || this.pending.length <= pendingMax;
  }

  /** Writes what waits while the output has room; true when nothing waits. */
  flush(): boolean {
    while (this.pending.length > 0 && this.options.output.hasRoom()) this.options.output.write(this.pending.shift()!);
    return this.pending.length === 0;
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  bookmark(revision: number, now: number): void {
    if (!this.options.bookmarks || this.pending.length > 0 || now - this.lastBookmarkAt < this.options.bookmarkIntervalMs) return;
    if (revision < this.sentThrough) return;
    this.lastBookmarkAt = now;
    this.sentThrough = revision;
    this.options.output.write([{ type: 'BOOKMARK', object: bookmarkObject(this.info, revision) }]);
  }
}

export interface CacheWatch {
  stop(): void;
}

export class WatchCache {
  private handle: WatchHandle | null = null;
  /** Everything up to this revision has been received; 0 until the hub watch is created. */
  private revision = 0;
  /** The oldest start a watcher can have and still be served from `kept` (after this revision). */
  private coveredFrom = Number.MAX_SAFE_INTEGER;
  private kept: RevisionChanges[] = [];
  private keptChanges = 0;
  private readonly watchers = new Set<CacheWatcher>();
  private readonly byTrigger = new Map<string, Set<CacheWatcher>>();
  private readonly untriggered = new Set<CacheWatcher>();
  private ready: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly backend: ApiBackend,
    private readonly info: ResourceInfo,
    private readonly settings: WatchCacheSettings,
    private readonly logger: ApiLogger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts the cache's hub watch (once); resolves when it is created. */
  private start(): Promise<void> {
    if (this.ready !== null) return this.ready;
    this.ready = new Promise<void>((resolve) => {
      const prefix = collectionPrefix(this.info, '');
      this.handle = this.backend.watch(
        { key: prefix, rangeEnd: prefixEnd(prefix), startRevision: 0, progressNotify: false, filters: [], prevKv: true, watchId: 0 },
        { send: (response) => this.receive(response, resolve) },
      );
    });
    this.timer = setInterval(() => this.tick(), Math.min(this.settings.progressIntervalMs, 50));
    this.timer.unref();
    return this.ready;
  }

  private lastProgressAt = 0;

  private tick(): void {
    const now = this.now();
    if (now - this.lastProgressAt >= this.settings.progressIntervalMs) {
      this.lastProgressAt = now;
      this.handle?.requestProgress();
    }
    for (const watcher of this.watchers) {
      if (watcher.hasPending() && watcher.flush() === false) continue;
      watcher.bookmark(this.revision, now);
    }
  }

  private receive(response: WatchResponse, created: () => void): boolean {
    if (response.canceled) {
      this.logger.warn({ resource: this.info.resource, reason: response.cancelReason, revision: this.revision }, 'watch cache lost its hub watch: its watchers are ended and will resume');
      this.reset();
      created();
      return true;
    }
    if (response.created) {
      this.revision = response.header.revision;
      this.coveredFrom = this.revision;
      created();
      return true;
    }
    if (response.events.length === 0) {
      this.revision = Math.max(this.revision, response.header.revision);
      return true;
    }
    // Group by revision: a revision's changes reach a watcher together (atomic).
    let group: DecodedChange[] = [];
    let groupRevision = 0;
    const flushGroup = (): void => {
      if (group.length > 0) this.dispatch({ revision: groupRevision, changes: group });
      group = [];
    };
    for (const event of response.events) {
      const change = decodeChange(event);
      if (change.revision !== groupRevision) flushGroup();
      groupRevision = change.revision;
      group.push(change);
    }
    flushGroup();
    return true;
  }

  private dispatch(revision: RevisionChanges): void {
    this.revision = Math.max(this.revision, revision.revision);
    this.kept.push(revision);
    this.keptChanges += revision.changes.length;
    while (this.keptChanges > this.settings.changesKept && this.kept.length > 1) {
      const dropped = this.kept.shift()!;
      this.keptChanges -= dropped.changes.length;
      this.coveredFrom = dropped.revision;
    }
    const candidates = new Set<CacheWatcher>(this.untriggered);
    for (const change of revision.changes) {
      for (const key of triggersOfChange(change)) for (const watcher of this.byTrigger.get(key) ?? []) candidates.add(watcher);
    }
    for (const watcher of candidates) {
      if (!watcher.offer(revision, this.settings.pendingRevisionsMax)) this.cutOff(watcher, 'too far behind: its output stayed full');
    }
  }

  private cutOff(watcher: CacheWatcher, reason: string): void {
    this.logger.warn({ resource: this.info.resource, reason, sentThrough: watcher.sentThrough }, 'watch cut off');
    this.remove(watcher);
    watcher.ended = true;
    watcher.options.output.end();
  }

  private remove(watcher: CacheWatcher): void {
    this.watchers.delete(watcher);
    if (watcher.trigger === null) this.untriggered.delete(watcher);
    else {
      const set = this.byTrigger.get(watcher.trigger);
      set?.delete(watcher);
      if (set?.size === 0) this.byTrigger.delete(watcher.trigger);
    }
  }

  /** The hub watch failed: end every watcher (each resumes from its last revision) and start over on the next watch. */
  private reset(): void {
    this.handle?.cancel();
    this.handle = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.ready = null;
    this.revision = 0;
    this.coveredFrom = Number.MAX_SAFE_INTEGER;
    this.kept = [];
    this.keptChanges = 0;
    for (const watcher of [...this.watchers]) {
      this.remove(watcher);
      watcher.ended = true;
      watcher.options.output.end();
    }
  }

  /**
   * A watch of the changes after `afterRevision`, from the cache; null when the cache cannot
   * serve that start (older than what it keeps): the caller reads history from the store then.
   */
  async watch(options: CacheWatchOptions): Promise<CacheWatch | null> {
    if (this.closed) return null;
    await this.start();
    if (this.revision === 0 || options.afterRevision < this.coveredFrom) return null;
    const watcher = new CacheWatcher(options, triggerOf(options), this.info, this.now());
    for (const revision of this.kept) {
      if (revision.revision > options.afterRevision && !watcher.offer(revision, this.settings.pendingRevisionsMax)) {
        watcher.options.output.end();
        return { stop: () => {} };
      }
    }
    this.watchers.add(watcher);
    if (watcher.trigger === null) this.untriggered.add(watcher);
    else {
      let set = this.byTrigger.get(watcher.trigger);
      if (set === undefined) this.byTrigger.set(watcher.trigger, (set = new Set()));
      set.add(watcher);
    }
    return { stop: () => this.remove(watcher) };
  }

  close(): void {
    this.closed = true;
    this.reset();
  }

  stats(): { watchers: number; revision: number; coveredFrom: number; keptChanges: number } {
    return { watchers: this.watchers.size, revision: this.revision, coveredFrom: this.coveredFrom, keptChanges: this.keptChanges };
  }
}

/** The watch caches of one apiserver, one per resource, made on first use. */
export class WatchCaches {
  private readonly caches = new Map<string, WatchCache>();
  constructor(
    private readonly backend: ApiBackend,
    private readonly settings: WatchCacheSettings,
    private readonly logger: ApiLogger,
  ) {}

  of(info: ResourceInfo): WatchCache {
    const key = `${groupVersionOf(info)}/${info.resource}`;
    let cache = this.caches.get(key);
    if (cache === undefined) this.caches.set(key, (cache = new WatchCache(this.backend, info, this.settings, this.logger)));
    return cache;
  }

  close(): void {
    for (const cache of this.caches.values()) cache.close();
    this.caches.clear();
  }
}
