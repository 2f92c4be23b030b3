// The seam between the typed client and the wire: two calls, `request` and `watch`. The HTTP
// implementation (http-transport.ts) adds endpoints, leader following and retries; a master's
// in-process implementation can call the apiserver's handlers directly (DESIGN.md: "in a master
// they get an in-process implementation ... same validation, no HTTP") and pass every test of the
// typed layer, which never looks below this interface.
//
// What an implementation must do, field by field:
//
// request(req) → Promise<TransportResponse>
//   - Perform `req.method` on `req.path` with `req.query` (Kubernetes' REST paths and parameters,
//     see paths.ts) and the JSON body `req.body` (a value, not text; undefined means no body).
//     `req.headers` carries `content-type` for PATCH (the four patch media types); an in-process
//     implementation dispatches on it exactly as the HTTP server would.
//   - Resolve with the server's answer for ANY status, 2xx or not: `{ status, headers, body }`,
//     `body` being the parsed JSON (a Status object on errors) or undefined for an empty body.
//     The typed layer turns non-2xx answers into `StatusError`s; a transport never throws one
//     from `request`.
//   - Reject only when there is no answer: with `ClientError` `CLIENT_UNREACHABLE` (provably not
//     sent), `CLIENT_OUTCOME_UNKNOWN` (sent, answer lost: the typed layer decides whether a retry
//     is safe), or `req.signal.reason` when the signal aborted. An in-process implementation never
//     has the first two.
//
// watch(req) → Promise<WatchStream>
//   - Open a watch on the list path `req.path` with `req.query` (`watch=true` is implied; it holds
//     `resourceVersion`, `allowWatchBookmarks`, `labelSelector`, `fieldSelector`, `timeoutSeconds`).
//   - Resolve once the watch is established (the server accepted it: a WebSocket upgrade, or 200
//     headers of a chunked stream). Reject with the server's `StatusError` when it refused the
//     watch (410 Expired for a compacted resourceVersion, 403, 404), with `ClientError` when no
//     server could be reached, or with `req.signal.reason`.
//   - The stream yields watch events in the server's order, exactly as sent (an ERROR event with
//     a Status object is yielded, not thrown: 410 in it means relist). Iteration ends (done) when
//     the server closed the stream normally (its `timeoutSeconds` elapsed, shutdown) or `close()`
//     was called; it throws `ClientError` `CLIENT_WATCH_BROKEN` / `CLIENT_WATCH_OVERFLOW` when the
//     stream failed, and `req.signal.reason` when the signal aborted. Breaking out of a
//     `for await` loop closes the stream.
//   - `close()` releases everything the stream holds; its promise settles once the socket (or the
//     in-process subscription) is gone.

import type { KubeObject, Status } from '@raftplane/api';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface TransportRequest {
  readonly method: HttpMethod;
  /** `/api/v1/namespaces/default/pods/web-1`: no query, segments already escaped. */
  readonly path: string;
  /** Query parameters by name, values unescaped. */
  readonly query?: Readonly<Record<string, string>>;
  /** Extra request headers, lower-case names (`content-type` of a PATCH). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The JSON body as a value; undefined sends none. */
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

export interface TransportResponse {
  readonly status: number;
  /** Response headers, lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body; undefined when the body was empty; the raw text when it was not JSON. */
  readonly body: unknown;
}

export interface WatchRequest {
  /** The list path: `/api/v1/namespaces/default/pods`, or `/api/v1/pods` for all namespaces. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** A BOOKMARK's object: only the resourceVersion the watch has reached (and kind, apiVersion). */
export interface BookmarkObject {
  readonly kind?: string;
  readonly apiVersion?: string;
  readonly metadata: { readonly resourceVersion: string };
}

export type ObjectEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type WatchEventType = ObjectEventType | 'BOOKMARK' | 'ERROR';

/** One watch event as Kubernetes sends it: `{"type":"ADDED","object":{...}}`. */
export type WatchEvent<T = KubeObject> =
  | { readonly type: ObjectEventType; readonly object: T }
  | { readonly type: 'BOOKMARK'; readonly object: BookmarkObject }
  | { readonly type: 'ERROR'; readonly object: Status };

export interface WatchStream<E = WatchEvent> extends AsyncIterable<E> {
  /** Where the stream runs: the endpoint (`http://127.0.0.1:6441`), or an in-process name. */
  readonly origin: string;
  /** Ends the stream; settles once its socket is gone. Safe to call more than once. */
  close(): Promise<void>;
}

export interface Transport {
  request(request: TransportRequest): Promise<TransportResponse>;
  watch(request: WatchRequest): Promise<WatchStream>;
}
