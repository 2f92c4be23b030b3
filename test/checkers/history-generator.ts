// Generates histories that are linearizable by construction, for the checkers' tests and benchmark:
// clients run operations on real registers and lists, each taking effect at a random instant
// inside its interval (an unknown one maybe later than the client gave up, or never).

import type { FinalState, Operation } from './history.js';

export interface GeneratedKey {
  readonly key: string;
  readonly model: 'register' | 'list';
}

export interface GeneratorOptions {
  readonly seed: number;
  readonly processesCount: number;
  readonly operationsCount: number;
  readonly keys: readonly GeneratedKey[];
  /** Probability an operation's answer is lost (outcome 'unknown'). */
  readonly unknownProbability: number;
  /** Probability an operation is refused before it could apply (outcome 'fail'). */
  readonly failProbability: number;
  /** Longest operation, in ms (the shortest is 0.05 ms). Default 5. */
  readonly durationMsMax?: number;
  /** How long after the client gives up an unknown operation may still take effect, in ms. Default 50. */
  readonly lateEffectMsMax?: number;
  /** Probability an operation is slow (as under a fault: waiting for a leader), up to slowDurationMsMax. Default 0. */
  readonly slowProbability?: number;
  /** Default 2000. */
  readonly slowDurationMsMax?: number;
}

export interface GeneratedHistory {
  /** By invocation. */
  readonly ops: Operation[];
  readonly final: FinalState;
}

/** mulberry32: small, seeded, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Planned {
  op: Operation;
  /** When it takes effect; null when it never does. */
  effectMs: number | null;
}

export function generateHistory(options: GeneratorOptions): GeneratedHistory {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const durationMsMax = options.durationMsMax ?? 5;
  const lateEffectMsMax = options.lateEffectMsMax ?? 50;
  const clocksMs = Array.from({ length: options.processesCount }, () => random());
  const recentValues = new Map<string, string[]>();
  const planned: Planned[] = [];
  for (let id = 1; id <= options.operationsCount; id++) {
    const process = clocksMs.indexOf(Math.min(...clocksMs));
    const invokeMs = clocksMs[process]! + random() * 0.5;
    const slow = random() < (options.slowProbability ?? 0);
    const completeMs = invokeMs + 0.05 + random() * (slow ? (options.slowDurationMsMax ?? 2000) : durationMsMax);
    clocksMs[process] = completeMs;
    const { key, model } = pick(options.keys);
    const roll = random();
    const outcome: Operation['outcome'] = roll < options.failProbability ? 'fail' : roll < options.failProbability + options.unknownProbability ? 'unknown' : 'ok';
    const recent = recentValues.get(key) ?? [];
    const kind = model === 'list' ? (random() < 0.5 ? 'append' : 'readList') : pick(['read', 'read', 'write', 'write', 'cas'] as const);
    const value = `${model === 'list' ? 'e' : 'v'}${id}`;
    const input = kind === 'write' || kind === 'append' ? { value } : kind === 'cas' ? { from: recent.length === 0 || random() < 0.1 ? null : pick(recent), to: value } : {};
    if (kind === 'write' || kind === 'cas') recentValues.set(key, [...recent.slice(-3), value]);
    const op: Operation = { type: 'op', id, process, key, kind, input, invokeMs, completeMs, outcome };
    const effectMs =
      outcome === 'ok' ? invokeMs + random() * (completeMs - invokeMs) : outcome === 'unknown' && random() < 0.5 ? invokeMs + random() * (completeMs - invokeMs + lateEffectMsMax) : null;
    planned.push({ op, effectMs });
  }
  return applyInOrder(planned, options.keys);
}

/** Runs the operations on real registers and lists in order of effect, filling in the answers. */
function applyInOrder(planned: readonly Planned[], keys: readonly GeneratedKey[]): GeneratedHistory {
  const registers = new Map<string, string | null>();
  const lists = new Map<string, string[]>();
  const answered = new Map<number, Operation>();
  const effective = planned.filter((p): p is Planned & { effectMs: number } => p.effectMs !== null).sort((a, b) => a.effectMs - b.effectMs);
  for (const { op } of effective) {
    const register = registers.get(op.key) ?? null;
    const list = lists.get(op.key) ?? [];
    let output: Operation['output'];
    switch (op.kind) {
      case 'read':
        output = { value: register };
        break;
      case 'write':
        registers.set(op.key, op.input.value ?? null);
        output = {};
        break;
      case 'cas': {
        const succeeded = register === (op.input.from ?? null);
        if (succeeded) registers.set(op.key, op.input.to ?? null);
        output = { succeeded };
        break;
      }
      case 'append':
        lists.set(op.key, [...list, op.input.value ?? '']);
        output = { value: [...list, op.input.value ?? ''].join(',') };
        break;
      case 'readList':
        output = { value: list.join(',') };
        break;
    }
    if (op.outcome === 'ok') answered.set(op.id, { ...op, output });
  }
  const ops = planned.map(({ op }) => answered.get(op.id) ?? op);
  const values = new Map<string, string>();
  for (const { key, model } of keys) {
    const value = model === 'list' ? (lists.get(key) ?? []).join(',') : registers.get(key);
    if (value !== undefined && value !== null && value !== '') values.set(key, value);
  }
  return { ops: ops.sort((a, b) => a.invokeMs - b.invokeMs || a.id - b.id), final: { values, revision: 0, events: null } };
}

/**
 * Makes one answered read return a value overwritten before it was invoked: a write W1 of that
 * value completed, then another write W2 was invoked and completed, then the read was invoked.
 * With every written value unique, no order explains it. Returns the read's id, or null.
 */
export function injectStaleRead(ops: Operation[], fromFraction = 0.6): number | null {
  const start = Math.floor(ops.length * fromFraction);
  for (let r = start; r < ops.length; r++) {
    const read = ops[r]!;
    if (read.kind !== 'read' || read.outcome !== 'ok') continue;
    const writes = ops.filter((op) => op.key === read.key && op.kind === 'write' && op.outcome === 'ok' && op.completeMs < read.invokeMs);
    for (const newer of writes) {
      const older = writes.find((op) => op.completeMs < newer.invokeMs && op.input.value !== read.output?.value);
      if (older === undefined) continue;
      ops[r] = { ...read, output: { value: older.input.value ?? null } };
      return read.id;
    }
  }
  return null;
}
