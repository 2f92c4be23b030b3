// Unit tests for Inflights, the ring buffer of appends in flight to one follower, bounded in count
// and in bytes; checked by example and against a plain-array model with fast-check.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Inflights } from '../src/inflights.js';
import { thrownName } from './support/fixtures.js';

describe('Inflights', () => {
  it('counts messages and bytes as they are added', () => {
    const inflights = new Inflights(4, 0);
    inflights.add(3, 10);
    inflights.add(5, 20);
    expect(inflights.count).toBe(2);
    expect(inflights.bytes).toBe(30);
    expect(inflights.full()).toBe(false);
  });

  it('is full at countMax messages, and adding then fails an assertion', () => {
    const inflights = new Inflights(3, 0);
    for (const index of [1, 2, 3]) inflights.add(index, 1);
    expect(inflights.full()).toBe(true);
    expect(thrownName(() => inflights.add(4, 1))).toBe('AssertionError');
    expect(inflights.count).toBe(3);
  });

  it('is full once bytes reach bytesMax, even below countMax', () => {
    const inflights = new Inflights(10, 100);
    inflights.add(1, 60);
    expect(inflights.full()).toBe(false);
    inflights.add(2, 39);
    expect(inflights.full()).toBe(false);
    inflights.add(3, 1);
    expect(inflights.full()).toBe(true);
    expect(inflights.count).toBe(3);
  });

  it('a single message larger than bytesMax is admitted when nothing is in flight', () => {
    const inflights = new Inflights(10, 100);
    inflights.add(1, 500);
    expect(inflights.count).toBe(1);
    expect(inflights.full()).toBe(true);
  });

  it('bytesMax 0 means no byte limit', () => {
    const inflights = new Inflights(2, 0);
    inflights.add(1, 1e9);
    expect(inflights.full()).toBe(false);
  });

  it('freeLE frees every message up to and including an index, with its bytes', () => {
    const inflights = new Inflights(10, 0);
    for (let i = 1; i <= 5; i++) inflights.add(i * 2, i);
    inflights.freeLE(5);
    expect(inflights.count).toBe(3);
    expect(inflights.bytes).toBe(3 + 4 + 5);
    inflights.freeLE(4);
    expect(inflights.count).toBe(3);
    inflights.freeLE(10);
    expect(inflights.count).toBe(0);
    expect(inflights.bytes).toBe(0);
  });

  it('freeFirstOne frees only the oldest message', () => {
    const inflights = new Inflights(3, 0);
    for (const index of [1, 2, 3]) inflights.add(index, index * 10);
    inflights.freeFirstOne();
    expect(inflights.count).toBe(2);
    expect(inflights.bytes).toBe(50);
    expect(inflights.full()).toBe(false);
    const empty = new Inflights(3, 0);
    empty.freeFirstOne();
    expect(empty.count).toBe(0);
  });

  it('keeps working as the ring wraps around', () => {
    const inflights = new Inflights(4, 0);
    for (const index of [1, 2, 3, 4]) inflights.add(index, 1);
    inflights.freeLE(2);
    inflights.add(5, 1);
    inflights.add(6, 1);
    expect(inflights.full()).toBe(true);
    inflights.freeLE(4);
    expect(inflights.count).toBe(2);
    inflights.freeLE(5);
    expect(inflights.count).toBe(1);
    inflights.freeLE(6);
    expect(inflights.count).toBe(0);
  });

  it('indexes must rise from add to add', () => {
    const inflights = new Inflights(4, 0);
    inflights.add(5, 1);
    expect(thrownName(() => inflights.add(5, 1))).toBe('AssertionError');
    expect(thrownName(() => inflights.add(4, 1))).toBe('AssertionError');
  });

  it('reset empties it', () => {
    const inflights = new Inflights(2, 10);
    inflights.add(1, 10);
    inflights.reset();
    expect(inflights.count).toBe(0);
    expect(inflights.bytes).toBe(0);
    expect(inflights.full()).toBe(false);
  });

  it('a capacity of zero fails an assertion', () => {
    expect(thrownName(() => new Inflights(0, 0))).toBe('AssertionError');
  });

  it('behaves like a plain queue of (index, bytes) under any sequence of operations', () => {
    type Op = { kind: 'add'; gap: number; bytes: number } | { kind: 'freeLE'; back: number } | { kind: 'freeFirstOne' } | { kind: 'reset' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), gap: fc.integer({ min: 1, max: 3 }), bytes: fc.integer({ min: 0, max: 40 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('freeLE' as const), back: fc.integer({ min: -2, max: 6 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('freeFirstOne' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const) }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 100 }), fc.array(op, { maxLength: 80 }), (countMax, bytesMax, ops) => {
        const real = new Inflights(countMax, bytesMax);
        let model: Array<{ index: number; bytes: number }> = [];
        let lastIndex = 0;
        const modelBytes = (): number => model.reduce((sum, m) => sum + m.bytes, 0);
        const modelFull = (): boolean => model.length === countMax || (bytesMax > 0 && modelBytes() >= bytesMax);
        for (const o of ops) {
          if (o.kind === 'add') {
            if (modelFull()) continue; // the leader never adds while full
            lastIndex += o.gap;
            real.add(lastIndex, o.bytes);
            model.push({ index: lastIndex, bytes: o.bytes });
          } else if (o.kind === 'freeLE') {
            const index = lastIndex - o.back;
            real.freeLE(index);
            model = model.filter((m) => m.index > index);
          } else if (o.kind === 'freeFirstOne') {
            real.freeFirstOne();
            model = model.slice(1);
          } else {
            real.reset();
            model = [];
          }
          expect(real.count).toBe(model.length);
          expect(real.bytes).toBe(modelBytes());
          expect(real.full()).toBe(modelFull());
        }
      }),
      { seed: 4242, numRuns: 300 },
    );
  });
});
