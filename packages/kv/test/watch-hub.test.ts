// The watch hub against a fake in-memory store: etcd's six watch guarantees (ordered, unique,
// reliable, atomic, resumable, bookmarkable), each shown on its own and all of them together under
// random interleavings of writes, history reads, compactions and slow sinks (fast-check); key and
// range matching, filters and prevKv; the bounds (events queued per watcher, watchers per hub); and
// the lifecycle (cancel, close, abort, the coarse timer). Deterministic: injected clock, history
// reads answered by the test, no sleeps.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KvError } from '../src/errors.js';
import type { Event, HistorySource, KeyValue, RevisionEvents, WatchCreateRequest, WatchFilter, WatchResponse } from '../src/types.js';
import { WATCH_ID_REFUSED, WatchCancelReason, WatchHub, type WatchHandle, type WatchHubOptions, type WatchSink } from '../src/watch-hub.js';

// --- the fake store ---

interface PendingRead {
  readonly from: number;
  readonly to: number;
  readonly revisionsMax: number;
  readonly resolve: (page: readonly RevisionEvents[]) => void;
  readonly reject: (error: unknown) => void;
}

/** An MVCC store reduced to what the hub reads: a log of revisions, a compaction mark, publishes. */
class FakeSource implements HistorySource {
  readonly log: RevisionEvents[] = [];
  private readonly current = new Map<string, KeyValue>();
  private readonly listeners = new Set<(revision: RevisionEvents) => void>();
  private compacted = 0;
  /** When set, history() answers only when the test calls answer(): publishes can race the read. */
  manual = false;
  failWith: Error | null = null;
  /** When set, writes land in the log without being published (as a restored snapshot's would). */
  muted = false;
  readonly pending: PendingRead[] = [];
  historyCalls = 0;

  currentRevision(): number {
    return this.log.length;
  }

  compactedRevision(): number {
    return this.compacted;
  }

  history(from: number, to: number, revisionsMax: number): Promise<readonly RevisionEvents[]> {
    this.historyCalls++;
    assert.ok(from >= 1 && from <= to && to <= this.currentRevision(), `history(${from}, ${to}) with current ${this.currentRevision()}`);
    return new Promise((resolve, reject) => {
      this.pending.push({ from, to, revisionsMax, resolve, reject });
      if (!this.manual) this.answer();
    });
  }

  /** Answers the oldest pending read, as the store would at this moment (compacted meanwhile: KV_COMPACTED). */
  answer(): boolean {
    const read = this.pending.shift();
    if (read === undefined) return false;
    if (this.failWith !== null) read.reject(this.failWith);
    else if (read.from <= this.compacted) read.reject(new KvError('KV_COMPACTED'));
    else read.resolve(this.log.slice(read.from - 1, Math.min(read.to, read.from - 1 + read.revisionsMax)));
    return true;
  }

  subscribe(listener: (revision: RevisionEvents) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  listenerCount(): number {
    return this.listeners.size;
  }

  /** One write revision: a put per [key, value], a delete per [key, null] (of a key that exists). */
  write(...ops: [string, string | null][]): number {
    const revision = this.log.length + 1;
    const events: Event[] = [];
    for (const [key, value] of ops) {
      const prev = this.current.get(key) ?? null;
      if (value === null) {
        if (prev === null) continue;
        this.current.delete(key);
        events.push({ type: 'DELETE', kv: { key: bytes(key), createRevision: 0, modRevision: revision, version: 0, value: new Uint8Array(), lease: 0n }, prevKv: prev });
      } else {
        const kv: KeyValue = {
          key: bytes(key),
          createRevision: prev?.createRevision ?? revision,
          modRevision: revision,
          version: (prev?.version ?? 0) + 1,
          value: bytes(value),
          lease: 0n,
        };
        this.current.set(key, kv);
        events.push({ type: 'PUT', kv, prevKv: prev });
      }
    }
    if (events.length === 0) return this.log.length;
    const applied = { revision, events };
    this.log.push(applied);
    if (!this.muted) for (const listener of this.listeners) listener(applied);
    return revision;
  }

  compact(revision: number): void {
    assert.ok(revision <= this.currentRevision());
    this.compacted = Math.max(this.compacted, revision);
  }

  /** The events a watcher with `request` must get from `from` through `to`, as the hub should shape them. */
  expected(request: WatchCreateRequest, from: number, to: number = this.currentRevision()): Event[] {
    const out: Event[] = [];
    for (const revision of this.log.slice(Math.max(from, 1) - 1, to)) {
      for (const event of revision.events) {
        if (!matches(request, event)) continue;
        out.push(request.prevKv ? event : { ...event, prevKv: null });
      }
    }
    return out;
  }
}

/** The reference matcher, written from etcd's rules independently of the hub's index. */
function matches(request: WatchCreateRequest, event: Event): boolean {
  if (request.filters.includes(event.type === 'PUT' ? 'NOPUT' : 'NODELETE')) return false;
  const key = text(event.kv.key);
  const start = text(request.key);
  const end = text(request.rangeEnd);
  if (end === '') return key === start;
  if (end === '\0') return key >= start;
  return key >= start && key < end;
}

// --- sinks and helpers ---

/** Records what it takes; `accepting` false makes it say "not now" (cancelations are always taken). */
class RecordingSink implements WatchSink {
  readonly responses: WatchResponse[] = [];
  /** The store's current revision when each response was taken. */
  readonly currentAt: number[] = [];
  accepting = true;
  calls = 0;
  onSend: ((response: WatchResponse) => void) | null = null;

  constructor(private readonly source: HistorySource | null = null) {}

  send(response: WatchResponse): boolean {
    this.calls++;
    if (!this.accepting && !response.canceled) return false;
    this.responses.push(response);
    this.currentAt.push(this.source?.currentRevision() ?? -1);
    this.onSend?.(response);
    return true;
  }

  events(): Event[] {
    return this.responses.flatMap((response) => response.events);
  }

  last(): WatchResponse {
    const last = this.responses.at(-1);
    assert.ok(last !== undefined);
    return last;
  }

  eventResponses(): WatchResponse[] {
    return this.responses.filter((response) => response.events.length > 0);
  }
}

const bytes = (value: string): Uint8Array => Buffer.from(value, 'latin1');
const text = (value: Uint8Array): string => Buffer.from(value).toString('latin1');
const show = (events: readonly Event[]): string[] =>
  events.map((event) => `${event.type} ${text(event.kv.key)}@${event.kv.modRevision}${event.prevKv === null ? '' : ` prev=${text(event.prevKv.value)}`}`);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function request(fields: Partial<Omit<WatchCreateRequest, 'key' | 'rangeEnd'>> & { key: string; rangeEnd?: string }): WatchCreateRequest {
  return {
    startRevision: 0,
    progressNotify: false,
    filters: [],
    prevKv: false,
    watchId: 0,
    ...fields,
    key: bytes(fields.key),
    rangeEnd: bytes(fields.rangeEnd ?? ''),
  };
}

let clockMs = 1_000;
const hubs: WatchHub[] = [];
afterEach(() => {
  for (const hub of hubs.splice(0)) hub.close();
  vi.useRealTimers();
});

function makeHub(source: FakeSource, options: Partial<WatchHubOptions> = {}): WatchHub {
  const hub = new WatchHub({
    source,
    eventsQueuedMax: 100,
    historyPageRevisions: 3,
    progressIntervalMs: 1_000,
    watchersMax: 1_000,
    tickMs: 0,
    now: () => clockMs,
    signal: new AbortController().signal,
    ...options,
  });
  hubs.push(hub);
  return hub;
}

/** Lets the hub's catch-up loop run: answers history reads and turns the event loop until nothing is left. */
async function settle(source: FakeSource, hub: WatchHub): Promise<void> {
  for (let round = 0; round < 1_000; round++) {
    await turn();
    if (!source.answer()) {
      await hub.idle();
      await turn();
      if (source.pending.length === 0) return;
    }
  }
  throw new Error('the hub did not settle');
}

function seed(source: FakeSource, revisions: number): void {
  for (let i = 1; i <= revisions; i++) source.write([`k${i % 3}`, `v${i}`]);
}

// --- creation and refusal ---

describe('creating a watch', () => {
  it('first sends created with an id the hub assigns, unique per hub', () => {
    const source = new FakeSource();
    seed(source, 4);
    const hub = makeHub(source);
    const sinks = [new RecordingSink(), new RecordingSink(), new RecordingSink()];
    const handles = sinks.map((sink) => hub.watch(request({ key: 'a' }), sink));
    expect(new Set(handles.map((handle) => handle.watchId)).size).toBe(3);
    for (const [i, sink] of sinks.entries()) {
      expect(sink.responses).toHaveLength(1);
      expect(sink.responses[0]).toMatchObject({ created: true, canceled: false, watchId: handles[i]!.watchId, header: { revision: 4 }, events: [] });
    }
    expect(hub.watcherCount()).toBe(3);
  });

  it('uses a given id, and refuses one already in use as etcd does (created and canceled, id -1)', () => {
    const source = new FakeSource();
    const hub = makeHub(source);
    const first = new RecordingSink();
    expect(hub.watch(request({ key: 'a', watchId: 7 }), first).watchId).toBe(7);
    const second = new RecordingSink();
    const refused = hub.watch(request({ key: 'b', watchId: 7 }), second);
    expect(refused.watchId).toBe(WATCH_ID_REFUSED);
    expect(second.responses).toEqual([expect.objectContaining({ created: true, canceled: true, watchId: -1, cancelReason: WatchCancelReason.duplicateId })]);
    // The hub's own ids go around the given one.
    const assigned = [1, 2, 3, 4, 5, 6, 7].map(() => hub.watch(request({ key: 'c' }), new RecordingSink()).watchId);
    expect(assigned).toEqual([1, 2, 3, 4, 5, 6, 8]);
    source.write(['a', '1']);
    expect(show(first.events())).toEqual(['PUT a@1']);
    refused.cancel(); // a no-op
    expect(hub.watcherCount()).toBe(8);
  });

  it('refuses an empty key, an empty range, a negative revision, and any watch after close', () => {
    const source = new FakeSource();
    const hub = makeHub(source);
    const reason = (watch: WatchCreateRequest): string => {
      const sink = new RecordingSink();
      expect(hub.watch(watch, sink).watchId).toBe(WATCH_ID_REFUSED);
      expect(sink.responses).toHaveLength(1);
      expect(sink.last()).toMatchObject({ created: true, canceled: true });
      return sink.last().cancelReason;
    };
    expect(reason(request({ key: '' }))).toBe(WatchCancelReason.emptyKey);
    expect(reason(request({ key: 'b', rangeEnd: 'a' }))).toBe(WatchCancelReason.emptyRange);
    expect(reason(request({ key: 'b', rangeEnd: 'b' }))).toBe(WatchCancelReason.emptyRange);
    expect(reason(request({ key: 'a', startRevision: -1 }))).toContain(WatchCancelReason.invalid);
    expect(reason(request({ key: 'a', watchId: 1.5 }))).toContain(WatchCancelReason.invalid);
    expect(hub.watcherCount()).toBe(0);
    hub.close();
    expect(reason(request({ key: 'a' }))).toBe(WatchCancelReason.stopping);
  });

  it('refuses a watch past watchersMax with a reason naming the bound, and accepts again once one is gone', () => {
    const source = new FakeSource();
    const hub = makeHub(source, { watchersMax: 2 });
    const first = hub.watch(request({ key: 'a' }), new RecordingSink());
    hub.watch(request({ key: 'b' }), new RecordingSink());
    const sink = new RecordingSink();
    expect(hub.watch(request({ key: 'c' }), sink).watchId).toBe(WATCH_ID_REFUSED);
    expect(sink.last().cancelReason).toBe('etcdserver: too many requests: 2 watchers, watchersMax 2');
    first.cancel();
    expect(hub.watch(request({ key: 'c' }), new RecordingSink()).watchId).toBeGreaterThan(0);
  });

  it('rejects bad options one by one, and a signal already aborted', () => {
    const source = new FakeSource();
    for (const [name, value] of [
      ['eventsQueuedMax', 0],
      ['historyPageRevisions', 1.5],
      ['progressIntervalMs', -1],
      ['watchersMax', Number.NaN],
      ['tickMs', -1],
    ] as const) {
      expect(() => makeHub(source, { [name]: value } as Partial<WatchHubOptions>)).toThrow(`WatchHubOptions.${name}`);
    }
    const aborted = new AbortController();
    aborted.abort(new Error('gone'));
    expect(() => makeHub(source, { signal: aborted.signal })).toThrow('gone');
    expect(source.listenerCount()).toBe(0);
  });
});

// --- matching ---

describe('matching keys as etcd does', () => {
  const keys = ['a', 'a/1', 'a/2', 'a0', 'b', 'c', '\u00ff'];
  const cases: [string, { key: string; rangeEnd?: string }][] = [
    ['one key (empty rangeEnd)', { key: 'a/1' }],
    ['a range [key, rangeEnd)', { key: 'a/', rangeEnd: 'a0' }],
    ['a prefix (rangeEnd = prefix + 1)', { key: 'a', rangeEnd: 'b' }],
    ['every key >= key (rangeEnd "\\0")', { key: 'a0', rangeEnd: '\0' }],
    ['every key (key "\\0", rangeEnd "\\0")', { key: '\0', rangeEnd: '\0' }],
    ['every key (empty key, rangeEnd "\\0")', { key: '', rangeEnd: '\0' }],
  ];
  for (const [name, range] of cases) {
    it(`${name}, live and from history alike`, async () => {
      const source = new FakeSource();
      const hub = makeHub(source);
      const watch = request(range);
      const live = new RecordingSink();
      hub.watch(watch, live);
      for (const key of keys) source.write([key, `${key}!`]);
      for (const key of keys) source.write([key, null]);
      const fromHistory = new RecordingSink();
      hub.watch({ ...watch, startRevision: 1 }, fromHistory);
      await settle(source, hub);
      const expected = show(source.expected(watch, 1));
      expect(expected.length).toBeGreaterThan(0);
      expect(show(live.events())).toEqual(expected);
      expect(show(fromHistory.events())).toEqual(expected);
    });
  }

  it('filters out puts (NOPUT) or deletes (NODELETE)', async () => {
    const source = new FakeSource();
    const hub = makeHub(source);
    const filtered = (filters: WatchFilter[]): RecordingSink => {
      const sink = new RecordingSink();
      hub.watch(request({ key: 'a', rangeEnd: 'z', filters, startRevision: 1 }), sink);
      return sink;
    };
    source.write(['a', '1'], ['b', '1']);
    const noPut = filtered(['NOPUT']);
    const noDelete = filtered(['NODELETE']);
    source.write(['a', null]);
    source.write(['b', '2']);
    await settle(source, hub);
    expect(show(noPut.events())).toEqual(['DELETE a@2']);
    expect(show(noDelete.events())).toEqual(['PUT a@1', 'PUT b@1', 'PUT b@3']);
  });

  it('sends prevKv only to watchers that asked for it', async () => {
    const source = new FakeSource();
    const hub = makeHub(source);
    source.write(['a', '1']);
    const withPrev = new RecordingSink();
    const without = new RecordingSink();
    hub.watch(request({ key: 'a', prevKv: true, startRevision: 1 }), withPrev);
    hub.watch(request({ key: 'a', startRevision: 1 }), without);
    await settle(source, hub);
    source.write(['a', '2']);
    source.write(['a', null]);
    expect(show(withPrev.events())).toEqual(['PUT a@1', 'PUT a@2 prev=1', 'DELETE a@3 prev=2']);
    expect(show(without.events())).toEqual(['PUT a@1', 'PUT a@2', 'DELETE a@3']);
    expect(without.events().every((event) => event.prevKv === null)).toBe(true);
  });
});

// --- the six guarantees, one by one ---

describe('ordered, unique and reliable: history first, then live, with no hole and no duplicate', () => {
  it('switches from history to live exactly once, while revisions are published during every history read', async () => {
    const source = new FakeSource();
    source.manual = true;
    seed(source, 5);
    const hub = makeHub(source, { historyPageRevisions: 2 });
    const watch = request({ key: 'k', rangeEnd: 'l', startRevision: 2 });
    const sink = new RecordingSink();
    hub.watch(watch, sink);
    // Each read is answered only after more revisions were published: the hub must read them too.
    for (let i = 0; i < 4; i++) {
      expect(source.pending).toHaveLength(1);
      source.write([`k${i}`, `live${i}`]);
      source.write([`k${i}`, `again${i}`]);
      source.answer();
      await turn();
    }
    await settle(source, hub);
    source.write(['k9', 'after']);
    const revisions = sink.events().map((event) => event.kv.modRevision);
    expect(revisions).toEqual([...Array(source.currentRevision() - 1).keys()].map((i) => i + 2));
    expect(show(sink.events())).toEqual(show(source.expected(watch, 2)));
  });

  it('a watcher from revision 0 gets only what comes after its creation, live', () => {
    const source = new FakeSource();
    seed(source, 3);
    const hub = makeHub(source);
    const sink = new RecordingSink();
    hub.watch(request({ key: 'k', rangeEnd: 'l' }), sink);
    source.write(['k1', 'x']);
    expect(source.historyCalls).toBe(0);
    expect(show(sink.events())).toEqual(['PUT k1@4']);
  });

  it('a watcher from a future revision gets nothing before it', () => {
    const source = new FakeSource();
    seed(source, 3);
    const hub = makeHub(source);
    const sink = new RecordingSink();
    hub.watch(request({ key: 'k', rangeEnd: 'l', startRevision: 6 }), sink);
    expect(sink.responses[0]!.header.revision).toBe(3);
    seed(source, 5);
    expect(sink.events().map((event) => event.kv.modRevision)).toEqual([6, 7, 8]);
  });

  it('a publish that skips revisions (a restored snapshot) makes synced watchers read the gap from history', async () => {
    const source = new FakeSource();
    seed(source, 2);
    const hub = makeHub(source);
    const sink = new RecordingSink();
    hub.watch(request({ key: 'k', rangeEnd: 'l' }), sink);
    // Revisions 3 and 4 land in the store without being published (as a snapshot restore would)...
    source.muted = true;
    source.write(['k1', 'restored']);
    source.write(['k2', 'restored']);
    source.muted = false;
    // ...and the next publish (revision 5) reveals the jump.
    source.write(['k0', 'live']);
    await settle(source, hub);
    expect(show(sink.events())).toEqual(['PUT k1@3', 'PUT k2@4', 'PUT k0@5']);
    // resync() does the same without waiting for a publish.
    source.muted = true;
    source.write(['k1', 'quiet']);
    source.muted = false;
    hub.resync();
    await settle(source, hub);
    expect(show(sink.events()).at(-1)).toBe('PUT k1@6');
  });
});

describe('atomic: all events of one revision in one response', () => {
  it('live and from history; a history response may hold several revisions', async () => {
    const source = new FakeSource();
    const hub = makeHub(source, { historyPageRevisions: 10 });
    const live = new RecordingSink();
    hub.watch(request({ key: 'a', rangeEnd: 'z' }), live);
    source.write(['a', '1'], ['b', '1'], ['c', '1']);
    source.write(['a', '2'], ['b', null]);
    expect(live.eventResponses().map((response) => show(response.events))).toEqual([['PUT a@1', 'PUT b@1', 'PUT c@1'], ['PUT a@2', 'DELETE b@2']]);
    const fromHistory = new RecordingSink();
    hub.watch(request({ key: 'a', rangeEnd: 'z', startRevision: 1 }), fromHistory);
    await settle(source, hub);
    expect(fromHistory.eventResponses().map((response) => show(response.events))).toEqual([['PUT a@1', 'PUT b@1', 'PUT c@1', 'PUT a@2', 'DELETE b@2']]);
    expect(fromHistory.eventResponses()[0]!.header.revision).toBe(2);
  });
});

describe('resumable: startRevision = last seen + 1 continues exactly; compacted is canceled', () => {
  it('a watcher that reconnects after missing revisions gets exactly the rest', async () => {
    const source = new FakeSource();
    const hub = makeHub(source);
    const watch = request({ key: 'k', rangeEnd: 'l' });
    const before = new RecordingSink();
    const handle = hub.watch(watch, before);
    seed(source, 4);
    handle.cancel();
    seed(source, 3);
    const lastSeen = before.last().header.revision;
    const after = new RecordingSink();
    hub.watch({ ...watch, startRevision: lastSeen + 1 }, after);
    await settle(source, hub);
    source.write(['k1', 'live']);
    expect([...show(before.events()), ...show(after.events())]).toEqual(show(source.expected(watch, 1)));
  });

  it('a start revision at or below the compaction: created, then canceled with compactRevision, then nothing', async () => {
    const source = new FakeSource();
    seed(source, 6);
    source.compact(4);
    const hub = makeHub(source);
    const sink = new RecordingSink();
    hub.watch(request({ key: 'k', rangeEnd: 'l', startRevision: 4 }), sink);
    expect(sink.responses.map((response) => [response.created, response.canceled, response.compactRevision])).toEqual([
      [true, false, 0],
      [false, true, 4],
    ]);
    expect(sink.last().cancelReason).toBe(WatchCancelReason.compacted);
    expect(hub.watcherCount()).toBe(0);
    source.write(['k1', 'x']);
    await settle(source, hub);
    expect(sink.responses).toHaveLength(2);
    // One past the compaction is fine.
    const fine = new RecordingSink();
    hub.watch(request({ key: 'k', rangeEnd: 'l', startRevision: 5 }), fine);
    await settle(source, hub);
    expect(fine.events().map((event) => event.kv.modRevision)).toEqual([5, 6, 7]);
  });

  it('a compaction while the history is read cancels the watcher with compactRevision', async () => {
    const source = new FakeSource();
    source.manual = true;
    seed(source, 8);
    const hub = makeHub(source, { historyPageRevisions: 2 });
    const sink = new RecordingSink();
    hub.watch(request({ key: 'k', rangeEnd: 'l', startRevision: 1 }), sink);
    source.answer(); // revisions 1-2
    await turn();
    source.compact(5); // while revisions 3-4 are being read
    await settle(source, hub);
    expect(sink.events().map((event) => event.kv.modRevision)).toEqual([1, 2]);
    expect(sink.last()).toMatchObject({ canceled: true, compactRevision: 5, header: { revision: 2 } });
    expect(hub.watcherCount()).toBe(0);
  });

  it('a failed history read cancels the watchers that needed it, with the reason', async () => {
    const source = new FakeSource();
    seed(source, 3);
    source.failWith = new Error('disk on fire');
    const hub = makeHub(source);
    const sink = new RecordingSink();
    hub.watch(request({ key: 'k', rangeEnd: 'l', startRevision: 1 }), sink);
    await settle(source, hub);
    expect(sink.last()).toMatchObject({ canceled: true, cancelReason: `${WatchCancelReason.historyFailed}: disk on fire` });
    expect(hub.watcherCount()).toBe(0);
  });
});

describe('bookmarkable: every header.revision, and progress notifications', () => {
  it('requestProgress on a caught-up watcher: an empty response with the current revision, now', () => {
    const source = new FakeSource();
    seed(source, 3);
    const hub = makeHub(source);
    const sink = new RecordingSink();
    const handle = hub.watch(request({ key: 'nothing-here' }), sink);
    seed(source, 2);
    handle.requestProgress();
    expect(sink.last()).toMatchObject({ events: [], created: false, canceled: false, header: { revision: 5 } });
  });

  it('requestProgress while catching up waits until the watcher has been sent everything up to that revision', async () => {
    const source = new FakeSource();
    source.manual = true;
    seed(source, 6);
    const hub = makeHub(source, { historyPageRevisions: 2 });
    const sink = new RecordingSink();
    const handle = hub.watch(request({ key: 'k', rangeEnd: 'l', startRevision: 1 }), sink);
    handle.requestProgress();
    expect(sink.responses).toHaveLength(1); // only created
    await settle(source, hub);
    const last = sink.last();
    expect(last).toMatchObject({ events: [], header: { revision: 6 } });
    expect(sink.events().at(-1)!.kv.modRevision).toBe(6);
  });

  it('progressNotify: one after progressIntervalMs without a response, none to watchers that did not ask', () => {
    const source = new FakeSource();
    const hub = makeHub(source, { progressIntervalMs: 1_000 });
    const asked = new RecordingSink();
    const silent = new RecordingSink();
    hub.watch(request({ key: 'a', progressNotify: true }), asked);
    hub.watch(request({ key: 'a' }), silent);
    clockMs += 900;
    hub.tick(); // the coarse clock moves with the tick: an event is stamped with the last tick's time
    source.write(['a', '1']); // an event resets the idle time
    clockMs += 900;
    hub.tick();
    expect(asked.responses).toHaveLength(2);
    clockMs += 200;
    hub.tick();
    expect(asked.responses).toHaveLength(3);
    expect(asked.last()).toMatchObject({ events: [], header: { revision: 1 } });
    clockMs += 1_000;
    source.write(['b', '1']);
    hub.tick();
    expect(asked.last()).toMatchObject({ events: [], header: { revision: 2 } });
    expect(silent.responses).toHaveLength(2);
  });

  it("every response's header.revision is a point to resume from: all matching events up to it were sent", async () => {
    const source = new FakeSource();
    seed(source, 9);
    const hub = makeHub(source, { historyPageRevisions: 4 });
    const watch = request({ key: 'k1', startRevision: 2 });
    const sink = new RecordingSink();
    hub.watch(watch, sink);
    await settle(source, hub);
    seed(source, 4);
    checkBookmarks(source, watch, sink.responses);
    expect(sink.eventResponses().map((response) => response.header.revision)).toEqual([5, 9, 10, 13]);
  });
});

// --- slow sinks and bounds ---

describe('slow watchers: bounded, then cut off', () => {
  it('events a sink refused are kept and sent on the next tick, in order, in one response', () => {
    const source = new FakeSource();
    const hub = makeHub(source);
    const sink = new RecordingSink();
    hub.watch(request({ key: 'a', rangeEnd: 'z' }), sink);
    sink.accepting = false;
    source.write(['a', '1']);
    source.write(['b', '1'], ['c', '1']);
    expect(sink.responses).toHaveLength(1);
    sink.accepting = true;
    hub.tick();
    expect(sink.eventResponses().map((response) => show(response.events))).toEqual([['PUT a@1', 'PUT b@2', 'PUT c@2']]);
    expect(sink.last().header.revision).toBe(2);
    source.write(['d', '1']);
    expect(show(sink.events()).at(-1)).toBe('PUT d@3');
  });

  it('a watcher with more than eventsQueuedMax refused events is canceled with a clear reason', () => {
    const source = new FakeSource();
    const hub = makeHub(source, { eventsQueuedMax: 3 });
    const slow = new RecordingSink();
    const fast = new RecordingSink();
    hub.watch(request({ key: 'a', rangeEnd: 'z' }), slow);
    hub.watch(request({ key: 'a', rangeEnd: 'z' }), fast);
    slow.accepting = false;
    source.write(['a', '1'], ['b', '1']);
    source.write(['c', '1']);
    expect(hub.watcherCount()).toBe(2);
    source.write(['d', '1']);
    expect(hub.watcherCount()).toBe(1);
    expect(slow.last()).toMatchObject({ canceled: true, cancelReason: `${WatchCancelReason.tooSlow}: 4 events queued, eventsQueuedMax 3` });
    const calls = slow.calls;
    source.write(['e', '1']);
    hub.tick();
    expect(slow.calls).toBe(calls);
    expect(fast.events()).toHaveLength(5);
  });

  it('a catching-up watcher whose sink refused reads no more history until the sink takes it', async () => {
    const source = new FakeSource();
    seed(source, 30);
    const hub = makeHub(source, { historyPageRevisions: 2, eventsQueuedMax: 1_000 });
    const sink = new RecordingSink();
    hub.watch(request({ key: 'k', rangeEnd: 'l', startRevision: 1 }), sink);
    sink.accepting = false; // after created; the first page is read meanwhile
    await settle(source, hub);
    expect(source.historyCalls).toBe(1);
    sink.accepting = true;
    hub.tick();
    await settle(source, hub);
    expect(sink.events().map((event) => event.kv.modRevision)).toEqual([...Array(30).keys()].map((i) => i + 1));
  });

  it('a sink that throws has its watch canceled; the others go on', () => {
    const source = new FakeSource();
    const hub = makeHub(source);
    const broken = new RecordingSink();
    const fine = new RecordingSink();
    hub.watch(request({ key: 'a' }), broken);
    hub.watch(request({ key: 'a' }), fine);
    broken.onSend = (response) => {
      if (response.events.length > 0) throw new Error('socket gone');
    };
    source.write(['a', '1']);
    expect(broken.last()).toMatchObject({ canceled: true, cancelReason: `${WatchCancelReason.sinkFailed}: socket gone` });
    expect(show(fine.events())).toEqual(['PUT a@1']);
    expect(hub.watcherCount()).toBe(1);
  });
});

// --- lifecycle ---

describe('cancel, close, abort and the coarse timer', () => {
  it('cancel() stops the watch at once, also from inside a send', () => {
    const source = new FakeSource();
    const hub = makeHub(source);
    const sink = new RecordingSink();
    let handle: WatchHandle | null = null;
    sink.onSend = (response) => {
      if (response.events.length > 0) handle?.cancel();
    };
    handle = hub.watch(request({ key: 'a' }), sink);
    source.write(['a', '1']);
    source.write(['a', '2']);
    expect(show(sink.events())).toEqual(['PUT a@1']);
    expect(sink.responses.every((response) => !response.canceled)).toBe(true);
    handle.cancel();
    expect(hub.watcherCount()).toBe(0);
  });

  it('close() cancels every watch with a reason, unsubscribes and refuses new ones; abort does the same', async () => {
    const source = new FakeSource();
    source.manual = true;
    seed(source, 3);
    const controller = new AbortController();
    const hub = makeHub(source, { signal: controller.signal });
    const sinks = [new RecordingSink(), new RecordingSink()];
    hub.watch(request({ key: 'k1' }), sinks[0]!);
    hub.watch(request({ key: 'k1', startRevision: 1 }), sinks[1]!); // a history read in flight
    controller.abort();
    for (const sink of sinks) expect(sink.last()).toMatchObject({ canceled: true, cancelReason: WatchCancelReason.stopping });
    expect(hub.watcherCount()).toBe(0);
    expect(source.listenerCount()).toBe(0);
    source.answer();
    await hub.idle();
    source.write(['k1', 'late']);
    expect(sinks.map((sink) => sink.responses.length)).toEqual([2, 2]);
    hub.close(); // idempotent
  });

  it('with tickMs, one interval timer retries refused sends and sends progress; close() clears it', () => {
    vi.useFakeTimers();
    const source = new FakeSource();
    const hub = makeHub(source, { tickMs: 100, progressIntervalMs: 1_000, now: () => Date.now() });
    expect(vi.getTimerCount()).toBe(1);
    const sinks = [...Array(50).keys()].map(() => new RecordingSink());
    for (const sink of sinks) hub.watch(request({ key: 'a', progressNotify: true }), sink);
    expect(vi.getTimerCount()).toBe(1);
    sinks[0]!.accepting = false;
    source.write(['a', '1']);
    sinks[0]!.accepting = true;
    vi.advanceTimersByTime(100);
    expect(show(sinks[0]!.events())).toEqual(['PUT a@1']);
    vi.advanceTimersByTime(1_000);
    for (const sink of sinks) expect(sink.last()).toMatchObject({ events: [], header: { revision: 1 } });
    hub.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

// --- all guarantees at once, under random interleavings ---

type Op =
  /** [key index, 0 for a delete (of the key if it exists), else a put]. */
  | { readonly kind: 'write'; readonly writes: readonly (readonly [number, number])[] }
  | { readonly kind: 'watch'; readonly range: number; readonly start: number; readonly prevKv: boolean; readonly filter: number; readonly progressNotify: boolean }
  | { readonly kind: 'answer' }
  | { readonly kind: 'compact'; readonly back: number }
  | { readonly kind: 'sink'; readonly watcher: number; readonly accepting: boolean }
  | { readonly kind: 'tick'; readonly ms: number }
  | { readonly kind: 'cancel'; readonly watcher: number }
  | { readonly kind: 'progress'; readonly watcher: number };

const KEYS = ['a', 'a/1', 'a/2', 'b', 'b/1', 'c'];
const RANGES: { key: string; rangeEnd?: string }[] = [{ key: 'a/1' }, { key: 'b' }, { key: 'a/', rangeEnd: 'a0' }, { key: 'a', rangeEnd: 'b0' }, { key: 'b', rangeEnd: '\0' }, { key: '\0', rangeEnd: '\0' }];
const FILTERS: WatchFilter[][] = [[], [], ['NOPUT'], ['NODELETE']];

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), writes: fc.uniqueArray(fc.tuple(fc.nat(KEYS.length - 1), fc.nat(3)), { minLength: 1, maxLength: 3, selector: ([key]) => key }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('watch' as const),
      range: fc.nat(RANGES.length - 1),
      start: fc.integer({ min: -1, max: 12 }),
      prevKv: fc.boolean(),
      filter: fc.nat(FILTERS.length - 1),
      progressNotify: fc.boolean(),
    }),
  },
  { weight: 5, arbitrary: fc.constant({ kind: 'answer' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(6) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sink' as const), watcher: fc.nat(7), accepting: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.nat(1_500) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), watcher: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('progress' as const), watcher: fc.nat(7) }) },
);

interface Run {
  readonly request: WatchCreateRequest;
  /** The first revision it must get: startRevision, or the revision after its creation for 0. */
  readonly from: number;
  readonly sink: RecordingSink;
  readonly handle: WatchHandle;
  canceledByClient: boolean;
}

/**
 * What each watcher received must be exactly the store's matching events from its start, once each,
 * in order — or a prefix of them when it was canceled (by the client, a compaction, or as too slow).
 */
function checkRun(source: FakeSource, run: Run): void {
  const responses = run.sink.responses;
  expect(responses[0]).toMatchObject({ created: true });
  const received = show(run.sink.events());
  const expected = show(source.expected(run.request, run.from));
  const last = run.sink.last();
  if (last.canceled) {
    expect(last.cancelReason === WatchCancelReason.compacted || last.cancelReason.startsWith(WatchCancelReason.tooSlow)).toBe(true);
    if (last.cancelReason === WatchCancelReason.compacted) expect(last.compactRevision).toBeGreaterThanOrEqual(run.from);
  }
  if (last.canceled || run.canceledByClient) {
    expect(received).toEqual(expected.slice(0, received.length));
  } else {
    expect(received).toEqual(expected);
  }
  expect(responses.filter((response) => response.canceled).length).toBeLessThanOrEqual(1);
  // A progress notification carries the store's current revision at the time it is sent.
  for (const [i, response] of responses.entries()) {
    if (!response.created && !response.canceled && response.events.length === 0) expect(response.header.revision).toBe(run.sink.currentAt[i]);
  }
  checkAtomic(source, run, responses);
  checkBookmarks(source, run.request, responses, run.from);
}

/** Each revision's matching events arrive in a single response. */
function checkAtomic(source: FakeSource, run: Run, responses: readonly WatchResponse[]): void {
  const perRevision = new Map<number, number>();
  for (const event of source.expected(run.request, run.from)) perRevision.set(event.kv.modRevision, (perRevision.get(event.kv.modRevision) ?? 0) + 1);
  for (const response of responses) {
    const counts = new Map<number, number>();
    for (const event of response.events) counts.set(event.kv.modRevision, (counts.get(event.kv.modRevision) ?? 0) + 1);
    for (const [revision, count] of counts) expect(count).toBe(perRevision.get(revision));
  }
}

/** After each response, every matching event up to its header.revision has been received. */
function checkBookmarks(source: FakeSource, watch: WatchCreateRequest, responses: readonly WatchResponse[], from = watch.startRevision): void {
  let received = 0;
  let lastHeader = 0;
  for (const response of responses) {
    received += response.events.length;
    const revision = response.header.revision;
    if (!response.created) expect(revision).toBeGreaterThanOrEqual(lastHeader);
    lastHeader = Math.max(lastHeader, revision);
    for (const event of response.events) expect(event.kv.modRevision).toBeLessThanOrEqual(revision);
    expect(received).toBeGreaterThanOrEqual(source.expected(watch, from, revision).length);
  }
}

describe('all six guarantees under random interleavings (fast-check)', () => {
  it('every watcher gets exactly the matching events from its start revision, once, in order, atomically', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary, { minLength: 20, maxLength: 120 }), fc.integer({ min: 1, max: 4 }), fc.nat(12), async (ops, pageRevisions, history) => {
        const source = new FakeSource();
        source.manual = true;
        for (let i = 0; i < history; i++) source.write([KEYS[i % KEYS.length]!, `h${i}`]);
        let nowMs = 0;
        const hub = makeHub(source, { historyPageRevisions: pageRevisions, eventsQueuedMax: 4, progressIntervalMs: 1_000, now: () => nowMs });
        const runs: Run[] = [];
        const at = (index: number): Run | undefined => runs[index % Math.max(runs.length, 1)];
        try {
          for (const op of ops) {
            switch (op.kind) {
              case 'write':
                source.write(...op.writes.map(([key, kind]): [string, string | null] => [KEYS[key]!, kind === 0 ? null : `v${source.currentRevision() + 1}`]));
                break;
              case 'watch': {
                const start = op.start < 0 ? 0 : Math.max(1, source.compactedRevision() - 1) + op.start;
                const watch = request({ ...RANGES[op.range]!, startRevision: start, prevKv: op.prevKv, filters: FILTERS[op.filter]!, progressNotify: op.progressNotify });
                const sink = new RecordingSink(source);
                const from = start === 0 ? source.currentRevision() + 1 : start;
                runs.push({ request: watch, from, sink, handle: hub.watch(watch, sink), canceledByClient: false });
                break;
              }
              case 'answer':
                source.answer();
                await turn();
                break;
              case 'compact':
                source.compact(Math.max(0, source.currentRevision() - op.back));
                break;
              case 'sink': {
                const run = at(op.watcher);
                if (run) run.sink.accepting = op.accepting;
                break;
              }
              case 'tick':
                nowMs += op.ms;
                hub.tick();
                break;
              case 'cancel': {
                const run = at(op.watcher);
                if (run) {
                  run.handle.cancel();
                  run.canceledByClient = true;
                }
                break;
              }
              case 'progress':
                at(op.watcher)?.handle.requestProgress();
                break;
            }
          }
          for (const run of runs) run.sink.accepting = true;
          hub.tick();
          await settle(source, hub);
          hub.tick();
          await settle(source, hub);
          for (const run of runs) checkRun(source, run);
        } finally {
          hub.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
