// Server-side apply with field managers (Kubernetes' fieldmanager over structured-merge-diff), to
// the degree kubectl uses it: an Apply makes its manager own exactly the fields it sent, drops
// fields it stopped sending that nobody else owns, and refuses (409) to change a value another
// manager owns unless forced. An Update gives its manager the fields it changed, taking them from
// everyone else, so a later Apply by someone else conflicts on them.

import { cloneJson, getOwn, isJsonObject, jsonEqual, setOwn, toJsonValue, type JsonObject, type JsonValue } from './json-value.js';
import { patchStrategiesFor, type FieldPatchStrategy } from './patch-strategies.js';
import { FieldSet, describePath, managedFieldSetOf, fromFieldsV1, removePath, toFieldsV1, valueAtPath, type FieldPath } from './field-set.js';
import type { Status, StatusCause } from './types/meta.js';

/** The manager Kubernetes records for fields of an object that existed before its first apply. */
export const beforeFirstApplyManager = 'before-first-apply';

export type ManagedFieldsOperation = 'Apply' | 'Update';

/** One `metadata.managedFields` entry, decoded. */
interface ManagerEntry {
  manager: string;
  operation: ManagedFieldsOperation;
  apiVersion: string;
  time: string;
  subresource?: string;
  fields: FieldSet;
}

/** A field another manager owns with a different value than the apply sets. */
export interface ApplyConflict {
  manager: string;
  operation: ManagedFieldsOperation;
  apiVersion: string;
  time: string;
  path: FieldPath;
}

export interface ServerSideApplyRequest {
  /** The live object, or null when the apply creates it. */
  current: object | null;
  /** The applied configuration (the parsed `application/apply-patch+yaml` body). */
  applied: object;
  /** The field manager (`?fieldManager=`, kubectl's default is `kubectl`). */
  manager: string;
  /** `?force=true`: take conflicting fields over instead of failing. */
  force: boolean;
  kind: string;
  /** The time recorded on changed entries, RFC 3339. */
  now: string;
}

export interface ServerSideApplyResult {
  /** The object to store, with its managedFields; the live object unchanged when there are conflicts. */
  object: JsonObject;
  /** The 409 Status to send when the apply conflicts and is not forced; null when it applied. */
  conflicts: Status | null;
}

/** Server-side apply of `applied` onto `current` by `manager`. Neither input is changed. */
export function applyServerSide(request: ServerSideApplyRequest): ServerSideApplyResult {
  const { manager, force, kind, now } = request;
  const live = asObject(request.current ?? {}, 'the live object');
  const config = withoutManagedFields(asObject(request.applied, 'the applied configuration'));
  const apiVersion = stringMember(config, 'apiVersion') ?? stringMember(live, 'apiVersion');
  if (apiVersion === undefined) throw new TypeError('the applied configuration has no apiVersion; server-side apply needs one');

  let entries = readManagedFields(live);
  if (request.current !== null && entries.length === 0) {
    const existing = managedFieldSetOf(withoutManagedFields(live), kind, 'update');
    if (existing.size > 0) entries = [{ manager: beforeFirstApplyManager, operation: 'Update', apiVersion, time: now, fields: existing }];
  }
  const isOwnApply = (entry: ManagerEntry) => entry.manager === manager && entry.operation === 'Apply' && entry.subresource === undefined;
  const appliedFields = managedFieldSetOf(config, kind, 'apply');
  const merged = mergeApplied(withoutManagedFields(live), config, [], patchStrategiesFor(kind));
  if (!isJsonObject(merged)) throw new TypeError('server-side apply merged into a non-object');

  const conflicts: ApplyConflict[] = [];
  for (const entry of entries) {
    if (isOwnApply(entry)) continue;
    for (const path of entry.fields.intersection(appliedFields)) {
      if (valueChanged(valueAtPath(live, path), valueAtPath(merged, path))) conflicts.push({ ...entryIdentity(entry), path });
    }
  }
  if (conflicts.length > 0 && !force) return { object: cloneJson(live), conflicts: applyConflictStatus(conflicts) };
  for (const conflict of conflicts) {
    entries.find((entry) => entry.manager === conflict.manager && entry.operation === conflict.operation)?.fields.delete(conflict.path);
  }

  const previous = entries.find(isOwnApply);
  const othersOwn = entries.filter((entry) => !isOwnApply(entry)).reduce((all, entry) => all.union(entry.fields), new FieldSet());
  const stillOwned = othersOwn.union(appliedFields);
  for (const path of previous?.fields.difference(appliedFields) ?? []) {
    if (stillOwned.has(path) || stillOwned.hasDescendantOf(path) || isItemKeyField(path)) continue;
    removePath(merged, path);
  }

  const own: ManagerEntry = {
    manager,
    operation: 'Apply',
    apiVersion,
    // An apply that changes neither the object nor the manager's fields keeps the entry as it was.
    time: previous !== undefined && previous.fields.equals(appliedFields) && previous.apiVersion === apiVersion && jsonEqual(merged, withoutManagedFields(live)) ? previous.time : now,
    fields: appliedFields,
  };
  const next = previous === undefined ? [...entries, own] : entries.map((entry) => (entry === previous ? own : entry));
  return { object: withManagedFields(merged, next), conflicts: null };
}

/**
 * Records a non-apply write (create, update, patch) by `manager`: it comes to own every field it
 * added or changed, other managers lose those fields, and removed fields leave every set.
 * Returns `next` with its managedFields; `previous` is null for a create.
 */
export function recordUpdate(previous: object | null, next: object, manager: string, kind: string, now: string): JsonObject {
  const before = withoutManagedFields(asObject(previous ?? {}, 'the previous object'));
  const after = withoutManagedFields(asObject(next, 'the updated object'));
  const apiVersion = stringMember(after, 'apiVersion') ?? stringMember(before, 'apiVersion') ?? '';
  const beforeFields = managedFieldSetOf(before, kind, 'update');
  const afterFields = managedFieldSetOf(after, kind, 'update');
  const removed = beforeFields.difference(afterFields);
  const changed = afterFields.filter((path) => !beforeFields.has(path) || valueChanged(valueAtPath(before, path), valueAtPath(after, path)));

  const entries = previous === null ? [] : readManagedFields(asObject(previous, 'the previous object'));
  const isOwnUpdate = (entry: ManagerEntry) => entry.manager === manager && entry.operation === 'Update' && entry.subresource === undefined;
  const old = entries.find(isOwnUpdate);
  const ownFields = (old?.fields ?? new FieldSet()).union(changed).difference(removed);
  const touched = changed.size > 0 || removed.size > 0;
  const own: ManagerEntry = { manager, operation: 'Update', apiVersion, time: touched || old === undefined ? now : old.time, fields: ownFields };
  // An update is always forced: whoever owned a changed or removed field loses it.
  const updated = entries.map((entry) => (isOwnUpdate(entry) ? own : { ...entry, fields: entry.fields.difference(changed).difference(removed) }));
  if (old === undefined) updated.push(own);
  return withManagedFields(after, updated);
}

/** The 409 Status Kubernetes sends for apply conflicts (internal.NewConflictError). */
export function applyConflictStatus(conflicts: readonly ApplyConflict[]): Status {
  const causes: StatusCause[] = conflicts.map((conflict) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(conflict)}`,
    field: describePath(conflict.path),
  }));
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: conflictMessage(conflicts), reason: 'Conflict', details: { causes }, code: 409 };
}

function conflictMessage(conflicts: readonly ApplyConflict[]): string {
  const [only] = conflicts;
  if (conflicts.length === 1 && only !== undefined) return `Apply failed with 1 conflict: conflict with ${printManager(only)}: ${describePath(only.path)}`;
  const byManager = new Map<string, string[]>();
  for (const conflict of conflicts) {
    const name = printManager(conflict);
    byManager.set(name, [...(byManager.get(name) ?? []), describePath(conflict.path)]);
  }
  const lines = [...byManager.keys()].sort().flatMap((name) => [`conflicts with ${name}:`, ...(byManager.get(name) ?? []).map((path) => `- ${path}`)]);
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** fieldmanager's printManager: an Update manager is named with its apiVersion and time. */
function printManager(conflict: ApplyConflict): string {
  const name = JSON.stringify(conflict.manager);
  if (conflict.operation !== 'Update') return name;
  if (conflict.time === '') return `${name} using ${conflict.apiVersion}`;
  const time = new Date(conflict.time);
  const rfc3339 = Number.isNaN(time.getTime()) ? conflict.time : time.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `${name} using ${conflict.apiVersion} at ${rfc3339}`;
}

function entryIdentity(entry: ManagerEntry): Omit<ApplyConflict, 'path'> {
  return { manager: entry.manager, operation: entry.operation, apiVersion: entry.apiVersion, time: entry.time };
}

/** SMD reports a conflict on leaf values that change; maps and list items present on both sides do not conflict themselves. */
function valueChanged(before: JsonValue | undefined, after: JsonValue | undefined): boolean {
  if (isJsonObject(before) && isJsonObject(after)) return false;
  return !jsonEqual(before, after);
}

/** The merge-key field of a list item (`k:{"name":"x"}` then `f:name`): it goes only with the item. */
function isItemKeyField(path: FieldPath): boolean {
  const item = path.at(-2);
  const field = path.at(-1);
  if (item === undefined || field === undefined || !item.startsWith('k:') || !field.startsWith('f:')) return false;
  return Object.hasOwn(JSON.parse(item.slice(2)) as JsonObject, field.slice(2));
}

/** Merges the applied configuration into the live object: maps by member, keyed lists by key, sets by union. */
function mergeApplied(live: JsonValue | undefined, applied: JsonValue, names: readonly string[], strategies: ReadonlyMap<string, FieldPatchStrategy>): JsonValue {
  const strategy = strategies.get(names.join('.'));
  if (isJsonObject(applied) && strategy?.strategy !== 'replace') {
    const result: JsonObject = isJsonObject(live) ? cloneJson(live) : {};
    for (const [key, value] of Object.entries(applied)) setOwn(result, key, mergeApplied(getOwn(result, key), value, [...names, key], strategies));
    return result;
  }
  if (Array.isArray(applied) && Array.isArray(live) && strategy?.strategy === 'merge') {
    const { mergeKey } = strategy;
    const result = cloneJson(live);
    const identity = (item: JsonValue) => (mergeKey === undefined ? item : isJsonObject(item) ? getOwn(item, mergeKey) : undefined);
    for (const item of applied) {
      const key = identity(item);
      const index = key === undefined ? -1 : result.findIndex((candidate) => jsonEqual(identity(candidate), key));
      if (index < 0) result.push(cloneJson(item));
      else if (mergeKey !== undefined) result[index] = mergeApplied(result[index], item, names, strategies);
    }
    return result;
  }
  return cloneJson(applied);
}

function readManagedFields(object: JsonObject): ManagerEntry[] {
  const metadata = getOwn(object, 'metadata');
  const list = isJsonObject(metadata) ? getOwn(metadata, 'managedFields') : undefined;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new TypeError('metadata.managedFields must be a list');
  return list.map((raw, index) => {
    if (!isJsonObject(raw)) throw new TypeError(`metadata.managedFields[${index}] must be an object`);
    const manager = stringMember(raw, 'manager') ?? '';
    const operation = getOwn(raw, 'operation');
    if (operation !== 'Apply' && operation !== 'Update') throw new TypeError(`metadata.managedFields[${index}].operation must be "Apply" or "Update", got ${JSON.stringify(operation)}`);
    const fieldsType = getOwn(raw, 'fieldsType');
    if (fieldsType !== undefined && fieldsType !== 'FieldsV1') throw new TypeError(`metadata.managedFields[${index}].fieldsType must be "FieldsV1", got ${JSON.stringify(fieldsType)}`);
    const entry: ManagerEntry = {
      manager,
      operation,
      apiVersion: stringMember(raw, 'apiVersion') ?? '',
      time: stringMember(raw, 'time') ?? '',
      fields: fromFieldsV1(getOwn(raw, 'fieldsV1') ?? {}),
    };
    const subresource = stringMember(raw, 'subresource');
    if (subresource !== undefined && subresource !== '') entry.subresource = subresource;
    return entry;
  });
}

/** `object` with metadata.managedFields set from `entries`, in Kubernetes' member order; empty entries are dropped. */
function withManagedFields(object: JsonObject, entries: readonly ManagerEntry[]): JsonObject {
  const result = cloneJson(object);
  const metadata: JsonObject = isJsonObject(result.metadata) ? result.metadata : {};
  const encoded: JsonValue[] = entries
    .filter((entry) => entry.fields.size > 0)
    .map((entry) => {
      const raw: JsonObject = { manager: entry.manager, operation: entry.operation, apiVersion: entry.apiVersion, time: entry.time, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(entry.fields) };
      if (entry.subresource !== undefined) raw.subresource = entry.subresource;
      return raw;
    });
  if (encoded.length > 0) metadata.managedFields = encoded;
  else delete metadata.managedFields;
  result.metadata = metadata;
  return result;
}

function withoutManagedFields(object: JsonObject): JsonObject {
  const copy = cloneJson(object);
  if (isJsonObject(copy.metadata)) delete copy.metadata.managedFields;
  return copy;
}

function asObject(value: object, what: string): JsonObject {
  const json = toJsonValue(value, what);
  if (!isJsonObject(json)) throw new TypeError(`${what} must be a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  return json;
}

function stringMember(object: JsonObject, key: string): string | undefined {
  const value = getOwn(object, key);
  return typeof value === 'string' ? value : undefined;
}
