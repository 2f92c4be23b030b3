// Byte helpers of the store: keys as strings that sort like their bytes (the ordered index and
// every Map are keyed by them), byte comparison, and plain Uint8Array views over Buffers.

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/**
 * One char per byte (latin1): JavaScript compares strings by UTF-16 code units, which for chars
 * 0..255 is exactly the byte order etcd's index uses, so the B+ tree can order keys as strings.
 */
export function keyString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

/**
 * A plain Uint8Array over the same memory. LevelDB hands out Buffers; msgpackr decodes binary
 * fields as views of the same class as its source, so unpacking a plain view gives plain views.
 */
export function plainView(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A copy that owns its memory: a value kept in the index must not hold on to the whole Raft
 * entry (or transport frame, or LevelDB read) it arrived in.
 */
export function ownedCopy(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength === 0 ? EMPTY_BYTES : new Uint8Array(bytes);
}

/** etcd's "from key": a single zero byte as range end means every key >= key. */
export function isFromKey(rangeEnd: Uint8Array): boolean {
  return rangeEnd.byteLength === 1 && rangeEnd[0] === 0;
}

/** A key interval as strings: [low, high), high null for no upper bound; single for a one-key range. */
export interface KeyInterval {
  readonly low: string;
  readonly high: string | null;
  readonly single: boolean;
}

/** etcd's range_end rules: empty is the single key, `\0` every key from `key`, else [key, rangeEnd). */
export function keyInterval(key: Uint8Array, rangeEnd: Uint8Array): KeyInterval {
  const low = keyString(key);
  if (rangeEnd.byteLength === 0) return { low, high: null, single: true };
  if (isFromKey(rangeEnd)) return { low, high: null, single: false };
  return { low, high: keyString(rangeEnd), single: false };
}

export function inInterval(interval: KeyInterval, key: string): boolean {
  if (interval.single) return key === interval.low;
  return key >= interval.low && (interval.high === null || key < interval.high);
}
