// The rules for UPDATE beyond re-validating the new object: fields a kind never lets change once
// set (Kubernetes' ValidateXxxUpdate functions), and the narrow set of pod spec changes allowed.

import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from './types/apps.js';
import type { Job } from './types/batch.js';
import type { ConfigMap, Node, Pod, PodSpec, Secret, Service, Toleration } from './types/core.js';
import { type FieldCause, forbidden, formatBadValue, goLabelSelector, invalid, required } from './validation-errors.js';
import { immutable } from './validation-meta.js';
import { deepEqual } from './validation-support.js';

/** Kubernetes' text (1.20) for a pod spec change outside the mutable fields; a diff follows it. */
export const podUpdateForbiddenMessage =
  'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, ' +
  '`spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing tolerations)';

const int32Max = 2147483647;

/**
 * A short diff of the top-level spec fields that differ. Kubernetes prints a Go cmp.Diff here,
 * which we cannot reproduce; the first line, which clients show, is exact.
 */
function specDiff(prev: PodSpec, next: PodSpec): string {
  const keys = [...new Set([...Object.keys(prev), ...Object.keys(next)])].sort();
  const lines: string[] = [];
  for (const key of keys) {
    const a = (prev as unknown as Record<string, unknown>)[key];
    const b = (next as unknown as Record<string, unknown>)[key];
    if (deepEqual(a, b)) continue;
    if (a !== undefined) lines.push(`- ${key}: ${formatBadValue(a)}`);
    if (b !== undefined) lines.push(`+ ${key}: ${formatBadValue(b)}`);
  }
  return lines.join('\n');
}

function sameToleration(a: Toleration, b: Toleration): boolean {
  return a.key === b.key && (a.operator ?? 'Equal') === (b.operator ?? 'Equal') && (a.value ?? '') === (b.value ?? '') && a.effect === b.effect;
}

/** Existing tolerations stay; only their NoExecute tolerationSeconds may shrink. New ones may be added. */
function validateOnlyAddedTolerations(next: readonly Toleration[], prev: readonly Toleration[]): FieldCause[] {
  const causes: FieldCause[] = [];
  prev.forEach((old, i) => {
    const kept = next.find((t) => sameToleration(t, old));
    const secondsOk =
      kept !== undefined &&
      (old.tolerationSeconds === undefined
        ? kept.tolerationSeconds === undefined
        : kept.tolerationSeconds !== undefined && kept.tolerationSeconds <= old.tolerationSeconds);
    if (!secondsOk) causes.push(forbidden(`spec.tolerations[${i}]`, 'existing toleration can not be modified except its tolerationSeconds'));
  });
  return causes;
}

function validateActiveDeadlineUpdate(next: number | undefined, prev: number | undefined): FieldCause[] {
  const field = 'spec.activeDeadlineSeconds';
  if (next === undefined) return prev === undefined ? [] : [invalid(field, null, 'must not update from a positive integer to nil value')];
  if (next < 0 || next > int32Max) return [invalid(field, next, `must be between 0 and ${int32Max}, inclusive`)];
  if (prev !== undefined && prev < next) return [invalid(field, next, 'must be less than or equal to previous value')];
  return [];
}

/** ValidatePodUpdate's spec part: images, activeDeadlineSeconds and added tolerations may change. */
export function validatePodSpecUpdate(next: Pod, prev: Pod): FieldCause[] {
  const nextSpec = next.spec ?? { containers: [] };
  const prevSpec = prev.spec ?? { containers: [] };
  for (const list of ['containers', 'initContainers'] as const) {
    const a = nextSpec[list] ?? [];
    const b = prevSpec[list] ?? [];
    if (a.length !== b.length) return [forbidden(`spec.${list}`, 'pod updates may not add or remove containers')];
    const missing = a.flatMap((c, i) => (c.image ? [] : [required(`spec.${list}[${i}].image`)]));
    if (missing.length > 0) return missing;
  }
  const causes = validateActiveDeadlineUpdate(nextSpec.activeDeadlineSeconds, prevSpec.activeDeadlineSeconds);
  if (causes.length > 0) return causes;

  const munged: PodSpec = structuredClone(nextSpec);
  munged.containers = munged.containers.map((c, i) => ({ ...c, image: prevSpec.containers[i]?.image }));
  if (munged.initContainers !== undefined) {
    munged.initContainers = munged.initContainers.map((c, i) => ({ ...c, image: prevSpec.initContainers?.[i]?.image }));
  }
  munged.activeDeadlineSeconds = prevSpec.activeDeadlineSeconds;
  munged.tolerations = prevSpec.tolerations;
  causes.push(...validateOnlyAddedTolerations(nextSpec.tolerations ?? [], prevSpec.tolerations ?? []));
  if (!deepEqual(munged, prevSpec)) {
    causes.push(forbidden('spec', `${podUpdateForbiddenMessage}\n${specDiff(prevSpec, munged)}`));
  }
  return causes;
}

type Selected = Deployment | ReplicaSet | DaemonSet | StatefulSet;

export function validateSelectorUpdate(next: Selected, prev: Selected): FieldCause[] {
  return immutable('spec.selector', next.spec?.selector, prev.spec?.selector, goLabelSelector(next.spec?.selector));
}

/** StatefulSets accept changes to replicas, template and updateStrategy only (Kubernetes 1.20 wording). */
export function validateStatefulSetSpecUpdate(next: StatefulSet, prev: StatefulSet): FieldCause[] {
  const strip = (s: StatefulSet): Record<string, unknown> => ({ ...s.spec, replicas: undefined, template: undefined, updateStrategy: undefined });
  if (deepEqual(strip(next), strip(prev))) return [];
  return [forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'template', and 'updateStrategy' are forbidden")];
}

export function validateJobSpecUpdate(next: Job, prev: Job): FieldCause[] {
  return [
    ...immutable('spec.selector', next.spec?.selector, prev.spec?.selector, goLabelSelector(next.spec?.selector)),
    ...immutable('spec.template', next.spec?.template, prev.spec?.template),
    ...immutable('spec.completions', next.spec?.completions ?? null, prev.spec?.completions ?? null),
  ];
}

/**
 * A ClusterIP, once allocated, stays (headless `None` included), unless the Service becomes or was
 * an ExternalName one, which has none (Kubernetes 1.20 ValidateServiceUpdate).
 */
export function validateServiceSpecUpdate(next: Service, prev: Service): FieldCause[] {
  const old = prev.spec?.clusterIP;
  if (!old) return [];
  if (prev.spec?.type === 'ExternalName' || next.spec?.type === 'ExternalName') return [];
  return immutable('spec.clusterIP', next.spec?.clusterIP ?? '', old);
}

export function validateNodeSpecUpdate(next: Node, prev: Node): FieldCause[] {
  const old = prev.spec?.podCIDR;
  if (!old || next.spec?.podCIDR === old) return [];
  return [forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid')];
}

/** ConfigMaps and Secrets marked immutable keep their data, and their mark. */
export function validateImmutableDataUpdate(next: ConfigMap | Secret, prev: ConfigMap | Secret): FieldCause[] {
  if (prev.immutable !== true) return [];
  const causes: FieldCause[] = [];
  if (next.immutable !== true) causes.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  if (!deepEqual(next.data, prev.data)) causes.push(forbidden('data', 'field is immutable when `immutable` is set'));
  const nextBinary = 'binaryData' in next ? next.binaryData : undefined;
  const prevBinary = 'binaryData' in prev ? prev.binaryData : undefined;
  if (!deepEqual(nextBinary, prevBinary)) causes.push(forbidden('binaryData', 'field is immutable when `immutable` is set'));
  return causes;
}

export function validateSecretTypeUpdate(next: Secret, prev: Secret): FieldCause[] {
  return immutable('type', next.type ?? '', prev.type ?? '');
}
