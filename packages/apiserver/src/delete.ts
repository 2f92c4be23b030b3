// DELETE of one object: preconditions, then remove now, or (a pod with a grace period, an object
// with finalizers, a Foreground or Orphan deletion) store it marked with deletionTimestamp; a
// namespace is marked Terminating and emptied by the controller manager's namespace controller.

import {
  badRequestError,
  conflictError,
  formatTime,
  isJsonObject,
  planDelete,
  type KubeObject,
  type MetadataEnv,
  type Namespace,
  type ResourceInfo,
} from '@raftplane/api';
import type { ObjectStore, UpdateResult } from './object-store.js';

export interface DeleteOptions {
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  readonly dryRun: boolean;
}

const propagationPolicies = new Set(['Orphan', 'Background', 'Foreground']);

/** DeleteOptions from the body (JSON, may be empty) and the query (which wins, as in Kubernetes). */
export function parseDeleteOptions(body: unknown, query: URLSearchParams, dryRun: boolean): DeleteOptions {
  if (body !== undefined && body !== null && !isJsonObject(body)) throw badRequestError('the body of a DELETE must be a DeleteOptions object');
  const record: Record<string, unknown> = isJsonObject(body) ? body : {};
  if (record['kind'] !== undefined && record['kind'] !== 'DeleteOptions') throw badRequestError(`the body of a DELETE must be a DeleteOptions, got kind ${JSON.stringify(record['kind'])}`);
  let grace: unknown = record['gracePeriodSeconds'];
  const graceText = query.get('gracePeriodSeconds');
  if (graceText !== null && graceText !== '') grace = Number(graceText);
  if (grace !== undefined && grace !== null && (typeof grace !== 'number' || !Number.isSafeInteger(grace) || grace < 0)) {
    throw badRequestError(`gracePeriodSeconds: must be a non-negative integer, got ${JSON.stringify(graceText ?? record['gracePeriodSeconds'])}`);
  }
  const policy = query.get('propagationPolicy') ?? record['propagationPolicy'] ?? (record['orphanDependents'] === true ? 'Orphan' : undefined);
  if (policy !== undefined && (typeof policy !== 'string' || !propagationPolicies.has(policy))) {
    throw badRequestError(`propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"`);
  }
  const preconditions = record['preconditions'];
  if (preconditions !== undefined && preconditions !== null && !isJsonObject(preconditions)) throw badRequestError('preconditions: must be an object');
  const bodyDryRun = Array.isArray(record['dryRun']) && record['dryRun'].includes('All');
  return {
    ...(typeof grace === 'number' ? { gracePeriodSeconds: grace } : {}),
    ...(isJsonObject(preconditions)
      ? { preconditions: { uid: preconditions['uid'] as string | undefined, resourceVersion: preconditions['resourceVersion'] as string | undefined } }
      : {}),
    ...(policy !== undefined ? { propagationPolicy: policy as DeleteOptions['propagationPolicy'] } : {}),
    dryRun: dryRun || bodyDryRun,
  };
}

function checkPreconditions(info: ResourceInfo, current: KubeObject, options: DeleteOptions): void {
  const name = current.metadata.name ?? '';
  const uid = options.preconditions?.uid;
  if (uid && uid !== current.metadata.uid) {
    throw conflictError(info, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
  }
  const rv = options.preconditions?.resourceVersion;
  if (rv && rv !== current.metadata.resourceVersion) {
    throw conflictError(info, name, `Precondition failed: ResourceVersion in precondition: ${rv}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`);
  }
}

/** A namespace being deleted: marked, phase Terminating; its content goes before it does. */
function markNamespaceTerminating(ns: Namespace, now: number): Namespace {
  return { ...ns, metadata: { ...ns.metadata, deletionTimestamp: formatTime(now), deletionGracePeriodSeconds: 0 }, status: { ...ns.status, phase: 'Terminating' } };
}

export async function deleteObject(
  store: ObjectStore,
  env: Pick<MetadataEnv, 'now'>,
  info: ResourceInfo,
  namespace: string,
  name: string,
  options: DeleteOptions,
): Promise<UpdateResult> {
  const hasVersionPrecondition = Boolean(options.preconditions?.resourceVersion);
  return store.update(
    info,
    namespace,
    name,
    (current) => {
      checkPreconditions(info, current, options);
      if (info.kind === 'Namespace') {
        if (current.metadata.deletionTimestamp !== undefined) return { action: 'keep' };
        return { action: 'write', object: markNamespaceTerminating(current as Namespace, env.now()) };
      }
      // Foreground and Orphan deletion leave the owner marked, with a finalizer the garbage
      // collector removes once the dependents are gone or orphaned (Kubernetes' registry does the same).
      const finalizer = options.propagationPolicy === 'Foreground' ? 'foregroundDeletion' : options.propagationPolicy === 'Orphan' ? 'orphan' : null;
      const subject =
        finalizer === null || (current.metadata.finalizers ?? []).includes(finalizer) || current.metadata.deletionTimestamp !== undefined
          ? current
          : { ...current, metadata: { ...current.metadata, finalizers: [...(current.metadata.finalizers ?? []), finalizer] } };
      const plan = planDelete(subject, options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds }, env);
      if (plan.action === 'remove') return { action: 'remove' };
      if (JSON.stringify(plan.object) === JSON.stringify(current)) return { action: 'keep' };
      return { action: 'write', object: plan.object };
    },
    { retryOnConflict: !hasVersionPrecondition, dryRun: options.dryRun },
  );
}
