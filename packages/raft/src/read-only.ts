// Pending ReadIndex requests on the leader (thesis §6.4): each waits for a heartbeat round that
// proves leadership, confirmed by a majority echoing the request's context.

import { invariant } from './errors.js';
import type { Message, NodeId } from './types.js';
import { bytesKey } from './util.js';

export interface ReadIndexStatus {
  /** The request as it arrived (from = NONE for a local request). */
  readonly request: Message;
  /** The leader's commit index when the request arrived: the read may be served once it is applied. */
  readonly index: number;
  readonly acks: Set<NodeId>;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  /** Contexts in arrival order; a quorum ack for one confirms all before it too. */
  private queue: string[] = [];
  /** Bound on queued requests; past it new requests are refused by the caller. */
  readonly requestsMax: number;

  constructor(requestsMax: number) {
    this.requestsMax = requestsMax;
  }

  size(): number {
    return this.queue.length;
  }

  /** Queues a request whose context is `context` at read index `index`. Duplicates are ignored. */
  add(index: number, request: Message, context: Uint8Array): void {
    const key = bytesKey(context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { request, index, acks: new Set() });
    this.queue.push(key);
  }

  /** Records that `from` echoed `context`; returns the acks so far, or null for an unknown context. */
  recordAck(from: NodeId, context: Uint8Array): ReadonlySet<NodeId> | null {
    const status = this.pending.get(bytesKey(context));
    if (status === undefined) return null;
    status.acks.add(from);
    return status.acks;
  }

  /** Removes and returns every request up to and including the one with `context`, oldest first. */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = bytesKey(context);
    const at = this.queue.indexOf(key);
    if (at === -1) return [];
    const released: ReadIndexStatus[] = [];
    for (let i = 0; i <= at; i++) {
      const queued = this.queue[i] as string;
      const status = this.pending.get(queued);
      invariant(status !== undefined, () => `read-only: queued context ${JSON.stringify(queued)} has no status`);
      released.push(status);
      this.pending.delete(queued);
    }
    this.queue = this.queue.slice(at + 1);
    return released;
  }

  /** The context of the newest pending request, sent with heartbeats so followers echo it. */
  lastPendingContext(): Uint8Array | null {
    const key = this.queue[this.queue.length - 1];
    if (key === undefined) return null;
    const status = this.pending.get(key) as ReadIndexStatus;
    return status.request.context;
  }

  clear(): void {
    this.pending.clear();
    this.queue = [];
  }
}
