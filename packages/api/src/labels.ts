// Label selectors as Kubernetes defines them (k8s.io/apimachinery/pkg/labels and
// pkg/apis/meta/v1/helpers.go): requirements, conversion between the metav1.LabelSelector object
// form and the string form (parsed in label-selector-parser.ts), and matching against labels.
// Field-error validation of selector objects is validateLabelSelector in validation-meta.ts.

import type { LabelSelector } from './types/meta.js';

/** selection.Operator spellings; `exists` and `!` are the bare `key` and `!key` forms. */
export type LabelOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

/** One parsed term of a selector. `values` is sorted and free of duplicates, as labels.Requirement keeps it. */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

/**
 * A selector ready to match. `matchesNothing` is the null selector (LabelSelectorAsSelector(nil)),
 * which no labels satisfy; otherwise every requirement must hold, so no requirements match all.
 */
export interface ParsedLabelSelector {
  readonly matchesNothing: boolean;
  /** Sorted by key (stable), as labels.Parse returns them. */
  readonly requirements: readonly LabelRequirement[];
}

export type Labels = Readonly<Record<string, string>>;

/** A selector string or object that cannot be parsed or is not valid. */
export class LabelSelectorError extends Error {
  override readonly name = 'LabelSelectorError';
  readonly code = 'LABEL_SELECTOR_INVALID' as const;
}

/** Bounds Kubernetes puts on label keys and values (validation.IsQualifiedName, IsValidLabelValue). */
export const labelNameCharsMax = 63;
export const labelPrefixCharsMax = 253;
/** Our own bound, so a hostile query string cannot make a huge selector. */
export const labelSelectorCharsMax = 16_384;

const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const everythingLabelSelector: ParsedLabelSelector = Object.freeze({ matchesNothing: false, requirements: Object.freeze([]) });
export const nothingLabelSelector: ParsedLabelSelector = Object.freeze({ matchesNothing: true, requirements: Object.freeze([]) });

/** Why `key` is not a valid label key (a qualified name, optionally `prefix/`), or undefined if it is. */
export function labelKeyProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return `label key "${key}" has more than one "/"`;
  const name = parts.length === 2 ? (parts[1] ?? '') : key;
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix.length === 0) return `label key "${key}" has an empty prefix before "/"`;
    if (prefix.length > labelPrefixCharsMax) return `label key "${key}" has a prefix longer than ${labelPrefixCharsMax} characters`;
    if (!dns1123Subdomain.test(prefix)) return `label key "${key}" has a prefix that is not a lowercase DNS subdomain`;
  }
  if (name.length === 0) return `label key "${key}" has an empty name part`;
  if (name.length > labelNameCharsMax) return `label key "${key}" has a name part longer than ${labelNameCharsMax} characters`;
  if (!qualifiedNamePart.test(name)) {
    return `label key "${key}": name part must be alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

/** Why `value` is not a valid label value, or undefined if it is (the empty string is valid). */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > labelNameCharsMax) return `label value "${value}" is longer than ${labelNameCharsMax} characters`;
  if (value.length > 0 && !qualifiedNamePart.test(value)) {
    return `label value "${value}" must be alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

/** Builds a requirement with labels.NewRequirement's checks; throws LabelSelectorError naming the problem. */
export function labelRequirement(key: string, operator: LabelOperator, values: readonly string[]): LabelRequirement {
  const keyProblem = labelKeyProblem(key);
  if (keyProblem !== undefined) throw new LabelSelectorError(keyProblem);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) throw new LabelSelectorError(`for 'in', 'notin' operators on "${key}", values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) throw new LabelSelectorError(`exact-match operator '${operator}' on "${key}" needs exactly one value, got ${values.length}`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) throw new LabelSelectorError(`values set must be empty for exists and does not exist, got ${values.length} for "${key}"`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) throw new LabelSelectorError(`for 'Gt', 'Lt' operators on "${key}", exactly one value is required`);
      if (!/^-?[0-9]+$/.test(values[0] ?? '')) throw new LabelSelectorError(`for 'Gt', 'Lt' operators on "${key}", the value must be an integer, got "${values[0]}"`);
      break;
  }
  for (const value of values) {
    const valueProblem = operator === 'gt' || operator === 'lt' ? undefined : labelValueProblem(value);
    if (valueProblem !== undefined) throw new LabelSelectorError(valueProblem);
  }
  return { key, operator, values: [...new Set(values)].sort() };
}

/** A selector from requirements, sorted by key as labels.internalSelector keeps them. */
export function labelSelectorOf(requirements: readonly LabelRequirement[]): ParsedLabelSelector {
  const sorted = [...requirements].sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
  return { matchesNothing: false, requirements: sorted };
}

/** labels.SelectorFromSet: every key must have exactly this value. */
export function labelSelectorFromSet(labels: Labels): ParsedLabelSelector {
  return labelSelectorOf(Object.entries(labels).map(([key, value]) => labelRequirement(key, '=', [value])));
}

/** Whether one requirement holds for these labels (labels.Requirement.Matches). */
export function requirementMatches(requirement: LabelRequirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case '=':
    case '==':
    case 'in':
      return value !== undefined && requirement.values.includes(value);
    case '!=':
    case 'notin':
      return value === undefined || !requirement.values.includes(value);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (value === undefined || !/^-?[0-9]+$/.test(value)) return false;
      const actual = BigInt(value);
      const bound = BigInt(requirement.values[0] ?? '0');
      return requirement.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

/** Whether `labels` (absent labels are none) satisfy the selector. */
export function matchesLabels(selector: ParsedLabelSelector, labels: Labels | undefined): boolean {
  if (selector.matchesNothing) return false;
  const actual = labels ?? {};
  return selector.requirements.every((requirement) => requirementMatches(requirement, actual));
}

/** Whether the selector places no constraint at all (labels.Selector.Empty). */
export function labelSelectorIsEverything(selector: ParsedLabelSelector): boolean {
  return !selector.matchesNothing && selector.requirements.length === 0;
}

/**
 * Kubernetes writes a lone empty value as `()`, which its own parser rejects; `(,)` reads back as
 * that one empty value in both parsers.
 */
function valueSetToString(values: readonly string[]): string {
  return values.length === 1 && values[0] === '' ? ',' : values.join(',');
}

/** The string form of one requirement, as labels.Requirement.String writes it. */
export function labelRequirementToString(requirement: LabelRequirement): string {
  const { key, values } = requirement;
  switch (requirement.operator) {
    case 'exists':
      return key;
    case '!':
      return `!${key}`;
    case 'in':
      return `${key} in (${valueSetToString(values)})`;
    case 'notin':
      return `${key} notin (${valueSetToString(values)})`;
    case 'gt':
      return `${key}>${values[0] ?? ''}`;
    case 'lt':
      return `${key}<${values[0] ?? ''}`;
    default:
      return `${key}${requirement.operator}${values[0] ?? ''}`;
  }
}

/**
 * The string form that parseLabelSelector reads back to an equal selector. The null selector has
 * none (Kubernetes prints "" for it, which would read back as "everything"), so it throws.
 */
export function labelSelectorToString(selector: ParsedLabelSelector): string {
  if (selector.matchesNothing) throw new LabelSelectorError('the null label selector matches nothing and has no string form');
  return selector.requirements.map(labelRequirementToString).join(',');
}

const objectOperators: Readonly<Record<string, LabelOperator>> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * metav1.LabelSelectorAsSelector: null or undefined matches nothing, `{}` matches everything.
 * Throws LabelSelectorError naming the first problem.
 */
export function labelSelectorAsSelector(selector: LabelSelector | null | undefined): ParsedLabelSelector {
  if (selector === null || selector === undefined) return nothingLabelSelector;
  const requirements: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) requirements.push(labelRequirement(key, '=', [value]));
  for (const expression of selector.matchExpressions ?? []) {
    const operator = objectOperators[expression.operator];
    if (operator === undefined) throw new LabelSelectorError(`${JSON.stringify(expression.operator)} is not a valid label selector operator`);
    requirements.push(labelRequirement(expression.key, operator, expression.values ?? []));
  }
  return labelSelectorOf(requirements);
}

/**
 * The metav1.LabelSelector for a parsed selector (metav1.ParseToLabelSelector): `=`/`==` become
 * matchLabels, `!=` becomes NotIn with one value; Gt/Lt and the null selector have no object form.
 */
export function selectorToLabelSelector(selector: ParsedLabelSelector): LabelSelector {
  if (selector.matchesNothing) throw new LabelSelectorError('the null label selector matches nothing and has no object form');
  const result: LabelSelector = {};
  for (const requirement of selector.requirements) {
    const values = [...requirement.values];
    switch (requirement.operator) {
      case '=':
      case '==':
        result.matchLabels = { ...result.matchLabels, [requirement.key]: values[0] ?? '' };
        break;
      case 'in':
        (result.matchExpressions ??= []).push({ key: requirement.key, operator: 'In', values });
        break;
      case '!=':
      case 'notin':
        (result.matchExpressions ??= []).push({ key: requirement.key, operator: 'NotIn', values });
        break;
      case 'exists':
        (result.matchExpressions ??= []).push({ key: requirement.key, operator: 'Exists' });
        break;
      case '!':
        (result.matchExpressions ??= []).push({ key: requirement.key, operator: 'DoesNotExist' });
        break;
      default:
        throw new LabelSelectorError(`operator '${requirement.operator}' on "${requirement.key}" has no metav1.LabelSelector form`);
    }
  }
  return result;
}

/** The string form of a metav1.LabelSelector, e.g. for `kubectl get -l`; throws for null. */
export function labelSelectorObjectToString(selector: LabelSelector | null | undefined): string {
  return labelSelectorToString(labelSelectorAsSelector(selector));
}

/** Whether the labels satisfy a metav1.LabelSelector (null matches nothing, `{}` everything). */
export function labelSelectorMatches(selector: LabelSelector | null | undefined, labels: Labels | undefined): boolean {
  return matchesLabels(labelSelectorAsSelector(selector), labels);
}
