// Reading watch streams: lines split at every byte boundary come out whole, oversized lines and
// malformed events are clear errors, and the event buffer pauses its source at the high-water
// mark, resumes once drained, and cuts the stream rather than grow past its bound.

import { describe, expect, it } from 'vitest';
import { ClientErrorCode, isClientError } from '../src/index.js';
import { EventQueue } from '../src/event-queue.js';
import { LineSplitter } from '../src/line-splitter.js';
import { parseWatchEvent } from '../src/watch-event.js';

const origin = 'http://127.0.0.1:6441';

describe('line splitter', () => {
  const text = '{"type":"ADDED","object":{"metadata":{"name":"é"}}}\n{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}\n';
  const bytes = Buffer.from(text);

  it('gives the same lines however the body is cut into chunks', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const splitter = new LineSplitter(1024, origin);
      const lines = [...splitter.push(bytes.subarray(0, cut)), ...splitter.push(bytes.subarray(cut))];
      expect(lines, `cut at ${cut}`).toEqual(text.split('\n').slice(0, 2));
      expect(splitter.end()).toBe('');
    }
  });

  it('gives the same lines fed one byte at a time', () => {
    const splitter = new LineSplitter(1024, origin);
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++) lines.push(...splitter.push(bytes.subarray(i, i + 1)));
    expect(lines).toEqual(text.split('\n').slice(0, 2));
  });

  it('refuses a line over the bound', () => {
    const splitter = new LineSplitter(10, origin);
    let error: unknown;
    try {
      splitter.push(Buffer.from('0123456789abc'));
    } catch (e) {
      error = e;
    }
    expect(isClientError(error, ClientErrorCode.ResponseTooLarge)).toBe(true);
  });
});

describe('watch event parsing', () => {
  it('accepts the five event types', () => {
    expect(parseWatchEvent('{"type":"MODIFIED","object":{"metadata":{"name":"a"}}}', origin).type).toBe('MODIFIED');
    expect(parseWatchEvent('{"type":"ERROR","object":{"kind":"Status","code":410}}', origin).type).toBe('ERROR');
  });

  it('names what is wrong with a malformed event', () => {
    for (const [text, problem] of [
      ['nope', 'is not JSON'],
      ['[1]', 'is not a JSON object'],
      ['{"type":"CHANGED","object":{}}', 'has type "CHANGED"'],
      ['{"type":"ADDED"}', 'has no object'],
      ['{"type":"ADDED","object":{}}', 'without metadata'],
      ['{"type":"BOOKMARK","object":{"metadata":{}}}', 'without metadata.resourceVersion'],
      ['{"type":"ERROR","object":{"kind":"Status"}}', 'without a Status code'],
    ] as const) {
      let error: unknown;
      try {
        parseWatchEvent(text, origin);
      } catch (e) {
        error = e;
      }
      expect(isClientError(error, ClientErrorCode.MalformedResponse), text).toBe(true);
      expect((error as Error).message).toContain(problem);
    }
  });
});

describe('event queue', () => {
  function queue(eventsBufferedMax: number, highWaterCount: number): { q: EventQueue<number>; calls: string[] } {
    const calls: string[] = [];
    const q = new EventQueue<number>({
      highWaterCount,
      eventsBufferedMax,
      onPause: () => calls.push('pause'),
      onResume: () => calls.push('resume'),
      onReturn: async () => {
        calls.push('return');
      },
      origin,
    });
    return { q, calls };
  }

  it('pauses its source at the high-water mark and resumes once half drained', async () => {
    const { q, calls } = queue(10, 4);
    for (let i = 0; i < 4; i++) q.push(i);
    expect(calls).toEqual(['pause']);
    expect((await q.next()).value).toBe(0);
    expect(calls).toEqual(['pause']);
    expect((await q.next()).value).toBe(1);
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('delivers what it holds, then the failure, once', async () => {
    const { q } = queue(10, 5);
    q.push(1);
    q.fail(new Error('broken'));
    expect(await q.next()).toEqual({ value: 1, done: false });
    await expect(q.next()).rejects.toThrow('broken');
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('cuts the stream with CLIENT_WATCH_OVERFLOW past its bound, after what it holds', async () => {
    const { q } = queue(3, 2);
    for (let i = 0; i < 5; i++) q.push(i);
    expect(q.bufferedCount()).toBe(3);
    const values = [(await q.next()).value, (await q.next()).value, (await q.next()).value];
    expect(values).toEqual([0, 1, 2]);
    const error = await q.next().catch((e: unknown) => e);
    expect(isClientError(error, ClientErrorCode.WatchOverflow)).toBe(true);
  });

  it('hands an event straight to a waiting consumer; abort drops what it holds', async () => {
    const { q, calls } = queue(10, 5);
    const waiting = q.next();
    q.push(7);
    expect(await waiting).toEqual({ value: 7, done: false });
    q.push(8);
    const reason = new Error('aborted');
    q.abort(reason);
    await expect(q.next()).rejects.toBe(reason);
    await q.return();
    expect(calls).toEqual(['return']);
  });
});
