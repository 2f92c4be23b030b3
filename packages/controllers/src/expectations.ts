// client-go's ControllerExpectations (with UIDTrackingControllerExpectations' deletion tracking):
// after a controller asks for N creates or deletes for one owner, it does not act on that owner
// again until its informer has seen them, or until the record expires. A slow informer then never
// makes a controller create twice: until the creates come back, the cache is known to be behind.

import type { Clock } from '@raftplane/client';
import { invalidOption } from './errors.js';

/** client-go's ExpectationsTimeout: after this long without being satisfied, a record is ignored. */
export const defaultExpectationsTimeoutMs = 5 * 60_000;

interface Record_ {
  /** Creates asked for and not yet seen; never below 0 in effect (seen extra creates are harmless). */
  creationsPending: number;
  /** Keys (`namespace/name`) of the objects asked to be deleted and not yet seen gone or terminating. */
  readonly deletionsPending: Set<string>;
  /** When the expectations were set, on the injected clock. */
  readonly setAtMs: number;
}

export class ControllerExpectations {
  private readonly records = new Map<string, Record_>();

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number = defaultExpectationsTimeoutMs,
  ) {
    if (!(timeoutMs > 0)) throw invalidOption('expectationsTimeoutMs', `${timeoutMs} must be > 0`);
  }

  /** Replaces the owner's record: `count` creates are on their way (SetExpectations / ExpectCreations). */
  expectCreations(ownerKey: string, count: number): void {
    this.records.set(ownerKey, { creationsPending: count, deletionsPending: new Set(), setAtMs: this.clock.now() });
  }

  /** Replaces the owner's record: these objects are being deleted (ExpectDeletions, tracked by key). */
  expectDeletions(ownerKey: string, objectKeys: readonly string[]): void {
    this.records.set(ownerKey, { creationsPending: 0, deletionsPending: new Set(objectKeys), setAtMs: this.clock.now() });
  }

  /** The informer saw one of the owner's creates (or a create failed and will never be seen). */
  creationObserved(ownerKey: string): void {
    const record = this.records.get(ownerKey);
    if (record !== undefined && record.creationsPending > 0) record.creationsPending--;
  }

  /** The informer saw `objectKey` deleted or terminating (or its delete failed); counted once per key. */
  deletionObserved(ownerKey: string, objectKey: string): void {
    this.records.get(ownerKey)?.deletionsPending.delete(objectKey);
  }

  /** Whether the owner may be acted on: no record, every expected event seen, or the record expired. */
  satisfied(ownerKey: string): boolean {
    const record = this.records.get(ownerKey);
    if (record === undefined) return true;
    if (record.creationsPending <= 0 && record.deletionsPending.size === 0) return true;
    return this.clock.now() - record.setAtMs > this.timeoutMs;
  }

  /** What is still awaited, for logs and tests. */
  pending(ownerKey: string): { creations: number; deletions: number } | undefined {
    const record = this.records.get(ownerKey);
    return record === undefined ? undefined : { creations: Math.max(0, record.creationsPending), deletions: record.deletionsPending.size };
  }

  /** The owner is gone: forget its record, so the map never grows with churn. */
  delete(ownerKey: string): void {
    this.records.delete(ownerKey);
  }

  size(): number {
    return this.records.size;
  }
}
