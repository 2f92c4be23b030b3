// The score plugins (kube-scheduler framework/plugins): each gives every feasible node a raw score
// and, where Kubernetes normalizes, maps the raw scores onto 0–100. The node's total is the
// weighted sum; weights are the scheduler's options.

import type { NodeInfo } from './node-info.js';
import { preferredAffinityWeight } from '@raftplane/api';
import type { PodContext } from './pod-context.js';
import { tolerationsTolerateTaint } from '@raftplane/api';

export const maxNodeScore = 100;

export interface Scorer {
  readonly name: string;
  /** A raw score for one node; 0–100 already unless `normalize` maps it there. */
  score(ctx: PodContext, node: NodeInfo): number;
  /** Maps the raw scores of every feasible node (in place) onto 0–100. */
  normalize?(scores: number[]): void;
  /**
   * The framework's PreScore Skip: the (normalized) score every node gets for this pod when it is
   * the same for all, so no node need be scored; undefined when nodes may differ.
   */
  uniform?(ctx: PodContext): number | undefined;
}

/** (capacity - requested) * 100 / capacity, 0 when over or nothing offered (leastRequestedScore). */
function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity <= 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * maxNodeScore) / capacity);
}

/** NodeResourcesFit with LeastAllocated: the emptier node scores higher; cpu and memory weigh 1 each. */
export const leastAllocated: Scorer = {
  name: 'LeastAllocated',
  score(ctx, node) {
    const cpu = leastRequestedScore(node.nonZeroRequested.milliCpu + ctx.nonZeroRequests.milliCpu, node.allocatable.milliCpu);
    const memory = leastRequestedScore(node.nonZeroRequested.memoryBytes + ctx.nonZeroRequests.memoryBytes, node.allocatable.memoryBytes);
    return Math.floor((cpu + memory) / 2);
  },
};

function fraction(requested: number, capacity: number): number {
  return capacity <= 0 ? 1 : Math.min(1, requested / capacity);
}

/** NodeResourcesBalancedAllocation (1.23+): (1 - standard deviation of the cpu and memory fractions) * 100. */
export const balancedAllocation: Scorer = {
  name: 'BalancedAllocation',
  score(ctx, node) {
    const cpu = fraction(node.nonZeroRequested.milliCpu + ctx.nonZeroRequests.milliCpu, node.allocatable.milliCpu);
    const memory = fraction(node.nonZeroRequested.memoryBytes + ctx.nonZeroRequests.memoryBytes, node.allocatable.memoryBytes);
    const std = Math.abs(cpu - memory) / 2;
    return Math.floor((1 - std) * maxNodeScore);
  },
};

/** DefaultNormalizeScore: scaled so the highest becomes 100 (or, reversed, the lowest); all equal when the highest is 0. */
export function defaultNormalize(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) max = Math.max(max, s);
  for (let i = 0; i < scores.length; i++) {
    if (max === 0) scores[i] = reverse ? maxNodeScore : 0;
    else {
      const scaled = Math.floor((maxNodeScore * (scores[i] as number)) / max);
      scores[i] = reverse ? maxNodeScore - scaled : scaled;
    }
  }
}

/**
 * SelectorSpread: fewer pods of the same group (controller or Service) on a node is better:
 * 100 * (max - count) / max over the feasible nodes, 100 everywhere when none has any.
 */
export const selectorSpread: Scorer = {
  name: 'SelectorSpread',
  score(ctx, node) {
    const inGroup = ctx.spreadGroup;
    if (inGroup === undefined) return 0;
    let count = 0;
    for (const [key, pod] of node.pods) if (key !== ctx.key && inGroup(pod)) count++;
    return count;
  },
  normalize: (scores) => defaultNormalize(scores, true),
  // No group: every raw count is 0, which normalizes (reversed) to the maximum everywhere.
  uniform: (ctx) => (ctx.spreadGroup === undefined ? maxNodeScore : undefined),
};

/** NodeAffinity score: the weights of the preferred terms the node matches, scaled so the best is 100. */
export const preferredNodeAffinity: Scorer = {
  name: 'NodeAffinity',
  score: (ctx, node) => preferredAffinityWeight(ctx.pod, node.node),
  normalize: (scores) => defaultNormalize(scores, false),
  // No preferred terms: every weight is 0, which normalizes to 0.
  uniform: (ctx) => ((ctx.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) === 0 ? 0 : undefined),
};

/** TaintToleration score: fewer untolerated PreferNoSchedule taints is better. */
export const taintTolerationScore: Scorer = {
  name: 'TaintToleration',
  score(ctx, node) {
    let count = 0;
    for (const taint of node.taints) if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(ctx.tolerations, taint)) count++;
    return count;
  },
  normalize: (scores) => defaultNormalize(scores, true),
};

export interface WeightedScorer {
  readonly scorer: Scorer;
  readonly weight: number;
}

/** Kubernetes' default weights (NodeAffinity 2, TaintToleration 3, the rest 1), with spreading at 2 as PodTopologySpread has. */
export const defaultScorers: readonly WeightedScorer[] = Object.freeze([
  { scorer: leastAllocated, weight: 1 },
  { scorer: balancedAllocation, weight: 1 },
  { scorer: selectorSpread, weight: 2 },
  { scorer: preferredNodeAffinity, weight: 2 },
  { scorer: taintTolerationScore, weight: 3 },
]);

/** The weighted total of each node, in the order of `nodes`. */
export function scoreNodes(scorers: readonly WeightedScorer[], ctx: PodContext, nodes: readonly NodeInfo[]): number[] {
  const totals = new Array<number>(nodes.length).fill(0);
  const scores = new Array<number>(nodes.length);
  for (const { scorer, weight } of scorers) {
    if (weight === 0) continue;
    const same = scorer.uniform?.(ctx);
    if (same !== undefined) {
      for (let i = 0; i < nodes.length; i++) totals[i] = (totals[i] as number) + weight * same;
      continue;
    }
    for (let i = 0; i < nodes.length; i++) scores[i] = scorer.score(ctx, nodes[i] as NodeInfo);
    scorer.normalize?.(scores);
    for (let i = 0; i < nodes.length; i++) totals[i] = (totals[i] as number) + weight * (scores[i] as number);
  }
  return totals;
}
