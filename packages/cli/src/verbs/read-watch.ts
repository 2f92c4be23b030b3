// The watch under `get -w` and `events -w`: from the listed resourceVersion on, object events in
// order until the operator interrupts (io.signal); a stream the server ends (its timeout) is opened
// again from the last version seen, so a long watch sees every change once.

import { statusErrorFromBody, type KubeObject, type ResourceInfo } from '@raftplane/api';
import type { Client, ObjectEventType } from '@raftplane/client';
import type { Selectors } from './read-tables.js';

export interface ObjectEvent {
  readonly type: ObjectEventType;
  readonly object: KubeObject;
}

/**
 * Streams in a row that the server ended within `quickCloseMs` without an event: a server that
 * closes every watch at once is a failure to report, not a loop to spin in. A quiet watch that
 * simply reaches the server's timeout is not counted.
 */
const quickClosesMax = 10;
const quickCloseMs = 1_000;

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves when `signal` aborts; throws the server's StatusError for an ERROR event (410 Expired: list again). */
export async function watchObjects(client: Client, info: ResourceInfo, namespace: string | undefined, selectors: Selectors, resourceVersion: string, signal: AbortSignal, onEvent: (event: ObjectEvent) => void): Promise<void> {
  let version = resourceVersion;
  let quickCloses = 0;
  while (!signal.aborted) {
    let delivered = false;
    const openedMs = Date.now();
    try {
      const stream = await client.resourceFor(info, namespace).watch({ ...selectors, resourceVersion: version, allowWatchBookmarks: true, signal });
      for await (const event of stream) {
        if (event.type === 'ERROR') throw statusErrorFromBody(event.object);
        version = event.object.metadata.resourceVersion ?? version;
        if (event.type === 'BOOKMARK') continue;
        delivered = true;
        onEvent({ type: event.type, object: event.object });
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    quickCloses = delivered || Date.now() - openedMs >= quickCloseMs ? 0 : quickCloses + 1;
    if (quickCloses >= quickClosesMax) throw new Error(`the server ended the watch on ${info.resource} ${quickClosesMax} times in a row at once, without an event`);
    // A quick close is retried after a pause that grows with each one (50 ms, 100 ms, ...).
    if (quickCloses > 0) await pause(quickCloses * 50, signal);
  }
}
