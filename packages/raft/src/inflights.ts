// The appends a leader has sent one follower and not yet seen acknowledged: a ring buffer bounded
// in count and in bytes, allocated once (flow control, in the manner of etcd-io/raft's tracker).

import { invariant } from './errors.js';

export class Inflights {
  /** Capacity in messages. */
  readonly countMax: number;
  /** Capacity in bytes; 0 means no byte limit. */
  readonly bytesMax: number;
  private readonly lastIndexes: Float64Array;
  private readonly sizes: Float64Array;
  private start = 0;
  /** Messages in flight: 0 <= count <= countMax. */
  count = 0;
  /** Bytes in flight. */
  bytes = 0;

  constructor(countMax: number, bytesMax: number) {
    invariant(countMax > 0, () => `inflights: countMax ${countMax} must be positive`);
    this.countMax = countMax;
    this.bytesMax = bytesMax;
    this.lastIndexes = new Float64Array(countMax);
    this.sizes = new Float64Array(countMax);
  }

  /** Records a message whose last entry is `lastIndex`. Indexes must rise from call to call. */
  add(lastIndex: number, bytes: number): void {
    invariant(!this.full(), () => `inflights: add(${lastIndex}) while full (${this.count}/${this.countMax}, ${this.bytes} bytes)`);
    if (this.count > 0) {
      const previous = this.lastIndexes[(this.start + this.count - 1) % this.countMax] as number;
      invariant(lastIndex > previous, () => `inflights: add(${lastIndex}) not above last in flight ${previous}`);
    }
    const slot = (this.start + this.count) % this.countMax;
    this.lastIndexes[slot] = lastIndex;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= `index` (the follower acknowledged up to it). */
  freeLE(index: number): void {
    while (this.count > 0 && (this.lastIndexes[this.start] as number) <= index) {
      this.bytes -= this.sizes[this.start] as number;
      this.start = (this.start + 1) % this.countMax;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Frees the oldest message (a heartbeat response proved the follower is alive). */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.lastIndexes[this.start] as number);
  }

  full(): boolean {
    return this.count === this.countMax || (this.bytesMax > 0 && this.bytes >= this.bytesMax);
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
