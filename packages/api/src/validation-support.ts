// Small helpers the validation, update and metadata code share: JSON equality and label selector
// matching (through labels.ts). Internal to the package (not re-exported from index.ts).

import { LabelSelectorError, labelSelectorMatches } from './labels.js';
import type { LabelSelector } from './types/meta.js';

/** Structural equality of JSON values, as apiequality.Semantic.DeepEqual for our plain objects. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(rb, k) && deepEqual(ra[k], rb[k]));
}

/**
 * Whether a label set satisfies a selector (labels.ts's matcher). An invalid selector matches
 * nothing here: validateLabelSelector reports what is wrong with it.
 */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  try {
    return labelSelectorMatches(selector, labels);
  } catch (error) {
    if (error instanceof LabelSelectorError) return false;
    throw error;
  }
}

/** An empty selector (no labels, no expressions) selects everything, which workloads forbid. */
export function selectorIsEmpty(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}
