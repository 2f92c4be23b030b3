// The Endpoints controller against a real in-process master: a Service's Endpoints follow its pods
// becoming ready, not ready, relabelled and deleted, with named ports resolved; nothing is written
// when nothing changed; deleting the Service deletes its Endpoints; a Service without a selector
// is left alone.

import { hasStatusReason, type Endpoints, type Pod } from '@raftplane/api';
import { createInformer, type Client } from '@raftplane/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EndpointsController } from '../src/endpoints-controller.js';
import { createNamespace, eventually, startCluster, type TestCluster } from './support/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
});

afterAll(async () => {
  await cluster.stop();
});

async function withController(namespace: string, body: (controller: EndpointsController) => Promise<void>, createNs = true): Promise<void> {
  const { client } = cluster;
  if (createNs) await createNamespace(client, namespace);
  const stop = new AbortController();
  const services = createInformer(client, 'services', { namespace });
  const pods = createInformer(client, 'pods', { namespace });
  const endpoints = createInformer(client, 'endpoints', { namespace });
  const controller = new EndpointsController(client, services, pods, endpoints);
  const runs = [services.run(stop.signal), pods.run(stop.signal), endpoints.run(stop.signal), controller.run(stop.signal)];
  try {
    await body(controller);
  } finally {
    stop.abort();
    await Promise.all(runs);
  }
}

async function createPod(client: Client, namespace: string, name: string, labels: Record<string, string>): Promise<void> {
  await client.resource('pods', namespace).create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { containers: [{ name: 'c', image: 'nginx:1', ports: [{ name: 'http', containerPort: 8080 }] }] },
  });
}

/** What the node agent would write: an IP (or none), Running, and the Ready condition. */
async function setPodStatus(client: Client, namespace: string, name: string, ip: string | undefined, ready: boolean): Promise<void> {
  const pods = client.resource('pods', namespace);
  const pod = structuredClone(await pods.get(name)) as Pod;
  pod.status = { ...pod.status, phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
  if (ip !== undefined) pod.status.podIP = ip;
  await pods.updateStatus(pod);
}

async function endpointsOf(client: Client, namespace: string, name: string): Promise<Endpoints | undefined> {
  try {
    return await client.resource('endpoints', namespace).get(name);
  } catch (error) {
    if (hasStatusReason(error, 'NotFound')) return undefined;
    throw error;
  }
}

const ips = (ep: Endpoints | undefined, list: 'addresses' | 'notReadyAddresses'): string[] => (ep?.subsets ?? []).flatMap((s) => (s[list] ?? []).map((a) => a.ip)).sort();

describe('Endpoints controller', () => {
  test('Endpoints follow pods becoming ready, not ready, relabelled and deleted; named ports resolved', async () => {
    const ns = 'ep-follow';
    await withController(ns, async (controller) => {
      const { client } = cluster;
      await client.resource('services', ns).create({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', labels: { tier: 'front' } },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }, { name: 'raw', port: 81, targetPort: 9000, protocol: 'TCP' }] },
      });
      await eventually('empty Endpoints', async () => (await endpointsOf(client, ns, 'web')) !== undefined);
      expect((await endpointsOf(client, ns, 'web'))?.subsets ?? []).toEqual([]);

      for (const name of ['a', 'b', 'c']) await createPod(client, ns, name, { app: 'web' });
      await createPod(client, ns, 'other', { app: 'other' });
      await setPodStatus(client, ns, 'a', '127.0.2.1', true);
      await setPodStatus(client, ns, 'b', '127.0.2.2', false);
      await setPodStatus(client, ns, 'c', undefined, true);
      await setPodStatus(client, ns, 'other', '127.0.2.9', true);
      await eventually('a ready, b not ready', async () => {
        const ep = await endpointsOf(client, ns, 'web');
        return ips(ep, 'addresses').join() === '127.0.2.1' && ips(ep, 'notReadyAddresses').join() === '127.0.2.2';
      });
      const ep = (await endpointsOf(client, ns, 'web')) as Endpoints;
      expect(ep.metadata.labels).toEqual({ tier: 'front' });
      expect(ep.subsets).toHaveLength(1);
      const podA = await client.resource('pods', ns).get('a');
      expect(ep.subsets?.[0]?.addresses?.[0]?.targetRef).toMatchObject({ kind: 'Pod', namespace: ns, name: 'a', uid: podA.metadata.uid });
      expect(ep.subsets?.[0]?.ports).toEqual([
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'raw', port: 9000, protocol: 'TCP' },
      ]);

      // A change that does not touch the Endpoints is reconciled without a write.
      const writes = controller.writes();
      const reconciles = controller.metrics().reconciles;
      await client.resource('pods', ns).patch('a', 'merge', { metadata: { annotations: { note: 'unrelated' } } });
      await eventually('the pod update reconciled', () => controller.metrics().reconciles > reconciles);
      expect(controller.writes()).toBe(writes);
      expect((await endpointsOf(client, ns, 'web'))?.metadata.resourceVersion).toBe(ep.metadata.resourceVersion);

      await setPodStatus(client, ns, 'b', '127.0.2.2', true);
      await eventually('both ready', async () => ips(await endpointsOf(client, ns, 'web'), 'addresses').join() === '127.0.2.1,127.0.2.2');
      await setPodStatus(client, ns, 'a', '127.0.2.1', false);
      await eventually('a not ready', async () => {
        const now = await endpointsOf(client, ns, 'web');
        return ips(now, 'addresses').join() === '127.0.2.2' && ips(now, 'notReadyAddresses').join() === '127.0.2.1';
      });
      await client.resource('pods', ns).patch('b', 'merge', { metadata: { labels: { app: 'elsewhere' } } });
      await eventually('b relabelled away', async () => ips(await endpointsOf(client, ns, 'web'), 'addresses').length === 0);
      await client.resource('pods', ns).delete('a');
      await eventually('a deleted', async () => ((await endpointsOf(client, ns, 'web'))?.subsets ?? []).length === 0);

      await client.resource('services', ns).delete('web');
      await eventually('Endpoints deleted with the Service', async () => (await endpointsOf(client, ns, 'web')) === undefined);
    });
  });

  test('a Service without a selector keeps the Endpoints someone else wrote; Endpoints deleted by hand come back', async () => {
    const ns = 'ep-manual';
    await withController(ns, async () => {
      const { client } = cluster;
      await client.resource('services', ns).create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'external' }, spec: { ports: [{ port: 5432, protocol: 'TCP' }] } });
      const manual: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external' }, subsets: [{ addresses: [{ ip: '127.0.3.1' }], ports: [{ port: 5432, protocol: 'TCP' }] }] };
      const created = await client.resource('endpoints', ns).create(manual);

      await client.resource('services', ns).create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] } });
      await createPod(client, ns, 'a', { app: 'web' });
      await setPodStatus(client, ns, 'a', '127.0.2.1', true);
      await eventually('web Endpoints', async () => ips(await endpointsOf(client, ns, 'web'), 'addresses').join() === '127.0.2.1');
      await client.resource('endpoints', ns).delete('web');
      await eventually('web Endpoints back', async () => ips(await endpointsOf(client, ns, 'web'), 'addresses').join() === '127.0.2.1');
      expect((await endpointsOf(client, ns, 'external'))?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    });
  });

  test('a new controller (a new leader) deletes the Endpoints of a Service deleted while none ran', async () => {
    const ns = 'ep-leftover';
    const { client } = cluster;
    await withController(ns, async () => {
      await client.resource('services', ns).create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'gone' }, spec: { selector: { app: 'gone' }, ports: [{ port: 80, protocol: 'TCP' }] } });
      await eventually('Endpoints made', async () => (await endpointsOf(client, ns, 'gone')) !== undefined);
    });
    await client.resource('services', ns).delete('gone');
    expect(await endpointsOf(client, ns, 'gone')).toBeDefined();
    await withController(ns, async () => {
      await eventually('leftover Endpoints deleted', async () => (await endpointsOf(client, ns, 'gone')) === undefined);
    }, false);
  });
});
