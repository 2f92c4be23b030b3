// Pure facts about pods and owner references that the ReplicaSet and Deployment controllers share
// (kubernetes pkg/controller/controller_utils.go and pkg/api/v1/pod): active, ready, available,
// the controller reference, and the order in which pods are least worth keeping.

import { parseTime, type KubeObject, type OwnerReference, type Pod } from '@raftplane/api';

/** The owner reference marked `controller: true`, if any (metav1.GetControllerOf). */
export function controllerRefOf(obj: Pick<KubeObject, 'metadata'>): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((ref) => ref.controller === true);
}

/** A controller reference to `owner`, as controllers set it on what they create or adopt. */
export function controllerRefTo(owner: Pick<KubeObject, 'metadata'>, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** Neither finished nor being deleted (controller.IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata.deletionTimestamp === undefined;
}

function readyCondition(pod: Pod): { status: string; lastTransitionTime?: string | null } | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The Ready condition is True (podutil.IsPodReady). */
export function isPodReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod last became Ready, in epoch ms, or undefined (not ready, or no time recorded). */
export function podReadySinceMs(pod: Pod): number | undefined {
  const condition = readyCondition(pod);
  if (condition?.status !== 'True' || condition.lastTransitionTime == null) return undefined;
  const ms = parseTime(condition.lastTransitionTime);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Ready for at least `minReadySeconds` at `nowMs` (podutil.IsPodAvailable). A ready pod with no
 * transition time counts as available at once only when minReadySeconds is 0.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const sinceMs = podReadySinceMs(pod);
  return sinceMs !== undefined && sinceMs + minReadySeconds * 1000 <= nowMs;
}

/** How long until a ready pod becomes available, in ms; undefined when it is not ready or already is. */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, nowMs: number): number | undefined {
  if (!isPodReady(pod) || minReadySeconds <= 0) return undefined;
  const sinceMs = podReadySinceMs(pod);
  if (sinceMs === undefined) return undefined;
  const leftMs = sinceMs + minReadySeconds * 1000 - nowMs;
  return leftMs > 0 ? leftMs : undefined;
}

const phaseRank: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

function timeMs(time: string | null | undefined): number {
  if (time == null) return Number.NaN;
  return parseTime(time);
}

function restarts(pod: Pod): number {
  let count = 0;
  for (const status of pod.status?.containerStatuses ?? []) count = Math.max(count, status.restartCount);
  return count;
}

/** Orders two times with "later first"; an unknown time counts as later than any known one. */
function laterFirst(a: number, b: number): number {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  if (Number.isNaN(a)) return -1;
  if (Number.isNaN(b)) return 1;
  return b - a;
}

/**
 * controller.ActivePods' Less: negative when `a` is less worth keeping than `b`, so sorting with
 * it puts the pods to delete first. In order: unscheduled before scheduled; Pending before Unknown
 * before Running; not ready before ready; ready for less time before more; more restarts before
 * fewer; newer before older; then by name, so the order is total and deterministic.
 */
export function comparePodsForDeletion(a: Pod, b: Pod): number {
  const aScheduled = (a.spec?.nodeName ?? '') !== '' ? 1 : 0;
  const bScheduled = (b.spec?.nodeName ?? '') !== '' ? 1 : 0;
  if (aScheduled !== bScheduled) return aScheduled - bScheduled;
  const aPhase = phaseRank[a.status?.phase ?? 'Pending'] ?? 0;
  const bPhase = phaseRank[b.status?.phase ?? 'Pending'] ?? 0;
  if (aPhase !== bPhase) return aPhase - bPhase;
  const aReady = isPodReady(a) ? 1 : 0;
  const bReady = isPodReady(b) ? 1 : 0;
  if (aReady !== bReady) return aReady - bReady;
  if (aReady === 1) {
    const byReadyTime = laterFirst(timeMs(readyCondition(a)?.lastTransitionTime), timeMs(readyCondition(b)?.lastTransitionTime));
    if (byReadyTime !== 0) return byReadyTime;
  }
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const byCreation = laterFirst(timeMs(a.metadata.creationTimestamp), timeMs(b.metadata.creationTimestamp));
  if (byCreation !== 0) return byCreation;
  const aName = a.metadata.name ?? '';
  const bName = b.metadata.name ?? '';
  return aName < bName ? 1 : aName > bName ? -1 : 0;
}

/** The `count` pods least worth keeping (getPodsToDelete), without changing `pods`. */
export function podsToDelete(pods: readonly Pod[], count: number): Pod[] {
  if (count <= 0) return [];
  return [...pods].sort(comparePodsForDeletion).slice(0, count);
}
