// The ReplicaSet controller against a real in-process master: scale up and down to exactly
// spec.replicas, a deleted pod replaced, an orphan adopted, a pod that stops matching released.

import type { Pod, ReplicaSet } from '@raftplane/api';
import { createInformer } from '@raftplane/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ReplicaSetController, controllerRefOf } from '../src/index.js';
import { createNamespace, eventually, podTemplate, startCluster, startFakeAgent, type TestCluster } from './support/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
});

afterAll(async () => {
  await cluster.stop();
});

async function withController(namespace: string, body: (controller: ReplicaSetController) => Promise<void>): Promise<void> {
  const { client } = cluster;
  await createNamespace(client, namespace);
  const stop = new AbortController();
  const rsInformer = createInformer(client, 'replicasets', { namespace });
  const podInformer = createInformer(client, 'pods', { namespace });
  const controller = new ReplicaSetController(client, rsInformer, podInformer);
  const agent = startFakeAgent(client, namespace, stop.signal);
  const runs = [rsInformer.run(stop.signal), podInformer.run(stop.signal), controller.run(stop.signal), agent.done];
  try {
    await body(controller);
  } finally {
    stop.abort();
    await Promise.all(runs);
  }
}

const rsBody = (name: string, replicas: number): ReplicaSet => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }) },
});

describe('ReplicaSet controller', () => {
  test('scales up and down to exactly spec.replicas, with status, events and metrics', async () => {
    const ns = 'rs-scale';
    await withController(ns, async (controller) => {
      const rss = cluster.client.resource('replicasets', ns);
      const pods = cluster.client.resource('pods', ns);
      await rss.create(rsBody('web', 5));
      const podCount = async () => (await pods.list()).items.filter((p) => p.metadata.deletionTimestamp === undefined).length;
      await eventually('5 ready replicas', async () => (await rss.get('web')).status?.readyReplicas === 5);
      expect(await podCount()).toBe(5);
      const list = (await pods.list()).items;
      for (const pod of list) {
        expect(pod.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
        expect(controllerRefOf(pod)).toMatchObject({ kind: 'ReplicaSet', name: 'web', controller: true, blockOwnerDeletion: true });
      }
      const status = (await rss.get('web')).status;
      expect(status).toMatchObject({ replicas: 5, fullyLabeledReplicas: 5, readyReplicas: 5, availableReplicas: 5, observedGeneration: 1 });

      await rss.patch('web', 'merge', { spec: { replicas: 2 } });
      await eventually('2 replicas', async () => (await rss.get('web')).status?.replicas === 2 && (await podCount()) === 2);
      expect((await rss.get('web')).status?.observedGeneration).toBe(2);
      await rss.patch('web', 'merge', { spec: { replicas: 4 } });
      await eventually('4 ready replicas', async () => (await rss.get('web')).status?.readyReplicas === 4);
      expect(await podCount()).toBe(4);

      const reasons = controller.events.recent().map((e) => e.reason);
      expect(reasons.filter((r) => r === 'SuccessfulCreate')).toHaveLength(7);
      expect(reasons.filter((r) => r === 'SuccessfulDelete')).toHaveLength(3);
      await eventually(`events written (${JSON.stringify(controller.events.stats())} ${controller.events.lastError})`, () => controller.events.stats().written === 10);
      const events = (await cluster.client.resource('events', ns).list()).items;
      expect(events.filter((e) => e.reason === 'SuccessfulCreate' && e.involvedObject.name === 'web')).toHaveLength(7);
      const metrics = controller.metrics();
      expect(metrics.reconciles).toBeGreaterThan(0);
      expect(metrics.reconcileLatencyMsMax).toBeGreaterThanOrEqual(metrics.reconcileLatencyMsLast);
      expect(controller.expectations.satisfied(`${ns}/web`)).toBe(true);
    });
  });

  test('replaces a deleted pod', async () => {
    const ns = 'rs-replace';
    await withController(ns, async () => {
      const rss = cluster.client.resource('replicasets', ns);
      const pods = cluster.client.resource('pods', ns);
      await rss.create(rsBody('web', 3));
      await eventually('3 ready', async () => (await rss.get('web')).status?.readyReplicas === 3);
      const victim = (await pods.list()).items[0] as Pod;
      await pods.delete(victim.metadata.name ?? '');
      await eventually('a replacement', async () => {
        const names = (await pods.list()).items.map((p) => p.metadata.name);
        return names.length === 3 && !names.includes(victim.metadata.name);
      });
      await eventually('3 ready again', async () => (await rss.get('web')).status?.readyReplicas === 3);
      expect((await pods.list()).items).toHaveLength(3);
    });
  });

  test('adopts a matching orphan instead of creating, and releases a pod that stops matching', async () => {
    const ns = 'rs-adopt';
    await withController(ns, async () => {
      const rss = cluster.client.resource('replicasets', ns);
      const pods = cluster.client.resource('pods', ns);
      await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } });
      const rs = await rss.create(rsBody('web', 2));
      await eventually('2 ready', async () => (await rss.get('web')).status?.readyReplicas === 2);
      const list = (await pods.list()).items;
      expect(list).toHaveLength(2);
      const orphan = await pods.get('orphan');
      expect(controllerRefOf(orphan)?.uid).toBe(rs.metadata.uid);

      // Relabel the adopted pod: it is released and a new one takes its place.
      await pods.patch('orphan', 'merge', { metadata: { labels: { app: 'other' } } });
      await eventually('released', async () => controllerRefOf(await pods.get('orphan')) === undefined);
      await eventually('replaced', async () => (await pods.list({ labelSelector: 'app=web' })).items.length === 2 && (await rss.get('web')).status?.readyReplicas === 2);
    });
  });
});
