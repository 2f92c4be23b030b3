// The register model (read, write, cas; null is "absent") and a key's register operations
// prepared for the search.

import type { Operation } from './history.js';
import { byInvocation, leftOut, stringHash, type Model, type PlacementNeed, type PreparedPartition, type SearchOperation } from './linearizability-models.js';
import { valueText } from './operation-text.js';

/** Stands for any value written by an unknown write that no read or compare could match. */
const unseenValue: unique symbol = Symbol('unseen value');
export type RegisterState = string | null | typeof unseenValue;

const registerModel: Model<RegisterState> = {
  name: 'register',
  initial: null,
  hash: (state) => (state === null ? 0x2545f491 : state === unseenValue ? 0x4f1bbcdc : stringHash(state)),
  equal: (a, b) => a === b,
  describe: registerText,
};

function registerText(state: RegisterState): string {
  return state === unseenValue ? 'a value written by an unknown write that nothing read' : valueText(state);
}

const unseenWriteClass = 0;

export function prepareRegister(ops: readonly Operation[]): PreparedPartition<RegisterState> {
  let kept = ops.filter((op) => op.outcome !== 'fail' && !(op.outcome === 'unknown' && op.kind === 'read'));
  const failedCasPresent = kept.some((op) => op.kind === 'cas' && op.outcome === 'ok' && op.output?.succeeded !== true);
  // An unknown write or cas of a value nothing compares against (no read returned it, no cas
  // expects it) is invisible: all such writes act alike, and with no failed cas to please
  // (which wants "anything but X"), not at all, so they are left out. Leaving one out can make
  // another unseen (a cas expected its value): repeat until nothing changes.
  for (;;) {
    const matched = matchedValues(kept);
    const visible = kept.filter((op) => failedCasPresent || !unseenUnknown(op, matched));
    if (visible.length === kept.length) break;
    kept = visible;
  }
  const matched = matchedValues(kept);
  const observations = new ObservationIndex();
  const operations = kept.map((op) => {
    const operation = registerOperation(op, op.kind === 'write' && unseenUnknown(op, matched), observations);
    observations.set(operation, observationOf(op));
    return operation;
  });
  operations.sort(byInvocation);
  const unknowns = new UnknownRegisterIndex(operations, observations);
  return {
    model: registerModel,
    operations,
    droppedIds: leftOut(ops, kept),
    unknownCandidates: (state, answeredPending, classPending) => unknowns.candidates(state, answeredPending, classPending),
  };
}

function matchedValues(ops: readonly Operation[]): Set<string | null> {
  const matched = new Set<string | null>();
  for (const op of ops) {
    if (op.kind === 'read' && op.outcome === 'ok') matched.add(op.output?.value ?? null);
    if (op.kind === 'cas') matched.add(op.input.from ?? null);
  }
  return matched;
}

function unseenUnknown(op: Operation, matched: ReadonlySet<string | null>): boolean {
  if (op.outcome !== 'unknown') return false;
  if (op.kind === 'write') return !matched.has(op.input.value ?? null);
  return op.kind === 'cas' && !matched.has(op.input.to ?? null);
}

/** What an operation needs of the register: to hold a value, or (a cas that failed) not to. */
interface RegisterObservation {
  readonly holds?: RegisterState;
  readonly holdsNot?: RegisterState;
}

function observationOf(op: Operation): RegisterObservation {
  if (op.kind === 'read') return op.outcome === 'ok' ? { holds: op.output?.value ?? null } : {};
  if (op.kind !== 'cas') return {};
  const from = op.input.from ?? null;
  if (op.outcome === 'unknown') return { holds: from };
  const succeeded = op.output?.succeeded;
  return succeeded === true ? { holds: from } : succeeded === false ? { holdsNot: from } : { holds: from, holdsNot: from };
}

/**
 * An unknown write (or cas) of `value` helps only an operation that needs the register to hold
 * `value`, or a failed cas that needs it not to hold what it holds now.
 */
function helpsPending(value: RegisterState, observations: ObservationIndex) {
  return (state: RegisterState, pending: readonly SearchOperation<RegisterState>[]): PlacementNeed => {
    const needs = observations.summary(pending);
    if (needs.holds.includes(value)) return 'its-effect';
    return needs.holdsNot.includes(state) ? 'any-change' : 'none';
  };
}

/**
 * Each operation's observation, and the union over the operations pending, for the list of
 * pending operations last asked about: the search asks about one list many times in a row.
 */
class ObservationIndex {
  private readonly byOperation = new Map<SearchOperation<RegisterState>, RegisterObservation>();
  private lastPending: readonly SearchOperation<RegisterState>[] | null = null;
  private lastSummary: { holds: RegisterState[]; holdsNot: RegisterState[] } = { holds: [], holdsNot: [] };

  set(operation: SearchOperation<RegisterState>, observation: RegisterObservation): void {
    this.byOperation.set(operation, observation);
  }

  summary(pending: readonly SearchOperation<RegisterState>[]): { readonly holds: readonly RegisterState[]; readonly holdsNot: readonly RegisterState[] } {
    if (pending === this.lastPending) return this.lastSummary;
    const summary = { holds: [] as RegisterState[], holdsNot: [] as RegisterState[] };
    for (const operation of pending) {
      const observation = this.byOperation.get(operation);
      if (observation?.holds !== undefined) summary.holds.push(observation.holds);
      if (observation?.holdsNot !== undefined) summary.holdsNot.push(observation.holdsNot);
    }
    this.lastPending = pending;
    this.lastSummary = summary;
    return summary;
  }
}

/**
 * The register's unknown operations by the value they write and (a cas) the value they compare,
 * so that the search tries only those that can help: writers of a value an answered operation
 * needs, or of one a cas writing such a value compares against (and so on); and when a failed
 * cas needs the value to change, a cas that would change it and the unseen writes (one will do).
 */
class UnknownRegisterIndex {
  private readonly writersOf = new Map<RegisterState, number[]>();
  private readonly casFrom = new Map<RegisterState, number[]>();
  private readonly unseenWrites: number[] = [];

  constructor(
    private readonly operations: readonly SearchOperation<RegisterState>[],
    private readonly observations: ObservationIndex,
  ) {
    operations.forEach((operation, index) => {
      if (!operation.unknown) return;
      const { op } = operation;
      if (operation.classId >= 0) this.unseenWrites.push(index);
      else pushTo(this.writersOf, (op.kind === 'cas' ? op.input.to : op.input.value) ?? null, index);
      if (op.kind === 'cas') pushTo(this.casFrom, op.input.from ?? null, index);
    });
  }

  candidates(state: RegisterState, answeredPending: readonly SearchOperation<RegisterState>[], classPending: boolean): readonly number[] | null {
    const needs = this.observations.summary(answeredPending);
    const chosen = new Set<number>();
    const wanted = [...needs.holds];
    const seen = new Set(wanted);
    for (let i = 0; i < wanted.length; i++) {
      for (const index of this.writersOf.get(wanted[i] as RegisterState) ?? []) {
        chosen.add(index);
        const { op } = this.operations[index]!;
        const from = op.input.from ?? null;
        if (op.kind === 'cas' && !seen.has(from)) {
          seen.add(from);
          wanted.push(from);
        }
      }
    }
    if (needs.holdsNot.includes(state)) {
      // Any change will do: a blind write only when no unseen write is pending (see worthPlacing).
      if (!classPending) return null;
      for (const index of this.casFrom.get(state) ?? []) chosen.add(index);
      for (const index of this.unseenWrites) chosen.add(index);
    }
    return [...chosen].sort((a, b) => a - b);
  }
}

function pushTo<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

const alwaysNeeded = (): PlacementNeed => 'its-effect';

function registerOperation(
  op: Operation,
  unseen: boolean,
  observations: ObservationIndex,
): SearchOperation<RegisterState> {
  const unknown = op.outcome === 'unknown';
  const timing = { op, unknown, invokeMs: op.invokeMs, completeMs: unknown ? Infinity : op.completeMs, need: alwaysNeeded, observes: op.kind !== 'write' };
  switch (op.kind) {
    case 'read': {
      const value = op.output?.value ?? null;
      return {
        ...timing,
        blind: false,
        classId: -1,
        step: (state) => (state === value ? state : undefined),
        whyIllegal: (state) => `it read ${valueText(value)}, but the register holds ${registerText(state)}`,
      };
    }
    case 'write': {
      const value: RegisterState = unseen ? unseenValue : (op.input.value ?? null);
      const need = helpsPending(value, observations);
      return { ...timing, blind: true, classId: unseen ? unseenWriteClass : -1, step: () => value, whyIllegal: () => 'a write is always legal', need };
    }
    case 'cas':
      return casOperation(op, { ...timing, need: helpsPending(op.input.to ?? null, observations) });
    case 'append':
    case 'readList':
      throw new Error(`#${op.id}: ${op.kind} is not a register operation`);
  }
}

function casOperation(
  op: Operation,
  timing: Pick<SearchOperation<RegisterState>, 'op' | 'unknown' | 'invokeMs' | 'completeMs' | 'need' | 'observes'>,
): SearchOperation<RegisterState> {
  const from = op.input.from ?? null;
  const to = op.input.to ?? null;
  // Unknown, or answered without saying whether the compare held: the compare decides.
  const succeeded = timing.unknown ? undefined : op.output?.succeeded;
  const base = { ...timing, blind: false, classId: -1 };
  if (succeeded === true) {
    return {
      ...base,
      step: (state) => (state === from ? to : undefined),
      whyIllegal: (state) => `it succeeded, so the register held ${valueText(from)}, but it holds ${registerText(state)}`,
    };
  }
  if (succeeded === false) {
    return {
      ...base,
      step: (state) => (state === from ? undefined : state),
      whyIllegal: (state) => `it failed, but the register holds ${registerText(state)}, the value it compared against`,
    };
  }
  return { ...base, step: (state) => (state === from ? to : state), whyIllegal: () => 'a cas with no recorded result is always legal' };
}
