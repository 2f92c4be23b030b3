// Short chaos runs, part of npm test: three 20-second runs with different seeds and every fault
// kind must pass every checker; a run with a planted bug (followers serving stale reads) must fail
// and name the operations. The long run is `npm run chaos -- --duration 10m`.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAULT_KINDS } from './nemesis.js';
import { chaosDefaults, formatReport, runChaos, type ChaosReport } from './run.js';

const SECONDS = Number(process.env.RAFTPLANE_CHAOS_TEST_SECONDS ?? 20);
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function run(seed: number, more: Partial<Parameters<typeof runChaos>[0]> = {}): Promise<ChaosReport> {
  const runDir = await mkdtemp(join(tmpdir(), `raftplane-chaos-${seed}-`));
  dirs.push(runDir);
  const report = await runChaos({ ...chaosDefaults(seed), runDir, durationMs: SECONDS * 1_000, faults: FAULT_KINDS, ...more });
  console.log(formatReport(report));
  return report;
}

describe('chaos: kill, pause, partition and restart masters under load', () => {
  for (const seed of [11, 22, 33]) {
    it(`seed ${seed}: every checker passes, and the run did real work through real faults`, { timeout: 240_000 }, async () => {
      const report = await run(seed);
      expect(report.verdicts.map((v) => `${v.checker}: ${v.ok ? 'ok' : v.problems.slice(0, 5).join('; ')}`)).toEqual(report.verdicts.map((v) => `${v.checker}: ok`));
      expect(report.ok).toBe(true);
      const injected = Object.values(report.faults).reduce((a, b) => a + b, 0);
      expect(injected).toBeGreaterThanOrEqual(2);
      const ok = Object.values(report.operations).reduce((a, c) => a + c.ok, 0);
      expect(ok).toBeGreaterThan(200);
      expect(report.operations['append']?.ok ?? 0).toBeGreaterThan(0);
      expect(report.operations['cas']?.ok ?? 0).toBeGreaterThan(0);
      // The history is on disk, one JSON record per line, with the faults in it.
      const lines = (await readFile(join(report.runDir, 'history.jsonl'), 'utf8')).trim().split('\n');
      expect(lines.filter((l) => l.includes('"type":"fault"')).length).toBe(2 * injected);
    });
  }

  it('fails a run with a planted bug (followers serve stale reads) and names the operations', { timeout: 240_000 }, async () => {
    const report = await run(44, { plantStaleReads: true, faults: ['partition', 'pause'] });
    expect(report.ok).toBe(false);
    const linear = report.verdicts.find((v) => v.checker === 'linearizability');
    expect(linear?.ok).toBe(false);
    expect(linear?.problems.join('\n')).toMatch(/op(eration)?s? #?\d+/i);
    expect(report.failureFiles.length).toBeGreaterThan(0);
    const explanation = await readFile(report.failureFiles[0] as string, 'utf8');
    expect(explanation).toMatch(/read/);
  });
});
