// The client's Transport inside a master (DESIGN.md: components in a master "get an in-process
// implementation that calls the apiserver's handlers directly (same validation, no HTTP)"). The
// leader's scheduler and controllers use it; the same component code takes the HTTP transport
// when it runs as its own process.

import { isStatusError, statusErrorFromBody, type Status } from '@raftplane/api';
import { startObjectWatch, type ApiBackend, type ApiHandler, type ObjectWatch, type UserInfo } from '@raftplane/apiserver';
import { EventQueue, type Transport, type TransportRequest, type TransportResponse, type WatchEvent, type WatchRequest, type WatchStream } from '@raftplane/client';

export interface InProcessTransportOptions {
  readonly handler: ApiHandler;
  readonly backend: ApiBackend;
  /** Who the components act as (an admin: they run inside the control plane). */
  readonly user: UserInfo;
  /** Events one watch may have unread before it is cut (the consumer then resumes it). */
  readonly watchEventsBufferedMax?: number;
}

const origin = 'in-process';

function statusResponse(status: Status): TransportResponse {
  const retry = status.details?.retryAfterSeconds;
  return { status: status.code, headers: retry === undefined ? {} : { 'retry-after': String(retry) }, body: status };
}

export class InProcessTransport implements Transport {
  constructor(private readonly options: InProcessTransportOptions) {}

  async request(request: TransportRequest): Promise<TransportResponse> {
    request.signal?.throwIfAborted();
    const body = request.body === undefined ? null : Buffer.from(JSON.stringify(request.body));
    try {
      const result = await this.options.handler.handle({
        method: request.method,
        path: request.path,
        query: new URLSearchParams(request.query ?? {}),
        headers: {
          accept: 'application/json',
          contentType: request.headers?.['content-type'] ?? (body === null ? undefined : 'application/json'),
          userAgent: request.headers?.['user-agent'] ?? 'raftplane-in-process',
        },
        body,
        user: this.options.user,
      });
      if (result.type === 'watch') throw new Error(`in-process request ${request.method} ${request.path} was answered with a watch: use watch()`);
      if (result.type === 'proxy') throw new Error(`in-process request ${request.method} ${request.path} is proxied to ${result.url}: it is served over HTTP only`);
      // A copy: the caller owns what it gets, as it would after JSON over a socket. Made when the
      // body is first read: many callers (an event's create, a binding) never read it.
      const answer = result.body;
      let copy: unknown;
      let copied = answer === undefined;
      return {
        status: result.status,
        headers: {},
        get body(): unknown {
          if (!copied) {
            copy = structuredClone(answer);
            copied = true;
          }
          return copy;
        },
      };
    } catch (error) {
      if (isStatusError(error)) return statusResponse(error.status);
      throw error;
    }
  }

  async watch(request: WatchRequest): Promise<WatchStream> {
    request.signal?.throwIfAborted();
    const query = new URLSearchParams(request.query ?? {});
    query.set('watch', 'true');
    const result = await this.options.handler.handle({ method: 'GET', path: request.path, query, headers: { accept: 'application/json' }, body: null, user: this.options.user }).catch((error: unknown) => {
      throw isStatusError(error) ? statusErrorFromBody(error.status) : error;
    });
    if (result.type === 'proxy') throw new Error(`in-process watch of ${request.path} is proxied to ${result.url}: it is served over HTTP only`);
    if (result.type !== 'watch') throw statusErrorFromBody(result.body as Status);
    const bufferedMax = this.options.watchEventsBufferedMax ?? 10_000;
    let paused = false;
    let watch: ObjectWatch | null = null;
    let resolveClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
    const stop = (): void => {
      watch?.stop();
      resolveClosed();
    };
    const queue = new EventQueue<WatchEvent>({
      highWaterCount: Math.max(1, Math.floor(bufferedMax / 2)),
      eventsBufferedMax: bufferedMax,
      onPause: () => (paused = true),
      onResume: () => (paused = false),
      onReturn: async () => stop(),
      origin,
    });
    watch = await startObjectWatch(this.options.backend, {
      ...result.options,
      output: {
        // While the consumer is behind, the hub keeps the events and offers them again.
        hasRoom: () => !paused,
        write: (events) => {
          for (const event of events) queue.push(structuredClone(event) as WatchEvent);
        },
        end: () => {
          queue.end();
          resolveClosed();
        },
      },
    });
    const onAbort = (): void => {
      queue.abort(request.signal?.reason);
      stop();
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });
    return {
      origin,
      [Symbol.asyncIterator]: () => queue,
      close: async () => {
        request.signal?.removeEventListener('abort', onAbort);
        queue.end();
        stop();
        await closed;
      },
    };
  }
}
