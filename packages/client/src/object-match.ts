// Whether a stored object is the one a create sent: the test that lets a retried create read
// 409 AlreadyExists as "my first attempt went through". Containment, not equality, because the
// server adds to what it stores (defaults in the spec, uid, resourceVersion, status) but never
// changes what the client set.

/** Top-level fields that the server owns, or that are not stored as sent (a Secret's write-only stringData). */
const serverOwnedFields: ReadonlySet<string> = new Set(['apiVersion', 'kind', 'metadata', 'status', 'stringData']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether every field of `sent` is in `stored` with the same value: objects key by key, arrays
 * element by element and of the same length (a default may fill a field inside an element, never
 * add or drop one), everything else equal.
 */
export function jsonContains(stored: unknown, sent: unknown): boolean {
  if (Array.isArray(sent)) {
    return Array.isArray(stored) && stored.length === sent.length && sent.every((item, i) => jsonContains(stored[i], item));
  }
  if (isRecord(sent)) {
    if (!isRecord(stored)) return false;
    return Object.entries(sent).every(([key, value]) => {
      // JSON has no undefined, and a null the client sent reads back as absent (Kubernetes drops nulls).
      if (!Object.hasOwn(stored, key)) return value === undefined || value === null;
      return jsonContains(stored[key], value);
    });
  }
  return Object.is(stored, sent);
}

/**
 * Whether `stored` carries what `sent` asked for: the same labels, annotations and owner
 * references, and every other field the client set (spec, data, target, subsets, ...).
 */
export function storedMatchesSent(stored: unknown, sent: unknown): boolean {
  if (!isRecord(stored) || !isRecord(sent)) return false;
  const storedMeta = isRecord(stored.metadata) ? stored.metadata : {};
  const sentMeta = isRecord(sent.metadata) ? sent.metadata : {};
  if (!jsonContains(storedMeta.labels ?? {}, sentMeta.labels ?? {})) return false;
  if (!jsonContains(storedMeta.annotations ?? {}, sentMeta.annotations ?? {})) return false;
  if (!jsonContains(storedMeta.ownerReferences ?? [], sentMeta.ownerReferences ?? [])) return false;
  return Object.entries(sent).every(([key, value]) => serverOwnedFields.has(key) || jsonContains(stored[key], value));
}
