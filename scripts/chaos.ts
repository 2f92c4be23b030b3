// npm run chaos -- [--config cluster-configs/local-3.json] [--duration 60s] [--faults kill,pause,partition,restart]
//                  [--clients 8] [--seed 42] [--overlap] [--plant-stale-reads] [--run-dir DIR]
// A fresh cluster under a workload and seeded faults, then heal, settle and check. Exit status 0
// only when every checker passes. See test/chaos/run.ts.

import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind } from '../test/chaos/nemesis.js';
import { chaosDefaults, checkRun, formatReport, loadRun, parseDuration, runChaos, type ChaosReport } from '../test/chaos/run.js';

const usage = `usage: npm run chaos -- [options]

  --config <file>       cluster config to copy (masters, settings); default cluster-configs/local-3.json.
                        The run uses fresh ports and its own data, so a running cluster is not disturbed.
  --duration <time>     how long faults are injected: 500ms, 20s, 10m (default 60s)
  --faults <list>       any of ${FAULT_KINDS.join(',')} (default all); "none" for a fault-free run
  --clients <n>         client workers (default 8)
  --seed <n>            seeds the workload and the fault schedule (default: from the clock, printed)
  --overlap             let a second fault start while one is held (on other masters)
  --register-keys <n>   keys of the register workload (default 8)
  --run-dir <dir>       where history.jsonl, report.json and the masters' logs go
                        (default .cluster/chaos/<time>-seed<seed>)
  --plant-stale-reads   TESTING: followers serve linearizable reads without ReadIndex; the run must FAIL
  --check <run-dir>     check a finished run's history.jsonl and final-state.json again (no cluster)`;

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      duration: { type: 'string' },
      faults: { type: 'string' },
      clients: { type: 'string' },
      seed: { type: 'string' },
      overlap: { type: 'boolean', default: false },
      'register-keys': { type: 'string' },
      'run-dir': { type: 'string' },
      'plant-stale-reads': { type: 'boolean', default: false },
      check: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (values.check !== undefined) return recheck(values.check);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 0)) throw new Error(`--seed must be a non-negative integer, got ${JSON.stringify(values.seed)}`);
  const defaults = chaosDefaults(seed);
  let faults: FaultKind[] = [...defaults.faults];
  if (values.faults !== undefined) {
    const given = values.faults.split(',').map((f) => f.trim()).filter((f) => f !== '');
    const unknown = given.filter((f) => f !== 'none' && !(FAULT_KINDS as readonly string[]).includes(f));
    if (unknown.length > 0) throw new Error(`--faults: unknown fault ${unknown.map((f) => JSON.stringify(f)).join(', ')} (known: ${FAULT_KINDS.join(', ')}, none)`);
    faults = given.filter((f): f is FaultKind => f !== 'none');
  }
  const absolute = (p: string): string => (isAbsolute(p) ? p : resolve(process.cwd(), p));
  const report = await runChaos({
    ...defaults,
    config: values.config === undefined ? defaults.config : absolute(values.config),
    durationMs: values.duration === undefined ? defaults.durationMs : parseDuration(values.duration),
    faults,
    clients: positiveInt('clients', values.clients, defaults.clients),
    registerKeys: positiveInt('register-keys', values['register-keys'], defaults.registerKeys),
    overlap: values.overlap,
    plantStaleReads: values['plant-stale-reads'],
    runDir: values['run-dir'] === undefined ? defaults.runDir : absolute(values['run-dir']),
    log: (line) => console.log(line),
  });
  console.log('');
  console.log(formatReport(report));
  console.log(JSON.stringify({ chaos: report.ok ? 'pass' : 'fail', seed: report.seed, durationMs: report.durationMs, faults: report.faults, operations: report.operations, longestWriteGapMs: report.longestWriteGapMs, leaderChanges: report.leaderChanges, verdicts: report.verdicts.map((v) => ({ checker: v.checker, ok: v.ok, problems: v.problems.length })) }));
  return report.ok ? 0 : 1;
}

/** Checks a finished run again: the same checkers over its saved history and final state. */
async function recheck(dir: string): Promise<number> {
  const runDir = resolve(process.cwd(), dir);
  const { records, final } = await loadRun(runDir);
  const checked = await checkRun(records, final, runDir, chaosDefaults().checkTimeoutMs);
  const saved = JSON.parse(await readFile(join(runDir, 'report.json'), 'utf8').catch(() => 'null')) as ChaosReport | null;
  const report: ChaosReport = {
    ...(saved ?? { seed: 0, runDir, durationMs: 0, faults: {}, operations: {}, longestWriteGapMs: 0, longestWriteGapAtMs: 0, leaderChanges: 0, finalRevision: final.revision, watchers: [] }),
    ok: checked.verdicts.every((v) => v.ok),
    verdicts: checked.verdicts,
    failureFiles: checked.failureFiles,
  };
  console.log(formatReport(report));
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`chaos: ${(error as Error).message}`);
    process.exit(2);
  },
);
