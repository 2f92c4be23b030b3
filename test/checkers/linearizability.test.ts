// The linearizability checker on hand-made histories that are linearizable and that are not, on
// long generated ones (with and without a planted stale read), and what it reports on failure.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operation } from './history.js';
import { generateHistory, injectStaleRead, type GeneratedKey } from './history-generator.js';
import { checkLinearizable, writeFailure } from './linearizability.js';

type Outcome = Operation['outcome'];

let nextProcess = 0;

/** One operation on key 'x' by a process of its own (concurrency comes from the times alone). */
function op(id: number, kind: Operation['kind'], io: { in?: Operation['input']; out?: Operation['output'] }, invokeMs: number, completeMs: number, outcome: Outcome = 'ok', key = 'x'): Operation {
  return {
    type: 'op',
    id,
    process: nextProcess++,
    key,
    kind,
    input: io.in ?? {},
    ...(outcome === 'ok' ? { output: io.out ?? {} } : {}),
    invokeMs,
    completeMs,
    outcome,
  };
}

const write = (id: number, value: string, invokeMs: number, completeMs: number, outcome: Outcome = 'ok'): Operation => op(id, 'write', { in: { value } }, invokeMs, completeMs, outcome);
const read = (id: number, value: string | null, invokeMs: number, completeMs: number, outcome: Outcome = 'ok'): Operation => op(id, 'read', { out: { value } }, invokeMs, completeMs, outcome);
const cas = (id: number, from: string | null, to: string, succeeded: boolean, invokeMs: number, completeMs: number, outcome: Outcome = 'ok'): Operation =>
  op(id, 'cas', { in: { from, to }, out: { succeeded } }, invokeMs, completeMs, outcome);
const append = (id: number, value: string, after: string, invokeMs: number, completeMs: number, outcome: Outcome = 'ok'): Operation =>
  op(id, 'append', { in: { value }, out: { value: after } }, invokeMs, completeMs, outcome, 'l');
const readList = (id: number, value: string, invokeMs: number, completeMs: number): Operation => op(id, 'readList', { out: { value } }, invokeMs, completeMs, 'ok', 'l');

function linearizable(ops: readonly Operation[]): boolean {
  const result = checkLinearizable(ops, { timeoutMs: 5_000 });
  expect(result.partitions.every((p) => p.result !== 'unknown'), result.verdict.summary).toBe(true);
  return result.verdict.ok;
}

describe('a register', () => {
  it('fails a stale read (a value overwritten before the read was invoked) and names it', () => {
    const ops = [write(1, 'a', 0, 1), write(2, 'b', 2, 3), read(3, 'a', 4, 5)];
    const result = checkLinearizable(ops);
    expect(result.verdict.ok).toBe(false);
    const failure = result.failures[0]!;
    expect(failure.key).toBe('x');
    expect(failure.subHistory.map((o) => o.id)).toEqual([1, 2, 3]);
    expect(failure.explanation.prefix.map((step) => step.op.id)).toEqual([1, 2]);
    expect(failure.explanation.states).toEqual(['"b"']);
    expect(failure.explanation.blocked.map((b) => b.op.id)).toEqual([3]);
    expect(failure.explanation.blocked[0]!.reason).toBe('it read "a", but the register holds "b"');
    expect(result.verdict.problems[0]).toMatch(/operation #3 .*read → "a"/);
    expect(failure.report).toContain('#3 p');
  });

  it('passes the same read when it returns the latest value', () => {
    expect(linearizable([write(1, 'a', 0, 1), write(2, 'b', 2, 3), read(3, 'b', 4, 5)])).toBe(true);
  });

  it('passes a read of absent before any write completes, and fails one after', () => {
    expect(linearizable([write(1, 'a', 0, 10), read(2, null, 1, 2)])).toBe(true);
    expect(linearizable([write(1, 'a', 0, 1), read(2, null, 2, 3)])).toBe(false);
  });

  it('passes concurrent operations whichever order they took effect in', () => {
    const writes = [write(1, 'a', 0, 5), write(2, 'b', 0, 5)];
    expect(linearizable([...writes, read(3, 'a', 6, 7)])).toBe(true);
    expect(linearizable([...writes, read(3, 'b', 6, 7)])).toBe(true);
    expect(linearizable([...writes, read(3, 'c', 6, 7)])).toBe(false);
    // A read overlapping a write may see either side of it.
    expect(linearizable([write(1, 'a', 0, 1), write(2, 'b', 2, 8), read(3, 'a', 3, 4), read(4, 'b', 5, 6)])).toBe(true);
    // But not go back: once one read saw the new value, a later read cannot see the old.
    expect(linearizable([write(1, 'a', 0, 1), write(2, 'b', 2, 8), read(3, 'b', 3, 4), read(4, 'a', 5, 6)])).toBe(false);
  });

  it('passes an unknown write that took effect after its client gave up', () => {
    const ops = [write(1, 'a', 0, 1), write(2, 'b', 2, 3, 'unknown'), read(3, 'a', 4, 5), read(4, 'b', 10, 11)];
    expect(linearizable(ops)).toBe(true);
    // Once it took effect, the old value cannot come back.
    expect(linearizable([...ops, read(5, 'a', 12, 13)])).toBe(false);
  });

  it('passes an unknown write whose value a read saw, and one that never took effect', () => {
    expect(linearizable([write(1, 'b', 0, 1, 'unknown'), read(2, 'b', 5, 6)])).toBe(true);
    expect(linearizable([write(1, 'b', 0, 1, 'unknown'), read(2, null, 5, 6)])).toBe(true);
    // An unknown write cannot take effect before it was invoked.
    expect(linearizable([read(1, 'b', 0, 1), write(2, 'b', 2, 3, 'unknown')])).toBe(false);
  });

  it('drops failed operations: a value only a failed write wrote cannot be read', () => {
    expect(linearizable([write(1, 'c', 0, 1, 'fail'), read(2, 'c', 2, 3)])).toBe(false);
    expect(linearizable([write(1, 'c', 0, 1, 'fail'), read(2, null, 2, 3)])).toBe(true);
  });

  it('checks a cas that failed: consistent when the value differed, not when it matched', () => {
    expect(linearizable([write(1, 'a', 0, 1), cas(2, 'b', 'c', false, 2, 3), read(3, 'a', 4, 5)])).toBe(true);
    expect(linearizable([write(1, 'a', 0, 1), cas(2, 'a', 'c', false, 2, 3)])).toBe(false);
    // A concurrent write explains the failure.
    expect(linearizable([write(1, 'a', 0, 1), write(2, 'z', 2, 6), cas(3, 'a', 'c', false, 2, 3)])).toBe(true);
    // So does an unknown one (it may have taken effect just before).
    expect(linearizable([write(1, 'a', 0, 1), write(2, 'z', 2, 3, 'unknown'), cas(3, 'a', 'c', false, 4, 5)])).toBe(true);
  });

  it('passes a failed cas explained by an unknown cas whose value a later read saw', () => {
    // #3 took effect before #4 compared (so #4 failed) and #5 read what #3 wrote; #2, written by
    // no one else and read by no one, would also explain #4's failure, but not #5's read.
    const ops = [write(1, 'f', 0, 1), write(2, 'z', 2, 3, 'unknown'), cas(3, 'f', 't', true, 2, 3, 'unknown'), cas(4, 'f', 'q', false, 4, 5), read(5, 't', 6, 7)];
    expect(linearizable(ops)).toBe(true);
    expect(linearizable([...ops.slice(0, 4), read(5, 'q', 6, 7)])).toBe(false);
  });

  it('checks a cas that succeeded, and a cas from absent', () => {
    expect(linearizable([write(1, 'a', 0, 1), cas(2, 'a', 'c', true, 2, 3), read(3, 'c', 4, 5)])).toBe(true);
    expect(linearizable([write(1, 'a', 0, 1), cas(2, 'b', 'c', true, 2, 3)])).toBe(false);
    expect(linearizable([cas(1, null, 'a', true, 0, 1), read(2, 'a', 2, 3)])).toBe(true);
    expect(linearizable([write(1, 'a', 0, 1), cas(2, null, 'b', true, 2, 3)])).toBe(false);
    // An unknown cas may have succeeded or not.
    expect(linearizable([write(1, 'a', 0, 1), cas(2, 'a', 'c', true, 2, 3, 'unknown'), read(3, 'c', 4, 5)])).toBe(true);
    expect(linearizable([write(1, 'a', 0, 1), cas(2, 'a', 'c', true, 2, 3, 'unknown'), read(3, 'a', 4, 5)])).toBe(true);
  });
});

describe('a list', () => {
  it('passes appends that read back the list as it grew, and a readList of it', () => {
    expect(linearizable([append(1, 'x', 'x', 0, 1), append(2, 'y', 'x,y', 2, 3), readList(3, 'x,y', 4, 5)])).toBe(true);
    // Concurrent appends, in either order.
    expect(linearizable([append(1, 'x', 'y,x', 0, 5), append(2, 'y', 'y', 0, 5), readList(3, 'y,x', 6, 7)])).toBe(true);
    expect(linearizable([append(1, 'x', 'x', 0, 5), append(2, 'y', 'x,y', 0, 5), readList(3, 'x,y', 6, 7)])).toBe(true);
    expect(linearizable([append(1, 'x', 'x', 0, 5), append(2, 'y', 'y', 0, 5)])).toBe(false);
  });

  it('fails a reordered list, an element seen twice, and an append lost from a later read', () => {
    expect(linearizable([append(1, 'x', 'x', 0, 1), append(2, 'y', 'x,y', 2, 3), readList(3, 'y,x', 4, 5)])).toBe(false);
    expect(linearizable([append(1, 'x', 'x', 0, 1), readList(2, 'x,x', 2, 3)])).toBe(false);
    expect(linearizable([append(1, 'x', 'x', 0, 1), append(2, 'y', 'x,y', 2, 3), readList(3, 'x', 4, 5)])).toBe(false);
  });

  it('passes an unknown append that a later read shows, or that never took effect', () => {
    expect(linearizable([append(1, 'x', '', 0, 1, 'unknown'), readList(2, '', 2, 3), readList(3, 'x', 4, 5)])).toBe(true);
    expect(linearizable([append(1, 'x', '', 0, 1, 'unknown'), append(2, 'y', 'y', 2, 3)])).toBe(true);
  });
});

describe('the report', () => {
  it('says unknown, not linearizable, when a key mixes registers and lists', () => {
    const result = checkLinearizable([write(1, 'a', 0, 1), op(2, 'append', { in: { value: 'e' }, out: { value: 'e' } }, 2, 3)]);
    expect(result.verdict.ok).toBe(false);
    expect(result.partitions[0]!.result).toBe('unknown');
    expect(result.verdict.problems[0]).toMatch(/mixes register operations \(#1\) with list operations \(#2\)/);
  });

  it('says unknown when the search runs out of time, rather than hanging', () => {
    const { ops } = generateHistory({ seed: 7, processesCount: 8, operationsCount: 20_000, keys: [{ key: 'k', model: 'register' }], unknownProbability: 0.02, failProbability: 0 });
    const result = checkLinearizable(ops, { timeoutMs: 1 });
    expect(result.partitions[0]!.result).toBe('unknown');
    expect(result.verdict.ok).toBe(false);
    expect(result.verdict.problems[0]).toMatch(/unknown: the search timed out/);
  });

  it('writes the smallest failing sub-history as JSON lines beside the explanation', async () => {
    const ops = [write(1, 'a', 0, 1), write(2, 'b', 2, 3), read(3, 'a', 4, 5), read(4, 'b', 6, 7)];
    const failure = checkLinearizable(ops).failures[0]!;
    const dir = await mkdtemp(join(tmpdir(), 'checkers-'));
    try {
      const { historyPath, reportPath } = await writeFailure(dir, failure);
      const lines = (await readFile(historyPath, 'utf8')).trim().split('\n');
      expect(lines.map((line) => (JSON.parse(line) as Operation).id)).toEqual([1, 2, 3]);
      expect(await readFile(reportPath, 'utf8')).toBe(failure.report);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const sixteenKeys: GeneratedKey[] = Array.from({ length: 16 }, (_, i) => ({ key: `k${i}`, model: i % 4 === 3 ? 'list' : 'register' }));

describe('long generated histories', () => {
  it('passes 20,000 operations over 16 keys (8 clients, 3% unknown) in a few seconds', () => {
    const { ops } = generateHistory({ seed: 1, processesCount: 8, operationsCount: 20_000, keys: sixteenKeys, unknownProbability: 0.03, failProbability: 0.02 });
    const startedMs = performance.now();
    const result = checkLinearizable(ops);
    expect(result.verdict.problems).toEqual([]);
    expect(result.verdict.ok).toBe(true);
    expect(performance.now() - startedMs).toBeLessThan(5_000);
  });

  it('passes 3,000 operations of 8 clients on one key, and fails it with one stale read, naming it', () => {
    const { ops } = generateHistory({ seed: 2, processesCount: 8, operationsCount: 3_000, keys: [{ key: 'hot', model: 'register' }], unknownProbability: 0.03, failProbability: 0.02 });
    expect(checkLinearizable(ops).verdict.ok).toBe(true);
    const bad = injectStaleRead(ops);
    expect(bad).not.toBeNull();
    const result = checkLinearizable(ops);
    expect(result.verdict.ok).toBe(false);
    const failure = result.failures[0]!;
    expect(failure.explanation.blocked[0]!.op.id).toBe(bad);
    expect(failure.wholeExplanation.blocked.map((b) => b.op.id)).toContain(bad);
    expect(failure.subHistory.length).toBeLessThanOrEqual(3);
    expect(failure.report).toContain(`#${bad} `);
    expect(result.verdict.problems[0]).toContain(`operation #${bad} `);
  });

  it('passes any generated history and fails it once a stale read is planted; the sub-history fails alone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 2, max: 8 }), (seed, processesCount) => {
        const keys: GeneratedKey[] = [
          { key: 'r', model: 'register' },
          { key: 'l', model: 'list' },
        ];
        const { ops } = generateHistory({ seed, processesCount, operationsCount: 400, keys, unknownProbability: 0.05, failProbability: 0.03 });
        expect(checkLinearizable(ops).verdict.problems).toEqual([]);
        const bad = injectStaleRead(ops, 0.3);
        if (bad === null) return;
        const result = checkLinearizable(ops);
        expect(result.verdict.ok).toBe(false);
        const failure = result.failures[0]!;
        const ids = new Set(ops.map((o) => o.id));
        expect(failure.subHistory.every((o) => ids.has(o.id))).toBe(true);
        expect(checkLinearizable(failure.subHistory).verdict.ok).toBe(false);
        expect(failure.report).toContain(`#${bad} `);
      }),
      { numRuns: 40 },
    );
  });
});
