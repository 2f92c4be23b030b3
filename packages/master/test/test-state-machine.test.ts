// The test state machine keeps its data and applied index together (DESIGN rule 4), survives a
// reopen, snapshots and restores whole, and never moves its applied index back.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { TestStateMachine } from '../src/index.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array | null): string | null => (data === null ? null : new TextDecoder().decode(data));

describe('test state machine', () => {
  let dir: string;
  let db: Level<string, unknown>;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raftplane-sm-'));
    db = new Level<string, unknown>(dir, { valueEncoding: 'view' });
    await db.open();
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('applies in order, keeps empty entries out of the data, and reopens where it was', async () => {
    const sm = await TestStateMachine.open(db);
    expect(await sm.apply([{ index: 1, term: 1, payload: null }, { index: 2, term: 1, payload: bytes('a') }, { index: 3, term: 2, payload: bytes('b') }])).toEqual([
      { index: 1 },
      { index: 2 },
      { index: 3 },
    ]);
    expect(text(await sm.entry(2))).toBe('a');
    expect(await sm.entry(1)).toBeNull();
    const digest = sm.digest;
    await db.close();
    db = new Level<string, unknown>(dir, { valueEncoding: 'view' });
    await db.open();
    const reopened = await TestStateMachine.open(db);
    expect(reopened.state()).toEqual({ appliedIndex: 3, digest });
    expect(text(await reopened.entry(3))).toBe('b');
  });

  test('refuses to apply out of order', async () => {
    const sm = await TestStateMachine.open(db);
    await expect(sm.apply([{ index: 2, term: 1, payload: bytes('x') }])).rejects.toThrow(/applying 2 after 0/);
    expect(sm.appliedIndex).toBe(0);
  });

  test('a snapshot restores the whole state elsewhere, replacing what was there, and never moves back', async () => {
    const source = await TestStateMachine.open(db);
    await source.apply([1, 2, 3, 4].map((index) => ({ index, term: 1, payload: bytes(`e${index}`) })));
    const job = source.beginSnapshot();
    // Applies after the snapshot began do not show in it.
    await source.apply([{ index: 5, term: 1, payload: bytes('after') }]);
    expect(job.index).toBe(4);
    const data = await job.data;
    const otherDir = await mkdtemp(join(tmpdir(), 'raftplane-sm-'));
    const otherDb = new Level<string, unknown>(otherDir, { valueEncoding: 'view' });
    await otherDb.open();
    try {
      const target = await TestStateMachine.open(otherDb);
      await target.apply([{ index: 1, term: 1, payload: bytes('stale') }]);
      const snapshot = { metadata: { index: 4, term: 1, confState: { voters: [1] } }, data };
      await target.restore(snapshot);
      expect(target.appliedIndex).toBe(4);
      expect(await target.entry(5)).toBeNull();
      expect(text(await target.entry(1))).toBe('e1');
      await expect(target.restore(snapshot)).rejects.toThrow(/move applied back/);
    } finally {
      await otherDb.close();
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});
