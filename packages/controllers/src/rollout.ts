// The pure arithmetic of a Deployment rollout (kubernetes pkg/controller/deployment/util and
// rolling.go): maxSurge / maxUnavailable resolution, how far the new ReplicaSet may grow, how far
// old ones may shrink, proportional scaling, and revisions. No I/O: the controller feeds it counts.

import type { Deployment, IntOrString, ReplicaSet } from '@raftplane/api';

export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';

/** intstr.GetScaledValueFromIntOrPercent: a number as is, `N%` of total rounded up or down. */
export function scaledValue(value: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (match === null) {
    const asNumber = Number(value);
    if (Number.isInteger(asNumber)) return asNumber;
    throw new Error(`invalid value for IntOrString: ${JSON.stringify(value)}`);
  }
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/**
 * deployment/util ResolveFenceposts: maxSurge rounds up, maxUnavailable rounds down, and when both
 * come to 0, maxUnavailable is 1 (a rollout must be able to move).
 */
export function resolveFenceposts(maxSurge: IntOrString | undefined, maxUnavailable: IntOrString | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function deploymentReplicas(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** MaxSurge for a rolling Deployment, 0 otherwise. */
export function maxSurgeOf(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  return resolveFenceposts(d.spec?.strategy?.rollingUpdate?.maxSurge, d.spec?.strategy?.rollingUpdate?.maxUnavailable, deploymentReplicas(d)).surge;
}

/** MaxUnavailable for a rolling Deployment (never above replicas), 0 otherwise. */
export function maxUnavailableOf(d: Deployment): number {
  if (!isRollingUpdate(d) || deploymentReplicas(d) === 0) return 0;
  const { unavailable } = resolveFenceposts(d.spec?.strategy?.rollingUpdate?.maxSurge, d.spec?.strategy?.rollingUpdate?.maxUnavailable, deploymentReplicas(d));
  return Math.min(unavailable, deploymentReplicas(d));
}

/**
 * NewRSNewReplicas for RollingUpdate: the new ReplicaSet grows until the pods of all ReplicaSets
 * reach replicas + maxSurge, and never past replicas. `currentPods` counts every ReplicaSet's pods
 * (the controller passes, per ReplicaSet, the larger of spec.replicas and the pods it still has).
 */
export function newReplicaSetReplicas(desired: number, surge: number, currentPods: number, newReplicas: number): number {
  const maxTotalPods = desired + surge;
  if (currentPods >= maxTotalPods) return newReplicas;
  const scaleUp = Math.min(maxTotalPods - currentPods, desired - newReplicas);
  return newReplicas + Math.max(0, scaleUp);
}

/**
 * How many old pods may go now (reconcileOldReplicaSets): all pods minus the minimum available,
 * minus the new ReplicaSet's unavailable pods (which may never become available).
 */
export function oldReplicasMaxScaleDown(allPods: number, desired: number, unavailable: number, newUnavailable: number): number {
  return Math.max(0, allPods - (desired - unavailable) - newUnavailable);
}

/** Per old ReplicaSet (oldest first): its replicas and available pods. */
export interface OldReplicaSetCounts {
  readonly name: string;
  readonly replicas: number;
  readonly available: number;
}

/**
 * The old ReplicaSets' new sizes for one rolling step, oldest first: first their unavailable pods
 * go (cleanupUnhealthyReplicas), up to `maxScaleDown`; then available ones, as long as the
 * available pods stay at or above `minAvailable` (scaleDownOldReplicaSetsForRollingUpdate).
 */
export function oldReplicaSetsStep(old: readonly OldReplicaSetCounts[], maxScaleDown: number, totalAvailable: number, minAvailable: number): Map<string, number> {
  const sizes = new Map<string, number>();
  let left = maxScaleDown;
  const after = old.map((rs) => ({ ...rs }));
  for (const rs of after) {
    if (left <= 0) break;
    const unhealthy = Math.max(0, rs.replicas - rs.available);
    const down = Math.min(left, unhealthy);
    if (down === 0) continue;
    rs.replicas -= down;
    left -= down;
    sizes.set(rs.name, rs.replicas);
  }
  let availableLeft = Math.min(left, totalAvailable - minAvailable);
  for (const rs of after) {
    if (availableLeft <= 0) break;
    const down = Math.min(availableLeft, rs.replicas);
    if (down === 0) continue;
    rs.replicas -= down;
    availableLeft -= down;
    sizes.set(rs.name, rs.replicas);
  }
  return sizes;
}

function annotationNumber(rs: ReplicaSet, annotation: string): number | undefined {
  const text = rs.metadata.annotations?.[annotation];
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

export function revisionOf(obj: { metadata: { annotations?: Record<string, string> } }): number {
  const value = Number(obj.metadata.annotations?.[revisionAnnotation] ?? '0');
  return Number.isSafeInteger(value) ? value : 0;
}

export function maxRevision(replicaSets: readonly ReplicaSet[]): number {
  let max = 0;
  for (const rs of replicaSets) max = Math.max(max, revisionOf(rs));
  return max;
}

/** The scaled size of one ReplicaSet (getReplicaSetFraction): its share of the Deployment's new size. */
function replicaSetFraction(rs: ReplicaSet, desired: number, surge: number, statusReplicas: number): number {
  const replicas = rs.spec?.replicas ?? 0;
  if (desired === 0) return -replicas;
  const deploymentMax = desired + surge;
  const annotated = annotationNumber(rs, maxReplicasAnnotation) ?? statusReplicas;
  if (annotated === 0) return 0;
  return Math.round((replicas * deploymentMax) / annotated) - replicas;
}

/**
 * Proportional scaling (DeploymentController.scale): a rolling Deployment resized mid-rollout
 * spreads the change over its active ReplicaSets in proportion to their sizes, largest first,
 * leftovers to the first. Returns name → new size for every ReplicaSet given.
 */
export function proportionalSizes(replicaSets: readonly ReplicaSet[], desired: number, surge: number, statusReplicas: number): Map<string, number> {
  const current = replicaSets.reduce((sum, rs) => sum + (rs.spec?.replicas ?? 0), 0);
  const allowed = desired > 0 ? desired + surge : 0;
  const toAdd = allowed - current;
  const newerFirst = (a: ReplicaSet, b: ReplicaSet): number => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
  const sorted = [...replicaSets].sort((a, b) => {
    const bySize = (b.spec?.replicas ?? 0) - (a.spec?.replicas ?? 0);
    if (bySize !== 0) return bySize;
    return toAdd > 0 ? newerFirst(a, b) : -newerFirst(a, b);
  });
  const sizes = new Map<string, number>();
  let added = 0;
  for (const rs of sorted) {
    let proportion = 0;
    const replicas = rs.spec?.replicas ?? 0;
    if (toAdd !== 0 && replicas !== 0 && added !== toAdd) {
      const fraction = replicaSetFraction(rs, desired, surge, statusReplicas);
      const allowedLeft = toAdd - added;
      proportion = toAdd > 0 ? Math.min(fraction, allowedLeft) : Math.max(fraction, allowedLeft);
    }
    sizes.set(rs.metadata.name ?? '', replicas + proportion);
    added += proportion;
  }
  const first = sorted[0];
  if (first !== undefined && toAdd !== added) {
    const name = first.metadata.name ?? '';
    sizes.set(name, Math.max(0, (sizes.get(name) ?? 0) + toAdd - added));
  }
  return sizes;
}
