// The small state machine this issue ships to prove the masters: an append-only log of payloads
// with a running digest, stored in LevelDB with its applied index (sublevels `sm`, `sm-meta`).
// Tests read any applied entry back by index and compare digests across masters.

import assert from 'node:assert/strict';
import type { Snapshot } from '@raftplane/raft';
import type { BatchOperation, Level } from 'level';
import { Packr } from 'msgpackr';
import type { Command, SnapshotJob, StateMachine } from './state-machine.js';

/** The master's LevelDB: each sublevel picks its own encodings, hence `any` values at the top. */
export type Db = Level<string, any>;
const entriesSublevel = (db: Db) => db.sublevel<Uint8Array, Uint8Array>('sm', { keyEncoding: 'view', valueEncoding: 'view' });
const metaSublevel = (db: Db) => db.sublevel<string, Uint8Array>('sm-meta', { keyEncoding: 'utf8', valueEncoding: 'view' });
type Op = BatchOperation<Db, Uint8Array | string, Uint8Array>;

const packr = new Packr({ useRecords: false, moreTypes: false });
const APPLIED_KEY = 'applied';

function indexKey(index: number): Uint8Array {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, BigInt(index));
  return key;
}

/** FNV-1a over the previous digest, the index and the payload: equal digests, equal histories. */
function mix(digest: number, index: number, payload: Uint8Array | null): number {
  let h = (digest ^ 0x811c9dc5) >>> 0;
  const step = (byte: number): void => {
    h = Math.imul(h ^ (byte & 0xff), 0x01000193) >>> 0;
  };
  for (let i = 0; i < 6; i++) step(Math.floor(index / 2 ** (8 * i)));
  if (payload !== null) for (let i = 0; i < payload.byteLength; i++) step(payload[i] as number);
  return h;
}

export interface LogState {
  readonly appliedIndex: number;
  readonly digest: number;
}

export class TestStateMachine implements StateMachine {
  appliedIndex = 0;
  digest = 0;

  private constructor(
    private readonly db: Db,
    private readonly entries: ReturnType<typeof entriesSublevel>,
    private readonly meta: ReturnType<typeof metaSublevel>,
  ) {}

  static async open(db: Db): Promise<TestStateMachine> {
    const meta = metaSublevel(db);
    const sm = new TestStateMachine(db, entriesSublevel(db), meta);
    const stored = await meta.get(APPLIED_KEY);
    if (stored !== undefined) {
      const [applied, digest] = packr.unpack(stored) as [number, number];
      sm.appliedIndex = applied;
      sm.digest = digest;
    }
    return sm;
  }

  async apply(commands: readonly Command[]): Promise<unknown[]> {
    const ops: Op[] = [];
    const results: { index: number }[] = [];
    let digest = this.digest;
    let applied = this.appliedIndex;
    for (const command of commands) {
      assert.equal(command.index, applied + 1, `test state machine: applying ${command.index} after ${applied}`);
      applied = command.index;
      digest = mix(digest, command.index, command.payload);
      if (command.payload !== null) ops.push({ type: 'put', sublevel: this.entries, key: indexKey(command.index), value: command.payload });
      results.push({ index: command.index });
    }
    ops.push({ type: 'put', sublevel: this.meta, key: APPLIED_KEY, value: packr.pack([applied, digest]) });
    // Not synced: the commands are durable in the Raft log; a write lost in a machine crash is
    // applied again from there, as data and applied index are lost together.
    await this.db.batch(ops, { sync: false });
    this.appliedIndex = applied;
    this.digest = digest;
    return results;
  }

  beginSnapshot(): SnapshotJob {
    const index = this.appliedIndex;
    const digest = this.digest;
    // An explicit LevelDB snapshot: later applies do not show through while the bytes are built.
    const view = this.db.snapshot();
    const build = async (): Promise<Uint8Array> => {
      try {
        const entries: [number, Uint8Array][] = [];
        for await (const [key, value] of this.entries.iterator({ snapshot: view })) {
          entries.push([Number(new DataView(key.buffer, key.byteOffset, 8).getBigUint64(0)), value]);
        }
        return packr.pack([index, digest, entries]);
      } finally {
        await view.close();
      }
    };
    return { index, data: build() };
  }

  async restore(snapshot: Snapshot): Promise<void> {
    const [applied, digest, entries] = packr.unpack(snapshot.data) as [number, number, [number, Uint8Array][]];
    assert.equal(applied, snapshot.metadata.index, `test state machine: snapshot data at ${applied}, metadata at ${snapshot.metadata.index}`);
    assert.ok(applied > this.appliedIndex, `test state machine: restoring ${applied} would move applied back from ${this.appliedIndex}`);
    // Old data out and new data in, with the applied index, in one batch (rule 4): a crash
    // leaves either the old state or the new one.
    const ops: Op[] = [];
    for await (const key of this.entries.keys()) ops.push({ type: 'del', sublevel: this.entries, key });
    for (const [index, payload] of entries) ops.push({ type: 'put', sublevel: this.entries, key: indexKey(index), value: payload });
    ops.push({ type: 'put', sublevel: this.meta, key: APPLIED_KEY, value: packr.pack([applied, digest]) });
    await this.db.batch(ops, { sync: true });
    this.appliedIndex = applied;
    this.digest = digest;
  }

  /** The payload applied at `index`, or null if that entry was empty or is not applied yet. */
  async entry(index: number): Promise<Uint8Array | null> {
    if (index > this.appliedIndex) return null;
    return (await this.entries.get(indexKey(index))) ?? null;
  }

  state(): LogState {
    return { appliedIndex: this.appliedIndex, digest: this.digest };
  }
}
