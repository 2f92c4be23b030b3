// The garbage collector's pure decisions (kubernetes pkg/controller/garbagecollector,
// attemptToDeleteItem and orphanDependents): which owners are gone by uid, what to do with a
// dependent, the order of a foreground deletion, and the owner-uid index its handlers keep.

import { parseApiVersion, resources, type KubeObject, type OwnerReference } from '@raftplane/api';

/** The finalizer that holds an owner deleted with propagationPolicy Foreground until its blocking dependents are gone. */
export const foregroundDeletionFinalizer = 'foregroundDeletion';
/** The finalizer that holds an owner deleted with propagationPolicy Orphan until its dependents no longer name it. */
export const orphanFinalizer = 'orphan';

/** The kinds the collector follows through the shared informers, by plural resource name. */
export const collectedResources = ['pods', 'replicasets', 'deployments', 'jobs', 'daemonsets', 'statefulsets', 'services', 'endpoints', 'configmaps', 'secrets'] as const;
export type CollectedResource = (typeof collectedResources)[number];

const collected = new Set<string>(collectedResources);

/** The collected resource an ownerReference's apiVersion and kind name, or undefined (a kind the collector does not follow). */
export function resourceOfOwnerRef(ref: Pick<OwnerReference, 'apiVersion' | 'kind'>): CollectedResource | undefined {
  const { group } = parseApiVersion(ref.apiVersion);
  const info = resources.find((r) => r.kind === ref.kind && r.group === group && collected.has(r.resource));
  return info?.resource as CollectedResource | undefined;
}

export function hasFinalizer(obj: Pick<KubeObject, 'metadata'>, finalizer: string): boolean {
  return (obj.metadata.finalizers ?? []).includes(finalizer);
}

export function isBeingDeleted(obj: Pick<KubeObject, 'metadata'>): boolean {
  return obj.metadata.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

/** Marked for deletion and waiting for its dependents (the `foregroundDeletion` finalizer). */
export function isDeletingDependents(obj: Pick<KubeObject, 'metadata'>): boolean {
  return isBeingDeleted(obj) && hasFinalizer(obj, foregroundDeletionFinalizer);
}

/** Marked for deletion and waiting for its dependents to be orphaned (the `orphan` finalizer). */
export function isOrphaningDependents(obj: Pick<KubeObject, 'metadata'>): boolean {
  return isBeingDeleted(obj) && hasFinalizer(obj, orphanFinalizer);
}

/**
 * What the owner an ownerReference names is, from the live object under that name: `absent` when
 * there is none or it has another uid (an owner recreated with the same name is another owner),
 * `waiting` when it is being deleted in the foreground, `solid` otherwise; `unresolved` for a
 * kind the collector does not follow, which counts as solid (never delete on a guess).
 */
export type OwnerState = 'solid' | 'absent' | 'waiting' | 'unresolved';

export function ownerStateOf(ref: Pick<OwnerReference, 'uid'>, live: Pick<KubeObject, 'metadata'> | undefined): Exclude<OwnerState, 'unresolved'> {
  if (live === undefined || live.metadata.uid !== ref.uid) return 'absent';
  return isDeletingDependents(live) ? 'waiting' : 'solid';
}

export interface OwnerRefState {
  readonly ref: OwnerReference;
  readonly state: OwnerState;
}

export type DependentPlan =
  /** Every owner is solid (or there are none): nothing to do. */
  | { readonly action: 'keep' }
  /** No solid owner is left: delete the dependent (Foreground when it has dependents of its own and an owner waits). */
  | { readonly action: 'delete'; readonly propagationPolicy: 'Background' | 'Foreground' }
  /** A solid owner is left: only the references to absent and waiting owners go. */
  | { readonly action: 'removeOwnerRefs'; readonly uids: readonly string[] };

/** attemptToDeleteItem's decision for one dependent, from the state of each of its owners. */
export function planDependent(owners: readonly OwnerRefState[], hasDependents: boolean): DependentPlan {
  if (owners.length === 0) return { action: 'keep' };
  const solid = owners.filter((o) => o.state === 'solid' || o.state === 'unresolved');
  const gone = owners.filter((o) => o.state === 'absent' || o.state === 'waiting');
  if (solid.length > 0) return gone.length === 0 ? { action: 'keep' } : { action: 'removeOwnerRefs', uids: gone.map((o) => o.ref.uid) };
  const waiting = owners.some((o) => o.state === 'waiting');
  return { action: 'delete', propagationPolicy: waiting && hasDependents ? 'Foreground' : 'Background' };
}

/** The object's ownerReferences without those to `uids`. */
export function withoutOwnerRefs(refs: readonly OwnerReference[] | undefined, uids: readonly string[]): OwnerReference[] {
  const drop = new Set(uids);
  return (refs ?? []).filter((ref) => !drop.has(ref.uid)).map((ref) => ({ ...ref }));
}

/** The object's finalizers without `finalizer`. */
export function withoutFinalizer(finalizers: readonly string[] | undefined, finalizer: string): string[] {
  return (finalizers ?? []).filter((f) => f !== finalizer);
}

/** The reference from `dependent` to the owner with `ownerUid`, if any. */
export function ownerRefTo(dependent: Pick<KubeObject, 'metadata'>, ownerUid: string): OwnerReference | undefined {
  return dependent.metadata.ownerReferences?.find((ref) => ref.uid === ownerUid);
}

/**
 * A foreground deletion's work on `dependents` of the owner with `ownerUid`: the ones still to be
 * acted on, those with blockOwnerDeletion first; and how many blocking dependents are still there
 * (marked or not), since the owner goes only when none is (Kubernetes waits for blocking ones only).
 */
export function foregroundPlan<T extends Pick<KubeObject, 'metadata'>>(dependents: readonly T[], ownerUid: string): { toDelete: T[]; blockingLeft: number } {
  const blocking = (d: T): boolean => ownerRefTo(d, ownerUid)?.blockOwnerDeletion === true;
  const live = dependents.filter((d) => !isBeingDeleted(d));
  const toDelete = [...live.filter(blocking), ...live.filter((d) => !blocking(d))];
  return { toDelete, blockingLeft: dependents.filter(blocking).length };
}

/** The collector's key for an object: `<resource>/<namespace>/<name>`, so one queue holds every kind. */
export function itemKey(resource: string, namespace: string, name: string): string {
  return `${resource}/${namespace}/${name}`;
}

/** The resource and the informer cache key (`namespace/name`) of an item key. */
export function parseItemKey(key: string): { resource: string; cacheKey: string } {
  const slash = key.indexOf('/');
  return { resource: key.slice(0, slash), cacheKey: key.slice(slash + 1) };
}

/**
 * Which items name which owner uid: the GraphBuilder's owner edges, kept by the handlers so that an
 * owner's deletion finds its dependents without a scan. Bounded by the objects in the caches.
 */
export class OwnerIndex {
  private readonly dependentsByOwner = new Map<string, Set<string>>();
  private readonly ownersByItem = new Map<string, readonly string[]>();

  /** Records `item`'s owners now (an empty list forgets it). */
  set(item: string, ownerUids: readonly string[]): void {
    for (const uid of this.ownersByItem.get(item) ?? []) {
      const set = this.dependentsByOwner.get(uid);
      set?.delete(item);
      if (set?.size === 0) this.dependentsByOwner.delete(uid);
    }
    if (ownerUids.length === 0) {
      this.ownersByItem.delete(item);
      return;
    }
    this.ownersByItem.set(item, [...ownerUids]);
    for (const uid of ownerUids) {
      let set = this.dependentsByOwner.get(uid);
      if (set === undefined) this.dependentsByOwner.set(uid, (set = new Set()));
      set.add(item);
    }
  }

  /** The item keys of the dependents of the owner with `uid`, sorted. */
  dependents(uid: string): string[] {
    return [...(this.dependentsByOwner.get(uid) ?? [])].sort();
  }

  /** Items with at least one owner. */
  size(): number {
    return this.ownersByItem.size;
  }
}
