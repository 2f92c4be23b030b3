// JSON values as the patch and selector code sees them: the type, deep equality, copying, and
// own-property access that is safe for keys like "__proto__".

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** A plain JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own property lookup: `hasOwn` first, so "toString" or "__proto__" never reach the prototype. */
export function getOwn(object: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Sets an own property; "__proto__" is defined as data rather than replacing the prototype. */
export function setOwn(object: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

/** Deep copy of a JSON value; objects keep their key order. */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => cloneJson(item)) as T;
  if (!isJsonObject(value)) return value;
  const copy: JsonObject = {};
  for (const [key, item] of Object.entries(value)) setOwn(copy, key, cloneJson(item));
  return copy as T;
}

/** JSON equality: objects compare as unordered sets of members, arrays in order (RFC 6902 §4.6). */
export function jsonEqual(left: JsonValue | undefined, right: JsonValue | undefined): boolean {
  if (left === right) return true;
  if (Array.isArray(left)) {
    if (!Array.isArray(right) || left.length !== right.length) return false;
    return left.every((item, index) => jsonEqual(item, right[index]));
  }
  if (isJsonObject(left)) {
    if (!isJsonObject(right)) return false;
    const leftKeys = Object.keys(left);
    if (leftKeys.length !== Object.keys(right).length) return false;
    return leftKeys.every((key) => Object.hasOwn(right, key) && jsonEqual(left[key], right[key]));
  }
  return false;
}

/** A short rendering of a value for error messages, cut at `charsMax`. */
export function describeJson(value: unknown, charsMax = 80): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > charsMax ? `${text.slice(0, charsMax - 3)}...` : text;
}

/**
 * A JSON copy of a value typed elsewhere (a Pod interface, a parsed body): object members that are
 * undefined are dropped, as JSON.stringify does. Throws TypeError naming the first part that has
 * no JSON form (a function, a bigint, a non-finite number), with its JSON pointer.
 */
export function toJsonValue(value: unknown, what: string, pointer = ''): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new TypeError(`${what} has ${value} at "${pointer}", which JSON cannot hold`);
  }
  if (Array.isArray(value)) return value.map((item, index) => (item === undefined ? null : toJsonValue(item, what, `${pointer}/${index}`)));
  if (typeof value === 'object') {
    const copy: JsonObject = {};
    for (const [key, member] of Object.entries(value)) {
      if (member !== undefined) setOwn(copy, key, toJsonValue(member, what, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`));
    }
    return copy;
  }
  throw new TypeError(`${what} has a ${typeof value} at "${pointer}", which JSON cannot hold`);
}
