// The garbage collector (kubernetes pkg/controller/garbagecollector): deletes dependents whose
// owners are gone (by uid), deletes an owner's dependents before the owner for propagationPolicy
// Foreground (the `foregroundDeletion` finalizer), and strips the references to an owner from its
// dependents for Orphan (the `orphan` finalizer), over every kind the shared informers follow.

import { groupVersionOf, hasStatusReason, resources, type KubeObject, type OwnerReference } from '@raftplane/api';
import { type Client, type DeletedFinalStateUnknown, deletedObject, EventRecorder, type Informer, type ResourceClient } from '@raftplane/client';
import { Controller, type ControllerOptions } from './controller.js';
import {
  collectedResources,
  foregroundDeletionFinalizer,
  foregroundPlan,
  isBeingDeleted,
  isDeletingDependents,
  isOrphaningDependents,
  itemKey,
  orphanFinalizer,
  OwnerIndex,
  ownerStateOf,
  parseItemKey,
  planDependent,
  resourceOfOwnerRef,
  withoutFinalizer,
  withoutOwnerRefs,
  type CollectedResource,
  type OwnerRefState,
  type OwnerState,
} from './garbage-collector-plan.js';
import type { SharedInformerFactory } from './informer-factory.js';

export interface GarbageCollectorOptions extends ControllerOptions {
  readonly events?: EventRecorder;
}

interface Item {
  readonly resource: CollectedResource;
  readonly obj: KubeObject;
}

const ownerUids = (obj: KubeObject): string[] => (obj.metadata.ownerReferences ?? []).map((ref) => ref.uid);

export class GarbageCollector extends Controller {
  readonly events: EventRecorder;
  private readonly caches = new Map<CollectedResource, Informer<KubeObject>>();
  /** Owner uid to dependents' item keys, kept by the handlers (the GraphBuilder's edges). */
  private readonly owners = new OwnerIndex();

  constructor(
    private readonly client: Client,
    factory: SharedInformerFactory,
    options: GarbageCollectorOptions = {},
  ) {
    super('garbage-collector', options);
    this.events = options.events ?? new EventRecorder(client, { component: this.name, wallClockMs: this.wallClockMs });
    for (const resource of collectedResources) {
      const informer = factory.informer(resource) as unknown as Informer<KubeObject>;
      this.caches.set(resource, informer);
      informer.addHandler({
        onAdd: (obj) => this.onAdd(resource, obj),
        onUpdate: (old, obj) => this.onUpdate(resource, old, obj),
        onDelete: (obj) => this.onDelete(resource, obj),
      });
    }
  }

  protected informers(): readonly Informer<KubeObject>[] {
    return [...this.caches.values()];
  }

  override async run(signal: AbortSignal): Promise<void> {
    this.events.bind(signal);
    await super.run(signal);
  }

  protected override async afterStop(): Promise<void> {
    await this.events.drain();
  }

  /** The item keys of the cached dependents of the owner with `uid`: for tests and debugging. */
  dependentsOf(uid: string): string[] {
    return this.owners.dependents(uid);
  }

  // ---- handlers: keep the owner index, enqueue item keys ----

  private keyOf(resource: CollectedResource, obj: KubeObject): string {
    return itemKey(resource, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
  }

  private enqueueOwner(namespace: string, ref: OwnerReference): void {
    const resource = resourceOfOwnerRef(ref);
    if (resource !== undefined) this.enqueueKey(itemKey(resource, namespace, ref.name));
  }

  private enqueueIfActionable(key: string, obj: KubeObject): void {
    if (ownerUids(obj).length > 0 || isDeletingDependents(obj) || isOrphaningDependents(obj)) this.enqueueKey(key);
  }

  private onAdd(resource: CollectedResource, obj: KubeObject): void {
    const key = this.keyOf(resource, obj);
    this.owners.set(key, ownerUids(obj));
    this.enqueueIfActionable(key, obj);
  }

  private onUpdate(resource: CollectedResource, old: KubeObject, obj: KubeObject): void {
    const key = this.keyOf(resource, obj);
    this.owners.set(key, ownerUids(obj));
    // An owner deleted in the foreground waits for this dependent to stop naming it.
    const kept = new Set(ownerUids(obj));
    for (const ref of old.metadata.ownerReferences ?? []) if (!kept.has(ref.uid)) this.enqueueOwner(obj.metadata.namespace ?? '', ref);
    this.enqueueIfActionable(key, obj);
  }

  private onDelete(resource: CollectedResource, value: KubeObject | DeletedFinalStateUnknown<KubeObject>): void {
    const obj = deletedObject(value);
    this.owners.set(this.keyOf(resource, obj), []);
    // Its dependents may now have no owner left; an owner deleted in the foreground may be waiting for it.
    for (const dependent of this.owners.dependents(obj.metadata.uid ?? '')) this.enqueueKey(dependent);
    for (const ref of obj.metadata.ownerReferences ?? []) this.enqueueOwner(obj.metadata.namespace ?? '', ref);
  }

  // ---- sync ----

  protected async sync(key: string, signal: AbortSignal): Promise<void> {
    const { resource, cacheKey } = parseItemKey(key);
    const obj = this.caches.get(resource as CollectedResource)?.cache.get(cacheKey);
    if (obj === undefined) return;
    const item: Item = { resource: resource as CollectedResource, obj };
    if (isOrphaningDependents(obj)) return this.orphanDependents(item, signal);
    if (isDeletingDependents(obj)) return this.deleteDependents(item, signal);
    if (isBeingDeleted(obj)) return;
    await this.attemptToDelete(item, signal);
  }

  private api(resource: CollectedResource, namespace: string | undefined): ResourceClient<KubeObject> {
    return this.client.resource(resource, namespace) as unknown as ResourceClient<KubeObject>;
  }

  /** The cached dependents of `owner`, by the owner index. */
  private dependentItems(owner: KubeObject): Item[] {
    const items: Item[] = [];
    for (const key of this.owners.dependents(owner.metadata.uid ?? '')) {
      const { resource, cacheKey } = parseItemKey(key);
      const obj = this.caches.get(resource as CollectedResource)?.cache.get(cacheKey);
      if (obj !== undefined) items.push({ resource: resource as CollectedResource, obj });
    }
    return items;
  }

  /**
   * The state of the owner `ref` names. The cache answers when it holds that owner (same uid); when
   * it does not, it may only be behind, so the apiserver is asked before anything is deleted
   * (Kubernetes' isDangling does the same live lookup).
   */
  private async ownerState(namespace: string, ref: OwnerReference, signal: AbortSignal): Promise<OwnerState> {
    const resource = resourceOfOwnerRef(ref);
    if (resource === undefined) return 'unresolved';
    const cached = this.caches.get(resource)?.cache.getByName(namespace, ref.name);
    if (cached !== undefined && cached.metadata.uid === ref.uid) return ownerStateOf(ref, cached);
    try {
      return ownerStateOf(ref, await this.api(resource, namespace).get(ref.name, { signal }));
    } catch (error) {
      if (hasStatusReason(error, 'NotFound')) return 'absent';
      throw error;
    }
  }

  /** attemptToDeleteItem: delete a dependent with no owner left, or drop its references to gone owners. */
  private async attemptToDelete(item: Item, signal: AbortSignal): Promise<void> {
    const { obj } = item;
    const refs = obj.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const states: OwnerRefState[] = [];
    for (const ref of refs) states.push({ ref, state: await this.ownerState(obj.metadata.namespace ?? '', ref, signal) });
    const plan = planDependent(states, this.owners.dependents(obj.metadata.uid ?? '').length > 0);
    if (plan.action === 'removeOwnerRefs') await this.removeOwnerRefs(item, plan.uids, signal);
    else if (plan.action === 'delete') await this.deleteItem(item, plan.propagationPolicy, states, signal);
  }

  private async deleteItem(item: Item, propagationPolicy: 'Background' | 'Foreground', owners: readonly OwnerRefState[], signal: AbortSignal): Promise<void> {
    const { obj } = item;
    try {
      // The uid precondition: never delete another object that took the name meanwhile.
      await this.api(item.resource, obj.metadata.namespace).delete(obj.metadata.name ?? '', { signal, preconditions: { uid: obj.metadata.uid }, propagationPolicy });
    } catch (error) {
      if (hasStatusReason(error, 'NotFound') || hasStatusReason(error, 'Conflict')) return;
      throw error;
    }
    const names = owners.map((o) => `${o.ref.kind}/${o.ref.name} (${o.state})`).join(', ');
    this.logger.info({ controller: this.name, item: this.keyOf(item.resource, obj), propagationPolicy }, 'deleted a dependent whose owners are gone');
    this.events.record(this.withKind(item), 'Normal', 'GarbageCollected', `Deleted: no owner left (${names})`);
  }

  /** A compare-and-swap update that drops the references to `uids` (a patch in Kubernetes; here CAS on resourceVersion). */
  private async removeOwnerRefs(item: Item, uids: readonly string[], signal: AbortSignal): Promise<void> {
    const copy = structuredClone(item.obj);
    const refs = withoutOwnerRefs(copy.metadata.ownerReferences, uids);
    if (refs.length === 0) delete copy.metadata.ownerReferences;
    else copy.metadata.ownerReferences = refs;
    try {
      await this.api(item.resource, copy.metadata.namespace).update(copy, { signal });
    } catch (error) {
      if (hasStatusReason(error, 'NotFound')) return;
      throw error;
    }
    this.logger.info({ controller: this.name, item: this.keyOf(item.resource, item.obj), owners: uids }, 'removed owner references');
  }

  private async removeFinalizer(item: Item, finalizer: string, signal: AbortSignal): Promise<void> {
    const copy = structuredClone(item.obj);
    copy.metadata.finalizers = withoutFinalizer(copy.metadata.finalizers, finalizer);
    try {
      // With no finalizer left and no grace to run, the apiserver removes the object on this write.
      await this.api(item.resource, copy.metadata.namespace).update(copy, { signal });
    } catch (error) {
      if (hasStatusReason(error, 'NotFound')) return;
      throw error;
    }
  }

  /** Foreground: act on every dependent (blocking ones first); once no blocking dependent is left, let the owner go. */
  private async deleteDependents(owner: Item, signal: AbortSignal): Promise<void> {
    const dependents = this.dependentItems(owner.obj);
    const resourceOf = new Map(dependents.map((d) => [d.obj, d.resource] as const));
    const { toDelete, blockingLeft } = foregroundPlan(
      dependents.map((d) => d.obj),
      owner.obj.metadata.uid ?? '',
    );
    for (const obj of toDelete) await this.attemptToDelete({ resource: resourceOf.get(obj) as CollectedResource, obj }, signal);
    // Each dependent's deletion (or dropped reference) enqueues this owner again.
    if (blockingLeft > 0) return;
    await this.removeFinalizer(owner, foregroundDeletionFinalizer, signal);
    this.events.record(this.withKind(owner), 'Normal', 'DependentsDeleted', `Deleted ${dependents.length} dependents before the owner (foreground)`);
  }

  /** Orphan: every dependent stops naming the owner, then the owner goes. */
  private async orphanDependents(owner: Item, signal: AbortSignal): Promise<void> {
    const uid = owner.obj.metadata.uid ?? '';
    const dependents = this.dependentItems(owner.obj);
    for (const dependent of dependents) await this.removeOwnerRefs(dependent, [uid], signal);
    await this.removeFinalizer(owner, orphanFinalizer, signal);
    this.events.record(this.withKind(owner), 'Normal', 'DependentsOrphaned', `Removed the owner reference from ${dependents.length} dependents`);
  }

  /** Cached list items may lack kind and apiVersion; events need them. */
  private withKind(item: Item): KubeObject {
    const info = collectedInfo(item.resource);
    return { ...item.obj, kind: item.obj.kind ?? info.kind, apiVersion: item.obj.apiVersion ?? info.apiVersion } as KubeObject;
  }
}

function collectedInfo(resource: CollectedResource): { kind: string; apiVersion: string } {
  const info = resources.find((r) => r.resource === resource);
  return { kind: info?.kind ?? '', apiVersion: info === undefined ? '' : groupVersionOf(info) };
}
