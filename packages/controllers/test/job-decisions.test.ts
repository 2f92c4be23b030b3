// The Job controller's pure decisions: active pods wanted at each step, backoff limit, deadline,
// completion (with and without completions), and counts that never fall below the status'.
import type { JobSpec, Pod, PodPhase } from '@raftplane/api';
import { describe, expect, test } from 'vitest';
import { countJobPods } from '../src/job-controller.js';
import { finishedJobStatus, jobActiveWanted, jobDeadlineLeftMs, jobFinishedCondition, jobVerdict, newJobCondition } from '../src/job-decisions.js';

const counts = (active: number, succeeded: number, failed: number) => ({ active, succeeded, failed });
const pod = (phase: PodPhase): Pod => ({ metadata: { name: `p-${phase}` }, status: { phase } });

describe('job decisions', () => {
  test('completions 3, parallelism 2: 2 active, then 2, then 1, then complete', () => {
    const spec: JobSpec = { completions: 3, parallelism: 2, backoffLimit: 6 };
    expect(jobVerdict(spec, counts(0, 0, 0), 0, 0)).toEqual({ kind: 'running', activeWanted: 2 });
    expect(jobVerdict(spec, counts(1, 1, 0), 0, 0)).toEqual({ kind: 'running', activeWanted: 2 });
    expect(jobVerdict(spec, counts(1, 2, 0), 0, 0)).toEqual({ kind: 'running', activeWanted: 1 });
    expect(jobVerdict(spec, counts(0, 3, 0), 0, 0)).toEqual({ kind: 'complete' });
  });

  test('failed pods are replaced while failed <= backoffLimit; one more fails the Job', () => {
    const spec: JobSpec = { completions: 1, parallelism: 1, backoffLimit: 2 };
    expect(jobVerdict(spec, counts(0, 0, 2), 0, 0)).toEqual({ kind: 'running', activeWanted: 1 });
    expect(jobVerdict(spec, counts(0, 0, 3), 0, 0)).toMatchObject({ kind: 'failed', reason: 'BackoffLimitExceeded' });
    // backoffLimit 0: the first failure fails the Job.
    expect(jobVerdict({ backoffLimit: 0 }, counts(0, 0, 1), 0, 0)).toMatchObject({ kind: 'failed', reason: 'BackoffLimitExceeded' });
  });

  test('defaults: one completion, parallelism 1, backoffLimit 6', () => {
    expect(jobVerdict(undefined, counts(0, 0, 0), 0, 0)).toEqual({ kind: 'running', activeWanted: 1 });
    expect(jobVerdict(undefined, counts(0, 0, 6), 0, 0)).toEqual({ kind: 'running', activeWanted: 1 });
    expect(jobVerdict(undefined, counts(0, 0, 7), 0, 0)).toMatchObject({ kind: 'failed' });
    expect(jobVerdict({ completions: 1 }, counts(0, 1, 0), 0, 0)).toEqual({ kind: 'complete' });
  });

  test('activeDeadlineSeconds counts from the start time; reached exactly is past', () => {
    const spec: JobSpec = { completions: 1, activeDeadlineSeconds: 10 };
    expect(jobDeadlineLeftMs(spec, 1_000, 5_000)).toBe(6_000);
    expect(jobVerdict(spec, counts(1, 0, 0), 1_000, 10_999)).toEqual({ kind: 'running', activeWanted: 1 });
    expect(jobVerdict(spec, counts(1, 0, 0), 1_000, 11_000)).toMatchObject({ kind: 'failed', reason: 'DeadlineExceeded' });
    expect(jobDeadlineLeftMs({}, 0, 0)).toBeUndefined();
  });

  test('the backoff limit is judged before the deadline', () => {
    expect(jobVerdict({ backoffLimit: 0, activeDeadlineSeconds: 1 }, counts(0, 0, 1), 0, 5_000)).toMatchObject({ reason: 'BackoffLimitExceeded' });
  });

  test('a work queue (no completions): parallelism until one succeeds, then none new; complete when none active', () => {
    const spec: JobSpec = { parallelism: 3 };
    expect(jobActiveWanted(spec, counts(0, 0, 0))).toBe(3);
    expect(jobActiveWanted(spec, counts(2, 1, 0))).toBe(2);
    expect(jobVerdict(spec, counts(2, 1, 0), 0, 0)).toEqual({ kind: 'running', activeWanted: 2 });
    expect(jobVerdict(spec, counts(0, 3, 0), 0, 0)).toEqual({ kind: 'complete' });
  });

  test('never more active than completions left; suspended wants none', () => {
    expect(jobActiveWanted({ completions: 5, parallelism: 10 }, counts(0, 2, 0))).toBe(3);
    expect(jobActiveWanted({ completions: 2, parallelism: 2 }, counts(0, 5, 0))).toBe(0);
    expect(jobActiveWanted({ completions: 2, parallelism: 2, suspend: true }, counts(0, 0, 0))).toBe(0);
  });

  test('counts from pods never fall below the status (a finished pod deleted is still counted)', () => {
    const pods = [pod('Succeeded'), pod('Failed'), pod('Failed'), pod('Running')];
    expect(countJobPods({ status: {} }, pods, 1)).toEqual({ active: 1, succeeded: 1, failed: 2 });
    expect(countJobPods({ status: { succeeded: 3, failed: 1 } }, pods, 1)).toEqual({ active: 1, succeeded: 3, failed: 2 });
  });

  test('finished means a Complete or Failed condition that is True', () => {
    expect(jobFinishedCondition({ status: {} })).toBeUndefined();
    expect(jobFinishedCondition({ status: { conditions: [{ type: 'Complete', status: 'False' }] } })).toBeUndefined();
    const failed = newJobCondition('Failed', 'DeadlineExceeded', 'late', 0);
    expect(jobFinishedCondition({ status: { conditions: [failed] } })).toEqual(failed);
    expect(failed).toMatchObject({ status: 'True', lastTransitionTime: '1970-01-01T00:00:00Z' });
  });

  test('a finished status: Failed counts the deleted active pods as failed; Complete gets completionTime; none active', () => {
    const running = { active: 2, succeeded: 1, failed: 3, startTime: '1970-01-01T00:00:00Z' };
    const failed = finishedJobStatus(running, { kind: 'failed', reason: 'DeadlineExceeded', message: 'late' }, 2, 5_000);
    expect(failed).toMatchObject({ active: 0, succeeded: 1, failed: 5, startTime: running.startTime });
    expect(failed.completionTime).toBeUndefined();
    expect(failed.conditions).toEqual([newJobCondition('Failed', 'DeadlineExceeded', 'late', 5_000)]);
    const complete = finishedJobStatus({ ...running, active: 0 }, { kind: 'complete' }, 0, 5_000);
    expect(complete).toMatchObject({ active: 0, failed: 3, completionTime: '1970-01-01T00:00:05Z' });
    expect(complete.conditions?.[0]).toMatchObject({ type: 'Complete', status: 'True', reason: 'Completed' });
  });
});
