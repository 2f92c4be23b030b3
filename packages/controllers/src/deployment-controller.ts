// The Deployment controller (kubernetes pkg/controller/deployment): one ReplicaSet per pod-template
// hash, rolled with RollingUpdate (maxSurge / maxUnavailable) or Recreate, scaled proportionally,
// old ReplicaSets cleaned past revisionHistoryLimit, revisions in annotations (so a template set
// back — `rollout undo` — reuses the old ReplicaSet), pause and resume, and status with the
// Progressing and Available conditions.

import { hasStatusReason, labelSelectorAsSelector, matchesLabels, parseTime, type Deployment, type DeploymentStatus, type KubeObject, type Pod, type ReplicaSet } from '@raftplane/api';
import { type Client, type DeletedFinalStateUnknown, deletedObject, EventRecorder, type Informer, objectKey } from '@raftplane/client';
import { Controller, type ControllerOptions } from './controller.js';
import { calculateStatus, conditionOf, hasProgressDeadline, isComplete, newCondition, progressingCondition, Reasons, setCondition, withProgressConditions } from './deployment-status.js';
import { ControllerError, ControllerErrorCode } from './errors.js';
import { controllerRefOf, controllerRefTo, isPodActive, isPodAvailable } from './pods.js';
import {
  desiredReplicasAnnotation,
  deploymentReplicas,
  isRollingUpdate,
  maxReplicasAnnotation,
  maxRevision,
  maxSurgeOf,
  maxUnavailableOf,
  newReplicaSetReplicas,
  oldReplicasMaxScaleDown,
  oldReplicaSetsStep,
  proportionalSizes,
  revisionAnnotation,
  revisionHistoryAnnotation,
  revisionOf,
} from './rollout.js';
import { computeTemplateHash, podTemplateHashLabel, templatesEqualIgnoringHash } from './template-hash.js';

export interface DeploymentControllerOptions extends ControllerOptions {
  readonly events?: EventRecorder;
}

/** One sync's working view: the Deployment and its ReplicaSets as last written, and pods per ReplicaSet uid. */
interface View {
  d: Deployment;
  replicaSets: ReplicaSet[];
  readonly podsByOwnerUid: ReadonlyMap<string, readonly Pod[]>;
}

const byCreation = (a: ReplicaSet, b: ReplicaSet): number =>
  (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

export class DeploymentController extends Controller {
  readonly events: EventRecorder;

  constructor(
    private readonly client: Client,
    private readonly deployments: Informer<Deployment>,
    private readonly replicaSets: Informer<ReplicaSet>,
    private readonly pods: Informer<Pod>,
    options: DeploymentControllerOptions = {},
  ) {
    super('deployment-controller', options);
    this.events = options.events ?? new EventRecorder(client, { component: this.name, wallClockMs: this.wallClockMs });
    deployments.addHandler({ onAdd: (d) => this.enqueue(d), onUpdate: (_old, d) => this.enqueue(d), onDelete: (d) => this.enqueue(d) });
    replicaSets.addHandler({
      onAdd: (rs) => this.onReplicaSet(rs),
      onUpdate: (old, rs) => {
        if (controllerRefOf(old)?.uid !== controllerRefOf(rs)?.uid) this.onReplicaSet(old);
        this.onReplicaSet(rs);
      },
      onDelete: (rs) => this.onReplicaSet(deletedObject(rs)),
    });
    pods.addHandler({ onAdd: (pod) => this.onPod(pod), onUpdate: (_old, pod) => this.onPod(pod), onDelete: (pod) => this.onPod(pod) });
  }

  protected informers(): readonly Informer<KubeObject>[] {
    return [this.deployments, this.replicaSets, this.pods] as unknown as Informer<KubeObject>[];
  }

  override async run(signal: AbortSignal): Promise<void> {
    this.events.bind(signal);
    await super.run(signal);
  }

  protected override async afterStop(): Promise<void> {
    await this.events.drain();
  }

  // ---- handlers ----

  private onReplicaSet(rs: ReplicaSet): void {
    const ref = controllerRefOf(rs);
    const namespace = rs.metadata.namespace ?? '';
    if (ref !== undefined) {
      if (ref.kind === 'Deployment') this.enqueueKey(`${namespace}/${ref.name}`);
      return;
    }
    for (const d of this.deployments.cache.byNamespace(namespace)) {
      if (matchesLabels(labelSelectorAsSelector(d.spec?.selector), rs.metadata.labels)) this.enqueue(d);
    }
  }

  /** Pods lead to their ReplicaSet's Deployment: availability drives rollouts, and Recreate waits for old pods to go. */
  private onPod(value: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(value);
    const ref = controllerRefOf(pod);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.replicaSets.cache.getByName(pod.metadata.namespace, ref.name);
    const owner = rs === undefined ? undefined : controllerRefOf(rs);
    if (owner?.kind === 'Deployment') this.enqueueKey(`${pod.metadata.namespace}/${owner.name}`);
  }

  // ---- sync ----

  protected async sync(key: string, signal: AbortSignal): Promise<void> {
    const cached = this.deployments.cache.get(key);
    if (cached === undefined) return;
    const d = structuredClone(cached);
    const selector = labelSelectorAsSelector(d.spec?.selector);
    if (selector.requirements.length === 0) {
      this.events.record(d as KubeObject, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      throw new ControllerError(ControllerErrorCode.InvalidSpec, `Deployment ${key} selects every pod`);
    }
    const view: View = { d, replicaSets: await this.claimReplicaSets(d, signal), podsByOwnerUid: this.podsByOwner(d.metadata.namespace ?? '') };
    if (d.metadata.deletionTimestamp !== undefined) return this.syncStatusOnly(view, signal);
    await this.checkPausedConditions(view, signal);
    if (view.d.spec?.paused === true || this.isScalingEvent(view)) return this.syncScale(view, signal);
    if (isRollingUpdate(view.d)) return this.rolloutRolling(view, signal);
    return this.rolloutRecreate(view, signal);
  }

  private podsByOwner(namespace: string): Map<string, Pod[]> {
    const map = new Map<string, Pod[]>();
    for (const pod of this.pods.cache.byNamespace(namespace)) {
      const uid = controllerRefOf(pod)?.uid;
      if (uid === undefined || !isPodActive(pod)) continue;
      let list = map.get(uid);
      if (list === undefined) map.set(uid, (list = []));
      list.push(pod);
    }
    return map;
  }

  /** ReplicaSets this Deployment controls after adoption and release (ReplicaSetControllerRefManager). */
  private async claimReplicaSets(d: Deployment, signal: AbortSignal): Promise<ReplicaSet[]> {
    const selector = labelSelectorAsSelector(d.spec?.selector);
    const claimed: ReplicaSet[] = [];
    let ownerChecked = false;
    for (const rs of this.replicaSets.cache.byNamespace(d.metadata.namespace ?? '')) {
      const ref = controllerRefOf(rs);
      const matches = matchesLabels(selector, rs.metadata.labels);
      if (ref !== undefined) {
        if (ref.uid !== d.metadata.uid) continue;
        if (matches || d.metadata.deletionTimestamp !== undefined) claimed.push(rs);
        else await this.writeReplicaSet({ ...structuredClone(rs), metadata: { ...structuredClone(rs.metadata), ownerReferences: (rs.metadata.ownerReferences ?? []).filter((r) => r.uid !== d.metadata.uid) } }, signal);
        continue;
      }
      if (!matches || d.metadata.deletionTimestamp !== undefined || rs.metadata.deletionTimestamp !== undefined) continue;
      if (!ownerChecked) {
        const fresh = await this.client.resource('deployments', d.metadata.namespace).get(d.metadata.name ?? '', { signal });
        if (fresh.metadata.uid !== d.metadata.uid || fresh.metadata.deletionTimestamp !== undefined) break;
        ownerChecked = true;
      }
      const copy = structuredClone(rs);
      copy.metadata.ownerReferences = [...(copy.metadata.ownerReferences ?? []), controllerRefTo(d, 'apps/v1', 'Deployment')];
      const adopted = await this.writeReplicaSet(copy, signal);
      if (adopted !== undefined) claimed.push(adopted);
    }
    return claimed;
  }

  /** A compare-and-swap update of a ReplicaSet; undefined when it is gone. */
  private async writeReplicaSet(rs: ReplicaSet, signal: AbortSignal): Promise<ReplicaSet | undefined> {
    try {
      return await this.client.resource('replicasets', rs.metadata.namespace).update(rs, { signal });
    } catch (error) {
      if (hasStatusReason(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  private replace(view: View, rs: ReplicaSet): void {
    view.replicaSets = view.replicaSets.map((r) => (r.metadata.uid === rs.metadata.uid ? rs : r));
  }

  /** Active pods of a ReplicaSet, as the pod cache sees them. */
  private podsOf(view: View, rs: ReplicaSet): readonly Pod[] {
    return view.podsByOwnerUid.get(rs.metadata.uid ?? '') ?? [];
  }

  private availableOf(view: View, rs: ReplicaSet): number {
    const minReadySeconds = view.d.spec?.minReadySeconds ?? 0;
    const nowMs = this.wallClockMs();
    return this.podsOf(view, rs).filter((pod) => isPodAvailable(pod, minReadySeconds, nowMs)).length;
  }

  /** FindNewReplicaSet: the oldest ReplicaSet whose template is the Deployment's, the hash label aside. */
  private split(view: View): { newRS: ReplicaSet | undefined; old: ReplicaSet[] } {
    const sorted = [...view.replicaSets].sort(byCreation);
    const newRS = sorted.find((rs) => templatesEqualIgnoringHash(rs.spec?.template, view.d.spec?.template));
    return { newRS, old: sorted.filter((rs) => rs !== newRS) };
  }

  /**
   * getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked and missing) carries
   * revision max(old) + 1, and the Deployment carries the new ReplicaSet's revision.
   */
  private async syncRevision(view: View, create: boolean, signal: AbortSignal): Promise<{ newRS: ReplicaSet | undefined; old: ReplicaSet[] }> {
    let { newRS, old } = this.split(view);
    const newRevision = maxRevision(old) + 1;
    if (newRS !== undefined) {
      const revision = revisionOf(newRS);
      const minReadySeconds = view.d.spec?.minReadySeconds ?? 0;
      if (revision < newRevision || (newRS.spec?.minReadySeconds ?? 0) !== minReadySeconds) {
        const copy = structuredClone(newRS);
        const annotations = (copy.metadata.annotations ??= {});
        if (revision < newRevision) {
          // A template set back (rollout undo) makes its old ReplicaSet new again, under a new revision.
          if (revision > 0) annotations[revisionHistoryAnnotation] = [...(annotations[revisionHistoryAnnotation] ?? '').split(',').filter((r) => r !== ''), String(revision)].join(',');
          annotations[revisionAnnotation] = String(newRevision);
        }
        (copy.spec ??= {}).minReadySeconds = minReadySeconds;
        newRS = (await this.writeReplicaSet(copy, signal)) ?? newRS;
        this.replace(view, newRS);
      }
    } else if (create) {
      newRS = await this.createNewReplicaSet(view, old, newRevision, signal);
    }
    if (newRS !== undefined && view.d.metadata.annotations?.[revisionAnnotation] !== String(revisionOf(newRS))) {
      const copy = structuredClone(view.d);
      (copy.metadata.annotations ??= {})[revisionAnnotation] = String(revisionOf(newRS));
      view.d = await this.client.resource('deployments', copy.metadata.namespace).update(copy, { signal });
    }
    return { newRS, old };
  }

  private async createNewReplicaSet(view: View, old: readonly ReplicaSet[], revision: number, signal: AbortSignal): Promise<ReplicaSet> {
    const d = view.d;
    const hash = computeTemplateHash(d.spec?.template, d.status?.collisionCount);
    const template = structuredClone(d.spec?.template ?? {});
    (template.metadata ??= {}).labels = { ...(template.metadata.labels ?? {}), [podTemplateHashLabel]: hash };
    const selector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [podTemplateHashLabel]: hash };
    const desired = deploymentReplicas(d);
    const surge = maxSurgeOf(d);
    const currentPods = old.reduce((sum, rs) => sum + Math.max(rs.spec?.replicas ?? 0, this.podsOf(view, rs).length), 0);
    const replicas = isRollingUpdate(d) ? newReplicaSetReplicas(desired, surge, currentPods, 0) : desired;
    const annotations: Record<string, string> = { ...(d.metadata.annotations ?? {}) };
    delete annotations[revisionHistoryAnnotation];
    annotations[revisionAnnotation] = String(revision);
    annotations[desiredReplicasAnnotation] = String(desired);
    annotations[maxReplicasAnnotation] = String(desired + surge);
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace, labels: { ...(template.metadata.labels ?? {}) }, annotations, ownerReferences: [controllerRefTo(d, 'apps/v1', 'Deployment')] },
      spec: { replicas, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    let created: ReplicaSet;
    try {
      created = await this.client.resource('replicasets', d.metadata.namespace).create(rs, { signal });
    } catch (error) {
      if (!hasStatusReason(error, 'AlreadyExists')) throw error;
      const existing = await this.client.resource('replicasets', d.metadata.namespace).get(rs.metadata.name ?? '', { signal });
      if (controllerRefOf(existing)?.uid === d.metadata.uid && templatesEqualIgnoringHash(existing.spec?.template, d.spec?.template)) return existing;
      // Kubernetes' hash collision: count it, so the next hash differs, and try again.
      const copy = structuredClone(d);
      (copy.status ??= {}).collisionCount = (copy.status.collisionCount ?? 0) + 1;
      await this.client.resource('deployments', d.metadata.namespace).updateStatus(copy, { signal });
      throw new ControllerError(ControllerErrorCode.HashCollision, `ReplicaSet ${rs.metadata.name} exists and is not this Deployment's`, { cause: error });
    }
    view.replicaSets.push(created);
    if (replicas > 0) this.events.record(d as KubeObject, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} to ${replicas}`);
    if (hasProgressDeadline(d)) {
      const status = structuredClone(d.status ?? {});
      setCondition(status, newCondition(progressingCondition, 'True', Reasons.newReplicaSetCreated, `Created new replica set "${created.metadata.name}"`, this.wallClockMs()));
      view.d = await this.client.resource('deployments', d.metadata.namespace).updateStatus({ ...structuredClone(view.d), status }, { signal });
    }
    return created;
  }

  /** Sets a ReplicaSet's size and the desired / max annotations; an event when the size changes. */
  private async scaleReplicaSet(view: View, rs: ReplicaSet, size: number, signal: AbortSignal): Promise<boolean> {
    const desired = String(deploymentReplicas(view.d));
    const max = String(deploymentReplicas(view.d) + maxSurgeOf(view.d));
    const from = rs.spec?.replicas ?? 0;
    const annotations = rs.metadata.annotations ?? {};
    if (from === size && annotations[desiredReplicasAnnotation] === desired && annotations[maxReplicasAnnotation] === max) return false;
    const copy = structuredClone(rs);
    (copy.spec ??= {}).replicas = size;
    copy.metadata.annotations = { ...annotations, [desiredReplicasAnnotation]: desired, [maxReplicasAnnotation]: max };
    const written = await this.writeReplicaSet(copy, signal);
    if (written === undefined) return false;
    this.replace(view, written);
    if (from !== size) this.events.record(view.d as KubeObject, 'Normal', 'ScalingReplicaSet', `Scaled ${size > from ? 'up' : 'down'} replica set ${rs.metadata.name} to ${size} from ${from}`);
    return from !== size;
  }

  private find(view: View, rs: ReplicaSet): ReplicaSet {
    return view.replicaSets.find((r) => r.metadata.uid === rs.metadata.uid) ?? rs;
  }

  // ---- strategies ----

  private async rolloutRolling(view: View, signal: AbortSignal): Promise<void> {
    const { newRS: created, old } = await this.syncRevision(view, true, signal);
    const newRS = created === undefined ? undefined : this.find(view, created);
    if (newRS === undefined) return;
    const desired = deploymentReplicas(view.d);
    if (await this.reconcileNewReplicaSet(view, newRS, old, signal)) return this.syncRolloutStatus(view, signal);
    if (await this.reconcileOldReplicaSets(view, this.find(view, newRS), old.map((rs) => this.find(view, rs)), signal)) return this.syncRolloutStatus(view, signal);
    const status = calculateStatus(view.d, view.replicaSets, this.find(view, newRS), this.wallClockMs());
    if (isComplete(view.d, status) && desired >= 0) await this.cleanup(view, old.map((rs) => this.find(view, rs)), signal);
    return this.syncRolloutStatus(view, signal);
  }

  /** Grows the new ReplicaSet as far as maxSurge allows, counting old pods not yet gone as well as old sizes. */
  private async reconcileNewReplicaSet(view: View, newRS: ReplicaSet, old: readonly ReplicaSet[], signal: AbortSignal): Promise<boolean> {
    const desired = deploymentReplicas(view.d);
    const current = newRS.spec?.replicas ?? 0;
    if (current === desired) return false;
    if (current > desired) return this.scaleReplicaSet(view, newRS, desired, signal);
    const all = [newRS, ...old.map((rs) => this.find(view, rs))];
    const currentPods = all.reduce((sum, rs) => sum + Math.max(rs.spec?.replicas ?? 0, this.podsOf(view, rs).length), 0);
    return this.scaleReplicaSet(view, newRS, newReplicaSetReplicas(desired, maxSurgeOf(view.d), currentPods, current), signal);
  }

  /** Shrinks old ReplicaSets as far as maxUnavailable allows, unavailable pods first, oldest first. */
  private async reconcileOldReplicaSets(view: View, newRS: ReplicaSet, old: readonly ReplicaSet[], signal: AbortSignal): Promise<boolean> {
    const oldPods = old.reduce((sum, rs) => sum + (rs.spec?.replicas ?? 0), 0);
    if (oldPods === 0) return false;
    const desired = deploymentReplicas(view.d);
    const unavailable = maxUnavailableOf(view.d);
    const allPods = oldPods + (newRS.spec?.replicas ?? 0);
    const newUnavailable = Math.max(0, (newRS.spec?.replicas ?? 0) - this.availableOf(view, newRS));
    const maxScaleDown = oldReplicasMaxScaleDown(allPods, desired, unavailable, newUnavailable);
    if (maxScaleDown <= 0) return false;
    const counts = old.filter((rs) => (rs.spec?.replicas ?? 0) > 0).map((rs) => ({ name: rs.metadata.name ?? '', replicas: rs.spec?.replicas ?? 0, available: Math.min(rs.spec?.replicas ?? 0, this.availableOf(view, rs)) }));
    const totalAvailable = [newRS, ...old].reduce((sum, rs) => sum + this.availableOf(view, rs), 0);
    const sizes = oldReplicaSetsStep(counts, maxScaleDown, totalAvailable, desired - unavailable);
    let scaled = false;
    for (const rs of old) {
      const size = sizes.get(rs.metadata.name ?? '');
      if (size !== undefined && (await this.scaleReplicaSet(view, rs, size, signal))) scaled = true;
    }
    return scaled;
  }

  private async rolloutRecreate(view: View, signal: AbortSignal): Promise<void> {
    const { newRS, old } = await this.syncRevision(view, false, signal);
    let scaledDown = false;
    for (const rs of old) if ((rs.spec?.replicas ?? 0) > 0 && (await this.scaleReplicaSet(view, rs, 0, signal))) scaledDown = true;
    if (scaledDown) return this.syncRolloutStatus(view, signal);
    // Recreate: no new pod before every old one is gone.
    if (old.some((rs) => this.podsOf(view, rs).length > 0)) return this.syncRolloutStatus(view, signal);
    const target = newRS ?? (await this.syncRevision(view, true, signal)).newRS;
    if (target === undefined) return;
    await this.scaleReplicaSet(view, this.find(view, target), deploymentReplicas(view.d), signal);
    const status = calculateStatus(view.d, view.replicaSets, this.find(view, target), this.wallClockMs());
    if (isComplete(view.d, status)) await this.cleanup(view, old.map((rs) => this.find(view, rs)), signal);
    return this.syncRolloutStatus(view, signal);
  }

  /** isScalingEvent: an active ReplicaSet's desired-replicas annotation differs from spec.replicas. */
  private isScalingEvent(view: View): boolean {
    const desired = String(deploymentReplicas(view.d));
    return view.replicaSets.some((rs) => (rs.spec?.replicas ?? 0) > 0 && rs.metadata.annotations?.[desiredReplicasAnnotation] !== undefined && rs.metadata.annotations[desiredReplicasAnnotation] !== desired);
  }

  /** DeploymentController.sync: resize only (paused, or a scaling event), then status. */
  private async syncScale(view: View, signal: AbortSignal): Promise<void> {
    const { newRS, old } = await this.syncRevision(view, false, signal);
    await this.scale(view, newRS === undefined ? undefined : this.find(view, newRS), old.map((rs) => this.find(view, rs)), signal);
    if (view.d.spec?.paused === true) await this.cleanup(view, old.map((rs) => this.find(view, rs)), signal);
    await this.writeStatus(view, calculateStatus(view.d, view.replicaSets, newRS === undefined ? undefined : this.find(view, newRS), this.wallClockMs()), signal);
  }

  private async scale(view: View, newRS: ReplicaSet | undefined, old: readonly ReplicaSet[], signal: AbortSignal): Promise<void> {
    const desired = deploymentReplicas(view.d);
    const all = newRS === undefined ? [...old] : [newRS, ...old];
    const active = all.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    if (active.length <= 1) {
      const target = active[0] ?? newRS ?? [...old].sort((a, b) => revisionOf(b) - revisionOf(a))[0];
      if (target !== undefined) await this.scaleReplicaSet(view, target, desired, signal);
      return;
    }
    if (newRS !== undefined && (newRS.spec?.replicas ?? 0) === desired && this.availableOf(view, newRS) === desired) {
      for (const rs of old) await this.scaleReplicaSet(view, rs, 0, signal);
      return;
    }
    if (!isRollingUpdate(view.d)) return;
    const sizes = proportionalSizes(active, desired, maxSurgeOf(view.d), view.d.status?.replicas ?? 0);
    // Shrink first, then grow, so that the total never passes the new bound on the way.
    const ordered = [...active].sort((a, b) => (sizes.get(a.metadata.name ?? '') ?? 0) - (a.spec?.replicas ?? 0) - ((sizes.get(b.metadata.name ?? '') ?? 0) - (b.spec?.replicas ?? 0)));
    for (const rs of ordered) await this.scaleReplicaSet(view, this.find(view, rs), sizes.get(rs.metadata.name ?? '') ?? 0, signal);
  }

  /** cleanupDeployment: delete the oldest ReplicaSets past revisionHistoryLimit that have no pods. */
  private async cleanup(view: View, old: readonly ReplicaSet[], signal: AbortSignal): Promise<void> {
    const limit = view.d.spec?.revisionHistoryLimit;
    if (limit === undefined) return;
    const alive = old.filter((rs) => rs.metadata.deletionTimestamp === undefined);
    let excess = alive.length - limit;
    if (excess <= 0) return;
    for (const rs of [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b))) {
      if (excess <= 0) break;
      const idle = (rs.spec?.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0 && this.podsOf(view, rs).length === 0 && (rs.metadata.generation ?? 0) <= (rs.status?.observedGeneration ?? 0);
      if (!idle) continue;
      try {
        await this.client.resource('replicasets', rs.metadata.namespace).delete(rs.metadata.name ?? '', { signal, preconditions: { uid: rs.metadata.uid } });
      } catch (error) {
        if (!hasStatusReason(error, 'NotFound')) throw error;
      }
      view.replicaSets = view.replicaSets.filter((r) => r.metadata.uid !== rs.metadata.uid);
      excess--;
    }
  }

  /** checkPausedConditions: Progressing is Unknown/DeploymentPaused while paused, DeploymentResumed after. */
  private async checkPausedConditions(view: View, signal: AbortSignal): Promise<void> {
    if (!hasProgressDeadline(view.d)) return;
    const current = conditionOf(view.d.status, progressingCondition);
    if (current?.reason === Reasons.timedOut) return;
    const paused = view.d.spec?.paused === true;
    const pausedNow = current?.reason === Reasons.paused;
    let condition;
    if (paused && !pausedNow) condition = newCondition(progressingCondition, 'Unknown', Reasons.paused, 'Deployment is paused', this.wallClockMs());
    else if (!paused && pausedNow) condition = newCondition(progressingCondition, 'Unknown', Reasons.resumed, 'Deployment is resumed', this.wallClockMs());
    if (condition === undefined) return;
    const status = structuredClone(view.d.status ?? {});
    setCondition(status, condition);
    view.d = await this.client.resource('deployments', view.d.metadata.namespace).updateStatus({ ...structuredClone(view.d), status }, { signal });
  }

  private async syncStatusOnly(view: View, signal: AbortSignal): Promise<void> {
    const { newRS } = this.split(view);
    await this.writeStatus(view, calculateStatus(view.d, view.replicaSets, newRS, this.wallClockMs()), signal);
  }

  private async syncRolloutStatus(view: View, signal: AbortSignal): Promise<void> {
    const { newRS } = this.split(view);
    const nowMs = this.wallClockMs();
    const status = withProgressConditions(view.d, calculateStatus(view.d, view.replicaSets, newRS, nowMs), newRS, nowMs);
    await this.writeStatus(view, status, signal);
    // A rollout that stops moving times out with time alone: come back at its deadline.
    const condition = conditionOf(status, progressingCondition);
    if (hasProgressDeadline(view.d) && condition?.status === 'True' && condition.reason !== Reasons.newReplicaSetAvailable && !isComplete(view.d, status)) {
      const dueMs = parseTime(condition.lastUpdateTime ?? '') + (view.d.spec?.progressDeadlineSeconds ?? 0) * 1000 - nowMs;
      if (!Number.isNaN(dueMs)) this.enqueueAfter(objectKey(view.d), Math.max(0, dueMs) + 1000);
    }
  }

  private async writeStatus(view: View, status: DeploymentStatus, signal: AbortSignal): Promise<void> {
    if (JSON.stringify(sortedStatus(view.d.status)) === JSON.stringify(sortedStatus(status))) return;
    view.d = await this.client.resource('deployments', view.d.metadata.namespace).updateStatus({ ...structuredClone(view.d), status }, { signal });
  }
}

/** Status with conditions in type order, for comparison. */
function sortedStatus(status: DeploymentStatus | undefined): unknown {
  if (status === undefined) return {};
  const keys = Object.keys(status).sort() as (keyof DeploymentStatus)[];
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = key === 'conditions' ? [...(status.conditions ?? [])].sort((a, b) => a.type.localeCompare(b.type)) : status[key];
  return out;
}
