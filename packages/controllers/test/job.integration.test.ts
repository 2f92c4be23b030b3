// The Job controller against a real in-process master, with a test agent that runs each pod and
// then ends it as the test says: completions with bounded parallelism, the backoff limit, the
// active deadline.

import { formatTime, type Job, type Pod } from '@raftplane/api';
import { createInformer, type Client } from '@raftplane/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { controllerRefOf, isPodActive } from '../src/pods.js';
import { JobController } from '../src/job-controller.js';
import { createNamespace, eventually, startCluster, type TestCluster } from './support/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
});

afterAll(async () => {
  await cluster.stop();
});

type Outcome = 'Succeeded' | 'Failed' | 'Running';

/**
 * The test-only agent for Jobs: a pending pod becomes Running after `stepMs`, then, `stepMs`
 * later, takes the phase `outcome` gives it ('Running' leaves it running). It also records the
 * most pods of the namespace it ever saw active at once.
 */
function startJobAgent(client: Client, namespace: string, signal: AbortSignal, outcome: (pod: Pod) => Outcome, stepMs = 40) {
  const informer = createInformer(client, 'pods', { namespace });
  const timers = new Set<NodeJS.Timeout>();
  let activeMax = 0;
  const setPhase = async (name: string, from: string, phase: Outcome): Promise<void> => {
    const fresh = informer.cache.getByName(namespace, name);
    if (fresh === undefined || fresh.metadata.deletionTimestamp !== undefined || (fresh.status?.phase ?? 'Pending') !== from) return;
    const copy = structuredClone(fresh);
    const now = formatTime(Date.now());
    copy.status = { ...copy.status, phase, conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False', lastTransitionTime: now }] };
    try {
      await client.resource('pods', namespace).updateStatus(copy, { signal });
    } catch {
      // Gone or changed meanwhile: the next event brings it back if it still matters.
    }
  };
  const later = (fn: () => void): void => {
    if (signal.aborted) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, stepMs);
    timers.add(timer);
  };
  const onPod = (pod: Pod): void => {
    activeMax = Math.max(activeMax, informer.cache.byNamespace(namespace).filter(isPodActive).length);
    const name = pod.metadata.name ?? '';
    const phase = pod.status?.phase ?? 'Pending';
    if (phase === 'Pending') later(() => void setPhase(name, 'Pending', 'Running'));
    else if (phase === 'Running' && outcome(pod) !== 'Running') later(() => void setPhase(name, 'Running', outcome(pod)));
  };
  informer.addHandler({ onAdd: onPod, onUpdate: (old, pod) => old.metadata.resourceVersion !== pod.metadata.resourceVersion && onPod(pod) });
  signal.addEventListener('abort', () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  }, { once: true });
  return { done: informer.run(signal).catch(() => undefined), activeMax: () => activeMax };
}

async function withJobController(namespace: string, outcome: (pod: Pod) => Outcome, body: (controller: JobController, agent: { activeMax: () => number }) => Promise<void>): Promise<void> {
  const { client } = cluster;
  await createNamespace(client, namespace);
  const stop = new AbortController();
  const jobInformer = createInformer(client, 'jobs', { namespace });
  const podInformer = createInformer(client, 'pods', { namespace });
  const controller = new JobController(client, jobInformer, podInformer);
  const agent = startJobAgent(client, namespace, stop.signal, outcome);
  const runs = [jobInformer.run(stop.signal), podInformer.run(stop.signal), controller.run(stop.signal), agent.done];
  try {
    await body(controller, agent);
  } finally {
    stop.abort();
    await Promise.all(runs);
  }
}

const jobBody = (name: string, spec: Partial<NonNullable<Job['spec']>>): Job => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1' }] } }, ...spec },
});

const conditionOf = (job: Job, type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === 'True');

describe('Job controller', () => {
  test('completions 3, parallelism 2: never more than 2 active, completes with 3 pods, status and events', async () => {
    const ns = 'job-complete';
    await withJobController(ns, () => 'Succeeded', async (controller, agent) => {
      const jobs = cluster.client.resource('jobs', ns);
      const created = await jobs.create(jobBody('work', { completions: 3, parallelism: 2 }));
      await eventually('Complete', async () => conditionOf(await jobs.get('work'), 'Complete') !== undefined);
      const job = await jobs.get('work');
      expect(job.status).toMatchObject({ succeeded: 3, failed: 0, active: 0 });
      expect(job.status?.startTime).toBeDefined();
      expect(job.status?.completionTime).toBeDefined();
      expect(conditionOf(job, 'Complete')?.reason).toBe('Completed');
      expect(conditionOf(job, 'Failed')).toBeUndefined();

      const pods = (await cluster.client.resource('pods', ns).list()).items;
      expect(pods).toHaveLength(3);
      for (const pod of pods) {
        expect(pod.status?.phase).toBe('Succeeded');
        expect(controllerRefOf(pod)).toMatchObject({ kind: 'Job', name: 'work', uid: created.metadata.uid, controller: true });
        expect(pod.metadata.labels).toMatchObject({ 'controller-uid': created.metadata.uid, 'job-name': 'work' });
      }
      expect(agent.activeMax()).toBeLessThanOrEqual(2);
      expect(agent.activeMax()).toBe(2);
      const reasons = controller.events.recent().map((e) => e.reason);
      expect(reasons.filter((r) => r === 'SuccessfulCreate')).toHaveLength(3);
      expect(reasons.filter((r) => r === 'Completed')).toHaveLength(1);
      expect(controller.expectations.satisfied(`${ns}/work`)).toBe(true);
    });
  });

  test('pods that fail are replaced until failed > backoffLimit, then the Job fails and creates no more', async () => {
    const ns = 'job-backoff';
    await withJobController(ns, () => 'Failed', async (controller) => {
      const jobs = cluster.client.resource('jobs', ns);
      await jobs.create(jobBody('flaky', { completions: 1, parallelism: 1, backoffLimit: 2 }));
      await eventually('Failed', async () => conditionOf(await jobs.get('flaky'), 'Failed') !== undefined);
      const job = await jobs.get('flaky');
      expect(conditionOf(job, 'Failed')?.reason).toBe('BackoffLimitExceeded');
      expect(job.status).toMatchObject({ failed: 3, succeeded: 0, active: 0 });
      expect(conditionOf(job, 'Complete')).toBeUndefined();
      // Settle: nothing more is created after the Job failed.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const pods = (await cluster.client.resource('pods', ns).list()).items;
      expect(pods).toHaveLength(3);
      expect(pods.every((p) => p.status?.phase === 'Failed')).toBe(true);
      expect(controller.events.recent().filter((e) => e.reason === 'BackoffLimitExceeded')).toHaveLength(1);
    });
  });

  test('past activeDeadlineSeconds the Job fails with DeadlineExceeded and its running pods are deleted', async () => {
    const ns = 'job-deadline';
    await withJobController(ns, () => 'Running', async (_controller, agent) => {
      const jobs = cluster.client.resource('jobs', ns);
      await jobs.create(jobBody('slow', { completions: 2, parallelism: 2, activeDeadlineSeconds: 1 }));
      await eventually('Failed', async () => conditionOf(await jobs.get('slow'), 'Failed') !== undefined, 10_000);
      // Both pods ran (the agent saw two active at once) before the deadline ended them; waiting to
      // see them Running here would race the 1 s deadline on a loaded machine.
      expect(agent.activeMax()).toBe(2);
      const job = await jobs.get('slow');
      expect(conditionOf(job, 'Failed')?.reason).toBe('DeadlineExceeded');
      expect(job.status).toMatchObject({ active: 0, failed: 2 });
      await eventually('pods deleted', async () => (await cluster.client.resource('pods', ns).list()).items.length === 0);
    });
  });
});
