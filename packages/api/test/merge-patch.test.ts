// JSON merge patch: every example of RFC 7386 Appendix A, purity, and the createMergePatch
// inverse checked by fast-check.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMergePatch, mergePatch, type JsonValue } from '../src/index.js';

describe('RFC 7386 Appendix A', () => {
  it.each<[JsonValue, JsonValue, JsonValue]>([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j patched by %j is %j', (target, patch, result) => {
    expect(mergePatch(target, patch)).toEqual(result);
  });

  it('the RFC §3 example document', () => {
    const target = { title: 'Goodbye!', author: { givenName: 'John', familyName: 'Doe' }, tags: ['example', 'sample'], content: 'This will be unchanged' };
    const patch = { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] };
    expect(mergePatch(target, patch)).toEqual({
      title: 'Hello!',
      author: { givenName: 'John' },
      tags: ['example'],
      content: 'This will be unchanged',
      phoneNumber: '+01-123-456-7890',
    });
  });

  it('changes neither argument, and "__proto__" stays a plain member', () => {
    const target = { a: { b: 1 } };
    const patch = JSON.parse('{"a":{"c":2},"__proto__":{"polluted":true}}') as JsonValue;
    const result = mergePatch(target, patch) as Record<string, unknown>;
    expect(target).toEqual({ a: { b: 1 } });
    expect(result.a).toEqual({ b: 1, c: 2 });
    expect(Object.hasOwn(result, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

/** JSON without null members inside objects: merge patch cannot say "set this member to null". */
const jsonWithoutNullMembers: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom<JsonValue>('x', 'y', 1, 2, true, false),
    fc.array(fc.oneof(tie('value'), fc.constant(null)), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c', 'toString', '__proto__'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('createMergePatch, by fast-check', () => {
  it('mergePatch(a, createMergePatch(a, b)) equals b', () => {
    fc.assert(
      fc.property(jsonWithoutNullMembers, jsonWithoutNullMembers, (original, modified) => {
        expect(mergePatch(original, createMergePatch(original, modified))).toEqual(modified);
      }),
      { numRuns: 500 },
    );
  });

  it('an unchanged object gives the empty patch', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), jsonWithoutNullMembers), (object) => {
        expect(createMergePatch(object, structuredClone(object))).toEqual({});
      }),
    );
  });
});

describe('typed inputs', () => {
  it('undefined members count as absent, as in JSON', () => {
    const pod: { metadata: { name: string; labels?: Record<string, string> | undefined } } = { metadata: { name: 'a', labels: undefined } };
    expect(mergePatch(pod, { metadata: { labels: { x: 'y' } } })).toEqual({ metadata: { name: 'a', labels: { x: 'y' } } });
    expect(createMergePatch(pod, { metadata: { name: 'a' } })).toEqual({});
  });

  it('a value JSON cannot hold is an error naming where it is', () => {
    expect(() => mergePatch({ a: { b: Number.NaN } }, {})).toThrow(/merge patch target has NaN at "\/a\/b"/);
    expect(() => mergePatch({}, { f: () => 1 })).toThrow(/merge patch has a function at "\/f"/);
  });
});
