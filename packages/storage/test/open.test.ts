// open(): a data directory with no Raft state is bootstrapped with the given voters in one synced
// batch; a directory with state ignores them; every bad option is refused by name.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Level } from 'level';
import { RaftStorage, StorageErrorCode, type RaftStorageOptions } from '../src/index.js';
import { raw, DataDir, recordBatches, threeVoters } from './support/data-dir.js';

let dir: DataDir;
beforeEach(async () => {
  dir = await DataDir.create();
});
afterEach(async () => {
  await dir.remove();
});

describe('open: bootstrap', () => {
  it('gives an empty directory an empty log, a zero hard state and the bootstrap voters, written in one synced batch', async () => {
    const db = await dir.openDb();
    const batches = recordBatches(db);
    const storage = await RaftStorage.open({ db, dataDir: dir.path, bootstrapConfState: { voters: [1, 2, 3, 4, 5] } });
    expect(batches).toEqual([{ operations: 4, sync: true }]);
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(0)]).toEqual([1, 0, 0]);
    expect(storage.initialState()).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, confState: { voters: [1, 2, 3, 4, 5] } });
    expect(storage.snapshot()).toEqual({ metadata: { index: 0, term: 0, confState: { voters: [1, 2, 3, 4, 5] } }, data: new Uint8Array(0) });
    expect(await raw(db).meta.keys().all()).toEqual(['compacted', 'hard-state', 'last-entry', 'snapshot']);
  });

  it('ignores the bootstrap voters once the directory holds Raft state, and writes nothing at open', async () => {
    const first = await dir.openStorage({ voters: [1, 2, 3] });
    await dir.closeDb(first.db);
    const db = await dir.openDb();
    const batches = recordBatches(db);
    const storage = await RaftStorage.open({ db, dataDir: dir.path, bootstrapConfState: { voters: [7] } });
    expect(storage.initialState().confState).toEqual({ voters: [1, 2, 3] });
    expect(batches).toEqual([]);
  });

  it('leaves the master’s own keys and sublevels alone', async () => {
    const db = await dir.openDb();
    await db.put('mine', { x: 1 });
    await db.sublevel('kv').put('k', 'v');
    await RaftStorage.open({ db, dataDir: dir.path, bootstrapConfState: threeVoters });
    const reopened = await dir.reopen(db);
    expect(await reopened.db.get('mine')).toEqual({ x: 1 });
    expect(await reopened.db.sublevel('kv').get('k')).toBe('v');
  });
});

describe('open: options', () => {
  it.each([
    { name: 'dataDir empty', change: { dataDir: '' }, option: 'dataDir' },
    { name: 'db not a database', change: { db: {} }, option: 'db' },
    { name: 'voters empty', change: { bootstrapConfState: { voters: [] } }, option: 'bootstrapConfState' },
    { name: 'voters unsorted', change: { bootstrapConfState: { voters: [2, 1] } }, option: 'bootstrapConfState' },
    { name: 'voter 0', change: { bootstrapConfState: { voters: [0, 1] } }, option: 'bootstrapConfState' },
    { name: 'an unknown option', change: { syncWrites: false }, option: 'syncWrites' },
  ])('refuses $name with STORAGE_INVALID_OPTION naming the option', async ({ change, option }) => {
    const db = await dir.openDb();
    const options = { db, dataDir: dir.path, bootstrapConfState: threeVoters, ...change } as unknown as RaftStorageOptions;
    await expect(RaftStorage.open(options)).rejects.toMatchObject({ code: StorageErrorCode.InvalidOption, option });
    expect(await raw(db).meta.keys().all()).toEqual([]);
  });

  it('refuses a closed database', async () => {
    const db = new Level<string, unknown>(dir.path);
    await db.open();
    await db.close();
    await expect(RaftStorage.open({ db, dataDir: dir.path, bootstrapConfState: threeVoters })).rejects.toMatchObject({
      code: StorageErrorCode.InvalidOption,
      option: 'db',
      message: `data directory ${dir.path}: option db: is closed; open it before the storage`,
    });
  });
});
