// A Kubernetes watch over the KV watch hub: from a resourceVersion (events after it), or from "now"
// with the current state sent first as ADDED events. Selectors are applied to both the new and the
// previous object, so an object that stops matching reaches the watcher as DELETED and one that
// starts matching as ADDED (apiserver storage/etcd3 watcher.go). Rule 6 holds because the hub's
// does: events leave in revision order, each once, and a compacted start is 410 Gone.

import {
  expiredError,
  groupVersionOf,
  tooOldResourceVersionMessage,
  type KubeObject,
  type ParsedFieldSelector,
  type ParsedLabelSelector,
  type ResourceInfo,
  type Status,
} from '@raftplane/api';
import type { Event, KeyValue, WatchHandle, WatchResponse } from '@raftplane/kv';
import type { ApiBackend } from './backend.js';
import { decodeObject, withResourceVersion } from './codec.js';
import { collectionPrefix, prefixEnd } from './keys.js';
import { ObjectStore, selectorsMatch } from './object-store.js';
import type { CacheWatch, WatchCache } from './watch-cache.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: KubeObject | Status;
}

/** Where a watch's events go: a chunked HTTP response, a WebSocket, or an in-process consumer. */
export interface WatchOutput {
  /** Whether more may be written now; when not, the hub keeps the events and offers them again. */
  hasRoom(): boolean;
  write(events: readonly WatchEvent[]): void;
  /** The watch is over (after a last ERROR event, a timeout or a cut-off); called once. */
  end(): void;
}

export interface ObjectWatchOptions {
  readonly info: ResourceInfo;
  /** '' for every namespace (and for cluster-scoped kinds). */
  readonly namespace: string;
  readonly labelSelector: ParsedLabelSelector | null;
  readonly fieldSelector: ParsedFieldSelector | null;
  /** Events after this revision; null: the current state first (as ADDED), then what follows. */
  readonly afterRevision: number | null;
  /** With afterRevision null: whether this master's copy of the current state will do (`resourceVersion=0`). */
  readonly serializableStart: boolean;
  /** BOOKMARK events every `bookmarkIntervalMs` (allowWatchBookmarks). */
  readonly bookmarks: boolean;
  readonly bookmarkIntervalMs: number;
  /** The watch ends after this long (timeoutSeconds). */
  readonly timeoutMs: number;
  readonly output: WatchOutput;
  /** Told why a watch was cut short by the hub (a slow watcher), for the log. */
  readonly onCutOff?: (reason: string) => void;
  /** The resource's watch cache: serves the watch when it keeps the start revision. */
  readonly cache?: WatchCache | null;
}

export interface ObjectWatch {
  /** Stops the watch (the client went away); the output's end() is not called. Idempotent. */
  stop(): void;
}

/** A BOOKMARK's object: the kind and just the resourceVersion up to which everything was sent. */
export function bookmarkObject(info: ResourceInfo, revision: number): KubeObject {
  return { kind: info.kind, apiVersion: groupVersionOf(info), metadata: { resourceVersion: String(revision) } } as KubeObject;
}

function withKind(obj: KubeObject, info: ResourceInfo): KubeObject {
  if (obj.kind !== undefined && obj.apiVersion !== undefined) return obj;
  return { ...obj, kind: info.kind, apiVersion: groupVersionOf(info) };
}

/**
 * Objects decoded from the hub's events, shared by every watcher of the same event (the hub hands
 * each watcher the same KeyValue): one JSON.parse per event, not one per watcher. Never mutated.
 */
const decoded = new WeakMap<KeyValue, KubeObject>();

function decodeShared(kv: KeyValue): KubeObject {
  let obj = decoded.get(kv);
  if (obj === undefined) {
    obj = decodeObject(kv);
    decoded.set(kv, obj);
  }
  return obj;
}

/** One KV change with its objects decoded: what both the direct watch and the watch cache translate. */
export interface DecodedChange {
  readonly type: 'PUT' | 'DELETE';
  readonly revision: number;
  /** The object after a PUT; null after a DELETE. */
  readonly current: KubeObject | null;
  /** The object before; null when the key was new. */
  readonly previous: KubeObject | null;
}

export function decodeChange(event: Event): DecodedChange {
  return {
    type: event.type,
    revision: event.kv.modRevision,
    current: event.type === 'PUT' ? decodeShared(event.kv) : null,
    previous: event.prevKv === null ? null : decodeShared(event.prevKv),
  };
}

/** The Kubernetes event one change becomes for a watcher with these selectors (none, or one). */
export function translateChange(change: DecodedChange, info: ResourceInfo, labels: ParsedLabelSelector | null, fields: ParsedFieldSelector | null): WatchEvent | null {
  const { previous, current } = change;
  const previousMatched = previous !== null && selectorsMatch(previous, info.kind, labels, fields);
  if (current === null) {
    return previousMatched ? { type: 'DELETED', object: withKind(withResourceVersion(previous, change.revision), info) } : null;
  }
  const currentMatches = selectorsMatch(current, info.kind, labels, fields);
  if (currentMatches) return { type: previousMatched ? 'MODIFIED' : 'ADDED', object: withKind(current, info) };
  // It no longer matches: gone, as far as this watcher is concerned, as of this revision.
  if (previousMatched) return { type: 'DELETED', object: withKind(withResourceVersion(previous, change.revision), info) };
  return null;
}

/** The Kubernetes events one KV event becomes for a watcher with these selectors (none, or one). */
export function translateEvent(event: Event, info: ResourceInfo, labels: ParsedLabelSelector | null, fields: ParsedFieldSelector | null): WatchEvent | null {
  return translateChange(decodeChange(event), info, labels, fields);
}

export async function startObjectWatch(backend: ApiBackend, options: ObjectWatchOptions): Promise<ObjectWatch> {
  const { info, output, labelSelector, fieldSelector } = options;
  let stopped = false;
  let handle: WatchHandle | null = null;
  let timeout: NodeJS.Timeout | null = null;
  let bookmarkTimer: NodeJS.Timeout | null = null;
  let cached: CacheWatch | null = null;
  const finish = (endOutput: boolean): void => {
    if (stopped) return;
    stopped = true;
    handle?.cancel();
    cached?.stop();
    if (timeout !== null) clearTimeout(timeout);
    if (bookmarkTimer !== null) clearInterval(bookmarkTimer);
    if (endOutput) output.end();
  };
  const watch: ObjectWatch = { stop: () => finish(false) };

  let afterRevision = options.afterRevision;
  if (afterRevision === null) {
    // The current state first, every page at one revision, then the events after it.
    const store = new ObjectStore(backend);
    const listed = await store.list(info, options.namespace, {
      revision: 0,
      serializable: options.serializableStart,
      minRevision: 0,
      labelSelector,
      fieldSelector,
      limit: 0,
      continueFrom: null,
    });
    output.write(listed.items.map((obj) => ({ type: 'ADDED', object: withKind(obj, info) })));
    afterRevision = listed.revision;
  }
  if (options.cache) {
    cached = await options.cache.watch({
      namespace: options.namespace,
      labelSelector,
      fieldSelector,
      afterRevision,
      bookmarks: options.bookmarks,
      bookmarkIntervalMs: options.bookmarkIntervalMs,
      output: { hasRoom: () => output.hasRoom(), write: (events) => stopped || output.write(events), end: () => finish(true) },
    });
    if (cached !== null) {
      if (!stopped) timeout = setTimeout(() => finish(true), options.timeoutMs);
      return watch;
    }
  }
  const prefix = collectionPrefix(info, options.namespace);
  const startRevision = afterRevision + 1;
  const requested = afterRevision;
  handle = backend.watch(
    { key: prefix, rangeEnd: prefixEnd(prefix), startRevision, progressNotify: false, filters: [], prevKv: true, watchId: 0 },
    {
      send(response: WatchResponse): boolean {
        if (stopped) return true;
        if (response.canceled) {
          if (response.compactRevision > 0) {
            const gone = expiredError(tooOldResourceVersionMessage(requested, response.compactRevision + 1)).status;
            output.write([{ type: 'ERROR', object: gone }]);
          } else {
            options.onCutOff?.(response.cancelReason);
          }
          finish(true);
          return true;
        }
        if (response.created) return true;
        if (!output.hasRoom()) return false;
        if (response.events.length === 0) {
          // A progress notification: every event up to this revision has been sent.
          if (options.bookmarks) output.write([{ type: 'BOOKMARK', object: bookmarkObject(info, response.header.revision) }]);
          return true;
        }
        const events: WatchEvent[] = [];
        for (const event of response.events) {
          const translated = translateEvent(event, info, labelSelector, fieldSelector);
          if (translated !== null) events.push(translated);
        }
        if (events.length > 0) output.write(events);
        return true;
      },
    },
  );
  if (!stopped) {
    timeout = setTimeout(() => finish(true), options.timeoutMs);
    if (options.bookmarks) bookmarkTimer = setInterval(() => handle?.requestProgress(), options.bookmarkIntervalMs);
  }
  return watch;
}
