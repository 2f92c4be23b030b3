// The buffer between a socket that pushes watch events and a consumer that pulls them with
// `for await`: bounded (house rule 2), with a high-water mark that pauses the socket (TCP
// backpressure to the server) and a hard limit past which the stream is cut, never grown.

import assert from 'node:assert/strict';
import { ClientError, ClientErrorCode } from './errors.js';

export interface EventQueueOptions {
  /** Buffered events at which `onPause` is called; `onResume` once the consumer drained half of it. */
  readonly highWaterCount: number;
  /** Buffered events past which the queue fails with CLIENT_WATCH_OVERFLOW. */
  readonly eventsBufferedMax: number;
  readonly onPause: () => void;
  readonly onResume: () => void;
  /** The consumer stopped early (`return()`, a `break` out of `for await`). */
  readonly onReturn: () => Promise<void>;
  /** Named in the overflow error. */
  readonly origin: string;
}

type Waiter<E> = { resolve: (result: IteratorResult<E>) => void; reject: (error: unknown) => void };

export class EventQueue<E> implements AsyncIterableIterator<E> {
  /** Events not yet pulled, oldest at `head`; compacted when half of the array is consumed. */
  private buffer: E[] = [];
  private head = 0;
  private paused = false;
  private waiter: Waiter<E> | undefined;
  /** Set once: the stream ended normally (`undefined` error) or failed. */
  private finished: { error: unknown } | undefined;

  constructor(private readonly options: EventQueueOptions) {
    assert.ok(options.highWaterCount >= 1 && options.highWaterCount <= options.eventsBufferedMax, `highWaterCount ${options.highWaterCount} outside [1, ${options.eventsBufferedMax}]`);
  }

  bufferedCount(): number {
    return this.buffer.length - this.head;
  }

  push(event: E): void {
    if (this.finished !== undefined) return;
    if (this.waiter !== undefined) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve({ value: event, done: false });
      return;
    }
    if (this.bufferedCount() >= this.options.eventsBufferedMax) {
      this.fail(new ClientError(ClientErrorCode.WatchOverflow, `watch consumer is ${this.bufferedCount()} events behind on ${this.options.origin}; the stream was cut`, { endpoint: this.options.origin }));
      return;
    }
    this.buffer.push(event);
    if (!this.paused && this.bufferedCount() >= this.options.highWaterCount) {
      this.paused = true;
      this.options.onPause();
    }
  }

  /** The producer is done: buffered events are still delivered, then iteration ends. */
  end(): void {
    this.finish({ error: undefined }, false);
  }

  /** The stream failed: buffered events are delivered first, then `next()` rejects with `error`. */
  fail(error: unknown): void {
    this.finish({ error }, false);
  }

  /** Aborted: buffered events are dropped and the next `next()` rejects with `reason`. */
  abort(reason: unknown): void {
    this.finish({ error: reason }, true);
  }

  next(): Promise<IteratorResult<E>> {
    if (this.bufferedCount() > 0) return Promise.resolve({ value: this.shift(), done: false });
    if (this.finished !== undefined) {
      const { error } = this.finished;
      // Report a failure once; later calls see a finished iterator.
      this.finished = { error: undefined };
      return error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(error);
    }
    assert.equal(this.waiter, undefined, 'a watch stream has one consumer: next() called while a next() is pending');
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<E>> {
    this.finish({ error: undefined }, true);
    await this.options.onReturn();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<E> {
    return this;
  }

  private shift(): E {
    const event = this.buffer[this.head] as E;
    this.buffer[this.head] = undefined as E;
    this.head++;
    if (this.head * 2 >= this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.bufferedCount() <= Math.floor(this.options.highWaterCount / 2)) {
      this.paused = false;
      this.options.onResume();
    }
    return event;
  }

  private finish(finished: { error: unknown }, dropBuffered: boolean): void {
    if (this.finished !== undefined) return;
    this.finished = finished;
    if (dropBuffered) {
      this.buffer = [];
      this.head = 0;
    }
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    this.finished = { error: undefined };
    if (finished.error === undefined) waiter.resolve({ value: undefined, done: true });
    else waiter.reject(finished.error);
  }
}
