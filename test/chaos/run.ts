// One chaos run, as a library (scripts/chaos.ts is its command line; the process tests call it
// too): a fresh cluster whose peer links all go through a FaultProxy, the workloads, the nemesis
// until the duration is up, then heal, settle, read the final state and check.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PLANT_STALE_READS_ENV, type MasterStatus } from '@raftplane/master';
import { seededRandom } from '@raftplane/raft';
import { agreedLeader, repoRoot } from '../../scripts/lib/cluster-control.js';
import type { FinalState, Operation, Verdict, WatchEvent, WatchRecord } from '../checkers/history.js';
import { checkLinearizable, writeFailure } from '../checkers/linearizability.js';
import { checkLostWrites } from '../checkers/lost-writes.js';
import { checkWatches } from '../checkers/watch.js';
import { KvOps } from './kv-ops.js';
import { FAULT_KINDS, Nemesis, type FaultKind } from './nemesis.js';
import { ProxiedCluster } from './proxied-cluster.js';
import { Recorder, type RunRecord } from './recorder.js';
import { CHAOS_PREFIX, CHAOS_RANGE_END, ChaosWatcher, ClientWorkload } from './workloads.js';

export interface ChaosOptions {
  /** The cluster config whose masters and settings the run copies (on fresh ports and data). */
  readonly config: string;
  readonly durationMs: number;
  readonly faults: readonly FaultKind[];
  readonly clients: number;
  readonly seed: number;
  /** The run's folder: history, report, masters' logs (and their data, kept only on failure). */
  readonly runDir: string;
  /** Several faults at once (on different masters). */
  readonly overlap: boolean;
  /** TESTING: followers serve stale linearizable reads; the checkers must fail the run. */
  readonly plantStaleReads: boolean;
  readonly registerKeys: number;
  /** A client request not answered within this is abandoned as unknown. */
  readonly requestTimeoutMs: number;
  /** Per key partition: the linearizability search gives up (verdict unknown) after this. */
  readonly checkTimeoutMs: number;
  /** Progress lines, as the run goes. */
  readonly log: (line: string) => void;
}

export function chaosDefaults(seed = Date.now() % 2 ** 31): ChaosOptions {
  return {
    config: join(repoRoot, 'cluster-configs', 'local-3.json'),
    durationMs: 60_000,
    faults: FAULT_KINDS,
    clients: 8,
    seed,
    runDir: join(repoRoot, '.cluster', 'chaos', `${new Date().toISOString().replace(/[:.]/g, '-')}-seed${seed}`),
    overlap: false,
    plantStaleReads: false,
    registerKeys: 8,
    requestTimeoutMs: 3_000,
    checkTimeoutMs: 30_000,
    log: () => undefined,
  };
}

export interface OperationCounts {
  readonly ok: number;
  readonly fail: number;
  readonly unknown: number;
}

export interface ChaosReport {
  readonly ok: boolean;
  readonly seed: number;
  readonly runDir: string;
  readonly durationMs: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly operations: Readonly<Record<string, OperationCounts>>;
  /** The longest time with no write (write, cas, append) acknowledged, and when it started. */
  readonly longestWriteGapMs: number;
  readonly longestWriteGapAtMs: number;
  readonly leaderChanges: number;
  readonly finalRevision: number;
  readonly watchers: readonly { readonly name: string; readonly resumes: number; readonly lastRevision: number }[];
  readonly verdicts: readonly Verdict[];
  /** Files with the smallest failing partitions, when linearizability failed. */
  readonly failureFiles: readonly string[];
}

function countOperations(ops: readonly Operation[]): Record<string, OperationCounts> {
  const out: Record<string, { ok: number; fail: number; unknown: number }> = {};
  for (const op of ops) {
    const c = (out[op.kind] ??= { ok: 0, fail: 0, unknown: 0 });
    c[op.outcome]++;
  }
  return out;
}

/** The longest stretch (ms) without an acknowledged write, from the start to the end of the fault phase. */
function longestWriteGap(ops: readonly Operation[], startMs: number, endMs: number): { gapMs: number; atMs: number } {
  const acks = ops
    .filter((op) => op.outcome === 'ok' && (op.kind === 'write' || op.kind === 'append' || (op.kind === 'cas' && op.output?.succeeded === true)))
    .map((op) => op.completeMs)
    .sort((a, b) => a - b);
  let previous = startMs;
  let best = { gapMs: 0, atMs: startMs };
  for (const at of [...acks.filter((t) => t >= startMs && t <= endMs), endMs]) {
    if (at - previous > best.gapMs) best = { gapMs: at - previous, atMs: previous };
    previous = at;
  }
  return best;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log;
  await mkdir(options.runDir, { recursive: true });
  // One generator each, from the seed: the fault schedule does not depend on how many operations
  // the clients happened to draw before it (it still depends on which master leads).
  const faultRandom = seededRandom(options.seed);
  const workloadRandom = seededRandom(options.seed + 1_000_003);
  const proxyRandom = seededRandom(options.seed + 2_000_006);
  const cluster = await ProxiedCluster.create({
    config: options.config,
    runDir: options.runDir,
    env: options.plantStaleReads ? { [PLANT_STALE_READS_ENV]: '1' } : {},
    random: () => proxyRandom.int(1 << 30) / (1 << 30),
    // The watch checker holds watchers to the whole history: nothing of the run is compacted.
    historyAgeMsMin: options.durationMs + 10 * 60_000,
  });
  const { control, proxy, ids, endpoints } = cluster;
  const recorder = new Recorder(join(options.runDir, 'history.jsonl'));
  const ops = new KvOps(endpoints, options.requestTimeoutMs);
  let leader = 0;
  let leaderChanges = 0;
  let polling = true;
  const watchers: ChaosWatcher[] = [];
  let passed = false;
  try {
    log(`chaos: seed ${options.seed}, ${ids.length} masters, ${options.clients} clients, faults ${options.faults.join(',')}${options.overlap ? ' (overlapping)' : ''}, ${Math.round(options.durationMs / 1000)} s; run folder ${options.runDir}`);
    if (options.plantStaleReads) log(`chaos: PLANTED BUG on (${PLANT_STALE_READS_ENV}=1): followers serve stale reads; the checkers must fail this run`);
    leader = agreedLeader(await control.client.statusAll());
    log(`chaos: master ${leader} leads; starting the workloads and the nemesis`);
    const poller = (async () => {
      let lastTerm = 0;
      while (polling) {
        const all = await control.client.statusAll();
        const leaders = [...all.values()].filter((s): s is MasterStatus => s !== null && s.role === 'leader').sort((a, b) => b.term - a.term);
        const current = leaders[0];
        if (current !== undefined && (current.id !== leader || current.term !== lastTerm)) {
          if (lastTerm !== 0) leaderChanges++;
          leader = current.id;
          lastTerm = current.term;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    const watchEndpoints = ids.map((id) => ({ id, url: endpoints.get(id) as string }));
    ids.forEach((id, i) => {
      const watcher = new ChaosWatcher(`watcher-m${id}`, watchEndpoints, i, 1, recorder, 4_000);
      watchers.push(watcher);
      watcher.start();
    });
    const workload = new ClientWorkload(ops, recorder, workloadRandom, { masters: ids, registerKeys: options.registerKeys, appendsPerList: 150, listShare: 0.3 });
    workload.start(options.clients);
    const nemesis = new Nemesis(control, proxy, faultRandom, recorder, { kinds: options.faults, quietMs: [1_000, 3_000], holdMs: [1_500, 5_000], overlap: options.overlap }, () => leader);
    if (options.faults.length > 0) nemesis.start();
    const started = recorder.now();
    let nextProgress = 10_000;
    while (recorder.now() - started < options.durationMs) {
      await new Promise((r) => setTimeout(r, 500));
      const elapsed = recorder.now() - started;
      if (elapsed >= nextProgress) {
        nextProgress += 10_000;
        const done = recorder.records.filter((r) => r.type === 'op').length;
        log(`chaos: ${Math.round(elapsed / 1000)} s, ${done} operations, faults ${[...nemesis.counts].map(([k, v]) => `${k} ${v}`).join(', ') || 'none yet'}, leader ${leader}`);
      }
    }
    const faultPhaseEnd = recorder.now();
    await nemesis.stop();
    await workload.stop();
    log('chaos: healing every fault and waiting for the cluster to settle');
    await cluster.healAndSettle(60_000);
    polling = false;
    await poller;
    const final = await cluster.finalState(CHAOS_PREFIX, CHAOS_RANGE_END);
    log(`chaos: final revision ${final.revision}; waiting for every watcher to reach it`);
    const caughtUp = await Promise.all(watchers.map((w) => w.stopAt(final.revision, 20_000)));

    await writeFile(join(options.runDir, 'final-state.json'), `${JSON.stringify({ revision: final.revision, values: Object.fromEntries(final.values), events: final.events })}\n`);
    const operations = recorder.records.filter((r): r is Operation => r.type === 'op');
    log(`chaos: checking ${operations.length} operations and the watchers' events`);
    const checked = await checkRun(recorder.records, final, options.runDir, options.checkTimeoutMs);
    const stuck = watchers.filter((_, i) => !caughtUp[i]).map((w) => `${w.name} stopped at revision ${w.lastSeenRevision}, never reached ${final.revision}`);
    const verdicts = checked.verdicts.map((v) => (v.checker !== 'watch' || stuck.length === 0 ? v : { ...v, ok: false, problems: [...v.problems, ...stuck], summary: `${v.summary}; ${stuck.length} watcher(s) never caught up` }));
    const failureFiles = checked.failureFiles;
    const gap = longestWriteGap(operations, started, faultPhaseEnd);
    const report: ChaosReport = {
      ok: verdicts.every((v) => v.ok),
      seed: options.seed,
      runDir: options.runDir,
      durationMs: Math.round(faultPhaseEnd - started),
      faults: Object.fromEntries(nemesis.counts),
      operations: countOperations(operations),
      longestWriteGapMs: Math.round(gap.gapMs),
      longestWriteGapAtMs: Math.round(gap.atMs),
      leaderChanges,
      finalRevision: final.revision,
      watchers: watchers.map((w) => ({ name: w.name, resumes: w.resumes, lastRevision: w.lastSeenRevision })),
      verdicts,
      failureFiles,
    };
    await writeFile(join(options.runDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    passed = report.ok;
    return report;
  } finally {
    polling = false;
    for (const w of watchers) await w.stopAt(0, 0);
    await ops.close();
    await cluster.close();
    await recorder.close();
    // The data is big and only interesting when something failed; logs and history stay.
    if (passed) await rm(join(options.runDir, 'data'), { recursive: true, force: true });
  }
}

/**
 * Runs every checker over a run's records and final state; writes each key that is not
 * linearizable (its smallest failing sub-history and the explanation) into `runDir`.
 */
export async function checkRun(records: readonly RunRecord[], final: FinalState, runDir: string, checkTimeoutMs: number): Promise<{ verdicts: Verdict[]; failureFiles: string[] }> {
  const operations = records.filter((r): r is Operation => r.type === 'op');
  const watchRecords = records.filter((r): r is WatchRecord => r.type.startsWith('watch-'));
  const linear = checkLinearizable(operations, { timeoutMs: checkTimeoutMs });
  const failureFiles: string[] = [];
  for (const failure of linear.failures) failureFiles.push((await writeFailure(runDir, failure)).reportPath);
  return { verdicts: [linear.verdict, checkLostWrites(operations, final), checkWatches(watchRecords, final)], failureFiles };
}

/** Reads back a run folder's history.jsonl and final-state.json (to check a run again). */
export async function loadRun(runDir: string): Promise<{ records: RunRecord[]; final: FinalState }> {
  const lines = (await readFile(join(runDir, 'history.jsonl'), 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const records = lines.map((line, i) => {
    try {
      return JSON.parse(line) as RunRecord;
    } catch {
      throw new Error(`${join(runDir, 'history.jsonl')} line ${i + 1} is not JSON`);
    }
  });
  const saved = JSON.parse(await readFile(join(runDir, 'final-state.json'), 'utf8')) as { revision: number; values: Record<string, string>; events: WatchEvent[] | null };
  return { records, final: { revision: saved.revision, values: new Map(Object.entries(saved.values)), events: saved.events } };
}

/** The report as a table, for people; the JSON is report.json. */
export function formatReport(report: ChaosReport): string {
  const lines: string[] = [];
  lines.push(`chaos report — seed ${report.seed}, ${Math.round(report.durationMs / 1000)} s of faults, run folder ${report.runDir}`);
  lines.push('');
  const faults = Object.entries(report.faults);
  lines.push(`faults injected: ${faults.length === 0 ? 'none' : faults.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(`leader changes: ${report.leaderChanges}`);
  lines.push(`longest window with no acknowledged write: ${(report.longestWriteGapMs / 1000).toFixed(2)} s (from ${(report.longestWriteGapAtMs / 1000).toFixed(1)} s into the run)`);
  lines.push(`final revision: ${report.finalRevision}`);
  lines.push('');
  lines.push(`${'operation'.padEnd(10)} ${'ok'.padStart(8)} ${'failed'.padStart(8)} ${'unknown'.padStart(8)}`);
  for (const [kind, c] of Object.entries(report.operations)) lines.push(`${kind.padEnd(10)} ${String(c.ok).padStart(8)} ${String(c.fail).padStart(8)} ${String(c.unknown).padStart(8)}`);
  lines.push('');
  lines.push(`watchers: ${report.watchers.map((w) => `${w.name} (${w.resumes} resumes, up to ${w.lastRevision})`).join(', ')}`);
  lines.push('');
  for (const v of report.verdicts) {
    lines.push(`${v.ok ? 'PASS' : 'FAIL'}  ${v.checker}: ${v.summary}`);
    for (const p of v.problems.slice(0, 20)) lines.push(`        ${p}`);
    if (v.problems.length > 20) lines.push(`        … ${v.problems.length - 20} more in report.json`);
  }
  for (const f of report.failureFiles) lines.push(`smallest failing partition: ${f}`);
  lines.push('');
  lines.push(report.ok ? 'verdict: PASS — every checker passed' : 'verdict: FAIL');
  return lines.join('\n');
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new Error(`--duration: expected a number with a unit (500ms, 20s, 10m, 1h), got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1_000 : unit === 'm' ? 60_000 : 3_600_000));
}
