// Holds the final state to the acknowledged writes: nothing acknowledged is lost, nothing is
// applied twice, and nothing is there that no operation wrote.

import type { FinalState, Operation, Verdict } from './history.js';
import { listKinds, registerKinds, splitList } from './linearizability-models.js';
import { byKey } from './linearizability-partition.js';
import { boundedProblems, msText, operationText, valueText } from './operation-text.js';

const problemsMax = 200;

export function checkLostWrites(ops: readonly Operation[], final: FinalState): Verdict {
  const keys = byKey(ops);
  const problems: string[] = [];
  let acknowledgedCount = 0;
  for (const [key, keyOps] of keys) {
    if (keyOps.some((op) => listKinds.has(op.kind))) {
      acknowledgedCount += keyOps.filter((op) => op.kind === 'append' && op.outcome === 'ok').length;
      problems.push(...listProblems(key, keyOps, final.values.get(key)));
    } else if (keyOps.some((op) => registerKinds.has(op.kind))) {
      acknowledgedCount += keyOps.filter(acknowledgedWrite).length;
      problems.push(...registerProblems(key, keyOps, final.values.get(key) ?? null));
    }
  }
  const summary =
    `${acknowledgedCount} acknowledged writes, cas and appends on ${keys.size} keys held to the final state at revision ${final.revision}: ` +
    (problems.length === 0 ? 'none lost, none applied twice, nothing unwritten' : `${problems.length} problems`);
  return { checker: 'lost-writes', ok: problems.length === 0, summary, problems: boundedProblems(problems, problemsMax) };
}

/** A write or a cas that succeeded, acknowledged: it took effect. */
function acknowledgedWrite(op: Operation): boolean {
  return op.outcome === 'ok' && (op.kind === 'write' || (op.kind === 'cas' && op.output?.succeeded === true));
}

/** A write or cas that may have set the key: acknowledged, or unknown (or a cas whose result was not recorded). */
function mayHaveWritten(op: Operation): boolean {
  if (op.outcome === 'fail') return false;
  if (op.kind === 'write') return true;
  return op.kind === 'cas' && (op.outcome === 'unknown' || op.output?.succeeded !== false);
}

function writtenValue(op: Operation): string | null {
  return (op.kind === 'cas' ? op.input.to : op.input.value) ?? null;
}

/** When it was known to have taken effect; never, for an unknown outcome (it may land later). */
function effectKnownByMs(op: Operation): number {
  return op.outcome === 'ok' ? op.completeMs : Infinity;
}

function registerProblems(key: string, ops: readonly Operation[], finalValue: string | null): string[] {
  const problems: string[] = [];
  const sources = finalValue === null ? [] : ops.filter((op) => mayHaveWritten(op) && writtenValue(op) === finalValue);
  if (finalValue !== null && sources.length === 0) {
    const failed = ops.filter((op) => op.outcome === 'fail' && (op.kind === 'write' || op.kind === 'cas') && writtenValue(op) === finalValue);
    const by = failed.length === 0 ? 'no operation wrote it' : `only operations that failed wrote it: ${failed.map((op) => `#${op.id}`).join(', ')}`;
    problems.push(`key ${JSON.stringify(key)} ends as ${valueText(finalValue)}, but ${by}`);
  }
  for (const acked of ops.filter(acknowledgedWrite)) {
    if (writtenValue(acked) === finalValue) continue;
    // The final value must come from a write that could have landed after this one.
    const later = sources.filter((source) => source !== acked && !(effectKnownByMs(source) < acked.invokeMs));
    if (later.length > 0) continue;
    const earlier = sources.length === 0 ? '' : `; its writers (${sources.map((op) => `#${op.id}`).join(', ')}) all completed before #${acked.id} was invoked`;
    problems.push(
      `lost write: operation ${operationText(acked)} was acknowledged at ${msText(acked.completeMs)}, but key ${JSON.stringify(key)} ends as ${valueText(finalValue)}${earlier}`,
    );
  }
  return problems;
}

function listProblems(key: string, ops: readonly Operation[], finalJoined: string | undefined): string[] {
  const problems: string[] = [];
  const finalList = splitList(finalJoined);
  const counts = new Map<string, number>();
  for (const element of finalList) counts.set(element, (counts.get(element) ?? 0) + 1);
  const appendsOf = new Map<string, Operation[]>();
  for (const op of ops) {
    if (op.kind !== 'append') continue;
    const element = op.input.value ?? '';
    appendsOf.set(element, [...(appendsOf.get(element) ?? []), op]);
  }
  for (const op of ops) {
    if (op.kind !== 'append' || op.outcome !== 'ok' || counts.has(op.input.value ?? '')) continue;
    problems.push(`lost append: operation ${operationText(op)} was acknowledged, but ${valueText(op.input.value)} is not in the final list of key ${JSON.stringify(key)} (${finalList.length} elements)`);
  }
  for (const [element, count] of counts) {
    const appends = appendsOf.get(element) ?? [];
    const ids = appends.map((op) => `#${op.id}`).join(', ');
    const mayHaveApplied = appends.filter((op) => op.outcome !== 'fail');
    if (count > 1 && count > mayHaveApplied.length) {
      const by = mayHaveApplied.length === 0 ? 'no operation' : `${mayHaveApplied.length === 1 ? 'one operation' : `${mayHaveApplied.length} operations`} (${mayHaveApplied.map((op) => `#${op.id}`).join(', ')})`;
      problems.push(`duplicate apply: ${valueText(element)} appears ${count} times in the final list of key ${JSON.stringify(key)}, appended by ${by}`);
    }
    if (mayHaveApplied.length > 0) continue;
    const by = appends.length === 0 ? 'no operation appended it' : `only operations that failed appended it: ${ids}`;
    problems.push(`key ${JSON.stringify(key)}'s final list holds ${valueText(element)}, but ${by}`);
  }
  return problems;
}
