// A Raft batch's LevelDB operations as a journal payload (wal-batch.ts): decoding gives back the
// operations exactly as encoded, on the very sublevel objects passed in (log keys as bytes, meta
// keys as strings); any damaged payload is refused with a RecordProblem naming what is wrong.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchSublevel, BatchWrite } from '../src/batch-writer.js';
import { RecordProblem } from '../src/codec.js';
import { Wal, WAL_HEADER_BYTES, WAL_SEGMENT_BYTES_MIN, walRecordBytes, walSegmentName } from '../src/wal.js';
import { decodeWalBatch, encodeWalBatch, type WalBatchSublevels } from '../src/wal-batch.js';

/** A stand-in sublevel: only its identity matters (the payload holds keys without any prefix). */
class FakeSublevel implements BatchSublevel {
  constructor(readonly name: string) {}
  prefixKey(key: Uint8Array, keyFormat: 'view'): Uint8Array;
  prefixKey(key: string, keyFormat: 'utf8'): string;
  prefixKey(key: Uint8Array | string): Uint8Array | string {
    if (typeof key === 'string') return `!${this.name}!${key}`;
    return Uint8Array.from([...new TextEncoder().encode(`!${this.name}!`), ...key]);
  }
}

const log = new FakeSublevel('raft-log');
const meta = new FakeSublevel('raft-meta');
const sublevels: WalBatchSublevels = { log, meta };

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function putLog(key: Uint8Array, value: Uint8Array): BatchWrite {
  return { type: 'put', sublevel: log, key, value };
}
function delLog(key: Uint8Array): BatchWrite {
  return { type: 'del', sublevel: log, key };
}
function putMeta(key: string, value: Uint8Array): BatchWrite {
  return { type: 'put', sublevel: meta, key, value };
}
function delMeta(key: string): BatchWrite {
  return { type: 'del', sublevel: meta, key };
}

/** An operation as plain values, to compare with toEqual (decoded bytes are Buffers, and copies). */
function plain(op: BatchWrite): { type: string; sublevel: string; key: string | number[]; value?: number[] } {
  const sublevel = op.sublevel === log ? 'log' : op.sublevel === meta ? 'meta' : 'unknown';
  const key = typeof op.key === 'string' ? op.key : Array.from(op.key);
  return op.type === 'put' ? { type: op.type, sublevel, key, value: Array.from(op.value) } : { type: op.type, sublevel, key };
}

/** Decodes and checks each operation's sublevel is the very object passed in, and each key's type. */
function roundTrip(ops: readonly BatchWrite[], into: WalBatchSublevels = sublevels): BatchWrite[] {
  const decoded = decodeWalBatch(encodeWalBatch(ops, sublevels), into);
  expect(decoded).toHaveLength(ops.length);
  decoded.forEach((op, i) => {
    const original = ops[i] as BatchWrite;
    expect(op.sublevel).toBe(original.sublevel === log ? into.log : into.meta);
    if (op.sublevel === into.meta) expect(typeof op.key).toBe('string');
    else expect(op.key).toBeInstanceOf(Uint8Array);
    if (op.type === 'put') expect(op.value).toBeInstanceOf(Uint8Array);
  });
  return decoded;
}

function decodeProblem(payload: Uint8Array): RecordProblem {
  let decoded: BatchWrite[];
  try {
    decoded = decodeWalBatch(payload, sublevels);
  } catch (error) {
    expect(error).toBeInstanceOf(RecordProblem);
    return error as RecordProblem;
  }
  throw new Error(`decodeWalBatch accepted ${Buffer.from(payload).toString('hex')} as ${JSON.stringify(decoded.map(plain))}`);
}

/** Two puts and two deletes, one of each per sublevel. */
const sample: BatchWrite[] = [putLog(bytes(0, 0, 0, 0, 0, 0, 0, 7), utf8('entry 7')), delLog(bytes(0, 0, 0, 0, 0, 0, 0, 9)), putMeta('hard-state', bytes(1, 2, 3)), delMeta('snapshot-data/00000001')];

describe('encodeWalBatch and decodeWalBatch', () => {
  it('lays out a u32 count, then per operation a u8 tag, u32 key length, key, and for a put u32 value length and value', () => {
    const payload = encodeWalBatch([putLog(bytes(1, 2), bytes(9)), delLog(bytes(3)), putMeta('k', bytes()), delMeta('é')], sublevels);
    expect(Array.from(payload)).toEqual([
      ...[4, 0, 0, 0],
      ...[0, 2, 0, 0, 0, 1, 2, 1, 0, 0, 0, 9], // put log: tag 0
      ...[1, 1, 0, 0, 0, 3], // del log: tag 1
      ...[2, 1, 0, 0, 0, 0x6b, 0, 0, 0, 0], // put meta: tag 2, empty value
      ...[3, 2, 0, 0, 0, 0xc3, 0xa9], // del meta: tag 3, the key in UTF-8
    ]);
  });

  it('round-trips puts and deletes on both sublevels, in order, on the same sublevel objects', () => {
    const decoded = roundTrip(sample);
    expect(decoded.map(plain)).toEqual(sample.map(plain));
    expect(decoded.map((op) => op.sublevel)).toEqual([log, log, meta, meta]);
    expect(decoded[0]?.sublevel).toBe(log);
    expect(decoded[2]?.sublevel).toBe(meta);
  });

  it('puts decoded operations on whichever sublevels decode is given', () => {
    const otherLog = new FakeSublevel('other-log');
    const otherMeta = new FakeSublevel('other-meta');
    const decoded = decodeWalBatch(encodeWalBatch(sample, sublevels), { log: otherLog, meta: otherMeta });
    expect(decoded.map((op) => op.sublevel)).toEqual([otherLog, otherLog, otherMeta, otherMeta]);
    expect(decoded[0]?.sublevel).toBe(otherLog);
    expect(decoded[3]?.sublevel).toBe(otherMeta);
  });

  it('round-trips an empty batch as a zero count alone', () => {
    const payload = encodeWalBatch([], sublevels);
    expect(Array.from(payload)).toEqual([0, 0, 0, 0]);
    expect(decodeWalBatch(payload, sublevels)).toEqual([]);
  });

  it('round-trips non-ASCII and odd meta keys as strings', () => {
    const keys = ['état', '日本語のキー', '🔑 key', 'a\u0000b', '', 'snapshot-data/00000001', 'ÿ'];
    const ops = keys.flatMap((key, i) => [putMeta(key, bytes(i)), delMeta(key)]);
    const decoded = roundTrip(ops);
    expect(decoded.map((op) => op.key)).toEqual(keys.flatMap((key) => [key, key]));
    expect(decoded.map(plain)).toEqual(ops.map(plain));
  });

  it('round-trips log keys as bytes: empty, with zeros and 0xff, and longer than 64 KiB', () => {
    const long = new Uint8Array(70_000).map((_, i) => (i * 13) & 0xff);
    const ops = [putLog(bytes(), bytes(1)), putLog(bytes(0, 0xff, 0, 0x80), bytes(2)), delLog(long), putLog(long, bytes(3))];
    const decoded = roundTrip(ops);
    expect(decoded.map(plain)).toEqual(ops.map(plain));
  });

  it('round-trips empty values and large ones', () => {
    const large = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => (i * 31 + 7) & 0xff);
    const ops = [putLog(bytes(1), bytes()), putMeta('empty', new Uint8Array(0)), putLog(bytes(2), large), putMeta('large', large)];
    const decoded = roundTrip(ops);
    expect(decoded.map((op) => (op.type === 'put' ? op.value.byteLength : -1))).toEqual([0, 0, large.byteLength, large.byteLength]);
    const value = (op: BatchWrite | undefined): Uint8Array => (op?.type === 'put' ? op.value : new Uint8Array(0));
    expect(Buffer.from(value(decoded[2])).equals(large)).toBe(true);
    expect(Buffer.from(value(decoded[3])).equals(large)).toBe(true);
  });

  it('takes a log key given as a string as its UTF-8 bytes', () => {
    const op: BatchWrite = { type: 'put', sublevel: log, key: 'é', value: bytes(1) };
    const [decoded] = decodeWalBatch(encodeWalBatch([op], sublevels), sublevels);
    expect(decoded?.sublevel).toBe(log);
    expect(Array.from(decoded?.key as Uint8Array)).toEqual([0xc3, 0xa9]);
  });

  it('decodes a payload that is a view into a larger buffer (as the journal hands them out)', () => {
    const payload = encodeWalBatch(sample, sublevels);
    const backing = new Uint8Array(payload.byteLength + 40).fill(0xab);
    backing.set(payload, 23);
    const decoded = decodeWalBatch(backing.subarray(23, 23 + payload.byteLength), sublevels);
    expect(decoded.map(plain)).toEqual(sample.map(plain));
  });

  it('gives keys and values of their own, not views into the payload', () => {
    const payload = encodeWalBatch(sample, sublevels);
    const decoded = decodeWalBatch(payload, sublevels);
    const before = decoded.map(plain);
    payload.fill(0x77);
    expect(decoded.map(plain)).toEqual(before);
    expect(before).toEqual(sample.map(plain));
  });

  it('never calls the sublevels’ prefixKey: the payload holds keys as given', () => {
    const calls: string[] = [];
    class Watched extends FakeSublevel {
      override prefixKey(key: Uint8Array, keyFormat: 'view'): Uint8Array;
      override prefixKey(key: string, keyFormat: 'utf8'): string;
      override prefixKey(key: Uint8Array | string): Uint8Array | string {
        calls.push(this.name);
        return key;
      }
    }
    const watched = { log: new Watched('log'), meta: new Watched('meta') };
    const ops: BatchWrite[] = [
      { type: 'put', sublevel: watched.log, key: bytes(5), value: bytes(6) },
      { type: 'del', sublevel: watched.meta, key: 'm' },
    ];
    const payload = encodeWalBatch(ops, watched);
    expect(Buffer.from(payload).includes(Buffer.from('!'))).toBe(false);
    decodeWalBatch(payload, watched);
    expect(calls).toEqual([]);
  });

  it('refuses an operation on a sublevel other than the two given', () => {
    const stranger = new FakeSublevel('raft-log'); // same shape and name, another object
    expect(() => encodeWalBatch([{ type: 'put', sublevel: stranger, key: bytes(1), value: bytes(2) }], sublevels)).toThrow(
      'encodeWalBatch: an operation on a sublevel other than raft-log and raft-meta',
    );
    expect(() => encodeWalBatch([...sample, { type: 'del', sublevel: stranger, key: 'x' }], sublevels)).toThrow(/sublevel other than raft-log and raft-meta/);
    expect(() => encodeWalBatch(sample, { log: meta, meta: new FakeSublevel('x') })).toThrow(/sublevel other than/);
  });

  it('survives a trip through the journal, padded there to 8 bytes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'raftplane-wal-batch-'));
    try {
      const batches = [sample, [putMeta('journal-seq', bytes(1))], [delLog(bytes(1, 2, 3)), putLog(bytes(4), new Uint8Array(3000).fill(4))]];
      const payloads = batches.map((ops) => encodeWalBatch(ops, sublevels));
      expect(payloads.map((payload) => payload.byteLength % 8)).toEqual([2, 1, 6]); // 90, 17 and 3022 bytes: all three need padding
      const { wal } = await Wal.open(join(root, 'journal'), WAL_SEGMENT_BYTES_MIN, root);
      try {
        for (let i = 0; i < payloads.length; i++) await wal.append(i + 1, payloads[i] as Uint8Array);
      } finally {
        await wal.close();
      }
      // Back to back in segment 1, each at the padded end of the one before, the padding zero.
      const segment = await readFile(join(root, 'journal', walSegmentName(1)));
      let at = 0;
      payloads.forEach((payload, i) => {
        expect(segment.readUInt32LE(at)).toBe(payload.byteLength);
        expect(segment.readDoubleLE(at + 8)).toBe(i + 1);
        expect(segment.subarray(at + WAL_HEADER_BYTES, at + WAL_HEADER_BYTES + payload.byteLength).equals(payload)).toBe(true);
        expect(segment.subarray(at + WAL_HEADER_BYTES + payload.byteLength, at + walRecordBytes(payload.byteLength)).every((byte) => byte === 0)).toBe(true);
        at += walRecordBytes(payload.byteLength);
      });
      expect(segment.subarray(at).every((byte) => byte === 0)).toBe(true);
      const reopened = await Wal.open(join(root, 'journal'), WAL_SEGMENT_BYTES_MIN, root);
      await reopened.wal.close();
      expect(reopened.recovery.tornTail).toBeNull();
      expect(reopened.recovery.records.map((record) => decodeWalBatch(record.payload, sublevels).map(plain))).toEqual(batches.map((ops) => ops.map(plain)));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('encodeWalBatch and decodeWalBatch (property)', () => {
  const logKey = fc.uint8Array({ maxLength: 24 });
  const metaKey = fc.string({ unit: 'binary', maxLength: 16 });
  const value = fc.uint8Array({ maxLength: 64 });
  const op: fc.Arbitrary<BatchWrite> = fc.oneof(
    fc.tuple(logKey, value).map(([key, v]) => putLog(key, v)),
    logKey.map((key) => delLog(key)),
    fc.tuple(metaKey, value).map(([key, v]) => putMeta(key, v)),
    metaKey.map((key) => delMeta(key)),
  );
  const ops = fc.array(op, { maxLength: 20 });

  it('decodes any list of operations to the same list, on the same sublevels', () => {
    fc.assert(
      fc.property(ops, (list) => {
        const decoded = roundTrip(list);
        expect(decoded.map(plain)).toEqual(list.map(plain));
        decoded.forEach((d, i) => expect(d.sublevel).toBe(list[i]?.sublevel));
      }),
      { numRuns: 300 },
    );
  });

  it('encodes to exactly the bytes its layout says', () => {
    fc.assert(
      fc.property(ops, (list) => {
        const size = list.reduce((sum, o) => sum + 1 + 4 + (typeof o.key === 'string' ? utf8(o.key).byteLength : o.key.byteLength) + (o.type === 'put' ? 4 + o.value.byteLength : 0), 4);
        expect(encodeWalBatch(list, sublevels).byteLength).toBe(size);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses every truncation and every extension of a valid payload', () => {
    fc.assert(
      fc.property(ops, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), (list, cut, extra) => {
        const payload = encodeWalBatch(list, sublevels);
        const truncated = payload.subarray(0, cut % payload.byteLength);
        expect(decodeProblem(truncated).message).toMatch(/ at byte \d+ runs past the payload's \d+ bytes$/);
        const extended = Uint8Array.from([...payload, ...extra]);
        expect(decodeProblem(extended).message).toBe(`${extra.byteLength} bytes after the ${list.length} operations`);
      }),
      { numRuns: 300 },
    );
  });

  it('either decodes arbitrary bytes or throws a RecordProblem, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (random, smallCount) => {
        const payload = Uint8Array.from(random);
        if (smallCount && payload.byteLength >= 4) payload.set([(payload[0] as number) & 3, 0, 0, 0], 0);
        try {
          const decoded = decodeWalBatch(payload, sublevels);
          for (const d of decoded) expect([log, meta]).toContain(d.sublevel);
        } catch (error) {
          expect(error).toBeInstanceOf(RecordProblem);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('decodeWalBatch: damaged payloads', () => {
  // sample encodes as: count (0..3); op 0 put log: tag 4, key length 5..8, key 9..16, value
  // length 17..20, value 21..27; op 1 del log: tag 28, key length 29..32, key 33..40; ...
  it.each([
    { cut: 0, problem: "operation count at byte 0 runs past the payload's 0 bytes" },
    { cut: 3, problem: "operation count at byte 0 runs past the payload's 3 bytes" },
    { cut: 4, problem: "operation 0 at byte 4 runs past the payload's 4 bytes" },
    { cut: 8, problem: "operation 0 at byte 4 runs past the payload's 8 bytes" },
    { cut: 9, problem: "operation 0's key at byte 9 runs past the payload's 9 bytes" },
    { cut: 16, problem: "operation 0's key at byte 9 runs past the payload's 16 bytes" },
    { cut: 17, problem: "operation 0's value length at byte 17 runs past the payload's 17 bytes" },
    { cut: 20, problem: "operation 0's value length at byte 17 runs past the payload's 20 bytes" },
    { cut: 21, problem: "operation 0's value at byte 21 runs past the payload's 21 bytes" },
    { cut: 27, problem: "operation 0's value at byte 21 runs past the payload's 27 bytes" },
    { cut: 28, problem: "operation 1 at byte 28 runs past the payload's 28 bytes" },
    { cut: 40, problem: "operation 1's key at byte 33 runs past the payload's 40 bytes" },
  ])('refuses the sample cut to $cut bytes: $problem', ({ cut, problem }) => {
    const payload = encodeWalBatch(sample, sublevels);
    expect(decodeProblem(payload.subarray(0, cut)).message).toBe(problem);
  });

  it('refuses every proper prefix of a payload', () => {
    const payload = encodeWalBatch(sample, sublevels);
    for (let cut = 0; cut < payload.byteLength; cut++) {
      expect(decodeProblem(payload.subarray(0, cut)).message).toMatch(/runs past the payload's \d+ bytes$/);
    }
  });

  it.each([4, 5, 0x80, 0xff])('refuses tag %i', (tag) => {
    const payload = encodeWalBatch(sample, sublevels);
    const bad = Uint8Array.from(payload);
    bad[4] = tag;
    expect(decodeProblem(bad).message).toBe(`operation 0 has tag ${tag}, not 0-3`);
    const later = Uint8Array.from(payload);
    later[28] = tag; // operation 1's tag
    expect(decodeProblem(later).message).toBe(`operation 1 has tag ${tag}, not 0-3`);
  });

  it('refuses trailing bytes after the operations', () => {
    const payload = encodeWalBatch(sample, sublevels);
    expect(decodeProblem(Uint8Array.from([...payload, 0])).message).toBe('1 bytes after the 4 operations');
    expect(decodeProblem(Uint8Array.from([...payload, 1, 2, 3])).message).toBe('3 bytes after the 4 operations');
    expect(decodeProblem(Uint8Array.of(0, 0, 0, 0, 9)).message).toBe('1 bytes after the 0 operations');
  });

  it('refuses a count that does not match the operations', () => {
    const payload = Buffer.from(encodeWalBatch(sample, sublevels));
    const more = Buffer.from(payload);
    more.writeUInt32LE(5, 0);
    expect(decodeProblem(more).message).toBe(`operation 4 at byte ${payload.byteLength} runs past the payload's ${payload.byteLength} bytes`);
    const fewer = Buffer.from(payload);
    fewer.writeUInt32LE(3, 0);
    expect(decodeProblem(fewer).message).toMatch(/^\d+ bytes after the 3 operations$/);
    const huge = Buffer.from(payload);
    huge.writeUInt32LE(0xffffffff, 0);
    expect(decodeProblem(huge).message).toMatch(/^operation 4 at byte \d+ runs past/);
  });

  it('refuses key and value lengths past the payload, however large', () => {
    const payload = Buffer.from(encodeWalBatch(sample, sublevels));
    const key = Buffer.from(payload);
    key.writeUInt32LE(0xffffffff, 5);
    expect(decodeProblem(key).message).toBe(`operation 0's key at byte 9 runs past the payload's ${payload.byteLength} bytes`);
    const value = Buffer.from(payload);
    value.writeUInt32LE(payload.byteLength, 17);
    expect(decodeProblem(value).message).toBe(`operation 0's value at byte 21 runs past the payload's ${payload.byteLength} bytes`);
  });
});
