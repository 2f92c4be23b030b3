// A binary min-heap of items with string keys, where an item can be found, replaced or removed
// by key in O(log n): what the active and backoff queues need, since a pod can change or vanish
// while it waits.

export class KeyedHeap<T> {
  private readonly items: { key: string; item: T }[] = [];
  private readonly positions = new Map<string, number>();

  /** `before(a, b)`: a comes out first. Must be a strict weak order. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  has(key: string): boolean {
    return this.positions.has(key);
  }

  get(key: string): T | undefined {
    const i = this.positions.get(key);
    return i === undefined ? undefined : this.items[i]?.item;
  }

  /** Adds the item, or replaces the one under the same key and restores the order. */
  upsert(key: string, item: T): void {
    const i = this.positions.get(key);
    if (i !== undefined) {
      (this.items[i] as { item: T }).item = item;
      this.fix(i);
      return;
    }
    this.items.push({ key, item });
    this.positions.set(key, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  remove(key: string): T | undefined {
    const i = this.positions.get(key);
    if (i === undefined) return undefined;
    const removed = this.items[i] as { key: string; item: T };
    const last = this.items.pop() as { key: string; item: T };
    this.positions.delete(key);
    if (i < this.items.length) {
      this.items[i] = last;
      this.positions.set(last.key, i);
      this.fix(i);
    }
    return removed.item;
  }

  peek(): T | undefined {
    return this.items[0]?.item;
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    this.remove(top.key);
    return top.item;
  }

  values(): T[] {
    return this.items.map((e) => e.item);
  }

  private fix(i: number): void {
    if (!this.up(i)) this.down(i);
  }

  private less(i: number, j: number): boolean {
    return this.before((this.items[i] as { item: T }).item, (this.items[j] as { item: T }).item);
  }

  private swap(i: number, j: number): void {
    const a = this.items[i] as { key: string; item: T };
    const b = this.items[j] as { key: string; item: T };
    this.items[i] = b;
    this.items[j] = a;
    this.positions.set(b.key, i);
    this.positions.set(a.key, j);
  }

  private up(i: number): boolean {
    let moved = false;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
      moved = true;
    }
    return moved;
  }

  private down(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.items.length && this.less(left, smallest)) smallest = left;
      if (right < this.items.length && this.less(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
