// The lost-writes checker: every acknowledged write is in the final state or was overwritten by a
// write that may have come after it; list elements are there once each, and only if appended.

import { describe, expect, it } from 'vitest';
import type { FinalState, Operation } from './history.js';
import { generateHistory } from './history-generator.js';
import { checkLostWrites } from './lost-writes.js';

let nextProcess = 0;

function op(id: number, key: string, kind: Operation['kind'], input: Operation['input'], output: Operation['output'], invokeMs: number, completeMs: number, outcome: Operation['outcome'] = 'ok'): Operation {
  return { type: 'op', id, process: nextProcess++, key, kind, input, ...(outcome === 'ok' ? { output } : {}), invokeMs, completeMs, outcome };
}

const write = (id: number, value: string, invokeMs: number, completeMs: number, outcome: Operation['outcome'] = 'ok'): Operation => op(id, 'x', 'write', { value }, {}, invokeMs, completeMs, outcome);
const cas = (id: number, from: string, to: string, succeeded: boolean, invokeMs: number, completeMs: number): Operation => op(id, 'x', 'cas', { from, to }, { succeeded }, invokeMs, completeMs);
const append = (id: number, value: string, invokeMs: number, completeMs: number, outcome: Operation['outcome'] = 'ok'): Operation => op(id, 'l', 'append', { value }, { value }, invokeMs, completeMs, outcome);

function finalState(values: Record<string, string>): FinalState {
  return { values: new Map(Object.entries(values)), revision: 42, events: null };
}

describe('registers', () => {
  it('passes a generated history against its real final state', () => {
    const keys = Array.from({ length: 8 }, (_, i) => ({ key: `k${i}`, model: i % 2 === 0 ? ('register' as const) : ('list' as const) }));
    const { ops, final } = generateHistory({ seed: 3, processesCount: 8, operationsCount: 5_000, keys, unknownProbability: 0.05, failProbability: 0.05 });
    const verdict = checkLostWrites(ops, final);
    expect(verdict.problems).toEqual([]);
    expect(verdict.ok).toBe(true);
  });

  it('fails an acknowledged write missing from the final state when the final value was written before it', () => {
    const verdict = checkLostWrites([write(1, 'a', 0, 1), write(2, 'b', 2, 3)], finalState({ x: 'a' }));
    expect(verdict.ok).toBe(false);
    expect(verdict.problems).toHaveLength(1);
    expect(verdict.problems[0]).toMatch(/^lost write: operation #2 .*write "b".* ends as "a"; its writers \(#1\) all completed before #2 was invoked/);
  });

  it('passes a write overwritten by a concurrent write, or by an unknown one', () => {
    expect(checkLostWrites([write(1, 'a', 0, 5), write(2, 'b', 1, 3)], finalState({ x: 'a' })).ok).toBe(true);
    expect(checkLostWrites([write(1, 'b', 0, 1), write(2, 'c', 2, 3, 'unknown')], finalState({ x: 'c' })).ok).toBe(true);
    // An unknown write may land long after its client gave up.
    expect(checkLostWrites([write(1, 'c', 0, 1, 'unknown'), write(2, 'b', 5, 6)], finalState({ x: 'c' })).ok).toBe(true);
  });

  it('fails a final value no operation wrote, or only a failed one', () => {
    expect(checkLostWrites([write(1, 'a', 0, 1)], finalState({ x: 'zz' })).problems).toContain('key "x" ends as "zz", but no operation wrote it');
    const verdict = checkLostWrites([write(1, 'a', 0, 1, 'unknown'), write(2, 'zz', 2, 3, 'fail')], finalState({ x: 'zz' }));
    expect(verdict.problems).toEqual(['key "x" ends as "zz", but only operations that failed wrote it: #2']);
  });

  it('fails acknowledged writes when the key ends absent, and passes an absent key nobody wrote', () => {
    const verdict = checkLostWrites([write(1, 'a', 0, 1), write(2, 'b', 0, 1, 'unknown')], finalState({}));
    expect(verdict.problems).toHaveLength(1);
    expect(verdict.problems[0]).toMatch(/^lost write: operation #1 .* ends as absent$/);
    expect(checkLostWrites([write(1, 'a', 0, 1, 'fail')], finalState({})).ok).toBe(true);
  });

  it('holds a cas that succeeded to the final state, and not one that failed', () => {
    expect(checkLostWrites([write(1, 'a', 0, 1), cas(2, 'a', 'c', true, 2, 3)], finalState({ x: 'c' })).ok).toBe(true);
    expect(checkLostWrites([write(1, 'a', 0, 1), cas(2, 'a', 'c', true, 2, 3)], finalState({ x: 'a' })).problems[0]).toMatch(/^lost write: operation #2 /);
    expect(checkLostWrites([write(1, 'a', 0, 1), cas(2, 'b', 'c', false, 2, 3)], finalState({ x: 'a' })).ok).toBe(true);
  });
});

describe('lists', () => {
  it('passes every acknowledged element once, with unknown ones in or out', () => {
    const ops = [append(1, 'e1', 0, 1), append(2, 'e2', 2, 3, 'unknown'), append(3, 'e3', 4, 5, 'unknown'), append(4, 'e4', 6, 7)];
    expect(checkLostWrites(ops, finalState({ l: 'e1,e2,e4' })).ok).toBe(true);
  });

  it('fails a lost append, naming it', () => {
    const verdict = checkLostWrites([append(1, 'e1', 0, 1), append(2, 'e2', 2, 3)], finalState({ l: 'e2' }));
    expect(verdict.problems).toHaveLength(1);
    expect(verdict.problems[0]).toMatch(/^lost append: operation #1 .*"e1" is not in the final list of key "l"/);
  });

  it('fails an element applied twice', () => {
    const verdict = checkLostWrites([append(1, 'e1', 0, 1), append(2, 'e2', 2, 3, 'unknown')], finalState({ l: 'e1,e2,e1' }));
    expect(verdict.problems).toEqual(['duplicate apply: "e1" appears 2 times in the final list of key "l", appended by one operation (#1)']);
  });

  it('fails an element no operation appended, or only a failed one', () => {
    const verdict = checkLostWrites([append(1, 'e1', 0, 1), append(2, 'e2', 2, 3, 'fail')], finalState({ l: 'e1,e2,e9' }));
    expect(verdict.problems).toEqual([
      `key "l"'s final list holds "e2", but only operations that failed appended it: #2`,
      `key "l"'s final list holds "e9", but no operation appended it`,
    ]);
  });
});
