// The pure decisions of the DaemonSet controller (kubernetes pkg/controller/daemon): which nodes
// should run a daemon pod (nodeSelector, required node affinity, taints against the pod's
// tolerations plus the ones Kubernetes adds to every daemon pod), which pods to create and delete
// per node, which old pods a rolling update replaces next, and the status. No I/O, no clock.

import { nodeSelectorTermsMatch, toleratesTaint, type DaemonSet, type DaemonSetStatus, type IntOrString, type Node, type Pod, type PodTemplateSpec, type TaintEffect, type Toleration } from '@raftplane/api';
import { isPodAvailable, isPodReady } from './pods.js';
import { scaledValue } from './rollout.js';

/** The label daemon pods carry with the hash of the template they were made from. */
export const daemonSetTemplateHashLabel = 'controller-revision-hash';

/**
 * util.AddOrUpdateDaemonPodTolerations: a daemon pod stays on a node that is not ready, unreachable
 * or under pressure, and ignores cordoning; on the host network it also ignores network-unavailable.
 */
export function daemonPodTolerations(template: PodTemplateSpec | undefined): Toleration[] {
  const tolerations = [...(template?.spec?.tolerations ?? [])];
  const add = (key: string, effect: TaintEffect): void => {
    if (!tolerations.some((t) => t.key === key && t.operator === 'Exists' && t.effect === effect)) tolerations.push({ key, operator: 'Exists', effect });
  };
  add('node.kubernetes.io/not-ready', 'NoExecute');
  add('node.kubernetes.io/unreachable', 'NoExecute');
  add('node.kubernetes.io/disk-pressure', 'NoSchedule');
  add('node.kubernetes.io/memory-pressure', 'NoSchedule');
  add('node.kubernetes.io/pid-pressure', 'NoSchedule');
  add('node.kubernetes.io/unschedulable', 'NoSchedule');
  if (template?.spec?.hostNetwork === true) add('node.kubernetes.io/network-unavailable', 'NoSchedule');
  return tolerations;
}

/** core/v1 ToleratesTaint (api's `toleratesTaint`, which the scheduler uses too). */
export const daemonTolerationToleratesTaint = toleratesTaint;

/** The template's nodeSelector and required node affinity (terms ORed) both match the node. */
export function daemonNodeSelectorMatches(template: PodTemplateSpec | undefined, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries(template?.spec?.nodeSelector ?? {})) if (labels[key] !== value) return false;
  const required = template?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required === undefined) return true;
  return nodeSelectorTermsMatch(required.nodeSelectorTerms ?? [], node);
}

export interface DaemonNodeFit {
  /** A daemon pod should be created here (NoSchedule and NoExecute taints all tolerated). */
  readonly shouldRun: boolean;
  /** A daemon pod already here may stay (only NoExecute taints matter). */
  readonly shouldContinueRunning: boolean;
}

/** NodeShouldRunDaemonPod: selector and affinity first, then the taints against the daemon tolerations. */
export function daemonNodeFit(template: PodTemplateSpec | undefined, node: Node): DaemonNodeFit {
  if (!daemonNodeSelectorMatches(template, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = daemonPodTolerations(template);
  const untolerated = (effect: TaintEffect): boolean => (node.spec?.taints ?? []).some((taint) => taint.effect === effect && !tolerations.some((t) => daemonTolerationToleratesTaint(t, taint)));
  const noExecute = untolerated('NoExecute');
  return { shouldRun: !noExecute && !untolerated('NoSchedule'), shouldContinueRunning: !noExecute };
}

/** The node a daemon pod is for: spec.nodeName, or the metadata.name its required affinity pins. */
export function daemonPodNodeName(pod: Pod): string | undefined {
  if ((pod.spec?.nodeName ?? '') !== '') return pod.spec?.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const field of term.matchFields ?? []) {
      if (field.key === 'metadata.name' && field.operator === 'In' && field.values?.length === 1) return field.values[0];
    }
  }
  return undefined;
}

function creationMs(pod: Pod): number {
  const ms = Date.parse(pod.metadata.creationTimestamp ?? '');
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}

/** Oldest first, then by name: the pod a node keeps when it has several. */
export function compareDaemonPodsOldestFirst(a: Pod, b: Pod): number {
  const byTime = creationMs(a) - creationMs(b);
  if (byTime !== 0) return byTime;
  const aName = a.metadata.name ?? '';
  const bName = b.metadata.name ?? '';
  return aName < bName ? -1 : aName > bName ? 1 : 0;
}

/** What one sync should do: nodes to create a pod on, pods to delete (with no grace when their node is gone). */
export interface DaemonSetPlan {
  readonly createOnNodes: string[];
  readonly deletePods: Pod[];
  /** Pods whose node no longer exists: deleted at once, no agent being there to confirm. */
  readonly forceDeletePods: Pod[];
}

/**
 * podsShouldBeOnNode over every node: create where a pod should run and none exists (a pod being
 * deleted still counts, so an old pod is gone before its replacement comes); delete finished pods,
 * all but the oldest of several, pods on nodes they may no longer run on, and pods of vanished nodes.
 */
export function daemonSetPlan(template: PodTemplateSpec | undefined, nodes: readonly Node[], podsByNode: ReadonlyMap<string, readonly Pod[]>): DaemonSetPlan {
  const plan: DaemonSetPlan = { createOnNodes: [], deletePods: [], forceDeletePods: [] };
  const known = new Set<string>();
  for (const node of [...nodes].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))) {
    const name = node.metadata.name ?? '';
    known.add(name);
    const { shouldRun, shouldContinueRunning } = daemonNodeFit(template, node);
    const pods = podsByNode.get(name) ?? [];
    const live = pods.filter((pod) => pod.metadata.deletionTimestamp === undefined);
    if (!shouldContinueRunning) {
      plan.deletePods.push(...live);
      continue;
    }
    const finished = live.filter((pod) => pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded');
    const running = live.filter((pod) => !finished.includes(pod)).sort(compareDaemonPodsOldestFirst);
    plan.deletePods.push(...finished, ...running.slice(1));
    if (shouldRun && pods.length === 0) plan.createOnNodes.push(name);
  }
  for (const [name, pods] of podsByNode) {
    if (!known.has(name)) plan.forceDeletePods.push(...pods);
  }
  return plan;
}

/** maxUnavailable of a rolling DaemonSet against the nodes that should run it: rounded up, at least 1. */
export function daemonSetMaxUnavailable(value: IntOrString | undefined, desiredNumberScheduled: number): number {
  return Math.max(1, scaledValue(value ?? 1, desiredNumberScheduled, true));
}

/** One node's pods as the rolling update sees them: those that stay after this sync's plan. */
export interface DaemonNodePods {
  readonly nodeName: string;
  /** The node should run a daemon pod. */
  readonly shouldRun: boolean;
  /** Pods not being deleted. */
  readonly pods: readonly Pod[];
}

/**
 * rollingUpdate with maxSurge 0: nodes without exactly one live pod, and nodes whose up-to-date
 * pod is not yet available, count as unavailable; an old pod that is unavailable is replaced
 * freely; the others, node by node in name order, only while fewer than maxUnavailable are down.
 */
export function daemonSetPodsToReplace(nodes: readonly DaemonNodePods[], hash: string, maxUnavailable: number, minReadySeconds: number, nowMs: number): Pod[] {
  let unavailable = 0;
  const freely: Pod[] = [];
  const candidates: Pod[] = [];
  for (const node of [...nodes].sort((a, b) => (a.nodeName < b.nodeName ? -1 : a.nodeName > b.nodeName ? 1 : 0))) {
    if (!node.shouldRun) continue;
    const pod = node.pods[0];
    if (node.pods.length !== 1 || pod === undefined) {
      unavailable++;
      continue;
    }
    const available = isPodAvailable(pod, minReadySeconds, nowMs);
    if (pod.metadata.labels?.[daemonSetTemplateHashLabel] === hash) {
      if (!available) unavailable++;
    } else if (!available) {
      freely.push(pod);
    } else {
      candidates.push(pod);
    }
  }
  const room = Math.min(Math.max(0, maxUnavailable - unavailable - freely.length), candidates.length);
  return [...freely, ...candidates.slice(0, room)];
}

/** updateDaemonSetStatus: counted over the nodes that exist, each node's oldest live pod deciding. */
export function daemonSetStatusFor(ds: DaemonSet, nodes: readonly Node[], podsByNode: ReadonlyMap<string, readonly Pod[]>, hash: string, nowMs: number): DaemonSetStatus {
  let desired = 0;
  let current = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  let misscheduled = 0;
  const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
  for (const node of nodes) {
    const live = (podsByNode.get(node.metadata.name ?? '') ?? []).filter((pod) => pod.metadata.deletionTimestamp === undefined).sort(compareDaemonPodsOldestFirst);
    const pod = live[0];
    if (!daemonNodeFit(ds.spec?.template, node).shouldRun) {
      if (pod !== undefined) misscheduled++;
      continue;
    }
    desired++;
    if (pod === undefined) continue;
    current++;
    if (isPodReady(pod)) ready++;
    if (isPodAvailable(pod, minReadySeconds, nowMs)) available++;
    if (pod.metadata.labels?.[daemonSetTemplateHashLabel] === hash) updated++;
  }
  const status: DaemonSetStatus = {
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    numberReady: ready,
    numberAvailable: available,
    numberUnavailable: desired - available,
    updatedNumberScheduled: updated,
    numberMisscheduled: misscheduled,
    observedGeneration: ds.metadata.generation ?? 0,
  };
  if (ds.status?.collisionCount !== undefined) status.collisionCount = ds.status.collisionCount;
  if (ds.status?.conditions !== undefined) status.conditions = structuredClone(ds.status.conditions);
  return status;
}

export function sameDaemonSetStatus(a: DaemonSetStatus | undefined, b: DaemonSetStatus): boolean {
  return (
    a !== undefined &&
    a.desiredNumberScheduled === b.desiredNumberScheduled &&
    a.currentNumberScheduled === b.currentNumberScheduled &&
    a.numberReady === b.numberReady &&
    (a.numberAvailable ?? 0) === b.numberAvailable &&
    (a.numberUnavailable ?? 0) === b.numberUnavailable &&
    (a.updatedNumberScheduled ?? 0) === b.updatedNumberScheduled &&
    a.numberMisscheduled === b.numberMisscheduled &&
    a.observedGeneration === b.observedGeneration
  );
}
