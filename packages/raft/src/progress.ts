// The leader's view of one follower: how much of the log it matches, what to send next, and in
// which of three modes (probe, replicate, snapshot) to send it.

import { invariant } from './errors.js';
import { Inflights } from './inflights.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  /** Highest index known to match the leader's log. match < next. */
  match = 0;
  /** Next index to send. */
  next: number;
  /**
   * probe: one append at a time until the follower's position is found;
   * replicate: appends pipelined optimistically, bounded by `inflights`;
   * snapshot: the follower needs a snapshot, which is streamed in chunks.
   */
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and no answer seen yet, so wait (or for a heartbeat response). */
  probeSent = false;
  /** The follower was heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;
  /** In snapshot state: index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** In snapshot state: leading bytes of it the follower confirmed holding. */
  snapshotBytesAcked = 0;
  /** In snapshot state: a chunk was sent and neither acknowledged nor given up on. */
  snapshotChunkInFlight = false;
  /** In snapshot state: heartbeat responses seen while the chunk was in flight. */
  snapshotHeartbeatsWaited = 0;
  /** The highest commit index sent to the follower (in an append or a heartbeat) this term. */
  commitSent = 0;

  constructor(next: number, inflightMsgsMax: number, inflightBytesMax: number) {
    this.next = next;
    this.inflights = new Inflights(inflightMsgsMax, inflightBytesMax);
  }

  /** Forget everything learned about the follower (a new term or a new leader). */
  reset(next: number): void {
    this.resetState('probe');
    this.match = 0;
    this.next = next;
    this.recentActive = false;
    this.commitSent = 0;
  }

  becomeProbe(): void {
    // Coming out of snapshot state, the follower holds at least the snapshot.
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  /** Checks match < next, the relation every transition keeps. */
  assertValid(id: number): void {
    invariant(this.match < this.next, () => `progress of ${id}: match ${this.match} >= next ${this.next}`);
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An acknowledgement up to `index`. Returns whether match moved (a stale ack does not). */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** In replicate state, entries up to `lastIndex` were sent: move next past them. */
  optimisticUpdate(lastIndex: number): void {
    this.next = lastIndex + 1;
  }

  /**
   * The follower rejected an append at `rejected`, suggesting `matchHint` as a place to probe.
   * Returns false for a stale rejection (one that does not concern what was last sent).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    // Never probe at or below what the follower is known to hold (keeps match < next).
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Whether to hold back further appends to this follower. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotBytesAcked = 0;
    this.snapshotChunkInFlight = false;
    this.snapshotHeartbeatsWaited = 0;
    this.state = state;
    this.inflights.reset();
  }
}
