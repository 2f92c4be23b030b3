// The entry points the apiserver calls: validate an object on create, or a new object against the
// stored one on update, choosing the rules by kind; and turn the causes into a 422 StatusError.

import { resourceByKind } from './kinds.js';
import { invalidError, type StatusError } from './status.js';
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from './types/apps.js';
import type { Scale } from './types/autoscaling.js';
import type { Job } from './types/batch.js';
import type { Lease } from './types/coordination.js';
import type { Binding, ConfigMap, Endpoints, Event, Namespace, Node, Pod, Secret, Service } from './types/core.js';
import type { KubeObject } from './types/meta.js';
import {
  validateBinding,
  validateConfigMap,
  validateEndpoints,
  validateEvent,
  validateLease,
  validateNamespace,
  validateNode,
  validateScale,
  validateSecret,
  validateService,
} from './validation-core.js';
import type { FieldCause } from './validation-errors.js';
import { validateObjectMetaUpdate } from './validation-meta.js';
import { validatePod } from './validation-pod.js';
import {
  validateImmutableDataUpdate,
  validateJobSpecUpdate,
  validateNodeSpecUpdate,
  validatePodSpecUpdate,
  validateSecretTypeUpdate,
  validateSelectorUpdate,
  validateServiceSpecUpdate,
  validateStatefulSetSpecUpdate,
} from './validation-update.js';
import { validateDaemonSet, validateDeployment, validateJob, validateReplicaSet, validateStatefulSet } from './validation-workloads.js';

type CreateRule = (obj: KubeObject) => FieldCause[];
type UpdateRule = (next: KubeObject, prev: KubeObject) => FieldCause[];

/** Create rules by kind. The casts are safe: the apiserver resolved the kind before calling. */
const createRules: Record<string, CreateRule> = {
  Binding: (o) => validateBinding(o as unknown as Binding),
  ConfigMap: (o) => validateConfigMap(o as ConfigMap),
  Endpoints: (o) => validateEndpoints(o as Endpoints),
  Event: (o) => validateEvent(o as unknown as Event),
  Namespace: (o) => validateNamespace(o as Namespace),
  Node: (o) => validateNode(o as Node),
  Pod: (o) => validatePod(o as Pod),
  Secret: (o) => validateSecret(o as Secret),
  Service: (o) => validateService(o as Service),
  DaemonSet: (o) => validateDaemonSet(o as DaemonSet),
  Deployment: (o) => validateDeployment(o as Deployment),
  ReplicaSet: (o) => validateReplicaSet(o as ReplicaSet),
  StatefulSet: (o) => validateStatefulSet(o as StatefulSet),
  Job: (o) => validateJob(o as Job),
  Lease: (o) => validateLease(o as Lease),
  Scale: (o) => validateScale(o as Scale),
};

/** Update rules on top of the create rules and the metadata rules, by kind. */
const updateRules: Record<string, UpdateRule> = {
  Pod: (n, p) => validatePodSpecUpdate(n as Pod, p as Pod),
  Deployment: (n, p) => validateSelectorUpdate(n as Deployment, p as Deployment),
  ReplicaSet: (n, p) => validateSelectorUpdate(n as ReplicaSet, p as ReplicaSet),
  DaemonSet: (n, p) => validateSelectorUpdate(n as DaemonSet, p as DaemonSet),
  StatefulSet: (n, p) => [
    ...validateSelectorUpdate(n as StatefulSet, p as StatefulSet),
    ...validateStatefulSetSpecUpdate(n as StatefulSet, p as StatefulSet),
  ],
  Job: (n, p) => validateJobSpecUpdate(n as Job, p as Job),
  Service: (n, p) => validateServiceSpecUpdate(n as Service, p as Service),
  Node: (n, p) => validateNodeSpecUpdate(n as Node, p as Node),
  ConfigMap: (n, p) => validateImmutableDataUpdate(n as ConfigMap, p as ConfigMap),
  Secret: (n, p) => [...validateImmutableDataUpdate(n as Secret, p as Secret), ...validateSecretTypeUpdate(n as Secret, p as Secret)],
};

function kindOf(obj: KubeObject): string {
  if (!obj.kind) throw new Error('validation needs the object kind: the apiserver sets kind from the request path before validating');
  return obj.kind;
}

/** The causes that make `obj` invalid on create; empty when it is valid. Run after defaulting. */
export function validateCreate(obj: KubeObject): FieldCause[] {
  const kind = kindOf(obj);
  const rule = createRules[kind];
  if (rule === undefined) throw new Error(`no validation for kind ${JSON.stringify(kind)}: add it to createRules in validation.ts`);
  return rule(obj);
}

/**
 * The causes that make `next` an invalid replacement for the stored `prev`: the create rules on
 * `next`, the metadata that may never change, and the kind's own update rules.
 */
export function validateUpdate(next: KubeObject, prev: KubeObject): FieldCause[] {
  const kind = kindOf(next);
  const causes = validateObjectMetaUpdate(next.metadata ?? {}, prev.metadata ?? {});
  causes.push(...validateCreate(next));
  causes.push(...(updateRules[kind]?.(next, prev) ?? []));
  return causes;
}

/** The 422 StatusError for `obj`'s causes, or undefined when there are none. */
export function invalidObjectError(obj: KubeObject, causes: readonly FieldCause[]): StatusError | undefined {
  if (causes.length === 0) return undefined;
  const kind = kindOf(obj);
  const group = resourceByKind(obj.apiVersion ?? '', kind)?.group ?? groupFromApiVersion(obj.apiVersion);
  const name = obj.metadata?.name || obj.metadata?.generateName || '';
  return invalidError({ group, kind }, name, causes);
}

function groupFromApiVersion(apiVersion: string | undefined): string {
  const slash = (apiVersion ?? '').indexOf('/');
  return slash === -1 ? '' : (apiVersion ?? '').slice(0, slash);
}
