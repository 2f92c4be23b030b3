// The append-only list model (append, readList) and a key's list operations prepared for the
// search. States are interned, so equal lists are the same object.

import type { Operation } from './history.js';
import { byInvocation, leftOut, splitList, stringHash, type Model, type PlacementNeed, type PreparedPartition, type SearchOperation } from './linearizability-models.js';
import { listSummary } from './operation-text.js';

export interface ListState {
  readonly parent: ListState | null;
  readonly element: string;
  readonly length: number;
  /** Polynomial hash over the elements (ListTarget computes the same for each of its prefixes). */
  readonly hash: number;
  readonly children: Map<string, ListState>;
}

const emptyListHash = 0x3c6ef372;

function listHashStep(hash: number, element: string): number {
  return (Math.imul(hash, 31) + stringHash(element)) | 0;
}

function emptyList(): ListState {
  return { parent: null, element: '', length: 0, hash: emptyListHash, children: new Map() };
}

function appended(list: ListState, element: string): ListState {
  const known = list.children.get(element);
  if (known !== undefined) return known;
  const child = { parent: list, element, length: list.length + 1, hash: listHashStep(list.hash, element), children: new Map() };
  list.children.set(element, child);
  return child;
}

/** Whether `list` holds exactly elements[0 .. count). */
function listMatches(list: ListState, elements: readonly string[], count: number): boolean {
  if (list.length !== count) return false;
  let node: ListState | null = list;
  for (let i = count - 1; i >= 0; i--) {
    if (node === null || node.element !== elements[i]) return false;
    node = node.parent;
  }
  return true;
}

function listElements(list: ListState): string[] {
  const elements: string[] = [];
  for (let node: ListState | null = list; node !== null && node.parent !== null; node = node.parent) elements.push(node.element);
  return elements.reverse();
}

function listText(list: ListState): string {
  return listSummary(listElements(list));
}

/** Where a list read differs from the model's list, for reports. */
function difference(read: readonly string[], held: readonly string[]): string {
  let same = 0;
  while (same < read.length && same < held.length && read[same] === held[same]) same++;
  if (same < read.length && same < held.length) {
    return `they differ first at element ${same + 1}: ${JSON.stringify(read[same])} read, ${JSON.stringify(held[same])} held`;
  }
  return `the first ${same} elements agree, then ${read.length > held.length ? `it read ${read.length - same} more` : `the list holds ${held.length - same} more`}`;
}

function makeListModel(): Model<ListState> {
  return { name: 'list', initial: emptyList(), hash: (state) => state.hash >>> 0, equal: (a, b) => a === b, describe: listText };
}

/**
 * The list an answered operation needs to find: what a readList read, or what an append read
 * back without its own element. Checked against a state by hash, then once by walking it (the
 * states are interned, so one walk per state).
 */
class ListTarget {
  private readonly prefixHashes: Int32Array;
  private readonly verified = new Set<ListState>();

  /** `reachable` false: an append that did not read back its own element last fits no state. */
  constructor(
    readonly elements: readonly string[],
    readonly reachable = true,
  ) {
    this.prefixHashes = new Int32Array(elements.length + 1);
    let hash = emptyListHash;
    this.prefixHashes[0] = hash;
    elements.forEach((element, i) => {
      hash = listHashStep(hash, element);
      this.prefixHashes[i + 1] = hash;
    });
  }

  /** Whether `state` is the start of the target list. */
  startsWith(state: ListState): boolean {
    if (!this.reachable || state.length > this.elements.length || state.hash !== this.prefixHashes[state.length]) return false;
    if (this.verified.has(state)) return true;
    if (!listMatches(state, this.elements, state.length)) return false;
    this.verified.add(state);
    return true;
  }

  equals(state: ListState): boolean {
    return state.length === this.elements.length && this.startsWith(state);
  }

  /** The element that must come after `state` for the target to be reached, if any. */
  nextAfter(state: ListState): string | undefined {
    return state.length < this.elements.length && this.startsWith(state) ? this.elements[state.length] : undefined;
  }
}

export function prepareList(ops: readonly Operation[]): PreparedPartition<ListState> {
  const kept = ops.filter((op) => op.outcome !== 'fail' && !(op.outcome === 'unknown' && op.kind === 'readList'));
  // An element no answer shows was never appended before an answer, so its unknown append can go.
  // Each answer split once: histories of long lists hold as many elements as operations squared.
  const answers = new Map(kept.filter((op) => op.outcome === 'ok').map((op) => [op, splitList(op.output?.value)]));
  const seen = new Set<string>();
  for (const elements of answers.values()) for (const element of elements) seen.add(element);
  const operations: SearchOperation<ListState>[] = [];
  const droppedIds = leftOut(ops, kept);
  // Each answered operation's target (null: an append answered without its list, which takes any).
  const targets = new Map<SearchOperation<ListState>, ListTarget | null>();
  for (const op of kept) {
    if (op.kind === 'append' && op.outcome === 'unknown' && !seen.has(op.input.value ?? '')) {
      droppedIds.push(op.id);
      continue;
    }
    const target = targetOf(op, answers.get(op) ?? []);
    const operation = listOperation(op, target, targets);
    if (op.outcome === 'ok') targets.set(operation, target);
    operations.push(operation);
  }
  return { model: makeListModel(), operations: operations.sort(byInvocation), droppedIds };
}

function targetOf(op: Operation, answer: readonly string[]): ListTarget | null {
  if (op.outcome !== 'ok') return null;
  if (op.kind === 'readList') return new ListTarget(answer);
  if (op.output?.value === undefined || op.output.value === null) return null;
  return new ListTarget(answer.slice(0, -1), answer[answer.length - 1] === op.input.value);
}

/**
 * An unknown append of e helps only an answered operation that could come next and whose list
 * continues the state with e: the appends before that operation must build its list in order.
 */
function needOf(element: string, targets: ReadonlyMap<SearchOperation<ListState>, ListTarget | null>) {
  return (state: ListState, pending: readonly SearchOperation<ListState>[]): PlacementNeed => {
    for (const other of pending) {
      const target = targets.get(other);
      if (target === null || (target !== undefined && target.nextAfter(state) === element)) return 'its-effect';
    }
    return 'none';
  };
}

function listOperation(op: Operation, target: ListTarget | null, targets: ReadonlyMap<SearchOperation<ListState>, ListTarget | null>): SearchOperation<ListState> {
  const unknown = op.outcome === 'unknown';
  const element = op.input.value ?? '';
  const base = { op, unknown, invokeMs: op.invokeMs, completeMs: unknown ? Infinity : op.completeMs, blind: false, classId: -1, need: needOf(element, targets), observes: !unknown };
  if (op.kind === 'append') {
    if (target === null) return { ...base, step: (state) => appended(state, element), whyIllegal: () => 'an append with no recorded answer is always legal' };
    return {
      ...base,
      step: (state) => (target.equals(state) ? appended(state, element) : undefined),
      whyIllegal: (state) => {
        const answer = listSummary(splitList(op.output?.value));
        if (!target.reachable) return `it read back ${answer}, which does not end with its own element`;
        return `it read back ${answer}, but before it the list holds ${listText(state)}: ${difference(target.elements, listElements(state))}`;
      },
    };
  }
  if (op.kind === 'readList' && target !== null) {
    return {
      ...base,
      step: (state) => (target.equals(state) ? state : undefined),
      whyIllegal: (state) => `it read ${listSummary(target.elements)}, but the list holds ${listText(state)}: ${difference(target.elements, listElements(state))}`,
    };
  }
  throw new Error(`#${op.id}: ${op.kind} (${op.outcome}) is not a list operation the search places`);
}
