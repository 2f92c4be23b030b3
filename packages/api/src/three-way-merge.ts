// kubectl apply's three-way merge (k8s.io/apimachinery strategicpatch.CreateThreeWayMergePatch):
// deletions come from what the last apply sent (`original`) and this apply drops (`modified`);
// additions and changes come from the live object (`current`) against `modified`. Fields that only
// the server or other clients set appear in neither diff, so they are left alone.

import { createMergePatch } from './merge-patch.js';
import { cloneJson, getOwn, isJsonObject, jsonEqual, setOwn, toJsonValue, type JsonObject, type JsonValue } from './json-value.js';
import { kindsWithPatchStrategies, patchStrategiesFor, type FieldPatchStrategy } from './patch-strategies.js';
import { deleteFromPrimitiveListPrefix, patchDirective, retainKeysDirective, setElementOrderPrefix } from './strategic-merge-patch.js';

/** The annotation where kubectl keeps the configuration it applied last. */
export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

type Strategies = ReadonlyMap<string, FieldPatchStrategy>;
type MergeStrategy = Extract<FieldPatchStrategy, { strategy: 'merge' }>;

/** Which half of the three-way diff is being built (diffMaps' DiffOptions). */
interface DiffSide {
  /** true: record only removed fields (original → modified). false: only added and changed ones (current → modified). */
  readonly deletions: boolean;
}

/**
 * The patch kubectl apply sends: applied to `current` it removes what `original` had and
 * `modified` lacks, and sets what `modified` has. `original` is null on the first apply. Kinds
 * with a strategy table get a strategic merge patch; other kinds (CRDs) a JSON merge patch.
 */
export function createThreeWayMergePatch(original: unknown, modified: unknown, current: unknown, kind: string): JsonObject {
  const before = original === null || original === undefined ? {} : toJsonValue(original, 'original (last applied)');
  const after = toJsonValue(modified, 'modified');
  const live = current === null || current === undefined ? {} : toJsonValue(current, 'current');
  if (!isJsonObject(before) || !isJsonObject(after) || !isJsonObject(live)) {
    throw new TypeError(`createThreeWayMergePatch needs JSON objects, got original ${typeof before}, modified ${typeof after}, current ${typeof live}`);
  }
  if (!kindsWithPatchStrategies().includes(kind)) return threeWayJsonMergePatch(before, after, live);
  const strategies = patchStrategiesFor(kind);
  const deletions = diffObjects(before, after, [], strategies, { deletions: true });
  const changes = diffObjects(live, after, [], strategies, { deletions: false });
  return combinePatches(deletions, changes, [], strategies);
}

/** jsonmergepatch.CreateThreeWayJSONMergePatch: the nulls of original → modified, plus current → modified without nulls. */
function threeWayJsonMergePatch(original: JsonObject, modified: JsonObject, current: JsonObject): JsonObject {
  const deletions = onlyNulls(createMergePatch(original, modified));
  const changes = withoutNulls(createMergePatch(current, modified));
  return combinePatches(isJsonObject(deletions) ? deletions : {}, isJsonObject(changes) ? changes : {});
}

function onlyNulls(patch: JsonValue): JsonValue | undefined {
  if (patch === null) return null;
  if (!isJsonObject(patch)) return undefined;
  const kept: JsonObject = {};
  for (const [key, value] of Object.entries(patch)) {
    const sub = onlyNulls(value);
    if (sub !== undefined && !(isJsonObject(sub) && Object.keys(sub).length === 0)) setOwn(kept, key, sub);
  }
  return kept;
}

function withoutNulls(patch: JsonValue): JsonValue | undefined {
  if (patch === null) return undefined;
  if (!isJsonObject(patch)) return patch;
  const kept: JsonObject = {};
  for (const [key, value] of Object.entries(patch)) {
    const sub = withoutNulls(value);
    if (sub !== undefined && !(isJsonObject(sub) && isJsonObject(value) && Object.keys(sub).length === 0 && Object.keys(value).length > 0)) setOwn(kept, key, sub);
  }
  return kept;
}

/** Merges the deletions half into the changes half: maps member by member, keyed list items by key. */
function combinePatches(deletions: JsonObject, changes: JsonObject, path: readonly string[] = [], strategies?: Strategies): JsonObject {
  const result = cloneJson(changes);
  for (const [key, value] of Object.entries(deletions)) {
    const existing = getOwn(result, key);
    const fieldPath = [...path, key];
    if (existing === undefined) setOwn(result, key, cloneJson(value));
    else if (isJsonObject(existing) && isJsonObject(value)) setOwn(result, key, combinePatches(value, existing, fieldPath, strategies));
    else if (Array.isArray(existing) && Array.isArray(value) && !key.startsWith(setElementOrderPrefix)) {
      const strategy = strategies?.get(fieldPath.join('.'));
      setOwn(result, key, combineListPatches(value, existing, strategy?.strategy === 'merge' ? strategy.mergeKey : undefined, fieldPath, strategies));
    }
    // Otherwise both halves say the same thing ($setElementOrder is modified's order in both).
  }
  return result;
}

/** One patch item per merge key: an element both halves touch (a deleted env var, a changed image) is merged. */
function combineListPatches(deletions: readonly JsonValue[], changes: readonly JsonValue[], mergeKey: string | undefined, path: readonly string[], strategies: Strategies | undefined): JsonValue[] {
  const result = cloneJson([...changes]);
  for (const item of deletions) {
    const identity = mergeKey !== undefined && isJsonObject(item) ? getOwn(item, mergeKey) : undefined;
    const index = identity === undefined ? -1 : result.findIndex((other) => isJsonObject(other) && mergeKey !== undefined && jsonEqual(getOwn(other, mergeKey), identity));
    const match = result[index];
    if (isJsonObject(item) && isJsonObject(match)) result[index] = combinePatches(item, match, path, strategies);
    else result.push(cloneJson(item));
  }
  return result;
}

function diffObjects(from: JsonObject, to: JsonObject, path: readonly string[], strategies: Strategies, side: DiffSide): JsonObject {
  const patch: JsonObject = {};
  if (side.deletions) {
    for (const key of Object.keys(from)) {
      if (!Object.hasOwn(to, key)) setOwn(patch, key, null);
    }
  }
  for (const [key, value] of Object.entries(to)) {
    const before = getOwn(from, key);
    if (before !== undefined && jsonEqual(before, value)) continue;
    const fieldPath = [...path, key];
    const strategy = strategies.get(fieldPath.join('.'));
    if (isJsonObject(before) && isJsonObject(value) && strategy?.strategy !== 'replace') {
      const sub = diffObjects(before, value, fieldPath, strategies, side);
      if (Object.keys(sub).length === 0) continue;
      if (strategy?.strategy === 'retainKeys' && !side.deletions) setOwn(sub, retainKeysDirective, Object.keys(value).sort());
      setOwn(patch, key, sub);
    } else if (Array.isArray(before) && Array.isArray(value) && strategy?.strategy === 'merge') {
      diffList(patch, key, before, value, fieldPath, strategy, strategies, side);
    } else if (!side.deletions) {
      // Added, changed in type, or an atomic value: the changes half sets it whole.
      setOwn(patch, key, cloneJson(value));
    }
  }
  return patch;
}

function identityOf(element: JsonValue, mergeKey: string | undefined): JsonValue | undefined {
  if (mergeKey === undefined) return element;
  return isJsonObject(element) ? getOwn(element, mergeKey) : undefined;
}

function keyedCleanly(list: readonly JsonValue[], mergeKey: string | undefined): boolean {
  const identities = list.map((element) => identityOf(element, mergeKey));
  return identities.every((identity, index) => identity !== undefined && identities.findIndex((other) => jsonEqual(other, identity)) === index);
}

function diffList(
  patch: JsonObject,
  key: string,
  from: readonly JsonValue[],
  to: readonly JsonValue[],
  path: readonly string[],
  strategy: MergeStrategy,
  strategies: Strategies,
  side: DiffSide,
): void {
  const { mergeKey } = strategy;
  if (!keyedCleanly(from, mergeKey) || !keyedCleanly(to, mergeKey)) {
    // No keyed patch is exact with duplicates or missing keys: the changes half replaces the list.
    if (!side.deletions) setOwn(patch, key, [{ [patchDirective]: 'replace' }, ...cloneJson([...to])]);
    return;
  }
  const find = (list: readonly JsonValue[], element: JsonValue) => list.find((candidate) => jsonEqual(identityOf(candidate, mergeKey), identityOf(element, mergeKey)));
  const items: JsonValue[] = [];
  if (side.deletions) {
    const removed = from.filter((element) => find(to, element) === undefined);
    for (const element of to) {
      const before = find(from, element);
      if (mergeKey === undefined || before === undefined || !isJsonObject(before) || !isJsonObject(element)) continue;
      const sub = diffObjects(before, element, path, strategies, side);
      if (Object.keys(sub).length > 0) items.push({ ...sub, [mergeKey]: cloneJson(getOwn(element, mergeKey) ?? null) });
    }
    if (mergeKey === undefined) {
      if (removed.length > 0) setOwn(patch, `${deleteFromPrimitiveListPrefix}${key}`, cloneJson([...removed]));
    } else {
      for (const element of removed) items.push({ [mergeKey]: cloneJson(identityOf(element, mergeKey) ?? null), [patchDirective]: 'delete' });
    }
    if (items.length > 0) setOwn(patch, key, items);
    if (items.length > 0 || removed.length > 0) setElementOrder(patch, key, to, mergeKey);
    return;
  }
  for (const element of to) {
    const before = find(from, element);
    if (before === undefined) items.push(cloneJson(element));
    else if (mergeKey !== undefined && !jsonEqual(before, element) && isJsonObject(before) && isJsonObject(element)) {
      const sub = diffObjects(before, element, path, strategies, side);
      if (Object.keys(sub).length === 0) continue;
      setOwn(sub, mergeKey, cloneJson(getOwn(element, mergeKey) ?? null));
      if (strategy.retainKeys === true) setOwn(sub, retainKeysDirective, Object.keys(element).sort());
      items.push(sub);
    }
  }
  if (items.length > 0) {
    setOwn(patch, key, items);
    setElementOrder(patch, key, to, mergeKey);
  }
}

function setElementOrder(patch: JsonObject, key: string, to: readonly JsonValue[], mergeKey: string | undefined): void {
  const order = mergeKey === undefined ? cloneJson([...to]) : to.map((element) => ({ [mergeKey]: cloneJson(identityOf(element, mergeKey) ?? null) }));
  setOwn(patch, `${setElementOrderPrefix}${key}`, order);
}

/** The configuration kubectl last applied to `live`, or null when it was never applied with kubectl. */
export function lastAppliedConfiguration(live: unknown): JsonObject | null {
  const object = toJsonValue(live, 'live object');
  const metadata = isJsonObject(object) ? getOwn(object, 'metadata') : undefined;
  const annotations = isJsonObject(metadata) ? getOwn(metadata, 'annotations') : undefined;
  const text = isJsonObject(annotations) ? getOwn(annotations, lastAppliedAnnotation) : undefined;
  if (typeof text !== 'string') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`annotation ${lastAppliedAnnotation} is not JSON: ${(error as Error).message}`);
  }
  if (!isJsonObject(parsed)) throw new TypeError(`annotation ${lastAppliedAnnotation} is not a JSON object`);
  return parsed;
}

/** `manifest` with the last-applied annotation set to itself (less that annotation), as kubectl sends it. */
export function withLastAppliedConfiguration(manifest: unknown): JsonObject {
  const copy = toJsonValue(manifest, 'manifest');
  if (!isJsonObject(copy)) throw new TypeError(`a manifest must be a JSON object, got ${typeof copy}`);
  const metadata = getOwn(copy, 'metadata');
  const annotations = isJsonObject(metadata) ? getOwn(metadata, 'annotations') : undefined;
  if (isJsonObject(annotations)) {
    delete annotations[lastAppliedAnnotation];
    if (Object.keys(annotations).length === 0 && isJsonObject(metadata)) delete metadata.annotations;
  }
  // kubectl's JSON encoder ends the annotation with a newline.
  const text = `${JSON.stringify(copy)}\n`;
  const result = cloneJson(copy);
  const resultMetadata = isJsonObject(result.metadata) ? result.metadata : {};
  const resultAnnotations = isJsonObject(resultMetadata.annotations) ? resultMetadata.annotations : {};
  setOwn(resultAnnotations, lastAppliedAnnotation, text);
  resultMetadata.annotations = resultAnnotations;
  result.metadata = resultMetadata;
  return result;
}

/** The whole of `kubectl apply` against a live object: the patch to send for `manifest`. */
export function kubectlApplyPatch(manifest: unknown, live: unknown, kind: string): JsonObject {
  return createThreeWayMergePatch(lastAppliedConfiguration(live), withLastAppliedConfiguration(manifest), live, kind);
}
