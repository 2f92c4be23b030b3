// Defaults the apiserver applies to every object it decodes, by kind (kubernetes
// pkg/apis/*/v1/defaults.go). Pure: returns a defaulted copy and leaves the input untouched.

import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from './types/apps.js';
import type { Job } from './types/batch.js';
import type { Endpoints, Namespace, Node, Pod, Secret, Service } from './types/core.js';
import type { KubeObject } from './types/meta.js';
import { defaultPodSpecInPlace, defaultPodTemplateInPlace } from './defaults-pod.js';

export const defaultDeploymentMaxSurge = '25%';
export const defaultDeploymentMaxUnavailable = '25%';
export const defaultRevisionHistoryLimit = 10;
export const defaultProgressDeadlineSeconds = 600;
export const defaultJobBackoffLimit = 6;
export const defaultClientIPAffinitySeconds = 10_800;

function defaultPod(pod: Pod): void {
  if (pod.spec !== undefined) defaultPodSpecInPlace(pod.spec);
}

function defaultService(svc: Service): void {
  const spec = (svc.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  // Kubernetes' DefaultClientIPServiceAffinitySeconds (3 hours).
  if (spec.sessionAffinity === 'ClientIP') {
    const clientIP = ((spec.sessionAffinityConfig ??= {}).clientIP ??= {});
    clientIP.timeoutSeconds ??= defaultClientIPAffinitySeconds;
  }
  for (const port of spec.ports ?? []) {
    port.protocol ??= 'TCP';
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
}

function defaultDeployment(d: Deployment): void {
  const spec = (d.spec ??= {});
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rolling = (strategy.rollingUpdate ??= {});
    rolling.maxUnavailable ??= defaultDeploymentMaxUnavailable;
    rolling.maxSurge ??= defaultDeploymentMaxSurge;
  }
  spec.revisionHistoryLimit ??= defaultRevisionHistoryLimit;
  spec.progressDeadlineSeconds ??= defaultProgressDeadlineSeconds;
  defaultPodTemplateInPlace(spec.template);
}

function defaultReplicaSet(rs: ReplicaSet): void {
  const spec = (rs.spec ??= {});
  spec.replicas ??= 1;
  defaultPodTemplateInPlace(spec.template);
}

function defaultDaemonSet(ds: DaemonSet): void {
  const spec = (ds.spec ??= {});
  const strategy = (spec.updateStrategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rolling = (strategy.rollingUpdate ??= {});
    rolling.maxUnavailable ??= 1;
    rolling.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= defaultRevisionHistoryLimit;
  defaultPodTemplateInPlace(spec.template);
}

function defaultStatefulSet(sts: StatefulSet): void {
  const spec = (sts.spec ??= {});
  spec.replicas ??= 1;
  spec.podManagementPolicy ??= 'OrderedReady';
  const strategy = (spec.updateStrategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') (strategy.rollingUpdate ??= {}).partition ??= 0;
  spec.revisionHistoryLimit ??= defaultRevisionHistoryLimit;
  defaultPodTemplateInPlace(spec.template);
}

function defaultJob(job: Job): void {
  const spec = (job.spec ??= {});
  // A job with neither set runs one pod once; with only parallelism set, completions stays unset.
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  spec.parallelism ??= 1;
  spec.backoffLimit ??= defaultJobBackoffLimit;
  const templateLabels = spec.template?.metadata?.labels;
  if (templateLabels !== undefined && Object.keys(job.metadata.labels ?? {}).length === 0) {
    job.metadata.labels = { ...templateLabels };
  }
  defaultPodTemplateInPlace(spec.template);
}

function defaultNamespace(ns: Namespace): void {
  (ns.status ??= {}).phase ??= 'Active';
}

function defaultNode(node: Node): void {
  // A node that reports capacity but not allocatable can use all of it.
  const status = node.status;
  if (status?.capacity !== undefined && status.allocatable === undefined) status.allocatable = { ...status.capacity };
}

function defaultSecret(secret: Secret): void {
  secret.type ||= 'Opaque';
}

function defaultEndpoints(ep: Endpoints): void {
  for (const subset of ep.subsets ?? []) for (const port of subset.ports ?? []) port.protocol ??= 'TCP';
}

type Defaulter = (obj: KubeObject) => void;

/** In-place defaulters by kind; kinds without defaults (ConfigMap, Event, Lease, ...) are absent. */
const defaulters: Record<string, Defaulter> = {
  Pod: (o) => defaultPod(o as Pod),
  Service: (o) => defaultService(o as Service),
  Namespace: (o) => defaultNamespace(o as Namespace),
  Node: (o) => defaultNode(o as Node),
  Secret: (o) => defaultSecret(o as Secret),
  Endpoints: (o) => defaultEndpoints(o as Endpoints),
  Deployment: (o) => defaultDeployment(o as Deployment),
  ReplicaSet: (o) => defaultReplicaSet(o as ReplicaSet),
  DaemonSet: (o) => defaultDaemonSet(o as DaemonSet),
  StatefulSet: (o) => defaultStatefulSet(o as StatefulSet),
  Job: (o) => defaultJob(o as Job),
};

/**
 * A copy of `obj` with the apiserver's defaults filled in for its kind. Idempotent: applying it to
 * its own result changes nothing. Unknown kinds come back as an unchanged copy.
 */
export function withDefaults<T extends KubeObject>(obj: T): T {
  const copy = structuredClone(obj);
  copy.metadata ??= {};
  const defaulter = copy.kind === undefined ? undefined : defaulters[copy.kind];
  defaulter?.(copy);
  return copy;
}
