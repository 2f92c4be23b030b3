// Field selectors as Kubernetes defines them (k8s.io/apimachinery/pkg/fields): the string form
// `metadata.name=x,spec.nodeName!=y` with `=`, `==` and `!=`, the fields each kind supports (the
// apiserver's field label conversion funcs and GetAttrs), and matching against an object.

import { describeJson } from './json-value.js';

export type FieldOperator = '=' | '==' | '!=';

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  readonly value: string;
}

/** Every requirement must hold; none selects everything. */
export interface ParsedFieldSelector {
  readonly requirements: readonly FieldRequirement[];
}

/** A field selector that cannot be parsed, or names a field the kind does not support. */
export class FieldSelectorError extends Error {
  override readonly name = 'FieldSelectorError';
  readonly code = 'FIELD_SELECTOR_INVALID' as const;
}

/** Our own bound, so a hostile query string cannot make a huge selector. */
export const fieldSelectorCharsMax = 16_384;

export const everythingFieldSelector: ParsedFieldSelector = Object.freeze({ requirements: Object.freeze([]) });

type FieldGetter = (object: Record<string, unknown>) => string;

function pathGetter(path: string, missing = ''): FieldGetter {
  const segments = path.split('.');
  return (object) => {
    let value: unknown = object;
    for (const segment of segments) {
      value = typeof value === 'object' && value !== null && Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined;
    }
    if (value === undefined || value === null) return missing;
    return typeof value === 'string' ? value : String(value);
  };
}

const common: Readonly<Record<string, FieldGetter>> = {
  'metadata.name': pathGetter('metadata.name'),
  'metadata.namespace': pathGetter('metadata.namespace'),
};

/** Fields beyond metadata.name and metadata.namespace, per kind: one line per field. */
const fieldsByKind: Readonly<Record<string, Readonly<Record<string, FieldGetter>>>> = {
  Pod: {
    'spec.nodeName': pathGetter('spec.nodeName'),
    'spec.restartPolicy': pathGetter('spec.restartPolicy'),
    'spec.schedulerName': pathGetter('spec.schedulerName'),
    'spec.serviceAccountName': pathGetter('spec.serviceAccountName'),
    'spec.hostNetwork': pathGetter('spec.hostNetwork', 'false'),
    'status.phase': pathGetter('status.phase'),
    'status.podIP': pathGetter('status.podIP'),
    'status.nominatedNodeName': pathGetter('status.nominatedNodeName'),
  },
  Node: { 'spec.unschedulable': pathGetter('spec.unschedulable', 'false') },
  Namespace: { 'status.phase': pathGetter('status.phase') },
  Secret: { type: pathGetter('type') },
  ReplicaSet: { 'status.replicas': pathGetter('status.replicas', '0') },
  ReplicationController: { 'status.replicas': pathGetter('status.replicas', '0') },
  Job: { 'status.successful': pathGetter('status.succeeded', '0') },
  Event: {
    'involvedObject.kind': pathGetter('involvedObject.kind'),
    'involvedObject.namespace': pathGetter('involvedObject.namespace'),
    'involvedObject.name': pathGetter('involvedObject.name'),
    'involvedObject.uid': pathGetter('involvedObject.uid'),
    'involvedObject.apiVersion': pathGetter('involvedObject.apiVersion'),
    'involvedObject.resourceVersion': pathGetter('involvedObject.resourceVersion'),
    'involvedObject.fieldPath': pathGetter('involvedObject.fieldPath'),
    reason: pathGetter('reason'),
    reportingComponent: pathGetter('reportingComponent'),
    source: pathGetter('source.component'),
    type: pathGetter('type'),
  },
};

/** The field labels `kind` can be selected by; an unknown kind (a CRD) gets the metadata ones. */
export function supportedFields(kind: string): string[] {
  return [...Object.keys(common), ...Object.keys(fieldsByKind[kind] ?? {})];
}

function getterFor(field: string, kind: string): FieldGetter {
  const getter = common[field] ?? fieldsByKind[kind]?.[field];
  if (getter === undefined) {
    throw new FieldSelectorError(`field label not supported: ${field} (kind ${kind} supports ${supportedFields(kind).join(', ')})`);
  }
  return getter;
}

/** Throws FieldSelectorError `field label not supported: <field>` for the first field `kind` lacks. */
export function validateFieldSelector(selector: ParsedFieldSelector, kind: string): void {
  for (const requirement of selector.requirements) getterFor(requirement.field, kind);
}

/** The selectable fields of an object as strings (GetAttrs); absent fields read as "" (or "false", "0"). */
export function fieldSetOf(object: unknown, kind: string): Record<string, string> {
  const record = typeof object === 'object' && object !== null ? (object as Record<string, unknown>) : {};
  const fields: Record<string, string> = {};
  for (const field of supportedFields(kind)) fields[field] = getterFor(field, kind)(record);
  return fields;
}

/** Whether the object satisfies every requirement; throws FieldSelectorError for an unsupported field. */
export function matchesFields(selector: ParsedFieldSelector, object: unknown, kind: string): boolean {
  const record = typeof object === 'object' && object !== null ? (object as Record<string, unknown>) : {};
  return selector.requirements.every((requirement) => {
    const actual = getterFor(requirement.field, kind)(record);
    return requirement.operator === '!=' ? actual !== requirement.value : actual === requirement.value;
  });
}

/** Splits on commas not escaped by a backslash; escapes stay in the pieces. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  for (let offset = 0; offset < text.length; offset += 1) {
    if (text[offset] === '\\') offset += 1;
    else if (text[offset] === ',') {
      terms.push(text.slice(start, offset));
      start = offset + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

/** fields.UnescapeValue: `\\`, `\,` and `\=` are the only escapes. */
function unescapeValue(value: string, text: string): string {
  let result = '';
  for (let offset = 0; offset < value.length; offset += 1) {
    const char = value[offset] ?? '';
    if (char !== '\\') {
      result += char;
      continue;
    }
    const escaped = value[offset + 1];
    if (escaped === undefined) throw new FieldSelectorError(`invalid field selector ${JSON.stringify(text)}: unterminated escape sequence at the end of ${JSON.stringify(value)}`);
    if (escaped !== '\\' && escaped !== ',' && escaped !== '=') {
      throw new FieldSelectorError(`invalid field selector ${JSON.stringify(text)}: invalid escape sequence '\\${escaped}' in ${JSON.stringify(value)}`);
    }
    result += escaped;
    offset += 1;
  }
  return result;
}

function parseTerm(term: string, offset: number, text: string): FieldRequirement {
  // The first operator wins, trying `!=` and `==` before `=` at each position, as fields.parseSelector does.
  for (let index = 0; index < term.length; index += 1) {
    const operator = (['!=', '==', '='] as const).find((candidate) => term.startsWith(candidate, index));
    if (operator === undefined) continue;
    const field = term.slice(0, index).trim();
    if (field.length === 0) throw new FieldSelectorError(`invalid field selector ${JSON.stringify(text)}: empty field name in ${describeJson(term)} at offset ${offset}`);
    return { field, operator, value: unescapeValue(term.slice(index + operator.length), text) };
  }
  throw new FieldSelectorError(`invalid selector: ${JSON.stringify(text)}; can't understand ${JSON.stringify(term)} at offset ${offset} (expected field=value, field==value or field!=value)`);
}

/** fields.ParseSelector: the empty string selects everything; empty terms are skipped. */
export function parseFieldSelector(text: string): ParsedFieldSelector {
  if (text.length > fieldSelectorCharsMax) throw new FieldSelectorError(`field selector is ${text.length} characters, more than ${fieldSelectorCharsMax}`);
  const requirements: FieldRequirement[] = [];
  let offset = 0;
  for (const term of splitTerms(text)) {
    if (term.trim().length > 0) requirements.push(parseTerm(term, offset, text));
    offset += term.length + 1;
  }
  return requirements.length === 0 ? everythingFieldSelector : { requirements };
}

/** fields.EscapeValue, the inverse of the unescaping in parseFieldSelector. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (char) => `\\${char}`);
}

/** The string form, which parseFieldSelector reads back to an equal selector. */
export function fieldSelectorToString(selector: ParsedFieldSelector): string {
  return selector.requirements.map((requirement) => `${requirement.field}${requirement.operator}${escapeFieldValue(requirement.value)}`).join(',');
}

/** Parses and checks every field against `kind` in one step, as the apiserver does for list and watch. */
export function parseFieldSelectorFor(text: string, kind: string): ParsedFieldSelector {
  const selector = parseFieldSelector(text);
  validateFieldSelector(selector, kind);
  return selector;
}
