// A first-in first-out queue on a power-of-two ring buffer: O(1) push and shift, no Array.shift.

import assert from 'node:assert/strict';

export class Fifo<T> {
  private items: (T | undefined)[];
  /** Invariant: items.length is a power of two; 0 <= count <= items.length. */
  private head = 0;
  private count = 0;

  constructor(capacityInitial = 16) {
    assert.ok(capacityInitial >= 1 && (capacityInitial & (capacityInitial - 1)) === 0, `capacity ${capacityInitial} must be a power of two`);
    this.items = new Array<T | undefined>(capacityInitial);
  }

  get length(): number {
    return this.count;
  }

  /** Appends; doubles the ring when full. Callers bound how much they push (by bytes, for the transport). */
  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count++;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return item;
  }

  /** Empties the queue, returning how many items it held. */
  clear(): number {
    const count = this.count;
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
    return count;
  }

  private grow(): void {
    const items = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.count; i++) items[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = items;
    this.head = 0;
  }
}
