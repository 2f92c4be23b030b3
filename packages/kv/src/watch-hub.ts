// The watch hub: serves one master's watchers from its store, history first and then live, with
// etcd's guarantees (ordered, unique, reliable, atomic, resumable, bookmarkable; DESIGN rule 6).
//
// How it stays gap-free: the hub counts the revisions the store has published to it
// (`publishedRevision`). A watcher is either *synced* (it takes every later revision live, from
// the publish) or *unsynced* (one shared catch-up loop feeds it pages of history). A watcher moves
// from unsynced to synced only in a synchronous step where its next revision is
// `publishedRevision + 1`, so the first live revision it sees is exactly the one after the last
// history revision it got: no hole and no duplicate, however publishes and history reads
// interleave (a revision published while a page is read is simply read in the next page).
//
// How it stays bounded: every watcher holds at most `eventsQueuedMax` events that its sink refused
// ("not now"); past it the watcher is canceled with a reason (a slow watcher is cut off, never
// buffered without bound). Unsynced watchers with refused events read no more history until the
// sink takes them. The number of watchers is capped by `watchersMax`; one history read is in
// flight at a time, of at most `historyPageRevisions` revisions.

import assert from 'node:assert/strict';
import { isKvError, KvError, KvErrorCatalogue } from './errors.js';
import type { Event, HistorySource, RevisionEvents, WatchCreateRequest, WatchResponse } from './types.js';

/**
 * Where a watch's responses go. `send` returns true when it took the response, false when it did
 * not take it ("not now": none of it reaches the client). The hub keeps refused events, retries on
 * its tick and with the next events, and cancels the watch once more than `eventsQueuedMax` events
 * wait. A response with `canceled: true` is always the last; the sink must deliver it or end the
 * stream with an error (its return value is ignored). `send` may call the handle's `cancel()`.
 */
export interface WatchSink {
  send(response: WatchResponse): boolean;
}

export interface WatchHandle {
  /** The hub's id for the watch; -1 when the watch was refused at creation (etcd's answer). */
  readonly watchId: number;
  /** Stops the watch; no response is sent after this returns. Idempotent. */
  cancel(): void;
  /** Asks for a progress notification: sent now when the watcher is caught up, else as soon as it is. */
  requestProgress(): void;
}

export interface WatchHubOptions {
  readonly source: HistorySource;
  /** Events one watcher may hold that its sink refused; past it the watcher is canceled as too slow. */
  readonly eventsQueuedMax: number;
  /** Revisions read per history() call while watchers catch up. */
  readonly historyPageRevisions: number;
  /** Watchers that asked for progress notifications get one after this long without a response. */
  readonly progressIntervalMs: number;
  /** Watchers on this hub at once; a watch past it is refused (created and canceled, with a reason). */
  readonly watchersMax: number;
  /**
   * The one coarse timer for every watcher: retries refused sends and sends progress notifications.
   * 0: the hub starts no timer and its owner calls tick() (tests, or a loop that already ticks).
   */
  readonly tickMs: number;
  /** Injected clock (ms); read once per tick and once per watch created, never per event. */
  readonly now: () => number;
  /** Aborting closes the hub, like close(). */
  readonly signal: AbortSignal;
}

/** The watch id etcd answers with when it refuses to create a watch. */
export const WATCH_ID_REFUSED = -1;

/** Why the hub canceled a watch; each reason starts with a stable prefix that callers may test. */
export const WatchCancelReason = {
  compacted: KvErrorCatalogue.KV_COMPACTED.message,
  /** etcd's ErrWatcherDuplicateID. */
  duplicateId: 'mvcc: duplicate watch ID provided on the WatchStream',
  /** etcd's ErrEmptyWatcherRange. */
  emptyRange: 'mvcc: watcher range is empty',
  emptyKey: KvErrorCatalogue.KV_EMPTY_KEY.message,
  invalid: KvErrorCatalogue.KV_INVALID_ARGUMENT.message,
  tooManyWatchers: KvErrorCatalogue.KV_TOO_MANY_REQUESTS.message,
  tooSlow: 'raftplane: watcher too slow',
  stopping: KvErrorCatalogue.KV_STOPPING.message,
  historyFailed: 'raftplane: reading watch history failed',
  sinkFailed: 'raftplane: watch sink failed',
} as const;

type WatcherState = 'unsynced' | 'synced' | 'canceled';

/** Keys of one range watcher group: [start, end), or every key >= start when end is null. */
interface RangeGroup {
  readonly start: Uint8Array;
  readonly end: Uint8Array | null;
  readonly watchers: Set<Watcher>;
}

class Watcher {
  state: WatcherState;
  /**
   * The next revision this watcher needs: every matching event of a revision below it has been sent
   * or is in `queue`. For a synced watcher it is a lower bound (live revisions at or above it are
   * delivered), so an idle synced watcher need not be touched by each publish.
   */
  nextRevision: number;
  /** Every matching event of a revision at or below it has reached the sink (the bookmark). */
  sentThroughRevision: number;
  /** Events the sink refused, whole revisions only, oldest first; at most eventsQueuedMax. */
  queue: Event[] = [];
  /** With a non-empty queue: the revision through which the queue completes the watcher's events. */
  queuedThroughRevision = 0;
  lastSentMs: number;
  progressPending = false;
  /** Scratch for one fan-out pass: the pass that last touched this watcher, and its events in it. */
  passSeq = 0;
  passEvents: Event[] = [];
  /** Whether this watcher takes part in the current history page (set before the page is delivered). */
  inPage = false;

  constructor(
    readonly id: number,
    readonly key: Uint8Array,
    /** Empty: the single key; [0]: every key >= key; otherwise [key, rangeEnd). */
    readonly rangeEnd: Uint8Array,
    readonly noPut: boolean,
    readonly noDelete: boolean,
    readonly prevKv: boolean,
    readonly progressNotify: boolean,
    readonly sink: WatchSink,
    state: WatcherState,
    nextRevision: number,
    sentThroughRevision: number,
    nowMs: number,
  ) {
    this.state = state;
    this.nextRevision = nextRevision;
    this.sentThroughRevision = sentThroughRevision;
    this.lastSentMs = nowMs;
  }

  /** A method, not a field test: sends can cancel the watcher, which TypeScript's narrowing cannot see. */
  isCanceled(): boolean {
    return this.state === 'canceled';
  }

  wants(event: Event): boolean {
    return event.type === 'PUT' ? !this.noPut : !this.noDelete;
  }
}

export class WatchHub {
  private readonly source: HistorySource;
  private readonly eventsQueuedMax: number;
  private readonly historyPageRevisions: number;
  private readonly progressIntervalMs: number;
  private readonly watchersMax: number;
  private readonly now: () => number;
  private readonly signal: AbortSignal;
  private readonly unsubscribe: () => void;
  private readonly timer: NodeJS.Timeout | null;
  private readonly onAbort = (): void => this.close();

  /** The last revision the source published to the hub; revisions rise by one per publish. */
  private publishedRevision: number;
  private closed = false;
  /** Set while a fan-out pass (live or history) uses the shared scratch; a publish inside one is a bug. */
  private fanningOut = false;
  private nowMs: number;
  private nextProgressScanMs: number;
  private nextWatchId = 1;
  private passSeq = 0;

  private readonly watchers = new Map<number, Watcher>();
  /** Index for the fan-out: single-key watchers by key (bytes as a latin1 string)... */
  private readonly keyWatchers = new Map<string, Set<Watcher>>();
  /** ...and range watchers grouped by identical range, so that each distinct range is tested once per event. */
  private readonly rangeGroups = new Map<string, RangeGroup>();
  private readonly unsynced = new Set<Watcher>();
  /** Watchers with something the sink refused (events, or a progress notification). */
  private readonly waiting = new Set<Watcher>();
  private readonly progressWatchers = new Set<Watcher>();

  private catchUpRunning = false;
  private catchUpDone: Promise<void> = Promise.resolve();
  /** Scratch for fan-out passes, reused (hot path: no per-publish allocation beyond the responses). */
  private readonly touched: Watcher[] = [];
  private readonly stripped: (Event | undefined)[] = [];

  constructor(options: WatchHubOptions) {
    validateOptions(options);
    options.signal.throwIfAborted();
    this.source = options.source;
    this.eventsQueuedMax = options.eventsQueuedMax;
    this.historyPageRevisions = options.historyPageRevisions;
    this.progressIntervalMs = options.progressIntervalMs;
    this.watchersMax = options.watchersMax;
    this.now = options.now;
    this.signal = options.signal;
    this.nowMs = this.now();
    this.nextProgressScanMs = this.nowMs;
    this.publishedRevision = this.source.currentRevision();
    assert.ok(Number.isSafeInteger(this.publishedRevision) && this.publishedRevision >= 0, `currentRevision ${this.publishedRevision} must be an integer >= 0`);
    this.unsubscribe = this.source.subscribe((revision) => this.publish(revision));
    this.signal.addEventListener('abort', this.onAbort, { once: true });
    if (options.tickMs > 0) {
      this.timer = setInterval(() => this.tick(), options.tickMs);
      this.timer.unref();
    } else {
      this.timer = null;
    }
  }

  /**
   * Starts a watch. The sink first gets `{ created: true, watchId }`; a refused watch gets one
   * response with `created` and `canceled` and a reason (watchId -1), a compacted start revision
   * one more with `canceled` and `compactRevision`, as etcd answers.
   */
  watch(request: WatchCreateRequest, sink: WatchSink): WatchHandle {
    const refusal = this.refusal(request);
    if (refusal !== null) {
      finalSend(sink, this.response(WATCH_ID_REFUSED, this.publishedRevision, { created: true, canceled: true, cancelReason: refusal }));
      return { watchId: WATCH_ID_REFUSED, cancel: () => {}, requestProgress: () => {} };
    }
    const id = request.watchId !== 0 ? request.watchId : this.freeWatchId();
    const watcher = this.createWatcher(id, request, sink);
    const handle: WatchHandle = { watchId: id, cancel: () => this.remove(watcher), requestProgress: () => this.requestProgress(watcher) };
    // The created response's header is a bookmark too: the watcher has everything it asked for up to it.
    const created = this.response(id, watcher.sentThroughRevision, { created: true });
    if (!this.trySend(watcher, created)) {
      if (!watcher.isCanceled()) this.cancel(watcher, `${WatchCancelReason.tooSlow}: the receiver refused the created response`, 0);
      return handle;
    }
    const compacted = this.source.compactedRevision();
    if (request.startRevision !== 0 && request.startRevision <= compacted) {
      this.cancel(watcher, WatchCancelReason.compacted, compacted);
      return handle;
    }
    if (watcher.state === 'unsynced') this.startCatchUp();
    return handle;
  }

  watcherCount(): number {
    return this.watchers.size;
  }

  /** Resolves once no history read is in flight (tests; a shutdown that closes the store after the hub). */
  idle(): Promise<void> {
    return this.catchUpDone;
  }

  /**
   * The coarse timer's work (called by the hub's own timer, or by the owner when tickMs is 0):
   * retries sinks that said "not now", then sends due progress notifications.
   */
  tick(): void {
    if (this.closed) return;
    this.nowMs = this.now();
    // A snapshot: a Set iterator would visit again a watcher that a refused send put back.
    for (const watcher of [...this.waiting]) this.flush(watcher);
    if (this.progressWatchers.size === 0 || this.nowMs < this.nextProgressScanMs) return;
    // Scanned at 1/8 of the interval, not every tick: a notification is late by at most that.
    this.nextProgressScanMs = this.nowMs + Math.max(1, Math.floor(this.progressIntervalMs / 8));
    for (const watcher of this.progressWatchers) {
      if (this.nowMs - watcher.lastSentMs >= this.progressIntervalMs) this.sendProgress(watcher);
    }
  }

  /**
   * The store jumped past revisions without publishing them (a snapshot was restored): every synced
   * watcher reads them from history. A publish that skips revisions does the same by itself.
   */
  resync(): void {
    if (this.closed) return;
    const current = this.source.currentRevision();
    assert.ok(current >= this.publishedRevision, `currentRevision ${current} went back below the published revision ${this.publishedRevision}`);
    this.desync(current);
  }

  /** Cancels every watch (each gets a canceled response), unsubscribes, stops the timer. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.timer !== null) clearInterval(this.timer);
    for (const watcher of [...this.watchers.values()]) this.cancel(watcher, WatchCancelReason.stopping, 0);
    assert.equal(this.watchers.size, 0, `${this.watchers.size} watchers left after close`);
  }

  // --- live: one revision fanned out to the synced watchers ---

  private publish(revision: RevisionEvents): void {
    if (this.closed) return;
    assert.ok(!this.fanningOut, `revision ${revision.revision} published from inside a fan-out (a sink wrote to the store?)`);
    assert.ok(
      revision.revision > this.publishedRevision,
      `published revision ${revision.revision} is not above the last published revision ${this.publishedRevision}`,
    );
    if (revision.revision !== this.publishedRevision + 1) this.desync(revision.revision - 1);
    this.publishedRevision = revision.revision;
    this.fanningOut = true;
    try {
      const touched = this.collect(revision, ++this.passSeq, false);
      for (const watcher of touched) {
        const events = watcher.passEvents;
        watcher.passEvents = [];
        if (watcher.state !== 'synced') continue; // canceled by an earlier sink's send in this loop
        watcher.nextRevision = revision.revision + 1;
        this.deliver(watcher, events, revision.revision);
      }
      touched.length = 0;
    } finally {
      this.fanningOut = false;
    }
  }

  /**
   * Finds the watchers that take events of `revision` in this pass and gathers their events (in
   * the revision's order, prevKv stripped unless asked) in `passEvents`. Uses the key index: one map
   * lookup per event plus one test per distinct range, never one test per watcher.
   */
  private collect(revision: RevisionEvents, passSeq: number, fromHistory: boolean): Watcher[] {
    const touched = this.touched;
    this.stripped.length = 0;
    const events = revision.events;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const exact = this.keyWatchers.get(bytesKey(event.kv.key));
      if (exact !== undefined) {
        for (const watcher of exact) this.take(watcher, event, i, revision.revision, passSeq, fromHistory);
      }
      for (const group of this.rangeGroups.values()) {
        if (!inRange(event.kv.key, group.start, group.end)) continue;
        for (const watcher of group.watchers) this.take(watcher, event, i, revision.revision, passSeq, fromHistory);
      }
    }
    return touched;
  }

  private take(watcher: Watcher, event: Event, index: number, revision: number, passSeq: number, fromHistory: boolean): void {
    const eligible = fromHistory ? watcher.inPage : watcher.state === 'synced';
    if (!eligible || revision < watcher.nextRevision || !watcher.wants(event)) return;
    if (watcher.passSeq !== passSeq) {
      watcher.passSeq = passSeq;
      watcher.passEvents = [];
      this.touched.push(watcher);
    }
    watcher.passEvents.push(watcher.prevKv ? event : this.withoutPrevKv(event, index));
  }

  private withoutPrevKv(event: Event, index: number): Event {
    if (event.prevKv === null) return event;
    let stripped = this.stripped[index];
    if (stripped === undefined) {
      stripped = { type: event.type, kv: event.kv, prevKv: null };
      this.stripped[index] = stripped;
    }
    return stripped;
  }

  /** Synced watchers that still need revisions at or below `through` become unsynced and read them from history. */
  private desync(through: number): void {
    for (const watcher of this.watchers.values()) {
      if (watcher.state !== 'synced') continue;
      watcher.nextRevision = Math.max(watcher.nextRevision, this.publishedRevision + 1);
      if (watcher.nextRevision > through) continue;
      watcher.state = 'unsynced';
      this.unsynced.add(watcher);
    }
    this.publishedRevision = Math.max(this.publishedRevision, through);
    if (this.unsynced.size > 0) this.startCatchUp();
  }

  // --- catch-up: pages of history for the unsynced watchers, one read in flight ---

  private startCatchUp(): void {
    if (this.catchUpRunning || this.closed) return;
    this.catchUpRunning = true;
    this.catchUpDone = this.catchUp();
  }

  private async catchUp(): Promise<void> {
    try {
      for (;;) {
        if (this.closed) return;
        // Synchronous from here to the read: a watcher found caught up becomes synced before any publish.
        const from = this.syncCaughtUp();
        if (from === null) return;
        const to = Math.min(this.publishedRevision, from + this.historyPageRevisions - 1);
        let page: readonly RevisionEvents[];
        try {
          page = await this.source.history(from, to, this.historyPageRevisions);
        } catch (error) {
          if (this.closed) return;
          this.historyFailed(from, error);
          continue;
        }
        if (this.closed) return;
        checkPage(page, from, to);
        this.deliverPage(page, from, to);
      }
    } finally {
      this.catchUpRunning = false; // synchronously with the last check: a watcher added later starts a new loop
    }
  }

  /**
   * Moves unsynced watchers that have every published revision to synced, cancels those whose next
   * revision was compacted, and returns where the next page starts (null: nothing to read).
   * Watchers holding refused events read nothing until their sink takes them.
   */
  private syncCaughtUp(): number | null {
    const compacted = this.source.compactedRevision();
    let from: number | null = null;
    for (const watcher of this.unsynced) {
      if (watcher.nextRevision > this.publishedRevision) {
        this.unsynced.delete(watcher);
        watcher.state = 'synced';
        if (watcher.progressPending) this.sendProgress(watcher);
      } else if (watcher.nextRevision <= compacted) {
        this.cancel(watcher, WatchCancelReason.compacted, compacted);
      } else if (watcher.queue.length === 0 && (from === null || watcher.nextRevision < from)) {
        from = watcher.nextRevision;
      }
    }
    return from;
  }

  private deliverPage(page: readonly RevisionEvents[], from: number, to: number): void {
    for (const watcher of this.unsynced) {
      watcher.inPage = watcher.queue.length === 0 && watcher.nextRevision >= from && watcher.nextRevision <= to;
    }
    const passSeq = ++this.passSeq;
    this.fanningOut = true;
    try {
      for (const revision of page) this.collect(revision, passSeq, true);
      for (const watcher of this.unsynced) {
        if (!watcher.inPage) continue;
        watcher.inPage = false;
        watcher.nextRevision = to + 1;
      }
      for (const watcher of this.touched) {
        const events = watcher.passEvents;
        watcher.passEvents = [];
        if (watcher.state === 'unsynced') this.deliver(watcher, events, to);
      }
      this.touched.length = 0;
    } finally {
      this.fanningOut = false;
    }
  }

  private historyFailed(from: number, error: unknown): void {
    if (isKvError(error, 'KV_COMPACTED')) {
      // Compacted while the page was read: everyone behind the compaction is canceled (etcd's answer).
      const compacted = Math.max(this.source.compactedRevision(), from);
      for (const watcher of this.unsynced) {
        if (watcher.nextRevision <= compacted) this.cancel(watcher, WatchCancelReason.compacted, compacted);
      }
      return;
    }
    // Any other failure: the watchers that needed the page are canceled (they resume elsewhere or later).
    // At least one is: `from` is one's next revision. The loop thus ends even when history() throws at once.
    const message = error instanceof Error ? error.message : String(error);
    const before = this.watchers.size;
    for (const watcher of this.unsynced) {
      if (watcher.nextRevision === from && watcher.queue.length === 0) this.cancel(watcher, `${WatchCancelReason.historyFailed}: ${message}`, 0);
    }
    assert.ok(this.watchers.size < before, `history(${from}) failed and no watcher needed it`);
  }

  // --- sending: straight to the sink, or into the bounded queue when it says "not now" ---

  /** Hands `events` (whole revisions, all above the watcher's last sent revision) through revision `through`. */
  private deliver(watcher: Watcher, events: Event[], through: number): void {
    assert.ok(through >= watcher.sentThroughRevision, `watch ${watcher.id}: revision ${through} below the last sent ${watcher.sentThroughRevision}`);
    if (watcher.queue.length === 0) {
      if (this.sendEvents(watcher, events, through) || watcher.isCanceled()) return;
      watcher.queue = events;
    } else {
      for (const event of events) watcher.queue.push(event);
    }
    watcher.queuedThroughRevision = through;
    this.waiting.add(watcher);
    if (watcher.queue.length > this.eventsQueuedMax) {
      const reason = `${WatchCancelReason.tooSlow}: ${watcher.queue.length} events queued, eventsQueuedMax ${this.eventsQueuedMax}`;
      this.cancel(watcher, reason, 0);
      return;
    }
    if (watcher.queue.length > events.length) this.flush(watcher); // the sink may have room again
  }

  /** Retries what the sink refused: the queued events in one response, then a pending progress notification. */
  private flush(watcher: Watcher): void {
    if (watcher.isCanceled()) return;
    if (watcher.queue.length > 0) {
      if (!this.sendEvents(watcher, watcher.queue, watcher.queuedThroughRevision)) return;
      watcher.queue = [];
      watcher.queuedThroughRevision = 0;
      if (watcher.state === 'unsynced') this.startCatchUp();
    }
    if (watcher.progressPending && watcher.state === 'synced') this.sendProgress(watcher);
    if (watcher.isCanceled()) return;
    // An unsynced watcher's pending progress waits for the catch-up, not for the sink.
    if (watcher.queue.length === 0 && !(watcher.progressPending && watcher.state === 'synced')) this.waiting.delete(watcher);
  }

  private sendEvents(watcher: Watcher, events: Event[], through: number): boolean {
    assert.ok(events.length > 0, `watch ${watcher.id}: an events response without events`);
    const first = eventRevision(events[0]!);
    assert.ok(first > watcher.sentThroughRevision, `watch ${watcher.id}: revision ${first} sent after revision ${watcher.sentThroughRevision}`);
    assert.ok(eventRevision(events[events.length - 1]!) <= through, `watch ${watcher.id}: an event above the header revision ${through}`);
    if (!this.trySend(watcher, this.response(watcher.id, through, { events }))) return false;
    watcher.sentThroughRevision = through;
    return true;
  }

  private requestProgress(watcher: Watcher): void {
    if (watcher.isCanceled()) return;
    watcher.progressPending = true;
    if (watcher.state === 'synced' && watcher.queue.length === 0) this.sendProgress(watcher);
  }

  /**
   * An empty response whose header is the published revision: sent only to a synced watcher with an
   * empty queue, which has then been sent every matching event up to that revision.
   */
  private sendProgress(watcher: Watcher): void {
    if (watcher.state !== 'synced' || watcher.queue.length > 0) {
      watcher.progressPending = true;
      return;
    }
    const revision = this.publishedRevision;
    assert.ok(revision >= watcher.sentThroughRevision, `watch ${watcher.id}: progress ${revision} below the last sent ${watcher.sentThroughRevision}`);
    if (this.trySend(watcher, this.response(watcher.id, revision, {}))) {
      watcher.progressPending = false;
      watcher.sentThroughRevision = revision;
    } else if (!watcher.isCanceled()) {
      watcher.progressPending = true;
      this.waiting.add(watcher);
    }
  }

  /** Sends one response; a sink that throws gets the watch canceled. */
  private trySend(watcher: Watcher, response: WatchResponse): boolean {
    let taken: boolean;
    try {
      taken = watcher.sink.send(response);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!watcher.isCanceled()) this.cancel(watcher, `${WatchCancelReason.sinkFailed}: ${message}`, 0);
      return false;
    }
    if (taken) watcher.lastSentMs = this.nowMs;
    return taken && !watcher.isCanceled();
  }

  // --- watchers: creation, refusal, removal ---

  private refusal(request: WatchCreateRequest): string | null {
    if (this.closed) return WatchCancelReason.stopping;
    if (this.watchers.size >= this.watchersMax) {
      return `${WatchCancelReason.tooManyWatchers}: ${this.watchers.size} watchers, watchersMax ${this.watchersMax}`;
    }
    if (!Number.isSafeInteger(request.watchId) || request.watchId < 0) return `${WatchCancelReason.invalid}: watchId ${request.watchId}`;
    if (!Number.isSafeInteger(request.startRevision) || request.startRevision < 0) {
      return `${WatchCancelReason.invalid}: startRevision ${request.startRevision}`;
    }
    if (request.watchId !== 0 && this.watchers.has(request.watchId)) return WatchCancelReason.duplicateId;
    if (request.key.length === 0 && request.rangeEnd.length === 0) return WatchCancelReason.emptyKey;
    if (request.rangeEnd.length > 0 && !isFromKey(request.rangeEnd) && Buffer.compare(request.key, request.rangeEnd) >= 0) {
      return WatchCancelReason.emptyRange;
    }
    return null;
  }

  /** Ids the hub assigns: the smallest unused one from a rising counter (at most watchersMax + 1 probes). */
  private freeWatchId(): number {
    while (this.watchers.has(this.nextWatchId)) this.nextWatchId++;
    return this.nextWatchId++;
  }

  private createWatcher(id: number, request: WatchCreateRequest, sink: WatchSink): Watcher {
    this.nowMs = this.now();
    // startRevision 0 or in the future: synced now (live from the next revision, or from startRevision).
    const live = request.startRevision === 0 || request.startRevision > this.publishedRevision;
    const next = request.startRevision === 0 ? this.publishedRevision + 1 : request.startRevision;
    const watcher = new Watcher(
      id,
      Uint8Array.from(request.key),
      Uint8Array.from(request.rangeEnd),
      request.filters.includes('NOPUT'),
      request.filters.includes('NODELETE'),
      request.prevKv,
      request.progressNotify,
      sink,
      live ? 'synced' : 'unsynced',
      next,
      // Nothing it asked for lies at or below this: the created response's header is a true bookmark.
      Math.min(next - 1, this.publishedRevision),
      this.nowMs,
    );
    this.watchers.set(id, watcher);
    if (!live) this.unsynced.add(watcher);
    if (watcher.progressNotify) this.progressWatchers.add(watcher);
    this.index(watcher);
    return watcher;
  }

  private index(watcher: Watcher): void {
    if (watcher.rangeEnd.length === 0) {
      const key = bytesKey(watcher.key);
      let set = this.keyWatchers.get(key);
      if (set === undefined) {
        set = new Set();
        this.keyWatchers.set(key, set);
      }
      set.add(watcher);
      return;
    }
    const groupKey = rangeGroupKey(watcher.key, watcher.rangeEnd);
    let group = this.rangeGroups.get(groupKey);
    if (group === undefined) {
      group = { start: watcher.key, end: isFromKey(watcher.rangeEnd) ? null : watcher.rangeEnd, watchers: new Set() };
      this.rangeGroups.set(groupKey, group);
    }
    group.watchers.add(watcher);
  }

  private unindex(watcher: Watcher): void {
    if (watcher.rangeEnd.length === 0) {
      const key = bytesKey(watcher.key);
      const set = this.keyWatchers.get(key);
      set?.delete(watcher);
      if (set?.size === 0) this.keyWatchers.delete(key);
      return;
    }
    const groupKey = rangeGroupKey(watcher.key, watcher.rangeEnd);
    const group = this.rangeGroups.get(groupKey);
    group?.watchers.delete(watcher);
    if (group?.watchers.size === 0) this.rangeGroups.delete(groupKey);
  }

  /** Forgets the watcher without a word (the client canceled it). */
  private remove(watcher: Watcher): void {
    if (watcher.isCanceled()) return;
    watcher.state = 'canceled';
    this.watchers.delete(watcher.id);
    this.unsynced.delete(watcher);
    this.waiting.delete(watcher);
    this.progressWatchers.delete(watcher);
    this.unindex(watcher);
    watcher.queue = [];
    watcher.passEvents = [];
  }

  /** Removes the watcher, then tells its sink why (the last response it gets). */
  private cancel(watcher: Watcher, reason: string, compactRevision: number): void {
    this.remove(watcher);
    finalSend(watcher.sink, this.response(watcher.id, watcher.sentThroughRevision, { canceled: true, cancelReason: reason, compactRevision }));
  }

  private response(watchId: number, revision: number, fields: Partial<Omit<WatchResponse, 'header' | 'watchId'>>): WatchResponse {
    return {
      header: { revision },
      watchId,
      created: fields.created ?? false,
      canceled: fields.canceled ?? false,
      compactRevision: fields.compactRevision ?? 0,
      cancelReason: fields.cancelReason ?? '',
      events: fields.events ?? [],
    };
  }
}

/** The last response of a watch: its sink must deliver it or end the stream, so its answer is not needed. */
function finalSend(sink: WatchSink, response: WatchResponse): void {
  try {
    sink.send(response);
  } catch {
    // The watch is already gone; a sink that cannot even take its cancelation has nothing more to lose.
  }
}

function eventRevision(event: Event): number {
  return event.kv.modRevision;
}

/** A page must hold revisions of [from, to], rising, at most one entry each. */
function checkPage(page: readonly RevisionEvents[], from: number, to: number): void {
  let last = from - 1;
  for (const revision of page) {
    assert.ok(revision.revision > last && revision.revision <= to, `history(${from}, ${to}) returned revision ${revision.revision} after ${last}`);
    last = revision.revision;
  }
}

/** A single zero byte as rangeEnd: every key >= key (etcd's "from key"). */
function isFromKey(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

function inRange(key: Uint8Array, start: Uint8Array, end: Uint8Array | null): boolean {
  return Buffer.compare(key, start) >= 0 && (end === null || Buffer.compare(key, end) < 0);
}

/** Bytes as a string of the same length, one char per byte: a Map key that compares like the bytes. */
function bytesKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function rangeGroupKey(start: Uint8Array, end: Uint8Array): string {
  return `${start.length}:${bytesKey(start)}${bytesKey(end)}`;
}

function validateOptions(options: WatchHubOptions): void {
  const positive = ['eventsQueuedMax', 'historyPageRevisions', 'progressIntervalMs', 'watchersMax'] as const;
  for (const name of positive) {
    const value = options[name];
    if (!Number.isSafeInteger(value) || value < 1) throw invalidOption(name, value, 'an integer >= 1');
  }
  if (!Number.isSafeInteger(options.tickMs) || options.tickMs < 0) throw invalidOption('tickMs', options.tickMs, 'an integer >= 0 (0: the owner calls tick())');
  if (typeof options.now !== 'function') throw invalidOption('now', options.now, 'a function');
  if (!(options.signal instanceof AbortSignal)) throw invalidOption('signal', options.signal, 'an AbortSignal');
  if (typeof options.source?.subscribe !== 'function') throw invalidOption('source', options.source, 'a HistorySource');
}

function invalidOption(name: string, value: unknown, expected: string): KvError {
  return new KvError('KV_INVALID_ARGUMENT', `${KvErrorCatalogue.KV_INVALID_ARGUMENT.message}: WatchHubOptions.${name} (${String(value)}) must be ${expected}`, {
    option: name,
  });
}
