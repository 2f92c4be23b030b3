// One-line descriptions of history records, shared by the checkers' problems and reports.

import type { Operation, WatchEvent } from './history.js';
import { splitList } from './linearizability-models.js';

/** A value as the reader should see it: quoted, or `absent` for null. */
export function valueText(value: string | null | undefined): string {
  return value === null || value === undefined ? 'absent' : JSON.stringify(value);
}

/** What the operation asked and answered, e.g. `cas "a" → "b" (succeeded)` or `read → "a"`. */
export function actionText(op: Operation): string {
  const answered = op.outcome === 'ok';
  switch (op.kind) {
    case 'read':
      return answered ? `read → ${valueText(op.output?.value)}` : 'read';
    case 'write':
      return `write ${valueText(op.input.value)}`;
    case 'cas': {
      const compare = `cas ${valueText(op.input.from)} → ${valueText(op.input.to)}`;
      if (!answered) return compare;
      const succeeded = op.output?.succeeded;
      return `${compare} (${succeeded === undefined ? 'result not recorded' : succeeded ? 'succeeded' : 'failed'})`;
    }
    case 'append':
      return answered ? `append ${valueText(op.input.value)} → ${listSummary(splitList(op.output?.value))}` : `append ${valueText(op.input.value)}`;
    case 'readList':
      return answered ? `readList → ${listSummary(splitList(op.output?.value))}` : 'readList';
  }
}

const listShownElementsMax = 8;

/** `[a,b,c]`, or for a long list `[120 elements: a,b,c,…,w,x,y,z]`: the .jsonl files hold them whole. */
export function listSummary(elements: readonly string[]): string {
  if (elements.length <= listShownElementsMax) return `[${elements.join(',')}]`;
  return `[${elements.length} elements: ${elements.slice(0, 3).join(',')},…,${elements.slice(-4).join(',')}]`;
}

/** `12.345 ms` with three decimals: performance.now() times differ below the millisecond. */
export function msText(ms: number): string {
  return Number.isFinite(ms) ? `${ms.toFixed(3)} ms` : '∞';
}

/** `#12 p3 "k1" write "v" ok, invoked 1.000 ms, completed 2.500 ms`. */
export function operationText(op: Operation): string {
  const ending = op.outcome === 'unknown' ? 'gave up' : 'completed';
  const error = op.error === undefined ? '' : ` (${op.error})`;
  return `#${op.id} p${op.process} ${JSON.stringify(op.key)} ${actionText(op)} ${op.outcome}${error}, invoked ${msText(op.invokeMs)}, ${ending} ${msText(op.completeMs)}`;
}

/** `PUT "k"="v" (mod 12, create 3, version 4)`. */
export function eventText(event: WatchEvent): string {
  const value = event.type === 'PUT' ? `=${JSON.stringify(event.value)}` : '';
  return `${event.type} ${JSON.stringify(event.key)}${value} (mod ${event.modRevision}, create ${event.createRevision}, version ${event.version})`;
}

/** Keeps a problem list readable: the first `countMax` lines, then how many were left out. */
export function boundedProblems(problems: readonly string[], countMax: number): string[] {
  if (problems.length <= countMax) return [...problems];
  return [...problems.slice(0, countMax), `… and ${problems.length - countMax} more problems`];
}
