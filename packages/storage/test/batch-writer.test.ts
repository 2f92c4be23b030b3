// writeBatch skips abstract-level's public batch(); what it writes must be exactly what batch()
// would have written: the same prefixed keys in each sublevel, in one atomic batch, synced on ask.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeBatch } from '../src/index.js';
import { recordBatches } from './support/data-dir.js';

let dir: string;
let db: Level<string, Uint8Array>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-batch-writer-'));
  db = new Level(dir, { valueEncoding: 'view' });
  await db.open();
});

afterEach(async () => {
  if (db.status === 'open') await db.close();
  await rm(dir, { recursive: true, force: true });
});

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined): string | undefined => (value === undefined ? undefined : new TextDecoder().decode(value));

describe('writeBatch', () => {
  it('puts and deletes keys of view and utf8 sublevels exactly where their own reads find them', async () => {
    const binary = db.sublevel<Uint8Array, Uint8Array>('bin', { keyEncoding: 'view', valueEncoding: 'view' });
    const named = db.sublevel<string, Uint8Array>('named', { keyEncoding: 'utf8', valueEncoding: 'view' });
    await binary.put(new Uint8Array([9]), bytes('old'));
    await named.put('gone', bytes('old'));
    await writeBatch(
      db,
      [
        { type: 'put', sublevel: binary, key: new Uint8Array([0, 1, 0xff]), value: bytes('b1') },
        { type: 'del', sublevel: binary, key: new Uint8Array([9]) },
        { type: 'put', sublevel: named, key: 'état', value: bytes('n1') },
        { type: 'del', sublevel: named, key: 'gone' },
      ],
      false,
    );
    expect(text(await binary.get(new Uint8Array([0, 1, 0xff])))).toBe('b1');
    expect(await binary.get(new Uint8Array([9]))).toBeUndefined();
    expect(text(await named.get('état'))).toBe('n1');
    expect(await named.get('gone')).toBeUndefined();
    // Nothing leaked outside the sublevels, and each holds only its own key.
    expect((await binary.keys().all()).map((key) => [...key])).toEqual([[0, 1, 0xff]]);
    expect(await named.keys().all()).toEqual(['état']);
    expect((await db.keys().all()).length).toBe(2);
  });

  it('hands the sync option to LevelDB as one batch of all the operations', async () => {
    const log = db.sublevel<Uint8Array, Uint8Array>('log', { keyEncoding: 'view', valueEncoding: 'view' });
    const calls = recordBatches(db as never);
    await writeBatch(db, [{ type: 'put', sublevel: log, key: new Uint8Array([1]), value: bytes('x') }, { type: 'put', sublevel: log, key: new Uint8Array([2]), value: bytes('y') }], true);
    await writeBatch(db, [{ type: 'del', sublevel: log, key: new Uint8Array([1]) }], false);
    expect(calls).toEqual([
      { operations: 2, sync: true },
      { operations: 1, sync: false },
    ]);
  });

  it('refuses a closed database, naming its status, and writes nothing', async () => {
    const log = db.sublevel<Uint8Array, Uint8Array>('log', { keyEncoding: 'view', valueEncoding: 'view' });
    await db.close();
    await expect(writeBatch(db, [{ type: 'put', sublevel: log, key: new Uint8Array([1]), value: bytes('x') }], true)).rejects.toThrow(/database is closed, not open/);
    await db.open();
    expect(await db.keys().all()).toEqual([]);
  });
});
