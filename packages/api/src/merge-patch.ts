// JSON merge patch, RFC 7386 exactly: an object patch merges member by member and null deletes; any
// other patch (array, string, number, boolean, null) replaces the target whole. Plus the inverse,
// createMergePatch, which kubectl's three-way apply builds on.

import { cloneJson, getOwn, isJsonObject, jsonEqual, setOwn, toJsonValue, type JsonObject, type JsonValue } from './json-value.js';

/**
 * RFC 7386 §2 MergePatch(Target, Patch). Neither argument is changed; the result shares no
 * objects with them. An undefined `target` (an absent document) acts like a non-object.
 */
export function mergePatch(target: unknown, patch: unknown): JsonValue {
  return mergeJson(target === undefined ? undefined : toJsonValue(target, 'merge patch target'), toJsonValue(patch, 'merge patch'));
}

function mergeJson(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const result: JsonObject = isJsonObject(target) ? cloneJson(target) : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else setOwn(result, name, mergeJson(getOwn(result, name), value));
  }
  return result;
}

/**
 * The merge patch that turns `original` into `modified`: mergePatch(original, createMergePatch(original,
 * modified)) equals `modified` whenever `modified` has no null member inside an object (merge
 * patch cannot say "set to null"; a null there means delete). Arrays are replaced whole.
 */
export function createMergePatch(original: unknown, modified: unknown): JsonValue {
  return diffJson(toJsonValue(original, 'original'), toJsonValue(modified, 'modified'));
}

function diffJson(original: JsonValue, modified: JsonValue): JsonValue {
  if (!isJsonObject(original) || !isJsonObject(modified)) return cloneJson(modified);
  const patch: JsonObject = {};
  for (const name of Object.keys(original)) {
    if (!Object.hasOwn(modified, name)) setOwn(patch, name, null);
  }
  for (const [name, value] of Object.entries(modified)) {
    const before = getOwn(original, name);
    if (before !== undefined && jsonEqual(before, value)) continue;
    if (before !== undefined && isJsonObject(before) && isJsonObject(value)) setOwn(patch, name, diffJson(before, value));
    else setOwn(patch, name, cloneJson(value));
  }
  return patch;
}
