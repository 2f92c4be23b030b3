// The garbage collector against a real in-process master: Background (an owner gone by uid takes
// its dependents, a recreated owner saves none of the old ones, a second live owner keeps one),
// Orphan (dependents stay, without the reference) and Foreground (dependents first, then the owner).
// Foreground and Orphan owners carry their finalizer from creation: today's apiserver marks an
// object with finalizers on DELETE (deletionTimestamp) instead of removing it, but does not yet add
// the finalizer for propagationPolicy itself.

import { setMaxListeners } from 'node:events';
import { hasStatusReason, type ConfigMap, type KubeObject, type OwnerReference, type ReplicaSet } from '@raftplane/api';
import { createInformer, deletedObject } from '@raftplane/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GarbageCollector } from '../src/garbage-collector.js';
import { DeploymentController, ReplicaSetController, SharedInformerFactory } from '../src/index.js';
import { createNamespace, eventually, podTemplate, startCluster, type TestCluster } from './support/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
});

afterAll(async () => {
  await cluster.stop();
});

async function withCollector(namespace: string, options: { replicaSets: boolean; deployments?: boolean }, body: (gc: GarbageCollector) => Promise<void>): Promise<void> {
  const { client } = cluster;
  await createNamespace(client, namespace);
  const stop = new AbortController();
  setMaxListeners(100, stop.signal);
  const factory = new SharedInformerFactory(client);
  const gc = new GarbageCollector(client, factory);
  const runs: Promise<void>[] = [gc.run(stop.signal)];
  if (options.replicaSets) runs.push(new ReplicaSetController(client, factory.informer('replicasets'), factory.informer('pods')).run(stop.signal));
  if (options.deployments === true) runs.push(new DeploymentController(client, factory.informer('deployments'), factory.informer('replicasets'), factory.informer('pods')).run(stop.signal));
  factory.start(stop.signal);
  try {
    await body(gc);
  } finally {
    stop.abort();
    await Promise.all(runs);
    await factory.stopped();
  }
}

async function isGone(get: () => Promise<unknown>): Promise<boolean> {
  try {
    await get();
    return false;
  } catch (error) {
    if (hasStatusReason(error, 'NotFound')) return true;
    throw error;
  }
}

const rsBody = (name: string, replicas: number, finalizers?: string[]): ReplicaSet => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name, ...(finalizers === undefined ? {} : { finalizers }) },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }) },
});

const refTo = (owner: KubeObject, kind: string, apiVersion = 'v1', blockOwnerDeletion = false): OwnerReference => ({
  apiVersion,
  kind,
  name: owner.metadata.name ?? '',
  uid: owner.metadata.uid ?? '',
  ...(blockOwnerDeletion ? { blockOwnerDeletion: true } : {}),
});

const configMap = (name: string, ownerReferences?: OwnerReference[], finalizers?: string[]): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(ownerReferences === undefined ? {} : { ownerReferences }), ...(finalizers === undefined ? {} : { finalizers }) },
  data: { k: name },
});

describe('garbage collector', () => {
  test('Background: a deleted ReplicaSet takes its pods with it', async () => {
    const ns = 'gc-background';
    await withCollector(ns, { replicaSets: true }, async (gc) => {
      const rss = cluster.client.resource('replicasets', ns);
      const pods = cluster.client.resource('pods', ns);
      const rs = await rss.create(rsBody('web', 3));
      await eventually('3 pods', async () => (await pods.list()).items.length === 3);
      await eventually('the collector sees the pods as dependents', () => gc.dependentsOf(rs.metadata.uid ?? '').length === 3);
      await rss.delete('web');
      await eventually('pods deleted', async () => (await pods.list()).items.length === 0);
      expect(gc.events.recent().filter((e) => e.reason === 'GarbageCollected' && e.kind === 'Pod')).toHaveLength(3);
      expect(gc.dependentsOf(rs.metadata.uid ?? '')).toEqual([]);
    });
  });

  test('an owner recreated with the same name does not save the old dependents; a second live owner does', async () => {
    const ns = 'gc-recreated';
    await withCollector(ns, { replicaSets: false }, async () => {
      const cms = cluster.client.resource('configmaps', ns);
      const secrets = cluster.client.resource('secrets', ns);
      const first = await cms.create(configMap('owner'));
      await cms.delete('owner');
      const second = await cms.create(configMap('owner'));
      expect(second.metadata.uid).not.toBe(first.metadata.uid);
      const other = await cms.create(configMap('other'));
      // Dependents of the first owner appear only now: the name resolves, the uid does not.
      await secrets.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'old', ownerReferences: [refTo(first, 'ConfigMap')] }, data: {} });
      await cms.create(configMap('shared', [refTo(first, 'ConfigMap'), refTo(other, 'ConfigMap')]));
      await cms.create(configMap('current', [refTo(second, 'ConfigMap')]));
      await eventually('the old dependent deleted', () => isGone(() => secrets.get('old')));
      await eventually('the shared dependent keeps only its live owner', async () => (await cms.get('shared')).metadata.ownerReferences?.length === 1);
      expect((await cms.get('shared')).metadata.ownerReferences).toEqual([refTo(other, 'ConfigMap')]);
      expect((await cms.get('current')).metadata.ownerReferences).toEqual([refTo(second, 'ConfigMap')]);
    });
  });

  test('Orphan: the pods keep running without the reference to their deleted ReplicaSet', async () => {
    const ns = 'gc-orphan';
    await withCollector(ns, { replicaSets: true }, async (gc) => {
      const rss = cluster.client.resource('replicasets', ns);
      const pods = cluster.client.resource('pods', ns);
      const rs = await rss.create(rsBody('web', 2));
      await eventually('2 pods', async () => (await pods.list()).items.length === 2);
      // The apiserver marks the owner and adds the orphan finalizer for the collector.
      const marked = (await rss.delete('web', { propagationPolicy: 'Orphan' })) as ReplicaSet;
      expect(marked.metadata.deletionTimestamp).toBeDefined();
      expect(marked.metadata.finalizers).toEqual(['orphan']);
      await eventually('the ReplicaSet removed', () => isGone(() => rss.get('web')));
      const left = (await pods.list()).items;
      expect(left).toHaveLength(2);
      for (const pod of left) {
        expect(pod.metadata.deletionTimestamp).toBeUndefined();
        expect(pod.metadata.ownerReferences ?? []).toEqual([]);
      }
      expect(gc.dependentsOf(rs.metadata.uid ?? '')).toEqual([]);
      expect(gc.events.recent().some((e) => e.reason === 'DependentsOrphaned' && e.name === 'web')).toBe(true);
    });
  });

  test('Foreground: the dependents go first, then the owner', async () => {
    const ns = 'gc-foreground';
    await withCollector(ns, { replicaSets: false }, async (gc) => {
      const cms = cluster.client.resource('configmaps', ns);
      // One watch stream for owner and dependents: their DELETED events arrive in commit order.
      const stop = new AbortController();
      const informer = createInformer(cluster.client, 'configmaps', { namespace: ns });
      const deletions: string[] = [];
      informer.addHandler({ onDelete: (cm) => deletions.push(deletedObject(cm).metadata.name ?? '') });
      const watching = informer.run(stop.signal);
      try {
        const owner = await cms.create(configMap('owner', undefined, ['foregroundDeletion']));
        for (const name of ['dep-1', 'dep-2', 'dep-3']) await cms.create(configMap(name, [refTo(owner, 'ConfigMap', 'v1', true)]));
        await cms.create(configMap('loose', [refTo(owner, 'ConfigMap')]));
        await eventually('the collector sees 4 dependents', () => gc.dependentsOf(owner.metadata.uid ?? '').length === 4);
        const marked = (await cms.delete('owner', { propagationPolicy: 'Foreground' })) as ConfigMap;
        expect(marked.metadata.deletionTimestamp).toBeDefined();
        expect(marked.metadata.finalizers).toEqual(['foregroundDeletion']);
        await eventually('the owner removed', () => isGone(() => cms.get('owner')));
        await eventually('every deletion seen', () => deletions.length === 5);
        expect(deletions.at(-1)).toBe('owner');
        expect(deletions.slice(0, 4).sort()).toEqual(['dep-1', 'dep-2', 'dep-3', 'loose']);
        expect(gc.events.recent().some((e) => e.reason === 'DependentsDeleted' && e.name === 'owner')).toBe(true);
      } finally {
        stop.abort();
        await watching.catch(() => undefined);
      }
    });
  });

  test('Foreground by propagationPolicy alone: a ReplicaSet waits for its pods (the pods are gone whenever it is)', async () => {
    const ns = 'gc-foreground-rs';
    await withCollector(ns, { replicaSets: true }, async () => {
      const rss = cluster.client.resource('replicasets', ns);
      const pods = cluster.client.resource('pods', ns);
      await rss.create(rsBody('web', 3));
      await eventually('3 pods', async () => (await pods.list()).items.length === 3);
      const marked = (await rss.delete('web', { propagationPolicy: 'Foreground' })) as ReplicaSet;
      expect(marked.metadata.finalizers).toEqual(['foregroundDeletion']);
      await eventually('the ReplicaSet removed', () => isGone(() => rss.get('web')));
      // Nothing recreates a pod once its ReplicaSet is gone, so any pod seen now outlived its owner.
      expect((await pods.list()).items).toEqual([]);
    });
  });

  test('Foreground through two levels: a Deployment goes after its ReplicaSet, which goes after its pods', async () => {
    const ns = 'gc-foreground-chain';
    await withCollector(ns, { replicaSets: true, deployments: true }, async () => {
      const deployments = cluster.client.resource('deployments', ns);
      const rss = cluster.client.resource('replicasets', ns);
      const pods = cluster.client.resource('pods', ns);
      await deployments.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) } });
      await eventually('a ReplicaSet and 2 pods', async () => (await rss.list()).items.length === 1 && (await pods.list()).items.length === 2);
      await deployments.delete('web', { propagationPolicy: 'Foreground' });
      await eventually('the Deployment removed', () => isGone(() => deployments.get('web')));
      // Nothing recreates them once their owners are gone, so anything seen now outlived its owner.
      expect((await rss.list()).items).toEqual([]);
      expect((await pods.list()).items).toEqual([]);
    });
  });
});
