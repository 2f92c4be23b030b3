// One scheduling decision (kube-scheduler's schedulePod): filter every node, score the feasible
// ones, pick the highest total, breaking ties at random with the injected generator. Pure: the
// same pod, nodes and random numbers always give the same answer.

import { runFilters, type Filter } from './filters.js';
import { fitErrorMessage, noNodesAvailableMessage } from './fit-error.js';
import type { NodeInfo } from './node-info.js';
import type { PodContext } from './pod-context.js';
import { scoreNodes, type WeightedScorer } from './scores.js';

export interface SchedulingProfile {
  readonly filters: readonly Filter[];
  readonly scorers: readonly WeightedScorer[];
  /** Uniform in [0, 1): breaks ties between the best nodes. */
  readonly random: () => number;
}

export type ScheduleResult =
  | { readonly kind: 'scheduled'; readonly nodeName: string; readonly feasibleCount: number; readonly score: number }
  | { readonly kind: 'unschedulable'; readonly message: string; readonly reasonCounts: ReadonlyMap<string, number> };

export function schedulePod(profile: SchedulingProfile, ctx: PodContext, nodes: readonly NodeInfo[]): ScheduleResult {
  if (nodes.length === 0) return { kind: 'unschedulable', message: noNodesAvailableMessage, reasonCounts: new Map() };
  const feasible: NodeInfo[] = [];
  const reasonCounts = new Map<string, number>();
  for (const node of nodes) {
    const reasons = runFilters(profile.filters, ctx, node);
    if (reasons.length === 0) feasible.push(node);
    // A reason counts once per node, however many of its filters would repeat it.
    else for (const reason of new Set(reasons)) reasonCounts.set(reason, (reasonCounts.get(reason) ?? 0) + 1);
  }
  if (feasible.length === 0) return { kind: 'unschedulable', message: fitErrorMessage(nodes.length, reasonCounts), reasonCounts };
  if (feasible.length === 1) {
    const only = feasible[0] as NodeInfo;
    return { kind: 'scheduled', nodeName: only.name, feasibleCount: 1, score: 0 };
  }
  const totals = scoreNodes(profile.scorers, ctx, feasible);
  const best = selectHost(totals, profile.random);
  return { kind: 'scheduled', nodeName: (feasible[best] as NodeInfo).name, feasibleCount: feasible.length, score: totals[best] as number };
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
