// Store fixtures: a real LevelDB per test in a temporary directory, closed and removed afterwards;
// an applier that numbers Raft entries; request builders with etcd's defaults.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import {
  KvStore,
  encodeKvCommand,
  type ClientSession,
  type DeleteRangeRequest,
  type KvOperation,
  type KvResult,
  type KvStoreOptions,
  type PutRequest,
  type RangeRequest,
  type StoreCommand,
} from '../../src/index.js';

export type Db = Level<string, any>;

export const storeLimits = { sessionTtlMs: 60_000, sessionsMax: 1000, txnOpsMax: 128, leaseTtlMaxSeconds: 9_000_000_000 } as const;

export function bytes(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'latin1'));
}

export function text(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
}

export function rangeRequest(key: string, rangeEnd = '', more: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key: bytes(key),
    rangeEnd: bytes(rangeEnd),
    limit: 0,
    revision: 0,
    sortOrder: 'NONE',
    sortTarget: 'KEY',
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
    ...more,
  };
}

/** Every key: etcd's `--from-key ''` (key and range end a zero byte). */
export function allKeys(more: Partial<RangeRequest> = {}): RangeRequest {
  return rangeRequest('\0', '\0', more);
}

export function putRequest(key: string, value: string, more: Partial<PutRequest> = {}): PutRequest {
  return { key: bytes(key), value: bytes(value), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false, ...more };
}

export function deleteRequest(key: string, rangeEnd = '', prevKv = false): DeleteRangeRequest {
  return { key: bytes(key), rangeEnd: bytes(rangeEnd), prevKv };
}

/** A temporary directory holding LevelDBs; everything opened through it is closed by remove(). */
export class StoreDir {
  private readonly dbs: Db[] = [];
  private readonly paths: string[] = [];

  private constructor(readonly path: string) {
    this.paths.push(path);
  }

  static async create(): Promise<StoreDir> {
    return new StoreDir(await mkdtemp(join(tmpdir(), 'raftplane-kv-')));
  }

  /** Opens the directory's LevelDB (or `path`'s), with a top-level encoding of its own as the master's has. */
  async openDb(path = this.path): Promise<Db> {
    const db = new Level<string, any>(path, { valueEncoding: 'view' });
    await db.open();
    this.dbs.push(db);
    return db;
  }

  async closeDb(db: Db): Promise<void> {
    await db.close();
    this.dbs.splice(this.dbs.indexOf(db), 1);
  }

  /** A second directory, removed with this one. */
  async sibling(): Promise<string> {
    const path = await mkdtemp(join(tmpdir(), 'raftplane-kv-'));
    this.paths.push(path);
    return path;
  }

  async openStore(options: Partial<KvStoreOptions> = {}, path = this.path): Promise<{ db: Db; store: KvStore }> {
    const db = options.db ?? (await this.openDb(path));
    return { db, store: await KvStore.open({ ...storeLimits, ...options, db }) };
  }

  /** Closes `db` and opens the store afresh from its directory, as a restarted master would. */
  async reopen(db: Db, options: Partial<Omit<KvStoreOptions, 'db'>> = {}): Promise<{ db: Db; store: KvStore }> {
    const path = db.location;
    await this.closeDb(db);
    return this.openStore(options, path);
  }

  async remove(): Promise<void> {
    for (const db of this.dbs.splice(0)) await db.close();
    for (const path of this.paths) await rm(path, { recursive: true, force: true });
  }
}

/** A write to apply: an operation, with a session and a proposal time when given; null is an empty Raft entry. */
export type Write = KvOperation | { readonly operation: KvOperation; readonly session?: ClientSession; readonly atMs?: number } | null;

/** Feeds a store committed entries with consecutive indexes, as a master does. */
export class Applier {
  constructor(
    public store: KvStore,
    private clockMs = 1_000,
  ) {}

  async apply(writes: readonly Write[]): Promise<(KvResult | null)[]> {
    return this.store.apply(this.commands(writes, this.store.appliedIndex));
  }

  /** Applies in memory (KvStore.applyAhead), numbering after `afterIndex` (batches may still be in flight). */
  async applyAhead(writes: readonly Write[], afterIndex: number, writeAfter?: Promise<unknown>): Promise<{ results: (KvResult | null)[]; written: Promise<void> }> {
    return this.store.applyAhead(this.commands(writes, afterIndex), writeAfter);
  }

  private commands(writes: readonly Write[], afterIndex: number): StoreCommand[] {
    let index = afterIndex;
    return writes.map((write) => {
      index++;
      if (write === null) return { index, term: 1, payload: null };
      const full = 'operation' in write ? write : { operation: write };
      const proposedAtMs = full.atMs ?? this.clockMs;
      this.clockMs = Math.max(this.clockMs, proposedAtMs);
      return { index, term: 1, payload: encodeKvCommand({ operation: full.operation, session: full.session ?? null, proposedAtMs }) };
    });
  }

  /** Applies one write and returns its result. */
  async one(write: Write): Promise<KvResult> {
    const [result] = await this.apply([write]);
    if (result === null || result === undefined) throw new Error('an empty entry has no result');
    return result;
  }
}
