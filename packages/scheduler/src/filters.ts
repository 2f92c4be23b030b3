// The filter plugins (kube-scheduler framework/plugins): pure functions of the pod's context and
// one NodeInfo. Each returns the reasons it rejects the node, in Kubernetes' words (what the
// "0/N nodes are available" message counts), or an empty list when the pod fits.

import { anyHostIp, hostPortKey, type HostPort, type NodeInfo } from './node-info.js';
import { podMatchesNodeSelectorAndAffinity } from '@raftplane/api';
import type { PodContext } from './pod-context.js';
import { findUntoleratedTaint, tolerationsTolerateTaint } from '@raftplane/api';

/** The wording of each rejection, as kube-scheduler 1.25–1.28 prints it. */
export const FilterReason = {
  NodeNotReady: 'node(s) were not ready',
  NodeUnschedulable: 'node(s) were unschedulable',
  NodeName: "node(s) didn't match the requested node name",
  NodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  HostPorts: "node(s) didn't have free ports for the requested pod ports",
  TooManyPods: 'Too many pods',
  InsufficientCpu: 'Insufficient cpu',
  InsufficientMemory: 'Insufficient memory',
} as const;

/** `node(s) had untolerated taint {key: value}` (TaintToleration, ErrReasonNotMatch since 1.25). */
export function untoleratedTaintReason(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ''}}`;
}

export type FilterFn = (ctx: PodContext, node: NodeInfo) => readonly string[];

export interface Filter {
  readonly name: string;
  readonly filter: FilterFn;
  /**
   * The framework's PreFilter Skip: true when this filter cannot reject any node for this pod,
   * so the pass leaves it out (the answer is the same, without a call per node).
   */
  readonly skip?: (ctx: PodContext) => boolean;
}

const fits: readonly string[] = Object.freeze([]);

/** The taint the node lifecycle controller puts on a cordoned node; tolerating it lets a pod past the cordon. */
export const unschedulableTaintKey = 'node.kubernetes.io/unschedulable';

/** The old CheckNodeCondition predicate: a Ready condition that is not True rejects; none at all does not. */
export const nodeReady: FilterFn = (_ctx, node) => (node.ready === undefined || node.ready === 'True' ? fits : [FilterReason.NodeNotReady]);

export const nodeUnschedulable: FilterFn = (ctx, node) => {
  if (!node.unschedulable) return fits;
  const tolerated = tolerationsTolerateTaint(ctx.tolerations, { key: unschedulableTaintKey, effect: 'NoSchedule' });
  return tolerated ? fits : [FilterReason.NodeUnschedulable];
};

export const nodeName: FilterFn = (ctx, node) => {
  const wanted = ctx.pod.spec?.nodeName;
  return wanted === undefined || wanted === '' || wanted === node.name ? fits : [FilterReason.NodeName];
};

const filteredTaintEffects = Object.freeze(['NoSchedule', 'NoExecute'] as const);

/** NoSchedule and NoExecute taints must be tolerated; PreferNoSchedule only lowers a score. */
export const taintToleration: FilterFn = (ctx, node) => {
  if (node.taints.length === 0) return fits;
  const taint = findUntoleratedTaint(node.taints, ctx.tolerations, filteredTaintEffects);
  return taint === undefined ? fits : [untoleratedTaintReason(taint.key, taint.value)];
};

export const nodeAffinity: FilterFn = (ctx, node) => (podMatchesNodeSelectorAndAffinity(ctx.pod, node.node) ? fits : [FilterReason.NodeAffinity]);

/** HostPortInfo.CheckConflict: 0.0.0.0 on either side collides with every address. */
export function hostPortConflicts(used: ReadonlyMap<string, number>, wanted: HostPort): boolean {
  if (wanted.hostIp === anyHostIp) {
    const suffix = `/${wanted.protocol}/${wanted.port}`;
    for (const key of used.keys()) if (key.endsWith(suffix)) return true;
    return false;
  }
  return used.has(hostPortKey(wanted)) || used.has(hostPortKey({ ...wanted, hostIp: anyHostIp }));
}

export const nodePorts: FilterFn = (ctx, node) => (ctx.hostPorts.some((p) => hostPortConflicts(node.usedPorts, p)) ? [FilterReason.HostPorts] : fits);

/** NodeResourcesFit: pod count, then cpu and memory, each against allocatable minus what the node's pods request. */
export const nodeResourcesFit: FilterFn = (ctx, node) => {
  const { milliCpu, memoryBytes } = ctx.requests;
  const tooManyPods = node.pods.size + 1 > node.allocatable.podsCount;
  const cpuShort = milliCpu > 0 && node.allocatable.milliCpu < milliCpu + node.requested.milliCpu;
  const memoryShort = memoryBytes > 0 && node.allocatable.memoryBytes < memoryBytes + node.requested.memoryBytes;
  // The common answer allocates nothing: this runs for hundreds of nodes per pod.
  if (!tooManyPods && !cpuShort && !memoryShort) return fits;
  const reasons: string[] = [];
  if (tooManyPods) reasons.push(FilterReason.TooManyPods);
  if (cpuShort) reasons.push(FilterReason.InsufficientCpu);
  if (memoryShort) reasons.push(FilterReason.InsufficientMemory);
  return reasons;
};

/** In Kubernetes' default order; a node stops at the first filter that rejects it, as the framework does. */
export const defaultFilters: readonly Filter[] = Object.freeze([
  { name: 'NodeReady', filter: nodeReady },
  { name: 'NodeUnschedulable', filter: nodeUnschedulable },
  { name: 'NodeName', filter: nodeName, skip: (ctx) => !ctx.pod.spec?.nodeName },
  { name: 'TaintToleration', filter: taintToleration },
  {
    name: 'NodeAffinity',
    filter: nodeAffinity,
    skip: (ctx) => Object.keys(ctx.pod.spec?.nodeSelector ?? {}).length === 0 && ctx.pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution === undefined,
  },
  { name: 'NodePorts', filter: nodePorts, skip: (ctx) => ctx.hostPorts.length === 0 },
  { name: 'NodeResourcesFit', filter: nodeResourcesFit },
]);

/** The filters that can reject a node for this pod, in order (PreFilter: the others are skipped). */
export function filtersFor(filters: readonly Filter[], ctx: PodContext): readonly Filter[] {
  return filters.filter((f) => f.skip?.(ctx) !== true);
}

/** Runs the filters on one node; the reasons of the first that rejects it, or empty when it fits. */
export function runFilters(filters: readonly Filter[], ctx: PodContext, node: NodeInfo): readonly string[] {
  for (const { filter } of filters) {
    const reasons = filter(ctx, node);
    if (reasons.length > 0) return reasons;
  }
  return fits;
}
