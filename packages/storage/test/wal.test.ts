// The write-ahead journal (wal.ts): records go into preallocated, zero-filled segments and come
// back at open exactly as appended, in order, across rotations; removeThrough() deletes only
// full segments the caller has covered; a torn last write is dropped and reported, while any
// other damage refuses the journal with STORAGE_CORRUPT naming the data directory and segment.
//
// Records are padded with zeros to a multiple of WAL_RECORD_ALIGN (8) bytes; the CRC covers the
// sequence number and payload only. The layout most tests use: 4096-byte segments and 1000-byte
// payloads, so 1016-byte records (no padding needed), four to a segment at offsets 0, 1016, 2032
// and 3048. Hand-crafted segments mostly use 100-byte payloads: 116 bytes plus 4 of padding, so
// 120-byte records at offsets 0, 120, 240, 360. A fresh directory's first segment is
// number 1; open() prepares the next segment at once, so a closed journal always holds one
// more (zero-filled, unused) segment than the ones written to.

import { AssertionError } from 'node:assert';
import { mkdir, mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError, StorageErrorCode } from '../src/errors.js';
import {
  WAL_HEADER_BYTES,
  WAL_RECORD_ALIGN,
  WAL_SEGMENT_BYTES_MIN,
  Wal,
  encodeWalRecord,
  parseWalSegment,
  validRecordAfter,
  walRecordBytes,
  walSegmentName,
  type WalRecord,
  type WalRecovery,
} from '../src/wal.js';

const SEG = WAL_SEGMENT_BYTES_MIN;
const PAYLOAD = 1000;
/** 1016: a multiple of 8 already, so these records carry no padding. */
const RECORD = walRecordBytes(PAYLOAD);
/** A hand-crafted record's payload, and the 120 bytes its record takes (116 plus 4 of padding). */
const SMALL = 100;
const SMALL_RECORD = walRecordBytes(SMALL);

let root: string;
/** The data directory named in errors. */
let dataDir: string;
/** The journal directory (inside dataDir, created by Wal.open). */
let journal: string;
/** Every Wal a test opened: closed (close() is idempotent) before the directory goes. */
let wals: Wal[];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'raftplane-wal-'));
  dataDir = root;
  journal = join(root, 'journal');
  wals = [];
});

afterEach(async () => {
  for (const wal of wals) await wal.close();
  await rm(root, { recursive: true, force: true });
});

// ---- helpers ----

/** `size` bytes for record `seq`, none of them zero (so a zeroed range is always visible). */
function payloadOf(seq: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = ((seq * 131 + i * 7) % 255) + 1;
  return bytes;
}

async function openWal(segmentBytes = SEG, dir = journal): Promise<{ wal: Wal; recovery: WalRecovery }> {
  const opened = await Wal.open(dir, segmentBytes, dataDir);
  wals.push(opened.wal);
  return opened;
}

/** Opens, returns what was recovered, and closes. */
async function recover(segmentBytes = SEG, dir = journal): Promise<WalRecovery> {
  const { wal, recovery } = await openWal(segmentBytes, dir);
  await wal.close();
  return recovery;
}

async function appendRange(wal: Wal, first: number, last: number, size = PAYLOAD): Promise<void> {
  for (let seq = first; seq <= last; seq++) await wal.append(seq, payloadOf(seq, size));
}

/** Records `first`..`last` appended with payloadOf(seq, size), closed. */
async function journalOf(first: number, last: number, size = PAYLOAD): Promise<void> {
  const { wal } = await openWal();
  await appendRange(wal, first, last, size);
  await wal.close();
}

/** Records as plain values: the recovered payloads are views into a segment's bytes. */
function plain(records: readonly WalRecord[]): { seq: number; payload: Uint8Array }[] {
  return records.map((record) => ({ seq: record.seq, payload: Uint8Array.from(record.payload) }));
}

function expected(first: number, last: number, size = PAYLOAD): { seq: number; payload: Uint8Array }[] {
  const records: { seq: number; payload: Uint8Array }[] = [];
  for (let seq = first; seq <= last; seq++) records.push({ seq, payload: payloadOf(seq, size) });
  return records;
}

const segPath = (number: number, dir = journal): string => join(dir, walSegmentName(number));

async function listing(dir = journal): Promise<string[]> {
  return (await readdir(dir)).sort();
}

function names(...numbers: number[]): string[] {
  return numbers.map((number) => walSegmentName(number));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Writes `bytes` into segment `number` at `offset`, in place. */
async function writeAt(number: number, offset: number, bytes: Uint8Array): Promise<void> {
  const file = await open(segPath(number), 'r+');
  try {
    await file.write(bytes, 0, bytes.byteLength, offset);
  } finally {
    await file.close();
  }
}

/** Zeroes bytes [from, to) of segment `number`. */
async function zero(number: number, from: number, to: number): Promise<void> {
  await writeAt(number, from, new Uint8Array(to - from));
}

/** Flips one bit of the byte at `offset` of segment `number`. */
async function flip(number: number, offset: number): Promise<void> {
  const bytes = await readFile(segPath(number));
  await writeAt(number, offset, Uint8Array.of((bytes[offset] as number) ^ 0x10));
}

/** Writes segment `number` by hand: `records` encoded back to back from byte 0, then zeros. Returns each record's offset. */
async function craftSegment(number: number, records: readonly (readonly [number, Uint8Array])[], size = SEG): Promise<number[]> {
  await mkdir(journal, { recursive: true });
  const bytes = Buffer.alloc(size);
  const offsets: number[] = [];
  let at = 0;
  for (const [seq, payload] of records) {
    offsets.push(at);
    const record = encodeWalRecord(seq, payload);
    bytes.set(record, at);
    at += record.byteLength;
  }
  await writeFile(segPath(number), bytes);
  return offsets;
}

/** A record whose checksum is right but whose sequence number is `seq` (which encodeWalRecord refuses). */
function recordWithSeq(seq: number, payload: Uint8Array): Buffer {
  const record = encodeWalRecord(1, payload);
  record.writeDoubleLE(seq, 8);
  record.writeUInt32LE(crc32(record.subarray(8, WAL_HEADER_BYTES + payload.byteLength)), 4);
  return record;
}

/** What Wal.open() rejects with; it must be STORAGE_CORRUPT about dataDir. */
async function openCorrupt(segmentBytes = SEG): Promise<StorageError> {
  let opened: { wal: Wal; recovery: WalRecovery } | undefined;
  try {
    opened = await Wal.open(journal, segmentBytes, dataDir);
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    const storageError = error as StorageError;
    expect(storageError.code).toBe(StorageErrorCode.Corrupt);
    expect(storageError.code).toBe('STORAGE_CORRUPT');
    expect(storageError.dataDir).toBe(dataDir);
    expect(storageError.message.startsWith(`data directory ${dataDir}: `)).toBe(true);
    return storageError;
  }
  await opened.wal.close();
  const { records, tornTail } = opened.recovery;
  throw new Error(`Wal.open of ${journal} succeeded: records [${records.map((record) => record.seq).join(', ')}], tornTail ${JSON.stringify(tornTail)}`);
}

/** The seqs a greedy packing of records with these payload sizes puts in each segment. */
function packing(sizes: readonly number[], segmentBytes: number): number[][] {
  const segments: number[][] = [];
  let offset = Infinity;
  sizes.forEach((size, i) => {
    const bytes = walRecordBytes(size);
    if (offset + bytes > segmentBytes) {
      segments.push([]);
      offset = 0;
    }
    (segments[segments.length - 1] as number[]).push(i + 1);
    offset += bytes;
  });
  return segments;
}

/** The seqs parseWalSegment finds in segment file `number`, checking the rest of it is zero. */
async function seqsIn(number: number, dir = journal): Promise<number[]> {
  const out: WalRecord[] = [];
  expect(parseWalSegment(await readFile(segPath(number, dir)), out)).toEqual({ kind: 'end' });
  return out.map((record) => record.seq);
}

// ---- tests ----

describe('encodeWalRecord, walRecordBytes and walSegmentName', () => {
  it('lays a record out as u32 length, u32 CRC-32 of sequence and payload, f64 sequence, payload, zero padding to 8 bytes (little-endian)', () => {
    const payload = Uint8Array.of(1, 2, 3, 0, 255);
    const record = encodeWalRecord(42, payload);
    expect(WAL_HEADER_BYTES).toBe(16);
    expect(WAL_RECORD_ALIGN).toBe(8);
    expect(record.byteLength).toBe(24); // 16 + 5, padded with 3 zeros
    expect(record.readUInt32LE(0)).toBe(5);
    expect(record.readUInt32LE(4)).toBe(crc32(record.subarray(8, 21)));
    expect(record.readDoubleLE(8)).toBe(42);
    expect(Uint8Array.from(record.subarray(16, 21))).toEqual(payload);
    expect(Array.from(record.subarray(21))).toEqual([0, 0, 0]);
  });

  it('gives the bytes a record takes, padding included: a multiple of 8, at least header plus payload', () => {
    expect(walRecordBytes(1)).toBe(24);
    expect(walRecordBytes(7)).toBe(24);
    expect(walRecordBytes(8)).toBe(24);
    expect(walRecordBytes(9)).toBe(32);
    expect(walRecordBytes(16)).toBe(32);
    expect(walRecordBytes(17)).toBe(40);
    expect(walRecordBytes(100)).toBe(120);
    expect(walRecordBytes(1000)).toBe(1016);
    expect(walRecordBytes(1001)).toBe(1024);
    expect(walRecordBytes(SEG - WAL_HEADER_BYTES)).toBe(SEG);
    for (let size = 1; size <= 100; size++) {
      const bytes = walRecordBytes(size);
      expect(bytes % WAL_RECORD_ALIGN).toBe(0);
      expect(bytes).toBeGreaterThanOrEqual(WAL_HEADER_BYTES + size);
      expect(bytes).toBeLessThan(WAL_HEADER_BYTES + size + WAL_RECORD_ALIGN);
    }
  });

  it('encodes to exactly walRecordBytes(payload) bytes, the padding all zeros and outside the checksum', () => {
    for (let size = 1; size <= 64; size++) {
      const payload = payloadOf(size, size); // no zero bytes: padding is the only zeros
      const record = encodeWalRecord(size + 1000, payload);
      const end = WAL_HEADER_BYTES + size;
      expect(record.byteLength).toBe(walRecordBytes(size));
      expect(Uint8Array.from(record.subarray(WAL_HEADER_BYTES, end))).toEqual(payload);
      expect(record.subarray(end).every((byte) => byte === 0)).toBe(true);
      expect(record.byteLength - end).toBe((WAL_RECORD_ALIGN - (end % WAL_RECORD_ALIGN)) % WAL_RECORD_ALIGN);
      expect(record.readUInt32LE(4)).toBe(crc32(record.subarray(8, end)));
    }
    // Non-zero padding does not change what parseWalSegment reads: the checksum leaves it out.
    const record = encodeWalRecord(7, payloadOf(7, 5));
    record.fill(0xff, WAL_HEADER_BYTES + 5);
    const out: WalRecord[] = [];
    expect(parseWalSegment(record, out)).toEqual({ kind: 'end' });
    expect(plain(out)).toEqual([{ seq: 7, payload: payloadOf(7, 5) }]);
  });

  it('refuses an empty payload and a sequence number that is not a safe integer >= 1', () => {
    expect(() => encodeWalRecord(1, new Uint8Array(0))).toThrow(AssertionError);
    expect(() => encodeWalRecord(1, new Uint8Array(0))).toThrow(/empty payload/);
    for (const seq of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => encodeWalRecord(seq, Uint8Array.of(1))).toThrow(/not a safe integer >= 1/);
    }
    expect(encodeWalRecord(Number.MAX_SAFE_INTEGER, Uint8Array.of(1)).readDoubleLE(8)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('names segments with 16 zero-padded digits and the .wal suffix, so names sort in number order', () => {
    expect(walSegmentName(1)).toBe('0000000000000001.wal');
    expect(walSegmentName(1234567)).toBe('0000000001234567.wal');
    expect([walSegmentName(10), walSegmentName(9), walSegmentName(100)].sort()).toEqual([walSegmentName(9), walSegmentName(10), walSegmentName(100)]);
  });
});

describe('parseWalSegment', () => {
  it('finds no records and the end in an all-zero buffer (and in an empty one)', () => {
    const out: WalRecord[] = [];
    expect(parseWalSegment(new Uint8Array(SEG), out)).toEqual({ kind: 'end' });
    expect(parseWalSegment(new Uint8Array(0), out)).toEqual({ kind: 'end' });
    expect(parseWalSegment(new Uint8Array(WAL_HEADER_BYTES - 1), out)).toEqual({ kind: 'end' });
    expect(out).toEqual([]);
  });

  it('finds both of two records followed by zeros, with their payloads', () => {
    const bytes = new Uint8Array(SEG);
    const first = encodeWalRecord(7, payloadOf(7, 10));
    const second = encodeWalRecord(8, payloadOf(8, 300));
    bytes.set(first, 0);
    bytes.set(second, first.byteLength);
    const out: WalRecord[] = [];
    expect(parseWalSegment(bytes, out)).toEqual({ kind: 'end' });
    expect(plain(out)).toEqual([
      { seq: 7, payload: payloadOf(7, 10) },
      { seq: 8, payload: payloadOf(8, 300) },
    ]);
  });

  it('appends to the records already in `out`', () => {
    const out: WalRecord[] = [{ seq: 1, payload: Uint8Array.of(9) }];
    const bytes = new Uint8Array(64);
    bytes.set(encodeWalRecord(2, Uint8Array.of(5)));
    expect(parseWalSegment(bytes, out)).toEqual({ kind: 'end' });
    expect(plain(out)).toEqual([
      { seq: 1, payload: Uint8Array.of(9) },
      { seq: 2, payload: Uint8Array.of(5) },
    ]);
  });

  it('reads records that fill the buffer exactly, and leaves fewer than a header of zeros alone', () => {
    const exact = encodeWalRecord(1, payloadOf(1, 48));
    const out: WalRecord[] = [];
    expect(parseWalSegment(exact, out)).toEqual({ kind: 'end' });
    const padded = new Uint8Array(exact.byteLength + WAL_HEADER_BYTES - 1);
    padded.set(exact);
    expect(parseWalSegment(padded, out)).toEqual({ kind: 'end' });
    expect(out.map((record) => record.seq)).toEqual([1, 1]);
  });

  it('finds each record at the padded end of the one before: a multiple of 8 bytes', () => {
    const sizes = [1, 5, 8, 9, 13, 100, 3];
    const bytes = new Uint8Array(1024);
    let at = 0;
    const offsets: number[] = [];
    sizes.forEach((size, i) => {
      offsets.push(at);
      bytes.set(encodeWalRecord(i + 1, payloadOf(i + 1, size)), at);
      at += walRecordBytes(size);
    });
    expect(offsets).toEqual([0, 24, 48, 72, 104, 136, 256]);
    const out: WalRecord[] = [];
    expect(parseWalSegment(bytes, out)).toEqual({ kind: 'end' });
    expect(plain(out)).toEqual(sizes.map((size, i) => ({ seq: i + 1, payload: payloadOf(i + 1, size) })));
    // A record packed right after the unpadded end of the one before is not where the parser looks.
    const unpadded = new Uint8Array(256);
    unpadded.set(encodeWalRecord(1, payloadOf(1, 5)), 0);
    unpadded.set(encodeWalRecord(2, payloadOf(2, 5)), WAL_HEADER_BYTES + 5);
    const end = parseWalSegment(unpadded, []);
    expect(end).toMatchObject({ kind: 'bad', offset: 24 });
  });

  it('reads a view into a larger buffer from the view’s own first byte', () => {
    const record = encodeWalRecord(3, payloadOf(3, 20));
    const backing = new Uint8Array(17 + 256 + 9).fill(0xee);
    const view = backing.subarray(17, 17 + 256);
    view.fill(0);
    view.set(record);
    const out: WalRecord[] = [];
    expect(parseWalSegment(view, out)).toEqual({ kind: 'end' });
    expect(plain(out)).toEqual([{ seq: 3, payload: payloadOf(3, 20) }]);
  });

  it('stops at a checksum mismatch, saying where the bad record is and where its payload ends (before the padding)', () => {
    const bytes = new Uint8Array(SEG);
    const good = encodeWalRecord(1, payloadOf(1, SMALL));
    const bad = encodeWalRecord(2, payloadOf(2, SMALL));
    bad[50] = (bad[50] as number) ^ 1;
    bytes.set(good, 0);
    bytes.set(bad, 120);
    bytes.set(encodeWalRecord(3, payloadOf(3, SMALL)), 240);
    const out: WalRecord[] = [];
    const end = parseWalSegment(bytes, out);
    expect(end).toEqual({ kind: 'bad', offset: 120, extentEnd: 236, problem: expect.stringMatching(/^checksum mismatch in the record at byte 120 \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/) });
    expect(end.kind === 'bad' && end.damaged).toBeFalsy();
    expect(out.map((record) => record.seq)).toEqual([1]);
  });

  it('stops at a zero length followed by a non-zero byte, with no extent (the length is unknown)', () => {
    const bytes = new Uint8Array(SEG);
    bytes.set(encodeWalRecord(1, payloadOf(1, SMALL)), 0);
    bytes[3000] = 1;
    const out: WalRecord[] = [];
    const end = parseWalSegment(bytes, out);
    expect(end).toEqual({ kind: 'bad', offset: 120, problem: 'a zero record length at byte 120, but byte 3000 after it is not zero' });
    expect(out).toHaveLength(1);
  });

  it('stops at a record whose length runs past the buffer', () => {
    const bytes = Buffer.alloc(SEG);
    bytes.writeUInt32LE(SEG, 0);
    const end = parseWalSegment(bytes, []);
    expect(end).toEqual({ kind: 'bad', offset: 0, problem: `a record of ${SEG} bytes at byte 0 runs past the segment's ${SEG} bytes` });
  });

  it('stops at non-zero bytes after the last record that are too few for a header', () => {
    const record = encodeWalRecord(1, payloadOf(1, 8));
    const bytes = new Uint8Array(record.byteLength + 10);
    bytes.set(record);
    bytes[record.byteLength + 9] = 7;
    const out: WalRecord[] = [];
    expect(parseWalSegment(bytes, out)).toEqual({ kind: 'bad', offset: 24, problem: '10 bytes after the last record at byte 24 are not zero' });
    expect(out).toHaveLength(1);
  });

  it.each([0, -3, 1.5, 2 ** 53, Number.NaN, Number.NEGATIVE_INFINITY])('stops at a record whose checksum holds but whose sequence number is %s, marking it damaged', (seq) => {
    const bytes = new Uint8Array(256);
    bytes.set(encodeWalRecord(4, payloadOf(4, 13)), 0); // 32 bytes with padding
    bytes.set(recordWithSeq(seq, payloadOf(1, 16)), 32);
    bytes.set(encodeWalRecord(5, payloadOf(5, 16)), 64);
    const out: WalRecord[] = [];
    const end = parseWalSegment(bytes, out);
    expect(end).toEqual({ kind: 'bad', offset: 32, problem: `sequence number ${seq} at byte 32 is not a safe integer >= 1`, damaged: true });
    expect(out.map((record) => record.seq)).toEqual([4]);
  });

  it('marks no other bad record damaged', () => {
    const zeroLength = new Uint8Array(64);
    zeroLength[40] = 1;
    const pastEnd = Buffer.alloc(64);
    pastEnd.writeUInt32LE(64, 0);
    const mismatch = new Uint8Array(64);
    mismatch.set(encodeWalRecord(1, payloadOf(1, 8)));
    mismatch[20] = (mismatch[20] as number) ^ 1;
    const tail = new Uint8Array(24 + 10);
    tail.set(encodeWalRecord(1, payloadOf(1, 8)));
    tail[30] = 1;
    for (const bytes of [zeroLength, pastEnd, mismatch, tail]) {
      const end = parseWalSegment(bytes, []);
      expect(end.kind).toBe('bad');
      expect('damaged' in end).toBe(false);
    }
  });
});

describe('Wal: append and reopen', () => {
  it('opens a missing directory as an empty journal, and leaves one zero-filled segment prepared', async () => {
    const { wal, recovery } = await openWal();
    expect(recovery).toEqual({ records: [], tornTail: null });
    expect(wal.hasFullSegments).toBe(false);
    expect(wal.fullThroughSeq).toBe(0);
    expect(wal.payloadBytesMax).toBe(SEG - WAL_HEADER_BYTES);
    await wal.close();
    expect(await listing()).toEqual(names(1));
    expect(await readFile(segPath(1))).toEqual(Buffer.alloc(SEG));
    expect(await recover()).toEqual({ records: [], tornTail: null });
  });

  it('returns every record appended, in order and byte for byte, across many segments', async () => {
    // Sizes from 1 byte to payloadBytesMax, around the header size and with odd remainders.
    const cycle = [1, 15, 16, 17, 100, 1000, 2048, SEG - WAL_HEADER_BYTES, 3000, 7, 4000, 511, 2500, 1];
    const sizes = Array.from({ length: 45 }, (_, i) => cycle[i % cycle.length] as number);
    const { wal } = await openWal();
    for (let i = 0; i < sizes.length; i++) await wal.append(i + 1, payloadOf(i + 1, sizes[i] as number));
    await wal.close();

    const want = sizes.map((size, i) => ({ seq: i + 1, payload: payloadOf(i + 1, size) }));
    const first = await recover();
    expect(first.tornTail).toBeNull();
    expect(plain(first.records)).toEqual(want);

    // Each record went into the first segment with room for it; one more segment is prepared.
    const segments = packing(sizes, SEG);
    expect(segments.length).toBeGreaterThan(10);
    const files = await listing();
    expect(files.slice(0, segments.length + 1)).toEqual(names(...Array.from({ length: segments.length + 1 }, (_, i) => i + 1)));
    for (let i = 0; i < segments.length; i++) expect(await seqsIn(i + 1)).toEqual(segments[i]);
    expect(await seqsIn(segments.length + 1)).toEqual([]);

    // Reading is repeatable: the second open finds the same records (plus one more empty segment).
    const second = await recover();
    expect(plain(second.records)).toEqual(want);
    expect(second.tornTail).toBeNull();
  });

  it('has each record in its segment file when append() returns', async () => {
    const { wal } = await openWal();
    for (let seq = 1; seq <= 3; seq++) {
      await wal.append(seq, payloadOf(seq, 200));
      expect(await seqsIn(1)).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
    }
    await wal.close();
  });

  it('round-trips any list of payload sizes (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: SEG - WAL_HEADER_BYTES }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 1000 }), async (sizes, firstSeq) => {
        const dir = join(root, `property-${run++}`);
        const { wal } = await openWal(SEG, dir);
        for (let i = 0; i < sizes.length; i++) await wal.append(firstSeq + i, payloadOf(firstSeq + i, sizes[i] as number));
        await wal.close();
        const recovery = await recover(SEG, dir);
        expect(recovery.tornTail).toBeNull();
        expect(plain(recovery.records)).toEqual(sizes.map((size, i) => ({ seq: firstSeq + i, payload: payloadOf(firstSeq + i, size) })));
        const segments = packing(sizes, SEG);
        for (let i = 0; i < segments.length; i++) expect(await seqsIn(i + 1, dir)).toEqual((segments[i] as number[]).map((n) => firstSeq + n - 1));
      }),
      { numRuns: 15 },
    );
  });
});

describe('Wal: rotation and removeThrough', () => {
  it('moves to a new segment when a record does not fit, and deletes full segments once covered, never the one being written', async () => {
    const { wal } = await openWal();
    await appendRange(wal, 1, 4);
    expect(wal.hasFullSegments).toBe(false); // 1..4 fill segment 1 to 4064 of 4096 bytes
    expect(wal.fullThroughSeq).toBe(0);
    await wal.append(5, payloadOf(5, PAYLOAD));
    expect(wal.hasFullSegments).toBe(true);
    expect(wal.fullThroughSeq).toBe(4);
    await appendRange(wal, 6, 9); // 5..8 in segment 2, 9 in segment 3
    expect(wal.fullThroughSeq).toBe(8);
    expect(await seqsIn(1)).toEqual([1, 2, 3, 4]);
    expect(await seqsIn(2)).toEqual([5, 6, 7, 8]);
    expect(await seqsIn(3)).toEqual([9]);

    await wal.removeThrough(3); // segment 1 holds 4: not covered
    expect(await exists(segPath(1))).toBe(true);
    expect(wal.fullThroughSeq).toBe(8);

    await wal.removeThrough(4);
    expect(await exists(segPath(1))).toBe(false);
    expect(await exists(segPath(2))).toBe(true);
    expect(wal.hasFullSegments).toBe(true);
    expect(wal.fullThroughSeq).toBe(8);

    await wal.removeThrough(7); // segment 2 holds 8: not covered
    expect(await exists(segPath(2))).toBe(true);

    await wal.removeThrough(8);
    expect(await exists(segPath(2))).toBe(false);
    expect(wal.hasFullSegments).toBe(false);
    expect(wal.fullThroughSeq).toBe(0);

    // Past every record: the segment being written (3, holding 9) stays, and takes more appends.
    await wal.removeThrough(Number.MAX_SAFE_INTEGER);
    expect(await exists(segPath(3))).toBe(true);
    await wal.append(10, payloadOf(10, PAYLOAD));
    await wal.close();

    expect(await listing()).toEqual(names(3, 4));
    const recovery = await recover();
    expect(plain(recovery.records)).toEqual(expected(9, 10));
    expect(recovery.tornTail).toBeNull();
  });

  it('deletes several full segments at once, oldest first, stopping at the first not covered', async () => {
    const { wal } = await openWal();
    await appendRange(wal, 1, 13); // segments 1..3 full (through 4, 8, 12), 13 in segment 4
    expect(wal.fullThroughSeq).toBe(12);
    await wal.removeThrough(11);
    expect(wal.fullThroughSeq).toBe(12);
    expect([await exists(segPath(1)), await exists(segPath(2)), await exists(segPath(3)), await exists(segPath(4))]).toEqual([false, false, true, true]);
    await wal.close();
    expect(plain((await recover()).records)).toEqual(expected(9, 13));
  });

  it('counts the segments found at open as full: appends go to a new segment, and removeThrough() deletes the old ones', async () => {
    await journalOf(1, 6); // segments 1 (1..4), 2 (5, 6), 3 (prepared)
    const { wal, recovery } = await openWal();
    expect(plain(recovery.records)).toEqual(expected(1, 6));
    expect(wal.hasFullSegments).toBe(true);
    expect(wal.fullThroughSeq).toBe(6);

    await wal.append(7, payloadOf(7, 10)); // segment 2 has room, but appends never go into a segment found at open
    expect(await seqsIn(4)).toEqual([7]);
    expect(await seqsIn(2)).toEqual([5, 6]);
    expect(wal.fullThroughSeq).toBe(6);

    await wal.removeThrough(4);
    expect(await exists(segPath(1))).toBe(false);
    expect(await exists(segPath(2))).toBe(true);
    await wal.removeThrough(6); // segment 2, and segment 3 (found empty at open)
    expect(wal.hasFullSegments).toBe(false);
    await wal.close();

    expect(await listing()).toEqual(names(4, 5));
    expect(plain((await recover()).records)).toEqual([{ seq: 7, payload: payloadOf(7, 10) }]);
  });

  it.each([
    { segmentBytes: SEG, max: 4080 },
    { segmentBytes: SEG + 1, max: 4080 },
    { segmentBytes: SEG + 7, max: 4080 },
    { segmentBytes: SEG + 8, max: 4088 },
    { segmentBytes: 5003, max: 4984 },
    { segmentBytes: 1024 * 1024 + 1536 + 3, max: 1050096 },
  ])('has payloadBytesMax $max for $segmentBytes-byte segments: the largest whose padded record fits', async ({ segmentBytes, max }) => {
    const { wal } = await openWal(segmentBytes);
    expect(wal.payloadBytesMax).toBe(max);
    expect(wal.payloadBytesMax).toBe(Math.floor(segmentBytes / 8) * 8 - WAL_HEADER_BYTES);
    expect(walRecordBytes(max)).toBeLessThanOrEqual(segmentBytes);
    expect(walRecordBytes(max + 1)).toBeGreaterThan(segmentBytes);
    await expect(wal.append(1, new Uint8Array(max + 1))).rejects.toThrow(`Wal.append: ${max + 1} bytes > payloadBytesMax ${max}`);
    await wal.append(1, payloadOf(1, max));
    await wal.append(2, payloadOf(2, 1)); // no room left in segment 1
    expect(wal.fullThroughSeq).toBe(1);
    await wal.close();
    expect([await seqsIn(1), await seqsIn(2)]).toEqual([[1], [2]]);
    expect(plain((await recover(segmentBytes)).records)).toEqual([
      { seq: 1, payload: payloadOf(1, max) },
      { seq: 2, payload: payloadOf(2, 1) },
    ]);
  });

  it('fits a payload of exactly payloadBytesMax into one segment of its own', async () => {
    const { wal } = await openWal();
    const max = wal.payloadBytesMax;
    await wal.append(1, payloadOf(1, 1));
    await wal.append(2, payloadOf(2, max));
    await wal.append(3, payloadOf(3, max));
    await wal.append(4, payloadOf(4, 1));
    expect(wal.fullThroughSeq).toBe(3);
    await wal.close();
    expect([await seqsIn(1), await seqsIn(2), await seqsIn(3), await seqsIn(4)]).toEqual([[1], [2], [3], [4]]);
    expect(plain((await recover()).records)).toEqual([
      { seq: 1, payload: payloadOf(1, 1) },
      { seq: 2, payload: payloadOf(2, max) },
      { seq: 3, payload: payloadOf(3, max) },
      { seq: 4, payload: payloadOf(4, 1) },
    ]);
  });
});

describe('Wal: segment files', () => {
  it.each([SEG, 5000, 1024 * 1024 + 1536 + 3])('preallocates every segment to exactly %i bytes, zero past its records and in their padding', async (segmentBytes) => {
    // Three padded records fit, four do not; 3 bytes short of a multiple of 8, so each has 3 bytes of padding.
    const record = Math.floor(segmentBytes / 3 / WAL_RECORD_ALIGN) * WAL_RECORD_ALIGN;
    const size = record - WAL_HEADER_BYTES - 3;
    expect(walRecordBytes(size)).toBe(record);
    expect(3 * record).toBeLessThanOrEqual(segmentBytes);
    expect(4 * record).toBeGreaterThan(segmentBytes);
    const { wal } = await openWal(segmentBytes);
    for (let seq = 1; seq <= 7; seq++) await wal.append(seq, payloadOf(seq, size));
    await wal.close();
    const files = await listing();
    expect(files).toEqual(names(1, 2, 3, 4)); // 3 records per segment: 1..3, 4..6, 7, and one prepared
    for (const name of files) expect((await stat(join(journal, name))).size).toBe(segmentBytes);
    const first = await readFile(segPath(1));
    for (let i = 0; i < 3; i++) {
      expect(first.readUInt32LE(i * record)).toBe(size); // each record at a multiple of its padded size
      expect(first.readDoubleLE(i * record + 8)).toBe(i + 1);
      expect(Array.from(first.subarray(i * record + WAL_HEADER_BYTES + size, (i + 1) * record))).toEqual([0, 0, 0]);
    }
    expect(first.subarray(3 * record).every((byte) => byte === 0)).toBe(true);
    const last = await readFile(segPath(3));
    expect(last.subarray(WAL_HEADER_BYTES + size).every((byte) => byte === 0)).toBe(true);
    expect((await readFile(segPath(4))).every((byte) => byte === 0)).toBe(true);
    expect(plain((await recover(segmentBytes)).records)).toEqual(expected(1, 7, size));
  });

  it('deletes .wal.tmp leftovers (interrupted preparations) at open, and numbers segments by the .wal files alone', async () => {
    await journalOf(1, 2);
    await writeFile(join(journal, '0000000000000009.wal.tmp'), payloadOf(1, 100));
    await writeFile(join(journal, `${walSegmentName(3).slice(0, -4)}.wal.tmp`), payloadOf(2, 100));
    expect(await listing()).toEqual([...names(1, 2), '0000000000000003.wal.tmp', '0000000000000009.wal.tmp']);
    const recovery = await recover();
    expect(plain(recovery.records)).toEqual(expected(1, 2));
    expect(await listing()).toEqual(names(1, 2, 3));
    expect((await readFile(segPath(3))).every((byte) => byte === 0)).toBe(true);
  });

  it.each(['notes.txt', '1.wal', '00000000000000001.wal', '000000000000000a.wal', '0000000000000001.wal.bak', '0000000000000001.WAL'])(
    "refuses a file named '%s' in the journal directory with STORAGE_CORRUPT naming it",
    async (name) => {
      await journalOf(1, 2);
      await writeFile(join(journal, name), 'x');
      const error = await openCorrupt();
      expect(error.message).toContain(`file '${name}' in the journal directory ${journal}`);
      expect(error.message).toContain('is not a journal segment');
      expect(error.record).toBe(`file '${name}' in the journal directory ${journal}`);
    },
  );

  it('refuses a subdirectory in the journal directory too', async () => {
    await mkdir(join(journal, 'sub'), { recursive: true });
    const error = await openCorrupt();
    expect(error.message).toContain(`file 'sub' in the journal directory ${journal}: is not a journal segment`);
  });

  it('reports a segment it cannot read as STORAGE_READ_FAILED naming it', async () => {
    await mkdir(segPath(1), { recursive: true }); // a directory where a segment should be (not empty, so its size is not 0)
    await writeFile(join(segPath(1), 'inside'), 'x');
    const error: unknown = await Wal.open(journal, SEG, dataDir).then(
      async ({ wal }) => {
        await wal.close();
        return null;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: StorageErrorCode.ReadFailed, dataDir });
    expect((error as Error).message).toContain(`reading journal segment ${segPath(1)} failed`);
  });
});

describe('Wal: a torn last write', () => {
  // How much of the last record (relative to its first byte) reached the disk: zeroed ranges.
  const shapes: { name: string; zeroed: [number, number][] }[] = [
    { name: 'the second half of the payload missing', zeroed: [[WAL_HEADER_BYTES + PAYLOAD / 2, RECORD]] },
    { name: 'only the last payload byte missing', zeroed: [[RECORD - 1, RECORD]] },
    { name: 'only the header written', zeroed: [[WAL_HEADER_BYTES, RECORD]] },
    { name: 'the checksum and sequence number missing', zeroed: [[4, WAL_HEADER_BYTES]] },
    { name: 'the header missing, the payload written', zeroed: [[0, WAL_HEADER_BYTES]] },
    { name: 'only a middle part written', zeroed: [[0, 400], [600, RECORD]] },
  ];
  // The last record (6) in the middle of segment 2, or (5) at the start of a segment of its own.
  const cases = shapes.flatMap((shape) => [
    { ...shape, last: 6, offset: RECORD, where: `byte ${RECORD}` },
    { ...shape, last: 5, offset: 0, where: 'the start' },
  ]);

  it.each(cases)('drops record $last with $name at $where of segment 2, keeping every record before it', async ({ last, offset, zeroed }) => {
    await journalOf(1, last);
    for (const [from, to] of zeroed) await zero(2, offset + from, offset + to);
    const { wal, recovery } = await openWal();
    expect(recovery.tornTail).toEqual({ segment: walSegmentName(2), offset });
    expect(plain(recovery.records)).toEqual(expected(1, last - 1));
    expect(wal.hasFullSegments).toBe(true);
    expect(wal.fullThroughSeq).toBe(last - 1);
    await wal.close();
  });

  it.each([
    { name: 'half its payload', zeroed: [60, 120] },
    { name: 'its header', zeroed: [0, WAL_HEADER_BYTES] },
    { name: 'its length alone', zeroed: [0, 4] },
  ])('drops a padded last record with $name missing, at a padded offset', async ({ zeroed }) => {
    const offsets = await craftSegment(1, [
      [1, payloadOf(1, SMALL)],
      [2, payloadOf(2, 13)],
      [3, payloadOf(3, SMALL)],
    ]);
    expect(offsets).toEqual([0, 120, 152]);
    await zero(1, 152 + (zeroed[0] as number), 152 + (zeroed[1] as number));
    const recovery = await recover();
    expect(recovery.tornTail).toEqual({ segment: walSegmentName(1), offset: 152 });
    expect(plain(recovery.records)).toEqual([
      { seq: 1, payload: payloadOf(1, SMALL) },
      { seq: 2, payload: payloadOf(2, 13) },
    ]);
  });

  it('takes non-zero bytes after the last record of the last segment for a record whose header never landed: no record is lost', async () => {
    await journalOf(1, 9); // 9 alone in segment 3
    await writeAt(3, RECORD + 500, Uint8Array.of(1, 2, 3));
    const recovery = await recover();
    expect(recovery.tornTail).toEqual({ segment: walSegmentName(3), offset: RECORD });
    expect(plain(recovery.records)).toEqual(expected(1, 9));
  });

  it('sees a tear even when it is the only thing in the journal', async () => {
    await journalOf(1, 1);
    await zero(1, 0, WAL_HEADER_BYTES);
    const { wal, recovery } = await openWal();
    expect(recovery).toEqual({ records: [], tornTail: { segment: walSegmentName(1), offset: 0 } });
    expect(wal.fullThroughSeq).toBe(0);
    await wal.removeThrough(0);
    expect(await exists(segPath(1))).toBe(false);
    await wal.close();
  });

  it('changes nothing on disk: every open reports the same tear until the caller removes the segment', async () => {
    await journalOf(1, 6);
    await zero(2, RECORD + 600, 2 * RECORD);
    const before = await readFile(segPath(2));
    const first = await recover();
    const second = await recover();
    expect(await readFile(segPath(2))).toEqual(before);
    expect(second).toEqual(first);
    expect(first.tornTail).toEqual({ segment: walSegmentName(2), offset: RECORD });
    expect(await listing()).toEqual(names(1, 2, 3, 4, 5)); // each open prepared one more (empty) segment
  });

  // The contract (as RaftStorage's openJournal keeps it): open() deletes nothing, and a torn
  // segment followed by records in a later segment is damage. So before appending, the caller
  // makes the recovered records durable elsewhere and removes every segment found at open
  // (removeThrough at or past fullThroughSeq); the sequence then goes on from the last record
  // recovered, reusing the dropped record's number (it was never acknowledged).
  it('goes on after a tear once the caller has removed the segments found at open', async () => {
    await journalOf(1, 6);
    await zero(2, RECORD + WAL_HEADER_BYTES + 10, 2 * RECORD);
    const { wal, recovery } = await openWal();
    expect(recovery.tornTail).toEqual({ segment: walSegmentName(2), offset: RECORD });
    const lastSeq = (recovery.records[recovery.records.length - 1] as WalRecord).seq;
    expect(lastSeq).toBe(5);
    await wal.removeThrough(wal.fullThroughSeq);
    expect(wal.hasFullSegments).toBe(false);
    await wal.append(lastSeq + 1, payloadOf(100, 300));
    await wal.append(lastSeq + 2, payloadOf(101, 300));
    await wal.close();

    const after = await recover();
    expect(after.tornTail).toBeNull();
    expect(plain(after.records)).toEqual([
      { seq: 6, payload: payloadOf(100, 300) },
      { seq: 7, payload: payloadOf(101, 300) },
    ]);
  });

  it('refuses the journal at the next open if the caller appended without removing the torn segment', async () => {
    await journalOf(1, 6);
    await zero(2, RECORD + WAL_HEADER_BYTES + 10, 2 * RECORD);
    const { wal, recovery } = await openWal();
    expect(recovery.tornTail).not.toBeNull();
    await wal.append(6, payloadOf(6, 300));
    await wal.close();
    const error = await openCorrupt();
    expect(error.message).toContain(`journal segment ${walSegmentName(2)}: checksum mismatch in the record at byte ${RECORD}`);
  });
});

describe('Wal: damage that is not a torn last write is STORAGE_CORRUPT', () => {
  it('refuses a checksum mismatch followed by further records in the same segment', async () => {
    await journalOf(1, 4); // all in segment 1, the last one holding records
    await flip(1, RECORD + WAL_HEADER_BYTES + 123); // record 2's payload
    const error = await openCorrupt();
    expect(error.message).toMatch(
      new RegExp(`journal segment ${walSegmentName(1)}: checksum mismatch in the record at byte ${RECORD} \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\), and byte ${2 * RECORD} after it is not zero: damage, not a torn last write$`),
    );
    expect(error.record).toBe(`journal segment ${walSegmentName(1)}`);
  });

  it('refuses a checksum mismatch in a stored sequence number', async () => {
    await journalOf(1, 4);
    await flip(1, RECORD + 8);
    const error = await openCorrupt();
    expect(error.message).toContain(`checksum mismatch in the record at byte ${RECORD}`);
  });

  it('refuses a bad last record of a segment when a later segment holds records', async () => {
    await journalOf(1, 9); // 1..4, 5..8, 9
    await flip(2, 3 * RECORD + 40); // record 8, the last of segment 2
    const error = await openCorrupt();
    expect(error.message).toContain(`journal segment ${walSegmentName(2)}: checksum mismatch in the record at byte ${3 * RECORD}`);
  });

  it('refuses a zeroed header when a later segment holds records', async () => {
    await journalOf(1, 9);
    await zero(2, 3 * RECORD, 3 * RECORD + WAL_HEADER_BYTES); // record 8's header
    const error = await openCorrupt();
    expect(error.message).toContain(
      `journal segment ${walSegmentName(2)}: a zero record length at byte ${3 * RECORD}, but byte ${3 * RECORD + WAL_HEADER_BYTES} after it is not zero`,
    );
  });

  it('refuses non-zero garbage after a zero length when a later segment holds records', async () => {
    await journalOf(1, 9);
    await writeAt(2, SEG - 6, Uint8Array.of(0x5a)); // past record 8, in segment 2's zeros
    const error = await openCorrupt();
    expect(error.message).toContain(`journal segment ${walSegmentName(2)}: a zero record length at byte ${4 * RECORD}, but byte ${SEG - 6} after it is not zero`);
  });

  it('refuses a bad record when records follow only after an empty segment', async () => {
    const [, second] = await craftSegment(1, [
      [1, payloadOf(1, SMALL)],
      [2, payloadOf(2, SMALL)],
    ]);
    expect(second).toBe(SMALL_RECORD);
    await zero(1, SMALL_RECORD + 50, SMALL_RECORD + 60); // record 2's payload: it looks torn
    await craftSegment(2, []);
    await craftSegment(3, [[3, payloadOf(3, SMALL)]]);
    const error = await openCorrupt();
    expect(error.message).toMatch(
      new RegExp(`journal segment ${walSegmentName(1)}: checksum mismatch in the record at byte ${SMALL_RECORD} \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\)$`),
    );
  });

  it('refuses a second bad segment after a first, even with no records after either', async () => {
    await craftSegment(1, [[1, payloadOf(1, 100)]]);
    await writeAt(1, 2000, Uint8Array.of(1));
    await craftSegment(2, []);
    await writeAt(2, 100, Uint8Array.of(1));
    const error = await openCorrupt();
    expect(error.message).toContain(`journal segment ${walSegmentName(2)}: a zero record length at byte 0, but byte 100 after it is not zero`);
  });

  it('refuses a record running past its segment when a later segment holds records', async () => {
    const [, second] = await craftSegment(1, [
      [1, payloadOf(1, SMALL)],
      [2, payloadOf(2, SMALL)],
    ]);
    expect(second).toBe(SMALL_RECORD);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(SEG, 0);
    await writeAt(1, SMALL_RECORD, length);
    await craftSegment(2, [[3, payloadOf(3, SMALL)]]);
    const error = await openCorrupt();
    expect(error.message).toBe(`data directory ${dataDir}: journal segment ${walSegmentName(1)}: a record of ${SEG} bytes at byte ${SMALL_RECORD} runs past the segment's ${SEG} bytes`);
  });

  it.each([
    { name: 'a gap within a segment', segments: [[1, 2, 4]], message: 'journal record 4: follows record 2 in the same segment: sequence numbers must grow by one' },
    { name: 'a repeated record', segments: [[1, 2], [2, 3]], message: 'journal record 2: follows record 2: sequence numbers must grow' },
    { name: 'a repeated record within a segment', segments: [[1, 2, 2]], message: 'journal record 2: follows record 2 in the same segment' },
    { name: 'a decrease', segments: [[5, 6], [3]], message: 'journal record 3: follows record 6: sequence numbers must grow' },
  ])('refuses sequence numbers that do not grow by one within a segment, or do not grow across segments: $name', async ({ segments, message }) => {
    for (let i = 0; i < segments.length; i++) await craftSegment(i + 1, (segments[i] as number[]).map((seq) => [seq, payloadOf(seq, 50)] as const));
    const error = await openCorrupt();
    expect(error.message).toContain(message);
    expect(error.record).toBe(message.slice(0, message.indexOf(':')));
  });

  // A segment deleted once its records were durable elsewhere can come back after a power loss
  // (its unlink not durable yet) while a later one does not: older records, then a jump. The
  // journal's caller (RaftStorage) refuses a gap among the records it still needs.
  it('accepts a jump in sequence numbers from one segment to the next', async () => {
    await craftSegment(1, [1, 2].map((seq) => [seq, payloadOf(seq, 50)] as const));
    await craftSegment(2, [4, 5].map((seq) => [seq, payloadOf(seq, 50)] as const));
    const { recovery } = await openWal();
    expect(recovery.records.map((r) => r.seq)).toEqual([1, 2, 4, 5]);
    expect(recovery.tornTail).toBeNull();
  });

  it('accepts a journal that starts at any sequence number, and a gap left by appends shows at the next open', async () => {
    const { wal } = await openWal();
    await wal.append(41, payloadOf(41, 10));
    await wal.append(42, payloadOf(42, 10));
    await wal.append(44, payloadOf(44, 10)); // append does not check the sequence
    await wal.close();
    const error = await openCorrupt();
    expect(error.message).toContain('journal record 44: follows record 42 in the same segment: sequence numbers must grow by one');
  });

  // Records after a bad one in the same segment prove it was not the last write (segments are
  // zero-filled before use, and every write completes before the next begins), so dropping them
  // as part of a "torn tail" would lose acknowledged records.
  it('refuses a record lost to a zeroed page in the middle of the last segment: a valid record follows it', async () => {
    const segmentBytes = 4 * 4096;
    const { wal } = await openWal(segmentBytes);
    for (let seq = 1; seq <= 4; seq++) await wal.append(seq, payloadOf(seq, 4096 - WAL_HEADER_BYTES)); // one record per 4 KiB page
    await wal.close();
    await zero(1, 4096, 8192); // record 2's page reads back as zeros; records 3 and 4 are intact
    const error = await openCorrupt(segmentBytes);
    expect(error.message).toBe(
      `data directory ${dataDir}: journal segment ${walSegmentName(1)}: a zero record length at byte 4096, but byte 8192 after it is not zero, and a valid record follows at byte 8192: damage, not a torn last write`,
    );
    expect(error.record).toBe(`journal segment ${walSegmentName(1)}`);
  });

  it('refuses a record with a valid checksum but sequence number 0, followed by valid records', async () => {
    await craftSegment(1, [
      [1, payloadOf(1, SMALL)],
      [2, payloadOf(2, SMALL)],
      [3, payloadOf(3, SMALL)],
    ]);
    await writeAt(1, SMALL_RECORD, recordWithSeq(0, payloadOf(2, SMALL)));
    const error = await openCorrupt();
    expect(error.message).toBe(`data directory ${dataDir}: journal segment ${walSegmentName(1)}: sequence number 0 at byte ${SMALL_RECORD} is not a safe integer >= 1: damage, not a torn last write`);
    expect(error.record).toBe(`journal segment ${walSegmentName(1)}`);
  });

  it.each([0, -1, 0.5, 2 ** 53])('refuses a checksum-valid record with sequence number %s even as the very last write: it cannot be torn', async (seq) => {
    await craftSegment(1, [[1, payloadOf(1, SMALL)]]);
    await writeAt(1, SMALL_RECORD, recordWithSeq(seq, payloadOf(2, SMALL)));
    const error = await openCorrupt();
    expect(error.message).toBe(`data directory ${dataDir}: journal segment ${walSegmentName(1)}: sequence number ${seq} at byte ${SMALL_RECORD} is not a safe integer >= 1: damage, not a torn last write`);
  });

  it('refuses a damaged record at the start of the last segment, after good segments', async () => {
    await craftSegment(1, [
      [1, payloadOf(1, SMALL)],
      [2, payloadOf(2, SMALL)],
    ]);
    await craftSegment(2, []);
    await writeAt(2, 0, recordWithSeq(0, payloadOf(3, SMALL)));
    const error = await openCorrupt();
    expect(error.message).toBe(`data directory ${dataDir}: journal segment ${walSegmentName(2)}: sequence number 0 at byte 0 is not a safe integer >= 1: damage, not a torn last write`);
  });

  /** A zero length and then non-zero garbage over record 2's 120 bytes (no length in it fits a segment). */
  const zeroThenGarbage = (): Uint8Array => Uint8Array.from([0, 0, 0, 0, ...payloadOf(99, SMALL_RECORD - 4)]);

  it('refuses a zero length and garbage when a valid record follows in the same segment', async () => {
    await craftSegment(1, [
      [1, payloadOf(1, SMALL)],
      [2, payloadOf(2, SMALL)],
      [3, payloadOf(3, SMALL)],
      [4, payloadOf(4, SMALL)],
    ]);
    await writeAt(1, SMALL_RECORD, zeroThenGarbage());
    const error = await openCorrupt();
    expect(error.message).toBe(
      `data directory ${dataDir}: journal segment ${walSegmentName(1)}: a zero record length at byte ${SMALL_RECORD}, but byte ${SMALL_RECORD + 4} after it is not zero, and a valid record follows at byte ${2 * SMALL_RECORD}: damage, not a torn last write`,
    );
    expect(error.record).toBe(`journal segment ${walSegmentName(1)}`);
  });

  it('refuses a zero length and garbage when the valid record after it is not the next one in sequence', async () => {
    await craftSegment(1, [[1, payloadOf(1, SMALL)]]);
    await writeAt(1, SMALL_RECORD, zeroThenGarbage());
    await writeAt(1, 3 * SMALL_RECORD, encodeWalRecord(7, payloadOf(7, SMALL))); // past the last good one (1), at an aligned offset
    const error = await openCorrupt();
    expect(error.message).toContain(`, and a valid record follows at byte ${3 * SMALL_RECORD}: damage, not a torn last write`);
  });

  it('takes a zero length and garbage for a torn tail when nothing valid follows it in the segment', async () => {
    await craftSegment(1, [[1, payloadOf(1, SMALL)]]);
    await writeAt(1, SMALL_RECORD, zeroThenGarbage());
    await writeAt(1, 1000, payloadOf(5, 300)); // more garbage further on, but no record
    const { wal, recovery } = await openWal();
    expect(recovery.tornTail).toEqual({ segment: walSegmentName(1), offset: SMALL_RECORD });
    expect(plain(recovery.records)).toEqual([{ seq: 1, payload: payloadOf(1, SMALL) }]);
    expect(wal.fullThroughSeq).toBe(1);
    await wal.close();
  });

  it('takes a zero length and garbage for a torn tail when the only valid record after it is not past the last good one', async () => {
    await craftSegment(1, [
      [1, payloadOf(1, SMALL)],
      [2, payloadOf(2, SMALL)],
    ]);
    await writeAt(1, 2 * SMALL_RECORD, zeroThenGarbage());
    await writeAt(1, 4 * SMALL_RECORD, encodeWalRecord(2, payloadOf(2, SMALL))); // a copy of record 2
    const recovery = await recover();
    expect(recovery.tornTail).toEqual({ segment: walSegmentName(1), offset: 2 * SMALL_RECORD });
    expect(plain(recovery.records)).toEqual(expected(1, 2, SMALL));
  });

  it('takes a zero length and garbage for a torn tail when a valid record follows only at an unaligned offset', async () => {
    await craftSegment(1, [[1, payloadOf(1, SMALL)]]);
    await writeAt(1, SMALL_RECORD, zeroThenGarbage());
    await writeAt(1, 2 * SMALL_RECORD + 4, encodeWalRecord(2, payloadOf(2, SMALL)));
    const recovery = await recover();
    expect(recovery.tornTail).toEqual({ segment: walSegmentName(1), offset: SMALL_RECORD });
    expect(plain(recovery.records)).toEqual(expected(1, 1, SMALL));
  });

  it('refuses a length running past the segment when a valid record follows in the same segment, and takes it for a torn tail when none does', async () => {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(SEG, 0);
    await craftSegment(1, [
      [1, payloadOf(1, SMALL)],
      [2, payloadOf(2, SMALL)],
      [3, payloadOf(3, SMALL)],
    ]);
    await writeAt(1, SMALL_RECORD, length);
    const error = await openCorrupt();
    expect(error.message).toBe(
      `data directory ${dataDir}: journal segment ${walSegmentName(1)}: a record of ${SEG} bytes at byte ${SMALL_RECORD} runs past the segment's ${SEG} bytes, and a valid record follows at byte ${2 * SMALL_RECORD}: damage, not a torn last write`,
    );

    await rm(journal, { recursive: true });
    await craftSegment(1, [
      [1, payloadOf(1, SMALL)],
      [2, payloadOf(2, SMALL)],
    ]);
    await writeAt(1, SMALL_RECORD, length);
    const recovery = await recover();
    expect(recovery.tornTail).toEqual({ segment: walSegmentName(1), offset: SMALL_RECORD });
    expect(plain(recovery.records)).toEqual(expected(1, 1, SMALL));
  });

  // A torn last write whose extent is known (its length landed, the checksum fails) has all
  // zeros after it; what lies inside its own payload was never a record of the journal's. A
  // payload holds client data, which may contain the bytes of a journal record.
  it('takes a torn last write for a torn tail even when its own payload holds the bytes of a valid record', async () => {
    await craftSegment(1, [[1, payloadOf(1, SMALL)]]);
    const inner = encodeWalRecord(2, payloadOf(2, 24)); // 40 bytes
    const payload = payloadOf(2, 1000);
    payload.set(inner, 8); // at segment byte 120 + 16 + 8 = 144, a multiple of 8
    await writeAt(1, SMALL_RECORD, encodeWalRecord(2, payload));
    expect(plain((await recover()).records).map((record) => record.seq)).toEqual([1, 2]); // intact, it is simply record 2
    await zero(1, SMALL_RECORD + WAL_HEADER_BYTES + 500, SMALL_RECORD + WAL_HEADER_BYTES + 1000); // the second half never landed
    expect(validRecordAfter(await readFile(segPath(1)), SMALL_RECORD + 1, 1)).toBe(144);
    const { wal, recovery } = await openWal();
    expect(recovery.tornTail).toEqual({ segment: walSegmentName(1), offset: SMALL_RECORD });
    expect(plain(recovery.records)).toEqual(expected(1, 1, SMALL));
    await wal.close();
  });
});

describe('validRecordAfter', () => {
  /** A 512-byte buffer with record `seq` (payload `size`) at `at`. */
  function withRecordAt(at: number, seq: number, size = 20): Uint8Array {
    const bytes = new Uint8Array(512);
    bytes.set(encodeWalRecord(seq, payloadOf(seq, size)), at);
    return bytes;
  }

  it('finds a whole, checksum-valid record past the given sequence number at an aligned offset at or past `from`', () => {
    const bytes = withRecordAt(200, 5);
    expect(validRecordAfter(bytes, 0, 4)).toBe(200);
    expect(validRecordAfter(bytes, 0, 0)).toBe(200);
    expect(validRecordAfter(bytes, 193, 4)).toBe(200); // rounded up to 200
    expect(validRecordAfter(bytes, 200, 4)).toBe(200);
    expect(validRecordAfter(bytes, 201, 4)).toBe(-1); // rounded up to 208, past it
  });

  it('returns the first of several', () => {
    const bytes = withRecordAt(64, 3);
    bytes.set(encodeWalRecord(9, payloadOf(9, 7)), 320);
    expect(validRecordAfter(bytes, 0, 2)).toBe(64);
    expect(validRecordAfter(bytes, 65, 2)).toBe(320);
    expect(validRecordAfter(bytes, 0, 3)).toBe(320); // record 3 is not past 3
    expect(validRecordAfter(bytes, 0, 9)).toBe(-1);
  });

  it('ignores a record whose sequence number is not past afterSeq', () => {
    const bytes = withRecordAt(96, 5);
    expect(validRecordAfter(bytes, 0, 5)).toBe(-1);
    expect(validRecordAfter(bytes, 0, 6)).toBe(-1);
    expect(validRecordAfter(bytes, 0, 1000)).toBe(-1);
  });

  it('ignores a record whose sequence number is more than 2^32 past afterSeq, or not a safe integer past it', () => {
    expect(validRecordAfter(withRecordAt(48, 2 ** 32), 0, 0)).toBe(48);
    expect(validRecordAfter(withRecordAt(48, 2 ** 32 + 1), 0, 0)).toBe(-1);
    expect(validRecordAfter(withRecordAt(48, 2 ** 32 + 10), 0, 10)).toBe(48);
    // afterSeq is at least 0 (open() passes the last good sequence number, or 0 when there is none).
    for (const seq of [0, -5, 2.5, 2 ** 53, Number.NaN]) {
      const bytes = new Uint8Array(256);
      bytes.set(recordWithSeq(seq, payloadOf(1, 20)), 48);
      expect(validRecordAfter(bytes, 0, 0)).toBe(-1);
    }
    const control = new Uint8Array(256);
    control.set(recordWithSeq(1, payloadOf(1, 20)), 48);
    expect(validRecordAfter(control, 0, 0)).toBe(48);
  });

  it('returns -1 on zeros, on an empty buffer, and on one shorter than a header', () => {
    expect(validRecordAfter(new Uint8Array(SEG), 0, 0)).toBe(-1);
    expect(validRecordAfter(new Uint8Array(0), 0, 0)).toBe(-1);
    expect(validRecordAfter(new Uint8Array(WAL_HEADER_BYTES - 1).fill(1), 0, 0)).toBe(-1);
  });

  it('returns -1 on garbage: non-zero bytes, and random bytes (property)', () => {
    expect(validRecordAfter(payloadOf(3, SEG), 0, 0)).toBe(-1);
    expect(validRecordAfter(new Uint8Array(SEG).fill(0xff), 0, 0)).toBe(-1);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.nat(600), (random, from) => {
        // A random 32-bit checksum matches one in 2^32 tries; a random double is rarely a small integer at all.
        expect(validRecordAfter(random, from, 0)).toBe(-1);
      }),
      { numRuns: 300 },
    );
  });

  it('ignores a record at an unaligned offset, one with a bad checksum, and one cut off by the end of the buffer', () => {
    const unaligned = new Uint8Array(512);
    unaligned.set(encodeWalRecord(5, payloadOf(5, 20)), 204);
    expect(validRecordAfter(unaligned, 0, 0)).toBe(-1);

    const mismatch = withRecordAt(200, 5);
    mismatch[200 + WAL_HEADER_BYTES + 3] = (mismatch[200 + WAL_HEADER_BYTES + 3] as number) ^ 1;
    expect(validRecordAfter(mismatch, 0, 0)).toBe(-1);

    const whole = withRecordAt(200, 5, 20);
    expect(validRecordAfter(whole.subarray(0, 200 + WAL_HEADER_BYTES + 20), 0, 0)).toBe(200); // padding cut off: still whole
    expect(validRecordAfter(whole.subarray(0, 200 + WAL_HEADER_BYTES + 19), 0, 0)).toBe(-1);
  });

  it('reads a view into a larger buffer from the view’s own first byte', () => {
    const backing = new Uint8Array(3 + 512).fill(0);
    backing.set(encodeWalRecord(5, payloadOf(5, 20)), 3 + 64);
    const view = backing.subarray(3);
    expect(validRecordAfter(view, 0, 0)).toBe(64);
    expect(validRecordAfter(backing, 0, 0)).toBe(-1); // at 67 in the backing buffer: not aligned
  });
});

describe('Wal: assertions', () => {
  it('refuses a payload larger than payloadBytesMax, and an empty one, writing nothing', async () => {
    const { wal } = await openWal();
    await expect(wal.append(1, new Uint8Array(wal.payloadBytesMax + 1))).rejects.toThrow(AssertionError);
    await expect(wal.append(1, new Uint8Array(wal.payloadBytesMax + 1))).rejects.toThrow(`Wal.append: ${SEG - 15} bytes > payloadBytesMax ${SEG - 16}`);
    await expect(wal.append(1, new Uint8Array(0))).rejects.toThrow(AssertionError);
    await expect(wal.append(1, new Uint8Array(0))).rejects.toThrow(/empty payload/);
    await expect(wal.append(0, Uint8Array.of(1))).rejects.toThrow(/sequence 0 is not a safe integer >= 1/);
    await wal.close();
    expect(await recover()).toEqual({ records: [], tornTail: null });
  });

  it('refuses an append after close()', async () => {
    const { wal } = await openWal();
    await wal.append(1, Uint8Array.of(1));
    await wal.close();
    await wal.close(); // idempotent
    await expect(wal.append(2, Uint8Array.of(2))).rejects.toThrow(/Wal.append after close\(\)/);
    expect(plain((await recover()).records)).toEqual([{ seq: 1, payload: Uint8Array.of(1) }]);
  });

  it('refuses a segment size below WAL_SEGMENT_BYTES_MIN', async () => {
    await expect(Wal.open(journal, WAL_SEGMENT_BYTES_MIN - 1, dataDir)).rejects.toThrow(AssertionError);
    await expect(Wal.open(journal, 4096.5, dataDir)).rejects.toThrow(/segmentBytes 4096.5/);
    expect(await exists(journal)).toBe(false);
  });
});
