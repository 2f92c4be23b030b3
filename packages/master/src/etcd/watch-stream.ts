// One watch stream: the watches one HTTP watch POST or one WebSocket holds, what their requests
// (create, cancel, progress) do, and how responses reach a receiver that may fall behind. The
// transport (HTTP body or WebSocket) is an Output; framing follows etcd's gateway: each response
// is {"result": WatchResponse}, a failure ends the stream with {"error": {…}}.

import { WATCH_ID_REFUSED, isKvError, type WatchCreateRequest, type WatchResponse } from '@raftplane/kv';
import type { Logger } from 'pino';
import { EtcdGatewayError, toEtcdFailure } from './errors.js';
import { watchResponseJson, type Dialect, type WatchRequestMessage } from './json.js';
import type { KvService, WatchHandle, WatchSink } from './service.js';
import { encodeStreamError, encodeStreamResult, encodeUnaryError } from './wire.js';

/** Where a stream's messages go. */
export interface WatchOutput {
  /** Sends one encoded message (the output adds any delimiter). */
  write(message: Buffer): void;
  /** Bytes handed to write() that the peer has not taken yet. */
  bufferedBytes(): number;
  /** Sends `last` (if any) and ends the stream; `error` says why (for a WebSocket close code). */
  end(last: Buffer | null, error: unknown): void;
}

export interface WatchStreamOptions {
  readonly service: KvService;
  readonly logger: Logger;
  readonly dialect: Dialect;
  readonly output: WatchOutput;
  /** Past this many unsent bytes a watch's receiver counts as too slow. */
  readonly watchBufferBytesMax: number;
  readonly watchesPerStreamMax: number;
  /**
   * What a too-slow receiver costs once the hub cancels its watch. 'end-stream' (HTTP): the
   * stream then ends with an error, since the receiver is stuck for every watch it carries.
   * 'cancel-watch' (WebSocket): only that watch ends; the socket carries on for the client to
   * resume, and its heartbeat finds a peer that is stuck for good.
   */
  readonly slowReceiver: 'end-stream' | 'cancel-watch';
  /** The answer has begun (HTTP: the status line is out), so even a first bad request ends it with a stream error. */
  readonly answered: boolean;
}

interface WatchEntry {
  handle: WatchHandle | null;
  /** This stream's id for the watch (etcd numbers watches per stream); the hub's own id differs. */
  watchId: number;
  /** Highest revision sent: a watch cut off resumes from the next one. */
  revisionSent: number;
  /** The last response offered was refused (the receiver is behind): the hub holds it. */
  refused: boolean;
  /** Canceled or ended: nothing more is sent for it. */
  done: boolean;
}

/** etcd's mvcc errors for a watch that cannot be created (mvcc/watcher.go), sent as a created-and-canceled response. */
const EMPTY_RANGE = 'mvcc: watcher range is empty';
const DUPLICATE_ID = 'mvcc: duplicate watch ID provided on the WatchStream';

export class WatchStream {
  /** Live watches by this stream's id; a watch is here from its created response until it ends. */
  private readonly watches = new Map<number, WatchEntry>();
  /** etcd's auto-assigned watch ids: per stream, from 0, skipping ids in use (mvcc/watcher.go). */
  private nextWatchId = 0;
  /** Set once the answer has begun or a request was accepted: errors after that end the stream in its framing. */
  private started: boolean;
  private ended = false;

  constructor(private readonly options: WatchStreamOptions) {
    this.started = options.answered;
  }

  get watchCount(): number {
    return this.watches.size;
  }

  /** Carries out one request, already decoded and checked for its types. */
  apply(message: WatchRequestMessage): void {
    if (this.ended) return;
    this.started = true;
    if ('create' in message) this.create(message.create);
    else if ('cancel' in message) this.cancel(message.cancel.watchId);
    else if ('progress' in message) this.progress();
  }

  /** Ends the stream with `error` (bad input, a slow receiver, the gateway closing) and stops its watches. */
  fail(error: unknown): void {
    if (this.ended) return;
    const failure = toEtcdFailure(error);
    if (failure.grpcCode === 2) this.options.logger.error({ err: error }, 'etcd gateway: watch stream failed');
    // Before any request was accepted this is a refused request, answered as grpc-gateway answers one.
    const last = this.started ? encodeStreamError(this.options.dialect, failure) : encodeUnaryError(this.options.dialect, failure);
    this.ended = true;
    this.options.output.end(last, error);
    this.stopAll();
  }

  /** The peer went away: stop every watch. Safe to call more than once. */
  close(): void {
    this.ended = true;
    this.stopAll();
  }

  private create(request: WatchCreateRequest): void {
    const refusal = this.refusal(request);
    if (refusal !== null) {
      this.sendControl({ watchId: -1, created: true, canceled: true, cancelReason: refusal });
      return;
    }
    // etcd: a requested id of 0 means "assign one"; ids are this stream's, the hub keeps its own.
    const entry: WatchEntry = { handle: null, watchId: request.watchId !== 0 ? request.watchId : this.freeWatchId(), revisionSent: 0, refused: false, done: false };
    try {
      entry.handle = this.options.service.watch({ ...request, watchId: 0 }, this.sinkFor(entry));
    } catch (error) {
      if (!isKvError(error)) throw error;
      this.sendControl({ watchId: -1, created: true, canceled: true, cancelReason: error.message });
      return;
    }
    if (entry.done) return; // refused by the hub (created and canceled at once), or already cut off
    if (this.ended) {
      entry.handle.cancel();
      return;
    }
    this.watches.set(entry.watchId, entry);
  }

  private freeWatchId(): number {
    while (this.watches.has(this.nextWatchId)) this.nextWatchId++;
    return this.nextWatchId++;
  }

  /** What etcd's watch stream would refuse before creating the watch, or null. */
  private refusal(request: WatchCreateRequest): string | null {
    const end = request.rangeEnd;
    // A range end of "\0" means every key from `key` on (v3rpc turns it into an empty end).
    const fromKey = end.byteLength === 1 && end[0] === 0;
    if (end.byteLength > 0 && !fromKey && Buffer.compare(request.key, end) >= 0) return EMPTY_RANGE;
    if (request.watchId !== 0 && this.watches.has(request.watchId)) return DUPLICATE_ID;
    if (this.watches.size >= this.options.watchesPerStreamMax) {
      return `raftplane: this stream already holds ${this.options.watchesPerStreamMax} watches (watchesPerStreamMax); cancel one or open another stream`;
    }
    return null;
  }

  /**
   * The hub's sink for one watch (kv's WatchSink contract). Past watchBufferBytesMax unsent bytes
   * a response is refused whole ("not now"): the hub keeps it, retries, and cancels the watch once
   * its own queue bound is reached, so nothing here grows without bound. A canceled response is a
   * watch's last and is always delivered.
   */
  private sinkFor(entry: WatchEntry): WatchSink {
    return {
      send: (response) => {
        if (this.ended || entry.done) return false;
        // The hub's responses carry its id: answer with this stream's (a hub refusal keeps -1).
        if (response.watchId !== WATCH_ID_REFUSED) response = { ...response, watchId: entry.watchId };
        if (response.canceled) {
          this.finish(entry);
          this.writeResponse(response);
          if (entry.refused && this.options.slowReceiver === 'end-stream') this.fail(this.tooSlow(entry));
          return true;
        }
        if (this.options.output.bufferedBytes() > this.options.watchBufferBytesMax) {
          entry.refused = true;
          return false;
        }
        entry.refused = false;
        entry.revisionSent = Math.max(entry.revisionSent, response.header.revision);
        this.writeResponse(response);
        return true;
      },
    };
  }

  private tooSlow(entry: WatchEntry): EtcdGatewayError {
    const { watchBufferBytesMax } = this.options;
    const resumeFrom = entry.revisionSent + 1;
    this.options.logger.warn({ watchId: entry.watchId, watchBufferBytesMax, resumeFrom }, 'etcd gateway: watch receiver too slow, stream ended');
    return new EtcdGatewayError(
      'ETCD_GW_SLOW_WATCHER',
      `raftplane: watch receiver too slow: more than ${watchBufferBytesMax} bytes were waiting to be sent; watch again from revision ${resumeFrom}`,
    );
  }

  private cancel(watchId: number): void {
    const entry = this.watches.get(watchId);
    if (entry === undefined) return; // etcd answers nothing for an unknown id
    this.finish(entry);
    entry.handle?.cancel();
    this.sendControl({ watchId, canceled: true });
  }

  /**
   * With watches, each is asked for a progress notification, which its hub sends in order with its
   * events (the response carries that watch's id). With none, etcd 3.4's answer: watch_id -1 at the
   * current revision.
   */
  private progress(): void {
    if (this.watches.size === 0) {
      this.sendControl({ watchId: -1 });
      return;
    }
    for (const entry of this.watches.values()) entry.handle?.requestProgress();
  }

  /** A response the stream itself makes (not a watch's events): at the current revision, and bounded like the rest. */
  private sendControl(fields: Partial<WatchResponse>): void {
    if (this.options.output.bufferedBytes() > this.options.watchBufferBytesMax) {
      this.fail(new EtcdGatewayError('ETCD_GW_SLOW_WATCHER', `raftplane: watch receiver too slow: more than ${this.options.watchBufferBytesMax} bytes were waiting to be sent`));
      return;
    }
    this.writeResponse({ ...emptyResponse(0), ...fields });
  }

  private writeResponse(response: WatchResponse): void {
    const { service, dialect, output } = this.options;
    // Revision 0 asks the service for its current revision (etcd's header.fill). A watch canceled
    // because its start was compacted never had a position: etcd sends that header without one.
    const filled = service.header(response.header.revision);
    const header = response.canceled && response.compactRevision > 0 ? { ...filled, revision: 0 } : filled;
    output.write(encodeStreamResult(dialect, { json: () => watchResponseJson(response, header), internal: () => ({ ...response, header }) }));
  }

  private finish(entry: WatchEntry): void {
    entry.done = true;
    if (this.watches.get(entry.watchId) === entry) this.watches.delete(entry.watchId);
  }

  /**
   * Cancels every watch. Deferred to a microtask: this may run inside a hub's send(), and a hub
   * should not have its watchers canceled under it mid-fan-out.
   */
  private stopAll(): void {
    const entries = [...this.watches.values()];
    this.watches.clear();
    for (const entry of entries) entry.done = true;
    if (entries.length === 0) return;
    queueMicrotask(() => {
      for (const entry of entries) {
        try {
          entry.handle?.cancel();
        } catch (error) {
          this.options.logger.error({ err: error, watchId: entry.watchId }, 'etcd gateway: canceling a watch failed');
        }
      }
    });
  }
}

function emptyResponse(revision: number): WatchResponse {
  return { header: { revision }, watchId: 0, created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] };
}
