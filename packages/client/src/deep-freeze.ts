// Cached objects are shared by every handler and lister, so they are frozen all the way down: a
// controller that changes one in place throws a TypeError (ES modules run in strict mode) instead
// of corrupting the cache for everyone (STYLE §2, client-go's mutation detector). The type stays
// `T` so that pure functions taking a Pod take a cached one; copy with structuredClone to change it.

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}
