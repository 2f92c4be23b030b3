// Benchmark: the MVCC store alone on a real LevelDB (no Raft, no HTTP): applies of one put each
// (a quiet leader's sequential writes) and of 64 puts each (a busy one's batches), 256-byte
// values over 10,000 keys; ranges of one key now (memory) and at a past revision (disk); history
// pages. Usage: npx tsx packages/kv/bench/store.ts [-- --seconds 2]
// Prints a table and, as its last line, one JSON object with the figures.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Level } from 'level';
import { KvStore, encodeKvCommand, type RangeRequest } from '../src/index.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' } } });
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--seconds must be a positive number, got ${String(values.seconds)}`);

const KEYS = 10_000;
const VALUE_BYTES = 256;
const encoder = new TextEncoder();
const keyOf = (i: number) => encoder.encode(`/registry/pods/default/pod-${i % KEYS}`);
const value = new Uint8Array(VALUE_BYTES).fill(120);

function range(key: Uint8Array, revision: number): RangeRequest {
  return { key, rangeEnd: new Uint8Array(0), limit: 0, revision, sortOrder: 'NONE', sortTarget: 'KEY', serializable: true, keysOnly: false, countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0 };
}

/** Runs `step` for `seconds`, returning operations per second (each step does `opsPerStep`). */
async function measure(opsPerStep: number, step: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let steps = 0;
  while (performance.now() - started < seconds * 1000) await step(steps++);
  return (steps * opsPerStep) / ((performance.now() - started) / 1000);
}

const dir = await mkdtemp(join(tmpdir(), 'raftplane-kv-bench-'));
const db = new Level<string, any>(dir, { valueEncoding: 'view' });
await db.open();
try {
  const store = await KvStore.open({ db, sessionTtlMs: 600_000, sessionsMax: 10_000, txnOpsMax: 128, leaseTtlMaxSeconds: 9_000_000_000 });
  let index = 0;
  let sequence = 0;
  const command = (i: number) => ({
    index: ++index,
    term: 1,
    payload: encodeKvCommand({ operation: { put: { key: keyOf(i), value, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } }, session: { clientId: `client-${i % 64}`, sequence: ++sequence }, proposedAtMs: Date.now() }),
  });
  for (let i = 0; i < KEYS; i += 500) await store.apply(Array.from({ length: 500 }, (_, j) => command(i + j)));
  const past = store.currentRevision() - KEYS / 2;
  const figures = {
    putsPerSecondOnePerApply: await measure(1, (i) => store.apply([command(i)])),
    putsPerSecondSixtyFourPerApply: await measure(64, (i) => store.apply(Array.from({ length: 64 }, (_, j) => command(i * 64 + j)))),
    rangesPerSecondNow: await measure(1, (i) => store.range(range(keyOf(i * 7919), 0))),
    rangesPerSecondPast: await measure(1, (i) => store.range(range(keyOf(i * 7919), past))),
    historyRevisionsPerSecond: await measure(100, (i) => store.history(past + ((i * 100) % 5_000), store.currentRevision(), 100)),
  };
  for (const [name, figure] of Object.entries(figures)) console.log(`${name.padEnd(34)} ${Math.round(figure).toLocaleString('en-US').padStart(12)}`);
  console.log(JSON.stringify({ seconds, keys: KEYS, valueBytes: VALUE_BYTES, ...Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v)])) }));
} finally {
  await db.close();
  await rm(dir, { recursive: true, force: true });
}
