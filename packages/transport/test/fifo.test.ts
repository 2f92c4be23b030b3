// The ring-buffer queue under the snapshot chunks: first in, first out across wrap-arounds and
// growth, checked against a plain array as the model.

import { describe, expect, it } from 'vitest';
import { Fifo } from '../src/fifo.js';
import { seededRandom } from './support/fixtures.js';

describe('fifo', () => {
  it('behaves like an array used as a queue, across wrap-arounds and growth', () => {
    const random = seededRandom(11);
    const fifo = new Fifo<number>(4);
    const model: number[] = [];
    let next = 0;
    for (let step = 0; step < 10_000; step++) {
      if (random() < 0.55) {
        fifo.push(next);
        model.push(next++);
      } else {
        expect(fifo.shift()).toBe(model.shift());
      }
      expect(fifo.length).toBe(model.length);
      expect(fifo.peek()).toBe(model[0]);
    }
    expect(fifo.clear()).toBe(model.length);
    expect(fifo.length).toBe(0);
    expect(fifo.shift()).toBeUndefined();
  });

  it('refuses a capacity that is not a power of two', () => {
    expect(() => new Fifo(12)).toThrow('capacity 12 must be a power of two');
  });
});
