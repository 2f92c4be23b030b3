// The Job controller (kubernetes pkg/controller/job): runs a Job's pods to completion, keeping
// min(parallelism, completions left) active, failing the Job past backoffLimit or
// activeDeadlineSeconds, with expectations so that a slow pod informer never causes double creates.

import { formatTime, hasStatusReason, labelSelectorAsSelector, matchesLabels, type Job, type JobStatus, type KubeObject, type ParsedLabelSelector, type Pod } from '@raftplane/api';
import { type Client, type DeletedFinalStateUnknown, deletedObject, EventRecorder, type Informer, isTombstone, objectKey } from '@raftplane/client';
import { Controller, type ControllerOptions } from './controller.js';
import { ControllerError, ControllerErrorCode, invalidOption } from './errors.js';
import { ControllerExpectations } from './expectations.js';
import { finishedJobStatus, jobDeadlineLeftMs, jobFinishedCondition, jobStartMs, jobVerdict, JobReasons, sameJobStatus, type JobPodCounts } from './job-decisions.js';
import { controllerRefOf, controllerRefTo, isPodActive, podsToDelete } from './pods.js';
import { slowStartBatches } from './replicaset-controller.js';

export interface JobControllerOptions extends ControllerOptions {
  /** Creates or deletes of one sync at most (Kubernetes' burstReplicas). Default 500. */
  readonly burstPods?: number;
  readonly expectationsTimeoutMs?: number;
  readonly events?: EventRecorder;
}

export class JobController extends Controller {
  readonly expectations: ControllerExpectations;
  readonly events: EventRecorder;
  private readonly burstPods: number;

  constructor(
    private readonly client: Client,
    private readonly jobs: Informer<Job>,
    private readonly pods: Informer<Pod>,
    options: JobControllerOptions = {},
  ) {
    super('job-controller', options);
    this.burstPods = options.burstPods ?? 500;
    if (!Number.isSafeInteger(this.burstPods) || this.burstPods < 1) throw invalidOption('burstPods', `${this.burstPods} must be an integer >= 1`);
    this.expectations = new ControllerExpectations(this.clock, options.expectationsTimeoutMs);
    this.events = options.events ?? new EventRecorder(client, { component: this.name, wallClockMs: this.wallClockMs });
    jobs.addHandler({
      onAdd: (job) => this.enqueue(job),
      onUpdate: (old, job) => {
        if (old.metadata.resourceVersion !== job.metadata.resourceVersion) this.enqueue(job);
      },
      onDelete: (job) => {
        this.expectations.delete(objectKey(deletedObject(job)));
        this.enqueue(job);
      },
    });
    pods.addHandler({ onAdd: (pod) => this.onPodAdd(pod), onUpdate: (old, pod) => this.onPodUpdate(old, pod), onDelete: (pod) => this.onPodDelete(pod) });
  }

  protected informers(): readonly Informer<KubeObject>[] {
    return [this.jobs, this.pods] as unknown as Informer<KubeObject>[];
  }

  override async run(signal: AbortSignal): Promise<void> {
    this.events.bind(signal);
    await super.run(signal);
  }

  protected override async afterStop(): Promise<void> {
    await this.events.drain();
  }

  // ---- handlers: objects to keys, nothing else (plus expectations bookkeeping) ----

  /** The Job in the cache that `pod`'s controller reference names (same uid), if any. */
  private ownerOf(pod: Pod): Job | undefined {
    const ref = controllerRefOf(pod);
    if (ref === undefined || ref.kind !== 'Job') return undefined;
    const job = this.jobs.cache.getByName(pod.metadata.namespace, ref.name);
    return job?.metadata.uid === ref.uid ? job : undefined;
  }

  private onPodAdd(pod: Pod): void {
    if (pod.metadata.deletionTimestamp !== undefined) {
      this.onPodDelete(pod);
      return;
    }
    const job = this.ownerOf(pod);
    if (job === undefined) return;
    const jobKey = objectKey(job);
    this.expectations.creationObserved(jobKey);
    this.enqueueKey(jobKey);
  }

  private onPodUpdate(old: Pod, pod: Pod): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const job = this.ownerOf(pod);
    if (job === undefined) return;
    // A pod marked for deletion is as good as gone: count it now, not when the node confirms.
    if (pod.metadata.deletionTimestamp !== undefined && old.metadata.deletionTimestamp === undefined) this.expectations.deletionObserved(objectKey(job), objectKey(pod));
    this.enqueue(job);
  }

  private onPodDelete(value: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(value);
    const job = this.ownerOf(pod);
    if (job === undefined) return;
    const jobKey = objectKey(job);
    this.expectations.deletionObserved(jobKey, isTombstone(value) ? value.key : objectKey(pod));
    this.enqueueKey(jobKey);
  }

  // ---- sync ----

  protected async sync(key: string, signal: AbortSignal): Promise<void> {
    const job = this.jobs.cache.get(key);
    if (job === undefined) {
      this.expectations.delete(key);
      return;
    }
    let selector: ParsedLabelSelector;
    try {
      selector = labelSelectorAsSelector(job.spec?.selector);
    } catch (error) {
      this.events.record(asJobObject(job), 'Warning', 'InvalidSelector', `invalid selector: ${(error as Error).message}`);
      throw new ControllerError(ControllerErrorCode.InvalidSpec, `Job ${key}: invalid selector`, { cause: error });
    }
    const pods = this.ownedPods(job, selector);
    const active = pods.filter(isPodActive);
    if (jobFinishedCondition(job) !== undefined) {
      // Finished: nothing more runs. Pods a failed sync left active are deleted (idempotent).
      if (active.length > 0) await this.deletePods(key, job, active, signal);
      return;
    }
    const nowMs = this.wallClockMs();
    const counts = countJobPods(job, pods, active.length);
    const startMs = jobStartMs(job, nowMs);
    let status: JobStatus = { ...structuredClone(job.status ?? {}), startTime: formatTime(startMs), active: counts.active, succeeded: counts.succeeded, failed: counts.failed };
    const verdict = jobVerdict(job.spec, counts, startMs, nowMs);
    let manageError: unknown;
    if (verdict.kind !== 'running') {
      // A finished Job's status is written even when some deletes failed: the next sync, seeing it
      // finished, deletes what is left.
      if (active.length > 0) await this.deletePods(key, job, active, signal).catch((error: unknown) => (manageError = error));
      status = finishedJobStatus(status, verdict, active.length, nowMs);
      if (verdict.kind === 'failed') this.events.record(asJobObject(job), 'Warning', verdict.reason, verdict.message);
      else this.events.record(asJobObject(job), 'Normal', JobReasons.completed, 'Job completed');
    } else {
      if (!this.expectations.satisfied(key)) {
        // The cache is behind our own writes: report what they will make it, not a count that flaps.
        const pending = this.expectations.pending(key) ?? { creations: 0, deletions: 0 };
        status.active = Math.max(0, active.length + pending.creations - pending.deletions);
      } else if (job.metadata.deletionTimestamp === undefined) {
        try {
          status.active = await this.manageJob(key, job, active, verdict.activeWanted, signal);
        } catch (error) {
          manageError = error;
        }
      }
      // Only time moves a Job past its deadline: come back then.
      const leftMs = jobDeadlineLeftMs(job.spec, startMs, nowMs);
      if (leftMs !== undefined) this.enqueueAfter(key, Math.max(0, leftMs) + 10);
    }
    if (!sameJobStatus(job.status, status)) {
      const copy = structuredClone(job);
      copy.status = status;
      await this.client.resource('jobs', job.metadata.namespace).updateStatus(copy, { signal });
    }
    if (manageError !== undefined) throw manageError;
  }

  /** The pods this Job controls: its controller reference, and its selector (no adoption of orphans). */
  private ownedPods(job: Job, selector: ParsedLabelSelector): Pod[] {
    return this.pods.cache.byNamespace(job.metadata.namespace ?? '').filter((pod) => controllerRefOf(pod)?.uid === job.metadata.uid && matchesLabels(selector, pod.metadata.labels));
  }

  /** Creates or deletes toward `wanted` active pods; returns the active count it leaves. */
  private async manageJob(key: string, job: Job, active: readonly Pod[], wanted: number, signal: AbortSignal): Promise<number> {
    if (active.length > wanted) {
      const victims = podsToDelete(active, Math.min(active.length - wanted, this.burstPods));
      await this.deletePods(key, job, victims, signal);
      return active.length - victims.length;
    }
    if (active.length < wanted) {
      const count = Math.min(wanted - active.length, this.burstPods);
      await this.createPods(key, job, count, signal);
      return active.length + count;
    }
    return active.length;
  }

  private podFor(job: Job): Pod {
    const template = job.spec?.template ?? {};
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${job.metadata.name}-`,
        namespace: job.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        ownerReferences: [controllerRefTo(job, 'batch/v1', 'Job')],
      },
      spec: structuredClone(template.spec ?? { containers: [] }),
    };
    if (template.metadata?.annotations !== undefined) pod.metadata.annotations = { ...template.metadata.annotations };
    return pod;
  }

  /** Creates in slow-start batches; the creates never made (after a failed batch) are taken off the expectations. */
  private async createPods(key: string, job: Job, count: number, signal: AbortSignal): Promise<void> {
    this.expectations.expectCreations(key, count);
    const jobObj = asJobObject(job);
    let made = 0;
    let firstError: unknown;
    for (const batch of slowStartBatches(count)) {
      const results = await Promise.allSettled(Array.from({ length: batch }, () => this.client.resource('pods', job.metadata.namespace).create(this.podFor(job), { signal })));
      made += batch;
      for (const result of results) {
        if (result.status === 'fulfilled') {
          this.events.record(jobObj, 'Normal', 'SuccessfulCreate', `Created pod: ${result.value.metadata.name}`);
          continue;
        }
        this.expectations.creationObserved(key);
        firstError ??= result.reason;
        if (!signal.aborted) this.events.record(jobObj, 'Warning', 'FailedCreate', `Error creating: ${(result.reason as Error).message}`);
      }
      if (firstError !== undefined) break;
    }
    for (let skipped = count - made; skipped > 0; skipped--) this.expectations.creationObserved(key);
    if (firstError !== undefined) throw new ControllerError(ControllerErrorCode.PartialSync, `Job ${key}: ${made} creates attempted of ${count}`, { cause: firstError });
  }

  private async deletePods(key: string, job: Job, victims: readonly Pod[], signal: AbortSignal): Promise<void> {
    if (victims.length === 0) return;
    this.expectations.expectDeletions(key, victims.map((pod) => objectKey(pod)));
    const jobObj = asJobObject(job);
    let firstError: unknown;
    await Promise.all(
      victims.map(async (pod) => {
        try {
          await this.client.resource('pods', pod.metadata.namespace).delete(pod.metadata.name ?? '', { signal, preconditions: { uid: pod.metadata.uid } });
          this.events.record(jobObj, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (error) {
          this.expectations.deletionObserved(key, objectKey(pod));
          if (hasStatusReason(error, 'NotFound')) return;
          firstError ??= error;
          if (!signal.aborted) this.events.record(jobObj, 'Warning', 'FailedDelete', `Error deleting: ${(error as Error).message}`);
        }
      }),
    );
    if (firstError !== undefined) throw new ControllerError(ControllerErrorCode.PartialSync, `Job ${key}: some deletes failed`, { cause: firstError });
  }
}

function asJobObject(job: Job): KubeObject {
  return { ...job, kind: 'Job', apiVersion: 'batch/v1' } as KubeObject;
}

/**
 * Succeeded and failed pods counted from the cache, never below what the status already says: a
 * finished pod someone deleted still counted, and the counts only rise (the legacy controller
 * recounted from pods alone and could forget a deleted failure).
 */
export function countJobPods(job: Pick<Job, 'status'>, pods: readonly Pod[], active: number): JobPodCounts {
  let succeeded = 0;
  let failed = 0;
  for (const pod of pods) {
    if (pod.status?.phase === 'Succeeded') succeeded++;
    else if (pod.status?.phase === 'Failed') failed++;
  }
  return { active, succeeded: Math.max(succeeded, job.status?.succeeded ?? 0), failed: Math.max(failed, job.status?.failed ?? 0) };
}
