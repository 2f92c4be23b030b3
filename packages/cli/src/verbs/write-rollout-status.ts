// What `rollout status` says about a Deployment or DaemonSet, word for word kubectl's status
// viewers (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go): a message, whether the rollout
// is done, or an error when it never will be (progress deadline exceeded).

import type { DaemonSet, Deployment, KubeObject } from '@raftplane/api';
import { CliError, CliErrorCode } from '../errors.js';

export interface RolloutState {
  readonly message: string;
  readonly done: boolean;
}

/** The Progressing condition's reason once progressDeadlineSeconds passed without progress. */
const timedOutReason = 'ProgressDeadlineExceeded';

export function deploymentStatus(d: Deployment): RolloutState {
  const name = d.metadata.name ?? '';
  const status = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (status.observedGeneration ?? 0)) return { message: 'Waiting for deployment spec update to be observed...', done: false };
  const progressing = (status.conditions ?? []).find((c) => c.type === 'Progressing');
  if (progressing?.reason === timedOutReason) throw new CliError(CliErrorCode.InvalidArgument, `deployment "${name}" exceeded its progress deadline`);
  const wanted = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < wanted) return { message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${wanted} new replicas have been updated...`, done: false };
  if (replicas > updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...`, done: false };
  if (available < updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`, done: false };
  return { message: `deployment "${name}" successfully rolled out`, done: true };
}

export function daemonSetStatus(ds: DaemonSet): RolloutState {
  const name = ds.metadata.name ?? '';
  const strategy = ds.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate') throw new CliError(CliErrorCode.InvalidArgument, 'rollout status is only available for RollingUpdate strategy type');
  const status = ds.status;
  if ((ds.metadata.generation ?? 0) > (status?.observedGeneration ?? 0)) return { message: 'Waiting for daemon set spec update to be observed...', done: false };
  const desired = status?.desiredNumberScheduled ?? 0;
  const updated = status?.updatedNumberScheduled ?? 0;
  const available = status?.numberAvailable ?? 0;
  if (updated < desired) return { message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`, done: false };
  if (available < desired) return { message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`, done: false };
  return { message: `daemon set "${name}" successfully rolled out`, done: true };
}

/** The viewer for a kind, or undefined when kubectl has none either. */
export function statusViewer(kind: string): ((object: KubeObject) => RolloutState) | undefined {
  if (kind === 'Deployment') return (o) => deploymentStatus(o as Deployment);
  if (kind === 'DaemonSet') return (o) => daemonSetStatus(o as DaemonSet);
  return undefined;
}
