// The ReplicaSet controller (kubernetes pkg/controller/replicaset): keeps `spec.replicas` active
// pods matching the selector, adopting orphans and releasing pods that stop matching, with
// expectations so that a slow pod informer never causes a second round of creates or deletes.

import { hasStatusReason, labelSelectorAsSelector, matchesLabels, type KubeObject, type ParsedLabelSelector, type Pod, type ReplicaSet, type ReplicaSetStatus } from '@raftplane/api';
import { type Client, type DeletedFinalStateUnknown, deletedObject, EventRecorder, type Informer, isTombstone, objectKey } from '@raftplane/client';
import { Controller, type ControllerOptions } from './controller.js';
import { ControllerError, ControllerErrorCode } from './errors.js';
import { ControllerExpectations } from './expectations.js';
import { controllerRefOf, controllerRefTo, isPodActive, isPodAvailable, isPodReady, msUntilAvailable, podsToDelete } from './pods.js';

export interface ReplicaSetControllerOptions extends ControllerOptions {
  /** Creates or deletes of one sync at most (Kubernetes' burstReplicas). Default 500. */
  readonly burstReplicas?: number;
  readonly expectationsTimeoutMs?: number;
  readonly events?: EventRecorder;
}

/** Slow start (controller.slowStartBatch): batches of 1, 2, 4, ... so that a failing create fails once, not N times. */
export const slowStartInitialBatchSize = 1;

/** The batch sizes slow start uses for `count` creates: [1, 2, 4, ...], the last one cut to fit. */
export function slowStartBatches(count: number, initial = slowStartInitialBatchSize): number[] {
  const batches: number[] = [];
  let left = count;
  for (let size = Math.min(left, initial); left > 0; size = Math.min(2 * size, left)) {
    batches.push(size);
    left -= size;
  }
  return batches;
}

/** The status a ReplicaSet has with these (active, claimed) pods: calculateStatus. */
export function replicaSetStatusFor(rs: ReplicaSet, pods: readonly Pod[], nowMs: number): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    const labels = pod.metadata.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
    if (isPodReady(pod)) ready++;
    if (isPodAvailable(pod, minReadySeconds, nowMs)) available++;
  }
  const status: ReplicaSetStatus = { replicas: pods.length, fullyLabeledReplicas: fullyLabeled, readyReplicas: ready, availableReplicas: available };
  status.observedGeneration = rs.metadata.generation ?? 0;
  if (rs.status?.conditions !== undefined) status.conditions = structuredClone(rs.status.conditions);
  return status;
}

function sameStatus(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  return (
    a !== undefined &&
    a.replicas === b.replicas &&
    (a.fullyLabeledReplicas ?? 0) === b.fullyLabeledReplicas &&
    (a.readyReplicas ?? 0) === b.readyReplicas &&
    (a.availableReplicas ?? 0) === b.availableReplicas &&
    a.observedGeneration === b.observedGeneration
  );
}

export class ReplicaSetController extends Controller {
  readonly expectations: ControllerExpectations;
  readonly events: EventRecorder;
  private readonly burstReplicas: number;

  constructor(
    private readonly client: Client,
    private readonly replicaSets: Informer<ReplicaSet>,
    private readonly pods: Informer<Pod>,
    options: ReplicaSetControllerOptions = {},
  ) {
    super('replicaset-controller', options);
    this.burstReplicas = options.burstReplicas ?? 500;
    this.expectations = new ControllerExpectations(this.clock, options.expectationsTimeoutMs);
    this.events = options.events ?? new EventRecorder(client, { component: this.name, wallClockMs: this.wallClockMs });
    replicaSets.addHandler({
      onAdd: (rs) => this.enqueue(rs),
      onUpdate: (_old, rs) => this.enqueue(rs),
      onDelete: (rs) => this.onReplicaSetDelete(rs),
    });
    pods.addHandler({ onAdd: (pod) => this.onPodAdd(pod), onUpdate: (old, pod) => this.onPodUpdate(old, pod), onDelete: (pod) => this.onPodDelete(pod) });
  }

  protected informers(): readonly Informer<KubeObject>[] {
    return [this.replicaSets, this.pods] as unknown as Informer<KubeObject>[];
  }

  override async run(signal: AbortSignal): Promise<void> {
    this.events.bind(signal);
    await super.run(signal);
  }

  protected override async afterStop(): Promise<void> {
    await this.events.drain();
  }

  // ---- handlers: objects to keys, nothing else (plus expectations bookkeeping) ----

  private onReplicaSetDelete(rs: ReplicaSet | DeletedFinalStateUnknown<ReplicaSet>): void {
    this.expectations.delete(objectKey(deletedObject(rs)));
    this.enqueue(rs);
  }

  /** The ReplicaSet in the cache that `pod`'s controller reference names (same uid), if any. */
  private ownerOf(pod: Pod): ReplicaSet | undefined {
    const ref = controllerRefOf(pod);
    if (ref === undefined || ref.kind !== 'ReplicaSet') return undefined;
    const rs = this.replicaSets.cache.getByName(pod.metadata.namespace, ref.name);
    return rs?.metadata.uid === ref.uid ? rs : undefined;
  }

  /** Orphans: every ReplicaSet in the namespace whose selector matches (getPodReplicaSets). */
  private enqueueMatchingReplicaSets(pod: Pod): void {
    for (const rs of this.replicaSets.cache.byNamespace(pod.metadata.namespace ?? '')) {
      if (matchesLabels(labelSelectorAsSelector(rs.spec?.selector), pod.metadata.labels)) this.enqueue(rs);
    }
  }

  private onPodAdd(pod: Pod): void {
    if (pod.metadata.deletionTimestamp !== undefined) {
      this.onPodDelete(pod);
      return;
    }
    if (controllerRefOf(pod) === undefined) {
      this.enqueueMatchingReplicaSets(pod);
      return;
    }
    const rs = this.ownerOf(pod);
    if (rs === undefined) return;
    const rsKey = objectKey(rs);
    this.expectations.creationObserved(rsKey);
    this.enqueueKey(rsKey);
  }

  private onPodUpdate(old: Pod, pod: Pod): void {
    if (pod.metadata.deletionTimestamp !== undefined && old.metadata.deletionTimestamp === undefined) {
      // A pod marked for deletion is as good as gone: count it now, not when the node confirms.
      const owner = this.ownerOf(pod);
      if (owner !== undefined) this.expectations.deletionObserved(objectKey(owner), objectKey(pod));
    }
    const oldRef = controllerRefOf(old);
    const newRef = controllerRefOf(pod);
    if (oldRef !== undefined && oldRef.uid !== newRef?.uid) {
      const previous = this.ownerOf(old);
      if (previous !== undefined) this.enqueue(previous);
    }
    const owner = this.ownerOf(pod);
    if (owner !== undefined) {
      this.enqueue(owner);
      const leftMs = msUntilAvailable(pod, owner.spec?.minReadySeconds ?? 0, this.wallClockMs());
      if (!isPodReady(old) && leftMs !== undefined) this.enqueueAfter(objectKey(owner), leftMs + 1000);
      return;
    }
    if (newRef === undefined) this.enqueueMatchingReplicaSets(pod);
  }

  private onPodDelete(value: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(value);
    const owner = this.ownerOf(pod);
    if (owner === undefined) return;
    const rsKey = objectKey(owner);
    this.expectations.deletionObserved(rsKey, isTombstone(value) ? value.key : objectKey(pod));
    this.enqueueKey(rsKey);
  }

  // ---- sync ----

  protected async sync(key: string, signal: AbortSignal): Promise<void> {
    const rs = this.replicaSets.cache.get(key);
    if (rs === undefined) {
      this.expectations.delete(key);
      return;
    }
    let selector: ParsedLabelSelector;
    try {
      selector = labelSelectorAsSelector(rs.spec?.selector);
    } catch (error) {
      this.events.record(rs as KubeObject, 'Warning', 'InvalidSelector', `invalid selector: ${(error as Error).message}`);
      throw new ControllerError(ControllerErrorCode.InvalidSpec, `ReplicaSet ${key}: invalid selector`, { cause: error });
    }
    const needsSync = this.expectations.satisfied(key);
    const active = this.pods.cache.byNamespace(rs.metadata.namespace ?? '').filter(isPodActive);
    const claimed = await this.claimPods(rs, selector, active, signal);
    let manageError: unknown;
    if (needsSync && rs.metadata.deletionTimestamp === undefined) {
      try {
        await this.manageReplicas(key, rs, claimed, signal);
      } catch (error) {
        manageError = error;
      }
    }
    await this.updateStatus(key, rs, claimed, signal);
    if (manageError !== undefined) throw manageError;
  }

  /**
   * The pods this ReplicaSet controls after adoption and release (PodControllerRefManager.ClaimPods):
   * its own that still match; orphans that match, adopted; its own that no longer match, released.
   */
  private async claimPods(rs: ReplicaSet, selector: ParsedLabelSelector, pods: readonly Pod[], signal: AbortSignal): Promise<Pod[]> {
    const claimed: Pod[] = [];
    let ownerChecked = false;
    for (const pod of pods) {
      const ref = controllerRefOf(pod);
      const matches = matchesLabels(selector, pod.metadata.labels);
      if (ref !== undefined) {
        if (ref.uid !== rs.metadata.uid) continue;
        if (matches) claimed.push(pod);
        else if (rs.metadata.deletionTimestamp === undefined) await this.release(rs, pod, signal);
        continue;
      }
      if (!matches || rs.metadata.deletionTimestamp !== undefined || pod.metadata.deletionTimestamp !== undefined) continue;
      // RecheckDeletionTimestamp: adopt only for a ReplicaSet that is still there and not going.
      if (!ownerChecked) {
        const fresh = await this.client.resource('replicasets', rs.metadata.namespace).get(rs.metadata.name ?? '', { signal });
        if (fresh.metadata.uid !== rs.metadata.uid || fresh.metadata.deletionTimestamp !== undefined) return claimed;
        ownerChecked = true;
      }
      const adopted = await this.adopt(rs, pod, signal);
      if (adopted !== undefined) claimed.push(adopted);
    }
    return claimed;
  }

  private async adopt(rs: ReplicaSet, pod: Pod, signal: AbortSignal): Promise<Pod | undefined> {
    const copy = structuredClone(pod);
    copy.metadata.ownerReferences = [...(copy.metadata.ownerReferences ?? []), controllerRefTo(rs, 'apps/v1', 'ReplicaSet')];
    try {
      const adopted = await this.client.resource('pods', pod.metadata.namespace).update(copy, { signal });
      this.logger.info({ controller: this.name, replicaSet: objectKey(rs), pod: objectKey(pod) }, 'adopted pod');
      return adopted;
    } catch (error) {
      if (hasStatusReason(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  private async release(rs: ReplicaSet, pod: Pod, signal: AbortSignal): Promise<void> {
    const copy = structuredClone(pod);
    copy.metadata.ownerReferences = (copy.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== rs.metadata.uid);
    try {
      await this.client.resource('pods', pod.metadata.namespace).update(copy, { signal });
      this.logger.info({ controller: this.name, replicaSet: objectKey(rs), pod: objectKey(pod) }, 'released pod');
    } catch (error) {
      if (!hasStatusReason(error, 'NotFound')) throw error;
    }
  }

  private async manageReplicas(key: string, rs: ReplicaSet, pods: readonly Pod[], signal: AbortSignal): Promise<void> {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    if (diff < 0) await this.createPods(key, rs, Math.min(-diff, this.burstReplicas), signal);
    else if (diff > 0) await this.deletePods(key, rs, podsToDelete(pods, Math.min(diff, this.burstReplicas)), signal);
  }

  private podFor(rs: ReplicaSet): Pod {
    const template = rs.spec?.template ?? {};
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        ownerReferences: [controllerRefTo(rs, 'apps/v1', 'ReplicaSet')],
      },
      spec: structuredClone(template.spec ?? { containers: [] }),
    };
    if (template.metadata?.annotations !== undefined) pod.metadata.annotations = { ...template.metadata.annotations };
    return pod;
  }

  /** Creates in slow-start batches; the creates never made (after a failed batch) are taken off the expectations. */
  private async createPods(key: string, rs: ReplicaSet, count: number, signal: AbortSignal): Promise<void> {
    this.expectations.expectCreations(key, count);
    const rsObj = { ...rs, kind: 'ReplicaSet', apiVersion: 'apps/v1' } as KubeObject;
    let made = 0;
    let firstError: unknown;
    for (const batch of slowStartBatches(count)) {
      const results = await Promise.allSettled(Array.from({ length: batch }, () => this.client.resource('pods', rs.metadata.namespace).create(this.podFor(rs), { signal })));
      made += batch;
      for (const result of results) {
        if (result.status === 'fulfilled') {
          this.events.record(rsObj, 'Normal', 'SuccessfulCreate', `Created pod: ${result.value.metadata.name}`);
          continue;
        }
        // A create that failed will never be seen: stop waiting for it.
        this.expectations.creationObserved(key);
        firstError ??= result.reason;
        if (!signal.aborted) this.events.record(rsObj, 'Warning', 'FailedCreate', `Error creating: ${(result.reason as Error).message}`);
      }
      if (firstError !== undefined) break;
    }
    for (let skipped = count - made; skipped > 0; skipped--) this.expectations.creationObserved(key);
    if (firstError !== undefined) throw new ControllerError(ControllerErrorCode.PartialSync, `ReplicaSet ${key}: ${made} creates attempted of ${count}`, { cause: firstError });
  }

  private async deletePods(key: string, rs: ReplicaSet, victims: readonly Pod[], signal: AbortSignal): Promise<void> {
    this.expectations.expectDeletions(key, victims.map((pod) => objectKey(pod)));
    const rsObj = { ...rs, kind: 'ReplicaSet', apiVersion: 'apps/v1' } as KubeObject;
    let firstError: unknown;
    await Promise.all(
      victims.map(async (pod) => {
        try {
          await this.client.resource('pods', pod.metadata.namespace).delete(pod.metadata.name ?? '', { signal, preconditions: { uid: pod.metadata.uid } });
          this.events.record(rsObj, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (error) {
          // Not deleted (or already gone, which the informer may never report): stop waiting for it.
          this.expectations.deletionObserved(key, objectKey(pod));
          if (hasStatusReason(error, 'NotFound')) return;
          firstError ??= error;
          if (!signal.aborted) this.events.record(rsObj, 'Warning', 'FailedDelete', `Error deleting: ${(error as Error).message}`);
        }
      }),
    );
    if (firstError !== undefined) throw new ControllerError(ControllerErrorCode.PartialSync, `ReplicaSet ${key}: some deletes failed`, { cause: firstError });
  }

  private async updateStatus(key: string, rs: ReplicaSet, pods: readonly Pod[], signal: AbortSignal): Promise<void> {
    const nowMs = this.wallClockMs();
    const status = replicaSetStatusFor(rs, pods, nowMs);
    if (!sameStatus(rs.status, status)) {
      const copy = structuredClone(rs);
      copy.status = status;
      await this.client.resource('replicasets', rs.metadata.namespace).updateStatus(copy, { signal });
    }
    // Pods that are ready but not yet available become so with time alone: come back then.
    const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
    if (minReadySeconds > 0 && status.readyReplicas !== status.availableReplicas) {
      let soonestMs = minReadySeconds * 1000;
      for (const pod of pods) soonestMs = Math.min(soonestMs, msUntilAvailable(pod, minReadySeconds, nowMs) ?? soonestMs);
      this.enqueueAfter(key, soonestMs + 1000);
    }
  }
}
