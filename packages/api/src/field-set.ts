// Sets of field paths as server-side apply tracks them (sigs.k8s.io/structured-merge-diff
// fieldpath), in Kubernetes' FieldsV1 encoding: `f:<name>` a field, `k:{"name":"x"}` a list item
// by its merge key, `v:<json>` a member of a set-like list, and `.` the item itself when it also
// has children listed. Without Kubernetes' OpenAPI schemas, the kind's patch-strategy table says
// which lists are keyed, which are sets and which are atomic.

import { describeJson, getOwn, isJsonObject, jsonEqual, setOwn, type JsonObject, type JsonValue } from './json-value.js';
import { patchStrategiesFor, type FieldPatchStrategy } from './patch-strategies.js';

/** One step of a path, already encoded: `f:spec`, `k:{"name":"app"}`, `v:"x"`. */
export type PathElement = string;
export type FieldPath = readonly PathElement[];

/**
 * The Map key of a path: each element after a NUL. Elements hold no NUL but in a field name that
 * has one (keys and values are JSON-encoded, which escapes it); such paths are keyed by their JSON
 * behind a \u0001, which no NUL-joined key starts with, so two different paths never share a key.
 * (Cheaper than JSON.stringify of every path, which managed fields do on every write.)
 */
function pathKey(path: FieldPath): string {
  let key = '';
  for (const element of path) {
    if (element.includes('\u0000')) return `\u0001${JSON.stringify(path)}`;
    key += `\u0000${element}`;
  }
  return key;
}

/** A set of field paths; paths are compared by their encoded elements. */
export class FieldSet {
  private readonly paths = new Map<string, FieldPath>();

  constructor(paths: Iterable<FieldPath> = []) {
    for (const path of paths) this.add(path);
  }

  add(path: FieldPath): void {
    this.paths.set(pathKey(path), [...path]);
  }
  /** add() of a path array the caller hands over and never changes again: no copy. */
  addOwned(path: FieldPath): void {
    this.paths.set(pathKey(path), path);
  }
  delete(path: FieldPath): void {
    this.paths.delete(pathKey(path));
  }
  has(path: FieldPath): boolean {
    return this.paths.has(pathKey(path));
  }
  get size(): number {
    return this.paths.size;
  }
  [Symbol.iterator](): IterableIterator<FieldPath> {
    return this.paths.values();
  }
  // The set operations copy keyed entries as they are: no path is keyed twice.
  private static of(entries: Iterable<[string, FieldPath]>): FieldSet {
    const set = new FieldSet();
    for (const [key, path] of entries) set.paths.set(key, path);
    return set;
  }
  union(other: FieldSet): FieldSet {
    return FieldSet.of([...this.paths, ...other.paths]);
  }
  difference(other: FieldSet): FieldSet {
    return FieldSet.of([...this.paths].filter(([key]) => !other.paths.has(key)));
  }
  intersection(other: FieldSet): FieldSet {
    return FieldSet.of([...this.paths].filter(([key]) => other.paths.has(key)));
  }
  /** The members `keep` says yes to. */
  filter(keep: (path: FieldPath) => boolean): FieldSet {
    return FieldSet.of([...this.paths].filter(([, path]) => keep(path)));
  }
  /** Whether some member lies strictly below `path`. */
  hasDescendantOf(path: FieldPath): boolean {
    return [...this].some((member) => member.length > path.length && path.every((element, index) => member[index] === element));
  }
  equals(other: FieldSet): boolean {
    if (this.size !== other.size) return false;
    for (const key of this.paths.keys()) if (!other.paths.has(key)) return false;
    return true;
  }
}

/** Field names whose value is a granular map (not a struct): an Update that creates one owns the map itself too. */
const mapTypedFields = new Set(['labels', 'annotations', 'nodeSelector', 'matchLabels', 'data', 'binaryData', 'stringData', 'limits', 'requests', 'capacity', 'allocatable']);

/** Top-level and metadata fields the server owns, which no manager is recorded for (fieldmanager's stripped set). */
const strippedTop = new Set(['apiVersion', 'kind', 'status']);
const strippedMetadata = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'selfLink', 'managedFields']);

export const fieldElement = (name: string): PathElement => `f:${name}`;
export const keyElement = (mergeKey: string, value: JsonValue): PathElement => `k:${JSON.stringify({ [mergeKey]: value })}`;
export const valueElement = (value: JsonValue): PathElement => `v:${JSON.stringify(value)}`;

/** How deep to record: `apply` is SMD's ToFieldSet (leaves, list items, empty maps); `update` also records granular maps. */
export type FieldSetMode = 'apply' | 'update';

/** The set of fields `object` sets, for `kind`. */
export function managedFieldSetOf(object: JsonObject, kind: string, mode: FieldSetMode): FieldSet {
  const set = new FieldSet();
  const strategies = patchStrategiesFor(kind);
  for (const [key, value] of Object.entries(object)) {
    if (strippedTop.has(key)) continue;
    if (key === 'metadata' && isJsonObject(value)) {
      for (const [metaKey, metaValue] of Object.entries(value)) {
        if (!strippedMetadata.has(metaKey)) walk(metaValue, [fieldElement('metadata'), fieldElement(metaKey)], `metadata.${metaKey}`, metaKey, strategies, mode, set);
      }
    } else {
      walk(value, [fieldElement(key)], key, key, strategies, mode, set);
    }
  }
  return set;
}

/** `dotted`: the field names down to `value` joined by dots (the strategy table's key); `name`: the last of them. */
function walk(value: JsonValue, path: FieldPath, dotted: string, name: string, strategies: ReadonlyMap<string, FieldPatchStrategy>, mode: FieldSetMode, set: FieldSet): void {
  const strategy = strategies.get(dotted);
  if (isJsonObject(value) && strategy?.strategy !== 'replace') {
    const entries = Object.entries(value);
    if (entries.length === 0 || (mode === 'update' && mapTypedFields.has(name))) set.addOwned(path);
    for (const [key, member] of entries) walk(member, [...path, fieldElement(key)], `${dotted}.${key}`, key, strategies, mode, set);
    return;
  }
  if (Array.isArray(value) && strategy?.strategy === 'merge') {
    const { mergeKey } = strategy;
    for (const item of value) {
      if (mergeKey === undefined) {
        set.addOwned([...path, valueElement(item)]);
      } else if (isJsonObject(item) && getOwn(item, mergeKey) !== undefined) {
        const itemPath = [...path, keyElement(mergeKey, getOwn(item, mergeKey) ?? null)];
        set.addOwned(itemPath);
        for (const [key, member] of Object.entries(item)) walk(member, [...itemPath, fieldElement(key)], `${dotted}.${key}`, key, strategies, mode, set);
      } else {
        // An item without its key cannot be addressed: own the list whole.
        set.addOwned(path);
        return;
      }
    }
    if (value.length === 0) set.addOwned(path);
    return;
  }
  set.addOwned(path);
}

/** Encodes a set as a FieldsV1 object, as it appears in `managedFields[].fieldsV1`. */
export function toFieldsV1(set: FieldSet): JsonObject {
  const tree: JsonObject = {};
  for (const path of set) {
    let node = tree;
    for (const element of path) {
      const child = getOwn(node, element);
      const next: JsonObject = isJsonObject(child) ? child : {};
      setOwn(node, element, next);
      node = next;
    }
  }
  return sortFields(tree, set);
}

/** Adds "." where a member has children and orders keys as Go's JSON encoding of the map does. */
function sortFields(node: JsonObject, set: FieldSet, path: FieldPath = []): JsonObject {
  const sorted: JsonObject = {};
  const keys = Object.keys(node).filter((key) => key !== '.');
  if (keys.length > 0 && path.length > 0 && set.has(path)) setOwn(sorted, '.', {});
  for (const key of keys.sort()) {
    const child = getOwn(node, key);
    setOwn(sorted, key, sortFields(isJsonObject(child) ? child : {}, set, [...path, key]));
  }
  return sorted;
}

/** Decodes a FieldsV1 object; throws TypeError naming the first malformed part. */
export function fromFieldsV1(fields: unknown, path: FieldPath = []): FieldSet {
  const set = new FieldSet();
  if (!isJsonObject(fields)) throw new TypeError(`fieldsV1 at ${describePath(path)} must be an object, got ${describeJson(fields)}`);
  const keys = Object.keys(fields);
  if (path.length > 0 && (keys.length === 0 || keys.includes('.'))) set.add(path);
  for (const key of keys) {
    if (key === '.') continue;
    if (!/^[fkvi]:/.test(key)) throw new TypeError(`fieldsV1 at ${describePath(path)} has key ${JSON.stringify(key)}, which is not f:, k:, v: or i:`);
    for (const member of fromFieldsV1(getOwn(fields, key), [...path, key])) set.add(member);
  }
  return set;
}

/** SMD's Path.String(): `.spec.containers[name="app"].image`, `.metadata.finalizers[="x"]`. */
export function describePath(path: FieldPath): string {
  return path
    .map((element) => {
      const body = element.slice(2);
      if (element.startsWith('f:')) return `.${body}`;
      if (element.startsWith('k:')) {
        const key = JSON.parse(body) as JsonObject;
        return `[${Object.entries(key).map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(',')}]`;
      }
      if (element.startsWith('v:')) return `[=${body}]`;
      return `[${body}]`;
    })
    .join('');
}

/** The container that holds the last element of `path` and how to reach it there, or undefined if absent. */
function locate(object: JsonObject, path: FieldPath): { parent: JsonObject | JsonValue[]; at: string | number } | undefined {
  let node: JsonValue = object;
  for (let index = 0; index < path.length; index += 1) {
    const element = path[index] ?? '';
    const body = element.slice(2);
    let parent: JsonObject | JsonValue[];
    let at: string | number;
    if (element.startsWith('f:')) {
      if (!isJsonObject(node) || !Object.hasOwn(node, body)) return undefined;
      parent = node;
      at = body;
    } else if (Array.isArray(node) && (element.startsWith('k:') || element.startsWith('v:'))) {
      const wanted = JSON.parse(body) as JsonValue;
      const found: number = element.startsWith('v:')
        ? node.findIndex((item) => jsonEqual(item, wanted))
        : node.findIndex((item) => isJsonObject(item) && isJsonObject(wanted) && Object.entries(wanted).every(([name, value]) => jsonEqual(getOwn(item, name), value)));
      if (found < 0) return undefined;
      parent = node;
      at = found;
    } else {
      return undefined;
    }
    if (index === path.length - 1) return { parent, at };
    node = Array.isArray(parent) ? (parent[at as number] ?? null) : (getOwn(parent, at as string) ?? null);
  }
  return undefined;
}

/** The value at `path`, or undefined when the object has nothing there. */
export function valueAtPath(object: JsonObject, path: FieldPath): JsonValue | undefined {
  const place = locate(object, path);
  if (place === undefined) return undefined;
  return Array.isArray(place.parent) ? place.parent[place.at as number] : getOwn(place.parent, place.at as string);
}

/** Removes the field or list item at `path` from `object` in place; an absent path is a no-op. */
export function removePath(object: JsonObject, path: FieldPath): void {
  const place = locate(object, path);
  if (place === undefined) return;
  if (Array.isArray(place.parent)) place.parent.splice(place.at as number, 1);
  else delete place.parent[place.at as string];
}
