// A valid object of every kind passes validation, before and after defaulting.

import { describe, expect, it } from 'vitest';
import { validateCreate, withDefaults } from '../src/index.js';
import { everyKind } from './support/objects.js';

describe('valid objects', () => {
  for (const obj of everyKind()) {
    it(`a ${obj.kind} as kubectl sends it has no causes`, () => {
      expect(validateCreate(obj)).toEqual([]);
    });
    it(`a ${obj.kind} with the server's defaults has no causes`, () => {
      expect(validateCreate(withDefaults(obj))).toEqual([]);
    });
  }

  it('an object without kind is a bug in the caller, named', () => {
    expect(() => validateCreate({ metadata: { name: 'x' } })).toThrow(/needs the object kind/);
  });
});
