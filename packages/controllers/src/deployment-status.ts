// A Deployment's status and conditions (kubernetes pkg/controller/deployment/sync.go calculateStatus
// and progress.go): counts summed over its ReplicaSets, Available by minimum availability,
// Progressing by progress within progressDeadlineSeconds. Pure: the wall clock is passed in.

import { formatTime, parseTime, type Deployment, type DeploymentStatus, type ReplicaSet, type WorkloadCondition } from '@raftplane/api';
import { deploymentReplicas, maxUnavailableOf } from './rollout.js';

export const progressingCondition = 'Progressing';
export const availableCondition = 'Available';
export const Reasons = {
  newReplicaSetCreated: 'NewReplicaSetCreated',
  foundNewReplicaSet: 'FoundNewReplicaSet',
  replicaSetUpdated: 'ReplicaSetUpdated',
  newReplicaSetAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

export function conditionOf(status: DeploymentStatus | undefined, type: string): WorkloadCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** SetDeploymentCondition: same status and reason is no change; otherwise replaced, keeping the transition time when the status holds. */
export function setCondition(status: DeploymentStatus, condition: WorkloadCondition): void {
  const current = conditionOf(status, condition.type);
  if (current !== undefined && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current !== undefined && current.status === condition.status && current.lastTransitionTime !== undefined) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), next];
}

export function newCondition(type: string, status: WorkloadCondition['status'], reason: string, message: string, nowMs: number): WorkloadCondition {
  const time = formatTime(nowMs);
  return { type, status, lastUpdateTime: time, lastTransitionTime: time, reason, message };
}

export function hasProgressDeadline(d: Deployment): boolean {
  const seconds = d.spec?.progressDeadlineSeconds;
  return seconds !== undefined && seconds !== 2_147_483_647;
}

/** calculateStatus: counts from the ReplicaSets' statuses, the Available condition, the rest kept. */
export function calculateStatus(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet | undefined, nowMs: number): DeploymentStatus {
  let replicas = 0;
  let ready = 0;
  let available = 0;
  let specTotal = 0;
  for (const rs of all) {
    replicas += rs.status?.replicas ?? 0;
    ready += rs.status?.readyReplicas ?? 0;
    available += rs.status?.availableReplicas ?? 0;
    specTotal += rs.spec?.replicas ?? 0;
  }
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas,
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: ready,
    availableReplicas: available,
    unavailableReplicas: Math.max(0, specTotal - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions !== undefined) status.conditions = structuredClone(d.status.conditions);
  if (available >= deploymentReplicas(d) - maxUnavailableOf(d)) {
    setCondition(status, newCondition(availableCondition, 'True', Reasons.minimumReplicasAvailable, 'Deployment has minimum availability.', nowMs));
  } else {
    setCondition(status, newCondition(availableCondition, 'False', Reasons.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', nowMs));
  }
  return status;
}

/** DeploymentComplete: every replica updated and available, and the status is of this generation. */
export function isComplete(d: Deployment, status: DeploymentStatus): boolean {
  const desired = deploymentReplicas(d);
  return status.updatedReplicas === desired && status.replicas === desired && status.availableReplicas === desired && (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** DeploymentProgressing: more updated, ready or available pods, or fewer old ones, than the last status. */
export function isProgressing(d: Deployment, status: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return newOld < oldOld || (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/** DeploymentTimedOut: the Progressing condition was last updated more than progressDeadlineSeconds ago. */
export function isTimedOut(d: Deployment, status: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = conditionOf(status, progressingCondition);
  if (condition === undefined) return false;
  if (condition.reason === Reasons.newReplicaSetAvailable) return false;
  if (condition.reason === Reasons.timedOut) return true;
  const fromMs = parseTime(condition.lastUpdateTime ?? '');
  return !Number.isNaN(fromMs) && fromMs + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

/** syncRolloutStatus' condition logic: complete, progressing or timed out, on top of calculateStatus. */
export function withProgressConditions(d: Deployment, status: DeploymentStatus, newRS: ReplicaSet | undefined, nowMs: number): DeploymentStatus {
  const next = structuredClone(status);
  if (!hasProgressDeadline(d)) {
    next.conditions = (next.conditions ?? []).filter((c) => c.type !== progressingCondition);
    return next;
  }
  const current = conditionOf(next, progressingCondition);
  if (current?.reason === Reasons.timedOut) return next;
  const rsName = newRS?.metadata.name ?? '';
  if (isComplete(d, next)) {
    setCondition(next, newCondition(progressingCondition, 'True', Reasons.newReplicaSetAvailable, `ReplicaSet "${rsName}" has successfully progressed.`, nowMs));
  } else if (isProgressing(d, next)) {
    const condition = newCondition(progressingCondition, 'True', Reasons.replicaSetUpdated, `ReplicaSet "${rsName}" is progressing.`, nowMs);
    if (current?.status === 'True' && current.lastTransitionTime !== undefined) condition.lastTransitionTime = current.lastTransitionTime;
    next.conditions = [...(next.conditions ?? []).filter((c) => c.type !== progressingCondition), condition];
  } else if (isTimedOut(d, next, nowMs)) {
    setCondition(next, newCondition(progressingCondition, 'False', Reasons.timedOut, `ReplicaSet "${rsName}" has timed out progressing.`, nowMs));
  }
  return next;
}
