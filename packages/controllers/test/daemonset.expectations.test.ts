// The DaemonSet controller against in-memory informers and a fake client whose writes the pod
// informer does not see until the test delivers them: node events and DaemonSet updates sync it
// again and again meanwhile, and it never creates or deletes twice.

import type { DaemonSet, KubeObject, Node, Pod } from '@raftplane/api';
import { type Client, deepFreeze, EventRecorder, IndexedCache, type Informer, type InformerHandler } from '@raftplane/client';
import { describe, expect, test } from 'vitest';
import { DaemonSetController } from '../src/daemonset-controller.js';
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

  remove(key: string): void {
    const old = this.cache.remove(key);
    if (old !== undefined) for (const h of this.handlers) h.onDelete?.(old);
  }
}

function world() {
  const daemonSets = new FakeInformer<DaemonSet>();
  const pods = new FakeInformer<Pod>();
  const nodes = new FakeInformer<Node>();
  const created: Pod[] = [];
  const deleted: { name: string; gracePeriodSeconds: number | undefined }[] = [];
  const client = {
    resource(resource: string) {
      return {
        async create(pod: Pod) {
          expect(resource).toBe('pods');
          const made = structuredClone(pod);
          made.metadata.name = `${pod.metadata.generateName}${created.length}`;
          made.metadata.uid = `pod-uid-${created.length}`;
          made.metadata.creationTimestamp = '2020-01-01T00:00:00Z';
          made.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2020-01-01T00:00:00Z' }] };
          created.push(made);
          return made;
        },
        async delete(name: string, options: { gracePeriodSeconds?: number }) {
          expect(resource).toBe('pods');
          deleted.push({ name, gracePeriodSeconds: options.gracePeriodSeconds });
          return {};
        },
        async updateStatus(ds: DaemonSet) {
          expect(resource).toBe('daemonsets');
          return daemonSets.put(ds);
        },
      };
    },
  } as unknown as Client;
  return { daemonSets, pods, nodes, created, deleted, client };
}

const node = (name: string): Node => ({ metadata: { name, labels: { pool: 'p' } } });
const ds: DaemonSet = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: 'ns', uid: 'ds-uid', generation: 1 },
  spec: { selector: { matchLabels: { app: 'agent' } }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
};

describe('DaemonSet controller expectations', () => {
  test('a slow pod informer never causes a second create or delete, and a sync may do both', async () => {
    const w = world();
    const controller = new DaemonSetController(w.client, w.daemonSets as unknown as Informer<DaemonSet>, w.pods as unknown as Informer<Pod>, w.nodes as unknown as Informer<Node>, { events: new EventRecorder(undefined, { component: 'test' }) });
    const stop = new AbortController();
    const run = controller.run(stop.signal);
    const settle = async () => {
      await eventually('queue empty', () => controller.metrics().queueDepth === 0);
      await new Promise((resolve) => setTimeout(resolve, 30));
    };
    try {
      for (const name of ['n1', 'n2', 'n3']) w.nodes.put(node(name));
      w.daemonSets.put(ds);
      await eventually('3 creates', () => w.created.length === 3);
      // Node label churn and DaemonSet updates while the creates are unseen: nothing more.
      for (let i = 0; i < 3; i++) {
        w.nodes.put({ metadata: { name: 'n1', labels: { pool: 'p', round: String(i) } } });
        await settle();
      }
      expect(w.created).toHaveLength(3);
      expect(controller.satisfied('ns/agent')).toBe(false);
      expect(w.created.map((p) => p.spec?.nodeName).sort()).toEqual(['n1', 'n2', 'n3']);

      for (const pod of w.created) w.pods.put(pod);
      expect(controller.satisfied('ns/agent')).toBe(true);
      // One node goes and one comes in the same sync: one force delete and one create.
      w.nodes.remove('n3');
      w.nodes.put(node('n4'));
      await eventually('a create on n4 and a delete on n3', () => w.created.length === 4 && w.deleted.length === 1);
      expect(w.created[3]?.spec?.nodeName).toBe('n4');
      expect(w.deleted[0]).toEqual({ name: w.created[2]?.metadata.name, gracePeriodSeconds: 0 });
      await settle();
      expect(w.created).toHaveLength(4);
      expect(w.deleted).toHaveLength(1);
      expect(controller.creations.pending('ns/agent')).toEqual({ creations: 1, deletions: 0 });
      expect(controller.deletions.pending('ns/agent')).toEqual({ creations: 0, deletions: 1 });
    } finally {
      stop.abort();
      await run;
    }
  });
});
