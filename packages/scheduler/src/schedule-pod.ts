// One scheduling decision (kube-scheduler's schedulePod): filter nodes, score the feasible ones,
// pick the highest total, breaking ties at random with the injected generator. Like
// kube-scheduler, in a large cluster the filter pass stops once it has found enough feasible
// nodes (percentageOfNodesToScore, numFeasibleNodesToFind), starting where the last pass stopped
// so that every node gets its turn. Pure: the same pod, nodes, start and random numbers always
// give the same answer.

import { filtersFor, runFilters, type Filter } from './filters.js';
import { fitErrorMessage, noNodesAvailableMessage } from './fit-error.js';
import type { NodeInfo } from './node-info.js';
import type { PodContext } from './pod-context.js';
import { scoreNodes, type WeightedScorer } from './scores.js';

export interface SchedulingProfile {
  readonly filters: readonly Filter[];
  readonly scorers: readonly WeightedScorer[];
  /** Uniform in [0, 1): breaks ties between the best nodes. */
  readonly random: () => number;
  /**
   * kube-scheduler's percentageOfNodesToScore: the share of the cluster's nodes (1 to 100) a pass
   * looks for feasible ones among before it stops; 0 or absent: adaptive, 50% less 1% per 125
   * nodes, at least 5%. Never fewer than 100 nodes.
   */
  readonly percentageOfNodesToScore?: number;
}

/** kube-scheduler's minFeasibleNodesToFind and minFeasibleNodesPercentageToFind. */
const FEASIBLE_NODES_MIN = 100;
const FEASIBLE_NODES_PERCENTAGE_MIN = 5;

/** How many feasible nodes a pass looks for among `nodeCount` (kube-scheduler's numFeasibleNodesToFind). */
export function feasibleNodesToFind(nodeCount: number, percentageOfNodesToScore = 0): number {
  if (nodeCount < FEASIBLE_NODES_MIN || percentageOfNodesToScore >= 100) return nodeCount;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) percentage = Math.max(FEASIBLE_NODES_PERCENTAGE_MIN, 50 - Math.floor(nodeCount / 125));
  return Math.max(FEASIBLE_NODES_MIN, Math.floor((nodeCount * percentage) / 100));
}

/** `processed`: the nodes the filter pass looked at, from `start` on (the next pass starts after them). */
export type ScheduleResult =
  | { readonly kind: 'scheduled'; readonly nodeName: string; readonly feasibleCount: number; readonly score: number; readonly processed: number }
  | { readonly kind: 'unschedulable'; readonly message: string; readonly reasonCounts: ReadonlyMap<string, number>; readonly processed: number };

/**
 * Filters `nodes` from index `start` (wrapping around) until enough feasible ones are found, then
 * scores those. A pod that fits nowhere has been checked against every node, so its message
 * counts them all.
 */
export function schedulePod(profile: SchedulingProfile, ctx: PodContext, nodes: readonly NodeInfo[], start = 0): ScheduleResult {
  const count = nodes.length;
  if (count === 0) return { kind: 'unschedulable', message: noNodesAvailableMessage, reasonCounts: new Map(), processed: 0 };
  const wanted = feasibleNodesToFind(count, profile.percentageOfNodesToScore);
  const filters = filtersFor(profile.filters, ctx);
  const feasible: NodeInfo[] = [];
  const reasonCounts = new Map<string, number>();
  let processed = 0;
  while (processed < count && feasible.length < wanted) {
    const node = nodes[(start + processed) % count] as NodeInfo;
    processed++;
    const reasons = runFilters(filters, ctx, node);
    if (reasons.length === 0) feasible.push(node);
    // A reason counts once per node, however many of its filters would repeat it.
    else for (const reason of new Set(reasons)) reasonCounts.set(reason, (reasonCounts.get(reason) ?? 0) + 1);
  }
  if (feasible.length === 0) return { kind: 'unschedulable', message: fitErrorMessage(count, reasonCounts), reasonCounts, processed };
  if (feasible.length === 1) {
    const only = feasible[0] as NodeInfo;
    return { kind: 'scheduled', nodeName: only.name, feasibleCount: 1, score: 0, processed };
  }
  const totals = scoreNodes(profile.scorers, ctx, feasible);
  const best = selectHost(totals, profile.random);
  return { kind: 'scheduled', nodeName: (feasible[best] as NodeInfo).name, feasibleCount: feasible.length, score: totals[best] as number, processed };
}

/** The index of a highest score; among equals, the one `random` picks uniformly. */
export function selectHost(totals: readonly number[], random: () => number): number {
  let max = -Infinity;
  for (const t of totals) max = Math.max(max, t);
  const best: number[] = [];
  for (let i = 0; i < totals.length; i++) if (totals[i] === max) best.push(i);
  if (best.length === 1) return best[0] as number;
  const pick = Math.min(best.length - 1, Math.floor(random() * best.length));
  return best[pick] as number;
}
