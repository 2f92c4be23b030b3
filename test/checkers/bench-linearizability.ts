// Times the linearizability checker on generated histories, clean and with one planted stale read:
// npm run bench:checkers -- [operations] [keys] [unknown fraction] [seeds]

import { generateHistory, injectStaleRead, type GeneratedKey } from './history-generator.js';
import { checkLinearizable, type LinearizabilityResult } from './linearizability.js';

const operationsCount = Number(process.argv[2] ?? 10_000);
const keysCount = Number(process.argv[3] ?? 16);
const unknownProbability = Number(process.argv[4] ?? 0.03);
const seedsCount = Number(process.argv[5] ?? 3);
// One key in four is a list, as the chaos workload mixes them.
const keys: GeneratedKey[] = Array.from({ length: keysCount }, (_, i) => ({ key: `k${i}`, model: i % 4 === 3 ? 'list' : 'register' }));

function timed(run: () => LinearizabilityResult): { result: LinearizabilityResult; elapsedMs: number } {
  const startedMs = performance.now();
  const result = run();
  return { result, elapsedMs: performance.now() - startedMs };
}

interface Row {
  readonly seed: number;
  readonly history: 'clean' | 'stale read';
  readonly verdict: 'ok' | 'FAIL';
  readonly totalMs: number;
  readonly slowestKeyMs: number;
  readonly configurations: number;
  /** Operations in the smallest failing sub-history, and whether it names the planted read. */
  readonly subHistory: number | null;
  readonly namesPlanted: boolean | null;
}

function row(seed: number, history: Row['history'], { result, elapsedMs }: { result: LinearizabilityResult; elapsedMs: number }, planted?: number): Row {
  const slowest = [...result.partitions].sort((a, b) => b.searchMs - a.searchMs)[0];
  const failure = result.failures[0];
  return {
    seed,
    history,
    verdict: result.verdict.ok ? 'ok' : 'FAIL',
    totalMs: Math.round(elapsedMs),
    slowestKeyMs: Math.round(slowest?.searchMs ?? 0),
    configurations: slowest?.configurationsCount ?? 0,
    subHistory: failure?.subHistory.length ?? null,
    namesPlanted: failure === undefined ? null : failure.subHistory.some((op) => op.id === planted),
  };
}

const rows: Row[] = [];
for (let seed = 1; seed <= seedsCount; seed++) {
  const { ops } = generateHistory({ seed, processesCount: 8, operationsCount, keys, unknownProbability, failProbability: 0.02 });
  rows.push(row(seed, 'clean', timed(() => checkLinearizable(ops))));
  const planted = injectStaleRead(ops); // rewrites one read in place
  rows.push(row(seed, 'stale read', timed(() => checkLinearizable(ops)), planted ?? undefined));
}
console.log(`linearizability checker: ${operationsCount} operations, 8 clients, ${keysCount} keys (1 in 4 a list), ${(unknownProbability * 100).toFixed(0)}% unknown, 2% fail`);
const header = ['seed', 'history', 'verdict', 'total ms', 'slowest key ms', 'configurations', 'failing sub-history', 'names planted read'];
const cells = rows.map((r) => [String(r.seed), r.history, r.verdict, String(r.totalMs), String(r.slowestKeyMs), String(r.configurations), r.subHistory === null ? '-' : `${r.subHistory} ops`, r.namesPlanted === null ? '-' : r.namesPlanted ? 'yes' : 'no']);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
console.log(header.map((h, i) => h.padEnd(widths[i] as number)).join('  '));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const c of cells) console.log(c.map((v, i) => v.padEnd(widths[i] as number)).join('  '));
console.log(JSON.stringify({ bench: 'linearizability-checker', operations: operationsCount, keys: keysCount, unknownFraction: unknownProbability, rows }));
