// The crash test of issue 3: a child process appends and acknowledges in a loop and is SIGKILLed
// at random (seeded) moments; after every kill the directory must open (the log is intact) and
// hold every acknowledged entry with its term and data, or a snapshot covering it; then the child
// starts again and goes on from where the log ends.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seededRandom } from '@raftplane/raft';
import { DataDir, JOURNALED } from './support/data-dir.js';
import { CRASH_VOTERS, entryData, snapshotData } from './fixtures/crash-data.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Replays a failure: RAFTPLANE_CRASH_SEED=<seed printed in the failure> npx vitest run packages/storage/test/crash.test.ts */
const SEED = Number(process.env['RAFTPLANE_CRASH_SEED'] ?? 20_251_126);
const KILLS = 50;
const KILL_DELAY_MS_MIN = 5;
const KILL_DELAY_MS_MAX = 60;

let dir: DataDir;
let child: ChildProcess | null = null;
beforeEach(async () => {
  dir = await DataDir.create();
});
afterEach(async () => {
  if (child !== null && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child?.once('close', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  child = null;
  await dir.remove();
});

interface Acknowledged {
  readonly term: number;
  readonly data: Uint8Array;
}

interface Run {
  readonly lines: string[];
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Starts the child, SIGKILLs it `delayMs` after it reports ready, and resolves once it is gone with every complete line it printed. */
function runChild(seed: number, delayMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, dir.path, String(seed)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | null = null;
    started.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (timer === null && stdout.includes('\n')) timer = setTimeout(() => started.kill('SIGKILL'), delayMs);
    });
    started.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    started.once('error', reject);
    started.once('close', (_code, signal) => {
      if (timer !== null) clearTimeout(timer);
      // A line cut off by the kill was never acknowledged in full: only complete lines count.
      resolve({ lines: stdout.slice(0, stdout.lastIndexOf('\n') + 1).split('\n').filter((line) => line !== ''), signal, stderr });
    });
  });
}

/** With a journal (JOURNALED): records that reopening copied into LevelDB, written by a child killed before its own copy. */
let journalRecordsCopied = 0;

/** Re-opens the directory and lists every way it fails what the child acknowledged. */
async function problemsAfterCrash(acked: ReadonlyMap<number, Acknowledged>, snapshotAcked: number): Promise<string[]> {
  const { db, storage } = await dir.openStorage(CRASH_VOTERS);
  journalRecordsCopied += storage.journalRecovery?.recordsCopied ?? 0;
  const problems: string[] = [];
  const snapshot = storage.snapshot();
  const first = storage.firstIndex();
  let committedMax = 0;
  for (const [index, { term, data }] of acked) {
    committedMax = Math.max(committedMax, index);
    if (index < first) {
      if (snapshot.metadata.index < index) problems.push(`entry ${index}: compacted, but the snapshot is only at ${snapshot.metadata.index}`);
      continue;
    }
    if (index > storage.lastIndex()) {
      problems.push(`entry ${index}: lost (last index ${storage.lastIndex()})`);
      continue;
    }
    const stored = storage.entries(index, index + 1, Infinity)[0];
    if (stored?.term !== term) problems.push(`entry ${index}: term ${stored?.term}, acknowledged ${term}`);
    else if (Buffer.compare(stored.data, data) !== 0) problems.push(`entry ${index}: data differs`);
  }
  const { index, term } = snapshot.metadata;
  if (index < snapshotAcked) problems.push(`snapshot at ${index}, but one at ${snapshotAcked} was acknowledged`);
  if (index > 0 && Buffer.compare(snapshot.data, snapshotData(index)) !== 0) problems.push(`snapshot at ${index}: data differs`);
  if (acked.has(index) && acked.get(index)?.term !== term) problems.push(`snapshot at ${index}: term ${term}, entry acknowledged at ${acked.get(index)?.term}`);
  if (storage.initialState().hardState.commit < committedMax) problems.push(`commit ${storage.initialState().hardState.commit} < acknowledged ${committedMax}`);
  // As a master stops: the storage first (with a journal, its background work ends), then LevelDB.
  await dir.closeStorage(db);
  await dir.closeDb(db);
  return problems;
}

describe('crash: SIGKILL at random moments loses nothing acknowledged', () => {
  it(`survives ${KILLS} kills (seed ${SEED})`, async () => {
    const startedMs = performance.now();
    const random = seededRandom(SEED);
    const acked = new Map<number, Acknowledged>();
    let snapshotAcked = 0;
    let snapshotsAcked = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const delayMs = KILL_DELAY_MS_MIN + random.int(KILL_DELAY_MS_MAX - KILL_DELAY_MS_MIN + 1);
      const run = await runChild(SEED * 1000 + kill, delayMs);
      expect({ kill, signal: run.signal, stderr: run.stderr }).toEqual({ kill, signal: 'SIGKILL', stderr: '' });
      for (const line of run.lines) {
        const [kind, indexText, termText] = line.split(' ');
        const index = Number(indexText);
        const term = Number(termText);
        if (kind === 'ack') {
          expect(acked.has(index), `kill ${kill}: entry ${index} acknowledged twice`).toBe(false);
          acked.set(index, { term, data: entryData(index, term) });
        } else if (kind === 'snap') {
          snapshotAcked = Math.max(snapshotAcked, index);
          snapshotsAcked++;
        } else {
          expect(kind, `kill ${kill}: unexpected line '${line}'`).toBe('ready');
        }
      }
      expect(await problemsAfterCrash(acked, snapshotAcked), `after kill ${kill} (seed ${SEED})`).toEqual([]);
    }
    const elapsedMs = Math.round(performance.now() - startedMs);
    console.log(`crash test: ${KILLS} kills, ${acked.size} entries and ${snapshotsAcked} snapshots acknowledged, ${journalRecordsCopied} journal records recovered, ${elapsedMs} ms (seed ${SEED})`);
    expect(acked.size).toBeGreaterThan(KILLS * 10);
    expect(snapshotsAcked).toBeGreaterThan(0);
    // With a journal, kills must have left records only the journal held: the recovery was exercised.
    if (JOURNALED) expect(journalRecordsCopied).toBeGreaterThan(KILLS);
    else expect(journalRecordsCopied).toBe(0);
  });
});
