// Checks that each key's operations are linearizable (as Porcupine does: one search per key), and
// for a key that is not, finds a small failing sub-history and explains it.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Operation, Verdict } from './history.js';
import type { ModelName } from './linearizability-models.js';
import { byKey, modelOf, preparePartition } from './linearizability-partition.js';
import { explainDeadEnd, failureReport, outcomeCounts, shortExplanation, type FailureExplanation } from './linearizability-report.js';
import { searchLinearization } from './linearizability-search.js';
import { shrinkFailure } from './linearizability-shrink.js';
import { boundedProblems } from './operation-text.js';

export type { BlockedOperation, FailureExplanation, PrefixStep } from './linearizability-report.js';
export type { ModelName } from './linearizability-models.js';

export interface LinearizabilityOptions {
  /** Search budget per key; past it the key is 'unknown'. Default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** Budget for shrinking and explaining each failing key. Default 5 s. */
  readonly shrinkTimeoutMs?: number | undefined;
  /** Bound on configurations a search remembers; past it the key is 'unknown'. Default 2,000,000. */
  readonly cacheEntriesMax?: number | undefined;
}

export interface PartitionResult {
  readonly key: string;
  /** null when the key mixes register and list operations (then the result is 'unknown'). */
  readonly model: ModelName | null;
  readonly operationsCount: number;
  readonly result: 'linearizable' | 'not-linearizable' | 'unknown';
  /** Why the result is 'unknown'. */
  readonly reason?: string;
  readonly searchMs: number;
  readonly configurationsCount: number;
}

export interface PartitionFailure {
  readonly key: string;
  readonly model: ModelName;
  /** Operations of the key in the history. */
  readonly operationsCount: number;
  /** The smallest failing sub-history found, as recorded, by invocation. Not linearizable itself. */
  readonly subHistory: readonly Operation[];
  /** False when shrinking ran out of time (the sub-history fails, but may not be minimal). */
  readonly shrinkComplete: boolean;
  /** The sub-history's dead end. */
  readonly explanation: FailureExplanation;
  /** The whole key's dead end: names the operations in the history as it was. */
  readonly wholeExplanation: FailureExplanation;
  /** Everything above as text, for people. */
  readonly report: string;
}

export interface LinearizabilityResult {
  readonly verdict: Verdict;
  /** One per key that is not linearizable, smallest sub-history first. */
  readonly failures: readonly PartitionFailure[];
  readonly partitions: readonly PartitionResult[];
}

const defaults = { timeoutMs: 10_000, shrinkTimeoutMs: 5_000, cacheEntriesMax: 2_000_000 };
const problemsMax = 200;
/** Operation ids listed in a problem line; the report lists them all. */
const problemIdsMax = 20;

export function checkLinearizable(ops: readonly Operation[], options: LinearizabilityOptions = {}): LinearizabilityResult {
  const timeoutMs = positive('timeoutMs', options.timeoutMs ?? defaults.timeoutMs);
  const shrinkTimeoutMs = positive('shrinkTimeoutMs', options.shrinkTimeoutMs ?? defaults.shrinkTimeoutMs);
  const cacheEntriesMax = positive('cacheEntriesMax', options.cacheEntriesMax ?? defaults.cacheEntriesMax);
  const startedMs = performance.now();
  const partitions: PartitionResult[] = [];
  const failures: PartitionFailure[] = [];
  for (const [key, keyOps] of byKey(ops)) {
    const model = modelOf(keyOps);
    if (typeof model !== 'string') {
      partitions.push({ key, model: null, operationsCount: keyOps.length, result: 'unknown', reason: model.mixed, searchMs: 0, configurationsCount: 0 });
      continue;
    }
    const searchStartedMs = performance.now();
    const prepared = preparePartition(keyOps, model);
    const result = searchLinearization(prepared, { deadlineMs: searchStartedMs + timeoutMs, cacheEntriesMax });
    const base = { key, model, operationsCount: keyOps.length, searchMs: performance.now() - searchStartedMs, configurationsCount: result.configurationsCount };
    if (result.kind === 'gave-up') {
      partitions.push({ ...base, result: 'unknown', reason: `the search ${result.reason} after ${Math.round(base.searchMs)} ms` });
      continue;
    }
    partitions.push({ ...base, result: result.kind });
    if (result.kind === 'not-linearizable') {
      const wholeExplanation = explainDeadEnd(prepared, result.deadEnd);
      failures.push(describeFailure(key, model, keyOps, wholeExplanation, result.furthestReturnMs, { shrinkTimeoutMs, cacheEntriesMax }));
    }
  }
  failures.sort((a, b) => a.subHistory.length - b.subHistory.length);
  return { verdict: verdictOf(ops, partitions, failures, performance.now() - startedMs), failures, partitions };
}

function positive(name: keyof LinearizabilityOptions, value: number): number {
  if (!(value > 0)) throw new RangeError(`checkLinearizable: ${name} must be a positive number, got ${value}`);
  return value;
}

/** Writes the sub-history (JSON lines) and the report beside it; returns both paths. */
export async function writeFailure(dir: string, failure: PartitionFailure): Promise<{ historyPath: string; reportPath: string }> {
  await mkdir(dir, { recursive: true });
  const name = `linearizability-${failure.key.replace(/[^A-Za-z0-9._-]+/g, '_')}`;
  const historyPath = join(dir, `${name}.jsonl`);
  const reportPath = join(dir, `${name}.txt`);
  await writeFile(historyPath, failure.subHistory.map((op) => `${JSON.stringify(op)}\n`).join(''));
  await writeFile(reportPath, failure.report);
  return { historyPath, reportPath };
}

function describeFailure(
  key: string,
  model: ModelName,
  keyOps: readonly Operation[],
  wholeExplanation: FailureExplanation,
  furthestReturnMs: number,
  limits: { shrinkTimeoutMs: number; cacheEntriesMax: number },
): PartitionFailure {
  const startedMs = performance.now();
  const searchLimits = { deadlineMs: startedMs + limits.shrinkTimeoutMs, cacheEntriesMax: limits.cacheEntriesMax };
  const shrunk = shrinkFailure(keyOps, model, furthestReturnMs, searchLimits);
  // Explain the sub-history as recorded (what the .jsonl holds), with a fresh budget: it is small.
  const prepared = preparePartition(shrunk.operations, model);
  const result = searchLinearization(prepared, { deadlineMs: performance.now() + limits.shrinkTimeoutMs, cacheEntriesMax: limits.cacheEntriesMax });
  const shrinkMs = performance.now() - startedMs;
  const explained = result.kind === 'not-linearizable';
  const subHistory = explained ? shrunk.operations : keyOps;
  const explanation = explained ? explainDeadEnd(prepared, result.deadEnd) : wholeExplanation;
  const shrinkComplete = explained && shrunk.complete;
  const report = failureReport({ key, model, partition: keyOps, subHistory, shrinkComplete, shrinkMs, explanation, wholeExplanation });
  return { key, model, operationsCount: keyOps.length, subHistory, shrinkComplete, explanation, wholeExplanation, report };
}

function verdictOf(ops: readonly Operation[], partitions: readonly PartitionResult[], failures: readonly PartitionFailure[], elapsedMs: number): Verdict {
  const unknown = partitions.filter((p) => p.result === 'unknown');
  const linearizable = partitions.filter((p) => p.result === 'linearizable').length;
  const problems = [
    ...failures.map(failureProblem),
    ...unknown.map((p) => `key ${JSON.stringify(p.key)} (${p.model ?? 'no model'}, ${p.operationsCount} operations): unknown: ${p.reason ?? ''}`),
  ];
  const failed = failures.length === 0 ? '' : ` (${failures.map((f) => JSON.stringify(f.key)).join(', ')})`;
  const summary =
    `${ops.length} operations (${outcomeCounts(ops)}) on ${partitions.length} keys: ${linearizable} linearizable, ` +
    `${failures.length} not linearizable${failed}, ${unknown.length} unknown; ${(elapsedMs / 1000).toFixed(1)} s`;
  return { checker: 'linearizability', ok: failures.length === 0 && unknown.length === 0, summary, problems: boundedProblems(problems, problemsMax) };
}

function failureProblem(failure: PartitionFailure): string {
  const shownIds = failure.subHistory.slice(0, problemIdsMax).map((op) => `#${op.id}`);
  const more = failure.subHistory.length > problemIdsMax ? ` and ${failure.subHistory.length - problemIdsMax} more` : '';
  return `key ${JSON.stringify(failure.key)} (${failure.model}): not linearizable: ${shortExplanation(failure.explanation)}; smallest failing sub-history: operations ${shownIds.join(', ')}${more}`;
}
