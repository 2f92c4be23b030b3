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

/** Streams reopened in a row without one event: a server closing every watch at once is a failure, not a loop. */
const emptyStreamsMax = 100;

/** Resolves when `signal` aborts; throws the server's StatusError for an ERROR event (410 Expired: list again). */
export async function watchObjects(client: Client, info: ResourceInfo, namespace: string | undefined, selectors: Selectors, resourceVersion: string, signal: AbortSignal, onEvent: (event: ObjectEvent) => void): Promise<void> {
  let version = resourceVersion;
  let emptyStreams = 0;
  while (!signal.aborted) {
    let delivered = false;
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
    emptyStreams = delivered ? 0 : emptyStreams + 1;
    if (emptyStreams >= emptyStreamsMax) throw new Error(`the watch on ${info.resource} was closed ${emptyStreamsMax} times in a row without an event`);
  }
}
