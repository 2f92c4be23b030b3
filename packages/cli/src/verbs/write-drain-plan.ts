// Which of a node's pods `drain` removes, warns about or refuses, with kubectl's filters and words
// (k8s.io/kubectl/pkg/drain/filters.go). Pure: the pods in, the plan out.

import type { Pod } from '@raftplane/api';

export interface DrainFilters {
  /** --ignore-daemonsets: leave DaemonSet pods (their controller would only put them back). */
  readonly ignoreDaemonSets: boolean;
  /** --force: remove pods no controller will replace. */
  readonly force: boolean;
  /** --delete-emptydir-data: remove pods whose emptyDir data goes with them. */
  readonly deleteEmptyDirData: boolean;
}

export interface DrainPlan {
  /** The pods to delete, sorted by namespace and name. */
  readonly remove: readonly Pod[];
  readonly warnings: readonly string[];
  /** Non-empty: drain must not delete anything. */
  readonly errors: readonly string[];
}

/** A static pod's mirror: the kubelet owns it, the API cannot remove it. */
const mirrorAnnotation = 'kubernetes.io/config.mirror';

const messages = {
  daemonSetFatal: 'cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)',
  daemonSetWarning: 'ignoring DaemonSet-managed Pods',
  localStorageFatal: 'cannot delete Pods with local storage (use --delete-emptydir-data to override)',
  localStorageWarning: 'deleting Pods with local storage',
  unmanagedFatal: 'cannot delete Pods declare no controller (use --force to override)',
  unmanagedWarning: 'deleting Pods that declare no controller',
} as const;

type Message = keyof typeof messages;

function finished(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** The filters in kubectl's order; the first that refuses or skips a pod decides for it. */
function judge(pod: Pod, filters: DrainFilters): { remove: boolean; message?: Message } {
  if (pod.metadata.annotations?.[mirrorAnnotation] !== undefined) return { remove: false };
  const controller = (pod.metadata.ownerReferences ?? []).find((ref) => ref.controller === true);
  if (controller?.kind === 'DaemonSet') return filters.ignoreDaemonSets ? { remove: false, message: 'daemonSetWarning' } : { remove: false, message: 'daemonSetFatal' };
  if (!finished(pod) && (pod.spec?.volumes ?? []).some((v) => v.emptyDir !== undefined)) {
    if (!filters.deleteEmptyDirData) return { remove: false, message: 'localStorageFatal' };
    if (controller !== undefined || filters.force) return { remove: true, message: 'localStorageWarning' };
  }
  if (controller === undefined && !finished(pod)) return filters.force ? { remove: true, message: 'unmanagedWarning' } : { remove: false, message: 'unmanagedFatal' };
  return { remove: true };
}

export function drainPlan(pods: readonly Pod[], filters: DrainFilters): DrainPlan {
  const sorted = [...pods].sort((a, b) => key(a).localeCompare(key(b)));
  const byMessage = new Map<Message, string[]>();
  const remove: Pod[] = [];
  for (const pod of sorted) {
    const verdict = judge(pod, filters);
    if (verdict.remove) remove.push(pod);
    if (verdict.message !== undefined) byMessage.set(verdict.message, [...(byMessage.get(verdict.message) ?? []), key(pod)]);
  }
  const line = (message: Message): string[] => (byMessage.has(message) ? [`${messages[message]}: ${(byMessage.get(message) ?? []).join(', ')}`] : []);
  return {
    remove,
    warnings: (['daemonSetWarning', 'localStorageWarning', 'unmanagedWarning'] as const).flatMap(line),
    errors: (['daemonSetFatal', 'localStorageFatal', 'unmanagedFatal'] as const).flatMap(line),
  };
}

function key(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}
