// The pure decisions of the Job controller (kubernetes pkg/controller/job, before pod-tracking
// finalizers): how many pods to keep active, when a Job has failed (backoff limit, deadline) or
// completed, and its conditions. No I/O and no clock: the controller passes counts and times in.

import { formatTime, parseTime, type Job, type JobCondition, type JobSpec, type JobStatus } from '@raftplane/api';

export const jobCompleteCondition = 'Complete';
export const jobFailedCondition = 'Failed';
export const JobReasons = {
  backoffLimitExceeded: 'BackoffLimitExceeded',
  deadlineExceeded: 'DeadlineExceeded',
  completed: 'Completed',
} as const;

/** batch/v1 defaults: the apiserver fills these in, the controller assumes them for objects that skipped it. */
export const jobParallelismDefault = 1;
export const jobCompletionsDefault = 1;
export const jobBackoffLimitDefault = 6;

/** What the Job's pods are, counted from the cache (succeeded and failed never below the status'). */
export interface JobPodCounts {
  /** Pods neither finished nor being deleted. */
  readonly active: number;
  readonly succeeded: number;
  readonly failed: number;
}

export type JobVerdict =
  | { readonly kind: 'failed'; readonly reason: (typeof JobReasons)['backoffLimitExceeded' | 'deadlineExceeded']; readonly message: string }
  | { readonly kind: 'complete' }
  /** Still running: keep `activeWanted` pods active. */
  | { readonly kind: 'running'; readonly activeWanted: number };

/** A Condition of type Complete or Failed with status True: a finished Job is never acted on again. */
export function jobFinishedCondition(job: Pick<Job, 'status'>): JobCondition | undefined {
  return job.status?.conditions?.find((c) => (c.type === jobCompleteCondition || c.type === jobFailedCondition) && c.status === 'True');
}

/**
 * The pods a running Job should have active (manageJob's wantActive): with `completions`, the
 * smaller of parallelism and the completions still missing; without it (a work queue), parallelism
 * until the first pod succeeds, then no new pods, the ones running being left to finish.
 */
export function jobActiveWanted(spec: JobSpec | undefined, counts: JobPodCounts): number {
  if (spec?.suspend === true) return 0;
  const parallelism = spec?.parallelism ?? jobParallelismDefault;
  const completions = spec?.completions;
  if (completions === undefined || completions === null) return counts.succeeded > 0 ? Math.min(counts.active, parallelism) : parallelism;
  return Math.max(0, Math.min(parallelism, completions - counts.succeeded));
}

/** activeDeadlineSeconds counted from status.startTime; undefined when the Job has no deadline. */
export function jobDeadlineLeftMs(spec: JobSpec | undefined, startMs: number, nowMs: number): number | undefined {
  const seconds = spec?.activeDeadlineSeconds;
  if (seconds === undefined || seconds === null) return undefined;
  return startMs + seconds * 1000 - nowMs;
}

/**
 * One step of a Job (syncJob): failed once more pods failed than backoffLimit allows, or once the
 * deadline passed; complete once enough pods succeeded (or, for a work queue, one did and none is
 * active); otherwise running with the pods it should keep active.
 */
export function jobVerdict(spec: JobSpec | undefined, counts: JobPodCounts, startMs: number, nowMs: number): JobVerdict {
  const backoffLimit = spec?.backoffLimit ?? jobBackoffLimitDefault;
  if (counts.failed > backoffLimit) {
    return { kind: 'failed', reason: JobReasons.backoffLimitExceeded, message: `Job has reached the specified backoff limit (${counts.failed} failed pods, backoffLimit ${backoffLimit})` };
  }
  const leftMs = jobDeadlineLeftMs(spec, startMs, nowMs);
  if (leftMs !== undefined && leftMs <= 0) {
    return { kind: 'failed', reason: JobReasons.deadlineExceeded, message: 'Job was active longer than specified deadline' };
  }
  const completions = spec?.completions;
  const complete = completions === undefined || completions === null ? counts.succeeded > 0 && counts.active === 0 : counts.succeeded >= completions;
  if (complete) return { kind: 'complete' };
  return { kind: 'running', activeWanted: jobActiveWanted(spec, counts) };
}

export function newJobCondition(type: string, reason: string, message: string, nowMs: number): JobCondition {
  const time = formatTime(nowMs);
  return { type, status: 'True', lastProbeTime: time, lastTransitionTime: time, reason, message };
}

/**
 * The status of a Job that just finished: a Failed Job counts the active pods it deletes as failed
 * (as Kubernetes does), a Complete one gets its completionTime; neither has pods active any more.
 */
export function finishedJobStatus(status: JobStatus, verdict: Exclude<JobVerdict, { kind: 'running' }>, activeCount: number, nowMs: number): JobStatus {
  const next: JobStatus = { ...status, active: 0 };
  if (verdict.kind === 'failed') {
    next.failed = (status.failed ?? 0) + activeCount;
    next.conditions = [...(status.conditions ?? []), newJobCondition(jobFailedCondition, verdict.reason, verdict.message, nowMs)];
  } else {
    next.completionTime = formatTime(nowMs);
    next.conditions = [...(status.conditions ?? []), newJobCondition(jobCompleteCondition, JobReasons.completed, 'Job completed', nowMs)];
  }
  return next;
}

/** status.startTime in epoch ms, or `nowMs` for a Job that has not started (or whose time does not parse). */
export function jobStartMs(job: Pick<Job, 'status'>, nowMs: number): number {
  const start = job.status?.startTime;
  if (start === undefined) return nowMs;
  const ms = parseTime(start);
  return Number.isNaN(ms) ? nowMs : ms;
}

/** Whether two statuses say the same (times compared as written). */
export function sameJobStatus(a: JobStatus | undefined, b: JobStatus): boolean {
  if (a === undefined) return false;
  return (
    (a.active ?? 0) === (b.active ?? 0) &&
    (a.succeeded ?? 0) === (b.succeeded ?? 0) &&
    (a.failed ?? 0) === (b.failed ?? 0) &&
    a.startTime === b.startTime &&
    a.completionTime === b.completionTime &&
    JSON.stringify(a.conditions ?? []) === JSON.stringify(b.conditions ?? [])
  );
}
