// The tail of the log (and possibly a snapshot) that the core holds but the caller has not yet
// confirmed as persisted. Entries leave it when advance() reports them stable.

import { invariant } from './errors.js';
import type { Entry, Snapshot } from './types.js';

export class UnstableLog {
  /** A snapshot received from the leader and not yet persisted. */
  snapshot: Snapshot | null = null;
  /** entries[i].index === offset + i. */
  entries: Entry[] = [];
  /** Index of entries[0]; always snapshot.metadata.index + 1 when a snapshot is held. */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** The first index, when the only thing that knows it is an unstable snapshot. */
  maybeFirstIndex(): number {
    return this.snapshot === null ? -1 : this.snapshot.metadata.index + 1;
  }

  /** The last index held here, or -1 when nothing is. */
  maybeLastIndex(): number {
    if (this.entries.length !== 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? -1 : this.snapshot.metadata.index;
  }

  /** The term at `index` if held here, or -1. */
  maybeTerm(index: number): number {
    if (index < this.offset) {
      if (this.snapshot !== null && this.snapshot.metadata.index === index) return this.snapshot.metadata.term;
      return -1;
    }
    const last = this.maybeLastIndex();
    if (last === -1 || index > last) return -1;
    return (this.entries[index - this.offset] as Entry).term;
  }

  /** Entries up to (index, term) are durable; drop them, unless they were replaced meanwhile. */
  stableTo(index: number, term: number): void {
    const held = this.maybeTerm(index);
    if (held === -1 || held !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === index) this.snapshot = null;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const after = first.index;
    invariant(
      after <= this.offset + this.entries.length,
      () => `unstable: appending at ${after} would leave a gap after ${this.offset + this.entries.length - 1}`,
    );
    if (after === this.offset + this.entries.length) {
      for (const entry of entries) this.entries.push(entry);
    } else if (after <= this.offset) {
      // Everything held here is replaced; the caller's stored copy from `after` on is
      // overwritten when these entries are persisted.
      this.offset = after;
      this.entries = entries.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset);
      for (const entry of entries) this.entries.push(entry);
    }
    invariant(
      this.entries.length === 0 || (this.entries[0] as Entry).index === this.offset,
      () => `unstable: first entry ${(this.entries[0] as Entry).index} != offset ${this.offset}`,
    );
  }

  /** Entries in [lo, hi); the caller has checked the range lies within this unstable tail. */
  slice(lo: number, hi: number): Entry[] {
    invariant(
      this.offset <= lo && lo <= hi && hi <= this.offset + this.entries.length,
      () => `unstable.slice[${lo},${hi}) out of bounds [${this.offset},${this.offset + this.entries.length}]`,
    );
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
