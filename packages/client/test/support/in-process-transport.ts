// A Transport with no HTTP at all: requests go straight to the fake's handlers and watches
// subscribe to its store, as a master's in-process transport will call the apiserver's. Tests run
// the typed client and an informer over it unchanged, which is the point of the Transport seam.

import { isStatusError } from '@raftplane/api';
import { EventQueue } from '../../src/event-queue.js';
import type { Transport, TransportRequest, TransportResponse, WatchEvent, WatchRequest, WatchStream } from '../../src/index.js';
import { handleApiRequest, parsePath, startWatch, type WatchSession } from './fake-apiserver.js';
import type { FakeStore } from './fake-store.js';

export class InProcessTransport implements Transport {
  readonly openWatches = new Set<WatchSession>();

  constructor(private readonly store: FakeStore) {}

  async request(request: TransportRequest): Promise<TransportResponse> {
    if (request.signal?.aborted) throw request.signal.reason;
    const parsed = parsePath(request.path);
    if (parsed === undefined) return { status: 404, headers: {}, body: undefined };
    const record = { method: request.method, query: new URLSearchParams(request.query ?? {}), headers: { ...request.headers }, body: structuredClone(request.body) };
    try {
      const answer = handleApiRequest(this.store, record, parsed);
      return { status: answer.status, headers: {}, body: structuredClone(answer.body) };
    } catch (error) {
      if (!isStatusError(error)) throw error;
      return { status: error.code, headers: {}, body: error.status };
    }
  }

  async watch(request: WatchRequest): Promise<WatchStream> {
    const { signal } = request;
    if (signal?.aborted) throw signal.reason;
    const parsed = parsePath(request.path);
    if (parsed === undefined) throw new Error(`no such watch path ${request.path}`);
    let unsubscribe: (() => void) | undefined;
    const end = (): void => {
      unsubscribe?.();
      this.openWatches.delete(session);
      signal?.removeEventListener('abort', onAbort);
    };
    const queue = new EventQueue<WatchEvent>({ highWaterCount: 500, eventsBufferedMax: 1000, onPause: () => {}, onResume: () => {}, onReturn: async () => end(), origin: 'in-process' });
    const onAbort = (): void => {
      queue.abort(signal?.reason);
      end();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const session: WatchSession = {
      transport: 'http',
      send: (event) => queue.push(structuredClone(event) as WatchEvent),
      endNormally: () => {
        queue.end();
        end();
      },
      drop: () => {
        queue.fail(new Error('dropped'));
        end();
      },
      freeze: () => {},
    };
    unsubscribe = startWatch(this.store, session, parsed, new URLSearchParams(request.query ?? {}));
    if (unsubscribe !== undefined) this.openWatches.add(session);
    return {
      origin: 'in-process',
      close: async () => {
        queue.end();
        end();
      },
      [Symbol.asyncIterator]: () => queue,
    };
  }

  /** Ends every open watch normally, as a server's timeout would. */
  endWatches(): void {
    for (const session of [...this.openWatches]) session.endNormally();
  }
}
