// One watch over chunked HTTP (`GET ...?watch=true`, one JSON event per line): the fallback
// transport, and what kubectl uses. The body stream is paused when the consumer falls behind.

import type { Dispatcher } from 'undici';
import { ClientError, ClientErrorCode } from './errors.js';
import { EventQueue } from './event-queue.js';
import { flattenHeaders, parseBody, queryString, readBodyBounded } from './http-wire.js';
import { LineSplitter } from './line-splitter.js';
import type { AttemptOutcome } from './retry-loop.js';
import type { WatchEvent } from './transport.js';
import { parseWatchEvent } from './watch-event.js';
import type { SocketWatchStream, StreamWatchParams } from './websocket-watch.js';

export interface ChunkedWatchParams extends StreamWatchParams {
  readonly dispatcher: Dispatcher;
  /** Longest silence between two chunks before the stream counts as broken; 0 waits for ever. */
  readonly idleTimeoutMs: number;
}

export async function openChunkedWatch(params: ChunkedWatchParams): Promise<AttemptOutcome<SocketWatchStream>> {
  const { endpoint, path, signal } = params;
  const origin = endpoint;
  if (signal.aborted) throw signal.reason;
  // Our own controller: close() must be able to end the stream without aborting the caller's signal.
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let response: Dispatcher.ResponseData;
  try {
    response = await params.dispatcher.request({
      origin: endpoint,
      path: `${path}${queryString(params.query)}`,
      method: 'GET',
      headers: { ...params.headers },
      signal: controller.signal,
      headersTimeout: params.openTimeoutMs,
      bodyTimeout: params.idleTimeoutMs,
    });
  } catch (error) {
    signal.removeEventListener('abort', onAbort);
    throw error;
  }
  const headers = flattenHeaders(response.headers);
  if (response.statusCode !== 200) {
    try {
      const text = await readBodyBounded(response.body, params.responseBytesMax, origin);
      return { kind: 'answer', response: { status: response.statusCode, headers, body: parseBody(text) } };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
  return { kind: 'opened', stream: streamFromBody(params, response.body, controller, onAbort), headers };
}

function streamFromBody(params: ChunkedWatchParams, body: Dispatcher.ResponseData['body'], controller: AbortController, onAbort: () => void): SocketWatchStream {
  const { endpoint: origin, path, signal } = params;
  let closing = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const queue = new EventQueue<WatchEvent>({
    highWaterCount: Math.max(1, Math.floor(params.eventsBufferedMax / 2)),
    eventsBufferedMax: params.eventsBufferedMax,
    onPause: () => body.pause(),
    onResume: () => body.resume(),
    onReturn: () => stream.close(),
    origin,
  });
  const stream: SocketWatchStream = {
    origin,
    closed,
    close: async () => {
      closing = true;
      queue.end();
      body.destroy();
      await closed;
    },
    [Symbol.asyncIterator]: () => queue,
  };
  const splitter = new LineSplitter(params.eventBytesMax, origin);
  const failWith = (error: unknown): void => {
    closing = true;
    queue.fail(error);
    body.destroy();
  };
  const pushLine = (line: string): void => {
    if (line.trim() !== '') queue.push(parseWatchEvent(line, origin));
  };
  signal.removeEventListener('abort', onAbort);
  const onStreamAbort = (): void => {
    closing = true;
    queue.abort(signal.reason);
    controller.abort(signal.reason);
  };
  signal.addEventListener('abort', onStreamAbort, { once: true });
  body.on('data', (chunk: Buffer) => {
    try {
      for (const line of splitter.push(chunk)) pushLine(line);
    } catch (error) {
      failWith(error);
    }
  });
  body.on('end', () => {
    try {
      pushLine(splitter.end());
      queue.end();
    } catch (error) {
      failWith(error);
    }
  });
  body.on('error', (error) => {
    if (closing) return;
    queue.fail(new ClientError(ClientErrorCode.WatchBroken, `watch ${path} on ${origin} broke: ${error.message}`, { endpoint: origin, path }, { cause: error }));
  });
  body.on('close', () => {
    signal.removeEventListener('abort', onStreamAbort);
    resolveClosed();
  });
  return stream;
}
