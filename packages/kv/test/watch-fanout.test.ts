// The watch hub's hot path, measured (house rule 11: a benchmark backs every claim): publishing a
// revision costs about the same with 10 or 10,000 single-key watchers when one of them matches,
// because single-key watchers are found by a map lookup and range watchers are grouped by range.
// Prints its figures; the assertion is a generous ratio, so that a loaded machine does not fail it.

import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { Event, HistorySource, RevisionEvents, WatchCreateRequest } from '../src/types.js';
import { WatchHub, type WatchSink } from '../src/watch-hub.js';

/** A store that only publishes: every watcher here starts live, so history is never read. */
class PublishingSource implements HistorySource {
  private revision = 0;
  private listener: ((revision: RevisionEvents) => void) | null = null;

  currentRevision(): number {
    return this.revision;
  }

  compactedRevision(): number {
    return 0;
  }

  history(): Promise<readonly RevisionEvents[]> {
    return Promise.reject(new Error('no history in the fan-out benchmark'));
  }

  subscribe(listener: (revision: RevisionEvents) => void): () => void {
    this.listener = listener;
    return () => (this.listener = null);
  }

  publish(key: Uint8Array): void {
    this.revision++;
    const event: Event = {
      type: 'PUT',
      kv: { key, createRevision: 1, modRevision: this.revision, version: this.revision, value: key, lease: 0n },
      prevKv: null,
    };
    this.listener?.({ revision: this.revision, events: [event] });
  }
}

const key = (i: number): Uint8Array => Buffer.from(`/registry/pods/default/pod-${i}`);

function watchRequest(start: Uint8Array, rangeEnd: Uint8Array = new Uint8Array()): WatchCreateRequest {
  return { key: start, rangeEnd, startRevision: 0, progressNotify: false, filters: [], prevKv: false, watchId: 0 };
}

interface Figures {
  readonly nsPerPublish: number;
  readonly delivered: number;
}

/** Publishes `publishes` revisions to the key `hot` with the hub holding the watchers `setup` creates. */
function measure(setup: (hub: WatchHub, sink: WatchSink) => void, hot: Uint8Array, publishes: number): Figures {
  const source = new PublishingSource();
  const controller = new AbortController();
  const hub = new WatchHub({
    source,
    eventsQueuedMax: 1_000,
    historyPageRevisions: 1_000,
    progressIntervalMs: 600_000,
    watchersMax: 100_000,
    tickMs: 0,
    now: () => 0,
    signal: controller.signal,
  });
  let delivered = 0;
  const sink: WatchSink = {
    send(response) {
      delivered += response.events.length;
      return true;
    },
  };
  try {
    setup(hub, sink);
    for (let i = 0; i < publishes / 10; i++) source.publish(hot); // warm-up
    delivered = 0;
    const startMs = performance.now();
    for (let i = 0; i < publishes; i++) source.publish(hot);
    const elapsedMs = performance.now() - startMs;
    return { nsPerPublish: (elapsedMs * 1e6) / publishes, delivered };
  } finally {
    controller.abort();
  }
}

describe('fan-out cost with many watchers', () => {
  it('10,000 single-key watchers, one matching, cost about what 10 do', () => {
    const publishes = 20_000;
    const singleKeys = (count: number) => (hub: WatchHub, sink: WatchSink) => {
      for (let i = 0; i < count; i++) hub.watch(watchRequest(key(i)), sink);
    };
    const few = measure(singleKeys(10), key(3), publishes);
    const many = measure(singleKeys(10_000), key(3), publishes);
    // Range watchers: 10,000 on one prefix share one range test (each still gets its event)...
    const prefix = Buffer.from('/registry/pods/');
    const prefixEnd = Buffer.from('/registry/pods0');
    const samePrefix = measure((hub, sink) => {
      for (let i = 0; i < 10_000; i++) hub.watch(watchRequest(prefix, prefixEnd), sink);
    }, key(3), 200);
    // ...while 1,000 distinct ranges are each tested per event (the index's known linear part).
    const distinctRanges = measure((hub, sink) => {
      for (let i = 0; i < 1_000; i++) hub.watch(watchRequest(key(i), Buffer.concat([key(i), Buffer.from([0])])), sink);
    }, key(3), 5_000);

    const row = (name: string, figures: Figures, publishCount: number): string =>
      `${name.padEnd(52)} ${(figures.nsPerPublish / 1000).toFixed(2).padStart(8)} µs/publish  ${(figures.delivered / publishCount).toFixed(0).padStart(6)} events delivered/publish`;
    console.log(
      [
        'watch hub fan-out (one event per revision):',
        row('10 single-key watchers, 1 matching', few, publishes),
        row('10,000 single-key watchers, 1 matching', many, publishes),
        row("10,000 watchers on one prefix, all matching", samePrefix, 200),
        row('1,000 distinct range watchers, 1 matching', distinctRanges, 5_000),
      ].join('\n'),
    );

    expect(few.delivered).toBe(publishes);
    expect(many.delivered).toBe(publishes);
    expect(samePrefix.delivered).toBe(200 * 10_000);
    expect(distinctRanges.delivered).toBe(5_000);
    // A scan of every watcher would make this ratio about 1,000; the index keeps it near 1.
    expect(many.nsPerPublish / few.nsPerPublish).toBeLessThan(10);
  });
});
