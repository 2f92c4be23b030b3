// The namespace controller's pure decisions (kubernetes pkg/controller/namespace/deletion): which
// resources hold a namespace's content, which listed objects still need a DELETE, and the status
// a namespace gets once its content is gone.

import { formatTime, resources, type KubeObject, type Namespace, type ResourceInfo } from '@raftplane/api';

/**
 * Every namespaced resource whose objects a namespace's deletion removes: those that support
 * delete, except bindings (a verb on pods, never stored). Events are content too, as in Kubernetes.
 */
export function namespaceContentResources(): ResourceInfo[] {
  return resources.filter((info) => info.namespaced && info.verbs.includes('delete') && info.resource !== 'bindings');
}

/** A namespace marked for deletion (deletionTimestamp; phase Terminating). */
export function isNamespaceTerminating(ns: Pick<Namespace, 'metadata'>): boolean {
  return ns.metadata.deletionTimestamp !== undefined && ns.metadata.deletionTimestamp !== null;
}

/** The listed objects that still need a DELETE: those not already marked (a pod in its grace period, an object held by finalizers). */
export function objectsToDelete<T extends Pick<KubeObject, 'metadata'>>(items: readonly T[]): T[] {
  return items.filter((obj) => obj.metadata.deletionTimestamp === undefined || obj.metadata.deletionTimestamp === null);
}

/** core/v1 NamespaceCondition: Kubernetes' namespace controller reports its progress with these. */
export interface NamespaceCondition {
  type: 'NamespaceContentRemaining' | 'NamespaceDeletionContentFailure' | 'NamespaceFinalizersRemaining';
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/** The namespace as written once its content is gone: Terminating, with NamespaceContentRemaining False. */
export function namespaceContentRemoved<T extends Namespace>(ns: T, nowMs: number): T {
  const copy = structuredClone(ns);
  const condition: NamespaceCondition = { type: 'NamespaceContentRemaining', status: 'False', lastTransitionTime: formatTime(nowMs), reason: 'ContentRemoved', message: 'All content successfully removed' };
  const status = (copy.status ?? {}) as { phase?: 'Active' | 'Terminating'; conditions?: NamespaceCondition[] };
  status.phase = 'Terminating';
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), condition];
  copy.status = status;
  return copy;
}
