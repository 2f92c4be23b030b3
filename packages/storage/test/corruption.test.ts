// Open-time verification: every kind of corrupt or missing record, written as raw bytes through
// the LevelDB handle, makes open() reject with STORAGE_CORRUPT and a message naming the data
// directory, the record (and index) and what is wrong. Nothing is served and nothing repaired.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { StorageError, StorageErrorCode } from '../src/index.js';
import {
  MetaKey,
  SNAPSHOT_CHUNK_BYTES_MAX,
  decodeSnapshotRecord,
  encodeEntry, encodeHardState, encodeSnapshotChunk, encodePosition, encodeSnapshotRecord, logKey, sealRecord } from '../src/codec.js';
import type { Db } from '../src/load.js';
import { DataDir, bytesOf, entries, entry, raw, threeVoters } from './support/data-dir.js';

let dir: DataDir;
beforeEach(async () => {
  dir = await DataDir.create();
});
afterEach(async () => {
  await dir.remove();
});

type Raw = ReturnType<typeof raw>;

/**
 * 'plain': entries 1..8 with terms 1 1 2 2 2 3 3 3, hard state term 3, commit 6.
 * 'compacted': the same, then a snapshot at 6 of 2.5 MiB (3 chunks) keeping 2 entries: the log holds 5..8.
 */
async function prepare(kind: 'plain' | 'compacted'): Promise<Db> {
  const { db, storage } = await dir.openStorage();
  await storage.persist({ snapshot: null, entries: [...entries(1, 2, 1), ...entries(3, 5, 2), ...entries(6, 8, 3)], hardState: { term: 3, vote: 1, commit: 6 } });
  if (kind === 'compacted') {
    await storage.createSnapshot(6, threeVoters, bytesOf(2 * SNAPSHOT_CHUNK_BYTES_MAX + SNAPSHOT_CHUNK_BYTES_MAX / 2, 6), 2);
    await storage.logCleared();
  }
  // Closing the storage leaves every record in LevelDB (with a journal: copied and synced), where the cases damage them.
  await storage.close();
  return db;
}

/** A copy of a stored value with one bit of its last byte flipped. */
function flipped(value: Uint8Array | undefined): Uint8Array {
  const copy = Uint8Array.from(value ?? []);
  const last = copy.length - 1;
  copy[last] = (copy[last] as number) ^ 0x40;
  return copy;
}

const chunk = (n: number) => `snapshot-data/${String(n).padStart(8, '0')}`;
const packr = new Packr({ useRecords: false });

interface Case {
  readonly name: string;
  readonly kind: 'plain' | 'compacted';
  readonly corrupt: (r: Raw) => Promise<void>;
  /** The message after `data directory <dir>: `. */
  readonly expected: RegExp;
  readonly index?: number;
}

const cases: Case[] = [
  {
    name: 'a log entry whose bytes changed fails its checksum',
    kind: 'plain',
    corrupt: async (r) => r.log.put(logKey(5), flipped(await r.log.get(logKey(5)))),
    expected: /^raft log entry 5: checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/,
    index: 5,
  },
  {
    name: 'a log entry moved under another key fails its checksum (the key is checksummed too)',
    kind: 'plain',
    corrupt: async (r) => r.log.put(logKey(5), await r.log.get(logKey(6)) as Uint8Array),
    expected: /^raft log entry 5: checksum mismatch/,
    index: 5,
  },
  {
    name: 'a log entry that is not msgpack is undecodable',
    kind: 'plain',
    corrupt: (r) => r.log.put(logKey(5), sealRecord(logKey(5), new Uint8Array([0x93, 0x01]))),
    expected: /^raft log entry 5: undecodable record \(.+\)$/,
    index: 5,
  },
  {
    name: 'a log entry of the wrong shape is refused',
    kind: 'plain',
    corrupt: (r) => r.log.put(logKey(5), sealRecord(logKey(5), packr.pack([2, 0]))),
    expected: /^raft log entry 5: record is not \[term, type, data\]$/,
    index: 5,
  },
  {
    name: 'a log entry too short to hold its checksum is refused',
    kind: 'plain',
    corrupt: (r) => r.log.put(logKey(5), new Uint8Array([1, 2])),
    expected: /^raft log entry 5: record of 2 bytes is shorter than its 4-byte checksum$/,
    index: 5,
  },
  {
    name: 'a missing entry in the middle is a gap',
    kind: 'plain',
    corrupt: (r) => r.log.del(logKey(5)),
    expected: /^raft log entry 6: gap in the log: entry 5 is missing after entry 4$/,
    index: 6,
  },
  {
    name: 'a missing first entry: the log does not follow the compacted prefix and snapshot',
    kind: 'compacted',
    corrupt: (r) => r.log.del(logKey(5)),
    expected: /^raft log entry 6: the first log entry must be 5, right after the compacted prefix \(snapshot at 6\)$/,
    index: 6,
  },
  {
    name: 'a lost tail: the log ends before the entry the last-entry record names',
    kind: 'plain',
    corrupt: async (r) => {
      await r.log.del(logKey(8));
      await r.log.del(logKey(7));
    },
    expected: /^raft log entry 8: missing: the log ends at 6, but the last-entry record names entry 8 \(term 3\)$/,
    index: 8,
  },
  {
    name: 'terms that go down',
    kind: 'plain',
    corrupt: (r) => r.log.put(logKey(7), encodeEntry(entry(7, 1))),
    expected: /^raft log entry 7: term 1 is below the term 3 of entry 6$/,
    index: 7,
  },
  {
    name: 'a hard state commit ahead of the last index',
    kind: 'plain',
    corrupt: (r) => r.meta.put(MetaKey.HardState, encodeHardState({ term: 3, vote: 1, commit: 20 })),
    expected: /^hard state record: commit 20 is ahead of the last log index 8$/,
    index: 20,
  },
  {
    name: 'a hard state commit below the snapshot index',
    kind: 'compacted',
    corrupt: (r) => r.meta.put(MetaKey.HardState, encodeHardState({ term: 3, vote: 1, commit: 5 })),
    expected: /^hard state record: commit 5 is below the snapshot index 6$/,
    index: 5,
  },
  {
    name: 'a hard state term below the last entry’s term',
    kind: 'plain',
    corrupt: (r) => r.meta.put(MetaKey.HardState, encodeHardState({ term: 2, vote: 1, commit: 6 })),
    expected: /^hard state record: term 2 is below the term 3 of the last raft log entry 8$/,
    index: 8,
  },
  {
    name: 'a hard state record that fails its checksum',
    kind: 'plain',
    corrupt: async (r) => r.meta.put(MetaKey.HardState, flipped(await r.meta.get(MetaKey.HardState))),
    expected: /^hard state record: checksum mismatch/,
  },
  {
    name: 'a missing hard state record',
    kind: 'plain',
    corrupt: (r) => r.meta.del(MetaKey.HardState),
    expected: /^hard state record: missing from raft-meta$/,
  },
  {
    name: 'a missing snapshot data chunk',
    kind: 'compacted',
    corrupt: (r) => r.meta.del(chunk(1)),
    expected: /^snapshot data chunk 1 \(of 3, snapshot at 6\): missing$/,
    index: 6,
  },
  {
    name: 'a snapshot data chunk that fails its checksum',
    kind: 'compacted',
    corrupt: async (r) => r.meta.put(chunk(2), flipped(await r.meta.get(chunk(2)))),
    expected: /^snapshot data chunk 2 \(of 3, snapshot at 6\): checksum mismatch/,
    index: 6,
  },
  {
    name: 'a chunk from other data, sound by itself, fails the whole data’s checksum',
    kind: 'compacted',
    corrupt: (r) => r.meta.put(chunk(1), encodeSnapshotChunk(1, bytesOf(SNAPSHOT_CHUNK_BYTES_MAX, 99))),
    expected: /^snapshot record: data checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/,
    index: 6,
  },
  {
    name: 'a chunk left over past the snapshot’s chunk count',
    kind: 'compacted',
    corrupt: (r) => r.meta.put(chunk(3), encodeSnapshotChunk(3, bytesOf(10, 3))),
    expected: /^snapshot data chunk 3 \(of 3, snapshot at 6\): left over: the snapshot has fewer chunks$/,
    index: 6,
  },
  {
    name: 'a snapshot term that disagrees with the log',
    kind: 'compacted',
    corrupt: async (r) => {
      const record = decodeSnapshotRecord(await r.meta.get(MetaKey.Snapshot) as Uint8Array);
      await r.meta.put(MetaKey.Snapshot, encodeSnapshotRecord({ ...record, term: 2 }));
    },
    expected: /^snapshot record: the snapshot's term 2 differs from the term 3 of raft log entry 6$/,
    index: 6,
  },
  {
    name: 'a snapshot past the last log index',
    kind: 'plain',
    corrupt: (r) =>
      r.meta.put(MetaKey.Snapshot, encodeSnapshotRecord({ index: 10, term: 3, confState: threeVoters, dataBytes: 0, chunkCount: 0, dataChecksum: 0 })),
    expected: /^snapshot record: the snapshot is past the last log index 8$/,
    index: 10,
  },
  {
    name: 'a log compacted past the snapshot',
    kind: 'plain',
    corrupt: async (r) => {
      for (const index of [1, 2, 3]) await r.log.del(logKey(index));
      await r.meta.put(MetaKey.Compacted, encodePosition(MetaKey.Compacted, { index: 3, term: 2 }));
    },
    expected: /^compacted record: the log is compacted to 3, past the snapshot at 0: entries 1\.\.3 are lost$/,
    index: 3,
  },
  {
    name: 'a record raft-meta should not hold',
    kind: 'plain',
    corrupt: (r) => r.meta.put('surprise', new Uint8Array([1])),
    expected: /^record 'surprise': unexpected in raft-meta$/,
  },
  {
    name: 'a raft-log key that is not an 8-byte index',
    kind: 'plain',
    corrupt: (r) => r.log.put(new Uint8Array([1, 2, 3]), new Uint8Array([1])),
    expected: /^raft-log record with key 010203: key of 3 bytes is not an 8-byte index$/,
  },
  {
    name: 'log entries without any raft-meta record',
    kind: 'plain',
    corrupt: async (r) => r.meta.clear(),
    expected: /^raft-meta: no records, yet raft-log holds entries$/,
  },
];

describe('open: corrupt or missing records are refused with STORAGE_CORRUPT', () => {
  it.each(['plain', 'compacted'] as const)('the %s directory the cases start from opens cleanly', async (kind) => {
    const db = await prepare(kind);
    const { storage } = await dir.reopen(db);
    expect(storage.lastIndex()).toBe(8);
  });

  it.each(cases)('$name', async ({ kind, corrupt, expected, index }) => {
    const db = await prepare(kind);
    await corrupt(raw(db));
    await dir.closeDb(db);
    const error = await dir.openError();
    expect(error).toBeInstanceOf(StorageError);
    const { code, dataDir, message } = error as StorageError;
    expect({ code, dataDir }).toEqual({ code: StorageErrorCode.Corrupt, dataDir: dir.path });
    const prefix = `data directory ${dir.path}: `;
    expect(message.startsWith(prefix)).toBe(true);
    expect(message.slice(prefix.length)).toMatch(expected);
    expect((error as StorageError).index).toBe(index);
  });
});
