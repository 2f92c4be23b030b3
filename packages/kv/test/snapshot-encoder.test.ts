// The paged snapshot encoder writes msgpack by hand: what it produces must unpack to exactly what
// msgpackr's own pack of the same value unpacks to, for values of every bin header size.

import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { encodeSnapshotData } from '../src/snapshot-encoder.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });
/** Bytes (Buffer or Uint8Array alike) as plain number lists, arrays recursively. */
const plain = (value: unknown): unknown => (value instanceof Uint8Array ? { bytes: [...value] } : Array.isArray(value) ? value.map(plain) : value);

function pager(records: [Uint8Array, Uint8Array][], pageSize: number): () => Promise<[Uint8Array, Uint8Array][]> {
  let next = 0;
  return async () => {
    const page = records.slice(next, next + pageSize);
    next += page.length;
    return page;
  };
}

describe('encodeSnapshotData', () => {
  it('unpacks as msgpackr.pack([format, index, meta, kv]) does, for any records and page size (property)', async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.integer({ min: 0x1_0000 - 2, max: 0x1_0000 + 2 }).map((n) => new Uint8Array(n).fill(7)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(bytes, bytes), { maxLength: 12 }),
        fc.array(fc.tuple(fc.string({ maxLength: 10 }), fc.uint8Array({ maxLength: 40 })), { maxLength: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.nat(1_000_000),
        async (kv, meta, pageSize, index) => {
          const encoded = await encodeSnapshotData(1, index, meta, pager(kv, pageSize), 2);
          expect(plain(packr.unpack(encoded))).toEqual(plain(packr.unpack(packr.pack([1, index, meta, kv]))));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('encodes a store with no records as an empty list', async () => {
    const encoded = await encodeSnapshotData(1, 5, [['state', Uint8Array.of(1)]], pager([], 10));
    expect(plain(packr.unpack(encoded))).toEqual(plain([1, 5, [['state', Uint8Array.of(1)]], []]));
  });
});
