// JSON patch: RFC 6902 Appendix A, RFC 6901's pointer examples, array index rules, errors that
// name the operation, and atomicity (a failing patch leaves the document untouched).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonPatchError, applyJsonPatch, formatJsonPointer, parseJsonPointer, type JsonValue } from '../src/index.js';

describe('RFC 6902 Appendix A', () => {
  it.each<[string, JsonValue, unknown[], JsonValue]>([
    ['A.1 adding an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
    ['A.2 adding an array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
    ['A.3 removing an object member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    ['A.4 removing an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
    ['A.5 replacing a value', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
    [
      'A.6 moving a value',
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ],
    ['A.7 moving an array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
    [
      'A.8 testing a value: success',
      { baz: 'qux', foo: ['a', 2, 'c'] },
      [{ op: 'test', path: '/baz', value: 'qux' }, { op: 'test', path: '/foo/1', value: 2 }],
      { baz: 'qux', foo: ['a', 2, 'c'] },
    ],
    ['A.10 adding a nested member object', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
    ['A.11 ignoring unrecognized elements', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }], { foo: 'bar', baz: 'qux' }],
    ['A.14 ~ escape ordering', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }],
    ['A.16 adding an array value', { foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], { foo: ['bar', ['abc', 'def']] }],
    ['add replaces an existing member', { a: 1 }, [{ op: 'add', path: '/a', value: 2 }], { a: 2 }],
    ['add at the root replaces the document', { a: 1 }, [{ op: 'add', path: '', value: [1] }], [1]],
    ['add at the array end by index', { a: [1] }, [{ op: 'add', path: '/a/1', value: 2 }], { a: [1, 2] }],
    ['copy deep-copies', { a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }, { op: 'replace', path: '/c/b', value: 2 }], { a: { b: 1 }, c: { b: 2 } }],
    ['move to the same place does nothing', { a: 1 }, [{ op: 'move', from: '/a', path: '/a' }], { a: 1 }],
    ['test compares objects without order and numbers by value', { a: { x: 1, y: [1.0, 'z'] } }, [{ op: 'test', path: '/a', value: { y: [1, 'z'], x: 1 } }], { a: { x: 1, y: [1, 'z'] } }],
    ['"-" is an ordinary member name in an object', { a: {} }, [{ op: 'add', path: '/a/-', value: 1 }], { a: { '-': 1 } }],
    ['replace with null', { a: 1 }, [{ op: 'replace', path: '/a', value: null }], { a: null }],
  ])('%s', (_name, document, patch, result) => {
    expect(applyJsonPatch(document, patch)).toEqual(result);
  });

  it.each<[string, JsonValue, unknown[], RegExp]>([
    ['A.9 testing a value: error', { baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }], /operation 0 \(test "\/baz"\): test failed: value is "qux", not "bar"/],
    ['A.12 adding to a nonexistent target', { foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }], /operation 0 \(add "\/baz\/bat"\): member "baz" does not exist/],
    ['A.15 comparing strings and numbers', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }], /test failed/],
    ['remove of a missing member', { a: 1 }, [{ op: 'remove', path: '/b' }], /operation 0 \(remove "\/b"\): member "b" does not exist/],
    ['replace of a missing member', { a: 1 }, [{ op: 'test', path: '/a', value: 1 }, { op: 'replace', path: '/b', value: 1 }], /operation 1 \(replace "\/b"\)/],
    ['array index past the end', { a: [1] }, [{ op: 'add', path: '/a/2', value: 1 }], /array index 2 is out of bounds for an array of length 1/],
    ['array index with a leading zero', { a: [1, 2] }, [{ op: 'remove', path: '/a/01' }], /"01" is not an array index/],
    ['"-" in remove', { a: [1] }, [{ op: 'remove', path: '/a/-' }], /"-" is not an array index/],
    ['negative index', { a: [1] }, [{ op: 'replace', path: '/a/-1', value: 0 }], /"-1" is not an array index/],
    ['pointer without a leading slash', { a: 1 }, [{ op: 'remove', path: 'a' }], /must be empty or start with "\/"/],
    ['bad ~ escape', { a: 1 }, [{ op: 'remove', path: '/a~2' }], /"~" not followed by 0 or 1/],
    ['move into its own child', { a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }], /cannot move "\/a" into its own child/],
    ['unknown op', { a: 1 }, [{ op: 'frobnicate', path: '/a' }], /operation 0 \(frobnicate "\/a"\): unknown op "frobnicate"/],
    ['missing value', { a: 1 }, [{ op: 'add', path: '/b' }], /add has no "value"/],
    ['missing from', { a: 1 }, [{ op: 'copy', path: '/b' }], /copy has no "from" string/],
    ['missing path', { a: 1 }, [{ op: 'remove' }], /remove has no "path" string/],
    ['an operation that is not an object', { a: 1 }, ['remove'], /operation 0 \(operation\): operation is not an object/],
    ['removing the whole document', { a: 1 }, [{ op: 'remove', path: '' }], /cannot remove the whole document/],
    ['adding below a scalar', { a: 1 }, [{ op: 'add', path: '/a/b', value: 1 }], /cannot add "b" to a number/],
  ])('%s', (_name, document, patch, message) => {
    expect(() => applyJsonPatch(document, patch)).toThrow(JsonPatchError);
    expect(() => applyJsonPatch(document, patch)).toThrow(message);
  });

  it('rejects a patch that is not an array, and carries the op index and a code', () => {
    expect(() => applyJsonPatch({}, { op: 'add' })).toThrow(/must be an array of operations/);
    try {
      applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 1 }, { op: 'test', path: '/a', value: 2 }]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(JsonPatchError);
      expect((error as JsonPatchError).operationIndex).toBe(1);
      expect((error as JsonPatchError).code).toBe('JSON_PATCH_TEST_FAILED');
    }
  });
});

describe('RFC 6901 pointers', () => {
  const document = { foo: ['bar', 'baz'], '': 0, 'a/b': 1, 'c%d': 2, 'e^f': 3, 'g|h': 4, 'i\\j': 5, 'k"l': 6, ' ': 7, 'm~n': 8 };
  it.each<[string, JsonValue]>([
    ['', document],
    ['/foo', ['bar', 'baz']],
    ['/foo/0', 'bar'],
    ['/', 0],
    ['/a~1b', 1],
    ['/c%d', 2],
    ['/e^f', 3],
    ['/g|h', 4],
    ['/i\\j', 5],
    ['/k"l', 6],
    ['/ ', 7],
    ['/m~0n', 8],
  ])('%j', (pointer, value) => {
    expect(() => applyJsonPatch(document, [{ op: 'test', path: pointer, value }])).not.toThrow();
  });

  it('format is the inverse of parse', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (tokens) => {
        expect(parseJsonPointer(formatJsonPointer(tokens))).toEqual(tokens);
      }),
    );
  });
});

describe('atomicity', () => {
  it('a failing operation leaves the input untouched, and a success does too', () => {
    const document = { a: [1, 2], b: { c: 1 } };
    const before = structuredClone(document);
    expect(() =>
      applyJsonPatch(document, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'remove', path: '/b/c' },
        { op: 'test', path: '/a/0', value: 9 },
      ]),
    ).toThrow(/operation 2/);
    expect(document).toEqual(before);
    const result = applyJsonPatch(document, [{ op: 'add', path: '/a/-', value: 3 }]);
    expect(document).toEqual(before);
    expect(result).toEqual({ a: [1, 2, 3], b: { c: 1 } });
  });

  it('the value added is a copy of the one in the patch', () => {
    const value = { x: 1 };
    const result = applyJsonPatch({}, [{ op: 'add', path: '/v', value }]) as { v: { x: number } };
    result.v.x = 2;
    expect(value.x).toBe(1);
  });
});
