// Deterministic bytes for tests: the same size and seed always give the same bytes, so a test (or
// the crash test's parent) can tell what a record must hold without being told.

/** `size` bytes from a linear congruential generator seeded with `seed`. */
export function bytesOf(size: number, seed: number): Uint8Array {
  const data = new Uint8Array(size);
  let x = (Math.imul(seed, 2654435761) + 1) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return data;
}
