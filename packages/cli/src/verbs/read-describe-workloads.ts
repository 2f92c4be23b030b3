// `describe` for jobs, daemon sets and stateful sets, as kubectl's JobDescriber,
// DaemonSetDescriber and StatefulSetDescriber write them; `pods` are the ones each owns.

import { humanDuration, labelSelectorObjectToString, parseTime, type DaemonSet, type Event, type Job, type Pod, type StatefulSet } from '@raftplane/api';
import { describeTemplate, podsStatus } from './read-describe-kinds.js';
import { controlledBy, describeEvents, describeLabels, describeTime, DescribeText } from './read-describe-text.js';

export function describeJob(job: Job, events: readonly Event[] | undefined, nowMs: number): string {
  const text = new DescribeText();
  const { spec, status } = job;
  text.line(0, 'Name:', job.metadata.name ?? '');
  text.line(0, 'Namespace:', job.metadata.namespace ?? '');
  text.line(0, 'Selector:', labelSelectorObjectToString(spec?.selector));
  describeLabels(text, job.metadata);
  const owner = controlledBy(job);
  if (owner !== undefined) text.line(0, 'Controlled By:', owner);
  text.line(0, 'Parallelism:', String(spec?.parallelism ?? 1));
  text.line(0, 'Completions:', spec?.completions === undefined ? '<unset>' : String(spec.completions));
  if (status?.startTime) text.line(0, 'Start Time:', describeTime(status.startTime));
  if (status?.completionTime) {
    text.line(0, 'Completed At:', describeTime(status.completionTime));
    if (status.startTime) text.line(0, 'Duration:', humanDuration(parseTime(status.completionTime) - parseTime(status.startTime)));
  }
  if (spec?.activeDeadlineSeconds !== undefined) text.line(0, 'Active Deadline Seconds:', `${spec.activeDeadlineSeconds}s`);
  text.line(0, 'Pods Statuses:', `${status?.active ?? 0} Running / ${status?.succeeded ?? 0} Succeeded / ${status?.failed ?? 0} Failed`);
  describeTemplate(text, spec?.template);
  describeEvents(text, events, nowMs);
  return text.toString();
}

export function describeDaemonSet(ds: DaemonSet, pods: readonly Pod[], events: readonly Event[] | undefined, nowMs: number): string {
  const text = new DescribeText();
  const status = ds.status;
  text.line(0, 'Name:', ds.metadata.name ?? '');
  text.line(0, 'Selector:', labelSelectorObjectToString(ds.spec?.selector));
  const nodeSelector = Object.entries(ds.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  text.line(0, 'Node-Selector:', nodeSelector === '' ? '<none>' : nodeSelector);
  describeLabels(text, ds.metadata);
  // kubectl writes these counts after a plain space, outside the aligned columns.
  text.line(0, `Desired Number of Nodes Scheduled: ${status?.desiredNumberScheduled ?? 0}`);
  text.line(0, `Current Number of Nodes Scheduled: ${status?.currentNumberScheduled ?? 0}`);
  text.line(0, `Number of Nodes Scheduled with Up-to-date Pods: ${status?.updatedNumberScheduled ?? 0}`);
  text.line(0, `Number of Nodes Scheduled with Available Pods: ${status?.numberAvailable ?? 0}`);
  text.line(0, `Number of Nodes Misscheduled: ${status?.numberMisscheduled ?? 0}`);
  text.line(0, 'Pods Status:', podsStatus(pods));
  describeTemplate(text, ds.spec?.template);
  describeEvents(text, events, nowMs);
  return text.toString();
}

export function describeStatefulSet(sts: StatefulSet, pods: readonly Pod[], events: readonly Event[] | undefined, nowMs: number): string {
  const text = new DescribeText();
  const { spec, status } = sts;
  text.line(0, 'Name:', sts.metadata.name ?? '');
  text.line(0, 'Namespace:', sts.metadata.namespace ?? '');
  text.line(0, 'CreationTimestamp:', describeTime(sts.metadata.creationTimestamp));
  text.line(0, 'Selector:', labelSelectorObjectToString(spec?.selector));
  describeLabels(text, sts.metadata);
  text.line(0, 'Replicas:', `${spec?.replicas ?? 1} desired | ${status?.replicas ?? 0} total`);
  text.line(0, 'Update Strategy:', spec?.updateStrategy?.type ?? 'RollingUpdate');
  const partition = spec?.updateStrategy?.rollingUpdate?.partition;
  if (partition !== undefined) text.line(1, 'Partition:', String(partition));
  text.line(0, 'Pods Status:', podsStatus(pods));
  describeTemplate(text, spec?.template);
  text.line(0, 'Volume Claims:', '<none>');
  describeEvents(text, events, nowMs);
  return text.toString();
}
