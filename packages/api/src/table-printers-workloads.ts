// Server-side printers for apps/v1, batch/v1 and coordination.k8s.io/v1 kinds (kubernetes 1.20
// pkg/printers/internalversion printers.go).

import { humanDuration } from './human-duration.js';
import { parseTime } from './metadata.js';
import {
  ageColumn,
  ageSince,
  column,
  containerCells,
  containersColumn,
  formatLabels,
  imagesColumn,
  nameColumn,
  printer,
  selectorCell,
  selectorColumn,
  type PrintContext,
  type Printer,
} from './table-printing.js';
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from './types/apps.js';
import type { Job } from './types/batch.js';
import type { Lease } from './types/coordination.js';

export const deploymentPrinter: Printer = printer<Deployment>(
  [
    nameColumn,
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    column('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  (deployment, context) => [
    deployment.metadata.name ?? '',
    `${deployment.status?.readyReplicas ?? 0}/${deployment.spec?.replicas ?? 0}`,
    deployment.status?.updatedReplicas ?? 0,
    deployment.status?.availableReplicas ?? 0,
    ageSince(deployment.metadata.creationTimestamp, context),
    ...containerCells(deployment.spec?.template),
    selectorCell(deployment.spec?.selector),
  ],
);

export const replicaSetPrinter: Printer = printer<ReplicaSet>(
  [
    nameColumn,
    column('Desired', 'integer', 'Number of desired pods.'),
    column('Current', 'integer', 'Number of actual pods.'),
    column('Ready', 'integer', 'Number of ready pods.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  (replicaSet, context) => [
    replicaSet.metadata.name ?? '',
    replicaSet.spec?.replicas ?? 0,
    replicaSet.status?.replicas ?? 0,
    replicaSet.status?.readyReplicas ?? 0,
    ageSince(replicaSet.metadata.creationTimestamp, context),
    ...containerCells(replicaSet.spec?.template),
    selectorCell(replicaSet.spec?.selector),
  ],
);

export const daemonSetPrinter: Printer = printer<DaemonSet>(
  [
    nameColumn,
    column('Desired', 'integer', 'The total number of nodes that should be running the daemon pod.'),
    column('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    column('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
    column('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
    column('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.'),
    column('Node Selector', 'string', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  (daemonSet, context) => [
    daemonSet.metadata.name ?? '',
    daemonSet.status?.desiredNumberScheduled ?? 0,
    daemonSet.status?.currentNumberScheduled ?? 0,
    daemonSet.status?.numberReady ?? 0,
    daemonSet.status?.updatedNumberScheduled ?? 0,
    daemonSet.status?.numberAvailable ?? 0,
    formatLabels(daemonSet.spec?.template?.spec?.nodeSelector),
    ageSince(daemonSet.metadata.creationTimestamp, context),
    ...containerCells(daemonSet.spec?.template),
    selectorCell(daemonSet.spec?.selector),
  ],
);

export const statefulSetPrinter: Printer = printer<StatefulSet>(
  [nameColumn, column('Ready', 'string', 'Number of the pod with ready state'), ageColumn, containersColumn, imagesColumn],
  (statefulSet, context) => [
    statefulSet.metadata.name ?? '',
    `${statefulSet.status?.readyReplicas ?? 0}/${statefulSet.spec?.replicas ?? 0}`,
    ageSince(statefulSet.metadata.creationTimestamp, context),
    ...containerCells(statefulSet.spec?.template),
  ],
);

export const jobPrinter: Printer = printer<Job>(
  [
    nameColumn,
    column('Completions', 'string', 'The desired number of successfully finished pods the job should be run with.'),
    column('Duration', 'string', 'Time required to complete the job.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  (job, context) => [
    job.metadata.name ?? '',
    jobCompletions(job),
    jobDuration(job, context),
    ageSince(job.metadata.creationTimestamp, context),
    ...containerCells(job.spec?.template),
    selectorCell(job.spec?.selector),
  ],
);

/** `2/3` succeeded of the wanted completions; `0/1 of 4` for a work queue job with parallelism. */
export function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** From start to completion, or to now while running; empty before the job starts. */
function jobDuration(job: Job, context: PrintContext): string {
  const start = job.status?.startTime;
  if (!start) return '';
  const end = job.status?.completionTime ? parseTime(job.status.completionTime) : context.now;
  return humanDuration(end - parseTime(start));
}

export const leasePrinter: Printer = printer<Lease>(
  [nameColumn, column('Holder', 'string', 'The holder of the lease'), ageColumn],
  (lease, context) => [lease.metadata.name ?? '', lease.spec?.holderIdentity ?? '', ageSince(lease.metadata.creationTimestamp, context)],
);
