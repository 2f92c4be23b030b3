// The two-way diff for strategic merge patch (CreateTwoWayMergePatch): the patch that, applied by
// strategicMergePatch for the same kind, turns `original` into `modified`. kubectl's three-way
// apply builds on it.

import { cloneJson, getOwn, isJsonObject, jsonEqual, setOwn, toJsonValue, type JsonObject, type JsonValue } from './json-value.js';
import { patchStrategiesFor, type FieldPatchStrategy } from './patch-strategies.js';
import { deleteFromPrimitiveListPrefix, patchDirective, retainKeysDirective, setElementOrderPrefix } from './strategic-merge-patch.js';

type Strategies = ReadonlyMap<string, FieldPatchStrategy>;

/**
 * A strategic merge patch from `original` to `modified` for `kind`. Removed fields become null,
 * lists merged by key get `$patch: delete` elements and `$setElementOrder`, primitive sets get
 * `$deleteFromPrimitiveList`, retainKeys maps get `$retainKeys`. Like createMergePatch, it cannot
 * express a null member inside `modified`.
 */
export function createStrategicMergePatch(original: unknown, modified: unknown, kind: string): JsonObject {
  const before = toJsonValue(original, 'original');
  const after = toJsonValue(modified, 'modified');
  if (!isJsonObject(before) || !isJsonObject(after)) throw new TypeError(`createStrategicMergePatch needs two JSON objects, got ${typeof before} and ${typeof after}`);
  return diffObjects(before, after, [], patchStrategiesFor(kind));
}

function diffObjects(original: JsonObject, modified: JsonObject, path: readonly string[], strategies: Strategies): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(original)) {
    if (!Object.hasOwn(modified, key)) setOwn(patch, key, null);
  }
  for (const [key, value] of Object.entries(modified)) {
    const before = getOwn(original, key);
    if (before !== undefined && jsonEqual(before, value)) continue;
    const fieldPath = [...path, key];
    const strategy = strategies.get(fieldPath.join('.'));
    if (isJsonObject(before) && isJsonObject(value) && strategy?.strategy !== 'replace') {
      const sub = diffObjects(before, value, fieldPath, strategies);
      if (strategy?.strategy === 'retainKeys') setOwn(sub, retainKeysDirective, Object.keys(value).sort());
      setOwn(patch, key, sub);
    } else if (Array.isArray(before) && Array.isArray(value) && strategy?.strategy === 'merge') {
      diffList(patch, key, before, value, fieldPath, strategy, strategies);
    } else {
      setOwn(patch, key, cloneJson(value));
    }
  }
  return patch;
}

function identityOf(element: JsonValue, mergeKey: string | undefined): JsonValue | undefined {
  if (mergeKey === undefined) return element;
  return isJsonObject(element) ? getOwn(element, mergeKey) : undefined;
}

/** Whether every element has an identity and no two share one, so a keyed diff can say everything. */
function keyedCleanly(list: readonly JsonValue[], mergeKey: string | undefined): boolean {
  const identities = list.map((element) => identityOf(element, mergeKey));
  return identities.every((identity, index) => identity !== undefined && identities.findIndex((other) => jsonEqual(other, identity)) === index);
}

type MergeStrategy = Extract<FieldPatchStrategy, { strategy: 'merge' }>;

function diffList(
  patch: JsonObject,
  key: string,
  original: readonly JsonValue[],
  modified: readonly JsonValue[],
  path: readonly string[],
  strategy: MergeStrategy,
  strategies: Strategies,
): void {
  const { mergeKey } = strategy;
  if (!keyedCleanly(original, mergeKey) || !keyedCleanly(modified, mergeKey)) {
    // Duplicates or missing keys: no keyed patch is exact, so replace the list.
    setOwn(patch, key, [{ [patchDirective]: 'replace' }, ...cloneJson([...modified])]);
    return;
  }
  const find = (list: readonly JsonValue[], element: JsonValue) => list.find((candidate) => jsonEqual(identityOf(candidate, mergeKey), identityOf(element, mergeKey)));
  const changes: JsonValue[] = [];
  const removed = original.filter((element) => find(modified, element) === undefined);
  for (const element of modified) {
    const before = find(original, element);
    if (before === undefined) changes.push(cloneJson(element));
    else if (mergeKey !== undefined && !jsonEqual(before, element) && isJsonObject(before) && isJsonObject(element)) {
      const sub = diffObjects(before, element, path, strategies);
      setOwn(sub, mergeKey, cloneJson(getOwn(element, mergeKey) ?? null));
      if (strategy.retainKeys === true) setOwn(sub, retainKeysDirective, Object.keys(element).sort());
      changes.push(sub);
    }
  }
  if (mergeKey === undefined) {
    if (changes.length > 0) setOwn(patch, key, changes);
    if (removed.length > 0) setOwn(patch, `${deleteFromPrimitiveListPrefix}${key}`, cloneJson([...removed]));
    setOwn(patch, `${setElementOrderPrefix}${key}`, cloneJson([...modified]));
    return;
  }
  for (const element of removed) changes.push({ [mergeKey]: cloneJson(identityOf(element, mergeKey) ?? null), [patchDirective]: 'delete' });
  if (changes.length > 0) setOwn(patch, key, changes);
  setOwn(patch, `${setElementOrderPrefix}${key}`, modified.map((element) => ({ [mergeKey]: cloneJson(identityOf(element, mergeKey) ?? null) })));
}
