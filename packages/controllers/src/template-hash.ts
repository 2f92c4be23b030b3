// The pod-template-hash of a Deployment's template (Kubernetes' controller.ComputeHash): FNV-32a
// over a stable serialization of the template, plus the collision count, written as
// rand.SafeEncodeString of its decimal form so that it never spells a word.

import type { PodTemplateSpec } from '@raftplane/api';

export const podTemplateHashLabel = 'pod-template-hash';

/** Kubernetes' alphabet for generated strings: no vowels, no look-alike characters. */
const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with object keys sorted at every level and undefined members left out: one text per value. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : stableJson(item))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** FNV-1a, 32 bits, over bytes. */
export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** rand.SafeEncodeString: each character mapped into the safe alphabet by its code. */
export function safeEncodeString(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += safeAlphabet[text.charCodeAt(i) % safeAlphabet.length];
  return out;
}

/** The template with the pod-template-hash label taken out: what two templates are compared by. */
export function templateWithoutHash(template: PodTemplateSpec | undefined): PodTemplateSpec {
  const copy = structuredClone(template ?? {});
  const labels = copy.metadata?.labels;
  if (labels !== undefined && podTemplateHashLabel in labels) {
    delete labels[podTemplateHashLabel];
    if (Object.keys(labels).length === 0) delete copy.metadata?.labels;
  }
  return copy;
}

/** Deterministic: the same template and collision count always give the same hash (the label is ignored). */
export function computeTemplateHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let hash = fnv32a(new TextEncoder().encode(stableJson(templateWithoutHash(template))));
  if (collisionCount !== undefined) {
    // Kubernetes writes the count into the hasher as a little-endian uint32.
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(bytes, hash);
  }
  return safeEncodeString(String(hash));
}

/** deployment/util EqualIgnoreHash: the same template, the hash label aside. */
export function templatesEqualIgnoringHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return stableJson(templateWithoutHash(a)) === stableJson(templateWithoutHash(b));
}
