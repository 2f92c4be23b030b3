// Validation of the workload kinds that hold a pod template: Deployment, ReplicaSet, DaemonSet,
// StatefulSet (kubernetes pkg/apis/apps/validation) and Job (pkg/apis/batch/validation).

import type { DaemonSet, Deployment, ReplicaSet, RollingUpdateDeployment, StatefulSet } from './types/apps.js';
import type { Job } from './types/batch.js';
import type { PodTemplateSpec } from './types/core.js';
import type { IntOrString, LabelSelector } from './types/meta.js';
import { type FieldCause, forbidden, GoSyntax, goLabelSelector, goStringMap, invalid, notSupported, required } from './validation-errors.js';
import { nonNegative, oneOf, validateLabelSelector, validateObjectMeta } from './validation-meta.js';
import { selectorIsEmpty, selectorMatches } from './validation-support.js';
import { isValidPercent } from './validation-names.js';
import { validatePodTemplateSpec } from './validation-pod.js';

const workloadMeta = { namespaced: true, nameRule: 'dns1123-subdomain' } as const;

/**
 * The selector must be present and not empty, and the template's labels must match it. Kubernetes
 * says "for deployment" for ReplicaSets too; we keep its words. A Job may have an empty selector.
 */
function validateSelectorAndTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  owner: 'deployment' | 'daemonset' | 'statefulset' | 'job',
): FieldCause[] {
  const causes: FieldCause[] = [];
  if (selector === undefined) {
    causes.push(required('spec.selector'));
  } else {
    causes.push(...validateLabelSelector(selector, 'spec.selector'));
    if (owner !== 'job' && selectorIsEmpty(selector)) {
      causes.push(invalid('spec.selector', goLabelSelector(selector), `empty selector is invalid for ${owner}`));
    }
  }
  if (selector !== undefined && !selectorIsEmpty(selector) && !selectorMatches(selector, template?.metadata?.labels)) {
    causes.push(invalid('spec.template.metadata.labels', goStringMap(template?.metadata?.labels), '`selector` does not match template `labels`'));
  }
  causes.push(...validatePodTemplateSpec(template, 'spec.template'));
  return causes;
}

/** ValidatePodTemplateSpecForReplicaSet's extra rules, shared by Deployment, ReplicaSet, DaemonSet, StatefulSet. */
function requireRestartAlways(template: PodTemplateSpec | undefined, owner: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const policy = template?.spec?.restartPolicy;
  if (policy !== undefined && policy !== 'Always') causes.push(notSupported('spec.template.spec.restartPolicy', policy, ['Always']));
  if (template?.spec?.activeDeadlineSeconds !== undefined) {
    causes.push(forbidden('spec.template.spec.activeDeadlineSeconds', `activeDeadlineSeconds in ${owner} is not Supported`));
  }
  return causes;
}

function intOrPercentValue(value: IntOrString, total: number): number {
  return typeof value === 'number' ? value : Math.ceil((Number.parseInt(value, 10) * total) / 100);
}

/** ValidatePositiveIntOrPercent plus IsNotMoreThan100Percent. */
function validateIntOrPercent(value: IntOrString | undefined, field: string): FieldCause[] {
  if (value === undefined) return [];
  if (typeof value === 'number') return nonNegative(field, value);
  const messages = isValidPercent(value);
  if (messages.length > 0) return messages.map((m) => invalid(field, new GoSyntax(value), m));
  return Number.parseInt(value, 10) > 100 ? [invalid(field, new GoSyntax(value), 'must not be greater than 100%')] : [];
}

function validateRollingUpdate(rolling: RollingUpdateDeployment, field: string): FieldCause[] {
  const causes = [
    ...validateIntOrPercent(rolling.maxUnavailable, `${field}.maxUnavailable`),
    ...validateIntOrPercent(rolling.maxSurge, `${field}.maxSurge`),
  ];
  const unavailable = rolling.maxUnavailable ?? 0;
  if (causes.length === 0 && intOrPercentValue(unavailable, 100) === 0 && intOrPercentValue(rolling.maxSurge ?? 0, 100) === 0) {
    causes.push(invalid(`${field}.maxUnavailable`, new GoSyntax(String(unavailable)), 'may not be 0 when `maxSurge` is 0'));
  }
  return causes;
}

export function validateDeployment(d: Deployment): FieldCause[] {
  const causes = validateObjectMeta(d.metadata, workloadMeta);
  const spec = d.spec ?? {};
  causes.push(...nonNegative('spec.replicas', spec.replicas));
  causes.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'deployment'));
  causes.push(...requireRestartAlways(spec.template, 'ReplicaSet'));
  const strategy = spec.strategy;
  if (strategy !== undefined) {
    causes.push(...oneOf('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']));
    if (strategy.type === 'Recreate' && strategy.rollingUpdate !== undefined) {
      causes.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
    }
    if (strategy.type === 'RollingUpdate' && strategy.rollingUpdate !== undefined) {
      causes.push(...validateRollingUpdate(strategy.rollingUpdate, 'spec.strategy.rollingUpdate'));
    }
  }
  causes.push(...nonNegative('spec.minReadySeconds', spec.minReadySeconds));
  causes.push(...nonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit));
  if (spec.progressDeadlineSeconds !== undefined) {
    causes.push(...nonNegative('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      causes.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return causes;
}

export function validateReplicaSet(rs: ReplicaSet): FieldCause[] {
  const causes = validateObjectMeta(rs.metadata, workloadMeta);
  const spec = rs.spec ?? {};
  causes.push(...nonNegative('spec.replicas', spec.replicas));
  causes.push(...nonNegative('spec.minReadySeconds', spec.minReadySeconds));
  causes.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'deployment'));
  causes.push(...requireRestartAlways(spec.template, 'ReplicaSet'));
  return causes;
}

export function validateDaemonSet(ds: DaemonSet): FieldCause[] {
  const causes = validateObjectMeta(ds.metadata, workloadMeta);
  const spec = ds.spec ?? {};
  causes.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'daemonset'));
  causes.push(...requireRestartAlways(spec.template, 'DaemonSet'));
  causes.push(...oneOf('spec.updateStrategy.type', spec.updateStrategy?.type, ['OnDelete', 'RollingUpdate']));
  const rolling = spec.updateStrategy?.rollingUpdate;
  if (rolling !== undefined) {
    causes.push(...validateIntOrPercent(rolling.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
    causes.push(...validateIntOrPercent(rolling.maxSurge, 'spec.updateStrategy.rollingUpdate.maxSurge'));
  }
  causes.push(...nonNegative('spec.minReadySeconds', spec.minReadySeconds));
  causes.push(...nonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit));
  return causes;
}

export function validateStatefulSet(sts: StatefulSet): FieldCause[] {
  const causes = validateObjectMeta(sts.metadata, workloadMeta);
  const spec = sts.spec ?? {};
  causes.push(...nonNegative('spec.replicas', spec.replicas));
  causes.push(...oneOf('spec.podManagementPolicy', spec.podManagementPolicy, ['OrderedReady', 'Parallel']));
  causes.push(...oneOf('spec.updateStrategy.type', spec.updateStrategy?.type, ['OnDelete', 'RollingUpdate']));
  if (spec.updateStrategy?.type === 'OnDelete' && spec.updateStrategy.rollingUpdate !== undefined) {
    causes.push(invalid('spec.updateStrategy.rollingUpdate', null, 'only allowed for updateStrategy \'RollingUpdate\''));
  }
  causes.push(...nonNegative('spec.updateStrategy.rollingUpdate.partition', spec.updateStrategy?.rollingUpdate?.partition));
  causes.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'statefulset'));
  causes.push(...requireRestartAlways(spec.template, 'StatefulSet'));
  return causes;
}

/**
 * A Job's selector is chosen by the server unless manualSelector is set (metadata.ts does not do
 * it: the apiserver's job strategy does, from the uid); validation needs it present by then.
 */
export function validateJob(job: Job): FieldCause[] {
  const causes = validateObjectMeta(job.metadata, workloadMeta);
  const spec = job.spec ?? {};
  causes.push(...nonNegative('spec.parallelism', spec.parallelism));
  causes.push(...nonNegative('spec.completions', spec.completions));
  causes.push(...nonNegative('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds));
  causes.push(...nonNegative('spec.backoffLimit', spec.backoffLimit));
  causes.push(...nonNegative('spec.ttlSecondsAfterFinished', spec.ttlSecondsAfterFinished));
  causes.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'job'));
  const policy = spec.template?.spec?.restartPolicy;
  if (policy !== 'OnFailure' && policy !== 'Never') {
    causes.push(notSupported('spec.template.spec.restartPolicy', policy ?? '', ['OnFailure', 'Never']));
  }
  return causes;
}
