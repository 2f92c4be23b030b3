// What the apiserver does to an object's metadata on create, update and delete (apiserver
// pkg/registry/rest create.go, update.go, delete.go). Pure: time, uids and randomness are injected,
// so the results can travel inside a Raft entry (DESIGN rule 3).

import assert from 'node:assert/strict';
import type { ResourceInfo } from './kinds.js';
import type { Pod } from './types/core.js';
import type { KubeObject, Time } from './types/meta.js';
import { deepEqual } from './validation-support.js';

/** The apiserver's sources of time, identity and chance, injected. */
export interface MetadataEnv {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** A fresh RFC 4122 uid. */
  uid(): string;
  /** A number in [0, 1); the seeded generator in tests and simulations. */
  random(): number;
}

/** What the metadata code needs to know about a kind. */
export type KindTraits = Pick<ResourceInfo, 'kind' | 'tracksGeneration' | 'subresources'>;

/** Kubernetes' alphabet for generated names: no vowels (no words) and no look-alike characters. */
export const generatedNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';
export const generatedSuffixLength = 5;
/** A generated name stays a DNS label: 63 minus the random suffix. */
export const generateNamePrefixLengthMax = 63 - generatedSuffixLength;

/** metav1.Time on the wire: RFC 3339 in UTC, whole seconds. */
export function formatTime(epochMs: number): Time {
  assert.ok(Number.isFinite(epochMs), `formatTime: epochMs ${epochMs} is not a finite number`);
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Milliseconds since the epoch for a metav1.Time, or NaN when it is not a time. */
export function parseTime(time: Time): number {
  return Date.parse(time);
}

/** names.SimpleNameGenerator: the prefix (cut to 58 characters) plus five random characters. */
export function generateName(prefix: string, random: () => number): string {
  let suffix = '';
  for (let i = 0; i < generatedSuffixLength; i++) {
    const r = random();
    assert.ok(r >= 0 && r < 1, `random() returned ${r}, outside [0, 1)`);
    suffix += generatedNameAlphabet[Math.floor(r * generatedNameAlphabet.length)];
  }
  return prefix.slice(0, generateNamePrefixLengthMax) + suffix;
}

function hasStatusSubresource(traits: KindTraits): boolean {
  return traits.subresources.some((s) => s.name === 'status');
}

/**
 * A copy of `obj` as it will be stored on create: name from generateName when it has none, a new
 * uid, creationTimestamp now, generation 1 for kinds that track it. Fields only the server may set
 * (resourceVersion, deletion marks) are dropped; the store assigns resourceVersion.
 */
export function prepareForCreate<T extends KubeObject>(obj: T, traits: KindTraits, env: MetadataEnv): T {
  const copy = structuredClone(obj);
  const meta = (copy.metadata ??= {});
  if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName, () => env.random());
  meta.uid = env.uid();
  meta.creationTimestamp = formatTime(env.now());
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  if (traits.tracksGeneration) meta.generation = 1;
  else delete meta.generation;
  return copy;
}

export interface UpdateOptions {
  /** `status` when the request is to the status subresource: only status may change then. */
  subresource?: 'status';
}

/**
 * A copy of `next` as it will be stored when it replaces `prev`: server-owned fields come from
 * `prev` (creationTimestamp, an empty uid, deletion marks), generation rises by one when the spec
 * changed, and for kinds with a status subresource the main resource keeps the old status and the
 * status subresource keeps the old spec. Changes to name, namespace or a non-empty uid are left
 * for validateUpdate to reject.
 */
export function prepareForUpdate<T extends KubeObject>(next: T, prev: T, traits: KindTraits, options: UpdateOptions = {}): T {
  const copy = structuredClone(next);
  const meta = (copy.metadata ??= {});
  const old = prev.metadata ?? {};
  if (!meta.uid && old.uid !== undefined) meta.uid = old.uid;
  if (old.creationTimestamp !== undefined) meta.creationTimestamp = old.creationTimestamp;
  if (old.deletionTimestamp !== undefined) meta.deletionTimestamp = old.deletionTimestamp;
  if (old.deletionGracePeriodSeconds !== undefined && meta.deletionGracePeriodSeconds === undefined) {
    meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
  }
  if (hasStatusSubresource(traits)) {
    if (options.subresource === 'status') copy.spec = structuredClone(prev.spec);
    else copy.status = structuredClone(prev.status);
  }
  if (traits.tracksGeneration) {
    const generation = old.generation ?? 0;
    meta.generation = deepEqual(copy.spec, prev.spec) ? generation : generation + 1;
  } else {
    delete meta.generation;
  }
  return copy;
}

/** What the store does with an object asked to be deleted. */
export type DeletePlan<T> =
  | { action: 'remove' }
  /** Store this object instead: it is marked for deletion and stays until its grace or finalizers end. */
  | { action: 'update'; object: T };

export interface DeleteRequest {
  /** DeleteOptions.gracePeriodSeconds; absent means the object's own (a pod's terminationGracePeriodSeconds). */
  gracePeriodSeconds?: number;
}

/**
 * The grace period a delete gets. Only pods are deleted gracefully; a pod that is not bound to a
 * node, or has already finished, has no process to stop and goes at once (pod CheckGracefulDelete).
 */
export function deleteGracePeriodSeconds(obj: KubeObject, request: DeleteRequest): number {
  if (obj.kind !== 'Pod') return 0;
  const pod = obj as Pod;
  if (!pod.spec?.nodeName) return 0;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
  const seconds = request.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, seconds);
}

/**
 * Decides a DELETE: remove the object now, or store it marked with deletionTimestamp (now + grace)
 * and deletionGracePeriodSeconds, when it has a grace period to run or finalizers to wait for. A
 * second delete may shorten a running grace period, measured from when the first one started.
 */
export function planDelete<T extends KubeObject>(obj: T, request: DeleteRequest, env: Pick<MetadataEnv, 'now'>): DeletePlan<T> {
  const meta = obj.metadata ?? {};
  const finalizers = meta.finalizers ?? [];
  let grace = deleteGracePeriodSeconds(obj, request);
  let deletionMs = env.now() + grace * 1000;
  if (meta.deletionTimestamp !== undefined) {
    const currentGrace = meta.deletionGracePeriodSeconds ?? 0;
    if (grace >= currentGrace) {
      // Already being deleted, no sooner: nothing changes unless the grace has run out and nothing holds it.
      return currentGrace === 0 && finalizers.length === 0 ? { action: 'remove' } : { action: 'update', object: obj };
    }
    const startedMs = parseTime(meta.deletionTimestamp) - currentGrace * 1000;
    deletionMs = startedMs + grace * 1000;
    grace = Math.max(0, grace);
  }
  if (grace === 0 && finalizers.length === 0) return { action: 'remove' };
  const marked = structuredClone(obj);
  marked.metadata.deletionTimestamp = formatTime(deletionMs);
  marked.metadata.deletionGracePeriodSeconds = grace;
  return { action: 'update', object: marked };
}

/**
 * Whether an update leaves an object that is due to go: marked for deletion with no grace left
 * and no finalizers (the last finalizer was just removed). The store then deletes it instead.
 */
export function shouldRemoveAfterUpdate(obj: KubeObject): boolean {
  const meta = obj.metadata ?? {};
  return meta.deletionTimestamp !== undefined && (meta.finalizers ?? []).length === 0 && (meta.deletionGracePeriodSeconds ?? 0) === 0;
}
