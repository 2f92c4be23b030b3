// The KV store's snapshot data, written without holding the event loop: msgpack of
// [format, index, meta records, kv records], the kv records as an array of [key, value] byte
// pairs. The kv records (every revision kept: tens of MB in a busy store) are read page by page
// and their bytes copied straight into one buffer, with a yield between pages; one msgpackr call
// over them would block the loop for hundreds of milliseconds on every master at once. What
// msgpackr.unpack makes of the result is exactly what it makes of pack([format, index, meta, kv]).

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });

/** Pulls the next page of [key, value] records; an empty page ends them. */
export type RecordPages = () => Promise<readonly (readonly [Uint8Array, Uint8Array])[]>;

/** Bytes of a msgpack bin header for `length` bytes (bin 8, bin 16, bin 32). */
function binHeaderBytes(length: number): number {
  return length < 0x100 ? 2 : length < 0x1_0000 ? 3 : 5;
}

function writeBin(out: Uint8Array, view: DataView, at: number, bytes: Uint8Array): number {
  const length = bytes.byteLength;
  if (length < 0x100) {
    out[at] = 0xc4;
    out[at + 1] = length;
    at += 2;
  } else if (length < 0x1_0000) {
    out[at] = 0xc5;
    view.setUint16(at + 1, length);
    at += 3;
  } else {
    out[at] = 0xc6;
    view.setUint32(at + 1, length);
    at += 5;
  }
  out.set(bytes, at);
  return at + length;
}

/** A copy of one msgpack value (msgpackr may hand out a view of a buffer it reuses). */
function packed(value: unknown): Uint8Array {
  return Uint8Array.from(packr.pack(value));
}

/**
 * Encodes [format, index, meta, kv] where kv comes from `pages`, yielding to the event loop
 * after every page read and every `pagesPerYield` pages written.
 */
export async function encodeSnapshotData(
  format: number,
  index: number,
  meta: readonly (readonly [string, Uint8Array])[],
  pages: RecordPages,
  pagesPerYield = 16,
): Promise<Uint8Array> {
  const read: (readonly (readonly [Uint8Array, Uint8Array])[])[] = [];
  let count = 0;
  let recordBytes = 0;
  for (;;) {
    const page = await pages();
    if (page.length === 0) break;
    read.push(page);
    count += page.length;
    for (const [key, value] of page) recordBytes += 1 + binHeaderBytes(key.byteLength) + key.byteLength + binHeaderBytes(value.byteLength) + value.byteLength;
  }
  const head = [Uint8Array.of(0x94), packed(format), packed(index), packed(meta)];
  const headBytes = head.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(headBytes + 5 + recordBytes);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of head) {
    out.set(part, at);
    at += part.byteLength;
  }
  out[at] = 0xdd; // array 32: the kv records
  view.setUint32(at + 1, count);
  at += 5;
  for (let p = 0; p < read.length; p++) {
    for (const [key, value] of read[p] as readonly (readonly [Uint8Array, Uint8Array])[]) {
      out[at++] = 0x92; // [key, value]
      at = writeBin(out, view, at, key);
      at = writeBin(out, view, at, value);
    }
    if ((p + 1) % pagesPerYield === 0) await yieldToLoop();
  }
  if (at !== out.byteLength) throw new Error(`snapshot encoder: wrote ${at} of ${out.byteLength} bytes`);
  return out;
}
