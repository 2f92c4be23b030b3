// Puts a failed search into words: the longest linearizable prefix, the state it leaves, and why
// each operation that could come next cannot.

import type { Operation } from './history.js';
import type { ModelName, PreparedPartition } from './linearizability-models.js';
import type { DeadEnd } from './linearizability-search.js';
import { actionText, msText, operationText } from './operation-text.js';

export interface PrefixStep {
  readonly op: Operation;
  /** The model state once it took effect. */
  readonly stateAfter: string;
}

export interface BlockedOperation {
  readonly op: Operation;
  /** Why it cannot come next, in the first of the dead end's states. */
  readonly reason: string;
}

export interface FailureExplanation {
  /** The longest linearizable prefix found, in order (unknown outcomes placed where they took effect). */
  readonly prefix: readonly PrefixStep[];
  /** The states the prefix's completed operations can leave (the first one explains `blocked`). */
  readonly states: readonly string[];
  /** The operation whose return the search could not get past. */
  readonly blocking: Operation;
  /** Answered operations invoked before `blocking` returned and not in the prefix, with why none can come next. */
  readonly blocked: readonly BlockedOperation[];
  /** Operations with an unknown outcome also pending: always legal, none led anywhere. */
  readonly pendingUnknown: readonly Operation[];
}

export function explainDeadEnd<State>(partition: PreparedPartition<State>, deadEnd: DeadEnd<State>): FailureExplanation {
  const { model, operations } = partition;
  const prefix: PrefixStep[] = [];
  let state = model.initial;
  for (const index of deadEnd.order) {
    const operation = operations[index]!;
    const next = operation.step(state);
    if (next === undefined) throw new Error(`#${operation.op.id} in the linearizable prefix does not replay`);
    state = next;
    prefix.push({ op: operation.op, stateAfter: model.describe(state) });
  }
  const first = deadEnd.states[0] ?? state;
  const blocked: BlockedOperation[] = [];
  const pendingUnknown: Operation[] = [];
  for (const index of deadEnd.pendingIndices) {
    const operation = operations[index]!;
    if (operation.unknown) {
      pendingUnknown.push(operation.op);
      continue;
    }
    const next = operation.step(first);
    const reason =
      next === undefined
        ? operation.whyIllegal(first)
        : `it could come next (leaving ${model.describe(next)}), but then the rest cannot be ordered`;
    blocked.push({ op: operation.op, reason });
  }
  // Illegal ones first: they are the ones the reader wants.
  blocked.sort((a, b) => Number(a.reason.startsWith('it could come next')) - Number(b.reason.startsWith('it could come next')));
  return { prefix, states: deadEnd.states.map((s) => model.describe(s)), blocking: operations[deadEnd.blockingIndex]!.op, blocked, pendingUnknown };
}

export interface FailureReportInput {
  readonly key: string;
  readonly model: ModelName;
  readonly partition: readonly Operation[];
  readonly subHistory: readonly Operation[];
  readonly shrinkComplete: boolean;
  readonly shrinkMs: number;
  readonly explanation: FailureExplanation;
  /** The dead end of the search over the key's whole history, in the same terms. */
  readonly wholeExplanation: FailureExplanation;
}

/** Lines of a report's lists (the .jsonl file holds every operation). */
const subHistoryLinesMax = 100;
const prefixLinesMax = 40;

/** The text a person reads first when a run fails. */
export function failureReport(input: FailureReportInput): string {
  const { explanation, wholeExplanation } = input;
  const counts = outcomeCounts(input.partition);
  const lines = [
    `Key ${JSON.stringify(input.key)} (${input.model} model) is not linearizable: ${shortExplanation(explanation)}.`,
    '',
    `The key has ${input.partition.length} operations (${counts}). The smallest failing sub-history found has ${input.subHistory.length} ` +
      `(shrinking ${input.shrinkComplete ? 'finished' : 'ran out of time'} after ${Math.round(input.shrinkMs)} ms): no order of its operations`,
    'both respects real time and is legal for the model. Shrinking made only changes that cannot turn a linearizable history',
    "into a non-linearizable one (cutting the history at a time, after which answers count as lost; dropping reads and failed",
    "cas operations; counting answers as lost; leaving out unknown writes nothing could have seen), so the whole key fails too.",
    '',
    'Sub-history (the same operations, as recorded, are in the .jsonl file):',
    ...input.subHistory.slice(0, subHistoryLinesMax).map((op) => `  ${operationText(op)}`),
    ...(input.subHistory.length > subHistoryLinesMax ? [`  … ${input.subHistory.length - subHistoryLinesMax} more`] : []),
    '',
    ...deadEndLines(explanation, prefixLinesMax),
    '',
    'In the whole history of the key, the search got furthest like this:',
    ...deadEndLines(wholeExplanation, prefixLinesMax).map((line) => `  ${line}`),
  ];
  return `${lines.join('\n')}\n`;
}

function deadEndLines(explanation: FailureExplanation, linesMax: number): string[] {
  const { prefix, blocking } = explanation;
  const lines = [`Longest linearizable prefix found (${prefix.length} operations):`];
  const shown = prefix.length > linesMax ? prefix.slice(-linesMax) : prefix;
  if (shown.length < prefix.length) lines.push(`  … ${prefix.length - shown.length} earlier operations`);
  if (prefix.length === 0) lines.push('  (none: not even the first operation can be placed)');
  shown.forEach((step, i) => lines.push(`  ${prefix.length - shown.length + i + 1}. ${operationText(step.op)} ⇒ ${step.stateAfter}`));
  lines.push(`State after it: ${explanation.states[0] ?? '?'}`);
  if (explanation.states.length > 1) lines.push(`  (the same operations can also leave: ${explanation.states.slice(1).join('; ')})`);
  lines.push(`Nothing can come next; every operation below had to take effect before #${blocking.id} returned at ${msText(blocking.completeMs)}:`);
  for (const { op, reason } of explanation.blocked) lines.push(`  ${operationText(op)}: ${reason}`);
  if (explanation.pendingUnknown.length > 0) {
    const ids = explanation.pendingUnknown.map((op) => `#${op.id}`).join(', ');
    lines.push(`  also pending with an unknown outcome (each may take effect here or never; none helps): ${ids}`);
  }
  return lines;
}

/** One sentence: the state after the longest prefix, and the first operation that cannot follow it. */
export function shortExplanation(explanation: FailureExplanation): string {
  const state = explanation.states[0] ?? '?';
  const culprit = explanation.blocked[0];
  const after = `after the longest linearizable prefix (${explanation.prefix.length} operations, leaving ${state})`;
  if (culprit === undefined) return `${after}, nothing can be placed before #${explanation.blocking.id} returns`;
  return `${after}, operation #${culprit.op.id} (p${culprit.op.process} ${actionText(culprit.op)}, ${culprit.op.outcome}) cannot follow: ${culprit.reason}`;
}

export function outcomeCounts(ops: readonly Operation[]): string {
  const count = (outcome: Operation['outcome']): number => ops.filter((op) => op.outcome === outcome).length;
  return `${count('ok')} ok, ${count('fail')} fail, ${count('unknown')} unknown`;
}
