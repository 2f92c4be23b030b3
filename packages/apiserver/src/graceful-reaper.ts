// Removes pods whose graceful deletion ran out with no node to confirm it. It follows the pods
// marked for deletion with a watch (one list when leadership starts, then events), so that each
// round looks only at those, never at every pod: a scan of 10,000 pods blocks the event loop for
// hundreds of milliseconds, and with it the Raft loop.

import { parseTime, resourceByName, StatusError, type KubeObject, type ResourceInfo } from '@raftplane/api';
import type { ApiBackend } from './backend.js';
import type { ApiLogger } from './logger.js';
import type { ObjectStore } from './object-store.js';
import { startObjectWatch, type ObjectWatch, type WatchEvent } from './object-watch.js';
import type { WatchCache } from './watch-cache.js';

const pods = resourceByName('', 'pods') as ResourceInfo;

interface Marked {
  readonly namespace: string;
  readonly name: string;
  readonly deadlineMs: number;
  readonly resourceVersion: string;
}

export class GracefulDeletionReaper {
  private readonly marked = new Map<string, Marked>();
  private watch: ObjectWatch | null = null;
  private lastRevision: number | null = null;
  private watching = false;

  constructor(
    private readonly backend: ApiBackend,
    private readonly cache: WatchCache | null,
    private readonly logger: ApiLogger,
  ) {}

  private track(event: WatchEvent): void {
    if (event.type === 'ERROR') {
      // The revision is gone (410): start over from a list.
      this.lastRevision = null;
      this.marked.clear();
      return;
    }
    const obj = event.object as KubeObject;
    const revision = Number(obj.metadata.resourceVersion);
    if (Number.isSafeInteger(revision)) this.lastRevision = Math.max(this.lastRevision ?? 0, revision);
    if (event.type === 'BOOKMARK') return;
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const deletion = obj.metadata.deletionTimestamp;
    if (event.type === 'DELETED' || deletion === undefined || (obj.metadata.finalizers ?? []).length > 0) {
      this.marked.delete(key);
      return;
    }
    this.marked.set(key, { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '', deadlineMs: parseTime(deletion), resourceVersion: obj.metadata.resourceVersion ?? '' });
  }

  /** (Re)starts the watch when it is not running. */
  private async ensureWatching(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    if (this.lastRevision === null) this.marked.clear();
    try {
      this.watch = await startObjectWatch(this.backend, {
        info: pods,
        namespace: '',
        labelSelector: null,
        fieldSelector: null,
        afterRevision: this.lastRevision,
        serializableStart: false,
        bookmarks: false,
        bookmarkIntervalMs: 60_000,
        timeoutMs: 3_600_000,
        cache: this.cache,
        output: {
          hasRoom: () => true,
          write: (events) => {
            for (const event of events) this.track(event);
          },
          end: () => {
            this.watch = null;
            this.watching = false;
          },
        },
      });
    } catch (error) {
      this.watching = false;
      throw error;
    }
  }

  /** Removes the pods due now (compare-and-swap on the version seen); returns their keys. */
  async reap(store: ObjectStore, now: number): Promise<string[]> {
    await this.ensureWatching();
    const removed: string[] = [];
    for (const [key, pod] of this.marked) {
      if (pod.deadlineMs > now) continue;
      try {
        const result = await store.update(pods, pod.namespace, pod.name, (current) => (current.metadata.resourceVersion === pod.resourceVersion ? { action: 'remove' } : { action: 'keep' }), {
          retryOnConflict: false,
        });
        if (result.removed) removed.push(key);
      } catch (error) {
        // Gone already, or changed since: the watch tells what is next for it.
        if (!(error instanceof StatusError && (error.reason === 'NotFound' || error.reason === 'Conflict'))) {
          this.logger.warn({ pod: key, err: error }, 'removing a pod whose grace period ran out failed');
          throw error;
        }
      }
      // Whatever happened, the watch says what is next for it.
      this.marked.delete(key);
    }
    return removed;
  }

  stop(): void {
    this.watch?.stop();
    this.watch = null;
    this.watching = false;
  }

  /** Pods being followed, for tests. */
  markedCount(): number {
    return this.marked.size;
  }
}

