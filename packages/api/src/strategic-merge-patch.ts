// Strategic merge patch as the apiserver applies it (k8s.io/apimachinery/pkg/util/strategicpatch,
// StrategicMergeMapPatch): maps merge, null deletes, lists follow the kind's table in
// patch-strategies.ts (merged by key, unioned, or replaced), and the directives $patch,
// $setElementOrder/<list>, $retainKeys and $deleteFromPrimitiveList/<list> steer the merge.

import { cloneJson, describeJson, getOwn, isJsonObject, jsonEqual, setOwn, toJsonValue, type JsonObject, type JsonValue } from './json-value.js';
import { patchStrategiesFor, type FieldPatchStrategy } from './patch-strategies.js';

export const patchDirective = '$patch';
export const retainKeysDirective = '$retainKeys';
export const setElementOrderPrefix = '$setElementOrder/';
export const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList/';

/** A patch that is malformed for its kind's schema; `path` is the field (dotted) where it went wrong. */
export class StrategicMergePatchError extends Error {
  override readonly name = 'StrategicMergePatchError';
  readonly code = 'STRATEGIC_MERGE_PATCH_INVALID' as const;

  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`strategic merge patch at ${path === '' ? 'the top level' : path}: ${reason}`);
  }
}

/** Keys that steer the merge and never land in the result. */
export function isDirectiveKey(key: string): boolean {
  return key === patchDirective || key === retainKeysDirective || key.startsWith(setElementOrderPrefix) || key.startsWith(deleteFromPrimitiveListPrefix);
}

type Strategies = ReadonlyMap<string, FieldPatchStrategy>;
type Path = readonly string[];

const strategyAt = (strategies: Strategies, path: Path): FieldPatchStrategy | undefined => strategies.get(path.join('.'));
const fail = (path: Path, reason: string): never => {
  throw new StrategicMergePatchError(path.join('.'), reason);
};

/**
 * Applies `patch` to `original` as the apiserver does for a `kind` (`Pod`, `Deployment`, ...; an
 * unknown kind replaces lists whole, as JSON merge patch does). Neither argument is changed.
 * A `$patch: delete` on a map leaves `{}` there, as Kubernetes' mergeMap returns.
 */
export function strategicMergePatch(original: unknown, patch: unknown, kind: string): JsonObject {
  const target = toJsonValue(original, 'the patched object');
  const changes = toJsonValue(patch, 'strategic merge patch');
  if (!isJsonObject(target)) throw new StrategicMergePatchError('', `the original must be a JSON object, got ${describeJson(target)}`);
  if (!isJsonObject(changes)) throw new StrategicMergePatchError('', `a strategic merge patch must be a JSON object, got ${describeJson(changes)}`);
  return mergeObject(target, changes, [], patchStrategiesFor(kind));
}

/** Merges `patch` into `target`, a private copy that this may change, and returns the result. */
function mergeObject(target: JsonObject | undefined, patch: JsonObject, path: Path, strategies: Strategies): JsonObject {
  const directive = getOwn(patch, patchDirective);
  if (directive !== undefined) return mapDirective(directive, patch, path);
  const result = target ?? {};
  applyRetainKeys(result, patch, path);
  const orderedLists = new Set<string>();
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(setElementOrderPrefix)) continue;
    const field = key.slice(setElementOrderPrefix.length);
    if (applyElementOrder(result, patch, field, [...path, field], strategies)) orderedLists.add(field);
  }
  for (const [key, value] of Object.entries(patch)) {
    if (isDirectiveKey(key) || orderedLists.has(key)) continue;
    if (value === null) delete result[key];
    else setOwn(result, key, mergeValue(getOwn(result, key), value, [...path, key], strategies));
  }
  // Deletions run last, so a patch that both adds and deletes a value ends without it.
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(deleteFromPrimitiveListPrefix)) deleteFromPrimitiveList(result, key.slice(deleteFromPrimitiveListPrefix.length), value, path);
  }
  return result;
}

/** `$patch` on a map: `replace` takes the patch as it is (less the directive), `delete` leaves `{}`. */
function mapDirective(directive: JsonValue, patch: JsonObject, path: Path): JsonObject {
  if (directive === 'delete') return {};
  if (directive !== 'replace') fail(path, `unknown $patch directive ${describeJson(directive)} in a map (expected "replace" or "delete")`);
  const replaced = cloneJson(patch);
  delete replaced[patchDirective];
  return replaced;
}

function mergeValue(target: JsonValue | undefined, patch: JsonValue, path: Path, strategies: Strategies): JsonValue {
  const strategy = strategyAt(strategies, path);
  if (isJsonObject(patch)) {
    if (strategy?.strategy === 'replace') return cloneJson(patch);
    return mergeObject(isJsonObject(target) ? target : undefined, patch, path, strategies);
  }
  if (Array.isArray(patch)) {
    if (strategy?.strategy !== 'merge') return cloneJson(patch);
    // An absent list takes the patch as sent, as Kubernetes does, unless it carries directives.
    if (!Array.isArray(target) && !patch.some((item) => isJsonObject(item) && Object.hasOwn(item, patchDirective))) return cloneJson(patch);
    return mergeList(Array.isArray(target) ? target : [], patch, path, strategy, strategies);
  }
  return patch;
}

type MergeStrategy = Extract<FieldPatchStrategy, { strategy: 'merge' }>;

/** What identifies a list element: its merge key's value, or the element itself for primitives. */
function identityOf(element: JsonValue | undefined, mergeKey: string | undefined): JsonValue | undefined {
  if (mergeKey === undefined) return element;
  return isJsonObject(element) ? getOwn(element, mergeKey) : undefined;
}

function indexIn(list: readonly JsonValue[], element: JsonValue, mergeKey: string | undefined): number {
  const identity = identityOf(element, mergeKey);
  if (identity === undefined) return -1;
  return list.findIndex((candidate) => jsonEqual(identityOf(candidate, mergeKey), identity));
}

/** Splits `$patch` elements off a list patch: deletions by key are done on `base`, `replace` is noted. */
function applyListDirectives(base: JsonValue[], patch: readonly JsonValue[], path: Path, mergeKey: string | undefined) {
  const items: JsonValue[] = [];
  let replace = false;
  for (const element of patch) {
    const directive = isJsonObject(element) ? getOwn(element, patchDirective) : undefined;
    if (directive === undefined) {
      items.push(element);
    } else if (directive === 'delete') {
      if (mergeKey === undefined) fail(path, `$patch: delete needs a list merged by key; use ${deleteFromPrimitiveListPrefix}${path.at(-1) ?? ''} for primitives`);
      const identity = identityOf(element, mergeKey);
      if (identity === undefined) fail(path, `$patch: delete element ${describeJson(element)} has no merge key "${mergeKey}"`);
      base = base.filter((candidate) => !jsonEqual(identityOf(candidate, mergeKey), identity));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      fail(path, 'merging lists cannot yet be specified in the patch ($patch: merge)');
    } else {
      fail(path, `unknown $patch directive ${describeJson(directive)} in a list (expected "replace" or "delete")`);
    }
  }
  return { base, items, replace };
}

/** mergeSlice: deletions, then merge by key (or set union), then Kubernetes' element order. */
function mergeList(target: readonly JsonValue[], patch: readonly JsonValue[], path: Path, strategy: MergeStrategy, strategies: Strategies): JsonValue[] {
  const { mergeKey } = strategy;
  const { base, items, replace } = applyListDirectives([...target], patch, path, mergeKey);
  if (replace) return cloneJson(items);
  const merged = mergeKey === undefined ? unionOf(base, items) : mergeByKey(base, items, path, mergeKey, strategies);
  return orderElements(merged, items, base, mergeKey);
}

function unionOf(base: readonly JsonValue[], items: readonly JsonValue[]): JsonValue[] {
  const union: JsonValue[] = [];
  for (const element of [...base, ...items]) {
    if (!union.some((kept) => jsonEqual(kept, element))) union.push(cloneJson(element));
  }
  return union;
}

function mergeByKey(base: readonly JsonValue[], items: readonly JsonValue[], path: Path, mergeKey: string, strategies: Strategies): JsonValue[] {
  const merged = [...base];
  for (const item of items) {
    if (!isJsonObject(item)) fail(path, `element ${describeJson(item)} is not an object, but the list merges by "${mergeKey}"`);
    const object = item as JsonObject;
    if (getOwn(object, mergeKey) === undefined) fail(path, `element ${describeJson(item)} has no merge key "${mergeKey}"`);
    const index = indexIn(merged, object, mergeKey);
    const existing = index >= 0 ? merged[index] : undefined;
    const result = mergeObject(isJsonObject(existing) ? existing : undefined, object, path, strategies);
    if (index >= 0) merged[index] = result;
    else merged.push(result);
  }
  return merged;
}

/**
 * Kubernetes' order for a merged list (normalizeElementOrder): elements named in `patchOrder` in
 * that order, the others in their server order, interleaved by server order where both are known
 * and patch elements first where not (so a new element without $setElementOrder goes first).
 */
function orderElements(merged: readonly JsonValue[], patchOrder: readonly JsonValue[], serverOrder: readonly JsonValue[], mergeKey: string | undefined): JsonValue[] {
  const rank = (list: readonly JsonValue[]) => (element: JsonValue) => {
    const index = indexIn(list, element, mergeKey);
    return index < 0 ? Number.MAX_SAFE_INTEGER : index;
  };
  const patchRank = rank(patchOrder);
  const serverRank = rank(serverOrder);
  const patchItems = merged.filter((element) => indexIn(patchOrder, element, mergeKey) >= 0).sort((a, b) => patchRank(a) - patchRank(b));
  const serverOnly = merged.filter((element) => indexIn(patchOrder, element, mergeKey) < 0).sort((a, b) => serverRank(a) - serverRank(b));
  return mergeSorted(serverOnly, patchItems, serverOrder, mergeKey);
}

/** mergeSortedSlice: a server-only element goes before a patch element only if the server order says so. */
function mergeSorted(serverOnly: readonly JsonValue[], patchItems: readonly JsonValue[], serverOrder: readonly JsonValue[], mergeKey: string | undefined): JsonValue[] {
  const result: JsonValue[] = [];
  let serverIndex = 0;
  let patchIndex = 0;
  while (serverIndex < serverOnly.length || patchIndex < patchItems.length) {
    const left = serverOnly[serverIndex];
    const right = patchItems[patchIndex];
    if (left === undefined || right === undefined) {
      result.push(...serverOnly.slice(serverIndex), ...patchItems.slice(patchIndex));
      break;
    }
    const leftAt = indexIn(serverOrder, left, mergeKey);
    const rightAt = indexIn(serverOrder, right, mergeKey);
    if (leftAt >= 0 && rightAt >= 0 && leftAt < rightAt) {
      result.push(left);
      serverIndex += 1;
    } else {
      result.push(right);
      patchIndex += 1;
    }
  }
  return result;
}

/**
 * `$setElementOrder/<field>`: merges the field's list (if the patch has one) and puts the elements
 * the directive names in its order. Returns whether the field's list was handled here.
 */
function applyElementOrder(result: JsonObject, patch: JsonObject, field: string, path: Path, strategies: Strategies): boolean {
  const order = getOwn(patch, `${setElementOrderPrefix}${field}`);
  if (!Array.isArray(order)) return fail(path, `${setElementOrderPrefix}${field} must be a list, got ${describeJson(order)}`);
  const strategy = strategyAt(strategies, path);
  // An atomic list has no order to set: the ordinary merge replaces it.
  if (strategy?.strategy !== 'merge') return false;
  const current = getOwn(result, field);
  const patchList = getOwn(patch, field);
  if (patchList !== undefined && !Array.isArray(patchList)) return false;
  const { mergeKey } = strategy;
  if (mergeKey !== undefined && order.some((entry) => identityOf(entry, mergeKey) === undefined)) {
    fail(path, `every ${setElementOrderPrefix}${field} entry needs the merge key "${mergeKey}"`);
  }
  if (patchList !== undefined) checkAgainstOrder(patchList, order, path, mergeKey);
  const serverOrder = Array.isArray(current) ? current : [];
  if (patchList === undefined && !Array.isArray(current)) return true;
  const merged = patchList === undefined ? [...serverOrder] : mergeList(serverOrder, patchList, path, strategy, strategies);
  setOwn(result, field, orderElements(merged, order, serverOrder, mergeKey));
  return true;
}

/** validatePatchWithSetOrderList: each patch element is in the order list, in the same relative order. */
function checkAgainstOrder(patchList: readonly JsonValue[], order: readonly JsonValue[], path: Path, mergeKey: string | undefined): void {
  let previous = -1;
  for (const element of patchList) {
    if (isJsonObject(element) && Object.hasOwn(element, patchDirective)) continue;
    const at = indexIn(order, element, mergeKey);
    if (at < 0) fail(path, `element ${describeJson(element)} is missing from ${setElementOrderPrefix}${path.at(-1) ?? ''}`);
    if (at < previous) fail(path, `element ${describeJson(element)} is out of the order ${setElementOrderPrefix}${path.at(-1) ?? ''} gives`);
    previous = at;
  }
}

/** `$retainKeys`: clears every key of the map not listed; a non-null patch key must be listed. */
function applyRetainKeys(result: JsonObject, patch: JsonObject, path: Path): void {
  const retained = getOwn(patch, retainKeysDirective);
  if (retained === undefined) return;
  if (!Array.isArray(retained) || !retained.every((key) => typeof key === 'string')) {
    fail(path, `${retainKeysDirective} must be a list of strings, got ${describeJson(retained)}`);
  }
  const keys = new Set(retained as string[]);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || isDirectiveKey(key)) continue;
    if (!keys.has(key)) fail(path, `field "${key}" is in the patch but not in ${retainKeysDirective}`);
  }
  for (const key of Object.keys(result)) {
    if (!keys.has(key)) delete result[key];
  }
}

/** `$deleteFromPrimitiveList/<field>`: removes every listed value from the field's list, if there is one. */
function deleteFromPrimitiveList(result: JsonObject, field: string, values: JsonValue, path: Path): void {
  if (!Array.isArray(values)) fail([...path, field], `${deleteFromPrimitiveListPrefix}${field} must be a list, got ${describeJson(values)}`);
  const current = getOwn(result, field);
  if (!Array.isArray(current)) return;
  const doomed = values as JsonValue[];
  setOwn(result, field, current.filter((element) => !doomed.some((value) => jsonEqual(value, element))));
}
