// The namespace controller against a real in-process master whose own namespace duty
// (leader-duties.ts finalizeNamespaces) is made to run only once, at startup: a namespace
// deleted with content loses its content and then goes; one held by a finalizer waits for it.

import { setMaxListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasStatusReason, type Namespace } from '@raftplane/api';
import { createClient, type Client, type ResourceName } from '@raftplane/client';
import { Master, createKubeApi, createKvService, parseClusterConfig } from '@raftplane/master';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import { NamespaceController } from '../src/namespace-controller.js';
import { namespaceContentResources } from '../src/namespace-controller-plan.js';
import { SharedInformerFactory } from '../src/index.js';
import { createNamespace, eventually, podTemplate } from './support/cluster.js';

let master: Master;
let client: Client;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-namespace-controller-'));
  const [peerPort, apiPort] = await freePorts(2);
  const config = parseClusterConfig({
    name: 'namespace-controller-test',
    secret: 'namespace-controller-test-shared-secret',
    masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir: join(dir, 'm1') }],
    // The apiserver's namespace duty runs once when leadership starts, then not for an hour: every
    // namespace removed in these tests is removed by the controller.
    apiserver: { leaderDutiesIntervalMs: 3_600_000 },
  });
  master = await Master.start({ config, id: 1, logger: pino({ level: 'silent' }) }, (error) => {
    throw error;
  });
  const { inProcess } = await createKubeApi({ master, service: createKvService(master), logger: pino({ level: 'silent' }) });
  client = createClient(inProcess);
  await eventually('the system namespaces', async () => {
    try {
      await client.resource('namespaces').get('default');
      return true;
    } catch {
      return false;
    }
  });
});

afterAll(async () => {
  await master.stop();
  await rm(dir, { recursive: true, force: true });
});

async function withController(body: (controller: NamespaceController) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  setMaxListeners(100, stop.signal);
  const factory = new SharedInformerFactory(client);
  const controller = new NamespaceController(client, factory.informer('namespaces'), { contentRecheckMs: 50 });
  factory.start(stop.signal);
  const run = controller.run(stop.signal);
  try {
    await body(controller);
  } finally {
    stop.abort();
    await run;
    await factory.stopped();
  }
}

async function namespaceGone(name: string): Promise<boolean> {
  try {
    await client.resource('namespaces').get(name);
    return false;
  } catch (error) {
    if (hasStatusReason(error, 'NotFound')) return true;
    throw error;
  }
}

async function contentCount(namespace: string): Promise<number> {
  let count = 0;
  for (const info of namespaceContentResources()) count += (await client.resource(info.resource as ResourceName, namespace).list()).items.length;
  return count;
}

async function fill(ns: string): Promise<void> {
  await client.resource('configmaps', ns).create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1' } });
  await client.resource('secrets', ns).create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token' }, data: {} });
  await client.resource('pods', ns).create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'solo', labels: { app: 'solo' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } });
  await client.resource('replicasets', ns).create({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) } });
  await client.resource('services', ns).create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
  await client.resource('leases', ns).create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lock' }, spec: {} });
}

describe('namespace controller', () => {
  test('a namespace deleted with content: the content goes, then the namespace', async () => {
    const ns = 'ns-doomed';
    await createNamespace(client, ns);
    await fill(ns);
    expect(await contentCount(ns)).toBe(6);
    await withController(async (controller) => {
      const marked = (await client.resource('namespaces').delete(ns)) as Namespace;
      expect(marked.status?.phase).toBe('Terminating');
      await eventually('the namespace removed', () => namespaceGone(ns));
      expect(await contentCount(ns)).toBe(0);
      const reasons = controller.events.recent().filter((e) => e.name === ns).map((e) => e.reason);
      expect(reasons).toContain('DeletedContent');
      expect(reasons.at(-1)).toBe('NamespaceRemoved');
      const deleted = controller.events.recent().find((e) => e.name === ns && e.reason === 'DeletedContent');
      expect(deleted?.message).toBe(`Deleted 6 objects in namespace ${ns}`);
      await eventually('events written', () => controller.events.stats().written >= 2);
      const written = (await client.resource('events', 'default').list()).items.filter((e) => e.involvedObject.name === ns);
      expect(written.map((e) => e.reason)).toEqual(expect.arrayContaining(['DeletedContent', 'NamespaceRemoved']));
    });
  });

  test('content held by a finalizer keeps the namespace Terminating until it is released', async () => {
    const ns = 'ns-held';
    await createNamespace(client, ns);
    const cms = client.resource('configmaps', ns);
    await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/hold'] }, data: {} });
    await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'free' }, data: {} });
    await withController(async (controller) => {
      await client.resource('namespaces').delete(ns);
      await eventually('the free content deleted, the held one marked', async () => {
        const items = (await cms.list()).items;
        return items.length === 1 && items[0]?.metadata.deletionTimestamp !== undefined;
      });
      // Several rechecks later the namespace is still there, Terminating.
      const reconciles = controller.metrics().reconciles;
      await eventually('rechecked', () => controller.metrics().reconciles >= reconciles + 3);
      expect((await client.resource('namespaces').get(ns)).status?.phase).toBe('Terminating');
      await cms.patch('held', 'merge', { metadata: { finalizers: null } });
      await eventually('the namespace removed', () => namespaceGone(ns));
    });
  });

  test('a namespace that is not being deleted is left alone', async () => {
    const ns = 'ns-alive';
    await createNamespace(client, ns);
    await client.resource('configmaps', ns).create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: {} });
    await withController(async (controller) => {
      await eventually('synced and idle', () => controller.metrics().queueDepth === 0);
      expect(await contentCount(ns)).toBe(1);
      expect((await client.resource('namespaces').get(ns)).status?.phase).toBe('Active');
    });
  });
});
