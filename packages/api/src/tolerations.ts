// Toleration matching, exactly as k8s.io/api core/v1 toleration.go (ToleratesTaint) and
// component-helpers scheduling/corev1 (FindMatchingUntoleratedTaint) define it.

import type { Taint, TaintEffect, Toleration } from './types/core.js';

/**
 * An empty effect matches every effect; an empty key matches every key (with Exists: tolerates
 * everything); Exists ignores the value; Equal (or no operator) needs the same value.
 */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== ('' as TaintEffect) && toleration.effect !== taint.effect) return false;
  if (toleration.key !== undefined && toleration.key !== '' && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? 'Equal') {
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function tolerationsTolerateTaint(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => toleratesTaint(t, taint));
}

/** The first taint, in the node's order, whose effect is one of `effects` and that no toleration tolerates. */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly TaintEffect[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !tolerationsTolerateTaint(tolerations, taint));
}
