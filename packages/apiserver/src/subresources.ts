// The subresources with their own shapes: `scale` (autoscaling/v1 Scale over a workload's
// spec.replicas) and `binding` (a pod assigned to a node, once). `status` shares the main verbs
// (rest.ts); `log` is the URL of the node agent that serves it, which the HTTP server proxies.

import {
  badRequestError,
  conflictError,
  formatTime,
  invalidError,
  isJsonObject,
  labelSelectorObjectToString,
  resourceByName,
  StatusError,
  successStatus,
  type KubeObject,
  type LabelSelector,
  type MetadataEnv,
  type Node,
  type Pod,
  type ResourceInfo,
  type Scale,
  type Status,
} from '@raftplane/api';
import { objectOf } from './body.js';
import type { ObjectStore } from './object-store.js';
import { applyPatch, type PatchType } from './rest.js';

const scaleKind = { group: 'autoscaling', kind: 'Scale' };

interface Scalable extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector };
  status?: { replicas?: number };
}

/** The Scale view of a Deployment, ReplicaSet or StatefulSet. */
export function scaleOf(obj: KubeObject): Scale {
  const workload = obj as Scalable;
  const meta = workload.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      creationTimestamp: meta.creationTimestamp,
    },
    spec: { replicas: workload.spec?.replicas ?? 0 },
    status: { replicas: workload.status?.replicas ?? 0, selector: labelSelectorObjectToString(workload.spec?.selector) },
  } as Scale;
}

function replicasOf(scale: unknown, name: string): { replicas: number; resourceVersion?: string } {
  if (!isJsonObject(scale)) throw badRequestError('the body must be an autoscaling/v1 Scale object');
  if (scale['kind'] !== undefined && scale['kind'] !== 'Scale') throw badRequestError(`the body must be a Scale, got kind ${JSON.stringify(scale['kind'])}`);
  const spec = scale['spec'];
  const replicas = isJsonObject(spec) ? spec['replicas'] : undefined;
  if (typeof replicas !== 'number' || !Number.isSafeInteger(replicas) || replicas < 0) {
    throw invalidError(scaleKind, name, [
      { reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0` },
    ]);
  }
  const meta = scale['metadata'];
  const rv = isJsonObject(meta) && typeof meta['resourceVersion'] === 'string' && meta['resourceVersion'] !== '' ? meta['resourceVersion'] : undefined;
  return rv === undefined ? { replicas } : { replicas, resourceVersion: rv };
}

/**
 * Sets spec.replicas from a Scale body (PUT) or a patch of the current Scale (PATCH), with the
 * Scale's resourceVersion as a precondition when it carries one. Answers the new Scale.
 */
export async function updateScale(
  store: ObjectStore,
  info: ResourceInfo,
  namespace: string,
  name: string,
  change: { readonly body: unknown } | { readonly patchType: Exclude<PatchType, 'apply'>; readonly patch: unknown },
  dryRun: boolean,
): Promise<Scale> {
  const result = await store.update(
    info,
    namespace,
    name,
    (current) => {
      const wanted = 'body' in change ? change.body : applyPatch(scaleOf(current) as unknown as KubeObject, change.patchType, change.patch, 'Scale');
      const { replicas, resourceVersion } = replicasOf(wanted, name);
      // A Scale PUT naming a resourceVersion is conditional on it; a race is decided again and
      // then fails here, as a 409.
      if ('body' in change && resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion) throw conflictError(info, name);
      const workload = current as Scalable;
      if ((workload.spec?.replicas ?? 0) === replicas) return { action: 'keep' };
      const next = structuredClone(workload);
      (next.spec ??= {}).replicas = replicas;
      if (info.tracksGeneration) next.metadata.generation = (next.metadata.generation ?? 0) + 1;
      return { action: 'write', object: next };
    },
    { retryOnConflict: true, dryRun },
  );
  return scaleOf(result.object);
}

/**
 * POST pods/<name>/binding: assigns a pod to a node, once (the scheduler's only write to a pod).
 * A pod already bound, or being deleted, is a 409.
 */
export async function bindPod(store: ObjectStore, env: Pick<MetadataEnv, 'now'>, info: ResourceInfo, namespace: string, podName: string, body: unknown, dryRun: boolean): Promise<Status> {
  const binding = objectOf(body, { kind: 'Binding', group: '', version: 'v1' }) as KubeObject & { target?: { kind?: string; name?: string } };
  if (binding.metadata.name !== undefined && binding.metadata.name !== podName) {
    throw badRequestError(`the name of the binding (${binding.metadata.name}) does not match the pod on the URL (${podName})`);
  }
  const target = binding.target;
  if (target === undefined || typeof target.name !== 'string' || target.name === '') {
    throw invalidError({ group: '', kind: 'Binding' }, podName, [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
  }
  if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node') {
    throw invalidError({ group: '', kind: 'Binding' }, podName, [{ reason: 'FieldValueNotSupported', field: 'target.kind', message: `Unsupported value: ${JSON.stringify(target.kind)}: supported values: "Node"` }]);
  }
  const nodeName = target.name;
  await store.update(
    info,
    namespace,
    podName,
    (current) => {
      const pod = current as Pod;
      if (pod.metadata.deletionTimestamp !== undefined) throw conflictError(info, podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
      const bound = pod.spec?.nodeName;
      if (bound) throw conflictError(info, podName, `pod ${podName} is already assigned to node "${bound}"`);
      const next = structuredClone(pod);
      (next.spec ??= { containers: [] }).nodeName = nodeName;
      const status = (next.status ??= {});
      const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: formatTime(env.now()) });
      status.conditions = conditions;
      return { action: 'write', object: next };
    },
    { retryOnConflict: true, dryRun },
  );
  return successStatus();
}

/** The query parameters of `pods/<name>/log` that the node agent understands, passed on as given. */
const podLogParams = ['container', 'follow', 'previous', 'sinceSeconds', 'sinceTime', 'timestamps', 'tailLines', 'limitBytes'] as const;

function podLogError(pod: Pod, code: number, reason: 'BadRequest' | 'NotFound' | 'ServiceUnavailable', message: string): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details: { name: pod.metadata.name ?? '', kind: 'pods' }, code });
}

/**
 * `pods/<name>/log`: the URL of the container logs on the agent of the pod's node (its
 * InternalIP and the port in status.daemonEndpoints), which the HTTP server proxies.
 */
export async function podLogTarget(store: ObjectStore, pod: Pod, query: URLSearchParams): Promise<string> {
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw podLogError(pod, 400, 'BadRequest', `pod ${pod.metadata.name} does not have a host assigned`);
  const nodes = resourceByName('', 'nodes') as ResourceInfo;
  const node = (await store.find(nodes, '', nodeName)) as Node | null;
  const address = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const port = node?.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (node === null || address === undefined || port === undefined || port === 0) {
    throw podLogError(pod, 404, 'NotFound', `pods "${pod.metadata.name}" has no logs to show: node ${nodeName} has no agent endpoint (status.daemonEndpoints)`);
  }
  for (const name of ['tailLines', 'sinceSeconds', 'limitBytes']) {
    const value = query.get(name);
    if (value !== null && !/^\d+$/.test(value)) throw podLogError(pod, 400, 'BadRequest', `${name}: Invalid value: ${JSON.stringify(value)}: must be a non-negative integer`);
  }
  const sinceTime = query.get('sinceTime');
  if (sinceTime !== null && Number.isNaN(Date.parse(sinceTime))) {
    throw podLogError(pod, 400, 'BadRequest', `sinceTime: Invalid value: ${JSON.stringify(sinceTime)}: must be an RFC 3339 time`);
  }
  // Kubernetes' ValidatePodLogOptions, word for word.
  if (sinceTime !== null && query.get('sinceSeconds') !== null) throw podLogError(pod, 400, 'BadRequest', 'at most one of `sinceTime` or `sinceSeconds` may be specified');
  const passed = new URLSearchParams();
  for (const name of podLogParams) {
    const value = query.get(name);
    if (value !== null) passed.set(name, value);
  }
  const host = address.includes(':') ? `[${address}]` : address;
  const path = ['containerLogs', pod.metadata.namespace ?? 'default', pod.metadata.name ?? ''].map(encodeURIComponent).join('/');
  const search = passed.toString();
  return `http://${host}:${port}/${path}${search === '' ? '' : `?${search}`}`;
}
