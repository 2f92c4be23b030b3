// The keys of a work queue waiting for their time (addAfter, addRateLimited), ordered by when they
// are due: a binary min-heap, so that one timer, set for the earliest, serves them all.

export interface DelayedKey<K> {
  readonly dueMs: number;
  /** Insertion order: keys due at the same time come out in the order they went in. */
  readonly sequence: number;
  readonly key: K;
}

function before<K>(a: DelayedKey<K>, b: DelayedKey<K>): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.sequence < b.sequence);
}

export class DelayHeap<K> {
  private readonly entries: DelayedKey<K>[] = [];
  private sequence = 0;

  get size(): number {
    return this.entries.length;
  }

  push(key: K, dueMs: number): void {
    const entries = this.entries;
    entries.push({ dueMs, sequence: this.sequence++, key });
    let i = entries.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entries[i] as DelayedKey<K>, entries[parent] as DelayedKey<K>)) break;
      [entries[i], entries[parent]] = [entries[parent] as DelayedKey<K>, entries[i] as DelayedKey<K>];
      i = parent;
    }
  }

  peek(): DelayedKey<K> | undefined {
    return this.entries[0];
  }

  pop(): DelayedKey<K> | undefined {
    const entries = this.entries;
    const top = entries[0];
    const last = entries.pop();
    if (top === undefined || last === undefined || entries.length === 0) return top;
    entries[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < entries.length && before(entries[left] as DelayedKey<K>, entries[smallest] as DelayedKey<K>)) smallest = left;
      if (right < entries.length && before(entries[right] as DelayedKey<K>, entries[smallest] as DelayedKey<K>)) smallest = right;
      if (smallest === i) break;
      [entries[i], entries[smallest]] = [entries[smallest] as DelayedKey<K>, entries[i] as DelayedKey<K>];
      i = smallest;
    }
    return top;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
