// Validation of ObjectMeta, labels, annotations and label selectors (apimachinery
// pkg/api/validation/objectmeta.go and metav1/validation), on create and on update.

import { Buffer } from 'node:buffer';
import type { LabelSelector, ObjectMeta } from './types/meta.js';
import {
  type FieldCause,
  forbidden,
  invalid,
  notSupported,
  required,
  tooLong,
} from './validation-errors.js';
import { deepEqual } from './validation-support.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from './validation-names.js';

/** Kubernetes' limit on the sum of all annotation keys and values, in bytes (256 KiB). */
export const annotationsTotalBytesMax = 256 * 1024;

/** Which syntax a kind's names must follow. */
export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label';

const nameChecks: Record<NameRule, (name: string) => string[]> = {
  'dns1123-subdomain': isDNS1123Subdomain,
  'dns1123-label': isDNS1123Label,
  'dns1035-label': isDNS1035Label,
};

export interface ObjectMetaRules {
  namespaced: boolean;
  nameRule: NameRule;
}

const standardFinalizers = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** A generateName prefix may end in a dash: Kubernetes checks it as if the dash were a letter. */
function maskTrailingDash(prefix: string): string {
  return prefix.length > 1 && prefix.endsWith('-') ? `${prefix.slice(0, -1)}a` : prefix;
}

export function validateLabels(labels: Record<string, string> | undefined, field: string): FieldCause[] {
  const causes: FieldCause[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    for (const m of isQualifiedName(key)) causes.push(invalid(field, key, m));
    for (const m of isValidLabelValue(value)) causes.push(invalid(field, value, m));
  }
  return causes;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, field: string): FieldCause[] {
  const causes: FieldCause[] = [];
  let totalBytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    for (const m of isQualifiedName(key.toLowerCase())) causes.push(invalid(field, key, m));
    totalBytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  if (totalBytes > annotationsTotalBytesMax) causes.push(tooLong(field, annotationsTotalBytesMax));
  return causes;
}

export function validateLabelSelector(selector: LabelSelector | undefined, field: string): FieldCause[] {
  if (selector === undefined) return [];
  const causes: FieldCause[] = [];
  (selector.matchExpressions ?? []).forEach((req, i) => {
    const at = `${field}.matchExpressions[${i}]`;
    const values = req.values ?? [];
    if (req.operator === 'In' || req.operator === 'NotIn') {
      if (values.length === 0) causes.push(required(`${at}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (req.operator === 'Exists' || req.operator === 'DoesNotExist') {
      if (values.length > 0) causes.push(forbidden(`${at}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      causes.push(invalid(`${at}.operator`, req.operator, 'not a valid selector operator'));
    }
    for (const m of isQualifiedName(req.key ?? '')) causes.push(invalid(`${at}.key`, req.key ?? '', m));
  });
  causes.push(...validateLabels(selector.matchLabels, `${field}.matchLabels`));
  return causes;
}

function validateFinalizers(finalizers: readonly string[] | undefined, field: string): FieldCause[] {
  const causes: FieldCause[] = [];
  for (const name of finalizers ?? []) {
    const messages = isQualifiedName(name);
    for (const m of messages) causes.push(invalid(field, name, m));
    if (messages.length === 0 && !name.includes('/') && !standardFinalizers.has(name)) {
      causes.push(invalid(field, name, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  return causes;
}

function validateOwnerReferences(meta: ObjectMeta, field: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const controllers: string[] = [];
  for (const ref of meta.ownerReferences ?? []) {
    if (!ref.apiVersion) causes.push(invalid(`${field}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) causes.push(invalid(`${field}.kind`, ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) causes.push(invalid(`${field}.name`, ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) causes.push(invalid(`${field}.uid`, ref.uid ?? '', 'uid must not be empty'));
    if (ref.controller === true) controllers.push(`${ref.kind}/${ref.name}`);
  }
  if (controllers.length > 1) {
    const found = controllers.join(', ');
    causes.push(invalid(field, meta.ownerReferences, `Only one reference can have Controller set to true. Found "true" in references for ${found}`));
  }
  return causes;
}

/** ValidateObjectMeta: name (or generateName), namespace, labels, annotations, owners, finalizers. */
export function validateObjectMeta(meta: ObjectMeta | undefined, rules: ObjectMetaRules, field = 'metadata'): FieldCause[] {
  if (meta === undefined) return [required(field)];
  const causes: FieldCause[] = [];
  const check = nameChecks[rules.nameRule];
  if (meta.generateName) {
    for (const m of check(maskTrailingDash(meta.generateName))) causes.push(invalid(`${field}.generateName`, meta.generateName, m));
  }
  if (meta.name) {
    for (const m of check(meta.name)) causes.push(invalid(`${field}.name`, meta.name, m));
  } else if (!meta.generateName) {
    causes.push(required(`${field}.name`, 'name or generateName is required'));
  }
  if (rules.namespaced) {
    if (!meta.namespace) causes.push(required(`${field}.namespace`));
    else for (const m of isDNS1123Label(meta.namespace)) causes.push(invalid(`${field}.namespace`, meta.namespace, m));
  } else if (meta.namespace) {
    causes.push(forbidden(`${field}.namespace`, 'not allowed on this type'));
  }
  if (meta.generation !== undefined && meta.generation < 0) {
    causes.push(invalid(`${field}.generation`, meta.generation, 'must be greater than or equal to 0'));
  }
  causes.push(...validateLabels(meta.labels, `${field}.labels`));
  causes.push(...validateAnnotations(meta.annotations, `${field}.annotations`));
  causes.push(...validateOwnerReferences(meta, `${field}.ownerReferences`));
  causes.push(...validateFinalizers(meta.finalizers, `${field}.finalizers`));
  return causes;
}

/** ValidateImmutableField: `Invalid value: <new>: field is immutable`. */
export function immutable(field: string, newValue: unknown, oldValue: unknown, shown: unknown = newValue): FieldCause[] {
  return deepEqual(newValue, oldValue) ? [] : [invalid(field, shown, 'field is immutable')];
}

/** ValidateObjectMetaUpdate: what a client may never change, plus resourceVersion and generation rules. */
export function validateObjectMetaUpdate(next: ObjectMeta, prev: ObjectMeta, field = 'metadata'): FieldCause[] {
  const causes: FieldCause[] = [];
  if (prev.deletionTimestamp !== undefined) {
    const old = new Set(prev.finalizers ?? []);
    const extra = [...new Set((next.finalizers ?? []).filter((f) => !old.has(f)))].sort();
    if (extra.length > 0) {
      const list = `[]string{${extra.map((f) => JSON.stringify(f)).join(', ')}}`;
      causes.push(forbidden(`${field}.finalizers`, `no new finalizers can be added if the object is being deleted, found new finalizers ${list}`));
    }
  }
  if (!next.resourceVersion) causes.push(invalid(`${field}.resourceVersion`, next.resourceVersion ?? '', 'must be specified for an update'));
  if ((next.generation ?? 0) < (prev.generation ?? 0)) causes.push(invalid(`${field}.generation`, next.generation ?? 0, 'must not be decremented'));
  causes.push(...immutable(`${field}.name`, next.name ?? '', prev.name ?? ''));
  causes.push(...immutable(`${field}.namespace`, next.namespace ?? '', prev.namespace ?? ''));
  causes.push(...immutable(`${field}.uid`, next.uid ?? '', prev.uid ?? ''));
  causes.push(...immutable(`${field}.creationTimestamp`, next.creationTimestamp ?? null, prev.creationTimestamp ?? null));
  causes.push(...immutable(`${field}.deletionTimestamp`, next.deletionTimestamp ?? null, prev.deletionTimestamp ?? null));
  causes.push(
    ...immutable(`${field}.deletionGracePeriodSeconds`, next.deletionGracePeriodSeconds ?? null, prev.deletionGracePeriodSeconds ?? null),
  );
  return causes;
}

/** NotSupported unless `value` is one of `allowed` (absent values are left to defaulting). */
export function oneOf(field: string, value: string | undefined, allowed: readonly string[]): FieldCause[] {
  if (value === undefined || allowed.includes(value)) return [];
  return [notSupported(field, value, [...allowed].sort())];
}

/** ValidateNonnegativeField. */
export function nonNegative(field: string, value: number | undefined): FieldCause[] {
  if (value === undefined || value >= 0) return [];
  return [invalid(field, value, 'must be greater than or equal to 0')];
}
