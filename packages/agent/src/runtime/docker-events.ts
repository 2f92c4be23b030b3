// Follows the engine's `die` events for one node's containers (GET /events, newline-delimited JSON)
// and tells listeners which container exited, so the agent need not poll. The stream is reopened
// with backoff when it breaks (the engine restarted), resuming just after the last event seen, so
// that exits during the gap are replayed from the engine's event log rather than lost.

import assert from 'node:assert/strict';
import { Backoff, sleep, type ClientLogger, type Clock } from '@raftplane/client';
import { AgentError, AgentErrorCode } from '../errors.js';
import { DockerLabel } from './docker-container.js';
import { LineDecoder } from './docker-frames.js';
import type { DockerHttp } from './docker-http.js';

export interface DieEventsOptions {
  readonly http: DockerHttp;
  readonly nodeName: string;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: ClientLogger;
  /** Until the engine answers the events request. */
  readonly connectTimeoutMs: number;
  readonly reconnectDelayMsMin: number;
  readonly reconnectDelayMsMax: number;
  /** An event line longer than this is not the engine's. */
  readonly lineBytesMax: number;
}

interface DieEvent {
  readonly id: string;
  /** Engine time of the event, in nanoseconds since the epoch. */
  readonly timeNano: bigint | undefined;
}

const NANOS_PER_MS = 1_000_000n;
const NANOS_PER_SECOND = 1_000_000_000n;

export class DieEvents {
  private readonly listeners = new Set<(id: string) => void>();
  private readonly stopping = new AbortController();
  /** The follow loop, once a first listener started it; settles after its socket is gone. */
  private loop: Promise<void> | undefined;
  /** Where a reopened stream resumes (`since`): just after the newest event delivered. */
  private resumeNano: bigint | undefined;

  constructor(private readonly options: DieEventsOptions) {}

  add(listener: (id: string) => void): () => void {
    assert.ok(!this.stopping.signal.aborted, 'onExit after close()');
    this.listeners.add(listener);
    this.loop ??= this.follow();
    return () => {
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.stopping.abort(new AgentError(AgentErrorCode.RuntimeUnavailable, 'the Docker runtime is closed'));
    await this.loop;
  }

  private async follow(): Promise<void> {
    const { clock, random, logger, reconnectDelayMsMin, reconnectDelayMsMax } = this.options;
    const signal = this.stopping.signal;
    const backoff = new Backoff(reconnectDelayMsMin, reconnectDelayMsMax, random);
    while (!signal.aborted) {
      try {
        await this.followOnce(() => backoff.reset());
        logger.warn({ nodeName: this.options.nodeName, socketPath: this.options.http.socketPath }, 'docker event stream ended; reopening it');
      } catch (error) {
        if (signal.aborted) break;
        logger.warn({ nodeName: this.options.nodeName, socketPath: this.options.http.socketPath, error: String(error) }, 'docker event stream failed; reopening it');
      }
      await sleep(clock, backoff.nextDelayMs(), signal).catch(() => {});
    }
  }

  /** One connection: resolves when the engine ends the stream, rejects when it breaks. */
  private async followOnce(onConnected: () => void): Promise<void> {
    const { http, nodeName, connectTimeoutMs, lineBytesMax } = this.options;
    const filters = { type: ['container'], event: ['die'], label: [`${DockerLabel.nodeName}=${nodeName}`] };
    const since = this.resumeNano === undefined ? undefined : dockerTimestamp(this.resumeNano);
    const openedNano = BigInt(Date.now()) * NANOS_PER_MS;
    const stream = await http.stream('GET', '/events', {
      query: { filters: JSON.stringify(filters), since },
      headersTimeoutMs: connectTimeoutMs,
      // Silence is normal: a node whose containers all run for days sends nothing.
      bodyTimeoutMs: 0,
      signal: this.stopping.signal,
    });
    try {
      if (stream.statusCode !== 200) {
        throw new AgentError(AgentErrorCode.RuntimeUnavailable, `GET /events answered ${stream.statusCode}`);
      }
      onConnected();
      // From here every event is seen on this stream; a later reconnect replays only what follows.
      if (this.resumeNano === undefined || this.resumeNano < openedNano) this.resumeNano = openedNano;
      const lines = new LineDecoder(lineBytesMax, `events from ${http.socketPath}`);
      for await (const chunk of stream.body as AsyncIterable<Buffer>) {
        for (const line of lines.push(chunk)) this.deliver(parseDieEvent(line));
      }
    } finally {
      await stream.release();
    }
  }

  private deliver(event: DieEvent | undefined): void {
    if (event === undefined) return;
    if (event.timeNano !== undefined) {
      const next = event.timeNano + 1n;
      if (this.resumeNano === undefined || next > this.resumeNano) this.resumeNano = next;
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(event.id);
      } catch (error) {
        // One listener's bug must not stop the others, nor the stream.
        this.options.logger.warn({ containerId: event.id, error: String(error) }, 'onExit listener threw');
      }
    }
  }
}

function parseDieEvent(line: string): DieEvent | undefined {
  if (line.trim() === '') return undefined;
  let event: { Action?: unknown; status?: unknown; id?: unknown; Actor?: { ID?: unknown } };
  try {
    event = JSON.parse(line) as typeof event;
  } catch {
    return undefined;
  }
  const action = event.Action ?? event.status;
  const id = event.Actor?.ID ?? event.id;
  if (action !== 'die' || typeof id !== 'string') return undefined;
  // Read from the text: as a JSON number, nanoseconds since 1970 are past 2^53 and lose their last digits.
  const timeNano = /"timeNano":(\d{1,20})[,}]/.exec(line)?.[1];
  return { id, timeNano: timeNano === undefined ? undefined : BigInt(timeNano) };
}

/** Docker's `since`: seconds and nanoseconds, `1700000000.000000123`. */
export function dockerTimestamp(nano: bigint): string {
  const seconds = nano / NANOS_PER_SECOND;
  const rest = nano % NANOS_PER_SECOND;
  return `${seconds}.${rest.toString().padStart(9, '0')}`;
}
