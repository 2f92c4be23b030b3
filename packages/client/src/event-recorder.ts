// core/v1 Events for what a component does (a controller's `SuccessfulCreate`, an agent's
// `Started`), the way client-go's record.EventRecorder writes them: best effort, never blocking the sync that
// reports them, with a bound on writes in flight and a bounded memory of recent events.

import { formatTime, type Event, type KubeObject } from '@raftplane/api';
import type { Client } from './client.js';
import { invalidOption } from './errors.js';

export type EventType = 'Normal' | 'Warning';

/** One event as recorded, before or without its write. */
export interface RecordedEvent {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

export interface EventRecorderOptions {
  /** `source.component` of every event: `replicaset-controller`, `deployment-controller`. */
  readonly component: string;
  /** Event writes in flight at once; beyond it events are dropped and counted. Default 100. */
  readonly writesInFlightMax?: number;
  /** Recent events kept in memory for `recent()`. Default 256. */
  readonly recentEventsMax?: number;
  /** Wall-clock ms for the events' timestamps. Default Date.now. */
  readonly wallClockMs?: () => number;
}

export interface EventRecorderStats {
  recorded: number;
  written: number;
  /** Dropped because writesInFlightMax writes were in flight. */
  dropped: number;
  /** Writes the server refused or that failed (an event is never retried). */
  failed: number;
}

export class EventRecorder {
  private readonly component: string;
  private readonly writesInFlightMax: number;
  private readonly recentEventsMax: number;
  private readonly wallClockMs: () => number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly recentEvents: RecordedEvent[] = [];
  private readonly counts: EventRecorderStats = { recorded: 0, written: 0, dropped: 0, failed: 0 };
  private signal: AbortSignal | undefined;
  private sequence = 0;
  /** The last failed write's message, for logs and tests. */
  lastError: string | undefined;

  constructor(
    private readonly client: Client | undefined,
    options: EventRecorderOptions,
  ) {
    this.component = options.component;
    this.writesInFlightMax = options.writesInFlightMax ?? 100;
    this.recentEventsMax = options.recentEventsMax ?? 256;
    this.wallClockMs = options.wallClockMs ?? Date.now;
    if (!Number.isSafeInteger(this.writesInFlightMax) || this.writesInFlightMax < 0) throw invalidOption('writesInFlightMax', `${this.writesInFlightMax} must be an integer >= 0`);
    if (!Number.isSafeInteger(this.recentEventsMax) || this.recentEventsMax < 0) throw invalidOption('recentEventsMax', `${this.recentEventsMax} must be an integer >= 0`);
  }

  /** Writes made after `signal` aborts are not sent; writes in flight are aborted with it. */
  bind(signal: AbortSignal): void {
    this.signal = signal;
  }

  /** Records an event about `obj`; the write to the apiserver goes on in the background. */
  record(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const namespace = obj.metadata.namespace ?? 'default';
    const event: RecordedEvent = { namespace, kind: obj.kind ?? '', name: obj.metadata.name ?? '', type, reason, message };
    this.counts.recorded++;
    this.recentEvents.push(event);
    if (this.recentEvents.length > this.recentEventsMax) this.recentEvents.shift();
    if (this.client === undefined || this.signal?.aborted === true) return;
    if (this.inFlight.size >= this.writesInFlightMax) {
      this.counts.dropped++;
      return;
    }
    const write = this.write(obj, event).finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  /** The last `recentEventsMax` events, oldest first. */
  recent(): readonly RecordedEvent[] {
    return [...this.recentEvents];
  }

  stats(): EventRecorderStats {
    return { ...this.counts };
  }

  /** Settles once every write in flight has: what `run` awaits before it returns. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async write(obj: KubeObject, event: RecordedEvent): Promise<void> {
    const now = formatTime(this.wallClockMs());
    const body: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      // client-go names events `<object>.<unix nanos in hex>`; a sequence number keeps two in one ms apart.
      metadata: { name: `${event.name}.${Math.floor(this.wallClockMs()).toString(16)}${(this.sequence++ % 0x10000).toString(16).padStart(4, '0')}`, namespace: event.namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: event.kind,
        name: event.name,
        namespace: event.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason: event.reason,
      message: event.message,
      type: event.type,
      source: { component: this.component },
      reportingComponent: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.client?.resource('events', event.namespace).create(body, { signal: this.signal });
      this.counts.written++;
    } catch (error) {
      this.counts.failed++;
      this.lastError = error instanceof Error ? error.message : String(error);
    }
  }
}
