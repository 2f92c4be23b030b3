// The pure half of the node lifecycle controller (kubernetes pkg/controller/nodelifecycle and its
// taint manager): when a node counts as silent on this controller's own clock, how long a pod
// tolerates the unreachable taint, and the Ready condition and taint the controller writes.

import type { Node, NodeCondition, Pod, Taint, Toleration } from '@raftplane/api';

/** The namespace node agents renew their Leases in, one per node, named after it. */
export const nodeLeaseNamespace = 'kube-node-lease';
/** The taint an unreachable node gets (k8s.io/api core/v1 well_known_taints.go). */
export const unreachableTaintKey = 'node.kubernetes.io/unreachable';
/** The reason, and message, of the Ready=Unknown condition this controller writes. */
export const nodeStatusUnknownReason = 'NodeStatusUnknown';
export const nodeStatusUnknownMessage = 'Kubelet stopped posting node status.';
/** The reason of the Ready=True this controller writes back, only over its own NodeStatusUnknown. */
export const nodeStatusRecoveredReason = 'NodeLeaseRenewed';
export const nodeStatusRecoveredMessage = 'Node lease renewed; kubelet is posting node status again.';
/** Kubernetes' defaults: nodeMonitorGracePeriod 40 s; DefaultTolerationSeconds 300 s. */
export const defaultNodeMonitorGracePeriodMs = 40_000;
export const defaultEvictionTimeoutMs = 300_000;

/**
 * What this controller instance has seen of one node's Lease, on its own monotonic clock. Nothing
 * here comes from a timestamp another process wrote: a new leader starts every node's grace period
 * over, as SwarmKit's dispatcher does, instead of trusting renewTimes it did not see arrive.
 */
export interface NodeHealth {
  /** The Lease's spec.renewTime when last looked at (undefined: no Lease, or no renewTime). */
  renewTime: string | undefined;
  /** When this instance first saw the node, or last saw its renewTime change: the grace starts here. */
  probeMs: number;
  /** Whether a renewal (a change of renewTime) has been seen by this instance: needed to undo Unknown. */
  renewalSeen: boolean;
}

/** Folds one look at the Lease into the node's health: a new renewTime restarts the grace period. */
export function observeLease(health: NodeHealth | undefined, renewTime: string | undefined, nowMs: number): NodeHealth {
  if (health === undefined) return { renewTime, probeMs: nowMs, renewalSeen: false };
  if (renewTime === health.renewTime) return health;
  // A Lease deleted (or stripped of its renewTime) is no sign of life: the grace keeps running.
  if (renewTime === undefined) return { ...health, renewTime };
  return { renewTime, probeMs: nowMs, renewalSeen: true };
}

/** Milliseconds left before the node counts as silent; 0 or less means it is silent now. */
export function graceLeftMs(health: NodeHealth, nowMs: number, gracePeriodMs: number): number {
  return health.probeMs + gracePeriodMs - nowMs;
}

export function isUnreachableTaint(taint: Taint): boolean {
  return taint.key === unreachableTaintKey && taint.effect === 'NoExecute';
}

export function hasUnreachableTaint(node: Node): boolean {
  return (node.spec?.taints ?? []).some(isUnreachableTaint);
}

export function readyConditionOf(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Whether the node's Ready condition is the Unknown this controller writes. */
export function isMarkedUnknown(node: Node): boolean {
  const ready = readyConditionOf(node);
  return ready?.status === 'Unknown' && ready.reason === nodeStatusUnknownReason;
}

/** The node with its Ready condition replaced (or added); the transition time moves only on a change of status. */
export function withReadyCondition(node: Node, status: 'True' | 'Unknown', reason: string, message: string, now: string): Node {
  const copy = structuredClone(node) as Node;
  copy.status ??= {};
  const conditions = copy.status.conditions ?? [];
  const previous = conditions.find((c) => c.type === 'Ready');
  const next: NodeCondition = { type: 'Ready', status, reason, message, lastTransitionTime: previous?.status === status ? (previous.lastTransitionTime ?? now) : now };
  if (previous?.lastHeartbeatTime !== undefined) next.lastHeartbeatTime = previous.lastHeartbeatTime;
  copy.status.conditions = previous === undefined ? [...conditions, next] : conditions.map((c) => (c.type === 'Ready' ? next : c));
  return copy;
}

/** The node with the unreachable NoExecute taint added (timeAdded: now), or removed. */
export function withUnreachableTaint(node: Node, present: boolean, now: string): Node {
  const copy = structuredClone(node) as Node;
  copy.spec ??= {};
  const others = (copy.spec.taints ?? []).filter((t) => !isUnreachableTaint(t));
  if (present) others.push({ key: unreachableTaintKey, effect: 'NoExecute', timeAdded: now });
  if (others.length > 0) copy.spec.taints = others;
  else delete copy.spec.taints;
  return copy;
}

/** v1 toleration.go ToleratesTaint, for one taint: an empty key or effect matches any. */
export function toleratesUnreachable(toleration: Toleration): boolean {
  if (toleration.effect !== undefined && (toleration.effect as string) !== '' && toleration.effect !== 'NoExecute') return false;
  if (toleration.key !== undefined && toleration.key !== '' && toleration.key !== unreachableTaintKey) return false;
  const operator = toleration.operator ?? 'Equal';
  if (operator === 'Exists') return true;
  // The unreachable taint has no value: Equal needs an empty one.
  return operator === 'Equal' && (toleration.value ?? '') === '';
}

/**
 * How long `pod` stays on an unreachable node, in ms (the taint manager's getMinTolerationTime):
 * without a toleration of the taint, `defaultMs` (what the DefaultTolerationSeconds admission
 * plugin would have given it); otherwise the least tolerationSeconds among the matching ones
 * (0 or less: at once), or forever (Infinity) when none of them has a limit.
 */
export function unreachableTolerationMs(pod: Pod, defaultMs: number): number {
  const matching = (pod.spec?.tolerations ?? []).filter(toleratesUnreachable);
  if (matching.length === 0) return defaultMs;
  let leastMs = Number.POSITIVE_INFINITY;
  for (const toleration of matching) {
    if (toleration.tolerationSeconds === undefined || toleration.tolerationSeconds === null) continue;
    if (toleration.tolerationSeconds <= 0) return 0;
    leastMs = Math.min(leastMs, toleration.tolerationSeconds * 1000);
  }
  return leastMs;
}

/** A pod still bound to run: not finished and not already being deleted. */
export function isEvictable(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata.deletionTimestamp == null && phase !== 'Succeeded' && phase !== 'Failed';
}

/** One pod's eviction as planned: evict at `dueMs` on the controller's clock. */
export interface PlannedEviction {
  readonly uid: string;
  readonly startMs: number;
  readonly dueMs: number;
}

/**
 * The evictions of the pods on one silent, tainted node. A pod's toleration runs from when this
 * instance first planned it (`previous`, keyed by uid), or from `nowMs` for a pod seen first now;
 * pods gone, finished or already deleting drop out, so the plan never outgrows the node's pods.
 */
export function planEvictions(pods: readonly Pod[], previous: ReadonlyMap<string, PlannedEviction>, nowMs: number, defaultMs: number): Map<string, PlannedEviction> {
  const plan = new Map<string, PlannedEviction>();
  for (const pod of pods) {
    const uid = pod.metadata.uid;
    if (uid === undefined || !isEvictable(pod)) continue;
    const startMs = previous.get(uid)?.startMs ?? nowMs;
    plan.set(uid, { uid, startMs, dueMs: startMs + unreachableTolerationMs(pod, defaultMs) });
  }
  return plan;
}

/**
 * The pod with its Ready condition False (MarkPodsNotReady): a pod on a node nobody hears from
 * cannot be counted on to serve, so Endpoints and ReplicaSets stop counting it before it is evicted.
 */
export function withPodNotReady(pod: Pod, now: string): Pod {
  const copy = structuredClone(pod) as Pod;
  copy.status ??= {};
  const conditions = copy.status.conditions ?? [];
  const next = { type: 'Ready', status: 'False' as const, reason: 'NodeUnreachable', message: 'The node this pod runs on stopped posting status.', lastTransitionTime: now };
  copy.status.conditions = conditions.some((c) => c.type === 'Ready') ? conditions.map((c) => (c.type === 'Ready' ? next : c)) : [...conditions, next];
  return copy;
}
