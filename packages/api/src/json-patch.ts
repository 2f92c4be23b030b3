// JSON patch, RFC 6902, over JSON pointers, RFC 6901. Operations apply in order to a copy of the
// document, so a failing operation leaves the caller's document untouched (§5: the whole patch
// fails). Every error names the operation's index, its op and its path.

import { cloneJson, getOwn, isJsonObject, jsonEqual, setOwn, toJsonValue, type JsonValue } from './json-value.js';

export type JsonPatchOperation =
  | { readonly op: 'add'; readonly path: string; readonly value: JsonValue }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'replace'; readonly path: string; readonly value: JsonValue }
  | { readonly op: 'move'; readonly from: string; readonly path: string }
  | { readonly op: 'copy'; readonly from: string; readonly path: string }
  | { readonly op: 'test'; readonly path: string; readonly value: JsonValue };

/** A malformed patch, a path that does not resolve, or a failed `test`. */
export class JsonPatchError extends Error {
  override readonly name = 'JsonPatchError';
  readonly code: 'JSON_PATCH_INVALID' | 'JSON_PATCH_TEST_FAILED';

  constructor(
    message: string,
    /** Index of the failing operation in the patch, or -1 when the patch as a whole is wrong. */
    readonly operationIndex: number,
    code: 'JSON_PATCH_INVALID' | 'JSON_PATCH_TEST_FAILED' = 'JSON_PATCH_INVALID',
  ) {
    super(message);
    this.code = code;
  }
}

/** Kubernetes' bound on operations in one JSON patch (apiserver maxJSONPatchOperations). */
export const jsonPatchOperationsMax = 10_000;

/** RFC 6901 §3-4: "" is the whole document; otherwise "/"-separated tokens with ~1 = "/", ~0 = "~". */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer ${JSON.stringify(pointer)} must be empty or start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~[^01]|~$/.test(token)) throw new Error(`JSON pointer ${JSON.stringify(pointer)} has "~" not followed by 0 or 1 in ${JSON.stringify(token)}`);
      return token.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

/** The pointer for these tokens: `~` becomes ~0 before `/` becomes ~1 (RFC 6901 §4 in reverse). */
export function formatJsonPointer(tokens: readonly string[]): string {
  return tokens.map((token) => `/${token.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** RFC 6901 §4 array index: "0" or digits without a leading zero. */
function arrayIndex(token: string, length: number, allowEnd: boolean): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`"${token}" is not an array index`);
  const index = Number(token);
  const limit = allowEnd ? length : length - 1;
  if (index > limit) throw new Error(`array index ${index} is out of bounds for an array of length ${length}`);
  return index;
}

/** The value at `tokens`; throws when any step does not exist. */
function resolve(document: JsonValue, tokens: readonly string[]): JsonValue {
  let value = document;
  for (const token of tokens) {
    if (Array.isArray(value)) value = value[arrayIndex(token, value.length, false)] as JsonValue;
    else if (isJsonObject(value)) {
      const member = getOwn(value, token);
      if (member === undefined) throw new Error(`member "${token}" does not exist`);
      value = member;
    } else throw new Error(`cannot look up "${token}" in a ${value === null ? 'null' : typeof value}`);
  }
  return value;
}

/** The container that holds the last token, and that token. */
function parentOf(document: JsonValue, tokens: readonly string[]): { container: JsonValue; last: string } {
  const last = tokens[tokens.length - 1];
  if (last === undefined) throw new Error('the whole document has no parent');
  return { container: resolve(document, tokens.slice(0, -1)), last };
}

function addAt(document: JsonValue, tokens: readonly string[], value: JsonValue): JsonValue {
  if (tokens.length === 0) return value;
  const { container, last } = parentOf(document, tokens);
  if (Array.isArray(container)) container.splice(arrayIndex(last, container.length, true), 0, value);
  else if (isJsonObject(container)) setOwn(container, last, value);
  else throw new Error(`cannot add "${last}" to a ${container === null ? 'null' : typeof container}`);
  return document;
}

function removeAt(document: JsonValue, tokens: readonly string[]): JsonValue {
  if (tokens.length === 0) throw new Error('cannot remove the whole document');
  const { container, last } = parentOf(document, tokens);
  if (Array.isArray(container)) container.splice(arrayIndex(last, container.length, false), 1);
  else if (isJsonObject(container) && Object.hasOwn(container, last)) delete container[last];
  else throw new Error(`member "${last}" does not exist`);
  return container;
}

function replaceAt(document: JsonValue, tokens: readonly string[], value: JsonValue): JsonValue {
  if (tokens.length === 0) return value;
  const { container, last } = parentOf(document, tokens);
  if (Array.isArray(container)) container[arrayIndex(last, container.length, false)] = value;
  else if (isJsonObject(container) && Object.hasOwn(container, last)) setOwn(container, last, value);
  else throw new Error(`member "${last}" does not exist`);
  return document;
}

function isProperPrefix(prefix: readonly string[], tokens: readonly string[]): boolean {
  return prefix.length < tokens.length && prefix.every((token, index) => tokens[index] === token);
}

function checkOperationShape(operation: unknown): asserts operation is JsonPatchOperation {
  if (!isJsonObject(operation)) throw new Error('operation is not an object');
  const { op, path } = operation;
  if (typeof op !== 'string') throw new Error('operation has no "op" string');
  if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op)) throw new Error(`unknown op ${JSON.stringify(op)}`);
  if (typeof path !== 'string') throw new Error(`${op} has no "path" string`);
  if ((op === 'move' || op === 'copy') && typeof operation.from !== 'string') throw new Error(`${op} has no "from" string`);
  if ((op === 'add' || op === 'replace' || op === 'test') && !Object.hasOwn(operation, 'value')) throw new Error(`${op} has no "value"`);
}

/** Applies one operation to `document` (already a private copy) and returns the new document. */
function applyOperation(document: JsonValue, operation: JsonPatchOperation): JsonValue {
  const tokens = parseJsonPointer(operation.path);
  switch (operation.op) {
    case 'add':
      return addAt(document, tokens, cloneJson(operation.value));
    case 'remove':
      removeAt(document, tokens);
      return document;
    case 'replace':
      resolve(document, tokens);
      return replaceAt(document, tokens, cloneJson(operation.value));
    case 'move': {
      const from = parseJsonPointer(operation.from);
      if (isProperPrefix(from, tokens)) throw new Error(`cannot move ${JSON.stringify(operation.from)} into its own child`);
      const value = resolve(document, from);
      if (from.length === tokens.length && from.every((token, index) => tokens[index] === token)) return document;
      removeAt(document, from);
      return addAt(document, tokens, value);
    }
    case 'copy':
      return addAt(document, tokens, cloneJson(resolve(document, parseJsonPointer(operation.from))));
    case 'test': {
      const actual = resolve(document, tokens);
      if (!jsonEqual(actual, operation.value)) throw new TestFailed(`value is ${JSON.stringify(actual)}, not ${JSON.stringify(operation.value)}`);
      return document;
    }
  }
}

class TestFailed extends Error {}

/**
 * RFC 6902 §3-4: applies `patch` (an array of operations) to a copy of `document` and returns the
 * copy. Throws JsonPatchError naming the operation (index, op, path) and what is wrong.
 */
export function applyJsonPatch(document: unknown, patch: unknown): JsonValue {
  if (!Array.isArray(patch)) throw new JsonPatchError('a JSON patch must be an array of operations', -1);
  if (patch.length > jsonPatchOperationsMax) {
    throw new JsonPatchError(`a JSON patch has ${patch.length} operations, more than ${jsonPatchOperationsMax}`, -1);
  }
  // The copy is what makes the patch atomic: operations change only `result`.
  let result = toJsonValue(document, 'the patched document');
  const operations = toJsonValue(patch, 'JSON patch') as JsonValue[];
  operations.forEach((operation, index) => {
    try {
      checkOperationShape(operation);
      result = applyOperation(result, operation);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const where = isJsonObject(operation) ? `${String(operation.op)} ${JSON.stringify(operation.path)}` : 'operation';
      const code = error instanceof TestFailed ? 'JSON_PATCH_TEST_FAILED' : 'JSON_PATCH_INVALID';
      throw new JsonPatchError(`JSON patch operation ${index} (${where}): ${code === 'JSON_PATCH_TEST_FAILED' ? 'test failed: ' : ''}${reason}`, index, code);
    }
  });
  return result;
}
