// The Deployment and ReplicaSet controllers together against a real in-process master, with the
// test-only agent: scaling, a rolling update whose bounds are checked at every pod watch event,
// rollback reusing the old ReplicaSet, and pause / resume.

import type { Deployment, Pod } from '@raftplane/api';
import { createInformer } from '@raftplane/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { revisionAnnotation, startControllerManager, type ControllerManager } from '../src/index.js';
import { createNamespace, delay, eventually, podTemplate, startCluster, startFakeAgent, type TestCluster } from './support/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
});

afterAll(async () => {
  await cluster.stop();
});

async function withManager(namespace: string, body: (manager: ControllerManager) => Promise<void>): Promise<void> {
  await createNamespace(cluster.client, namespace);
  const stop = new AbortController();
  const manager = startControllerManager(cluster.client, stop.signal);
  const agent = startFakeAgent(cluster.client, namespace, stop.signal);
  try {
    await body(manager);
  } finally {
    stop.abort();
    await Promise.all([manager.done, agent.done]);
  }
}

const deploymentBody = (name: string, replicas: number, extra: Partial<NonNullable<Deployment['spec']>> = {}): Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }, 'nginx:1'), ...extra },
});

function settled(d: Deployment, replicas: number): boolean {
  const s = d.status;
  return (d.status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && s?.replicas === replicas && s.updatedReplicas === replicas && s.availableReplicas === replicas && s.readyReplicas === replicas;
}

const imageOf = (pod: Pod): string | undefined => pod.spec?.containers[0]?.image;

describe('Deployment controller', () => {
  test('scales up and down', async () => {
    const ns = 'deploy-scale';
    await withManager(ns, async (manager) => {
      const deployments = cluster.client.resource('deployments', ns);
      const pods = cluster.client.resource('pods', ns);
      await deployments.create(deploymentBody('web', 3));
      await eventually('3 available', async () => settled(await deployments.get('web'), 3));
      await deployments.patch('web', 'merge', { spec: { replicas: 6 } });
      await eventually('6 available', async () => settled(await deployments.get('web'), 6));
      expect((await pods.list()).items).toHaveLength(6);
      await deployments.patch('web', 'merge', { spec: { replicas: 2 } });
      await eventually('2 available', async () => settled(await deployments.get('web'), 2) && (await pods.list()).items.length === 2);
      const d = await deployments.get('web');
      expect(d.metadata.annotations?.[revisionAnnotation]).toBe('1');
      expect(d.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
      expect(d.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
      const rsList = (await cluster.client.resource('replicasets', ns).list()).items;
      expect(rsList).toHaveLength(1);
      expect(rsList[0]?.metadata.labels?.['pod-template-hash']).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
      expect(manager.deployments.events.recent().filter((e) => e.reason === 'ScalingReplicaSet').length).toBeGreaterThanOrEqual(3);
    });
  });

  test('a rolling update stays within replicas + maxSurge pods and replicas - maxUnavailable available at every pod event; rollback reuses the old ReplicaSet', async () => {
    const ns = 'deploy-roll';
    await withManager(ns, async () => {
      const deployments = cluster.client.resource('deployments', ns);
      const replicas = 8;
      const [maxSurge, maxUnavailable] = [2, 2]; // 25% of 8, rounded up and down
      await deployments.create(deploymentBody('web', replicas));
      await eventually('8 available', async () => settled(await deployments.get('web'), replicas));
      const firstRS = (await cluster.client.resource('replicasets', ns).list()).items[0];

      // Record from a watch (an informer) while the rollout runs.
      const stopWatch = new AbortController();
      const watcher = createInformer(cluster.client, 'pods', { namespace: ns });
      let events = 0;
      let maxTotal = 0;
      let minAvailable = Number.POSITIVE_INFINITY;
      // The initial list arrives one onAdd at a time; count from the first full picture on.
      let armed = false;
      const record = (): void => {
        if (!armed) return;
        const live = watcher.cache.list().filter((p) => p.metadata.deletionTimestamp === undefined);
        const available = live.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
        events++;
        maxTotal = Math.max(maxTotal, live.length);
        minAvailable = Math.min(minAvailable, available);
      };
      watcher.addHandler({ onAdd: record, onUpdate: record, onDelete: record });
      const watching = watcher.run(stopWatch.signal);
      await watcher.waitForSync(stopWatch.signal);
      armed = true;
      record();

      const rollout = async (image: string): Promise<void> => {
        await deployments.patch('web', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image }] } } } });
        await eventually(`rolled out ${image}`, async () => {
          const d = await deployments.get('web');
          const pods = watcher.cache.list();
          return settled(d, replicas) && pods.length === replicas && pods.every((p) => imageOf(p) === image);
        });
      };
      try {
        await rollout('nginx:2');
        expect(events).toBeGreaterThan(replicas * 2);
        expect(maxTotal).toBeLessThanOrEqual(replicas + maxSurge);
        expect(minAvailable).toBeGreaterThanOrEqual(replicas - maxUnavailable);
        const d2 = await deployments.get('web');
        expect(d2.metadata.annotations?.[revisionAnnotation]).toBe('2');
        expect(d2.status?.updatedReplicas).toBe(replicas);

        // rollout undo: the template set back; the first ReplicaSet comes back as revision 3.
        await rollout('nginx:1');
        expect(maxTotal).toBeLessThanOrEqual(replicas + maxSurge);
        expect(minAvailable).toBeGreaterThanOrEqual(replicas - maxUnavailable);
      } finally {
        stopWatch.abort();
        await watching;
      }
      const rsList = (await cluster.client.resource('replicasets', ns).list()).items;
      expect(rsList).toHaveLength(2);
      const reused = rsList.find((rs) => rs.metadata.uid === firstRS?.metadata.uid);
      expect(reused?.spec?.replicas).toBe(replicas);
      expect(reused?.metadata.annotations?.[revisionAnnotation]).toBe('3');
      expect(reused?.metadata.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1');
      expect((await deployments.get('web')).metadata.annotations?.[revisionAnnotation]).toBe('3');
    });
  });

  test('pause stops a rollout, resume continues it', async () => {
    const ns = 'deploy-pause';
    await withManager(ns, async () => {
      const deployments = cluster.client.resource('deployments', ns);
      const pods = cluster.client.resource('pods', ns);
      await deployments.create(deploymentBody('web', 4));
      await eventually('4 available', async () => settled(await deployments.get('web'), 4));
      await deployments.patch('web', 'merge', { spec: { paused: true } });
      await eventually('Progressing is DeploymentPaused', async () => (await deployments.get('web')).status?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'DeploymentPaused') === true);
      await deployments.patch('web', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } });
      await delay(500);
      expect((await cluster.client.resource('replicasets', ns).list()).items).toHaveLength(1);
      expect((await pods.list()).items.every((p) => imageOf(p) === 'nginx:1')).toBe(true);

      await deployments.patch('web', 'merge', { spec: { paused: false } });
      await eventually('rolled out after resume', async () => {
        const list = (await pods.list()).items;
        return settled(await deployments.get('web'), 4) && list.length === 4 && list.every((p) => imageOf(p) === 'nginx:2');
      });
      expect((await cluster.client.resource('replicasets', ns).list()).items).toHaveLength(2);
    });
  });

  test('Recreate removes every old pod before creating new ones', async () => {
    const ns = 'deploy-recreate';
    await withManager(ns, async () => {
      const deployments = cluster.client.resource('deployments', ns);
      await deployments.create(deploymentBody('web', 3, { strategy: { type: 'Recreate' } }));
      await eventually('3 available', async () => settled(await deployments.get('web'), 3));
      const stopWatch = new AbortController();
      const watcher = createInformer(cluster.client, 'pods', { namespace: ns });
      let mixed = false;
      const record = (): void => {
        const images = new Set(watcher.cache.list().map(imageOf));
        if (images.size > 1) mixed = true;
      };
      watcher.addHandler({ onAdd: record, onUpdate: record, onDelete: record });
      const watching = watcher.run(stopWatch.signal);
      try {
        await watcher.waitForSync(stopWatch.signal);
        await deployments.patch('web', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } });
        await eventually('recreated', async () => settled(await deployments.get('web'), 3) && watcher.cache.list().every((p) => imageOf(p) === 'nginx:2'));
        expect(mixed).toBe(false);
      } finally {
        stopWatch.abort();
        await watching;
      }
    });
  });
});
