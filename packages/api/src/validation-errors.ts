// Field errors as Kubernetes reports them (apimachinery pkg/util/validation/field/errors.go): one
// constructor per cause reason, each writing the cause message in Kubernetes' exact wording.

import type { CauseReason, LabelSelector } from './types/meta.js';

/** One problem with one field: a StatusCause whose three parts are always present. */
export interface FieldCause {
  reason: CauseReason;
  /** The error body, without the field: `Invalid value: -1: must be greater than or equal to 0`. */
  message: string;
  /** The JSON path, as Kubernetes writes it: `spec.containers[0].image`, `metadata.labels`. */
  field: string;
}

/** A value already written in Go's `%#v` or `%s` form, printed as is (Go structs, IntOrString). */
export class GoSyntax {
  constructor(readonly text: string) {}
}

function quote(text: string): string {
  return JSON.stringify(text); // Go's %q, for the printable strings object fields hold.
}

/** Go's `%#v` of a map[string]string: keys sorted, as fmt prints maps. */
export function goStringMap(map: Record<string, string> | undefined): GoSyntax {
  if (map === undefined) return new GoSyntax('map[string]string(nil)');
  const pairs = Object.keys(map)
    .sort()
    .map((k) => `${quote(k)}:${quote(map[k] ?? '')}`);
  return new GoSyntax(`map[string]string{${pairs.join(', ')}}`);
}

/** Go's `%#v` of a metav1.LabelSelector, as `field is immutable` and `empty selector` errors print it. */
export function goLabelSelector(selector: LabelSelector | undefined): GoSyntax {
  if (selector === undefined) return new GoSyntax('null');
  const expressions =
    selector.matchExpressions === undefined
      ? '[]v1.LabelSelectorRequirement(nil)'
      : `[]v1.LabelSelectorRequirement{${selector.matchExpressions
          .map((r) => {
            const values = r.values === undefined ? '[]string(nil)' : `[]string{${r.values.map(quote).join(', ')}}`;
            return `v1.LabelSelectorRequirement{Key:${quote(r.key)}, Operator:${quote(r.operator)}, Values:${values}}`;
          })
          .join(', ')}}`;
  return new GoSyntax(`v1.LabelSelector{MatchLabels:${goStringMap(selector.matchLabels).text}, MatchExpressions:${expressions}}`);
}

/** How field.Error.ErrorBody prints a bad value: numbers and booleans bare, strings quoted, nil as null. */
export function formatBadValue(value: unknown): string {
  if (value instanceof GoSyntax) return value.text;
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? 'null';
}

function withDetail(body: string, detail: string): string {
  return detail === '' ? body : `${body}: ${detail}`;
}

export function required(field: string, detail = ''): FieldCause {
  return { reason: 'FieldValueRequired', message: withDetail('Required value', detail), field };
}

export function invalid(field: string, value: unknown, detail: string): FieldCause {
  return { reason: 'FieldValueInvalid', message: withDetail(`Invalid value: ${formatBadValue(value)}`, detail), field };
}

/** `supported` is printed in the order given; Kubernetes passes its sets sorted. */
export function notSupported(field: string, value: unknown, supported: readonly string[]): FieldCause {
  const detail = supported.length === 0 ? '' : `supported values: ${supported.map(quote).join(', ')}`;
  return { reason: 'FieldValueNotSupported', message: withDetail(`Unsupported value: ${formatBadValue(value)}`, detail), field };
}

export function duplicate(field: string, value: unknown): FieldCause {
  return { reason: 'FieldValueDuplicate', message: `Duplicate value: ${formatBadValue(value)}`, field };
}

export function forbidden(field: string, detail: string): FieldCause {
  return { reason: 'FieldValueForbidden', message: withDetail('Forbidden', detail), field };
}

/** Like Invalid, but the (large) value is not printed. Wording of Kubernetes 1.20, the version we report. */
export function tooLong(field: string, maxBytes: number): FieldCause {
  return { reason: 'FieldValueTooLong', message: `Too long: must have at most ${maxBytes} bytes`, field };
}

export function notFound(field: string, value: unknown): FieldCause {
  return { reason: 'FieldValueNotFound', message: `Not found: ${formatBadValue(value)}`, field };
}

/** field.Error.Error(): `spec.containers[0].image: Required value`. */
export function causeText(cause: FieldCause): string {
  return `${cause.field}: ${cause.message}`;
}

/**
 * utilerrors.Aggregate's text: one error alone, else `[a, b]`, each distinct text once, in order.
 * Kubernetes appends this to `Pod "x" is invalid: `.
 */
export function aggregateText(causes: readonly FieldCause[]): string {
  const texts = [...new Set(causes.map(causeText))];
  return texts.length === 1 ? (texts[0] ?? '') : `[${texts.join(', ')}]`;
}
