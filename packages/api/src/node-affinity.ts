// Node selector and node affinity matching (component-helpers scheduling/corev1/nodeaffinity):
// terms are ORed, the requirements of a term ANDed; an empty term matches nothing.

import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod } from './types/core.js';

/** Go's strconv.ParseInt(v, 10, 64) in spirit: a whole decimal number, or undefined. */
function parseInteger(value: string): number | undefined {
  return /^[+-]?[0-9]+$/.test(value) ? Number(value) : undefined;
}

export function nodeSelectorRequirementMatches(requirement: NodeSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      // One value, both sides integers; anything else matches nothing (labels.Requirement.Matches).
      if (value === undefined || values.length !== 1) return false;
      const actual = parseInteger(value);
      const bound = parseInteger(values[0] as string);
      if (actual === undefined || bound === undefined) return false;
      return requirement.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/** matchFields supports only metadata.name, as Kubernetes'. */
function fieldRequirementMatches(requirement: NodeSelectorRequirement, node: Node): boolean {
  if (requirement.key !== 'metadata.name') return false;
  return nodeSelectorRequirementMatches(requirement, { 'metadata.name': node.metadata.name ?? '' });
}

export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  return expressions.every((r) => nodeSelectorRequirementMatches(r, labels)) && fields.every((r) => fieldRequirementMatches(r, node));
}

export function nodeSelectorTermsMatch(terms: readonly NodeSelectorTerm[], node: Node): boolean {
  return terms.some((term) => nodeSelectorTermMatches(term, node));
}

/** `spec.nodeSelector` and the required node affinity, both (nodeaffinity.GetRequiredNodeAffinity). */
export function podMatchesNodeSelectorAndAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries(pod.spec?.nodeSelector ?? {})) {
    if (labels[key] !== value) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required === undefined) return true;
  return nodeSelectorTermsMatch(required.nodeSelectorTerms ?? [], node);
}

/** The sum of the weights of the preferred terms the node matches (the NodeAffinity score before normalizing). */
export function preferredAffinityWeight(pod: Pod, node: Node): number {
  let total = 0;
  for (const term of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (term.weight !== 0 && nodeSelectorTermMatches(term.preference, node)) total += term.weight;
  }
  return total;
}
