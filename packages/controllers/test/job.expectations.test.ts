// The Job controller against in-memory informers and a fake client whose creates the pod informer
// does not see until the test delivers them: however often the Job is synced meanwhile, it never
// creates twice; once the pods arrive it acts on them.

import type { Job, KubeObject, Pod } from '@raftplane/api';
import { type Client, deepFreeze, EventRecorder, IndexedCache, type Informer, type InformerHandler, objectKey } from '@raftplane/client';
import { describe, expect, test } from 'vitest';
import { JobController } from '../src/job-controller.js';
import { eventually } from './support/cluster.js';

/** An informer whose cache the test fills; every put is delivered to the handlers at once. */
class FakeInformer<T extends KubeObject> {
  readonly cache = new IndexedCache<T>();
  private readonly handlers = new Set<InformerHandler<T>>();
  private revision = 1;

  addHandler(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  hasSynced(): boolean {
    return true;
  }

  async waitForSync(): Promise<void> {}

  put(obj: T): T {
    const copy = structuredClone(obj);
    copy.metadata.resourceVersion = String(++this.revision);
    const frozen = deepFreeze(copy);
    const old = this.cache.put(frozen);
    for (const h of this.handlers) {
      if (old === undefined) h.onAdd?.(frozen);
      else h.onUpdate?.(old, frozen);
    }
    return frozen;
  }
}

function world() {
  const jobs = new FakeInformer<Job>();
  const pods = new FakeInformer<Pod>();
  const created: Pod[] = [];
  let statusWrites = 0;
  const client = {
    resource(resource: string) {
      return {
        async create(pod: Pod) {
          expect(resource).toBe('pods');
          const made = structuredClone(pod);
          made.metadata.name = `${pod.metadata.generateName}${created.length}`;
          made.metadata.uid = `pod-uid-${created.length}`;
          made.status = { phase: 'Pending' };
          created.push(made);
          return made;
        },
        async updateStatus(job: Job) {
          expect(resource).toBe('jobs');
          statusWrites++;
          return jobs.put(job);
        },
      };
    },
  } as unknown as Client;
  return { jobs, pods, created, client, statusWrites: () => statusWrites };
}

const job: Job = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'work', namespace: 'ns', uid: 'job-uid', generation: 1 },
  spec: { completions: 5, parallelism: 3, backoffLimit: 6, selector: { matchLabels: { 'controller-uid': 'job-uid' } }, template: { metadata: { labels: { 'controller-uid': 'job-uid', 'job-name': 'work' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } },
};

describe('Job controller expectations', () => {
  test('a slow pod informer never causes a second round of creates', async () => {
    const w = world();
    const controller = new JobController(w.client, w.jobs as unknown as Informer<Job>, w.pods as unknown as Informer<Pod>, { events: new EventRecorder(undefined, { component: 'test' }) });
    const stop = new AbortController();
    const run = controller.run(stop.signal);
    try {
      w.jobs.put(job);
      await eventually('3 creates', () => w.created.length === 3);
      // The Job changes (status writes, a label) and is synced again and again: no more creates.
      for (let i = 0; i < 5; i++) {
        const current = w.jobs.cache.get('ns/work') as Job;
        w.jobs.put({ ...structuredClone(current), metadata: { ...structuredClone(current.metadata), labels: { round: String(i) } } });
        await eventually(`sync ${i}`, () => controller.metrics().queueDepth === 0);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(w.created).toHaveLength(3);
      expect(controller.expectations.pending('ns/work')).toEqual({ creations: 3, deletions: 0 });

      // The creates arrive; one of them succeeds: exactly one more pod (3 active wanted, 4 left to do).
      for (const pod of w.created.slice(0, 3)) w.pods.put(pod);
      expect(controller.expectations.satisfied('ns/work')).toBe(true);
      const first = w.pods.cache.get(objectKey(w.created[0] as Pod)) as Pod;
      w.pods.put({ ...structuredClone(first), status: { phase: 'Succeeded' } });
      await eventually('a 4th create', () => w.created.length === 4);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(w.created).toHaveLength(4);
      expect(w.jobs.cache.get('ns/work')?.status).toMatchObject({ active: 3, succeeded: 1, failed: 0 });
    } finally {
      stop.abort();
      await run;
    }
  });
});
